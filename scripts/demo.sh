#!/usr/bin/env bash
# make demo: the whole job on a fresh machine. Starts local Kafka and MariaDB (unless they
# are already running), loads 10,000 users, produces 200,000 records with loggen, runs
# logclassify until every record is classified, prints the counts per label beside
# loggen's truth, shows a few output records, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${DEMO_RECORDS:-200000}
USERS=${DEMO_USERS:-10000}
BROKERS=127.0.0.1:${LC_KAFKA_PORT:-9092}
WORK=$(mktemp -d /tmp/logclassify-demo.XXXXXX)
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

make -s all
started=""
if ! scripts/services.sh status >/dev/null 2>&1; then started=yes; fi
say "Starting local Kafka (KRaft) and MariaDB on 127.0.0.1"
scripts/services.sh up
stop_all() {
    [ -n "${LC_PID:-}" ] && kill -TERM "$LC_PID" 2>/dev/null || true
    if [ -n "$started" ]; then say "Stopping the services this demo started"; scripts/services.sh down; fi
}
trap stop_all EXIT

say "Fresh topics server-logs and server-logs-status (4 partitions each)"
for t in server-logs server-logs-status; do
    scripts/kafka.sh delete-topic "$t" >/dev/null 2>&1 || true
    scripts/kafka.sh topic "$t" 4
done

say "Loading $USERS users into dim_users.users"
build/loggen --seed 42 --users "$USERS" -n 0 --stdout --users-sql "$WORK/users.sql" >/dev/null
scripts/mariadb.sh sql dim_users <"$WORK/users.sql"
scripts/mariadb.sh sql dim_users -N -e "SELECT CONCAT(COUNT(*), ' rows, ', COUNT(DISTINCT account_no), ' accounts') FROM users"

say "Producing $N records to server-logs with loggen"
build/loggen -b "$BROKERS" -t server-logs --seed 42 --users "$USERS" -n "$N" --truth "$WORK/truth.json"

say "Running logclassify -c conf/app.yaml"
export MYSQL_PORT=${LC_MYSQL_PORT:-13306} KAFKA_BROKERS=$BROKERS
build/logclassify -c conf/app.yaml 2>"$WORK/logclassify.log" &
LC_PID=$!
start=$(date +%s%N)
# 0 until the endpoint answers: logclassify opens it only once its configuration is loaded,
# and curl's "connection refused" must not stop the demo (set -e, pipefail).
metric_total() {
    { curl -s http://127.0.0.1:9108/metrics 2>/dev/null || true; } |
        awk '/^logclassify_records_total/ { s += $2 } END { print s + 0 }'
}
while :; do
    done_n=$(metric_total)
    printf '\r  classified %d / %d' "$done_n" "$N"
    [ "$done_n" -ge "$N" ] && break
    kill -0 "$LC_PID" 2>/dev/null || { echo; tail -20 "$WORK/logclassify.log"; exit 1; }
    sleep 0.5
done
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo
# the lag gauge follows within a fraction of a second; wait for it (at most 5 s)
for _ in $(seq 1 25); do
    curl -s http://127.0.0.1:9108/metrics 2>/dev/null | grep -qx 'logclassify_consumer_lag 0' && break
    sleep 0.2
done
curl -s http://127.0.0.1:9108/metrics >"$WORK/metrics.txt" 2>/dev/null || true
kill -TERM "$LC_PID"; rc=0; wait "$LC_PID" || rc=$?; LC_PID=""
echo "  logclassify stopped on SIGTERM with exit status $rc after $((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))s (start-up included)"

say "Counts per label: logclassify (from the output topic) beside loggen's truth"
make -s build/lc-verify
build/lc-verify -b "$BROKERS" --input server-logs --output server-logs-status \
    --truth "$WORK/truth.json" >"$WORK/verify.out" 2>"$WORK/verify.err" || true
python3 - "$WORK/truth.json" "$WORK/verify.out" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
line = [l for l in open(sys.argv[2]) if l.startswith('labels ')][0]
got = json.loads(line[len('labels '):])
print(f"  {'label':<12}{'logclassify':>12}{'loggen truth':>14}")
for k in ('good', 'bad', 'suspicious'):
    mark = '' if got.get(k, 0) == truth['labels'].get(k, 0) else '   <-- differs'
    print(f"  {k:<12}{got.get(k, 0):>12}{truth['labels'].get(k, 0):>14}{mark}")
PY
head -1 "$WORK/verify.out" | sed 's/^/  /'
if [ -s "$WORK/verify.err" ]; then sed 's/^/  /' "$WORK/verify.err" | head -10; fi

say "A few output records from server-logs-status"
for s in good bad suspicious; do
    kcat -C -b "$BROKERS" -t server-logs-status -e -q -f '%h\n%s\n' -o beginning 2>/dev/null |
        grep -A1 -m1 "status=$s" | sed 's/^/  /' || true
done
say "A scrape of http://127.0.0.1:9108/metrics before the stop (excerpt)"
grep -E '^logclassify_(records_total|users_cache_entries|consumer_lag|produce_errors_total|batch_duration_seconds_count)|^logclassify_reasons_total\{reason="(device_mismatch|unknown_account|invalid_json|too_large)"' \
    "$WORK/metrics.txt" | sed 's/^/  /' || true
grep -E ' (stats|users|pipeline): ' "$WORK/logclassify.log" | tail -4 | sed 's/^/  /' || true
echo "  logs and truth kept in $WORK"
