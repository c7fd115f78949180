/*
 * lc_mysql.h - loads the users snapshot from MySQL/MariaDB with one static statement:
 *   SELECT `key_column`, `value_column` FROM `table`
 * (identifiers checked as [A-Za-z0-9_]+ and back-quoted). No SQL is ever built from record
 * content. Rows are streamed (mysql_use_result), so 10 M users need no client-side result
 * copy.
 */
#ifndef LC_MYSQL_H
#define LC_MYSQL_H

#include <stdbool.h>
#include <stddef.h>

#include "lc_users.h"

typedef enum lc_mysql_ssl_mode {
    LC_MYSQL_SSL_DISABLED = 0,
    LC_MYSQL_SSL_PREFERRED,
    LC_MYSQL_SSL_REQUIRED,
    LC_MYSQL_SSL_VERIFY_CA,
    LC_MYSQL_SSL_VERIFY_IDENTITY,
} lc_mysql_ssl_mode_t;

/* "disabled", "preferred", "required", "verify_ca", "verify_identity", NULL: indexed by
 * lc_mysql_ssl_mode_t. */
extern const char *const lc_mysql_ssl_mode_names[];

/* The mysql.* keys, and users.table/key_column/value_column. Strings are borrowed. The
 * configuration guarantees verify_ca comes with an ssl_ca. */
typedef struct lc_mysql_opts {
    const char *host;
    int port;
    const char *socket;            /* "": TCP to host:port */
    const char *user;
    const char *password;          /* secret: never in a message */
    const char *database;
    lc_mysql_ssl_mode_t ssl_mode;
    const char *ssl_ca;            /* "": none */
    int connect_timeout_s;
    const char *table;             /* users.table */
    const char *key_column;        /* users.key_column */
    const char *value_column;      /* users.value_column */
    /* from other keys (the configuration sets them) */
    bool int_keys;                 /* users.key_field is an integer field of the schema */
    bool case_insensitive;         /* users.case_insensitive */
} lc_mysql_opts_t;

/* Connects, reads the whole table, and returns a new snapshot (refcount 1, owned by the
 * caller). On failure returns NULL with a one-line reason that never contains the
 * password. */
lc_users_t *lc_mysql_load_users(const lc_mysql_opts_t *o, char *errstr, size_t errlen);

#endif
