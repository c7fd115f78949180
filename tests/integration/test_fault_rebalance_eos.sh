#!/usr/bin/env bash
# once-only
# exactly_once across rebalances: a second instance is started and stopped 3 times during a
# 200,000-record run; a read_committed reader sees exactly one output per input. The input
# is produced at a steady rate meanwhile, so every round happens mid-stream, and a batch
# whose offsets reach the transaction after the group moved on is refused (ILLEGAL_GENERATION,
# abortable): aborted, and its partitions rewound to where it started. A rewind that fails on
# a partition the instance still owns stops the instance (exit 1), which fails the test.
. "$(dirname "$0")/lib.sh"
export DELIVERY=${DELIVERY:-exactly_once}
N=${N:-200000}
RATE=${RATE:-25000}
topics 4
load_users 23 10000
write_config "$T/app.yaml"
sed -i 's/max_records: 2000/max_records: 1000/' "$T/app.yaml"
start_lc "$T/app.yaml" 0; P0=$LC_PID
wait_ready 0
produce 23 "$N" -r "$RATE" &
PRODUCER=$!
for round in 1 2 3; do
    start_lc "$T/app.yaml" "$round"
    wait_ready "$round"
    wait_partitions "$round"   # partitions moved to it, mid-stream
    sleep 1
    log "round $round: stopping instance $round with $(output_count) outputs"
    stop_lc "$LC_PID"
done
wait "$PRODUCER" || fail "loggen failed"
wait_output "$N" 300
stop_lc "$P0"
assert_clean_logs
verify --truth "$T/truth.json" --fault "rebalance-$(mode_tag)$(group_tag)" --injected 6 || fail "not exact across rebalances"
echo "result: PASS"
