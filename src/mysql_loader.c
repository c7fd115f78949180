/*
 * mysql_loader.c - loads the users snapshot from MySQL/MariaDB (CONTRACT §5) with the one
 * static statement SELECT `key_column`, `value_column` FROM `table`, streamed row by row
 * (mysql_use_result) into a users builder.
 *
 * Only the three identifiers from the configuration, each checked as [A-Za-z0-9_]+, are
 * ever put into SQL. Errors are one line naming the endpoint, never the password.
 *
 * Ownership: every MYSQL handle and result is opened and closed inside
 * lc_mysql_load_users; the snapshot it returns belongs to the caller (refcount 1).
 */
#include "lc_mysql.h"

#include <mysql.h>
#include <stdio.h>
#include <string.h>

#include "lc_common.h"
#include "lc_schema.h"
#include "lc_text.h"

#define SQL_MAX 512   /* three identifiers of at most 150 bytes each, and the keywords */

/* "host:port" or the socket path, for messages. */
static void describe_endpoint(const lc_config_t *cfg, char *buf, size_t len)
{
    if (cfg->mysql_socket && *cfg->mysql_socket)
        snprintf(buf, len, "%s", cfg->mysql_socket);
    else
        snprintf(buf, len, "%s:%d", cfg->mysql_host ? cfg->mysql_host : "localhost",
                 cfg->mysql_port);
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
static int mysql_failure(MYSQL *m, const lc_config_t *cfg, const char *what, char *errstr,
                         size_t errlen)
{
    char endpoint[300], msg[1024];
    describe_endpoint(cfg, endpoint, sizeof endpoint);
    snprintf(msg, sizeof msg, "mysql %s: %s%s%s (%u)", endpoint, what, *what ? ": " : "",
             mysql_error(m), mysql_errno(m));
    redact(msg, sizeof msg, cfg->mysql_password);
    single_line(msg);
    return lc_err(errstr, errlen, "%s", msg);
}

/* Builds the one statement; fails on an identifier outside [A-Za-z0-9_]+. */
static int build_select(const lc_config_t *cfg, char *sql, size_t len, char *errstr,
                        size_t errlen)
{
    const struct {
        const char *name, *value;
    } ids[] = {
        { "users.table", cfg->users_table },
        { "users.key_column", cfg->users_key_column },
        { "users.value_column", cfg->users_value_column },
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(ids); i++)
        if (!lc_text_is_identifier(ids[i].value))
            return lc_err(errstr, errlen, "%s: \"%s\" is not a plain identifier ([A-Za-z0-9_]+)",
                          ids[i].name, ids[i].value ? ids[i].value : "");
    int n = snprintf(sql, len, "SELECT `%s`, `%s` FROM `%s`", cfg->users_key_column,
                     cfg->users_value_column, cfg->users_table);
    if (n < 0 || (size_t)n >= len)
        return lc_err(errstr, errlen, "users: table or column name too long");
    return 0;
}

/* Integer keys when the schema types users.key_field as integer (CONTRACT §2.2). */
static bool key_field_is_integer(const lc_config_t *cfg)
{
    if (!cfg->schema || !cfg->users_key_field)
        return false;
    int i = lc_schema_field_index(cfg->schema, cfg->users_key_field);
    return i >= 0 && lc_schema_field_type(cfg->schema, (size_t)i) == LC_FT_INTEGER;
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
 *   verify_ca        TLS, chain verified against mysql.ssl_ca (required), host not checked.
 *   verify_identity  TLS, chain (mysql.ssl_ca, else the system store) and host name checked
 *                    (MYSQL_OPT_SSL_VERIFY_SERVER_CERT, which in this connector checks both).
 */
static int apply_tls_options(MYSQL *m, const lc_config_t *cfg, char *errstr, size_t errlen)
{
    const char *mode = cfg->mysql_ssl_mode && *cfg->mysql_ssl_mode ? cfg->mysql_ssl_mode
                                                                   : "preferred";
    bool has_ca = cfg->mysql_ssl_ca && *cfg->mysql_ssl_ca;
    bool check_host = !strcmp(mode, "verify_identity");
    if (!strcmp(mode, "disabled"))
        return set_bool_option(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, false);
    if (strcmp(mode, "preferred") && strcmp(mode, "required") && strcmp(mode, "verify_ca") &&
        !check_host)
        return lc_err(errstr, errlen, "mysql.ssl_mode: unknown mode \"%s\"", mode);
    if (!strcmp(mode, "verify_ca") && !has_ca)
        return lc_err(errstr, errlen, "mysql.ssl_mode verify_ca needs mysql.ssl_ca");
    int rc = set_bool_option(m, MYSQL_OPT_SSL_ENFORCE, true);
    rc |= set_bool_option(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, check_host);
    if (has_ca && strcmp(mode, "preferred"))
        rc |= mysql_options(m, MYSQL_OPT_SSL_CA, cfg->mysql_ssl_ca);
    if (rc)
        return lc_err(errstr, errlen, "mysql.ssl_mode %s: not supported by the client library",
                      mode);
    return 0;
}

static int apply_options(MYSQL *m, const lc_config_t *cfg, char *errstr, size_t errlen)
{
    unsigned timeout = cfg->mysql_connect_timeout_s > 0 ? (unsigned)cfg->mysql_connect_timeout_s
                                                        : 10u;
    int rc = mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    rc |= mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    rc |= mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
    rc |= mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* Explicit, so that host "localhost" with a port means TCP, as configured. */
    unsigned protocol = cfg->mysql_socket && *cfg->mysql_socket ? MYSQL_PROTOCOL_SOCKET
                                                                 : MYSQL_PROTOCOL_TCP;
    rc |= mysql_options(m, MYSQL_OPT_PROTOCOL, &protocol);
    if (rc)
        return lc_err(errstr, errlen, "mysql: cannot set connection options");
    return apply_tls_options(m, cfg, errstr, errlen);
}

/* Refuses a connection that should be encrypted but is not. */
static int check_tls_negotiated(MYSQL *m, const lc_config_t *cfg, char *errstr, size_t errlen)
{
    const char *mode = cfg->mysql_ssl_mode ? cfg->mysql_ssl_mode : "";
    bool must = !strcmp(mode, "required") || !strcmp(mode, "verify_ca") ||
                !strcmp(mode, "verify_identity");
    if (!must || mysql_get_ssl_cipher(m))
        return 0;
    char endpoint[300];
    describe_endpoint(cfg, endpoint, sizeof endpoint);
    return lc_err(errstr, errlen, "mysql %s: ssl_mode %s but the connection is not encrypted",
                  endpoint, mode);
}

static int connect_server(MYSQL *m, const lc_config_t *cfg, char *errstr, size_t errlen)
{
    bool by_socket = cfg->mysql_socket && *cfg->mysql_socket;
    const char *host = by_socket ? "localhost" : cfg->mysql_host;
    if (!mysql_real_connect(m, host, cfg->mysql_user, cfg->mysql_password, cfg->mysql_database,
                            by_socket ? 0u : (unsigned)cfg->mysql_port,
                            by_socket ? cfg->mysql_socket : NULL, 0))
        return mysql_failure(m, cfg, "", errstr, errlen);
    return check_tls_negotiated(m, cfg, errstr, errlen);
}

/* Streams every row of the result into b. NULL columns are skipped and counted. */
static int stream_rows(MYSQL *m, lc_users_builder_t *b, const lc_config_t *cfg, char *errstr,
                       size_t errlen)
{
    MYSQL_RES *res = mysql_use_result(m);
    if (!res)
        return mysql_failure(m, cfg, "reading users", errstr, errlen);
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
        rc = mysql_failure(m, cfg, "reading users", errstr, errlen);
    mysql_free_result(res);   /* drains what is left after an early stop */
    lc_users_builder_count_skipped(b, null_rows);
    return rc;
}

/* Connects and runs the SELECT into b. */
static int load_into(MYSQL *m, lc_users_builder_t *b, const lc_config_t *cfg,
                     const char *sql, char *errstr, size_t errlen)
{
    if (apply_options(m, cfg, errstr, errlen) < 0 || connect_server(m, cfg, errstr, errlen) < 0)
        return -1;
    if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0)
        return mysql_failure(m, cfg, "query", errstr, errlen);
    return stream_rows(m, b, cfg, errstr, errlen);
}

lc_users_t *lc_mysql_load_users(const lc_config_t *cfg, char *errstr, size_t errlen)
{
    char sql[SQL_MAX];
    if (build_select(cfg, sql, sizeof sql, errstr, errlen) < 0)
        return NULL;
    MYSQL *m = mysql_init(NULL);
    if (!m)
        lc_oom();   /* the connector's only failure here */
    lc_users_builder_t *b =
        lc_users_builder_new(key_field_is_integer(cfg), cfg->users_case_insensitive, 0);
    int rc = load_into(m, b, cfg, sql, errstr, errlen);
    mysql_close(m);
    if (rc < 0) {
        lc_users_builder_free(b);
        return NULL;
    }
    return lc_users_builder_finish(b, lc_wall_ms());
}
