#!/usr/bin/env bash
# scripts/bench.sh - logclassify's benchmarks, on the local broker and MariaDB, in one go.
#
#   scripts/bench.sh [--smoke] [--build DIR]        (make bench / make bench-smoke)
#
# Prints one table and writes bench/results/<date>.md and .json (a smoke run writes them
# into its work directory instead). Sections, each figure the median of BENCH_RUNS runs
# with the spread (min-max):
#   classify    the classifier alone, in memory (bench/classify_bench.c): default mix and
#               all-good records, records/s per core and ns/record (and the default mix
#               against a 10 M-user snapshot, where each lookup misses the cache), and
#               instructions per record under callgrind when valgrind is installed
#   throughput  one preloaded input topic (BENCH_RECORDS loggen records, 4 partitions,
#               default mix) consumed by: the zero-work ceiling (bench/passthrough.c),
#               logclassify at_least_once, logclassify exactly_once; records/s, ratio to the
#               ceiling, CPU seconds per million records (bench/benchctl.c run)
#   latency     end-to-end p50/p99/p99.9 at half the measured at_least_once maximum
#               (bench/latency.c), default configuration
#   users       load time and memory per user for BENCH_USERS users from MariaDB
#               (bench/users_bench.c)
#   rebalance   for each consumer group protocol (classic, consumer): one instance on a
#               steady input (loggen -r), a second one joins, later leaves (SIGTERM);
#               bench/rebalance times the longest stop of any input partition's outputs after
#               each event and counts outputs written twice (at_least_once)
# Targets are printed as PASS/MISS; they never fail the run. The exit status is non-zero
# only when the harness itself breaks (a tool fails, a run times out, output is missing).
#
# Environment (defaults; smoke defaults in brackets):
#   BENCH_RECORDS=2000000 [20000]      input records for the throughput runs
#   BENCH_RUNS=3 [1]                   runs per figure
#   BENCH_CLASSIFY_RECORDS=200000 [20000]  records held in memory by the classifier bench
#   BENCH_CLASSIFY_BIG_USERS=10000000 [0]  also classify the default mix against a users
#                                      snapshot this big (0: skip)
#   BENCH_LAT_SECONDS=30 [4]           offered-load duration per latency run
#   BENCH_LAT_WARMUP=5 [1]             seconds of records left out at the start
#   BENCH_LAT_RATE=                    offered rate (default: half the at_least_once median)
#   BENCH_LAT_LOGGEN_ARGS=             extra loggen arguments for the upstream producer
#                                      (default: none, loggen's own linger.ms=5 and lz4)
#   BENCH_USERS="1000000 10000000" [100000]  users table sizes; BENCH_USERS_MAX caps them
#   BENCH_REB_RATE=4000 [2000]         rebalance: offered rate, records/s
#   BENCH_REB_TIMES="5 10 8" [1 2 2]   rebalance: seconds before the join, from the join to
#                                      the leave, and after the leave
#   BENCH_REB_PROTOCOLS="classic consumer"   rebalance: the group protocols measured
#   BENCH_REB_CLASSIC_SESSION=broker   rebalance: classic's session.timeout.ms and
#                                      heartbeat.interval.ms: the broker's for consumer-protocol
#                                      groups (broker), or librdkafka's defaults (default)
#   BENCH_ONLY=classify,throughput,latency,users,rebalance   sections to run
#   BENCH_OUT=bench/results            where the .md/.json go
#   BENCH_KEEP=1                       keep the work directory and the topics
# The service instance is the one scripts/services.sh addresses (LC_STATE_DIR,
# LC_KAFKA_PORT, LC_MYSQL_PORT ...); it is started when it is not running. Every run uses
# its own topics and consumer groups, and its own tables in dim_users (lcbench_users*), so
# it never touches what the tests use.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD=build
SMOKE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --build) BUILD=$2; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

if [ "$SMOKE" = 1 ]; then
    RECORDS=${BENCH_RECORDS:-20000}
    RUNS=${BENCH_RUNS:-1}
    CLASSIFY_RECORDS=${BENCH_CLASSIFY_RECORDS:-20000}
    LAT_SECONDS=${BENCH_LAT_SECONDS:-4}
    LAT_WARMUP=${BENCH_LAT_WARMUP:-1}
    USERS_SIZES=${BENCH_USERS:-100000}
    CLASSIFY_MIN_TIME=0.2
    CLASSIFY_BIG_USERS=${BENCH_CLASSIFY_BIG_USERS:-0}
    CG_RECORDS=2000
    REB_RATE=${BENCH_REB_RATE:-2000}
    REB_TIMES=${BENCH_REB_TIMES:-1 2 2}
    REB_DRAIN=1
else
    RECORDS=${BENCH_RECORDS:-2000000}
    RUNS=${BENCH_RUNS:-3}
    CLASSIFY_RECORDS=${BENCH_CLASSIFY_RECORDS:-200000}
    LAT_SECONDS=${BENCH_LAT_SECONDS:-30}
    LAT_WARMUP=${BENCH_LAT_WARMUP:-5}
    USERS_SIZES=${BENCH_USERS:-1000000 10000000}
    CLASSIFY_MIN_TIME=1
    CLASSIFY_BIG_USERS=${BENCH_CLASSIFY_BIG_USERS:-10000000}
    CG_RECORDS=20000
    REB_RATE=${BENCH_REB_RATE:-4000}
    REB_TIMES=${BENCH_REB_TIMES:-5 10 8}
    REB_DRAIN=2
fi
LAT_LOGGEN_ARGS=${BENCH_LAT_LOGGEN_ARGS:-}
REB_PROTOCOLS=${BENCH_REB_PROTOCOLS:-classic consumer}
REB_CLASSIC_SESSION=${BENCH_REB_CLASSIC_SESSION:-broker}
case "$REB_CLASSIC_SESSION" in broker | default) ;; *) echo "bench.sh: BENCH_REB_CLASSIC_SESSION: broker or default" >&2; exit 2 ;; esac
ONLY=${BENCH_ONLY:-classify,throughput,latency,users,rebalance}
OUT=${BENCH_OUT:-$ROOT/bench/results}
BROKERS=127.0.0.1:${LC_KAFKA_PORT:-9092}
MYSQL_PORT=${LC_MYSQL_PORT:-13306}
PARTITIONS=4
LOAD_USERS=10000            # loggen's default --users: the table the default mix assumes

LC=$BUILD/logclassify
LOGGEN=$BUILD/loggen
BT=$BUILD/bench
for b in "$LC" "$LOGGEN" "$BT/passthrough" "$BT/classify_bench" "$BT/users_bench" "$BT/latency" "$BT/benchctl" "$BT/rebalance"; do
    [ -x "$b" ] || { echo "bench.sh: $b is missing (make bench-tools BUILD=...)" >&2; exit 2; }
done

RID=$(date +%Y%m%d%H%M%S)-$$
W=$(mktemp -d "/tmp/lc-bench-$RID.XXXXXX")
TOPICS=()
BG_PIDS=()

say() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }
die() { echo "bench.sh: error: $*" >&2; exit 1; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }

cleanup() {
    local rc=$? p
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ -z "${BENCH_KEEP:-}" ]; then
        [ "${#TOPICS[@]}" -eq 0 ] || "$BT/benchctl" -b "$BROKERS" delete "${TOPICS[@]}" >/dev/null 2>&1 || true
        [ "$rc" -ne 0 ] || rm -rf "$W"
    fi
    [ "$rc" -eq 0 ] || echo "bench.sh: failed (exit $rc); work directory kept: $W" >&2
}
trap cleanup EXIT

# Remove a pid from BG_PIDS after waiting for it ourselves.
forget_pid() {
    local p keep=()
    for p in "${BG_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    BG_PIDS=("${keep[@]+"${keep[@]}"}")
}

mysql_admin() { "$ROOT/scripts/mariadb.sh" sql "$@"; }

topic_create() { "$BT/benchctl" -b "$BROKERS" create "$1" "$2" && TOPICS+=("$1"); }
topic_delete() {
    [ -n "${BENCH_KEEP:-}" ] && return 0
    "$BT/benchctl" -b "$BROKERS" delete "$1" >/dev/null || true
    local t keep=()
    for t in "${TOPICS[@]}"; do [ "$t" = "$1" ] || keep+=("$t"); done
    TOPICS=("${keep[@]+"${keep[@]}"}")
}

# write_cfg FILE DELIVERY INPUT OUTPUT GROUP [KAFKA-LINES]: conf/app.yaml's values (every
# key left out keeps its default, and conf/app.yaml shows the defaults), pointed at this
# run's topics, group and users table; the metrics endpoint off (its port may be taken by a
# service). KAFKA-LINES: more lines of the kafka: section, indented.
write_cfg() {
    cat >"$1" <<YAML
kafka:
  brokers: "$BROKERS"
  group_id: "$5"
  input_topic: "$3"
  output_topic: "$4"
  transactional_id: "lcbench-$5"
${6:-}
delivery: $2
mysql:
  host: 127.0.0.1
  port: $MYSQL_PORT
  user: logclassify
  password: "\${LC_MYSQL_PASSWORD:-logclassify}"
  database: dim_users
users:
  table: lcbench_users
metrics:
  listen: ""
log:
  level: info
YAML
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Busy share of all CPUs over one second, in percent (from /proc/stat; steal counts as busy).
cpu_busy_pct() {
    local a b
    a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
    sleep 1
    b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
        busy = y[1] - x[1]; idle = y[2] - x[2];
        printf "%d\n", (busy + idle > 0 ? 100 * busy / (busy + idle) : 0) }'
}

# Waits (up to 30 s) until the machine is quiet: the classifier's time per record moves by
# a third when a sibling vCPU is busy (a broker's background work, a database's purge).
wait_quiet() {
    local i busy=100
    for i in $(seq 1 30); do
        busy=$(cpu_busy_pct)
        [ "$busy" -le 10 ] && break
    done
    say "machine ${busy}% busy before the $1"
}

# ---- set-up ------------------------------------------------------------------------------
say "work directory $W; brokers $BROKERS; MariaDB port $MYSQL_PORT; load average $(loadavg)"
if ! "$ROOT/scripts/services.sh" status >/dev/null 2>&1; then
    say "starting the local services (scripts/services.sh up)"
    "$ROOT/scripts/services.sh" up >&2
fi

python3 - "$W/env.json" <<PY
import json, os, platform, subprocess, sys, time
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return ""
cpu = ""
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip(); break
env = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "smoke": $SMOKE == 1,
    "host_cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
    "loadavg_start": open("/proc/loadavg").read().split()[:3],
    "git": sh("git -C '$ROOT' rev-parse --short HEAD") + (" (dirty)" if sh("git -C '$ROOT' status --porcelain --untracked-files=no") else ""),
    "logclassify": sh("'$LC' --version"),
    "brokers": "$BROKERS", "mysql_port": $MYSQL_PORT,
    "records": $RECORDS, "runs": $RUNS, "partitions": $PARTITIONS,
    "classify_records": $CLASSIFY_RECORDS, "classify_big_users": $CLASSIFY_BIG_USERS,
    "lat_seconds": $LAT_SECONDS, "lat_warmup": $LAT_WARMUP, "lat_loggen_args": "$LAT_LOGGEN_ARGS",
    "users_sizes": "$USERS_SIZES", "users_max": "${BENCH_USERS_MAX:-}",
}
json.dump(env, open(sys.argv[1], "w"), indent=1)
PY

# The users table the default mix assumes (loggen's accounts 1..10000), in its own table.
setup_load_users() {
    "$LOGGEN" --users "$LOAD_USERS" -n 0 --stdout --users-sql "$W/users.sql" >/dev/null 2>&1
    {
        echo "CREATE TABLE IF NOT EXISTS lcbench_users LIKE users;"
        sed -e 's/^DELETE FROM users;/DELETE FROM lcbench_users;/' \
            -e 's/^INSERT INTO users /INSERT INTO lcbench_users /' "$W/users.sql"
    } | mysql_admin dim_users
}
if want throughput || want latency || want users || want rebalance; then
    say "users table lcbench_users ($LOAD_USERS accounts, as loggen generates them)"
    setup_load_users
fi

# ---- classifier alone --------------------------------------------------------------------
if want classify; then
    mixes=(default good)
    [ "$CLASSIFY_BIG_USERS" -gt 0 ] && mixes+=(bigusers)
    for mix in "${mixes[@]}"; do
        args=()
        users=$LOAD_USERS
        [ "$mix" = good ] && args=(--bad 0 --suspicious 0)
        [ "$mix" = bigusers ] && users=$CLASSIFY_BIG_USERS
        "$LOGGEN" --users "$users" -n "$CLASSIFY_RECORDS" --stdout --truth "$W/classify-$mix.truth.json" \
            --users-csv "$W/users-$mix.csv" "${args[@]}" >"$W/classify-$mix.jsonl" 2>/dev/null
        wait_quiet "classifier ($mix)"
        say "classifier alone, $mix: $CLASSIFY_RECORDS records in memory, $users users, $RUNS run(s) (load $(loadavg))"
        "$BT/classify_bench" -c "$ROOT/conf/app.yaml" -r "$W/classify-$mix.jsonl" -u "$W/users-$mix.csv" \
            --runs "$RUNS" --min-time "$CLASSIFY_MIN_TIME" --label "$mix" >"$W/classify-$mix.out"
        # Instructions per record (callgrind): deterministic, unlike time on a shared machine.
        if [ "$mix" != bigusers ] && command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
            head -n "$CG_RECORDS" "$W/classify-$mix.jsonl" >"$W/classify-$mix.cg.jsonl"
            valgrind --tool=callgrind --callgrind-out-file="$W/cg-$mix.out" "$BT/classify_bench" \
                -c "$ROOT/conf/app.yaml" -r "$W/classify-$mix.cg.jsonl" -u "$W/users-$mix.csv" \
                --runs 1 --min-time 0 >/dev/null 2>"$W/cg-$mix.err"
            ir=$(callgrind_annotate --inclusive=yes "$W/cg-$mix.out" | awk '!f && /:lc_classify /{gsub(",", "", $1); v = $1; f = 1} END {print v}')
            # a warm-up pass and one timed pass: every record is classified twice
            printf '{"ir":%d,"calls":%d}\n' "${ir:-0}" $((2 * $(grep -c . "$W/classify-$mix.cg.jsonl"))) \
                >"$W/classify-$mix.cg.json"
            rm -f "$W/classify-$mix.cg.jsonl" "$W/cg-$mix.out"
        fi
        rm -f "$W/classify-$mix.jsonl" "$W/users-$mix.csv"
    done
fi

# ---- throughput ----------------------------------------------------------------------------
ALO_RATE=""
if want throughput; then
    IN="lcbench-$RID-in"
    topic_create "$IN" "$PARTITIONS"
    say "preloading $IN: $RECORDS loggen records, default mix, $PARTITIONS partitions"
    t0=$(date +%s.%N)
    "$LOGGEN" -b "$BROKERS" -t "$IN" -n "$RECORDS" --users "$LOAD_USERS" --truth "$W/in.truth.json" \
        >/dev/null 2>"$W/preload.err" || { tail -5 "$W/preload.err" >&2; die "loggen preload failed"; }
    have=$("$BT/benchctl" -b "$BROKERS" count "$IN")
    [ "$have" -eq "$RECORDS" ] || die "input topic holds $have records, not $RECORDS"
    say "preloaded in $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
    timeout=$((RECORDS / 5000 + 120))
    : >"$W/throughput.jsonl"
    for run in $(seq 1 "$RUNS"); do
        for mode in passthrough at_least_once exactly_once; do
            out="lcbench-$RID-out-$mode-$run"
            group="lcbench-$RID-$mode-$run"
            delivery=$mode
            [ "$mode" = passthrough ] && delivery=at_least_once
            write_cfg "$W/$mode-$run.yaml" "$delivery" "$IN" "$out" "$group"
            topic_create "$out" "$PARTITIONS"
            cmd=("$LC" -c "$W/$mode-$run.yaml")
            watch=()
            [ "$mode" = passthrough ] && cmd=("$BT/passthrough" -c "$W/$mode-$run.yaml")
            [ "$mode" = exactly_once ] && watch=(--group "$group" --input "$IN")
            say "throughput run $run/$RUNS: $mode (load $(loadavg))"
            if ! "$BT/benchctl" -b "$BROKERS" run --output "$out" --expect "$RECORDS" "${watch[@]}" \
                    --timeout "$timeout" --child-log "$W/$mode-$run.log" -- "${cmd[@]}" >"$W/$mode-$run.json"; then
                tail -20 "$W/$mode-$run.log" >&2 || true
                die "$mode run $run did not finish"
            fi
            users_ms=$(sed -n 's/.* users: loaded: .* in \([0-9]*\) ms$/\1/p' "$W/$mode-$run.log" | head -1)
            printf '{"mode":"%s","run":%d,"users_load_ms":%s,"loadavg":"%s","result":%s}\n' \
                "$mode" "$run" "${users_ms:-0}" "$(loadavg)" "$(cat "$W/$mode-$run.json")" >>"$W/throughput.jsonl"
            topic_delete "$out"
        done
    done
    topic_delete "$IN"
    ALO_RATE=$(python3 - "$W/throughput.jsonl" <<'PY'
import json, statistics, sys
r = [json.loads(l) for l in open(sys.argv[1])]
v = [x["result"]["expect"] / (x["result"]["wall_s"] - x["users_load_ms"] / 1000.0)
     for x in r if x["mode"] == "at_least_once"]
print(int(statistics.median(v)) if v else "")
PY
)
fi

# ---- latency --------------------------------------------------------------------------------
if want latency; then
    rate=${BENCH_LAT_RATE:-}
    if [ -z "$rate" ]; then
        [ -n "$ALO_RATE" ] || die "latency needs BENCH_LAT_RATE or the throughput section"
        rate=$((ALO_RATE / 2))
    fi
    [ "$rate" -gt 0 ] || die "bad latency rate $rate"
    count=$((rate * LAT_SECONDS))
    echo "$rate" >"$W/latency.rate"
    : >"$W/latency.jsonl"
    for run in $(seq 1 "$RUNS"); do
        in="lcbench-$RID-lat-in-$run"
        out="lcbench-$RID-lat-out-$run"
        group="lcbench-$RID-lat-$run"
        topic_create "$in" "$PARTITIONS"
        topic_create "$out" "$PARTITIONS"
        write_cfg "$W/lat-$run.yaml" at_least_once "$in" "$out" "$group"
        say "latency run $run/$RUNS: $rate records/s for ${LAT_SECONDS}s (load $(loadavg))"
        "$BT/latency" -b "$BROKERS" -t "$out" --input "$in" --count "$count" --warmup-s "$LAT_WARMUP" \
            --timeout $((LAT_SECONDS + 120)) --idle-s 15 >"$W/lat-$run.json" 2>"$W/lat-$run.err" &
        lat_pid=$!
        BG_PIDS+=("$lat_pid")
        "$LC" -c "$W/lat-$run.yaml" >"$W/lat-$run.log" 2>&1 &
        lc_pid=$!
        BG_PIDS+=("$lc_pid")
        for _ in $(seq 1 600); do
            grep -q '^ready' "$W/lat-$run.json" 2>/dev/null && grep -q 'ready: consuming' "$W/lat-$run.log" && break
            kill -0 "$lc_pid" 2>/dev/null || { tail -20 "$W/lat-$run.log" >&2; die "logclassify exited during start-up"; }
            sleep 0.1
        done
        grep -q 'ready: consuming' "$W/lat-$run.log" || die "logclassify not ready after 60 s"
        cpu0=$(awk '{print $14 + $15}' "/proc/$lc_pid/stat")
        # the broker's CPU over the same window: it shares this machine's cores
        broker_pid=$(cat "${LC_STATE_DIR:-/tmp/logclassify-services}/kafka/kafka.pid" 2>/dev/null || true)
        bcpu0=$(awk '{print $14 + $15}' "/proc/$broker_pid/stat" 2>/dev/null || echo 0)
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086  # LAT_LOGGEN_ARGS is a list of words on purpose
        "$LOGGEN" -b "$BROKERS" -t "$in" -n "$count" -r "$rate" --seed "$run" --users "$LOAD_USERS" \
            $LAT_LOGGEN_ARGS >/dev/null 2>"$W/lat-loggen-$run.err" \
            || { tail -5 "$W/lat-loggen-$run.err" >&2; die "loggen failed"; }
        lat_rc=0
        wait "$lat_pid" || lat_rc=$?
        forget_pid "$lat_pid"
        cpu1=$(awk '{print $14 + $15}' "/proc/$lc_pid/stat")
        bcpu1=$(awk '{print $14 + $15}' "/proc/$broker_pid/stat" 2>/dev/null || echo 0)
        t1=$(date +%s.%N)
        kill -TERM "$lc_pid"
        lc_rc=0
        wait "$lc_pid" || lc_rc=$?
        forget_pid "$lc_pid"
        [ "$lat_rc" -eq 0 ] || { cat "$W/lat-$run.err" >&2; die "latency consumer got too few records (exit $lat_rc)"; }
        [ "$lc_rc" -eq 0 ] || die "logclassify exited $lc_rc on SIGTERM"
        printf '{"run":%d,"rate":%d,"count":%d,"cpu_s":%s,"broker_cores":%s,"loadavg":"%s","result":%s}\n' \
            "$run" "$rate" "$count" \
            "$(python3 -c "import os; print(($cpu1 - $cpu0) / os.sysconf('SC_CLK_TCK'))")" \
            "$(python3 -c "import os; print(($bcpu1 - $bcpu0) / os.sysconf('SC_CLK_TCK') / ($t1 - $t0))")" \
            "$(loadavg)" "$(tail -1 "$W/lat-$run.json")" >>"$W/latency.jsonl"
        topic_delete "$in"
        topic_delete "$out"
    done
fi

# ---- rebalance ------------------------------------------------------------------------------
# Per group protocol and run: fresh topics and group; bench/rebalance assigned to the output
# topic; instance A alone until it owns every partition; loggen at REB_RATE; after the
# first of REB_TIMES instance B is started ("join"), after the second it gets SIGTERM
# ("leave"), the third lets A take everything back; the first two get a random part of a
# heartbeat period added. The marks are wall-clock µs, as
# bench/rebalance stamps arrivals. Both protocols run with one heartbeat interval and session
# timeout: the broker's for consumer-protocol groups (scripts/kafka.sh), given to classic
# through session.timeout.ms and heartbeat.interval.ms, so the protocols are compared, not
# their defaults (librdkafka's 3 s heartbeat for classic, Kafka's 5 s for consumer);
# BENCH_REB_CLASSIC_SESSION=default leaves classic at librdkafka's.
wait_log() {   # wait_log FILE PATTERN SECONDS PID
    local i
    for i in $(seq 1 $(($3 * 10))); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$4" 2>/dev/null || { tail -20 "$1" >&2; die "process $4 exited waiting for '$2' in $1"; }
        sleep 0.1
    done
    tail -20 "$1" >&2
    die "no '$2' in $1 after $3 s"
}
stop_wait() {   # stop_wait PID NAME: SIGTERM, wait, require exit 0
    local rc=0
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" || rc=$?
    forget_pid "$1"
    [ "$rc" -eq 0 ] || die "$2 exited $rc on SIGTERM"
}
now_us() { date +%s%6N; }
jitter() {   # jitter SECONDS PERIOD_MS: SECONDS plus a random part of the period, as s.mmm
    local ms=$(($1 * 1000 + (RANDOM * 32768 + RANDOM) % $2))
    printf '%d.%03d\n' $((ms / 1000)) $((ms % 1000))
}
if want rebalance; then
    read -r REB_WARM REB_HOLD REB_TAIL <<<"$REB_TIMES"
    props="${LC_STATE_DIR:-/tmp/logclassify-services}/kafka/server.properties"
    reb_session=$(sed -n 's/^group.consumer.session.timeout.ms=//p' "$props" 2>/dev/null)
    reb_heartbeat=$(sed -n 's/^group.consumer.heartbeat.interval.ms=//p' "$props" 2>/dev/null)
    reb_session=${reb_session:-45000} reb_heartbeat=${reb_heartbeat:-5000}
    classic_session=$reb_session classic_heartbeat=$reb_heartbeat
    [ "$REB_CLASSIC_SESSION" = default ] && classic_session=45000 classic_heartbeat=3000
    rdk=$("$LC" --version | sed -n 's/.*(librdkafka \([0-9.]*\)).*/\1/p')
    protocols=()
    for gp in $REB_PROTOCOLS; do
        if [ "$gp" = consumer ] && [ "$(printf '%s\n' 2.12.0 "$rdk" | sort -V | head -n 1)" != 2.12.0 ]; then
            say "rebalance: consumer protocol skipped (librdkafka $rdk; it needs 2.12+)"
            continue
        fi
        protocols+=("$gp")
    done
    printf '{"session_ms":%d,"heartbeat_ms":%d,"classic_session_ms":%d,"classic_heartbeat_ms":%d,"rate":%d,"times":"%s"}\n' \
        "$reb_session" "$reb_heartbeat" "$classic_session" "$classic_heartbeat" "$REB_RATE" "$REB_TIMES" >"$W/rebalance.env"
    : >"$W/rebalance.jsonl"
    for run in $(seq 1 "$RUNS"); do
        for gp in "${protocols[@]}"; do
            tag=reb-$gp-$run
            in="lcbench-$RID-$tag-in" out="lcbench-$RID-$tag-out" group="lcbench-$RID-$tag"
            topic_create "$in" "$PARTITIONS"
            topic_create "$out" "$PARTITIONS"
            extra="  group_protocol: $gp"
            [ "$gp" = classic ] && [ "$REB_CLASSIC_SESSION" = broker ] &&
                extra+=$'\n'"  consumer:"$'\n'"    session.timeout.ms: \"$reb_session\""$'\n'"    heartbeat.interval.ms: \"$reb_heartbeat\""
            write_cfg "$W/$tag.yaml" at_least_once "$in" "$out" "$group" "$extra"
            : >"$W/$tag.marks"
            say "rebalance run $run/$RUNS: $gp, $REB_RATE records/s, join after ${REB_WARM}s, leave ${REB_HOLD}s later (load $(loadavg))"
            "$BT/rebalance" -b "$BROKERS" -t "$out" --marks "$W/$tag.marks" --seconds 600 \
                >"$W/$tag.json" 2>"$W/$tag.err" &
            tool=$!
            BG_PIDS+=("$tool")
            wait_log "$W/$tag.json" '^ready' 30 "$tool"
            "$LC" -c "$W/$tag.yaml" >"$W/$tag-a.log" 2>&1 &
            a=$!
            BG_PIDS+=("$a")
            wait_log "$W/$tag-a.log" 'assigned [1-9]' 60 "$a"
            # Members hear of a rebalance at their next heartbeat: each event comes at a random
            # moment of the heartbeat period, or fixed times would measure one phase only.
            hb=$reb_heartbeat
            [ "$gp" = classic ] && hb=$classic_heartbeat
            warm=$(jitter "$REB_WARM" "$hb") hold=$(jitter "$REB_HOLD" "$hb")
            secs=$(awk -v a="$warm" -v b="$hold" -v c="$REB_TAIL" 'BEGIN { printf "%d", a + b + c + 1 }')
            "$LOGGEN" -b "$BROKERS" -t "$in" -n $((REB_RATE * secs)) \
                -r "$REB_RATE" --seed "$run" --users "$LOAD_USERS" >/dev/null 2>"$W/$tag-loggen.err" &
            gen=$!
            BG_PIDS+=("$gen")
            sleep "$warm"
            echo "join $(now_us)" >>"$W/$tag.marks"
            "$LC" -c "$W/$tag.yaml" >"$W/$tag-b.log" 2>&1 &
            b=$!
            BG_PIDS+=("$b")
            sleep "$hold"
            grep -q 'assigned [1-9]' "$W/$tag-b.log" || say "rebalance: instance B got no partition in ${hold}s"
            echo "leave $(now_us)" >>"$W/$tag.marks"
            stop_wait "$b" "instance B"
            rc=0
            wait "$gen" || rc=$?
            forget_pid "$gen"
            [ "$rc" -eq 0 ] || { tail -5 "$W/$tag-loggen.err" >&2; die "loggen failed"; }
            echo "end $(now_us)" >>"$W/$tag.marks"   # a partition still waiting shows as open
            sleep "$REB_DRAIN"   # the last records through A
            stop_wait "$a" "instance A"
            stop_wait "$tool" "bench/rebalance"
            printf '{"protocol":"%s","run":%d,"warm_s":%s,"hold_s":%s,"loadavg":"%s","result":%s}\n' \
                "$gp" "$run" "$warm" "$hold" "$(loadavg)" "$(tail -n 1 "$W/$tag.json")" >>"$W/rebalance.jsonl"
            topic_delete "$in"
            topic_delete "$out"
        done
    done
fi

# ---- users snapshot -------------------------------------------------------------------------
# lcbench_users_N: accounts 1..N with one of six devices each, a second one for 5% of them
# (as loggen's table), generated inside MariaDB (INSERT ... SELECT from the SEQUENCE engine)
# once and kept for later runs; built under a temporary name, so a table that exists is whole.
ensure_users_table() {
    local n=$1 t=lcbench_users_$1
    if [ -n "$(mysql_admin -N dim_users -e "SHOW TABLES LIKE '$t'")" ]; then
        return 0
    fi
    say "generating $t ($n accounts) in MariaDB; large tables take minutes, once"
    mysql_admin dim_users <<SQL
DROP TABLE IF EXISTS ${t}_tmp;
CREATE TABLE ${t}_tmp (
    account_no  BIGINT      NOT NULL,
    user_device VARCHAR(64) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO ${t}_tmp SELECT seq, ELT(1 + seq % 6, 'ANDROID', 'IOS', 'WEB', 'WINDOWS', 'MACOS', 'LINUX')
    FROM seq_1_to_$n;
INSERT INTO ${t}_tmp SELECT seq, ELT(1 + (seq % 6 + 1 + (seq DIV 20) % 5) % 6,
                                     'ANDROID', 'IOS', 'WEB', 'WINDOWS', 'MACOS', 'LINUX')
    FROM seq_1_to_$n WHERE seq % 20 = 0;
ALTER TABLE ${t}_tmp ADD KEY (account_no);
RENAME TABLE ${t}_tmp TO $t;
SQL
}
if want users; then
    write_cfg "$W/users.yaml" at_least_once unused unused unused
    : >"$W/users.jsonl"
    for n in $USERS_SIZES; do
        if [ -n "${BENCH_USERS_MAX:-}" ] && [ "$n" -gt "$BENCH_USERS_MAX" ]; then
            say "users: $n skipped (BENCH_USERS_MAX=$BENCH_USERS_MAX)"
            continue
        fi
        t0=$(date +%s)
        ensure_users_table "$n"
        [ $(($(date +%s) - t0)) -lt 2 ] || say "table ready in $(($(date +%s) - t0)) s"
        for run in $(seq 1 "$RUNS"); do
            say "users snapshot run $run/$RUNS: $n accounts (load $(loadavg))"
            "$BT/users_bench" -c "$W/users.yaml" --table "lcbench_users_$n" --warm-table lcbench_users \
                >"$W/users-$n-$run.json"
            printf '{"users":%d,"run":%d,"loadavg":"%s","result":%s}\n' "$n" "$run" "$(loadavg)" \
                "$(cat "$W/users-$n-$run.json")" >>"$W/users.jsonl"
        done
    done
fi

# ---- report ---------------------------------------------------------------------------------
if [ "$SMOKE" = 1 ]; then
    python3 "$ROOT/bench/report.py" "$W" "$W/results"
else
    mkdir -p "$OUT"
    python3 "$ROOT/bench/report.py" "$W" "$OUT"
fi
