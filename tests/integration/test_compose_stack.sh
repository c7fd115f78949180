#!/usr/bin/env bash
# once-only
# The docker-compose stack, run for real, the way docs/DEPLOY.md section 1 tells a user to:
# scripts/docker.sh prepare (engine, Debian base image, Kafka jars), then
# docker/docker-compose.yml builds its images (logclassify, Kafka, MariaDB; cached layers
# after the first run) and starts kafka, kafka-init, mysql, logclassify and loggen under a
# project name of its own, with host ports of its own (free ones, never 9092-9095, 13306 or
# 9108). Checks: loggen exits 0; the counts per label and per reason read back from
# server-logs-status (lc-verify, through the published Kafka port) equal loggen's truth,
# copied out of its container, with no record lost or altered; /healthz answers 200 and
# docker reports the container healthy; /metrics counts the same labels; the runtime image
# is under 120 MB, runs as a non-root user under tini; `docker-compose stop logclassify`
# (SIGTERM through tini) ends it with exit status 0. Then `down -v`.
#
# When the Docker engine cannot start, the test fails with the daemon's own error. It is
# skipped (exit 77) only when LC_SKIP_DOCKER=1.
# LC_COMPOSE_RECORDS (5000): records loggen writes. LC_KEEP_STACK=1: leave the stack up.
. "$(dirname "$0")/lib.sh"

if [ "${LC_SKIP_DOCKER:-0}" = 1 ]; then
    echo "result: SKIP: LC_SKIP_DOCKER=1 (the compose stack was not run)"
    exit 77
fi

DC=$(command -v docker-compose || true)
[ -n "$DC" ] || fail "docker-compose not found on PATH: install Debian's (apt-get install docker-compose) or run scripts/deps.sh"
[ -x "$VERIFY" ] || fail "$VERIFY missing: run make $BUILD/lc-verify"
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker
RECORDS=${LC_COMPOSE_RECORDS:-5000}
PREFIX=lc-compose-test
PROJECT="$PREFIX-$$"
COMPOSE_FILE_PATH=$ROOT/docker/docker-compose.yml

# --- the engine, the base image, the Kafka jars -----------------------------------------------
t0=$SECONDS
if ! "$ROOT/scripts/docker.sh" prepare >"$T/prepare.out" 2>&1; then
    cat "$T/prepare.out"
    fail "scripts/docker.sh prepare: $(grep -v '^ *$' "$T/prepare.out" | tail -n 1)"
fi
cat "$T/prepare.out"
log "engine, base image and Kafka jars ready in $((SECONDS - t0))s"

# --- this run's settings: its own project, passwords and host ports ---------------------------
kafka_port=$(free_port) mysql_port=$(free_port) metrics_port=$(free_port)
for p in "$kafka_port" "$mysql_port" "$metrics_port"; do
    case "$p" in 9092 | 9093 | 9094 | 9095 | 13306 | 9108) fail "free_port gave $p, a port the host's tests use" ;; esac
done
if [ "$kafka_port" = "$mysql_port" ] || [ "$mysql_port" = "$metrics_port" ] || [ "$kafka_port" = "$metrics_port" ]; then
    fail "free_port gave the same port twice"
fi
# The same file a user writes as docker/.env (docs/DEPLOY.md), exported too so that nothing
# in the caller's environment overrides it.
cat >"$T/compose.env" <<EOF
MYSQL_ROOT_PASSWORD=root-$TEST_ID
MYSQL_PASSWORD=lc-$TEST_ID
BIND_ADDRESS=127.0.0.1
KAFKA_HOST_PORT=$kafka_port
MYSQL_HOST_PORT=$mysql_port
METRICS_HOST_PORT=$metrics_port
LOGGEN_RECORDS=$RECORDS
LOGGEN_RATE=0
BASE_IMAGE=logclassify/debian:bookworm
LOGCLASSIFY_TAG=local
EOF
set -a
# shellcheck disable=SC1091
. "$T/compose.env"
set +a
dc() { "$DC" --ansi never -p "$PROJECT" --env-file "$T/compose.env" -f "$COMPOSE_FILE_PATH" "$@"; }

# A run that was killed (e.g. by run.sh's timeout) leaves its project behind: take it down.
for stale in $("$DOCKER" ps -a --format '{{.Label "com.docker.compose.project"}}' | sort -u | grep "^$PREFIX-" || true); do
    log "removing the stack of an earlier run: $stale"
    "$DC" --ansi never -p "$stale" --env-file "$T/compose.env" -f "$COMPOSE_FILE_PATH" down -v --remove-orphans >/dev/null 2>&1 || true
done

teardown() {
    if [ -n "${LC_KEEP_STACK:-}" ]; then
        log "LC_KEEP_STACK set: the stack stays up (project $PROJECT, env $T/compose.env)"
        LC_KEEP_TMP=1   # read by lib.sh's cleanup
        export LC_KEEP_TMP
    else
        dc down -v --remove-orphans >"$T/down.out" 2>&1 || cat "$T/down.out"
    fi
    cleanup
}
trap teardown EXIT

# --- build (cached layers after the first run) -------------------------------------------------
t0=$SECONDS
if ! dc build >"$T/build.out" 2>&1; then
    tail -n 40 "$T/build.out"
    fail "docker-compose build failed"
fi
build_s=$((SECONDS - t0))
cached=$(grep -c 'Using cache' "$T/build.out" || true)
ran=$(grep -c 'Running in' "$T/build.out" || true)
log "docker-compose build: ${build_s}s ($cached steps from the cache, $ran run)"
sizes=""
for img in logclassify:local logclassify/kafka:4.1.2 logclassify/mariadb:10.11 logclassify/debian:bookworm; do
    sizes+="$img $("$DOCKER" image ls --format '{{.Size}}' "$img") "
done
log "image sizes: $sizes"
lc_bytes=$("$DOCKER" image inspect -f '{{.Size}}' logclassify:local)
[ "$lc_bytes" -lt 120000000 ] || fail "the logclassify runtime image is $((lc_bytes / 1000000)) MB (target: under 120 MB)"

# --- up: kafka, kafka-init, mysql, logclassify (healthy), then loggen ------------------------
t0=$SECONDS
if ! timeout 300 "$DC" --ansi never -p "$PROJECT" --env-file "$T/compose.env" -f "$COMPOSE_FILE_PATH" up -d >"$T/up.out" 2>&1; then
    cat "$T/up.out"
    dc ps || true
    dc logs --no-color --tail 30 || true
    fail "docker-compose up failed"
fi
up_s=$((SECONDS - t0))
log "docker-compose up -d: ${up_s}s (returns once loggen has started)"
dc ps

cid() { dc ps -q "$1"; }
lc_id=$(cid logclassify)
gen_id=$(cid loggen)
[ -n "$lc_id" ] || fail "no logclassify container"
[ -n "$gen_id" ] || fail "no loggen container"
gen_rc=$(timeout 120 "$DOCKER" wait "$gen_id") || fail "loggen still running after 120 s"
[ "$gen_rc" = 0 ] || { "$DOCKER" logs --tail 20 "$gen_id"; fail "loggen exited $gen_rc"; }
"$DOCKER" cp "$gen_id:/var/lib/logclassify/loggen-truth.json" "$T/truth.json" ||
    fail "no truth file in the loggen container"
log "loggen: exit 0, truth $(cat "$T/truth.json")"

# --- the output topic against the truth -------------------------------------------------------
"$VERIFY" -b "127.0.0.1:$kafka_port" --input server-logs --output server-logs-status \
    --truth "$T/truth.json" --timeout 120 >"$T/verify.out" 2>"$T/verify.err" ||
    { cat "$T/verify.out" "$T/verify.err"; dc logs --no-color --tail 30 logclassify; fail "server-logs-status does not match loggen's truth"; }
cat "$T/verify.out"
labels=$(sed -n 's/^labels //p' "$T/verify.out")
n_out=$(sed -n 's/.* out=\([0-9]*\) .*/\1/p' "$T/verify.out")
[ "$n_out" -ge "$RECORDS" ] || fail "only $n_out output records for $RECORDS inputs"
log "server-logs-status: $n_out records, labels $labels, every label and reason count equal to the truth"

# --- health and metrics -----------------------------------------------------------------------
code=$(curl -s -o "$T/healthz" -w '%{http_code}' "http://127.0.0.1:$metrics_port/healthz" || true)
[ "$code" = 200 ] || fail "/healthz answered $code: $(cat "$T/healthz" 2>/dev/null)"
health=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$lc_id")
[ "$health" = healthy ] || fail "docker reports logclassify $health"
curl -s "http://127.0.0.1:$metrics_port/metrics" >"$T/metrics" || fail "no /metrics"
for label in good bad suspicious; do
    want=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["labels"].get(sys.argv[2], 0))' "$T/truth.json" "$label")
    got=$(sed -n "s/^logclassify_records_total{status=\"$label\"} \([0-9]*\).*/\1/p" "$T/metrics")
    # at-least-once: a record may be counted twice after a rebalance, never less
    [ "${got:-0}" -ge "$want" ] || fail "metrics: records_total{status=\"$label\"} = '$got', truth $want"
done
log "/healthz 200 ($(tr -d '\r\n' <"$T/healthz")), container $health; /metrics counts match the truth"
user=$("$DOCKER" inspect -f '{{.Config.User}}' "$lc_id")
init=$("$DOCKER" inspect -f '{{.Path}}' "$lc_id")
case "$user" in "" | root | 0 | root:* | 0:*) fail "logclassify runs as root ($user)" ;; esac
[ "$init" = /usr/bin/tini ] || fail "PID 1 of the logclassify container is $init, not tini"

# --- SIGTERM through the init: exit 0 --------------------------------------------------------
t0=$SECONDS
dc stop logclassify >"$T/stop.out" 2>&1 || { cat "$T/stop.out"; fail "docker-compose stop logclassify failed"; }
stop_s=$((SECONDS - t0))
state=$("$DOCKER" inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}' "$lc_id")
"$DOCKER" logs --tail 5 "$lc_id" 2>&1 | sed 's/^/logclassify: /'
[ "$state" = "exited 0 0" ] || fail "after docker-compose stop, logclassify is '$state' (want: exited 0, no restart)"
log "docker-compose stop logclassify: exit 0 in ${stop_s}s"

echo "result: PASS compose stack: build ${build_s}s ($ran steps run), up ${up_s}s, $RECORDS records -> $labels = truth (labels and reasons); healthz 200; stop exit 0; logclassify:local $((lc_bytes / 1000000)) MB"
