#!/usr/bin/env bash
# Secrets never appear in logs (CONTRACT §7). Known, distinctive secrets -- a MySQL password
# from the environment, another from mysql.password_file, the SCRAM password as
# kafka.consumer/producer sasl.password (literal in the file and from ${...}), an
# ssl.key.password -- must not show in any line of standard error, standard output,
# --check-config output (valid and invalid files), /metrics or /healthz, with log.level
# debug and librdkafka's own debug contexts on:
#   1. service, PLAINTEXT Kafka, MySQL password from the environment: records classified;
#   2. service, MySQL password from mysql.password_file, users refreshed every second;
#   3. service through SASL_SSL with sasl.password (ready, or exit 3 where the SCRAM login
#      fails -- see test_kafka_sasl_ssl -- the output is checked either way);
#   4. failing MySQL logins (wrong password from the environment and from a file, service
#      and pipe mode): exit 3 with a one-line reason that does not hold the password.
. "$(dirname "$0")/lib.sh"
N=${N:-3000}
SASL=127.0.0.1:${LC_KAFKA_SASL_PORT:-9094}
TLS_DIR=${LC_STATE_DIR:-/tmp/logclassify-services}/tls
CA=$TLS_DIR/ca.pem
SUFFIX="$$x$RANDOM$RANDOM"
ENV_USER="lc_sec_env_$$" FILE_USER="lc_sec_file_$$"
export LC_T_MYSQL_PW="Mq7-env-secret-$SUFFIX"       # MySQL password from the environment
FILE_PW="Fz3-file-secret-$SUFFIX"                    # MySQL password from mysql.password_file
export LC_T_WRONG_PW="Wr0ng-mysql-secret-$SUFFIX"   # a wrong MySQL password
WRONG_FILE_PW="Wr0ng-file-secret-$SUFFIX"
export KAFKA_SASL_PASSWORD=${LC_KAFKA_SCRAM_PASSWORD:-logclassify-secret}
export LC_T_KEY_PW="Kp9-keypw-secret-$SUFFIX"       # an ssl.key.password (never used to decrypt)
SECRETS=("$LC_T_MYSQL_PW" "$FILE_PW" "$LC_T_WRONG_PW" "$WRONG_FILE_PW" "$KAFKA_SASL_PASSWORD" "$LC_T_KEY_PW")

drop_users() {
    mysql_admin -e "DROP USER IF EXISTS '$ENV_USER'@'%', '$FILE_USER'@'%'" >/dev/null 2>&1 || true
}
trap 'drop_users; cleanup' EXIT

mysql_admin <<SQL
CREATE USER '$ENV_USER'@'%' IDENTIFIED BY '$LC_T_MYSQL_PW';
CREATE USER '$FILE_USER'@'%' IDENTIFIED BY '$FILE_PW';
GRANT SELECT ON dim_users.* TO '$ENV_USER'@'%', '$FILE_USER'@'%';
SQL
(umask 077 && printf '%s\n' "$FILE_PW" >"$T/mysql.pw" && printf '%s\n' "$WRONG_FILE_PW" >"$T/wrong.pw")

# secret_config FILE USER PASSWORD-LINE [librdkafka property lines]: write_config, then
# log.level debug, the MySQL user and password line, and the properties into both
# kafka.consumer and kafka.producer (librdkafka debug contexts included).
secret_config() {
    local file=$1 user=$2 pwline=$3 block="" kv
    shift 3
    write_config "$file"
    for kv in 'debug: "security,broker,conf,generic"' "$@"; do block+="    $kv"$'\n'; done
    awk -v blk="$block" -v user="$user" -v pwline="$pwline" '
        /^  consumer:$/ { print; printf "%s", blk; next }
        /^delivery:/ { printf "  producer:\n%s", blk }
        /^  user: / { print "  user: " user; next }
        /^  password: / { print pwline; next }
        /^  level: / { print "  level: debug"; next }
        { print }' "$file" >"$file.tmp"
    mv "$file.tmp" "$file"
    grep -q '^  level: debug$' "$file" || fail "log.level debug not set in $file"
    local rc=0
    "$LC" -c "$file" --check-config >"$file.check" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { cat "$file.check"; fail "config $file refused ($rc)"; }
}

# scan: no secret in any output file of this test
scan() {
    local s hits=""
    for s in "${SECRETS[@]}"; do
        if grep -rlF -- "$s" "$T"/lc.* "$T"/*.check "$T"/*.http 2>/dev/null; then
            grep -rnF -- "$s" "$T"/lc.* "$T"/*.check "$T"/*.http 2>/dev/null | head -3 | cut -c1-300
            hits+=" ${s:0:4}..."
        fi
    done
    [ -z "$hits" ] || fail "secret(s)$hits found in the output"
}

topics 4
load_users 44 10000
produce 44 "$N"

# 1. MySQL password from the environment, PLAINTEXT Kafka, metrics on
PORT=$(free_port)
METRICS_LISTEN=127.0.0.1:$PORT secret_config "$T/env.yaml" "$ENV_USER" '  password: "${LC_T_MYSQL_PW}"' \
    'sasl.password: "${KAFKA_SASL_PASSWORD}"' 'ssl.key.password: "${LC_T_KEY_PW}"'
grep -q 'sasl.password: "\*\{8\}"' "$T/env.yaml.check" || fail "sasl.password not shown masked in --check-config"
start_lc "$T/env.yaml" 1
wait_ready 1 40
wait_output "$N" 120
curl -s "http://127.0.0.1:$PORT/metrics" >"$T/metrics.http" || fail "no /metrics"
curl -s "http://127.0.0.1:$PORT/healthz" >"$T/healthz.http" || true
stop_lc "$LC_PID"
verify --truth "$T/truth.json" --fault none || fail "verification failed"
grep -q '^.* debug ' "$T/lc.1.err" || fail "no debug lines in the log"
log "run 1 (env password, debug): $(wc -l <"$T/lc.1.err") log lines, $(grep -c 'rdkafka' "$T/lc.1.err") from librdkafka"
scan

# 2. MySQL password from mysql.password_file, users refreshed every second
REFRESH_S=1 secret_config "$T/file.yaml" "$FILE_USER" '  password: ""' \
    'sasl.password: "${KAFKA_SASL_PASSWORD}"'
sed -i "s|^  database: |  password_file: \"$T/mysql.pw\"\n  database: |" "$T/file.yaml"
"$LC" -c "$T/file.yaml" --check-config >"$T/file.yaml.check" 2>&1 || { cat "$T/file.yaml.check"; fail "file.yaml refused"; }
grep -q 'password_file' "$T/file.yaml.check" || fail "password_file not in --check-config output"
sed -i "s/group_id: .*/group_id: \"$GROUP-2\"/" "$T/file.yaml"
start_lc "$T/file.yaml" 2
wait_ready 2 40
sleep 3
stop_lc "$LC_PID"
grep -q 'refreshed' "$T/lc.2.err" || fail "no users refresh in 3 s with refresh_interval_s 1"
log "run 2 (password_file, refresh 1 s): $(wc -l <"$T/lc.2.err") log lines"
scan

# 3. SASL_SSL with sasl.password literal in the file
secret_config "$T/sasl.yaml" "$FILE_USER" '  password: ""' "security.protocol: SASL_SSL" \
    "sasl.mechanisms: SCRAM-SHA-512" "sasl.username: logclassify" \
    "sasl.password: \"$KAFKA_SASL_PASSWORD\"" "ssl.ca.location: \"$CA\""
sed -i "s|^  database: |  password_file: \"$T/mysql.pw\"\n  database: |; s|^  brokers: .*|  brokers: \"$SASL\"|" "$T/sasl.yaml"
sed -i "s/group_id: .*/group_id: \"$GROUP-3\"/; s/startup_timeout_s: 20/startup_timeout_s: 5/" "$T/sasl.yaml"
"$LC" -c "$T/sasl.yaml" --check-config >"$T/sasl.yaml.check" 2>&1 || { cat "$T/sasl.yaml.check"; fail "sasl.yaml refused"; }
start_lc "$T/sasl.yaml" 3
for _ in $(seq 1 100); do
    grep -q "ready: consuming" "$T/lc.3.err" && break
    kill -0 "$LC_PID" 2>/dev/null || break
    sleep 0.2
done
if kill -0 "$LC_PID" 2>/dev/null; then
    stop_lc "$LC_PID"
    log "run 3 (SASL_SSL): ready, stopped"
else
    rc=0; wait "$LC_PID" || rc=$?
    log "run 3 (SASL_SSL): exit $rc: $(grep '^logclassify: ' "$T/lc.3.err" | tail -1)"
    [ "$rc" -eq 3 ] || fail "SASL_SSL run: exit $rc, expected ready or 3"
fi
grep -qi 'sasl' "$T/lc.3.err" || fail "no SASL debug lines in the log"
scan

# 4. failing MySQL logins: exit 3, one line of reason, no password
refused() { # refused NAME ARGS...: exit 3 with one 'logclassify:' line
    local name=$1 rc=0
    shift
    timeout 60 "$@" >"$T/lc.$name.out" 2>"$T/lc.$name.err" </dev/null || rc=$?
    [ "$rc" -eq 3 ] || { tail -5 "$T/lc.$name.err"; fail "$name: expected exit 3, got $rc"; }
    [ "$(grep -c '^logclassify: ' "$T/lc.$name.err")" -eq 1 ] || fail "$name: not one line of reason"
    grep -q '(1045)' "$T/lc.$name.err" || fail "$name: no access-denied reason"
    log "$name: exit 3: $(grep '^logclassify: ' "$T/lc.$name.err")"
}
USERS_STARTUP_S=2 secret_config "$T/wrong-env.yaml" "$ENV_USER" '  password: "${LC_T_WRONG_PW}"'
refused wrong-env "$LC" -c "$T/wrong-env.yaml"
refused wrong-env-pipe "$LC" -c "$T/wrong-env.yaml" --stdin
USERS_STARTUP_S=2 secret_config "$T/wrong-file.yaml" "$FILE_USER" '  password: ""'
sed -i "s|^  database: |  password_file: \"$T/wrong.pw\"\n  database: |" "$T/wrong-file.yaml"
"$LC" -c "$T/wrong-file.yaml" --check-config >"$T/wrong-file.yaml.check" 2>&1 || fail "wrong-file.yaml refused"
refused wrong-file "$LC" -c "$T/wrong-file.yaml"

# 5. an invalid file holding secrets: exit 2, the error does not echo them
sed 's/^log:$/log:\n  no_such_key: 1/' "$T/sasl.yaml" >"$T/invalid.yaml"
cat >>"$T/invalid.yaml" <<YAML
extra_section:
  password: "$LC_T_KEY_PW"
YAML
rc=0
"$LC" -c "$T/invalid.yaml" --check-config >"$T/invalid.yaml.check" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { cat "$T/invalid.yaml.check"; fail "invalid file: expected exit 2, got $rc"; }
log "invalid file: $(head -2 "$T/invalid.yaml.check" | tr '\n' ' ')"
scan
assert_clean_logs
files=$(ls "$T"/lc.* "$T"/*.check "$T"/*.http | wc -l)
echo "result: PASS ${#SECRETS[@]} secrets absent from $files outputs (debug logs, stdout, --check-config, /metrics, /healthz, failing logins)"
