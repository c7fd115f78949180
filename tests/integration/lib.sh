# Shared helpers for the integration tests. Source it; it sets -euo pipefail.
# Each test gets its own topics, consumer group and temp dir, so tests never see each
# other's records; the users table is shared, so tests run one at a time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BUILD=${LC_BUILD:-build}
LC=$ROOT/$BUILD/logclassify
LOGGEN=$ROOT/$BUILD/loggen
VERIFY=$ROOT/$BUILD/lc-verify
BROKERS=127.0.0.1:${LC_KAFKA_PORT:-9092}
MYSQL_PORT=${LC_MYSQL_PORT:-13306}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}

TEST_NAME=$(basename "$0" .sh)
TEST_ID="${TEST_NAME}-$$-$RANDOM"
T=$(mktemp -d "/tmp/lc-${TEST_NAME}.XXXXXX")
IN_TOPIC="in-$TEST_ID"
OUT_TOPIC="out-$TEST_ID"
GROUP="grp-$TEST_ID"
LC_PIDS=()

log() { echo "[$(date +%H:%M:%S)] $*"; }
fail() { echo "result: FAIL: $*"; exit 1; }

cleanup() {
    for pid in "${LC_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [ -z "${LC_KEEP_TMP:-}" ]; then rm -rf "$T"; fi
}
trap cleanup EXIT

topics() {  # topics PARTITIONS: create this test's input and output topics
    "$ROOT/scripts/kafka.sh" topic "$IN_TOPIC" "${1:-4}" >/dev/null
    "$ROOT/scripts/kafka.sh" topic "$OUT_TOPIC" "${1:-4}" >/dev/null
}

mysql_admin() { "$ROOT/scripts/mariadb.sh" sql "$@"; }

# GROUP_PROTOCOL (classic | consumer, default classic): kafka.group_protocol of every
# configuration write_config writes.
GROUP_PROTOCOL=${GROUP_PROTOCOL:-classic}
case "$GROUP_PROTOCOL" in classic | consumer) ;; *) fail "GROUP_PROTOCOL: classic or consumer, not '$GROUP_PROTOCOL'" ;; esac

# The consumer protocol needs librdkafka 2.12 or newer: a build against an older one (e.g.
# LIBRDKAFKA=system's 2.0.2) skips the test (77) instead of failing it.
if [ "$GROUP_PROTOCOL" = consumer ]; then
    rdk=$("$LC" --version 2>/dev/null | sed -n 's/.*(librdkafka \([0-9.]*\)).*/\1/p')
    if [ "$(printf '%s\n' 2.12.0 "${rdk:-0}" | sort -V | head -n 1)" != 2.12.0 ]; then
        echo "result: SKIP: the consumer group protocol needs librdkafka 2.12+; $BUILD has ${rdk:-none}"
        exit 77
    fi
fi

# group_tag: "" under classic, "-consumer" under the consumer protocol, for fault names
group_tag() { [ "$GROUP_PROTOCOL" = consumer ] && echo -consumer || true; }

# The group's session settings. A killed instance's partitions move after 6 s instead of
# 45 s: classic sets it in the client; with the consumer protocol the broker owns both
# (scripts/kafka.sh sets group.consumer.session.timeout.ms=6000 and
# group.consumer.heartbeat.interval.ms=1000), and librdkafka refuses them in the client.
session_yaml() {
    if [ "$GROUP_PROTOCOL" = consumer ]; then
        echo "    # session and heartbeat: the broker's (scripts/kafka.sh)"
    else
        printf '    %s\n' 'session.timeout.ms: "6000"' 'heartbeat.interval.ms: "1000"'
    fi
}

# write_config FILE [delivery] [extra yaml appended at top level]
write_config() {
    local file=$1 delivery=${2:-${DELIVERY:-at_least_once}} extra=${3:-}
    cat >"$file" <<YAML
kafka:
  brokers: "$BROKERS"
  group_id: "$GROUP"
  input_topic: "$IN_TOPIC"
  output_topic: "$OUT_TOPIC"
  transactional_id: "tx-$TEST_ID-\${LC_INSTANCE:-0}"
  startup_timeout_s: 20
  group_protocol: $GROUP_PROTOCOL
  consumer:
$(session_yaml)
delivery: $delivery
batch:
  max_records: 2000
  max_wait_ms: 50
mysql:
  host: 127.0.0.1
  port: $MYSQL_PORT
  user: logclassify
  password: "\${MYSQL_PASSWORD:-logclassify}"
  database: dim_users
  connect_timeout_s: 2
users:
  refresh_interval_s: ${REFRESH_S:-60}
  startup_timeout_s: ${USERS_STARTUP_S:-10}
  snapshot_path: "${SNAPSHOT_PATH:-}"
metrics:
  listen: "${METRICS_LISTEN:-}"
log:
  level: info
  stats_interval_s: 2
$extra
YAML
}

# load_users SEED N: the users table as loggen writes it for that seed.
load_users() {
    "$LOGGEN" --seed "$1" --users "$2" -n 0 --stdout --users-sql "$T/users.sql" >/dev/null
    mysql_admin dim_users <"$T/users.sql"
}

# produce SEED COUNT [more loggen args]: records into this test's input topic; truth in $T/truth.json
produce() {
    local seed=$1 count=$2; shift 2
    "$LOGGEN" -b "$BROKERS" -t "$IN_TOPIC" --seed "$seed" -n "$count" --users "${USERS:-10000}" \
        --truth "$T/truth.json" "$@" 2>"$T/loggen.err" >"$T/loggen.out" \
        || { cat "$T/loggen.err"; fail "loggen failed"; }
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on (the kernel's pick), e.g. for
# a metrics endpoint or a container's published port.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# add_truth FROM INTO: INTO += FROM, for two of loggen's truth files (counts per label and
# per reason), when a test produces in more than one go.
add_truth() {
    python3 - "$1" "$2" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for sec in ('labels', 'reasons'):
    for k, v in a[sec].items():
        b[sec][k] = b[sec].get(k, 0) + v
b['count'] += a['count']
json.dump(b, open(sys.argv[2], 'w'))
PY
}

# start_lc CONFIG [instance]: starts logclassify in the background; sets LC_PID
LC_LOG_MARK=()   # per instance: the length of its log when it was last started
start_lc() {
    local cfg=$1 inst=${2:-0}
    LC_LOG_MARK[inst]=0
    if [ -f "$T/lc.$inst.err" ]; then LC_LOG_MARK[inst]=$(wc -l <"$T/lc.$inst.err"); fi
    LC_INSTANCE=$inst "$LC" -c "$cfg" >>"$T/lc.$inst.out" 2>>"$T/lc.$inst.err" &
    LC_PID=$!
    LC_PIDS+=("$LC_PID")
}

# wait_ready INSTANCE [timeout_s]: until the instance logs that it consumes
wait_ready() {
    local inst=${1:-0} limit=${2:-60} i=0
    until grep -q "ready: consuming" "$T/lc.$inst.err" 2>/dev/null; do
        sleep 0.2; i=$((i + 1))
        [ $i -lt $((limit * 5)) ] || { tail -20 "$T/lc.$inst.err"; fail "instance $inst not ready after ${limit}s"; }
    done
}

# wait_partitions INSTANCE [timeout_s]: until the instance, since it was last started, has
# been assigned a partition. Being ready is not enough: a member that joins a group whose
# partitions are all owned is first given none, and gets its share once the owners let it
# go (a cooperative rebalance's second round; with the consumer protocol, the owners'
# revocation, or a killed owner's session timeout).
wait_partitions() {
    local inst=${1:-0} limit=${2:-60} i=0
    until tail -n "+$((${LC_LOG_MARK[inst]:-0} + 1))" "$T/lc.$inst.err" 2>/dev/null |
            grep -q "assigned [1-9]"; do
        sleep 0.2; i=$((i + 1))
        [ $i -lt $((limit * 5)) ] || { tail -20 "$T/lc.$inst.err"; fail "instance $inst got no partition in ${limit}s"; }
    done
}

# stop_lc PID: SIGTERM, wait, and require exit 0
stop_lc() {
    local pid=$1 rc=0
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || { tail -30 "$T"/lc.*.err; fail "logclassify exited $rc on SIGTERM"; }
}

# consumed_count: output records so far (any isolation), via kcat
# (read_committed, so an exactly_once run's aborted records do not count)
output_count() {
    kcat -C -b "$BROKERS" -t "$OUT_TOPIC" -X isolation.level=read_committed -e -q -f 'x\n' 2>/dev/null | wc -l
}

# wait_output N [timeout_s]
wait_output() {
    local n=$1 limit=${2:-120} start=$SECONDS
    while [ "$(output_count)" -lt "$n" ]; do
        [ $((SECONDS - start)) -lt "$limit" ] || fail "only $(output_count) of $n output records after ${limit}s"
        sleep 1
    done
}

# verify [lc-verify args]: judges the output topic; prints the fault line
# In exactly_once mode (DELIVERY=exactly_once) a duplicate fails the verdict too.
verify() {
    local eos=()
    [ "${DELIVERY:-}" = exactly_once ] && eos=(--exactly-once)
    "$VERIFY" -b "$BROKERS" --input "$IN_TOPIC" --output "$OUT_TOPIC" "${eos[@]}" "$@"
}

# mode_tag: "alo" or "eos", for fault names
mode_tag() { [ "${DELIVERY:-}" = exactly_once ] && echo eos || echo alo; }

# assert_no_sanitizer_reports: ASan/UBSan wrote nothing in any instance's log
assert_clean_logs() {
    if grep -lE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T"/lc.*.err 2>/dev/null; then
        grep -hE -A15 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T"/lc.*.err | head -40
        fail "sanitizer report"
    fi
}
