#!/usr/bin/env bash
# Dependencies unreachable at start: MySQL -> exit 3 within users.startup_timeout_s; with a
# snapshot file from an earlier load the service starts from it (and says how old it is);
# Kafka unreachable -> exit 3 within kafka.startup_timeout_s.
. "$(dirname "$0")/lib.sh"
topics 4
load_users 14 5000
USERS=5000 produce 14 5000

# 1. an earlier successful load writes the snapshot file
SNAPSHOT_PATH="$T/users.snap" write_config "$T/good.yaml"
start_lc "$T/good.yaml"
wait_ready 0
wait_output 5000 120
stop_lc "$LC_PID"
[ -s "$T/users.snap" ] || fail "no snapshot file written"
ls "$T" | grep -q 'users.snap.' && fail "a temporary snapshot file was left behind"

# 2. MySQL unreachable, no snapshot file: exit 3 within the start-up timeout
MYSQL_PORT=1 USERS_STARTUP_S=3 write_config "$T/nomysql.yaml"
start=$(date +%s%N); rc=0
"$LC" -c "$T/nomysql.yaml" 2>"$T/lc.1.err" || rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -eq 3 ] || fail "expected exit 3 with MySQL unreachable, got $rc"
[ "$elapsed_ms" -lt 6000 ] || fail "took ${elapsed_ms} ms, more than the start-up timeout allows"
grep -q "users table unreachable" "$T/lc.1.err" || fail "no one-line reason"
log "exit 3 after ${elapsed_ms} ms"

# 3. MySQL unreachable, snapshot file present: starts from it, labels still right
kcat -C -b "$BROKERS" -t "$OUT_TOPIC" -e -q -f 'x\n' >/dev/null
MYSQL_PORT=1 USERS_STARTUP_S=3 SNAPSHOT_PATH="$T/users.snap" write_config "$T/fromfile.yaml"
sed -i "s/group_id: .*/group_id: \"$GROUP-2\"/; s/output_topic: .*/output_topic: \"$OUT_TOPIC-2\"/" "$T/fromfile.yaml"
"$ROOT/scripts/kafka.sh" topic "$OUT_TOPIC-2" 4 >/dev/null
start_lc "$T/fromfile.yaml" 2
wait_ready 2
grep -q "starting from snapshot file" "$T/lc.2.err" || fail "did not say it started from the snapshot file"
grep -q "loaded [0-9]* s ago" "$T/lc.2.err" || fail "did not say how old the snapshot is"
OUT_TOPIC="$OUT_TOPIC-2" wait_output 5000 120
stop_lc "$LC_PID"
OUT_TOPIC="$OUT_TOPIC-2" verify --truth "$T/truth.json" || fail "wrong labels from the snapshot file"

# 4. Kafka unreachable: exit 3 within kafka.startup_timeout_s
write_config "$T/nokafka.yaml"
sed -i 's/brokers: .*/brokers: "127.0.0.1:1"/; s/startup_timeout_s: 20/startup_timeout_s: 3/' "$T/nokafka.yaml"
rc=0; start=$SECONDS
"$LC" -c "$T/nokafka.yaml" 2>"$T/lc.3.err" || rc=$?
[ "$rc" -eq 3 ] || { tail -5 "$T/lc.3.err"; fail "expected exit 3 with Kafka unreachable, got $rc"; }
[ $((SECONDS - start)) -le 10 ] || fail "Kafka start-up timeout not honoured"
assert_clean_logs
echo "result: PASS"
