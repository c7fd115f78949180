#!/usr/bin/env bash
# The judge itself (lc-verify) catches what it is there to catch, on hand-made output topics
# written with kcat: a lost record, duplicates, and two records of one key that come out in
# the wrong order (CONTRACT §4 order), while an at-least-once replay is not a reordering.
# Without this, a judge that always says "fine" would make every fault test pass. kcat
# cannot set a record's timestamp, so every output here is also a "timestamp not kept"
# mismatch: the test reads the judge's counters, not its exit status.
# once-only: the judge is the same program in both builds
. "$(dirname "$0")/lib.sh"
topics 1
# three inputs with one key, one with another
for i in 0 1 2; do printf '{"n":%d}\n' "$i"; done | kcat -P -b "$BROKERS" -t "$IN_TOPIC" -p 0 -k acct-1
printf '{"n":3}\n' | kcat -P -b "$BROKERS" -t "$IN_TOPIC" -p 0 -k acct-2

# out_topic NAME OFFSET...: one output per listed input offset, in that order
out_topic() {
    local name=$1 off
    shift
    "$ROOT/scripts/kafka.sh" topic "$name" 1 >/dev/null
    for off in "$@"; do
        local key=acct-1
        [ "$off" = 3 ] && key=acct-2
        printf '{"n":%d,"status":"good","reasons":[]}\n' "$off" |
            kcat -P -b "$BROKERS" -t "$name" -p 0 -k "$key" -H status=good -H "source=$IN_TOPIC/0/$off"
    done
}
# judge NAME [lc-verify args]: prints the verdict line, sets RC
judge() {
    local name=$1
    shift
    RC=0
    LINE=$("$VERIFY" -b "$BROKERS" --input "$IN_TOPIC" --output "$name" --timeout 15 "$@" 2>"$T/verify.err") || RC=$?
    echo "$name: rc=$RC $LINE" | head -1
}
field() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<<"$LINE" | head -1; }

out_topic "$OUT_TOPIC-ordered" 0 1 3 2
judge "$OUT_TOPIC-ordered"
[ "$(field misordered)" = 0 ] && [ "$(field lost)" = 0 ] || fail "an ordered topic was judged wrong"

out_topic "$OUT_TOPIC-swapped" 0 2 1 3
judge "$OUT_TOPIC-swapped"
[ "$(field misordered)" = 1 ] || fail "two swapped records of one key were not caught"
grep -q "out of order: $IN_TOPIC/0/1 came out after $IN_TOPIC/0/2" "$T/verify.err" || fail "no out-of-order line"

# a replay (at-least-once duplicates) is not a reordering: first outputs keep their order
out_topic "$OUT_TOPIC-replayed" 0 1 0 1 2 3
judge "$OUT_TOPIC-replayed"
[ "$(field misordered)" = 0 ] && [ "$(field duplicated)" = 2 ] && [ "$(field lost)" = 0 ] ||
    fail "a replay was misjudged"

out_topic "$OUT_TOPIC-lossy" 0 2 3
judge "$OUT_TOPIC-lossy"
[ "$RC" = 1 ] && [ "$(field lost)" = 1 ] && [ "$(field misordered)" = 0 ] ||
    fail "a lost record was not caught"
echo "result: PASS the judge counts misorder, loss and duplicates"
