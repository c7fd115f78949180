#!/usr/bin/env bash
# Two instances in one consumer group share a 4-partition topic; stopping one (SIGTERM)
# and starting another mid-run loses nothing, and counts still equal the truth.
. "$(dirname "$0")/lib.sh"
N=${N:-80000}
topics 4
load_users 15 10000
produce 15 "$N"
write_config "$T/app.yaml"
sed -i 's/max_records: 2000/max_records: 500/' "$T/app.yaml"
start_lc "$T/app.yaml" 0; P0=$LC_PID
start_lc "$T/app.yaml" 1; P1=$LC_PID
wait_ready 0; wait_ready 1
sleep 1
log "stopping instance 1 after $(output_count) outputs"
stop_lc "$P1"
grep -q "assigned [1-9]" "$T/lc.1.err" || fail "instance 1 never got partitions"
start_lc "$T/app.yaml" 2; P2=$LC_PID
wait_ready 2
wait_output "$N" 300
stop_lc "$P0"; stop_lc "$P2"
assert_clean_logs
verify --truth "$T/truth.json" --fault rebalance --injected 2 || fail "records lost across rebalances"
echo "result: PASS"
