#!/usr/bin/env bash
# bench/instructions.sh - the classifier's cost per record in instructions (callgrind), held
# against the budget in bench/instructions.budget. A speed guard that does not depend on the
# clock: the count is the same on a busy machine and a quiet one, and moves only when the
# code (or the compiler) does. Part of `make check` (`make instructions`).
#
#   bench/instructions.sh [--build DIR] [--budget FILE]
#
# Input: loggen --seed 1 --users 10000 --stdout, the default mix (bad 10%, suspicious 10%),
# and its users CSV; the classifier is built from conf/app.yaml by $BUILD/bench/classify_bench
# with --runs 1 --min-time 0, which classifies every record twice (an untimed pass, then one
# timed pass). callgrind counts only inside lc_classify (--toggle-collect), once over the
# first 1,000 records and once over 11,000: the difference divided by 2 x 10,000 is one
# record's cost, without the start-up (configuration, users, regex compilation) and without
# the first calls' growth of scratch buffers.
#
# Exit status: 0 within budget + 10%; 1 above it; 2 a tool is missing or failed.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build
BUDGET_FILE=bench/instructions.budget
while [ $# -gt 0 ]; do
    case "$1" in
        --build) BUILD=$2; shift 2 ;;
        --budget) BUDGET_FILE=$2; shift 2 ;;
        -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "instructions: unknown argument $1" >&2; exit 2 ;;
    esac
done

SMALL=1000 LARGE=11000 TOLERANCE_PCT=10
LOGGEN=$BUILD/loggen
BENCH=$BUILD/bench/classify_bench
command -v valgrind >/dev/null || { echo "instructions: valgrind is missing (scripts/deps.sh installs it)" >&2; exit 2; }
for f in "$LOGGEN" "$BENCH"; do
    [ -x "$f" ] || { echo "instructions: $f is missing (make all bench-tools)" >&2; exit 2; }
done
budget=$(grep -v '^[[:space:]]*\(#\|$\)' "$BUDGET_FILE" | head -1 | tr -d '[:space:],')
[[ "$budget" =~ ^[0-9]+$ ]] || { echo "instructions: no number in $BUDGET_FILE" >&2; exit 2; }

W=$(mktemp -d /tmp/lc-instructions.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$LOGGEN" --seed 1 --users 10000 -n "$LARGE" --stdout --users-csv "$W/users.csv" \
    >"$W/large.jsonl" 2>"$W/loggen.err" || { cat "$W/loggen.err" >&2; exit 2; }
head -n "$SMALL" "$W/large.jsonl" >"$W/small.jsonl"

# count NAME: instructions inside lc_classify over $W/NAME.jsonl
count() {
    valgrind --tool=callgrind --toggle-collect=lc_classify --callgrind-out-file="$W/$1.cg" \
        "$BENCH" -c conf/app.yaml -r "$W/$1.jsonl" -u "$W/users.csv" --runs 1 --min-time 0 \
        >"$W/$1.out" 2>"$W/$1.err" || { tail -20 "$W/$1.err" >&2; exit 2; }
    awk '/^summary:/ {print $2; found = 1} END {if (!found) exit 1}' "$W/$1.cg" \
        || { echo "instructions: no summary in callgrind's output" >&2; exit 2; }
}
small=$(count small)
large=$(count large)

awk -v s="$small" -v l="$large" -v n=$((2 * (LARGE - SMALL))) -v b="$budget" \
    -v tol="$TOLERANCE_PCT" -v file="$BUDGET_FILE" '
function commas(x,   s, r) { s = sprintf("%d", x); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } return s r }
BEGIN {
    per = (l - s) / n
    limit = b * (1 + tol / 100)
    printf "instructions: %s per record (lc_classify, callgrind: %s instructions over %s classifications); budget %s, limit %s (+%d%%)\n", \
        commas(per + 0.5), commas(l - s), commas(n), commas(b), commas(limit), tol
    if (per > limit) {
        printf "instructions: FAIL: %.1f%% above the budget. If the cost is intended, raise %s and say why in the commit.\n", \
            (per / b - 1) * 100, file
        exit 1
    }
    if (per < b * (1 - tol / 100))
        printf "instructions: %.1f%% below the budget: lower %s to %d.\n", (1 - per / b) * 100, file, per + 0.5
    printf "instructions: PASS\n"
}'
