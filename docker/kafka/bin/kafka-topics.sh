#!/bin/sh
# kafka-topics.sh: org.apache.kafka.tools.TopicCommand on the image's jars.
exec /opt/kafka/bin/kafka-run-class.sh org.apache.kafka.tools.TopicCommand "$@"
