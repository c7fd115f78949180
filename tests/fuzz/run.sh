#!/usr/bin/env bash
# tests/fuzz/run.sh - runs the libFuzzer harnesses for tests/fuzz/fuzz.mk.
#
#   run.sh smoke  BUILD                 both harnesses on a temporary copy of the corpus
#   run.sh long   BUILD                 long run; merges new inputs into tests/fuzz/corpus
#   run.sh replay BUILD classify|pipe FILE...
#
# Environment: FUZZ_SMOKE_SECONDS (45), FUZZ_PIPE_SMOKE_SECONDS (10), FUZZ_SECONDS (1800),
# FUZZ_PIPE_SECONDS (FUZZ_SECONDS / 6), FUZZ_MAX_LEN (16384), FUZZ_TIMEOUT (20 s per
# input), FUZZ_FORK (1: one process; N > 1: libFuzzer's -fork=N). Run from the repo root.
set -euo pipefail

CORPUS=tests/fuzz/corpus
REGRESSIONS=tests/fuzz/regressions
PROG="$(basename "$0")"

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

count_files() { find "$1" -maxdepth 1 -type f | wc -l; }

# stat::KEY from a libFuzzer log (-print_final_stats=1).
final_stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -n 1; }

# Runs one harness: run_fuzzer BUILD NAME SECONDS LOG CORPUS_DIR [SEED_DIR...]
# New inputs go into CORPUS_DIR; crash, leak and timeout inputs into BUILD/artifacts/.
run_fuzzer() {
    local build="$1" name="$2" seconds="$3" log="$4" rc=0
    shift 4
    local fork=()
    if [ "${FUZZ_FORK:-1}" -gt 1 ]; then fork=(-fork="$FUZZ_FORK"); fi
    mkdir -p "$build/artifacts"
    "$build/fuzz_$name" "${fork[@]}" -max_total_time="$seconds" \
        -max_len="${FUZZ_MAX_LEN:-16384}" -timeout="${FUZZ_TIMEOUT:-20}" \
        -entropic_scale_per_exec_time=1 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$name-" "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        grep -E 'check failed|ERROR: |SUMMARY: |Test unit written|runtime error' "$log" |
            head -n 40 >&2 || true
        die "fuzz_$name failed (exit $rc); full log: $log;" \
            "replay: make fuzz-replay FUZZER=$name FILE=<the artifact above>"
    fi
    local runs secs
    runs="$(final_stat "$log" number_of_executed_units)"
    secs="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)"
    if [ -z "$runs" ]; then       # -fork=N prints progress lines only: "#RUNS: ... time: Ss"
        runs="$(sed -n 's/^#\([0-9]*\): .*/\1/p' "$log" | tail -n 1)"
        secs="$(sed -n 's/^#[0-9]*: .* time: \([0-9]*\)s .*/\1/p' "$log" | tail -n 1)"
    fi
    runs="${runs:-0}"
    secs="${secs:-$seconds}"
    say "fuzz_$name: $runs executions in $secs s ($((runs / (secs > 0 ? secs : 1))) exec/s)," \
        "peak RSS $(final_stat "$log" peak_rss_mb || true) MB," \
        "$(final_stat "$log" new_units_added) new inputs"
}

SMOKE_DIR=
smoke() {
    local build="$1" work
    SMOKE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/lc-fuzz-smoke.XXXXXX")"
    trap 'rm -rf "$SMOKE_DIR"' EXIT
    work="$SMOKE_DIR"
    mkdir -p "$work/classify" "$work/pipe"
    find "$CORPUS" "$REGRESSIONS" -maxdepth 1 -type f ! -name README.md \
        -exec cp -t "$work/classify/" {} +
    cp "$work/classify"/* "$work/pipe/"
    local before
    before="$(count_files "$work/classify")"
    run_fuzzer "$build" classify "${FUZZ_SMOKE_SECONDS:-45}" "$build/smoke-classify.log" \
        "$work/classify"
    run_fuzzer "$build" pipe "${FUZZ_PIPE_SMOKE_SECONDS:-10}" "$build/smoke-pipe.log" "$work/pipe"
    say "corpus: $before inputs (tests/fuzz/corpus + regressions) ->" \
        "$(count_files "$work/classify") (classify), $(count_files "$work/pipe") (pipe)" \
        "in the temporary copy (not kept; make fuzz merges)"
}

# Fuzzes into a persistent work directory, then merges what adds coverage into the corpus.
long_one() {
    local build="$1" name="$2" seconds="$3" work="$1/work/$2"
    mkdir -p "$work"
    run_fuzzer "$build" "$name" "$seconds" "$build/long-$name.log" "$work" "$CORPUS" "$REGRESSIONS"
    "$build/fuzz_$name" -merge=1 -max_len="${FUZZ_MAX_LEN:-16384}" \
        -timeout="${FUZZ_TIMEOUT:-20}" "$CORPUS" "$work" >"$build/merge-$name.log" 2>&1 ||
        die "merge failed: $build/merge-$name.log"
}

long() {
    local build="$1" seconds="${FUZZ_SECONDS:-1800}" before
    before="$(count_files "$CORPUS")"
    long_one "$build" classify "$seconds"
    long_one "$build" pipe "${FUZZ_PIPE_SECONDS:-$((seconds / 6 > 0 ? seconds / 6 : 1))}"
    say "tests/fuzz/corpus: $before -> $(count_files "$CORPUS") inputs" \
        "($(du -sh --apparent-size "$CORPUS" | cut -f1)); review and commit the new files"
}

replay() {
    local build="$1" name="$2"
    shift 2
    [ "$#" -gt 0 ] || die "replay: no file given"
    "$build/fuzz_$name" -runs=1 "$@"
}

main() {
    [ "$#" -ge 2 ] || die "usage: $PROG smoke|long BUILD | replay BUILD classify|pipe FILE..."
    local cmd="$1"
    shift
    case "$cmd" in
        smoke) smoke "$@" ;;
        long) long "$@" ;;
        replay) replay "$@" ;;
        *) die "unknown command: $cmd" ;;
    esac
}

# One line, read whole before it runs: editing this file during a long run cannot break it.
main "$@"; exit $?
