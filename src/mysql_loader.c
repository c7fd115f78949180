/*
 * mysql_loader.c - loads the users snapshot from MySQL/MariaDB (CONTRACT §5) with the one
 * static statement SELECT `key_column`, `value_column` FROM `table`, streamed row by row
 * (mysql_use_result) into a users builder.
 *
 * Only the three identifiers of the options, each checked as [A-Za-z0-9_]+ (here as well as
 * in the configuration: bench/users_bench passes a table name of its own), are ever put into
 * SQL. Errors are one line naming the endpoint, never the password.
 *
 * Ownership: every MYSQL handle and result is opened and closed inside
 * lc_mysql_load_users; the snapshot it returns belongs to the caller (refcount 1).
 */
#include "lc_mysql.h"

#include <mysql.h>
#include <stdio.h>
#include <string.h>

#include "lc_common.h"
#include "lc_text.h"

#define SQL_MAX 512   /* three identifiers (64 characters each from the configuration), keywords */

const char *const lc_mysql_ssl_mode_names[] = {"disabled", "preferred", "required",
                                               "verify_ca", "verify_identity", NULL};

/* "host:port" or the socket path, for messages. */
static void describe_endpoint(const lc_mysql_opts_t *o, char *buf, size_t len)
{
    if (o->socket && *o->socket)
        snprintf(buf, len, "%s", o->socket);
    else
        snprintf(buf, len, "%s:%d", o->host ? o->host : "localhost",
                 o->port);
}

/* Replaces every occurrence of secret in msg with "********" (in place, truncating). */
static void redact(char *msg, size_t cap, const char *secret)
{
    size_t slen = secret ? strlen(secret) : 0;
    if (slen < 3)
        return;   /* too short to tell apart from ordinary text; nothing prints it anyway */
    char out[1024];
    size_t o = 0;
    for (const char *p = msg; *p && o + 1 < sizeof out;) {
        if (strncmp(p, secret, slen) == 0) {
            o += (size_t)snprintf(out + o, sizeof out - o, "********");
            p += slen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o < sizeof out ? o : sizeof out - 1] = '\0';
    snprintf(msg, cap, "%s", out);
}

/* One line: newlines and carriage returns become spaces. */
static void single_line(char *msg)
{
    for (; *msg; msg++)
        if (*msg == '\n' || *msg == '\r')
            *msg = ' ';
}

/* Fills errstr with "mysql ENDPOINT: WHAT: <client error> (<errno>)"; returns -1. */
static int mysql_failure(MYSQL *m, const lc_mysql_opts_t *o, const char *what, char *errstr,
                         size_t errlen)
{
    char endpoint[300], msg[1024];
    describe_endpoint(o, endpoint, sizeof endpoint);
    snprintf(msg, sizeof msg, "mysql %s: %s%s%s (%u)", endpoint, what, *what ? ": " : "",
             mysql_error(m), mysql_errno(m));
    redact(msg, sizeof msg, o->password);
    single_line(msg);
    return lc_err(errstr, errlen, "%s", msg);
}

/* Builds the one statement; fails on an identifier outside [A-Za-z0-9_]+. */
static int build_select(const lc_mysql_opts_t *o, char *sql, size_t len, char *errstr,
                        size_t errlen)
{
    const struct {
        const char *name, *value;
    } ids[] = {
        { "users.table", o->table },
        { "users.key_column", o->key_column },
        { "users.value_column", o->value_column },
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(ids); i++)
        if (!lc_text_is_identifier(ids[i].value))
            return lc_err(errstr, errlen, "%s: \"%s\" is not a plain identifier ([A-Za-z0-9_]+)",
                          ids[i].name, ids[i].value ? ids[i].value : "");
    int n = snprintf(sql, len, "SELECT `%s`, `%s` FROM `%s`", o->key_column,
                     o->value_column, o->table);
    if (n < 0 || (size_t)n >= len)
        return lc_err(errstr, errlen, "users: table or column name too long");
    return 0;
}

static int set_bool_option(MYSQL *m, enum mysql_option opt, bool on)
{
    my_bool v = on;
    return mysql_options(m, opt, &v);
}

/*
 * TLS per mysql.ssl_mode, mapped onto MariaDB Connector/C 3.x:
 *   disabled         no TLS.
 *   preferred        TLS when the server offers it, unverified, else plain.
 *   required         TLS (checked after connecting: the connector alone falls back to
 *                    plain text when the server has no TLS); with mysql.ssl_ca the chain is
 *                    verified too.
 *   verify_ca        TLS, chain verified against mysql.ssl_ca (which the configuration
 *                    requires for this mode), host not checked.
 *   verify_identity  TLS, chain (mysql.ssl_ca, else the system store) and host name checked
 *                    (MYSQL_OPT_SSL_VERIFY_SERVER_CERT, which in this connector checks both).
 */
static int apply_tls_options(MYSQL *m, const lc_mysql_opts_t *o, char *errstr, size_t errlen)
{
    lc_mysql_ssl_mode_t mode = o->ssl_mode;
    bool has_ca = o->ssl_ca && *o->ssl_ca;
    if (mode == LC_MYSQL_SSL_DISABLED)
        return set_bool_option(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, false);
    int rc = set_bool_option(m, MYSQL_OPT_SSL_ENFORCE, true);
    rc |= set_bool_option(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
                          mode == LC_MYSQL_SSL_VERIFY_IDENTITY);
    if (has_ca && mode != LC_MYSQL_SSL_PREFERRED)
        rc |= mysql_options(m, MYSQL_OPT_SSL_CA, o->ssl_ca);
    if (rc)
        return lc_err(errstr, errlen, "mysql.ssl_mode %s: not supported by the client library",
                      lc_mysql_ssl_mode_names[mode]);
    return 0;
}

static int apply_options(MYSQL *m, const lc_mysql_opts_t *o, char *errstr, size_t errlen)
{
    unsigned timeout = o->connect_timeout_s > 0 ? (unsigned)o->connect_timeout_s
                                                        : 10u;
    int rc = mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    rc |= mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    rc |= mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
    rc |= mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* Explicit, so that host "localhost" with a port means TCP, as configured. */
    unsigned protocol = o->socket && *o->socket ? MYSQL_PROTOCOL_SOCKET
                                                                 : MYSQL_PROTOCOL_TCP;
    rc |= mysql_options(m, MYSQL_OPT_PROTOCOL, &protocol);
    if (rc)
        return lc_err(errstr, errlen, "mysql: cannot set connection options");
    return apply_tls_options(m, o, errstr, errlen);
}

/* Refuses a connection that should be encrypted but is not. */
static int check_tls_negotiated(MYSQL *m, const lc_mysql_opts_t *o, char *errstr, size_t errlen)
{
    bool must = o->ssl_mode == LC_MYSQL_SSL_REQUIRED || o->ssl_mode == LC_MYSQL_SSL_VERIFY_CA ||
                o->ssl_mode == LC_MYSQL_SSL_VERIFY_IDENTITY;
    if (!must || mysql_get_ssl_cipher(m))
        return 0;
    char endpoint[300];
    describe_endpoint(o, endpoint, sizeof endpoint);
    return lc_err(errstr, errlen, "mysql %s: ssl_mode %s but the connection is not encrypted",
                  endpoint, lc_mysql_ssl_mode_names[o->ssl_mode]);
}

static int connect_server(MYSQL *m, const lc_mysql_opts_t *o, char *errstr, size_t errlen)
{
    bool by_socket = o->socket && *o->socket;
    const char *host = by_socket ? "localhost" : o->host;
    if (!mysql_real_connect(m, host, o->user, o->password, o->database,
                            by_socket ? 0u : (unsigned)o->port,
                            by_socket ? o->socket : NULL, 0))
        return mysql_failure(m, o, "", errstr, errlen);
    return check_tls_negotiated(m, o, errstr, errlen);
}

/* Streams every row of the result into b. NULL columns are skipped and counted. */
static int stream_rows(MYSQL *m, lc_users_builder_t *b, const lc_mysql_opts_t *o, char *errstr,
                       size_t errlen)
{
    MYSQL_RES *res = mysql_use_result(m);
    if (!res)
        return mysql_failure(m, o, "reading users", errstr, errlen);
    int rc = 0;
    size_t null_rows = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        unsigned long *len = mysql_fetch_lengths(res);
        if (!row[0] || !row[1]) {
            null_rows++;
            continue;
        }
        if (lc_users_builder_add(b, row[0], len[0], row[1], len[1]) < 0) {
            rc = lc_err(errstr, errlen, "mysql: the users table is beyond a snapshot's limits");
            break;
        }
    }
    if (rc == 0 && mysql_errno(m))
        rc = mysql_failure(m, o, "reading users", errstr, errlen);
    mysql_free_result(res);   /* drains what is left after an early stop */
    lc_users_builder_count_skipped(b, null_rows);
    return rc;
}

/* Connects and runs the SELECT into b. */
static int load_into(MYSQL *m, lc_users_builder_t *b, const lc_mysql_opts_t *o,
                     const char *sql, char *errstr, size_t errlen)
{
    if (apply_options(m, o, errstr, errlen) < 0 || connect_server(m, o, errstr, errlen) < 0)
        return -1;
    if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0)
        return mysql_failure(m, o, "query", errstr, errlen);
    return stream_rows(m, b, o, errstr, errlen);
}

lc_users_t *lc_mysql_load_users(const lc_mysql_opts_t *o, char *errstr, size_t errlen)
{
    char sql[SQL_MAX];
    if (build_select(o, sql, sizeof sql, errstr, errlen) < 0)
        return NULL;
    MYSQL *m = mysql_init(NULL);
    if (!m)
        lc_oom();   /* the connector's only failure here */
    lc_users_builder_t *b =
        lc_users_builder_new(o->int_keys, o->case_insensitive, 0);
    int rc = load_into(m, b, o, sql, errstr, errlen);
    mysql_close(m);
    if (rc < 0) {
        lc_users_builder_free(b);
        return NULL;
    }
    return lc_users_builder_finish(b, lc_wall_ms());
}
