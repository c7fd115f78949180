#!/usr/bin/env bash
# Kafka over TLS with client certificates (mutual TLS), configured only through the
# librdkafka pass-through of kafka.consumer / kafka.producer (CONTRACT §7): the local broker's
# SSL listener (scripts/kafka.sh, port LC_KAFKA_MTLS_PORT) requires a certificate signed
# by the throwaway CA of scripts/tls.sh. loggen produces through the same listener (-X);
# counts per label and per reason equal loggen's truth. Also: an encrypted PKCS#8 key
# with ssl.key.password connects, a traditional (PKCS#1) RSA key connects, and without a
# client certificate logclassify exits 3 within kafka.startup_timeout_s.
. "$(dirname "$0")/lib.sh"
N=${N:-20000}
MTLS=127.0.0.1:${LC_KAFKA_MTLS_PORT:-9095}
TLS_DIR=${LC_STATE_DIR:-/tmp/logclassify-services}/tls
CA=$TLS_DIR/ca.pem CERT=$TLS_DIR/client.pem KEY=$TLS_DIR/client.key

(exec 3<>"/dev/tcp/${MTLS%:*}/${MTLS#*:}") 2>/dev/null ||
    fail "no SSL listener on $MTLS: the broker was started by an older scripts/kafka.sh (run: scripts/kafka.sh restart)"
[ -s "$CA" ] && [ -s "$CERT" ] && [ -s "$KEY" ] || fail "no client certificate in $TLS_DIR (scripts/tls.sh)"

# tls_config FILE BROKERS [librdkafka property lines "name: value"]: write_config, then the
# properties into both kafka.consumer and kafka.producer, and BROKERS as kafka.brokers.
tls_config() {
    local file=$1 brokers=$2 block="" kv
    shift 2
    write_config "$file"
    for kv in "$@"; do block+="    $kv"$'\n'; done
    awk -v blk="$block" -v brokers="$brokers" '
        /^  brokers: / { print "  brokers: \"" brokers "\""; next }
        /^  consumer:$/ { print; printf "%s", blk; next }
        /^delivery:/ { printf "  producer:\n%s", blk }
        { print }' "$file" >"$file.tmp"
    mv "$file.tmp" "$file"
    "$LC" -c "$file" --check-config >"$file.check" 2>&1 || { cat "$file.check"; fail "config $file refused"; }
}

topics 4
load_users 41 10000

# 1. records in through the mTLS listener (loggen with -X), classified through it
BROKERS=$MTLS produce 41 "$N" -X security.protocol=SSL -X ssl.ca.location="$CA" \
    -X ssl.certificate.location="$CERT" -X ssl.key.location="$KEY"
log "loggen: $N records produced through $MTLS (mutual TLS)"
tls_config "$T/mtls.yaml" "$MTLS" "security.protocol: SSL" "ssl.ca.location: \"$CA\"" \
    "ssl.certificate.location: \"$CERT\"" "ssl.key.location: \"$KEY\""
grep -q 'security.protocol: "SSL"' "$T/mtls.yaml.check" || fail "pass-through properties not in --check-config output"
start_lc "$T/mtls.yaml" 0
wait_ready 0 40
wait_output "$N" 120
stop_lc "$LC_PID"
assert_clean_logs
verify --truth "$T/truth.json" --fault none || fail "verification failed"
grep -q "ready: consuming" "$T/lc.0.err" || fail "not ready"
log "ok: $N records classified through the mTLS listener"

# 2. key formats: encrypted PKCS#8 with ssl.key.password, and traditional PKCS#1 RSA
KEYPW="mtls-key-pw-$RANDOM$RANDOM"
openssl pkcs8 -topk8 -in "$KEY" -out "$T/client-enc.key" -v2 aes-256-cbc -passout "pass:$KEYPW" 2>/dev/null ||
    fail "openssl could not encrypt the key"
openssl pkey -in "$KEY" -traditional -out "$T/client-rsa.key" 2>/dev/null ||
    openssl rsa -in "$KEY" -traditional -out "$T/client-rsa.key" 2>/dev/null ||
    fail "openssl could not write a PKCS#1 key"
head -1 "$T/client-enc.key" | grep -q 'BEGIN ENCRYPTED PRIVATE KEY' || fail "not an encrypted PKCS#8 key"
head -1 "$T/client-rsa.key" | grep -q 'BEGIN RSA PRIVATE KEY' || fail "not a PKCS#1 key"
export LC_TEST_KEY_PASSWORD=$KEYPW
inst=1
for variant in enc rsa; do
    props=("security.protocol: SSL" "ssl.ca.location: \"$CA\"" "ssl.certificate.location: \"$CERT\""
        "ssl.key.location: \"$T/client-$variant.key\"")
    [ "$variant" = enc ] && props+=("ssl.key.password: \"\${LC_TEST_KEY_PASSWORD}\"")
    tls_config "$T/$variant.yaml" "$MTLS" "${props[@]}"
    sed -i "s/group_id: .*/group_id: \"$GROUP-$variant\"/" "$T/$variant.yaml"
    start_lc "$T/$variant.yaml" "$inst"
    wait_ready "$inst" 40
    stop_lc "$LC_PID"
    log "ok: client key as $variant ($(head -1 "$T/client-$variant.key"))"
    inst=$((inst + 1))
done
if grep -rqF -- "$KEYPW" "$T"/lc.*.err "$T"/lc.*.out "$T"/*.check; then
    fail "ssl.key.password appears in the output"
fi

# 3. no client certificate: the broker refuses the handshake, exit 3 within the timeout
tls_config "$T/nocert.yaml" "$MTLS" "security.protocol: SSL" "ssl.ca.location: \"$CA\""
sed -i 's/startup_timeout_s: 20/startup_timeout_s: 5/' "$T/nocert.yaml"
grep -q 'startup_timeout_s: 5' "$T/nocert.yaml" || fail "could not set kafka.startup_timeout_s"
rc=0; start=$(date +%s%N)
timeout 60 "$LC" -c "$T/nocert.yaml" >"$T/lc.9.out" 2>"$T/lc.9.err" || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
reason=$(grep '^logclassify: ' "$T/lc.9.err" | tail -1 || true)
log "without a client certificate: exit $rc after $ms ms: $reason"
[ "$rc" -eq 3 ] || { tail -5 "$T/lc.9.err"; fail "expected exit 3 without a client certificate, got $rc after $ms ms"; }
[ "$ms" -lt 15000 ] || fail "exit 3 took $ms ms with kafka.startup_timeout_s 5"
[ -n "$reason" ] || fail "no one-line reason"
[[ "$reason" == *"last error: "*"certificate"* ]] || fail "the reason does not carry the TLS error: $reason"
assert_clean_logs
echo "result: PASS $N records through mutual TLS equal loggen's truth; PKCS#8, encrypted PKCS#8 and PKCS#1 keys; no certificate -> exit 3 in $ms ms"
