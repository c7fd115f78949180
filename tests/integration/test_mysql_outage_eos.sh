#!/usr/bin/env bash
# once-only
# test_mysql_outage.sh in exactly_once mode.
DELIVERY=exactly_once exec bash "$(dirname "$0")/test_mysql_outage.sh"
