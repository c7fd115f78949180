#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, combined broker+controller) for
# development and tests. Jars come from Maven Central via scripts/kafka-pom.xml.
# Client listeners, all on 127.0.0.1 and always open:
#   PLAINTEXT  $LC_KAFKA_PORT       (9092)
#   SASL_SSL   $LC_KAFKA_SASL_PORT  (9094)  SCRAM-SHA-512, user logclassify
#   SSL        $LC_KAFKA_MTLS_PORT  (9095)  client certificate required (mutual TLS)
# Opt-in with LC_KAFKA_IAM=1 (off by default: it compiles a Java class on first use):
#   IAM        $LC_KAFKA_IAM_PORT   (9096)  SASL_SSL with OAUTHBEARER, MSK IAM tokens checked
#              by tests/aws/java/LcMskIamValidator.java against $KDIR/iam-keys.properties
# The certificates come from scripts/tls.sh ($LC_STATE_DIR/tls); the controller and
# inter-broker listeners stay PLAINTEXT on loopback.
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

KAFKA_VERSION="${LC_KAFKA_VERSION:-4.1.2}"
KAFKA_PORT="${LC_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${LC_KAFKA_CONTROLLER_PORT:-9093}"
SASL_PORT="${LC_KAFKA_SASL_PORT:-9094}"
MTLS_PORT="${LC_KAFKA_MTLS_PORT:-9095}"
# MSK IAM listener (opt-in). The keys are test-only, made up; the validator reads them from
# a mode-600 file on every login. A region like MSK's scopes the signature.
IAM_ON="${LC_KAFKA_IAM:-0}"
IAM_PORT="${LC_KAFKA_IAM_PORT:-9096}"
IAM_REGION="${LC_KAFKA_IAM_REGION:-us-east-1}"
IAM_ACCESS_KEY_ID="${LC_KAFKA_IAM_ACCESS_KEY_ID:-AKIDLOGCLASSIFYTEST1}"
IAM_SECRET_ACCESS_KEY="${LC_KAFKA_IAM_SECRET_ACCESS_KEY:-logclassify-test-secret-key/not+real}"
# KIP-368 re-authentication on the IAM listener, in ms (0: off). librdkafka re-authenticates
# from 2.2.0 on; with an older one a value here makes the broker close its connections.
IAM_REAUTH_MS="${LC_KAFKA_IAM_REAUTH_MS:-0}"
IAM_SRC="$LC_REPO_DIR/tests/aws/java/LcMskIamValidator.java"
SCRAM_MECHANISM=SCRAM-SHA-512
SCRAM_USER=logclassify
SCRAM_PASSWORD="${LC_KAFKA_SCRAM_PASSWORD:-logclassify-secret}"
TLS_DIR="$LC_STATE_DIR/tls"
# Consumer groups of the consumer protocol (KIP-848) have their session timeout and heartbeat
# interval set by the broker (Kafka: 45 s and 5 s). A killed member's partitions move after
# 6 s here, as the tests' classic groups do with session.timeout.ms=6000 and
# heartbeat.interval.ms=1000 in the client.
GROUP_SESSION_MS="${LC_KAFKA_GROUP_SESSION_MS:-6000}"
GROUP_HEARTBEAT_MS="${LC_KAFKA_GROUP_HEARTBEAT_MS:-1000}"
KAFKA_HEAP="${LC_KAFKA_HEAP:--Xms256m -Xmx1g}"
KAFKA_GC="${LC_KAFKA_GC:--XX:+UseG1GC -XX:MaxGCPauseMillis=20}"
LIBS="$LC_CACHE/kafka-$KAFKA_VERSION/libs"
KDIR="$LC_STATE_DIR/kafka"
DATA="$KDIR/data"
PROPS="$KDIR/server.properties"
LOG="$KDIR/kafka.log"
PIDFILE="$KDIR/kafka.pid"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
SASL_BOOTSTRAP="127.0.0.1:$SASL_PORT"
MTLS_BOOTSTRAP="127.0.0.1:$MTLS_PORT"
IAM_BOOTSTRAP="127.0.0.1:$IAM_PORT"
IAM_KEYS="$KDIR/iam-keys.properties"
# kcat settings for the probes of the secured listeners (mode 600: holds the password)
SASL_CLIENT="$KDIR/client-sasl.properties"
MTLS_CLIENT="$KDIR/client-mtls.properties"
START_TIMEOUT="${LC_KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT=30
# quick start-up for the short-lived admin tools
TOOL_JVM=(-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto)

usage() {
    cat <<EOF
Usage: $LC_PROG COMMAND
  start                       start the broker (downloads jars on first use)
  stop                        clean shutdown (SIGTERM, SIGKILL after ${STOP_TIMEOUT}s)
  status                      exit 0 when running, 3 when stopped
  restart                     stop + start, keeping data
  topic NAME [PARTITIONS]     create topic if missing (default 4 partitions, RF 1)
  delete-topic NAME           delete topic if present
  kill                        kill -9 the broker (fault tests)
  secure-check                check that the SASL_SSL and SSL listeners answer and that the
                              SCRAM user logs in with the Java client (re-creating the
                              user when not) and with kcat (exit 4 when only kcat fails:
                              librdkafka < 2.6.1 cannot do SCRAM with Kafka 4)
  new-cluster-id [COUNT]      print COUNT (1) new cluster ids, as the storage format uses
  jars                        download the jars into the cache when missing (no broker);
                              scripts/docker.sh stages them into the Kafka image
  secure-info                 print the secured endpoints and client files as NAME=VALUE
                              lines (no password)
  iam-info                    print the IAM listener's endpoint, region and access key id
                              as NAME=VALUE lines (no secret; needs LC_KAFKA_IAM=1)
Listeners: PLAINTEXT $BOOTSTRAP, SASL_SSL $SASL_BOOTSTRAP ($SCRAM_MECHANISM, user
  $SCRAM_USER, password \$LC_KAFKA_SCRAM_PASSWORD or the default), SSL $MTLS_BOOTSTRAP
  (client certificate required); CA and certificates from scripts/tls.sh in $TLS_DIR;
  with LC_KAFKA_IAM=1 also SASL_SSL OAUTHBEARER $IAM_BOOTSTRAP (MSK IAM tokens, region
  $IAM_REGION, key \$LC_KAFKA_IAM_ACCESS_KEY_ID / \$LC_KAFKA_IAM_SECRET_ACCESS_KEY or the test
  defaults, re-authentication \$LC_KAFKA_IAM_REAUTH_MS)
Environment: LC_KAFKA_PORT ($KAFKA_PORT), LC_KAFKA_CONTROLLER_PORT ($CONTROLLER_PORT),
  LC_KAFKA_SASL_PORT ($SASL_PORT), LC_KAFKA_MTLS_PORT ($MTLS_PORT), LC_KAFKA_SCRAM_PASSWORD,
  LC_KAFKA_IAM ($IAM_ON), LC_KAFKA_IAM_PORT ($IAM_PORT), LC_KAFKA_IAM_REGION ($IAM_REGION),
  LC_KAFKA_VERSION ($KAFKA_VERSION), LC_STATE_DIR ($LC_STATE_DIR), LC_CACHE ($LC_CACHE),
  LC_KAFKA_HEAP ($KAFKA_HEAP), LC_KAFKA_GC ($KAFKA_GC),
  LC_KAFKA_GROUP_SESSION_MS ($GROUP_SESSION_MS), LC_KAFKA_GROUP_HEARTBEAT_MS
  ($GROUP_HEARTBEAT_MS): session timeout and heartbeat interval of consumer-protocol groups
State: $KDIR (log: $LOG)
EOF
}

running_pid() {
    local pid
    pid="$(read_pid "$PIDFILE")"
    if pid_alive "$pid" "$PROPS"; then echo "$pid"; fi
}

is_kafka3() { [[ "$KAFKA_VERSION" == 3.* ]]; }

fetch_jars() {
    if [ -f "$LIBS/.complete" ]; then return 0; fi
    ensure_cmd mvn maven
    local tmp="$LIBS.tmp.$$" extra=()
    is_kafka3 && extra+=(-Dkafka3)
    say "downloading Kafka $KAFKA_VERSION jars from Maven Central into $LIBS ..."
    rm -rf "$tmp"
    mkdir -p "$tmp"
    if ! mvn -q -B -Dstyle.color=never -f "$LC_SCRIPTS_DIR/kafka-pom.xml" "${extra[@]}" \
            -Dkafka.version="$KAFKA_VERSION" -Dlibs.dir="$tmp" \
            dependency:copy-dependencies >"$tmp.log" 2>&1; then
        tail -n 30 "$tmp.log" >&2 || true
        rm -rf "$tmp" "$tmp.log"
        rmdir "$(dirname "$LIBS")" 2>/dev/null || true
        die "maven could not fetch Kafka $KAFKA_VERSION (see the maven output above)"
    fi
    rm -f "$tmp.log"
    touch "$tmp/.complete"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
}

check_java() {
    ensure_cmd java openjdk-17-jre-headless
    local v
    v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
    if ! is_kafka3 && [ "${v%%.*}" -lt 17 ] 2>/dev/null; then
        die "Kafka $KAFKA_VERSION needs Java 17 or newer (found $v)"
    fi
}

iam_on() { [ "$IAM_ON" = 1 ]; }

# The validator class, compiled once per source and Kafka version into the cache.
IAM_CLASSES=""
build_iam_validator() {
    ensure_cmd javac openjdk-17-jdk-headless
    local h tmp cp
    h="$(sha256sum <"$IAM_SRC" | cut -c1-12)"
    IAM_CLASSES="$LC_CACHE/msk-iam-validator-$KAFKA_VERSION-$h"
    [ -f "$IAM_CLASSES/LcMskIamValidator.class" ] && return 0
    tmp="$IAM_CLASSES.tmp.$$"
    cp="$(ls "$LIBS"/kafka-clients-*.jar "$LIBS"/slf4j-api-*.jar | tr '\n' ':')"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    javac -nowarn -d "$tmp" -cp "$cp" "$IAM_SRC" >"$tmp.log" 2>&1 ||
        { cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; die "javac could not build $IAM_SRC"; }
    rm -f "$tmp.log"
    rm -rf "$IAM_CLASSES"
    mv "$tmp" "$IAM_CLASSES"
}

write_iam_keys() {
    mkdir -p "$KDIR"
    (umask 077 && printf '%s=%s\n' "$IAM_ACCESS_KEY_ID" "$IAM_SECRET_ACCESS_KEY" >"$IAM_KEYS.tmp")
    mv -f "$IAM_KEYS.tmp" "$IAM_KEYS"
}

# The IAM listener's lines for server.properties (nothing when it is off).
iam_props() {
    iam_on || return 0
    cat <<EOF
# MSK IAM stand-in (LC_KAFKA_IAM=1): OAUTHBEARER whose tokens LcMskIamValidator checks (the
# broker's own login, never used on this listener, needs an unsecured subject claim)
listener.name.iam.ssl.client.auth=none
listener.name.iam.sasl.enabled.mechanisms=OAUTHBEARER
listener.name.iam.oauthbearer.sasl.server.callback.handler.class=LcMskIamValidator
listener.name.iam.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="lc-broker" keysFile="$IAM_KEYS" region="$IAM_REGION";
listener.name.iam.oauthbearer.connections.max.reauth.ms=$IAM_REAUTH_MS
EOF
}

write_configs() {
    mkdir -p "$DATA"
    local iam_l="" iam_m=""
    if iam_on; then
        iam_l=",IAM://127.0.0.1:$IAM_PORT"
        iam_m=",IAM:SASL_SSL"
    fi
    cat >"$PROPS" <<EOF
# Generated by scripts/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT,SASL_SSL://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$MTLS_PORT$iam_l
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$MTLS_PORT$iam_l
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL$iam_m
# secured client listeners; PEM files from scripts/tls.sh (unencrypted PKCS#8 key)
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
sasl.enabled.mechanisms=$SCRAM_MECHANISM
listener.name.sasl_ssl.sasl.enabled.mechanisms=$SCRAM_MECHANISM
listener.name.sasl_ssl.${SCRAM_MECHANISM,,}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
$(iam_props)
log.dirs=$DATA
# single node: every internal topic has one replica
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# consumer-protocol groups (KIP-848): the broker owns their session timeout and heartbeat
# interval (Kafka's defaults 45 s and 5 s, minimums 45 s and 5 s); a killed member's
# partitions move after LC_KAFKA_GROUP_SESSION_MS. A group may raise them again
# (kafka-configs --entity-type groups: consumer.session.timeout.ms, ...).
group.consumer.session.timeout.ms=$GROUP_SESSION_MS
group.consumer.min.session.timeout.ms=$GROUP_SESSION_MS
group.consumer.heartbeat.interval.ms=$GROUP_HEARTBEAT_MS
group.consumer.min.heartbeat.interval.ms=$GROUP_HEARTBEAT_MS
# re-register quickly after a kill -9 (default session timeout is 9 s)
broker.session.timeout.ms=5000
broker.heartbeat.interval.ms=1000
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=24
EOF
    cat >"$KDIR/log4j2.properties" <<'EOF'
# broker logging: everything to stdout (redirected to kafka.log)
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
    cat >"$KDIR/log4j2-tools.properties" <<'EOF'
# admin tools: warnings and errors only, on stderr
status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
EOF
    cat >"$KDIR/log4j.properties" <<'EOF'
# used by Kafka 3.x only (reload4j)
log4j.rootLogger=INFO, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
    cat >"$KDIR/log4j-tools.properties" <<'EOF'
log4j.rootLogger=WARN, err
log4j.appender.err=org.apache.log4j.ConsoleAppender
log4j.appender.err.Target=System.err
log4j.appender.err.layout=org.apache.log4j.PatternLayout
log4j.appender.err.layout.ConversionPattern=%p %m%n
EOF
    write_client_configs
}

# The SCRAM password goes into StorageTool/ConfigCommand arguments in the
# SCRAM-SHA-512=[name=...,password=...] syntax: keep it to characters that syntax
# passes through unchanged.
check_scram_password() {
    [[ "$SCRAM_PASSWORD" =~ ^[A-Za-z0-9._~@%^*+:/-]{1,128}$ ]] ||
        die "LC_KAFKA_SCRAM_PASSWORD: use 1-128 of A-Z a-z 0-9 . _ ~ @ % ^ * + : / -"
}

# kcat property files for probing the secured listeners as a client would.
write_client_configs() {
    mkdir -p "$KDIR"
    (
        umask 077
        cat >"$SASL_CLIENT.tmp" <<EOF
security.protocol=SASL_SSL
sasl.mechanisms=$SCRAM_MECHANISM
sasl.username=$SCRAM_USER
sasl.password=$SCRAM_PASSWORD
ssl.ca.location=$TLS_DIR/ca.pem
EOF
        cat >"$MTLS_CLIENT.tmp" <<EOF
security.protocol=SSL
ssl.ca.location=$TLS_DIR/ca.pem
ssl.certificate.location=$TLS_DIR/client.pem
ssl.key.location=$TLS_DIR/client.key
EOF
    )
    mv -f "$SASL_CLIENT.tmp" "$SASL_CLIENT"
    mv -f "$MTLS_CLIENT.tmp" "$MTLS_CLIENT"
}

ensure_tls() {
    "$LC_SCRIPTS_DIR/tls.sh" ensure || die "scripts/tls.sh could not create the certificates"
}

log_opts() { # log_opts broker|tools
    local suffix=""
    [ "$1" = tools ] && suffix="-tools"
    if is_kafka3; then
        echo "-Dlog4j.configuration=file:$KDIR/log4j$suffix.properties"
    else
        echo "-Dlog4j2.configurationFile=$KDIR/log4j2$suffix.properties"
    fi
}

run_tool() { # run_tool MAIN-CLASS ARGS...
    fetch_jars
    [ -f "$KDIR/log4j2-tools.properties" ] || write_configs
    java "${TOOL_JVM[@]}" "$(log_opts tools)" -cp "$LIBS/*" "$@"
}

broker_answers() {
    local md
    md="$(kcat -b "$BOOTSTRAP" -L -t __lc_probe -m 2 2>/dev/null || true)"
    grep -qF "broker 1 at $BOOTSTRAP" <<<"$md"
}

# mtls_answers [SECONDS]: a metadata request through the SSL listener, with the client
# certificate, succeeds (TLS handshake both ways, then a Kafka request).
mtls_answers() {
    local md
    [ -f "$MTLS_CLIENT" ] || write_client_configs
    md="$(kcat -F "$MTLS_CLIENT" -b "$MTLS_BOOTSTRAP" -L -t __lc_probe -m "${1:-2}" 2>/dev/null || true)"
    grep -qF "broker 1 at $MTLS_BOOTSTRAP" <<<"$md"
}

# sasl_tls_answers: the SASL_SSL listener completes a TLS handshake with a certificate
# that the CA signed for 127.0.0.1. (A SCRAM login is not probed here: librdkafka before
# 2.6.1, kcat's included, fails SCRAM against Kafka 4 -- see secure-check.)
sasl_tls_answers() {
    timeout 5 openssl s_client -connect "$SASL_BOOTSTRAP" -CAfile "$TLS_DIR/ca.pem" \
        -verify_return_error -verify_ip 127.0.0.1 </dev/null 2>/dev/null |
        grep -q 'Verify return code: 0 (ok)'
}

# iam_tls_answers: the IAM listener completes a TLS handshake (its OAUTHBEARER login is the
# MSK IAM tests' business: tests/integration/test_msk_iam.sh).
iam_tls_answers() {
    timeout 5 openssl s_client -connect "$IAM_BOOTSTRAP" -CAfile "$TLS_DIR/ca.pem" \
        -verify_return_error -verify_ip 127.0.0.1 </dev/null 2>/dev/null |
        grep -q 'Verify return code: 0 (ok)'
}

# "mechanism user sha256(cluster-id:password)" of the SCRAM user this data dir holds;
# lets a start skip the admin tool (a JVM) when nothing changed.
SCRAM_STATE="$KDIR/scram-user.state"
scram_fingerprint() {
    local cid
    cid="$(sed -n 's/^cluster.id=//p' "$DATA/meta.properties" 2>/dev/null || true)"
    printf '%s %s %s\n' "$SCRAM_MECHANISM" "$SCRAM_USER" \
        "$(printf '%s:%s' "$cid" "$SCRAM_PASSWORD" | sha256sum | cut -d' ' -f1)"
}

# Creates (or resets the password of) the SCRAM user through the PLAINTEXT listener;
# the password travels in a mode-600 file, not on the command line.
upsert_scram_user() {
    local f="$KDIR/scram-user.properties"
    # in a file the value is taken as is: no [...] grouping as on the command line
    (umask 077 && echo "$SCRAM_MECHANISM=password=$SCRAM_PASSWORD" >"$f")
    local rc=0 out
    out="$(run_tool kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" --alter \
        --entity-type users --entity-name "$SCRAM_USER" --add-config-file "$f" 2>&1)" || rc=$?
    rm -f "$f"
    # the tool echoes a value it does not like, password included
    out="${out//"$SCRAM_PASSWORD"/********}"
    printf '%s\n' "$out" >"$KDIR/scram-user.log"
    if [ "$rc" -ne 0 ]; then
        printf '%s\n' "$out" >&2
        return 1
    fi
    scram_fingerprint >"$SCRAM_STATE"
}

# ensure_secure START-SECONDS [force]: both secured listeners answer, and the SCRAM user
# exists with the current password. A data dir formatted without the user (by an older
# kafka.sh), or with another password, gets it here through the admin tool.
ensure_secure() {
    local t0=$1
    until mtls_answers 2; do
        ((SECONDS - t0 < START_TIMEOUT)) ||
            die "the SSL (mutual TLS) listener on $MTLS_BOOTSTRAP does not answer (log: $LOG)"
        sleep 0.5
    done
    until sasl_tls_answers; do
        ((SECONDS - t0 < START_TIMEOUT)) ||
            die "the SASL_SSL listener on $SASL_BOOTSTRAP does not complete a TLS handshake (log: $LOG)"
        sleep 0.5
    done
    while iam_on && ! iam_tls_answers; do
        ((SECONDS - t0 < START_TIMEOUT)) ||
            die "the IAM listener on $IAM_BOOTSTRAP does not complete a TLS handshake (log: $LOG)"
        sleep 0.5
    done
    if [ "${2:-}" = force ] || [ "$(cat "$SCRAM_STATE" 2>/dev/null || true)" != "$(scram_fingerprint)" ]; then
        say "setting SCRAM user $SCRAM_USER ($SCRAM_MECHANISM)"
        upsert_scram_user || die "could not create the SCRAM user $SCRAM_USER"
    fi
}

# new_cluster_id [COUNT]: prints COUNT (1) new cluster ids. A Kafka cluster id is 16 random
# bytes in URL-safe base64 without padding; like Kafka's own Uuid.randomUuid(), an id that
# starts with '-' is drawn again: the storage tool would read it as an option (about one
# id in 64 did, and the format failed with "--cluster-id: expected one argument").
new_cluster_id() {
    local n="${1:-1}" cid
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "COUNT must be a positive number, got '$n'"
    while ((n > 0)); do
        cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ "$cid" == -* ]] && continue
        printf '%s\n' "$cid"
        n=$((n - 1))
    done
}

format_storage() {
    [ -f "$DATA/meta.properties" ] && return 0
    local cid
    cid="$(new_cluster_id)"
    say "formatting new storage in $DATA (cluster id $cid)"
    local scram=()
    # SCRAM users in the bootstrap metadata need Kafka 3.5+; older ones get it from
    # ensure_secure after start.
    if ! [[ "$KAFKA_VERSION" =~ ^3\.[0-4]\. ]]; then
        scram=(--add-scram "$SCRAM_MECHANISM=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]")
    fi
    rm -f "$SCRAM_STATE"
    if ! run_tool kafka.tools.StorageTool format --cluster-id="$cid" -c "$PROPS" "${scram[@]}" \
            >"$KDIR/format.log" 2>&1; then
        local out
        out="$(cat "$KDIR/format.log")"
        printf '%s\n' "${out//"$SCRAM_PASSWORD"/********}" >&2
        die "storage format failed"
    fi
    [ "${#scram[@]}" -eq 0 ] || scram_fingerprint >"$SCRAM_STATE"
}

cmd_start() {
    lock_service "$KDIR"
    local pid
    pid="$(running_pid)"
    check_scram_password
    if [ -n "$pid" ] && port_busy "$KAFKA_PORT" && broker_answers; then
        say "already running (pid $pid, $BOOTSTRAP)"
        if ! port_busy "$SASL_PORT" || ! port_busy "$MTLS_PORT"; then
            warn "this broker has no SASL_SSL/SSL listeners on $SASL_PORT/$MTLS_PORT (started by an older kafka.sh?); '$LC_PROG restart' adds them"
        fi
        if iam_on; then
            write_iam_keys
            port_busy "$IAM_PORT" ||
                warn "this broker has no IAM listener on $IAM_PORT (started without LC_KAFKA_IAM=1); 'LC_KAFKA_IAM=1 $LC_PROG restart' adds it"
        fi
        return 0
    fi
    if [ -z "$pid" ]; then
        ensure_cmd kcat kcat
        check_java
        local p cp="$LIBS/*" ports=("$KAFKA_PORT" "$CONTROLLER_PORT" "$SASL_PORT" "$MTLS_PORT")
        iam_on && ports+=("$IAM_PORT")
        for p in "${ports[@]}"; do
            port_busy "$p" && die "port $p is already in use by another process"
        done
        fetch_jars
        ensure_tls
        if iam_on; then
            build_iam_validator
            write_iam_keys
            cp="$cp:$IAM_CLASSES"
        fi
        write_configs
        format_storage
        [ -f "$LOG" ] && mv -f "$LOG" "$LOG.prev"
        # shellcheck disable=SC2086
        setsid java $KAFKA_HEAP $KAFKA_GC \
            -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
            "$(log_opts broker)" -cp "$cp" kafka.Kafka "$PROPS" \
            </dev/null >"$LOG" 2>&1 9>&- &
        pid=$!
        echo "$pid" >"$PIDFILE"
        say "starting Kafka $KAFKA_VERSION (pid $pid) on $BOOTSTRAP ..."
    fi
    local t0=$SECONDS
    while ((SECONDS - t0 < START_TIMEOUT)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$LOG" >&2 || true
            rm -f "$PIDFILE"
            die "Kafka exited during start-up (log: $LOG)"
        fi
        if port_busy "$KAFKA_PORT" && broker_answers; then
            ensure_secure "$t0"
            say "Kafka is up on $BOOTSTRAP, SASL_SSL $SASL_BOOTSTRAP, SSL $MTLS_BOOTSTRAP$(iam_on && echo ", IAM $IAM_BOOTSTRAP" || true) (pid $pid, $((SECONDS - t0))s)"
            return 0
        fi
        sleep 0.5
    done
    tail -n 30 "$LOG" >&2 || true
    die "Kafka did not answer on $BOOTSTRAP within ${START_TIMEOUT}s (still running as pid $pid; log: $LOG)"
}

cmd_stop() {
    lock_service "$KDIR"
    stop_service Kafka "$(running_pid)" "$PIDFILE" "$STOP_TIMEOUT"
}

cmd_kill() {
    kill_service Kafka "$(running_pid)" "$PIDFILE"
}

cmd_status() {
    local pid
    pid="$(running_pid)"
    if [ -z "$pid" ]; then
        say "stopped"
        return 3
    fi
    if broker_answers; then
        say "running (pid $pid, Kafka $KAFKA_VERSION, $BOOTSTRAP)"
    else
        say "process running (pid $pid) but broker not answering on $BOOTSTRAP"
        return 1
    fi
}

# java_scram_login: the Java admin client logs in with SCRAM on the SASL_SSL listener
java_scram_login() {
    local f="$KDIR/client-sasl-java.properties" rc=0
    (
        umask 077
        cat >"$f" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=$SCRAM_MECHANISM
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$SCRAM_USER" password="$SCRAM_PASSWORD";
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
request.timeout.ms=10000
default.api.timeout.ms=15000
EOF
    )
    run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$SASL_BOOTSTRAP" \
        --command-config "$f" --list >/dev/null 2>"$KDIR/secure-check.log" || rc=$?
    rm -f "$f"
    return "$rc"
}

# kcat_scram_login: librdkafka (through kcat) logs in with SCRAM; prints its error
kcat_scram_login() {
    local out
    out="$(kcat -F "$SASL_CLIENT" -b "$SASL_BOOTSTRAP" -L -t __lc_probe -m 5 2>&1)" && return 0
    grep -m1 -oE 'SASL authentication error: [^(]*' <<<"$out" || tail -n 1 <<<"$out"
    return 1
}

cmd_secure_check() {
    check_scram_password
    require_running
    if ! port_busy "$SASL_PORT" || ! port_busy "$MTLS_PORT"; then
        die "no SASL_SSL/SSL listener on $SASL_PORT/$MTLS_PORT: the broker was started by an older kafka.sh (run: $LC_PROG restart)"
    fi
    write_client_configs
    ensure_secure "$SECONDS"
    say "SSL on $MTLS_BOOTSTRAP: metadata with the client certificate ok (kcat)"
    if ! java_scram_login; then
        say "the Java client cannot log in as $SCRAM_USER: setting the user again"
        ensure_secure "$SECONDS" force
        java_scram_login || { cat "$KDIR/secure-check.log" >&2; die "the Java client cannot log in as $SCRAM_USER on $SASL_BOOTSTRAP"; }
    fi
    say "SASL_SSL on $SASL_BOOTSTRAP: $SCRAM_MECHANISM login as $SCRAM_USER ok (Java client)"
    local why v
    v="$(kcat -V 2>&1 | grep -oE 'librdkafka [0-9.]+' | head -n 1)"
    if why="$(kcat_scram_login)"; then
        say "SASL_SSL on $SASL_BOOTSTRAP: $SCRAM_MECHANISM login ok (kcat, $v)"
    else
        warn "SASL_SSL on $SASL_BOOTSTRAP: kcat ($v) cannot log in: $why"
        warn "librdkafka before 2.6.1 sends a wrong SCRAM nonce that Kafka 4 refuses (confluentinc/librdkafka#4895)"
        return 4
    fi
}

cmd_iam_info() {
    iam_on || die "the IAM listener is opt-in: set LC_KAFKA_IAM=1"
    cat <<EOF
KAFKA_IAM=$IAM_BOOTSTRAP
KAFKA_IAM_REGION=$IAM_REGION
KAFKA_IAM_ACCESS_KEY_ID=$IAM_ACCESS_KEY_ID
KAFKA_IAM_REAUTH_MS=$IAM_REAUTH_MS
KAFKA_CA=$TLS_DIR/ca.pem
EOF
}

cmd_secure_info() {
    cat <<EOF
KAFKA_PLAINTEXT=$BOOTSTRAP
KAFKA_SASL_SSL=$SASL_BOOTSTRAP
KAFKA_MTLS=$MTLS_BOOTSTRAP
KAFKA_SASL_MECHANISM=$SCRAM_MECHANISM
KAFKA_SASL_USERNAME=$SCRAM_USER
KAFKA_CA=$TLS_DIR/ca.pem
KAFKA_CLIENT_CERT=$TLS_DIR/client.pem
KAFKA_CLIENT_KEY=$TLS_DIR/client.key
EOF
}

topic_partitions() { # prints the partition count of topic $1, empty when absent
    kcat -b "$BOOTSTRAP" -L -t "$1" -m 5 2>/dev/null |
        sed -n "s/^ *topic \"$1\" with \([0-9]*\) partitions: *\$/\1/p"
}

# wait_topic NAME present|absent: until the broker's metadata shows the topic
# with a leader for every partition (present) or no longer shows it (absent).
wait_topic() {
    local t0=$SECONDS md n
    while ((SECONDS - t0 < 30)); do
        md="$(kcat -b "$BOOTSTRAP" -L -t "$1" -m 5 2>/dev/null || true)"
        n="$(sed -n "s/^ *topic \"$1\" with \([0-9]*\) partitions: *\$/\1/p" <<<"$md")"
        if [ "$2" = absent ]; then
            [ -z "$n" ] && return 0
        elif [ -n "$n" ] && [ "$n" -gt 0 ] && ! grep -q 'leader -1' <<<"$md"; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

require_running() {
    [ -n "$(running_pid)" ] && broker_answers || die "Kafka is not running on $BOOTSTRAP (run: $LC_PROG start)"
}

valid_topic() {
    [[ "$1" =~ ^[A-Za-z0-9._-]{1,249}$ ]] || die "invalid topic name '$1'"
}

cmd_topic() {
    local name="${1:-}" parts="${2:-4}" have
    [ -n "$name" ] || die "usage: $LC_PROG topic NAME [PARTITIONS]"
    valid_topic "$name"
    [[ "$parts" =~ ^[1-9][0-9]*$ ]] || die "PARTITIONS must be a positive number, got '$parts'"
    require_running
    have="$(topic_partitions "$name")"
    if [ -n "$have" ]; then
        [ "$have" = "$parts" ] || warn "topic $name exists with $have partitions (wanted $parts); left as is"
        say "topic $name exists ($have partitions)"
        return 0
    fi
    run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
        --create --if-not-exists --topic "$name" \
        --partitions "$parts" --replication-factor 1 >/dev/null
    wait_topic "$name" present || die "topic $name was not ready within 30s after creation"
    say "topic $name created ($parts partitions)"
}

cmd_delete_topic() {
    local name="${1:-}"
    [ -n "$name" ] || die "usage: $LC_PROG delete-topic NAME"
    valid_topic "$name"
    require_running
    if [ -z "$(topic_partitions "$name")" ]; then
        say "topic $name does not exist"
        return 0
    fi
    run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
        --delete --if-exists --topic "$name" >/dev/null
    wait_topic "$name" absent || die "topic $name still listed 30s after deletion"
    say "topic $name deleted"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart) cmd_stop; cmd_start ;;
    kill) cmd_kill ;;
    topic) shift; cmd_topic "$@" ;;
    delete-topic) shift; cmd_delete_topic "$@" ;;
    secure-check) cmd_secure_check ;;
    secure-info) cmd_secure_info ;;
    iam-info) cmd_iam_info ;;
    new-cluster-id) shift; new_cluster_id "$@" ;;
    jars) fetch_jars; say "Kafka $KAFKA_VERSION jars in $LIBS" ;;
    -h | --help | help) usage ;;
    "") usage >&2; exit 2 ;;
    *) printf '%s: unknown command: %s\n' "$LC_PROG" "$1" >&2; usage >&2; exit 2 ;;
esac
