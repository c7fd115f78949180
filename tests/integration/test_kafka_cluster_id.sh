#!/usr/bin/env bash
# once-only
# The cluster id scripts/kafka.sh formats new storage with: 22 characters of URL-safe base64
# (16 random bytes), never starting with '-'. An id with a leading '-' made the storage tool
# read it as an option ("--cluster-id: expected one argument") about once in 64 fresh starts.
# 1,000 ids hold a leading '-' with probability 1 - (63/64)^1000 (all but 1 in 7 million)
# if the generator ever stops drawing again.
. "$(dirname "$0")/lib.sh"

n=1000
"$ROOT/scripts/kafka.sh" new-cluster-id "$n" >"$T/ids"
got=$(wc -l <"$T/ids")
[ "$got" -eq "$n" ] || fail "asked for $n ids, got $got"
bad=$(grep -cvE '^[A-Za-z0-9_][A-Za-z0-9_-]{21}$' "$T/ids" || true)
[ "$bad" -eq 0 ] || { grep -vE '^[A-Za-z0-9_][A-Za-z0-9_-]{21}$' "$T/ids" | head -3; fail "$bad of $n ids are not 22 URL-safe base64 characters without a leading '-'"; }
# the ids are random: 1,000 draws of 128 bits never repeat
uniq=$(sort -u "$T/ids" | wc -l)
[ "$uniq" -eq "$n" ] || fail "only $uniq distinct ids of $n"
# a '-' inside an id is still produced (the alphabet is unchanged, only the first place is)
grep -q -- '-' "$T/ids" || fail "no id holds a '-' at all: the alphabet changed"
echo "result: PASS ($n ids, none with a leading '-')"
