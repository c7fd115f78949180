#!/usr/bin/env bash
# Kafka over SASL_SSL with SCRAM-SHA-512 (the Amazon MSK set-up), configured only through
# the librdkafka pass-through of kafka.consumer / kafka.producer (CONTRACT §7): the local
# broker's SASL_SSL listener (scripts/kafka.sh, port LC_KAFKA_SASL_PORT, user logclassify,
# certificate from scripts/tls.sh). The password comes from the environment
# (${KAFKA_SASL_PASSWORD}) and never shows in the output.
#   1. a wrong password: exit 3 with a one-line reason naming the authentication failure,
#      at once (well before kafka.startup_timeout_s: waiting does not heal credentials);
#   2. the right one: records produced through PLAINTEXT are classified through SASL_SSL,
#      counts per label and per reason equal loggen's truth.
# librdkafka before 2.6.1 sends a wrong nonce in the SCRAM client-final message, which
# Kafka 4 refuses (confluentinc/librdkafka#4895; Debian 12 ships 2.0.2). So this test runs
# its own Apache Kafka 3.9.1 broker (KRaft, jars from Maven Central like the main one),
# the newest line that accepts it, beside the main 4.x broker; see README "Kafka versions".
# Against a 4.x broker step 2 fails and says why.
# once-only
. "$(dirname "$0")/lib.sh"
N=${N:-20000}
KBASE=$(( ${LC_KAFKA_PORT:-9092} + 100 ))
K39_STATE=${LC_STATE_DIR:-/tmp/logclassify-services}-kafka39
k39() {
    LC_STATE_DIR=$K39_STATE LC_KAFKA_VERSION=${SCRAM_KAFKA_VERSION:-3.9.1} \
        LC_KAFKA_PORT=$KBASE LC_KAFKA_CONTROLLER_PORT=$((KBASE + 1)) \
        LC_KAFKA_SASL_PORT=$((KBASE + 2)) LC_KAFKA_MTLS_PORT=$((KBASE + 3)) \
        "$ROOT/scripts/kafka.sh" "$@"
}
k39 start >/dev/null || fail "the Kafka ${SCRAM_KAFKA_VERSION:-3.9.1} broker for the SCRAM test did not start"
trap 'k39 stop >/dev/null 2>&1 || true; cleanup' EXIT
topics() { k39 topic "$IN_TOPIC" "${1:-4}" >/dev/null; k39 topic "$OUT_TOPIC" "${1:-4}" >/dev/null; }
BROKERS=127.0.0.1:$KBASE
SASL=127.0.0.1:$((KBASE + 2))
TLS_DIR=$K39_STATE/tls
CA=$TLS_DIR/ca.pem
export KAFKA_SASL_PASSWORD=${LC_KAFKA_SCRAM_PASSWORD:-logclassify-secret}
WRONG="wrong-$RANDOM$RANDOM-pw"

(exec 3<>"/dev/tcp/${SASL%:*}/${SASL#*:}") 2>/dev/null ||
    fail "no SASL_SSL listener on $SASL: the broker was started by an older scripts/kafka.sh (run: scripts/kafka.sh restart)"
[ -s "$CA" ] || fail "no CA certificate $CA (scripts/tls.sh)"

# sasl_config FILE PASSWORD-REFERENCE: write_config, then the SASL_SSL properties into
# both kafka.consumer and kafka.producer, and the SASL_SSL listener as kafka.brokers.
sasl_config() {
    local file=$1 pw=$2 block="" kv
    write_config "$file"
    for kv in "security.protocol: SASL_SSL" "sasl.mechanisms: SCRAM-SHA-512" \
        "sasl.username: logclassify" "sasl.password: \"$pw\"" "ssl.ca.location: \"$CA\""; do
        block+="    $kv"$'\n'
    done
    awk -v blk="$block" -v brokers="$SASL" '
        /^  brokers: / { print "  brokers: \"" brokers "\""; next }
        /^  consumer:$/ { print; printf "%s", blk; next }
        /^delivery:/ { printf "  producer:\n%s", blk }
        { print }' "$file" >"$file.tmp"
    mv "$file.tmp" "$file"
    "$LC" -c "$file" --check-config >"$file.check" 2>&1 || { cat "$file.check"; fail "config $file refused"; }
    grep -q 'sasl.mechanisms: "SCRAM-SHA-512"' "$file.check" || fail "pass-through properties not in --check-config output"
}

# no_secret FILES...: neither password appears in any of them
no_secret() {
    if grep -F -e "$KAFKA_SASL_PASSWORD" -e "$WRONG" "$@"; then
        fail "a SASL password appears in the output"
    fi
}

topics 4
load_users 42 10000
produce 42 "$N"

# 1. wrong password: exit 3 at once, well before kafka.startup_timeout_s (30 s here)
sasl_config "$T/wrong.yaml" "$WRONG"
sed -i 's/startup_timeout_s: 20/startup_timeout_s: 30/' "$T/wrong.yaml"
grep -q 'startup_timeout_s: 30' "$T/wrong.yaml" || fail "could not set kafka.startup_timeout_s"
rc=0; start=$(date +%s%N)
timeout 60 "$LC" -c "$T/wrong.yaml" >"$T/lc.9.out" 2>"$T/lc.9.err" || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
reason=$(grep '^logclassify: ' "$T/lc.9.err" | tail -1 || true)
log "wrong SCRAM password: exit $rc after $ms ms: $reason"
grep -m1 -i 'authentication' "$T/lc.9.err" | cut -c1-300 || true
[ "$rc" -ne 124 ] || fail "wrong SCRAM password: still running after 60 s"
[ "$rc" -eq 3 ] || { tail -5 "$T/lc.9.err"; fail "wrong SCRAM password: expected exit 3, got $rc after $ms ms"; }
[ "$ms" -lt 15000 ] || fail "wrong SCRAM password: exit 3 took $ms ms (kafka.startup_timeout_s 30): it waited instead of giving up"
[[ "$reason" == *"kafka authentication failed"* ]] || fail "wrong SCRAM password: the reason does not name the authentication failure: $reason"
no_secret "$T/lc.9.err" "$T/lc.9.out" "$T/wrong.yaml.check"
WRONG_MS=$ms

# 2. the right password, from the environment
sasl_config "$T/sasl.yaml" '${KAFKA_SASL_PASSWORD}'
start_lc "$T/sasl.yaml" 0
i=0
until grep -q "ready: consuming" "$T/lc.0.err"; do
    if ! kill -0 "$LC_PID" 2>/dev/null; then
        rc=0; wait "$LC_PID" || rc=$?
        reason=$(grep '^logclassify: ' "$T/lc.0.err" | tail -1 || true)
        log "right SCRAM password: exit $rc: $reason"
        grep -m1 -i 'authentication' "$T/lc.0.err" | cut -c1-300 || true
        no_secret "$T/lc.0.err" "$T/lc.0.out"
        v=$(pkg-config --modversion rdkafka 2>/dev/null || echo "?")
        if grep -q 'invalid credentials with SASL mechanism SCRAM' "$T/lc.0.err"; then
            fail "SCRAM login with the right password refused (exit $rc): librdkafka $v has the SCRAM nonce bug that Kafka 4 rejects (confluentinc/librdkafka#4895, fixed in 2.6.1)"
        fi
        fail "not ready through SASL_SSL (exit $rc): $reason"
    fi
    sleep 0.2; i=$((i + 1))
    [ $i -lt 200 ] || { tail -20 "$T/lc.0.err"; fail "not ready through SASL_SSL after 40 s"; }
done
wait_output "$N" 120
stop_lc "$LC_PID"
assert_clean_logs
verify --truth "$T/truth.json" --fault none || fail "verification failed"
no_secret "$T/lc.0.err" "$T/lc.0.out" "$T/sasl.yaml.check"
echo "result: PASS $N records through SASL_SSL/SCRAM-SHA-512 equal loggen's truth; wrong password -> exit 3 in $WRONG_MS ms"
