#!/usr/bin/env bash
# The systemd notify protocol as conf/logclassify.service uses it (Type=notify,
# NotifyAccess=main, WatchdogSec=): the real service binary, started the way systemd starts
# it -- NOTIFY_SOCKET naming a unix datagram socket, WATCHDOG_USEC=2000000 and WATCHDOG_PID
# its own pid -- against the local Kafka and MariaDB. It must send READY=1 once consuming,
# WATCHDOG=1 at least every WATCHDOG_USEC (at least twice in the 3 s after READY, and with
# no gap of 2 s or more while it works through records), every message from the main pid,
# and STOPPING=1 on SIGTERM, then exit 0.
. "$(dirname "$0")/lib.sh"

WATCHDOG_USEC=2000000
N=20000
topics 2
# No load_users: any users table will do (READY needs a loaded snapshot, not particular
# rows), and the shared table is left as it is.
write_config "$T/app.yaml"

# The service manager's end of the socket: a datagram socket that records every message
# line with its arrival time (monotonic seconds) and the sender's pid (SCM_CREDENTIALS,
# what systemd checks for NotifyAccess=main).
SOCK=$T/notify.sock
python3 - "$SOCK" "$T/notify.log" <<'PY' &
import socket, struct, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
ucred = struct.calcsize("3i")
with open(out, "a", buffering=1) as f:
    while True:
        msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(ucred))
        now, pid = time.monotonic(), -1
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", data[:ucred])[0]
        for line in msg.decode("utf-8", "replace").split("\n"):
            if line:
                f.write("%.3f %d %s\n" % (now, pid, line))
PY
LC_PIDS+=("$!")
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "the notify listener did not bind $SOCK"

# WATCHDOG_PID must be the service's own pid (sd_watchdog_enabled ignores WATCHDOG_USEC
# otherwise): the subshell exports its pid, then exec makes the service that very process.
(
    export NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC WATCHDOG_PID="$BASHPID" LC_INSTANCE=0
    exec "$LC" -c "$T/app.yaml"
) >>"$T/lc.0.out" 2>>"$T/lc.0.err" &
LC_PID=$!
LC_PIDS+=("$LC_PID")
log "logclassify pid $LC_PID, NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=$WATCHDOG_USEC WATCHDOG_PID=$LC_PID"

start=$SECONDS
until grep -q ' READY=1$' "$T/notify.log" 2>/dev/null; do
    kill -0 "$LC_PID" 2>/dev/null || { tail -20 "$T/lc.0.err"; fail "logclassify exited before READY=1"; }
    [ $((SECONDS - start)) -lt 60 ] || { tail -20 "$T/lc.0.err"; fail "no READY=1 within 60 s"; }
    sleep 0.1
done
grep -q 'ready: consuming' "$T/lc.0.err" || fail "READY=1 before the service logged that it consumes"
log "READY=1 received; watching the watchdog for 3 s"
sleep 3.2
early=$(python3 - "$T/notify.log" <<'PY'
import sys
lines = [l.split(" ", 2) for l in open(sys.argv[1]).read().splitlines()]
ready = next(float(t) for t, _, m in lines if m == "READY=1")
print(sum(1 for t, _, m in lines if m == "WATCHDOG=1" and ready <= float(t) <= ready + 3.0))
PY
)
[ "$early" -ge 2 ] || fail "only $early WATCHDOG=1 in the 3 s after READY=1 (WATCHDOG_USEC=$WATCHDOG_USEC: expected one per second)"

# The pings go on while records flow through.
produce 21 "$N" -r 20000
wait_output "$N" 120
sleep 1

kill -TERM "$LC_PID"
rc=0; wait "$LC_PID" || rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$T/lc.0.err"; fail "logclassify exited $rc on SIGTERM, expected 0"; }
sleep 0.3   # let the listener write the last datagram

echo "messages seen (seconds after READY=1, sender pid, message):"
python3 - "$T/notify.log" "$LC_PID" "$WATCHDOG_USEC" >"$T/verdict" <<'PY' || { cat "$T/verdict"; fail "$(tail -1 "$T/verdict")"; }
import sys
lines = [l.split(" ", 2) for l in open(sys.argv[1]).read().splitlines()]
main_pid, limit = int(sys.argv[2]), int(sys.argv[3]) / 1e6
ready = next(float(t) for t, _, m in lines if m == "READY=1")
shown, dogs = 0, []
for t, pid, m in lines:
    if m == "WATCHDOG=1":
        dogs.append(float(t))
        if len(dogs) > 4:   # print the first few pings, then only the other messages
            continue
    print("  %+7.3f  %s  %s" % (float(t) - ready, pid, m))
print("  (%d WATCHDOG=1 in all)" % len(dogs))
def die(msg):
    print(msg); sys.exit(1)
others = sorted({pid for _, pid, _ in lines if int(pid) != main_pid})
if others: die("messages from pid(s) %s, not the main pid %d (NotifyAccess=main would drop them)" % (others, main_pid))
stop = [float(t) for t, _, m in lines if m == "STOPPING=1"]
if not stop: die("no STOPPING=1 after SIGTERM")
if stop[0] < ready: die("STOPPING=1 before READY=1")
if sum(1 for _, _, m in lines if m == "READY=1") != 1: die("READY=1 sent more than once")
run = [d for d in dogs if ready <= d <= stop[0]]
gaps = [b - a for a, b in zip([ready] + run, run)]
if len(run) < 2: die("only %d WATCHDOG=1 between READY=1 and STOPPING=1" % len(run))
if max(gaps) >= limit: die("a %.2f s gap between watchdog pings: systemd would kill the service at %.1f s" % (max(gaps), limit))
print("OK %d pings between READY=1 and STOPPING=1 (%.1f s), largest gap %.2f s" % (len(run), stop[0] - ready, max(gaps)))
PY
cat "$T/verdict"
assert_clean_logs
pings=$(grep -c ' WATCHDOG=1$' "$T/notify.log")
echo "result: PASS READY=1, $pings WATCHDOG=1 ($(tail -1 "$T/verdict" | sed 's/^OK //')), STOPPING=1, exit 0, all from pid $LC_PID"
