#!/usr/bin/env bash
# Bad configuration files exit 2 and name the line, the same way in --check-config, at
# service start and in pipe mode: conf/bad/ holds one file per refusal, including every
# rule across keys that the service or pipe mode used to find only after loading (reserved
# output names, verify_ca without a CA, librdkafka properties, MySQL name lengths), so a
# file --check-config accepts is never refused later for its content. Usage errors exit 2;
# the shipped configuration passes --check-config and its dump masks secrets.
. "$(dirname "$0")/lib.sh"
n=0
for f in "$ROOT"/conf/bad/*.yaml; do
    line=$(sed -n 's/^# expect-line: *\([0-9]*\).*/\1/p' "$f" | head -1)
    [ -n "$line" ] || fail "$f has no expect-line comment"
    rc=0; "$LC" -c "$f" --check-config >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "$f: exit $rc, expected 2"
    grep -q "$(basename "$f"):$line:" "$T/err" || { cat "$T/err"; fail "$f: message does not name line $line"; }
    rc=0; "$LC" -c "$f" >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "$f: service start exit $rc, expected 2"
    grep -q "$(basename "$f"):$line:" "$T/err" || { cat "$T/err"; fail "$f: service start does not name line $line"; }
    rc=0; echo '{}' | "$LC" -c "$f" --stdin --users /dev/null >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "$f: pipe mode exit $rc, expected 2"
    grep -q "$(basename "$f"):$line:" "$T/err" || { cat "$T/err"; fail "$f: pipe mode does not name line $line"; }
    [ ! -s "$T/out" ] || fail "$f: pipe mode wrote output"
    n=$((n + 1))
done
[ "$n" -ge 20 ] || fail "only $n bad config files"
for args in "" "--bogus" "-c" "-c $ROOT/conf/app.yaml --users x.csv" "-c /nonexistent.yaml"; do
    rc=0; "$LC" $args >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 2 ] || fail "'logclassify $args' exited $rc, expected 2"
done
MYSQL_PASSWORD='s3cr3t-Pa55' "$LC" -c "$ROOT/conf/app.yaml" --check-config >"$T/dump" || fail "conf/app.yaml does not pass --check-config"
grep -q 's3cr3t-Pa55' "$T/dump" && fail "--check-config printed the password"
grep -q 'password: "\?\*\*\*\*' "$T/dump" || fail "password not masked in the dump"
"$LC" --version | grep -q '^logclassify ' || fail "--version"
"$LC" --help | grep -q 'users.refresh_interval_s' || fail "--help does not list the configuration keys"
echo "result: PASS $n bad files refused with their line"
