#!/usr/bin/env bash
# Bring the local services for logclassify up or down: MariaDB (dim_users)
# and a single-node Kafka with the topics the job uses.
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

TOPICS=(server-logs server-logs-status)
TOPIC_PARTITIONS=4

usage() {
    cat <<EOF
Usage: $LC_PROG COMMAND
  up      install missing packages (scripts/deps.sh), start MariaDB and Kafka,
          create topics ${TOPICS[*]} ($TOPIC_PARTITIONS partitions each)
  down    stop Kafka and MariaDB (data is kept in $LC_STATE_DIR)
  status  show both; exit 0 only when both are running
Set LC_SKIP_DEPS=1 to skip the package check in 'up'.
EOF
}

cmd_up() {
    [ "${LC_SKIP_DEPS:-0}" = 1 ] || "$LC_SCRIPTS_DIR/deps.sh"
    "$LC_SCRIPTS_DIR/mariadb.sh" start
    "$LC_SCRIPTS_DIR/kafka.sh" start
    local t
    for t in "${TOPICS[@]}"; do
        "$LC_SCRIPTS_DIR/kafka.sh" topic "$t" "$TOPIC_PARTITIONS"
    done
    say "services up"
}

cmd_down() {
    local rc=0
    "$LC_SCRIPTS_DIR/kafka.sh" stop || rc=1
    "$LC_SCRIPTS_DIR/mariadb.sh" stop || rc=1
    return "$rc"
}

cmd_status() {
    local rc=0
    "$LC_SCRIPTS_DIR/mariadb.sh" status || rc=$?
    "$LC_SCRIPTS_DIR/kafka.sh" status || rc=$?
    return "$rc"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    -h | --help | help) usage ;;
    "") usage >&2; exit 2 ;;
    *) printf '%s: unknown command: %s\n' "$LC_PROG" "$1" >&2; usage >&2; exit 2 ;;
esac
