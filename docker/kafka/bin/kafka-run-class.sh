#!/bin/bash
# kafka-run-class.sh CLASS [ARGS...]: a Kafka tool's main class on the image's jars, with a
# small, quickly started JVM (the tools are short-lived). KAFKA_TOOL_OPTS adds options.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: kafka-run-class.sh CLASS [ARGS...]" >&2; exit 2; }
# shellcheck disable=SC2086  # options are words
exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto \
    -Djava.awt.headless=true -Dlog4j2.configurationFile=/opt/kafka/bin/log4j2-tools.properties \
    ${KAFKA_TOOL_OPTS:-} -cp '/opt/kafka/libs/*' "$@"
