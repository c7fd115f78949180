#!/usr/bin/env bash
# once-only
# at_least_once across kill -9: the service is killed mid-run, restarted, and every input
# offset ends with at least one output record.
. "$(dirname "$0")/lib.sh"
N=${N:-100000}
topics 4
load_users 12 10000
produce 12 "$N"
write_config "$T/app.yaml"
kills=0
for round in 1 2 3; do
    start_lc "$T/app.yaml"
    wait_ready 0
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$LC_PID"; wait "$LC_PID" 2>/dev/null || true
    kills=$((kills + 1))
    log "kill -9 #$kills after $(output_count) output records"
done
start_lc "$T/app.yaml"
wait_ready 0
wait_output "$N" 300
stop_lc "$LC_PID"
assert_clean_logs
verify --truth "$T/truth.json" --fault kill-9 --injected "$kills" || fail "records lost across kill -9"
echo "result: PASS"
