#!/bin/bash
# Entrypoint of logclassify's MariaDB image (docker/mariadb/Dockerfile). Runs as the mysql
# user. On an empty data volume: creates the system tables, the database
# MARIADB_DATABASE (default dim_users) and root's password MARIADB_ROOT_PASSWORD, runs the
# files of /docker-entrypoint-initdb.d in name order (*.sql into the database, *.sh
# sourced, with the helpers below), all on a server that listens on a private socket only.
# Then, and on every later start, runs mariadbd in the foreground with the given arguments.
set -euo pipefail

datadir=/var/lib/mysql
marker=$datadir/.logclassify-initialised
init_sock=/run/mysqld/init.sock

# Helpers for the *.sh init files.
note() { printf 'mariadb-entrypoint: %s\n' "$*"; }
error() { printf 'mariadb-entrypoint: error: %s\n' "$*" >&2; exit 1; }
# sql [CLIENT ARGS]: the SQL on standard input, as the administrator, on the init server.
sql() { mariadb --no-defaults --protocol=socket -S "$init_sock" -u mysql "$@"; }
# sql_string TEXT: TEXT as a quoted SQL string literal.
sql_string() {
    local s=${1//\\/\\\\}
    printf "'%s'" "${s//\'/\'\'}"
}

initialise() {
    local db=${MARIADB_DATABASE:-dim_users} pid f i
    [ -n "${MARIADB_ROOT_PASSWORD:-}" ] || error "MARIADB_ROOT_PASSWORD is not set (docker/.env: MYSQL_ROOT_PASSWORD)"
    [[ "$db" =~ ^[A-Za-z0-9_]+$ ]] || error "MARIADB_DATABASE must match [A-Za-z0-9_]+"
    note "initialising an empty data directory"
    if ! mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db \
            --auth-root-authentication-method=socket --auth-root-socket-user=mysql \
            >/tmp/install-db.log 2>&1; then
        cat /tmp/install-db.log >&2
        error "mariadb-install-db failed"
    fi
    mariadbd --datadir="$datadir" --skip-networking --socket="$init_sock" &
    pid=$!
    for ((i = 0; i < 300; i++)); do
        sql -e 'SELECT 1' >/dev/null 2>&1 && break
        kill -0 "$pid" 2>/dev/null || error "the server stopped during initialisation"
        sleep 0.1
    done
    sql -e 'SELECT 1' >/dev/null || error "the initialisation server did not answer in 30 s"
    sql <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$MARIADB_ROOT_PASSWORD");
CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4;
SQL
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sql) note "running $f"; sql --database="$db" <"$f" ;;
            *.sh) note "sourcing $f"; # shellcheck disable=SC1090
                  . "$f" ;;
            *) note "ignoring $f" ;;
        esac
    done
    mariadb-admin --no-defaults --protocol=socket -S "$init_sock" -u mysql shutdown
    wait "$pid" || true
    touch "$marker"
    note "initialised: database $db"
}

if [ ! -d "$datadir/mysql" ]; then
    initialise
elif [ ! -f "$marker" ]; then
    error "$datadir holds a data directory whose initialisation did not finish: remove the volume (docker-compose down -v) and start again"
fi
exec mariadbd "$@"
