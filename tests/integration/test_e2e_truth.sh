#!/usr/bin/env bash
# 100,000 loggen records through the service: counts per label and per reason equal
# loggen's truth exactly; every output record matches its input (source header, key,
# timestamp, value spliced byte-exact); SIGTERM gives exit 0.
. "$(dirname "$0")/lib.sh"
N=${N:-100000}
topics 4
load_users 11 10000
produce 11 "$N"
write_config "$T/app.yaml"
start_lc "$T/app.yaml"
wait_ready 0
wait_output "$N" 300
# the periodic stats line (log.stats_interval_s: 2) must appear while it runs
for i in $(seq 50); do grep -q " stats: " "$T/lc.0.err" && break; sleep 0.2; done
stop_lc "$LC_PID"
assert_clean_logs
verify --truth "$T/truth.json" --fault none || fail "verification failed"
grep -q "stats:" "$T/lc.0.err" || fail "no stats log line"
echo "result: PASS $N records, counts equal loggen's truth"
