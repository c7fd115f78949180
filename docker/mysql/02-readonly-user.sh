# shellcheck shell=bash
# Creates the read-only account logclassify connects with: SELECT on dim_users, nothing
# else (logclassify only ever runs one static SELECT, SPEC section 5).
#
# Sourced (not executed) by the MariaDB image's entrypoint (docker/mariadb/entrypoint.sh)
# on the first start of an empty data volume, after 01-users.sql created the table; sql,
# sql_string, note and error are the entrypoint's helpers. The name and password come from
# the environment of the mysql service in docker/docker-compose.yml (LC_MYSQL_USER,
# LC_MYSQL_PASSWORD <- MYSQL_PASSWORD in docker/.env), so no secret is written in this
# repository.

: "${LC_MYSQL_USER:=logclassify}"
if [ -z "${LC_MYSQL_PASSWORD:-}" ]; then
    error "LC_MYSQL_PASSWORD is not set: set MYSQL_PASSWORD in docker/.env"
fi
case "$LC_MYSQL_USER" in
    *[!A-Za-z0-9_]* | "") error "LC_MYSQL_USER must match [A-Za-z0-9_]+" ;;
esac

note "creating read-only user '$LC_MYSQL_USER'@'%' (SELECT on dim_users.*)"
sql --database=mysql <<EOSQL
CREATE USER IF NOT EXISTS '${LC_MYSQL_USER}'@'%' IDENTIFIED BY $(sql_string "$LC_MYSQL_PASSWORD");
ALTER USER '${LC_MYSQL_USER}'@'%' IDENTIFIED BY $(sql_string "$LC_MYSQL_PASSWORD");
GRANT SELECT ON dim_users.* TO '${LC_MYSQL_USER}'@'%';
EOSQL
