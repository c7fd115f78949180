#!/usr/bin/env bash
# MSK IAM end to end with logclassify itself (kafka.aws_iam, CONTRACT §7). A broker of this
# test's own (scripts/kafka.sh with LC_KAFKA_IAM=1: a SASL_SSL OAUTHBEARER listener whose
# server callback, tests/aws/java/LcMskIamValidator, recomputes each token's SigV4 signature
# with the test's secret key; connections.max.reauth.ms 10 s on that listener). loggen
# writes and lc-verify reads through the broker's PLAINTEXT listener; logclassify reads and
# writes only through the IAM listener:
#   1. keys from the environment, at_least_once: the output equals loggen's truth; /metrics
#      shows the token counters;
#   2. keys from EC2 instance metadata (tests/aws/fake_aws.py, IMDSv2) that expire every
#      20 s, exactly_once, records flowing for ~25 s: the credentials and tokens are renewed,
#      every connection re-authenticates (KIP-368) every ~9 s, and lc-verify finds every
#      record exactly once with loggen's labels;
#   3. a wrong secret key: exit 3 with one clear line, long before kafka.startup_timeout_s;
#   4. no credentials anywhere: exit 3 with one line naming the sources tried;
#   5. no secret key, session token, access key id or token in anything logclassify wrote
#      (log.level debug, librdkafka's security and broker debug contexts), in /metrics,
#      /healthz or --check-config.
# once-only
. "$(dirname "$0")/lib.sh"
N1=${N1:-5000}
N2=${N2:-20000}
RATE=${RATE:-800}             # records/s in step 2: about 25 s of flow
REAUTH_MS=10000
KBASE=$(( ${LC_KAFKA_PORT:-9092} + 200 ))
IAM_STATE=${LC_STATE_DIR:-/tmp/logclassify-services}-msk-iam
IAM_PORT=$((KBASE + 4))
BROKERS=127.0.0.1:$KBASE      # this test's broker, PLAINTEXT: loggen, lc-verify, kcat (lib.sh)
REGION=eu-west-1
CA=$IAM_STATE/tls/ca.pem
export LC_KAFKA_IAM_ACCESS_KEY_ID="AKIDLC$RANDOM$RANDOM"
export LC_KAFKA_IAM_SECRET_ACCESS_KEY="lc-S3KR1T-$RANDOM$RANDOM/+x"
WRONG="lc-wrong-S3KR1T-$RANDOM"
kiam() {
    LC_STATE_DIR=$IAM_STATE LC_KAFKA_PORT=$KBASE LC_KAFKA_CONTROLLER_PORT=$((KBASE + 1)) \
        LC_KAFKA_SASL_PORT=$((KBASE + 2)) LC_KAFKA_MTLS_PORT=$((KBASE + 3)) \
        LC_KAFKA_IAM=1 LC_KAFKA_IAM_PORT=$IAM_PORT LC_KAFKA_IAM_REGION=$REGION \
        LC_KAFKA_IAM_REAUTH_MS=$REAUTH_MS "$ROOT/scripts/kafka.sh" "$@"
}
FAKE_PID=
stop_all() {
    [ -z "$FAKE_PID" ] || kill "$FAKE_PID" 2>/dev/null || true
    kiam stop >/dev/null 2>&1 || true
    cleanup
}
trap stop_all EXIT
t_start=$SECONDS
kiam start >"$T/kafka-start.log" 2>&1 || { cat "$T/kafka-start.log"; fail "the broker with the IAM listener did not start"; }
log "broker with the IAM listener up in $((SECONDS - t_start)) s"
BROKER_LOG=$IAM_STATE/kafka/kafka.log

# nothing from this machine's own AWS set-up
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_EC2_METADATA_SERVICE_ENDPOINT
export AWS_SHARED_CREDENTIALS_FILE=$T/none AWS_CONFIG_FILE=$T/none AWS_EC2_METADATA_DISABLED=true

# iam_config FILE DELIVERY: write_config, then kafka.brokers = the IAM listener, the test CA
# and librdkafka's security and broker debug contexts for both clients, kafka.aws_iam,
# log.level debug; --check-config must accept it and show the section.
iam_config() {
    local file=$1 delivery=$2
    write_config "$file" "$delivery"
    awk -v brokers="127.0.0.1:$IAM_PORT" -v ca="$CA" -v region="$REGION" '
        function props() {
            print "    ssl.ca.location: \"" ca "\""
            print "    debug: \"security,broker\""
        }
        /^  brokers: / { print "  brokers: \"" brokers "\""; next }
        /^  consumer:$/ { print; props(); next }
        /^delivery:/ { print "  producer:"; props(); print "  aws_iam:"; print "    region: " region }
        /^  level: / { print "  level: debug"; next }
        { print }' "$file" >"$file.tmp"
    mv "$file.tmp" "$file"
    "$LC" -c "$file" --check-config >"$file.check" 2>&1 || { cat "$file.check"; fail "$file refused"; }
    grep -q "^  aws_iam:$" "$file.check" && grep -q "^    region: \"$REGION\"$" "$file.check" ||
        fail "--check-config does not show kafka.aws_iam"
}

# new_topics SUFFIX: this step's own input and output topics and group
new_topics() {
    IN_TOPIC="in-$TEST_ID-$1" OUT_TOPIC="out-$TEST_ID-$1" GROUP="grp-$TEST_ID-$1"
    kiam topic "$IN_TOPIC" 4 >/dev/null
    kiam topic "$OUT_TOPIC" 4 >/dev/null
}

# metric NAME FILE: a sample's value from a /metrics text
metric() { sed -n "s/^$1 \([0-9]*\)$/\1/p" "$2"; }

load_users 61 10000

# 1. keys from the environment, at_least_once
new_topics env
produce 61 "$N1"
MPORT=$(free_port)
METRICS_LISTEN=127.0.0.1:$MPORT iam_config "$T/env.yaml" at_least_once
export AWS_ACCESS_KEY_ID=$LC_KAFKA_IAM_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$LC_KAFKA_IAM_SECRET_ACCESS_KEY
start_lc "$T/env.yaml" 1
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
wait_ready 1 40
wait_output "$N1" 60
curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/env.metrics.http" || fail "no /metrics"
curl -s "http://127.0.0.1:$MPORT/healthz" >"$T/env.healthz.http" || fail "no /healthz"
stop_lc "$LC_PID"
verify --truth "$T/truth.json" --fault none || fail "environment keys: verification failed"
grep -q "msk-iam: new token from environment credentials" "$T/lc.1.err" || fail "environment keys: no token from the environment's keys"
env_tokens=$(metric logclassify_kafka_token_refreshes_total "$T/env.metrics.http")
[ "${env_tokens:-0}" -ge 2 ] || fail "environment keys: /metrics shows ${env_tokens:-no} token refreshes, expected one per client"
[ "$(metric logclassify_kafka_token_refresh_failures_total "$T/env.metrics.http")" = 0 ] || fail "environment keys: token refresh failures"
grep -q '^ok' "$T/env.healthz.http" || fail "environment keys: /healthz says $(cat "$T/env.healthz.http")"
log "environment keys: $N1 records through the IAM listener equal loggen's truth; $env_tokens tokens"

# 2. IMDSv2 keys expiring every 20 s, exactly_once, re-authentication every ~9 s
mkfifo "$T/fake.in"
python3 "$ROOT/tests/aws/fake_aws.py" --config \
    "{\"ttl\": 20, \"fixed_keys\": {\"AccessKeyId\": \"$LC_KAFKA_IAM_ACCESS_KEY_ID\", \"SecretAccessKey\": \"$LC_KAFKA_IAM_SECRET_ACCESS_KEY\"}}" \
    <"$T/fake.in" >"$T/fake.port" 2>"$T/fake.err" &
FAKE_PID=$!
exec 7>"$T/fake.in"
for _ in $(seq 50); do [ -s "$T/fake.port" ] && break; sleep 0.1; done
FAKE_PORT=$(head -1 "$T/fake.port")
[ -n "$FAKE_PORT" ] || fail "tests/aws/fake_aws.py did not start"
new_topics eos
DELIVERY=exactly_once
MPORT=$(free_port)
METRICS_LISTEN=127.0.0.1:$MPORT iam_config "$T/imds.yaml" exactly_once
accepted_before=$(grep -c "MSK IAM token accepted" "$BROKER_LOG" || true)
AWS_EC2_METADATA_DISABLED= AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$FAKE_PORT" \
    start_lc "$T/imds.yaml" 2
wait_ready 2 40
t_flow=$SECONDS
produce 61 "$N2" -r "$RATE"
wait_output "$N2" 60
flow_s=$((SECONDS - t_flow))
curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/imds.metrics.http" || fail "no /metrics"
curl -s "http://127.0.0.1:$MPORT/healthz" >"$T/imds.healthz.http" || fail "no /healthz"
stop_lc "$LC_PID"
accepted=$(( $(grep -c "MSK IAM token accepted" "$BROKER_LOG" || true) - accepted_before ))
verify --truth "$T/truth.json" --fault none || fail "IMDS keys, exactly_once: verification failed"
tokens=$(metric logclassify_kafka_token_refreshes_total "$T/imds.metrics.http")
token_failures=$(metric logclassify_kafka_token_refresh_failures_total "$T/imds.metrics.http")
fetches=$(grep -c "aws: credentials from EC2 instance metadata" "$T/lc.2.err" || true)
reauths=$(grep -c "REAUTH.*Received REAUTH op" "$T/lc.2.err" || true)
curl -s "http://127.0.0.1:$FAKE_PORT/_admin/log" >"$T/fake.log"
exec 7>&-
log "IMDS keys (20 s), exactly_once, $N2 records over $flow_s s: $fetches credential fetches, $tokens tokens ($token_failures failures), $reauths re-authentications, $accepted logins checked by the broker"
[ "${token_failures:-1}" -eq 0 ] || fail "IMDS keys: $token_failures token refresh failures"
[ "$fetches" -ge 3 ] || fail "IMDS keys: $fetches credential fetches in $flow_s s, expected renewals (at least 3)"
[ "${tokens:-0}" -ge 4 ] || fail "IMDS keys: ${tokens:-no} tokens in $flow_s s, expected each client's renewed (at least 4)"
[ "$reauths" -ge 4 ] || fail "IMDS keys: $reauths re-authentications in $flow_s s with connections.max.reauth.ms $REAUTH_MS ($("$LC" --version | sed -n 's/.*(\(librdkafka [^)]*\)).*/\1/p'); KIP-368 re-authentication needs librdkafka >= 2.2: an older one reconnects instead)"
[ "$accepted" -ge "$reauths" ] || fail "the broker checked $accepted logins, fewer than the $reauths re-authentications"
grep -q '"PUT"' "$T/fake.log" || fail "IMDS keys: no IMDSv2 session token PUT"
grep -q '^ok' "$T/imds.healthz.http" || fail "IMDS keys: /healthz says $(cat "$T/imds.healthz.http")"
unset DELIVERY

# 3. a wrong secret key: exit 3 at once, well before kafka.startup_timeout_s (30 s)
refused() { # refused NAME: runs $T/NAME.yaml to its exit; sets rc, ms, reason
    local name=$1 start
    rc=0
    start=$(date +%s%N)
    timeout 60 "$LC" -c "$T/$name.yaml" >"$T/lc.$name.out" 2>"$T/lc.$name.err" </dev/null || rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    reason=$(grep '^logclassify: ' "$T/lc.$name.err" || true)
    log "$name: exit $rc after $ms ms: $reason"
    [ "$rc" -eq 3 ] || { tail -5 "$T/lc.$name.err"; fail "$name: exit $rc, expected 3"; }
    [ "$(grep -c '^logclassify: ' "$T/lc.$name.err")" -eq 1 ] || fail "$name: not one line of reason"
    [ "$ms" -lt 15000 ] || fail "$name: exit 3 took $ms ms (kafka.startup_timeout_s 30): it waited instead of giving up"
}
new_topics wrong
iam_config "$T/wrong.yaml" at_least_once
sed -i 's/startup_timeout_s: 20/startup_timeout_s: 30/' "$T/wrong.yaml"
AWS_ACCESS_KEY_ID=$LC_KAFKA_IAM_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$WRONG refused wrong
[[ "$reason" == *"kafka authentication failed"*"SASL authentication error"* ]] || fail "wrong secret key: the reason does not name the refused login: $reason"
WRONG_MS=$ms
grep -q "MSK IAM token refused: signature does not match" "$BROKER_LOG" ||
    fail "the broker's validator did not say why it refused"

# 4. no credentials at all
cp "$T/wrong.yaml" "$T/nocreds.yaml"
refused nocreds
[[ "$reason" == *"kafka authentication failed"*"no AWS credentials"* ]] || fail "no credentials: the reason does not say so: $reason"
NOCREDS_MS=$ms

# 5. no secret anywhere logclassify wrote
outputs=("$T"/lc.* "$T"/*.check "$T"/*.http)
if grep -F -e "$LC_KAFKA_IAM_SECRET_ACCESS_KEY" -e "$WRONG" -e "S3KR1T" -e "T0K3N" -e "IMDSTOK" \
        -e "$LC_KAFKA_IAM_ACCESS_KEY_ID" -e "aHR0cHM6Ly9rYWZrYS" -e "X-Amz-Signature" \
        -e "X-Amz-Security-Token" -e "X-Amz-Credential" "${outputs[@]}" | cut -c1-200 | head -5; then
    fail "a credential or token appears in logclassify's output"
fi
grep -q "debug rdkafka: .*SASL" "$T/lc.2.err" || fail "no librdkafka SASL debug lines: the scan would prove nothing"
assert_clean_logs
echo "result: PASS: MSK IAM with logclassify: $N1 records (environment keys) and $N2 exactly once (IMDSv2 keys renewed every 20 s: $fetches fetches, $tokens tokens, $reauths re-authentications) equal loggen's truth; wrong key exit 3 in $WRONG_MS ms, no credentials exit 3 in $NOCREDS_MS ms; no secret in ${#outputs[@]} outputs ($((SECONDS - t_start)) s)"
