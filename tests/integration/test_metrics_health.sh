#!/usr/bin/env bash
# once-only
# /metrics and /healthz during a run: the counters per label and per reason equal loggen's
# truth; the users cache size and refresh failures are right; /healthz stays 200 through a
# MySQL outage (a snapshot is still there), goes 503 with a reason while the broker is down,
# and comes back to 200 by itself.
. "$(dirname "$0")/lib.sh"
PORT=$((19200 + RANDOM % 700))
N=${N:-30000}
topics 4
load_users 31 10000
produce 31 "$N"
METRICS_LISTEN="127.0.0.1:$PORT" REFRESH_S=1 write_config "$T/app.yaml"
restore() { "$ROOT/scripts/mariadb.sh" start >/dev/null 2>&1; "$ROOT/scripts/kafka.sh" start >/dev/null 2>&1; }
trap 'restore; cleanup' EXIT
scrape() { curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics"; }
health() { curl -s --max-time 5 -o "$T/health.body" -w '%{http_code}' "http://127.0.0.1:$PORT/healthz"; }
wait_health() {  # wait_health CODE LIMIT_S
    local i=0
    until [ "$(health)" = "$1" ]; do
        sleep 0.5; i=$((i + 1)); [ $i -lt $(($2 * 2)) ] || fail "/healthz not $1 after $2 s (body: $(cat "$T/health.body"))"
    done
}

start_lc "$T/app.yaml"
wait_health 200 60
wait_output "$N" 120
sleep 1
scrape >"$T/metrics.txt"
python3 - "$T/metrics.txt" "$T/truth.json" <<'PY' || fail "metrics differ from the truth"
import json, re, sys
text = open(sys.argv[1]).read()
truth = json.load(open(sys.argv[2]))
def series(name):
    out = {}
    for m in re.finditer(r'^%s\{(\w+)="([^"]*)"\} (\S+)$' % name, text, re.M):
        out[m.group(2)] = float(m.group(3))
    return out
labels = {k: int(v) for k, v in series('logclassify_records_total').items() if v}
reasons = {k: int(v) for k, v in series('logclassify_reasons_total').items() if v}
assert labels == {k: v for k, v in truth['labels'].items() if v}, (labels, truth['labels'])
assert reasons == {k: v for k, v in truth['reasons'].items() if v}, (reasons, truth['reasons'])
def value(name):
    m = re.search(r'^%s (\S+)$' % name, text, re.M)
    assert m, name + ' missing'
    return float(m.group(1))
assert value('logclassify_users_cache_entries') == 10000, value('logclassify_users_cache_entries')
assert 0 <= value('logclassify_users_cache_age_seconds') < 30
assert value('logclassify_consumer_lag') == 0, value('logclassify_consumer_lag')
assert value('logclassify_batch_duration_seconds_count') > 0
assert value('logclassify_produce_errors_total') == 0
assert value('logclassify_up') == 1
print("metrics agree with the truth:", labels)
PY
grep -E '^logclassify_(records_total|users_cache|consumer_lag|up)' "$T/metrics.txt"

# MySQL outage: still healthy (consuming with the last snapshot), failures counted
"$ROOT/scripts/mariadb.sh" stop >/dev/null
sleep 4
[ "$(health)" = 200 ] || fail "/healthz should stay 200 with a snapshot during a MySQL outage"
fails=$(scrape | awk '/^logclassify_users_refresh_failures_total/ {print $2}')
[ "${fails%.*}" -ge 1 ] || fail "refresh failures not counted ($fails)"
log "MySQL down: /healthz 200, refresh failures $fails"
"$ROOT/scripts/mariadb.sh" start >/dev/null

# Broker outage: 503 with a reason, then 200 again without a restart
"$ROOT/scripts/kafka.sh" stop >/dev/null
wait_health 503 60
log "broker down: /healthz 503: $(cat "$T/health.body")"
grep -q "kafka" "$T/health.body" || fail "503 without the reason"
"$ROOT/scripts/kafka.sh" start >/dev/null
wait_health 200 90
log "broker back: /healthz 200"
stop_lc "$LC_PID"
assert_clean_logs
echo "result: PASS metrics equal the truth; health followed both outages"
