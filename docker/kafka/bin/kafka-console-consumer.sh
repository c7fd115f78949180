#!/bin/sh
# kafka-console-consumer.sh: org.apache.kafka.tools.consumer.ConsoleConsumer on the image's jars.
exec /opt/kafka/bin/kafka-run-class.sh org.apache.kafka.tools.consumer.ConsoleConsumer "$@"
