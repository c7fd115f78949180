#!/usr/bin/env bash
# once-only
# test_fault_kill9.sh in exactly_once mode with kafka.group_protocol: consumer (KIP-848).
GROUP_PROTOCOL=consumer DELIVERY=exactly_once exec bash "$(dirname "$0")/test_fault_kill9.sh"
