#!/usr/bin/env bash
# once-only
# test_fault_rebalance_eos.sh with kafka.group_protocol: consumer (KIP-848).
GROUP_PROTOCOL=consumer exec bash "$(dirname "$0")/test_fault_rebalance_eos.sh"
