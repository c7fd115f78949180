#!/usr/bin/env bash
# ThreadSanitizer runs of `make tsan`, against build-tsan/ (`make SAN=thread`). Any report
# fails: TSAN_OPTIONS halts the program at the first one (exit 66).
#
#   tests/tsan/run.sh unit NAME...    build-tsan/tests/NAME, one after the other
#   tests/tsan/run.sh integration     the service under TSan for a short run: test_e2e_truth
#                                     with 20,000 records, the users table reloaded every
#                                     second and /metrics and /healthz scraped every 100 ms
#                                     meanwhile, so the pipeline, the refresh thread, the
#                                     HTTP thread and librdkafka's threads all run at once
#
# The integration run starts the local services (scripts/services.sh up, the instance
# LC_STATE_DIR / LC_KAFKA_PORT / LC_MYSQL_PORT name) and stops them afterwards unless
# LC_KEEP_SERVICES is set. Suppressions: tests/tsan/suppressions.txt (librdkafka's internals
# only; each one is explained there). TSAN_OPTIONS from the environment are added after
# these and win.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=build-tsan
TSAN_BASE="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$ROOT/tests/tsan/suppressions.txt"

die() { echo "tsan: $*" >&2; exit 1; }

run_unit() {
    [ $# -ge 1 ] || die "unit: name the tests"
    for t in "$@"; do
        echo "== $BUILD/tests/$t (TSan)"
        TSAN_OPTIONS="$TSAN_BASE ${TSAN_OPTIONS:-}" "$BUILD/tests/$t" || die "$t failed under TSan"
    done
}

run_integration() {
    local test=tests/integration/test_e2e_truth.sh
    scripts/services.sh up >/dev/null || die "local services did not start"
    local w port pid rc=0 scrapes=0 start=$SECONDS
    w=$(mktemp -d /tmp/lc-tsan.XXXXXX)
    port=$((18000 + RANDOM % 900))
    echo "== $test against $BUILD (60,000 records, users refresh 1 s, scraping :$port)"
    # Reports go to files (log_path) so that they survive the test's clean-up, and the
    # run stops at the first one instead of waiting out the test's timeouts.
    LC_BUILD=$BUILD N=60000 REFRESH_S=1 METRICS_LISTEN="127.0.0.1:$port" \
        TSAN_OPTIONS="$TSAN_BASE log_path=$w/report ${TSAN_OPTIONS:-}" \
        timeout 300 bash "$test" >"$w/test.log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if compgen -G "$w/report.*" >/dev/null; then
            sleep 1   # let the report be written whole
            kill -TERM "$pid" 2>/dev/null
            break
        fi
        curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$port/metrics" && scrapes=$((scrapes + 1))
        curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$port/healthz"
        sleep 0.1
    done
    wait "$pid" || rc=$?
    [ -n "${LC_KEEP_SERVICES:-}" ] || scripts/services.sh down >/dev/null 2>&1
    if compgen -G "$w/report.*" >/dev/null; then
        cat "$w"/report.*
        tail -5 "$w/test.log"
        die "ThreadSanitizer report in the integration run (test log: $w/test.log)"
    fi
    grep '^result:' "$w/test.log"
    if [ "$rc" -ne 0 ]; then
        tail -25 "$w/test.log"
        die "$test failed under TSan (exit $rc; log: $w/test.log)"
    fi
    [ "$scrapes" -gt 0 ] || die "no /metrics scrape succeeded during the run"
    echo "tsan: integration clean: $((SECONDS - start)) s, $scrapes scrapes of /metrics"
    rm -rf "$w"
}

case "${1:-}" in
    unit) shift; run_unit "$@" ;;
    integration) run_integration ;;
    *) echo "usage: tests/tsan/run.sh unit NAME... | integration" >&2; exit 2 ;;
esac
