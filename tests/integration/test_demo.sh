#!/usr/bin/env bash
# once-only
# make demo's script (scripts/demo.sh), the README's first command, run as a user runs it but
# with fewer records: it must exit 0, and its own report must show logclassify's counts per
# label equal to loggen's truth, with nothing lost or duplicated, and a clean stop. It uses
# build/ (as make demo does), the fixed topics server-logs/server-logs-status, the users
# table and the metrics port 9108 of conf/app.yaml; the services are already up, so it
# leaves them running.
. "$(dirname "$0")/lib.sh"
records=20000
rc=0
DEMO_RECORDS=$records "$ROOT/scripts/demo.sh" >"$T/demo.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { tail -30 "$T/demo.out"; fail "scripts/demo.sh exited $rc"; }
grep -q 'logclassify stopped on SIGTERM with exit status 0' "$T/demo.out" \
    || { tail -30 "$T/demo.out"; fail "logclassify did not stop cleanly"; }
grep -q "in=$records out=$records lost=0 duplicated=0 mismatched=0 misordered=0" "$T/demo.out" \
    || { tail -30 "$T/demo.out"; fail "the demo's verification line is not clean"; }
! grep -q 'differs' "$T/demo.out" || { tail -30 "$T/demo.out"; fail "a label count differs from the truth"; }
rows=$(awk '/^  (good|bad|suspicious) / { printf "%s=%s ", $1, $2 }' "$T/demo.out")
[ -n "$rows" ] || fail "no counts per label in the demo's output"
echo "result: PASS demo: $records records, counts per label equal loggen's truth (${rows% }), exit 0"
