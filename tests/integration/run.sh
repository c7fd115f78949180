#!/usr/bin/env bash
# Runs every integration test (tests/integration/test_*.sh) against each build directory
# given (e.g. build build-san), with a real local Kafka broker and MariaDB started by
# scripts/services.sh. Prints one line per test and "N passed, N failed" at the end.
# A test that exits with status 77 was skipped on purpose (e.g. LC_SKIP_DOCKER=1): its line
# says SKIP and the summary ends with ", N SKIPPED (names)"; a skip is not a failure.
#   tests/integration/run.sh build [build-san]       all tests
#   ONLY=test_pipe tests/integration/run.sh build     one test
#   tests/integration/run.sh build-system:test_e2e    the tests whose names contain the text
#                                                     after ':', for that build only
# The build folder's name says how it is built: *-san with SAN=1, build-system* against the
# distribution's librdkafka (LIBRDKAFKA=system), anything else the default way.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || set -- build

scripts/services.sh up || { echo "integration: local services did not start"; exit 1; }

passed=0 failed=0 skipped=0 failures=() skips=()
logdir=${LC_TEST_LOGS:-/tmp/logclassify-tests}
mkdir -p "$logdir"
first=${1%%:*}
for arg in "$@"; do
    build=${arg%%:*} only=${ONLY:-}
    [ "$arg" = "$build" ] || only=${arg#*:}
    san=0 rdk=pinned
    [[ "$build" == *-san ]] && san=1
    [[ "$build" == build-system* ]] && rdk=system
    make -s BUILD="$build" SAN=$san LIBRDKAFKA=$rdk all "$build/lc-verify" >/dev/null || exit 1
    for t in tests/integration/test_*.sh; do
        name=$(basename "$t" .sh)
        [ -n "$only" ] && [[ "$name" != *"$only"* ]] && continue
        # Slow fault tests run once, against the first build, unless asked otherwise.
        if [ "$build" != "$first" ] && grep -q '^# once-only' "$t" && [ -z "${ALL_BUILDS:-}" ]; then
            continue
        fi
        log="$logdir/$name.$build.log"
        start=$(date +%s)
        rc=0
        LC_BUILD="$build" timeout "${LC_TEST_TIMEOUT:-600}" bash "$t" >"$log" 2>&1 || rc=$?
        if [ "$rc" -eq 0 ]; then
            passed=$((passed + 1)); verdict=PASS
        elif [ "$rc" -eq 77 ]; then
            skipped=$((skipped + 1)); verdict=SKIP
            [[ " ${skips[*]} " == *" $name "* ]] || skips+=("$name")
        else
            failed=$((failed + 1)); verdict=FAIL; failures+=("$name [$build]")
        fi
        summary=$(grep -E '^(fault=|result:)' "$log" | tail -3 | tr '\n' ' ')
        printf '%-4s %-28s %-9s %4ss  %s\n' "$verdict" "$name" "$build" $(( $(date +%s) - start )) "$summary"
        if [ "$verdict" = FAIL ]; then echo "---- last lines of $log"; tail -25 "$log"; echo "----"; fi
    done
done
[ "${LC_KEEP_SERVICES:-}" ] || scripts/services.sh down >/dev/null 2>&1
for f in "${failures[@]}"; do echo "failed: $f"; done
skipnote=""
if [ "$skipped" -gt 0 ]; then
    list=$(printf '%s, ' "${skips[@]}")
    skipnote=", $skipped SKIPPED (${list%, })"
fi
echo "integration: $passed passed, $failed failed$skipnote"
[ "$failed" -eq 0 ]
