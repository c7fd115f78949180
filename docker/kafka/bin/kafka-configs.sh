#!/bin/sh
# kafka-configs.sh: kafka.admin.ConfigCommand on the image's jars.
exec /opt/kafka/bin/kafka-run-class.sh kafka.admin.ConfigCommand "$@"
