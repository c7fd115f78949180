#!/usr/bin/env bash
# The users loader against the real local MariaDB (CONTRACT §2.2, §5): TCP and unix socket,
# integer and string keys ("0684" and 684 are one account), NULL and non-converting keys
# skipped and counted, several devices per account, the snapshot file round trip, and
# one-line errors that name the endpoint and never the password. Uses its own tables.
. "$(dirname "$0")/lib.sh"

PASSWORD=${LC_MYSQL_PASSWORD:-logclassify}
SOCK=${LC_STATE_DIR:-/tmp/logclassify-services}/mariadb/mysqld.sock
TABLE_INT="loader_int_$$"
TABLE_STR="loader_str_$$"
TABLE_BIG="loader_big_$$"
BIG=${BIG:-200000}
drop_tables() { mysql_admin dim_users -e "DROP TABLE IF EXISTS $TABLE_INT, $TABLE_STR, $TABLE_BIG" || true; }
trap 'drop_tables; cleanup' EXIT

# A small driver linked against the library under test: loads the users table with the
# settings given as arguments, prints the counts, then answers "key device" queries.
cat >"$T/driver.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lc_mysql.h"
#include "lc_schema.h"

/* driver HOST PORT SOCKET PASSWORD TABLE KEYTYPE SSLMODE [SNAPSHOT] < "key device" lines */
int main(int argc, char **argv)
{
    if (argc < 8)
        return 2;
    lc_mysql_opts_t o = {
        .host = argv[1], .port = atoi(argv[2]), .socket = argv[3], .user = "logclassify",
        .password = argv[4], .database = "dim_users", .table = argv[5],
        .key_column = "account_no", .value_column = "user_device", .ssl_ca = "",
        .connect_timeout_s = 3, .case_insensitive = true,
    };
    lc_field_type_t type;
    if (lc_schema_type_parse(argv[6], &type) < 0)
        return 2;
    o.int_keys = type == LC_FT_INTEGER;   /* as the configuration decides it */
    size_t mode = 0;
    while (lc_mysql_ssl_mode_names[mode] && strcmp(lc_mysql_ssl_mode_names[mode], argv[7]))
        mode++;
    if (!lc_mysql_ssl_mode_names[mode])
        return 2;
    o.ssl_mode = (lc_mysql_ssl_mode_t)mode;
    char err[512];
    lc_users_t *u = lc_mysql_load_users(&o, err, sizeof err);
    if (!u) {
        printf("error: %s\n", err);
        return 3;
    }
    if (argc > 8) {   /* snapshot file round trip */
        lc_users_t *v = NULL;
        if (lc_users_save(u, argv[8], err, sizeof err) == 0)
            v = lc_users_load_file(argv[8], lc_users_int_keys(u), true, err, sizeof err);
        if (!v) {
            printf("error: %s\n", err);
            return 4;
        }
        lc_users_unref(u);
        u = v;
    }
    printf("int_keys=%d accounts=%zu rows=%zu skipped=%zu\n", lc_users_int_keys(u),
           lc_users_accounts(u), lc_users_rows(u), lc_users_skipped(u));
    static const char *const names[] = { "unknown", "match", "mismatch" };
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        lc_users_match_t m = lc_users_check_str(u, line, strlen(line), sp + 1, strlen(sp + 1));
        printf("%s %s %s\n", line, sp + 1, names[m]);
    }
    lc_users_unref(u);
    return 0;
}
EOF
SAN=""
[[ "$BUILD" == *san* ]] && SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# shellcheck disable=SC2086
cc -std=c11 -D_GNU_SOURCE -g $SAN -Iinclude $(pkg-config --cflags mysqlclient) -o "$T/driver" \
    "$T/driver.c" "$BUILD/liblogclassify.a" \
    $(pkg-config --libs rdkafka jansson yaml-0.1 mysqlclient libmicrohttpd libsystemd) -lm -pthread \
    || fail "driver did not build"

mysql_admin dim_users <<SQL
CREATE TABLE $TABLE_INT (account_no BIGINT NULL, user_device VARCHAR(64) NULL);
INSERT INTO $TABLE_INT VALUES (684, 'ANDROID'), (684, ' ios '), (684, 'android'), (7, 'Web'),
    (NULL, 'IOS'), (8, NULL), (-5, 'Smart TV'), (9223372036854775807, 'IOS');
CREATE TABLE $TABLE_STR (account_no VARCHAR(32) NULL, user_device VARCHAR(64) NULL);
INSERT INTO $TABLE_STR VALUES ('0684', 'ANDROID'), ('684', 'IOS'), ('abc', 'IOS'),
    (' 7', 'WEB'), ('', 'TV'), (NULL, 'X');
CREATE TABLE $TABLE_BIG (account_no BIGINT NOT NULL, user_device VARCHAR(64) NOT NULL);
INSERT INTO $TABLE_BIG SELECT seq * 3, IF(seq % 2, 'ANDROID', 'IOS') FROM seq_1_to_$BIG;
SQL

# expect NAME EXPECTED-OUTPUT DRIVER-ARGS... (queries on stdin)
expect() {
    local name=$1 want=$2; shift 2
    local got
    got=$("$T/driver" "$@" 2>>"$T/driver.err") || true
    if [ "$got" != "$want" ]; then
        printf 'want:\n%s\ngot:\n%s\n' "$want" "$got"; tail -20 "$T/driver.err"
        fail "$name"
    fi
    log "ok: $name"
}

QUERIES_INT='684 ANDROID
0684 iOS
684 WEB
7 web
8 x
-5 smart tv
9223372036854775807 ios
abc IOS'
WANT_INT='int_keys=1 accounts=4 rows=5 skipped=2
684 ANDROID match
0684 iOS match
684 WEB mismatch
7 web match
8 x unknown
-5 smart tv match
9223372036854775807 ios match
abc IOS unknown'
expect "integer keys over TCP" "$WANT_INT" \
    127.0.0.1 "$MYSQL_PORT" "" "$PASSWORD" "$TABLE_INT" integer disabled <<<"$QUERIES_INT"
expect "integer keys over the unix socket" "$WANT_INT" \
    "" 0 "$SOCK" "$PASSWORD" "$TABLE_INT" integer preferred <<<"$QUERIES_INT"
expect "integer keys through the snapshot file" "$WANT_INT" \
    127.0.0.1 "$MYSQL_PORT" "" "$PASSWORD" "$TABLE_INT" integer preferred "$T/users.snap" \
    <<<"$QUERIES_INT"
[ -z "$(find "$T" -name 'users.snap.tmp*')" ] || fail "temporary snapshot file left behind"

expect "varchar keys compared as integers" 'int_keys=1 accounts=1 rows=2 skipped=4
684 android match
684 IOS match
00684 ios match
7 WEB unknown
abc IOS unknown' \
    127.0.0.1 "$MYSQL_PORT" "" "$PASSWORD" "$TABLE_STR" integer disabled <<'Q'
684 android
684 IOS
00684 ios
7 WEB
abc IOS
Q

expect "varchar keys compared as strings" 'int_keys=0 accounts=5 rows=5 skipped=1
0684 android match
0684 IOS mismatch
684 IOS match
abc ios match
7 WEB unknown' \
    127.0.0.1 "$MYSQL_PORT" "" "$PASSWORD" "$TABLE_STR" string disabled <<'Q'
0684 android
0684 IOS
684 IOS
abc ios
7 WEB
Q

start=$(date +%s%N)
out=$("$T/driver" 127.0.0.1 "$MYSQL_PORT" "" "$PASSWORD" "$TABLE_BIG" integer disabled <<<"3 android
6 IOS
6 android
4 IOS")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$out" = "int_keys=1 accounts=$BIG rows=$BIG skipped=0
3 android match
6 IOS match
6 android mismatch
4 IOS unknown" ] || { echo "$out"; fail "$BIG-row table"; }
log "ok: $BIG rows loaded in ${ms} ms"

# Errors: one line, the endpoint, the client's error number, never the password.
out=$("$T/driver" 127.0.0.1 "$MYSQL_PORT" "" "wrong-$PASSWORD-pw" "$TABLE_INT" integer disabled </dev/null 2>>"$T/driver.err") && fail "wrong password accepted"
[[ "$out" == "error: mysql 127.0.0.1:$MYSQL_PORT: Access denied"*"(1045)" ]] || fail "wrong password: $out"
[[ "$out" != *"wrong-$PASSWORD-pw"* ]] || fail "the password is in the message: $out"
log "ok: $out"
out=$("$T/driver" 127.0.0.1 1 "" "$PASSWORD" "$TABLE_INT" integer disabled </dev/null 2>>"$T/driver.err") && fail "port 1 accepted"
[[ "$out" == "error: mysql 127.0.0.1:1: "*"(2002)" ]] || fail "nothing listening: $out"
log "ok: $out"
out=$("$T/driver" 127.0.0.1 "$MYSQL_PORT" "" "$PASSWORD" "users\`; DROP TABLE users; --" integer disabled </dev/null 2>>"$T/driver.err") && fail "bad identifier accepted"
[[ "$out" == *"is not a plain identifier"* ]] || fail "bad identifier: $out"
log "ok: $out"
out=$("$T/driver" 127.0.0.1 "$MYSQL_PORT" "" "$PASSWORD" "no_such_table_$$" integer disabled </dev/null 2>>"$T/driver.err") && fail "missing table accepted"
[[ "$out" == "error: mysql 127.0.0.1:$MYSQL_PORT: query: "*"(1146)" ]] || fail "missing table: $out"
log "ok: $out"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "error is not one line"

if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T/driver.err"; then
    cat "$T/driver.err"; fail "sanitizer report"
fi
echo "result: PASS"
