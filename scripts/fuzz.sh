#!/usr/bin/env bash
# Fuzz the classifier and pipe mode for a while, then merge new inputs into the corpus.
#
#   scripts/fuzz.sh [SECONDS]     default 1800 for the classifier, plus a sixth for pipe mode
#
# Runs `make fuzz` (tests/fuzz/fuzz.mk). Crash inputs land in build-fuzz/artifacts/; replay
# one with `make fuzz-replay FILE=...`, and once fixed, keep it in tests/fuzz/regressions/.
# Other knobs pass through the environment: FUZZ_FORK, FUZZ_MAX_LEN, FUZZ_TIMEOUT,
# FUZZ_PIPE_SECONDS (see tests/fuzz/fuzz.mk).
set -euo pipefail

case "${1:-}" in
    -h | --help)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
esac
seconds="${1:-1800}"
case "$seconds" in
    '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec make fuzz FUZZ_SECONDS="$seconds"
