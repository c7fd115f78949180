#!/usr/bin/env bash
# once-only
# test_group_sharing.sh with kafka.group_protocol: consumer (KIP-848: the broker assigns the
# partitions; scripts/kafka.sh gives such groups a 6 s session and a 1 s heartbeat).
GROUP_PROTOCOL=consumer exec bash "$(dirname "$0")/test_group_sharing.sh"
