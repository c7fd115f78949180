#!/usr/bin/env bash
# once-only
# test_fault_broker_restart.sh in exactly_once mode.
DELIVERY=exactly_once exec bash "$(dirname "$0")/test_fault_broker_restart.sh"
