#!/usr/bin/env bash
# MSK IAM end to end (phase 1: the lc_msk_iam module with librdkafka; logclassify itself is
# wired to it in phase 2). A broker of this test's own (scripts/kafka.sh with LC_KAFKA_IAM=1:
# a SASL_SSL OAUTHBEARER listener whose server callback, tests/aws/java/LcMskIamValidator,
# recomputes each token's SigV4 signature with the test's secret key) and
# build/lc-msk-iam-client, which produces and consumes through that listener with tokens
# from the refresh callback:
#   1. keys from the environment: every record produced comes back;
#   2. a wrong secret key: refused, exit 3 with one clear line, within seconds;
#   3. keys from EC2 instance metadata (tests/aws/fake_aws.py, IMDSv2) that expire every
#      20 s: the records flow while librdkafka's refresh callback gets new credentials and
#      new tokens (at least 3 of each in 45 s);
#   4. no secret key, session token or token in anything the client printed (debug level).
# Re-authentication (connections.max.reauth.ms, LC_KAFKA_IAM_REAUTH_MS) needs librdkafka
# >= 2.2: phase 2 asserts it.
. "$(dirname "$0")/lib.sh"
N=${N:-2000}
KBASE=$(( ${LC_KAFKA_PORT:-9092} + 200 ))
IAM_STATE=${LC_STATE_DIR:-/tmp/logclassify-services}-msk-iam
IAM_PORT=$((KBASE + 4))
REGION=eu-west-1
export LC_KAFKA_IAM_ACCESS_KEY_ID="AKIDLC$RANDOM$RANDOM"
export LC_KAFKA_IAM_SECRET_ACCESS_KEY="lc-S3KR1T-$RANDOM$RANDOM/+x"
WRONG="lc-wrong-S3KR1T-$RANDOM"
kiam() {
    LC_STATE_DIR=$IAM_STATE LC_KAFKA_PORT=$KBASE LC_KAFKA_CONTROLLER_PORT=$((KBASE + 1)) \
        LC_KAFKA_SASL_PORT=$((KBASE + 2)) LC_KAFKA_MTLS_PORT=$((KBASE + 3)) \
        LC_KAFKA_IAM=1 LC_KAFKA_IAM_PORT=$IAM_PORT LC_KAFKA_IAM_REGION=$REGION \
        "$ROOT/scripts/kafka.sh" "$@"
}
FAKE_PID=
stop_all() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
    kiam stop >/dev/null 2>&1 || true
    cleanup
}
kiam start >"$T/kafka-start.log" 2>&1 || { cat "$T/kafka-start.log"; fail "the broker with the IAM listener did not start"; }
trap stop_all EXIT
kiam topic "$IN_TOPIC" 4 >/dev/null
CA=$IAM_STATE/tls/ca.pem
CLIENT=$ROOT/$BUILD/lc-msk-iam-client
make -s BUILD="$BUILD" SAN=$([ "$BUILD" = build-san ] && echo 1 || echo 0) "$BUILD/lc-msk-iam-client" >/dev/null

# nothing from this machine's own AWS set-up
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
export AWS_SHARED_CREDENTIALS_FILE=$T/none AWS_CONFIG_FILE=$T/none AWS_EC2_METADATA_DISABLED=true
export LC_DEBUG=1
run_client() { # run_client NAME ARGS...: output in $T/NAME.out, exit status in $rc
    local name=$1; shift
    rc=0
    timeout 120 "$CLIENT" -b "127.0.0.1:$IAM_PORT" -t "$IN_TOPIC" --ca "$CA" --region "$REGION" "$@" \
        >"$T/$name.out" 2>&1 || rc=$?
}

# 1. keys from the environment
AWS_ACCESS_KEY_ID=$LC_KAFKA_IAM_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$LC_KAFKA_IAM_SECRET_ACCESS_KEY \
    run_client env -n "$N" --timeout 60
cat "$T/env.out" | grep -v '^%\|debug' | tail -4
[ "$rc" -eq 0 ] || { tail -20 "$T/env.out"; fail "environment keys: exit $rc"; }
grep -q "consumed $N records" "$T/env.out" || fail "environment keys: not every record came back"
log "environment keys: $N records produced and consumed through the IAM listener"

# 2. a wrong secret key
start=$(date +%s%N)
AWS_ACCESS_KEY_ID=$LC_KAFKA_IAM_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$WRONG run_client wrong -n 10 --timeout 60
ms=$(( ($(date +%s%N) - start) / 1000000 ))
line=$(grep '^lc-msk-iam-client: kafka authentication failed' "$T/wrong.out" || true)
log "wrong secret key: exit $rc after $ms ms: $line"
[ "$rc" -eq 3 ] || { tail -20 "$T/wrong.out"; fail "wrong secret key: exit $rc, expected 3"; }
[[ "$line" == *"SASL authentication error"* ]] || fail "wrong secret key: no clear line"
[ "$ms" -lt 20000 ] || fail "wrong secret key: refused only after $ms ms"
grep -q "MSK IAM token refused: signature does not match" "$IAM_STATE/kafka/kafka.log" ||
    fail "the broker's validator did not say why it refused"

# 3. keys from IMDSv2 that expire every 20 s: refreshes while records flow
mkfifo "$T/fake.in"
python3 "$ROOT/tests/aws/fake_aws.py" --config \
    "{\"ttl\": 20, \"fixed_keys\": {\"AccessKeyId\": \"$LC_KAFKA_IAM_ACCESS_KEY_ID\", \"SecretAccessKey\": \"$LC_KAFKA_IAM_SECRET_ACCESS_KEY\"}}" \
    <"$T/fake.in" >"$T/fake.port" 2>"$T/fake.err" &
FAKE_PID=$!
exec 7>"$T/fake.in"
for _ in $(seq 50); do [ -s "$T/fake.port" ] && break; sleep 0.1; done
FAKE_PORT=$(head -1 "$T/fake.port")
[ -n "$FAKE_PORT" ] || fail "tests/aws/fake_aws.py did not start"
AWS_EC2_METADATA_DISABLED= AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$FAKE_PORT" \
    run_client imds -n "$N" --timeout 90 --hold 45
grep -v '^%\|debug' "$T/imds.out" | tail -3
[ "$rc" -eq 0 ] || { tail -20 "$T/imds.out"; fail "IMDS keys: exit $rc"; }
read -r refreshes failures fetches < <(sed -n 's/^token refreshes \([0-9]*\), refresh failures \([0-9]*\), credential fetches \([0-9]*\)$/\1 \2 \3/p' "$T/imds.out")
log "IMDS keys expiring every 20 s: $refreshes token refreshes, $failures failures, $fetches credential fetches"
[ "${refreshes:-0}" -ge 3 ] && [ "${fetches:-0}" -ge 3 ] || fail "IMDS keys: expected at least 3 refreshes and fetches"
[ "${failures:-1}" -eq 0 ] || fail "IMDS keys: $failures refresh failures"
grep -q "credentials from EC2 instance metadata" "$T/imds.out" || fail "IMDS keys: not from IMDS"
curl -s "http://127.0.0.1:$FAKE_PORT/_admin/log" >"$T/fake.log"
grep -q '"PUT"' "$T/fake.log" || fail "IMDS keys: no token PUT"
exec 7>&-

# 4. no secret in what the client printed
if grep -F -e "$LC_KAFKA_IAM_SECRET_ACCESS_KEY" -e "$WRONG" -e "S3KR1T" -e "T0K3N" -e "IMDSTOK" \
        -e "$LC_KAFKA_IAM_ACCESS_KEY_ID" "$T"/env.out "$T"/wrong.out "$T"/imds.out; then
    fail "a credential appears in the client's output"
fi
echo "result: PASS: MSK IAM through a SigV4-checking broker: $N records both ways, wrong key refused (exit 3, $ms ms), $refreshes token refreshes from IMDS keys"
