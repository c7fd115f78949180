#!/usr/bin/env bash
# once-only
# test_fault_kill9.sh with kafka.group_protocol: consumer (KIP-848): the killed member's
# partitions come back when the broker's session timeout for the group ends
# (group.consumer.session.timeout.ms, 6 s in scripts/kafka.sh).
GROUP_PROTOCOL=consumer exec bash "$(dirname "$0")/test_fault_kill9.sh"
