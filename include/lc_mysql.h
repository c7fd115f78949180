/*
 * lc_mysql.h - loads the users snapshot from MySQL/MariaDB with one static statement:
 *   SELECT `key_column`, `value_column` FROM `table`
 * (identifiers from the configuration, checked as [A-Za-z0-9_]+ and back-quoted). No SQL is
 * ever built from record content. Rows are streamed (mysql_use_result), so 10 M users need
 * no client-side result copy.
 */
#ifndef LC_MYSQL_H
#define LC_MYSQL_H

#include <stddef.h>
#include "lc_config.h"
#include "lc_users.h"

/* Connects (mysql.* settings, mysql.connect_timeout_s), reads the whole table, and returns a
 * new snapshot (refcount 1) whose key kind follows the schema type of users.key_field.
 * On failure returns NULL with a one-line reason that never contains the password. */
lc_users_t *lc_mysql_load_users(const lc_config_t *cfg, char *errstr, size_t errlen);

#endif
