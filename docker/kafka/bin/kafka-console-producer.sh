#!/bin/sh
# kafka-console-producer.sh: org.apache.kafka.tools.ConsoleProducer on the image's jars.
exec /opt/kafka/bin/kafka-run-class.sh org.apache.kafka.tools.ConsoleProducer "$@"
