#!/bin/sh
# kafka-broker-api-versions.sh: org.apache.kafka.tools.BrokerApiVersionsCommand on the image's jars.
exec /opt/kafka/bin/kafka-run-class.sh org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
