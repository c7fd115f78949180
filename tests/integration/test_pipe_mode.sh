#!/usr/bin/env bash
# Pipe mode: one output line per non-blank input line, same order, users from a CSV; the
# counts equal loggen's truth; blank lines skipped, a trailing \r dropped.
. "$(dirname "$0")/lib.sh"
write_config "$T/app.yaml"
"$LOGGEN" --seed 5 -n 20000 --users 2000 --stdout --users-csv "$T/users.csv" \
    --truth "$T/truth.json" >"$T/in.jsonl" 2>/dev/null
# blank lines and CRLF endings must not change anything
awk 'NR % 1000 == 0 { print "" } { print }' "$T/in.jsonl" | sed '5s/$/\r/' >"$T/in-mixed.jsonl"
"$LC" -c "$T/app.yaml" --stdin --users "$T/users.csv" <"$T/in-mixed.jsonl" >"$T/out.jsonl" 2>"$T/lc.0.err" \
    || fail "pipe mode exited $?"
[ "$(wc -l <"$T/out.jsonl")" -eq 20000 ] || fail "expected 20000 output lines, got $(wc -l <"$T/out.jsonl")"
python3 - "$T/in.jsonl" "$T/out.jsonl" "$T/truth.json" <<'PY' || fail "pipe output differs from the truth"
import json, sys, collections
ins = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
outs = open(sys.argv[2], 'rb').read().split(b'\n')[:-1]
truth = json.load(open(sys.argv[3]))
labels, reasons = collections.Counter(), collections.Counter()
for i, (a, b) in enumerate(zip(ins, outs)):
    o = json.loads(b)
    labels[o['status']] += 1
    for r in o['reasons']:
        reasons[r] += 1
    a = a.strip()
    if a.startswith(b'{') and b'"status"' not in a and b'"reasons"' not in a and o['status'] and not ({'raw', 'raw_base64', 'raw_bytes'} & o.keys()):
        assert b.startswith(a[:-1].rstrip()), f"line {i+1}: output does not keep the input text"
want_l = {k: v for k, v in truth['labels'].items() if v}
want_r = {k: v for k, v in truth['reasons'].items() if v}
assert dict(labels) == want_l, (dict(labels), want_l)
assert dict(reasons) == want_r, (dict(reasons), want_r)
print("pipe mode: labels", dict(labels))
PY
assert_clean_logs
echo "result: PASS"
