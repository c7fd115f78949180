#!/usr/bin/env bash
# The users table over TLS (mysql.ssl_mode, mysql.ssl_ca; CONTRACT §5, §7) against the local
# MariaDB, whose certificate for 127.0.0.1/localhost comes from the throwaway CA of
# scripts/tls.sh. Pipe mode (--stdin, no --users: users from MySQL), N records each time:
#   verify_identity + the CA (host 127.0.0.1 and localhost), verify_ca, required, disabled:
#     labels and reasons equal loggen's truth;
#   a user that the server only admits over TLS (REQUIRE SSL) works with verify_ca and is
#     refused with disabled (so TLS really is on, and off);
#   verify_identity / verify_ca with another CA: exit 3 with a one-line reason, in time.
. "$(dirname "$0")/lib.sh"
N=${N:-2000}
TLS_DIR=${LC_STATE_DIR:-/tmp/logclassify-services}/tls
CA=$TLS_DIR/ca.pem
TLS_USER="lc_tls_$$"
TLS_PW="tls-only-$RANDOM$RANDOM"
drop_user() { mysql_admin -e "DROP USER IF EXISTS '$TLS_USER'@'%'" >/dev/null 2>&1 || true; }
trap 'drop_user; cleanup' EXIT

[ -s "$CA" ] || fail "no CA certificate $CA (scripts/tls.sh)"
have_ssl=$(mysql_admin -N -e 'SELECT @@have_ssl')
[ "$have_ssl" = YES ] || fail "the local MariaDB has no TLS (have_ssl=$have_ssl): started by an older scripts/mariadb.sh (run: scripts/mariadb.sh restart)"

load_users 43 2000
"$LOGGEN" --seed 43 -n "$N" --users 2000 --stdout --truth "$T/truth.json" >"$T/in.jsonl" 2>/dev/null ||
    fail "loggen failed"
mysql_admin <<SQL
CREATE USER '$TLS_USER'@'%' IDENTIFIED BY '$TLS_PW' REQUIRE SSL;
GRANT SELECT ON dim_users.* TO '$TLS_USER'@'%';
SQL
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other-ca.key" -out "$T/other-ca.pem" \
    -subj "/CN=some other CA" -days 2 2>/dev/null || fail "openssl could not make another CA"

# config NAME MODE CA [HOST] [USER]: $T/NAME.yaml with mysql.ssl_mode MODE, mysql.ssl_ca CA
config() {
    local name=$1 mode=$2 ca=$3 host=${4:-127.0.0.1} user=${5:-logclassify}
    USERS_STARTUP_S=3 write_config "$T/$name.yaml" "" "mysql.ssl_mode: $mode
mysql.ssl_ca: \"$ca\""
    sed -i "s/^  host: 127.0.0.1\$/  host: $host/; s/^  user: logclassify\$/  user: $user/" "$T/$name.yaml"
    "$LC" -c "$T/$name.yaml" --check-config >"$T/$name.check" 2>&1 || { cat "$T/$name.check"; fail "$name: config refused"; }
    grep -q "ssl_mode: \"\\?$mode\"\\?" "$T/$name.check" || fail "$name: ssl_mode not in --check-config output"
}

# works NAME MODE CA [HOST] [USER [PASSWORD]]: pipe mode classifies per loggen's truth
works() {
    local name=$1 pw=${6:-${MYSQL_PASSWORD:-logclassify}} rc=0
    config "$@"
    MYSQL_PASSWORD=$pw "$LC" -c "$T/$name.yaml" --stdin <"$T/in.jsonl" >"$T/$name.out" 2>"$T/lc.$name.err" || rc=$?
    [ "$rc" -eq 0 ] || { tail -5 "$T/lc.$name.err"; fail "$name: exit $rc"; }
    python3 - "$T/$name.out" "$T/truth.json" "$N" <<'PY' || fail "$name: output differs from the truth"
import json, sys, collections
outs = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
truth = json.load(open(sys.argv[2]))
assert len(outs) == int(sys.argv[3]), f"{len(outs)} output lines"
labels, reasons = collections.Counter(), collections.Counter()
for b in outs:
    o = json.loads(b)
    labels[o['status']] += 1
    for r in o['reasons']:
        reasons[r] += 1
want_l = {k: v for k, v in truth['labels'].items() if v}
want_r = {k: v for k, v in truth['reasons'].items() if v}
assert dict(labels) == want_l, (dict(labels), want_l)
assert dict(reasons) == want_r, (dict(reasons), want_r)
PY
    grep -q "loaded: " "$T/lc.$name.err" || fail "$name: no 'users loaded' log line"
    log "ok: $name ($2$( [ -n "${4:-}" ] && echo ", host $4")$( [ -n "${5:-}" ] && echo ", user $5")): $N records per truth"
}

# refused NAME MODE CA [HOST] [USER [PASSWORD]]: exit 3 with one line of reason, in time
refused() {
    local name=$1 pw=${6:-${MYSQL_PASSWORD:-logclassify}} rc=0 start ms reason
    config "$@"
    start=$(date +%s%N)
    MYSQL_PASSWORD=$pw timeout 60 "$LC" -c "$T/$name.yaml" --stdin <"$T/in.jsonl" >"$T/$name.out" 2>"$T/lc.$name.err" || rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$rc" -eq 3 ] || { tail -5 "$T/lc.$name.err"; fail "$name: expected exit 3, got $rc after $ms ms"; }
    [ "$ms" -lt 15000 ] || fail "$name: exit 3 took $ms ms with users.startup_timeout_s 3"
    [ ! -s "$T/$name.out" ] || fail "$name: output written although the users table was not loaded"
    reason=$(grep '^logclassify: ' "$T/lc.$name.err" || true)
    [ "$(grep -c . <<<"$reason")" -eq 1 ] || { cat "$T/lc.$name.err"; fail "$name: not exactly one line of reason"; }
    # (the default password is the user name, which error messages name: check the others)
    if [ "$pw" != "${5:-logclassify}" ] && grep -qF -- "$pw" "$T/lc.$name.err"; then
        fail "$name: the password is in the output"
    fi
    log "ok: $name ($2): exit 3 after $ms ms: $reason"
    REASON=$reason
}

works verify_identity verify_identity "$CA"
works verify_identity_localhost verify_identity "$CA" localhost
works verify_ca verify_ca "$CA"
works required required ""
works disabled disabled ""
works tls_user_verify_ca verify_ca "$CA" 127.0.0.1 "$TLS_USER" "$TLS_PW"
refused tls_user_disabled disabled "" 127.0.0.1 "$TLS_USER" "$TLS_PW"
[[ "$REASON" == *"(1045)"* ]] || fail "tls_user_disabled: expected access denied (1045): $REASON"
refused wrong_ca_identity verify_identity "$T/other-ca.pem"
refused wrong_ca_verify_ca verify_ca "$T/other-ca.pem"
assert_clean_logs
echo "result: PASS users over TLS (verify_identity, verify_ca, required) and without (disabled) per truth; REQUIRE SSL user; another CA -> exit 3"
