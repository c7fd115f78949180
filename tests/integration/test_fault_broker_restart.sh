#!/usr/bin/env bash
# once-only
# The broker is stopped and restarted during a run while records keep arriving: nothing is
# lost and logclassify recovers by itself, without being restarted.
. "$(dirname "$0")/lib.sh"
N=${N:-60000}
topics 4
load_users 22 10000
write_config "$T/app.yaml"
start_lc "$T/app.yaml"
wait_ready 0
produce 22 "$N" -r 20000 &
PRODUCER=$!
sleep 1.5
log "restarting the broker with $(output_count) output records"
"$ROOT/scripts/kafka.sh" stop >/dev/null
sleep 3
"$ROOT/scripts/kafka.sh" start >/dev/null
log "broker back"
wait "$PRODUCER" || fail "loggen could not deliver across the restart"
# Records written after the outage must flow too: the service recovered by itself.
cp "$T/truth.json" "$T/truth1.json"
produce 22 10000   # same seed: same users table, records again at new offsets
add_truth "$T/truth1.json" "$T/truth.json"
N=$((N + 10000))
wait_output "$N" 120
kill -0 "$LC_PID" || fail "logclassify died during the broker restart"
stop_lc "$LC_PID"
assert_clean_logs
verify --truth "$T/truth.json" --fault "broker-restart-$(mode_tag)" --injected 1 || fail "records lost across a broker restart"
echo "result: PASS"
