# shellcheck shell=bash
# Creates the read-only account logclassify connects with: SELECT on dim_users, nothing
# else (logclassify only ever runs one static SELECT, SPEC section 5).
#
# Sourced (not executed) by the mariadb image's entrypoint on the first start of an empty
# data volume, after 01-users.sql created the table; docker_process_sql and
# docker_sql_escape_string_literal are the entrypoint's own helpers. The name and password
# come from the environment of the mysql service in docker/docker-compose.yml
# (LC_MYSQL_USER, LC_MYSQL_PASSWORD <- MYSQL_PASSWORD in docker/.env), so no secret is
# written in this repository.

: "${LC_MYSQL_USER:=logclassify}"
if [ -z "${LC_MYSQL_PASSWORD:-}" ]; then
    mysql_error "LC_MYSQL_PASSWORD is not set: set MYSQL_PASSWORD in docker/.env"
fi
case "$LC_MYSQL_USER" in
    *[!A-Za-z0-9_]* | "") mysql_error "LC_MYSQL_USER must match [A-Za-z0-9_]+" ;;
esac

lc_ro_password=$(docker_sql_escape_string_literal "$LC_MYSQL_PASSWORD")
mysql_note "creating read-only user '$LC_MYSQL_USER'@'%' (SELECT on dim_users.*)"
docker_process_sql --database=mysql <<EOSQL
CREATE USER IF NOT EXISTS '${LC_MYSQL_USER}'@'%' IDENTIFIED BY '${lc_ro_password}';
ALTER USER '${LC_MYSQL_USER}'@'%' IDENTIFIED BY '${lc_ro_password}';
GRANT SELECT ON dim_users.* TO '${LC_MYSQL_USER}'@'%';
EOSQL
unset lc_ro_password
