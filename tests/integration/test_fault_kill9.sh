#!/usr/bin/env bash
# once-only
# kill -9 at random moments (5 times) during a 200,000-record run, restarting each time.
# at_least_once: every input has at least one output. exactly_once (DELIVERY=exactly_once,
# see test_fault_kill9_eos.sh): exactly one, as seen by a read_committed reader.
. "$(dirname "$0")/lib.sh"
N=${N:-200000}
KILLS=${KILLS:-5}
topics 4
load_users 21 10000
produce 21 "$N"
write_config "$T/app.yaml"
sed -i 's/max_records: 2000/max_records: 5000/' "$T/app.yaml"
kills=0
while [ "$kills" -lt "$KILLS" ]; do
    start_lc "$T/app.yaml"
    wait_ready 0
    wait_partitions 0   # the killed instance was at work
    sleep "$((RANDOM % 2)).$((RANDOM % 10))"
    kill -9 "$LC_PID"; wait "$LC_PID" 2>/dev/null || true
    kills=$((kills + 1))
    log "kill -9 #$kills with $(output_count) committed output records"
done
start_lc "$T/app.yaml"
wait_ready 0
wait_output "$N" 300
stop_lc "$LC_PID"
assert_clean_logs
verify --truth "$T/truth.json" --fault "kill-9-$(mode_tag)$(group_tag)" --injected "$kills" || fail "delivery promise broken across kill -9"
echo "result: PASS"
