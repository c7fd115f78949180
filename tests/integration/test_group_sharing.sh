#!/usr/bin/env bash
# Two instances in one consumer group share a 4-partition topic; stopping one (SIGTERM)
# and starting another mid-stream loses nothing, and counts still equal the truth. The
# input is produced at a steady rate while the instances change, so the hand-overs happen
# with records in flight however fast the pipeline is.
. "$(dirname "$0")/lib.sh"
N=${N:-80000}
RATE=${RATE:-10000}
topics 4
load_users 15 10000
write_config "$T/app.yaml"
sed -i 's/max_records: 2000/max_records: 500/' "$T/app.yaml"
start_lc "$T/app.yaml" 0; P0=$LC_PID
start_lc "$T/app.yaml" 1; P1=$LC_PID
wait_ready 0; wait_ready 1
produce 15 "$N" -r "$RATE" &
PRODUCER=$!
# instance 1 must own partitions before it is stopped
wait_partitions 1
sleep 1
log "stopping instance 1 after $(output_count) outputs"
stop_lc "$P1"
start_lc "$T/app.yaml" 2; P2=$LC_PID
wait_ready 2
wait "$PRODUCER" || fail "loggen failed"
log "input complete: $N records; $(output_count) outputs so far"
wait_output "$N" 300
stop_lc "$P0"; stop_lc "$P2"
assert_clean_logs
verify --truth "$T/truth.json" --fault "rebalance$(group_tag)" --injected 2 || fail "records lost across rebalances"
echo "result: PASS"
