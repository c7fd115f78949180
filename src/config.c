/*
 * config.c - the configuration: the table of keys, setting one value of it (types, ranges,
 * choices, identifiers), defaults, loading a file (the YAML walk is config_yaml.c, the
 * `schema:` list config_schema.c, the rules across keys config_rules.c), the options derived
 * from several keys, and freeing. `--check-config`'s dump (lc_config_dump) and `--help`'s
 * table of keys (lc_config_describe) are in config_dump.c; what they share is in
 * config_internal.h.
 *
 * Each key's row names where its value goes: a field of one module's option struct inside
 * lc_config_t. Names are dotted ("batch.max_records"): a name that is a proper prefix of
 * table names is a section (a mapping); kafka.consumer / kafka.producer are free-form maps
 * passed through to librdkafka.
 *
 * Every error is "FILE:LINE: message". Values that may be secret are never echoed in a
 * message. Memory: allocation failure aborts (lc_common.h).
 */
#include "config_internal.h"

#include "lc_text.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_MAX_BYTES (16u << 20)     /* a configuration file larger than this is refused */
#define IDENT_MAX 64                     /* MySQL refuses longer table and column names */

/* Enum fields of the options are written through an int lvalue. */
_Static_assert(sizeof(lc_delivery_t) == sizeof(int), "lc_delivery_t must be int-sized");
_Static_assert(sizeof(lc_status_t) == sizeof(int), "lc_status_t must be int-sized");
_Static_assert(sizeof(lc_mysql_ssl_mode_t) == sizeof(int), "lc_mysql_ssl_mode_t must be int-sized");
_Static_assert(sizeof(lc_log_level_t) == sizeof(int), "lc_log_level_t must be int-sized");
_Static_assert(sizeof(lc_group_protocol_t) == sizeof(int), "lc_group_protocol_t must be int-sized");

/* ------------------------------------------------------------------------------------ */
/* The table of keys                                                                      */

/* Choices listed in the order --help shows them, when that is not the enum's order. */
static const char *const unknown_choices[] = {"suspicious", "good", "bad", NULL};
static const int unknown_values[] = {LC_STATUS_SUSPICIOUS, LC_STATUS_GOOD, LC_STATUS_BAD};

/* Each key's value goes where the module that uses it reads it: an offset into lc_config_t
 * (usually inside one of its option structs). */
#define OFF(field) offsetof(lc_config_t, field)
#define STR(n, f, d, fl, ds) \
    {.name = n, .kind = K_STRING, .def = d, .flags = fl, .off = OFF(f), .desc = ds}
#define INT(n, f, d, lo, hi, ds) \
    {.name = n, .kind = K_INT, .def = d, .min = lo, .max = hi, .off = OFF(f), .desc = ds}
#define SIZE(n, f, d, lo, hi, ds) \
    {.name = n, .kind = K_SIZE, .def = d, .min = lo, .max = hi, .off = OFF(f), .desc = ds}
#define BOOL(n, f, d, ds) {.name = n, .kind = K_BOOL, .def = d, .off = OFF(f), .desc = ds}
#define ENUM(n, f, d, ch, vals, ds) \
    {.name = n, .kind = K_ENUM, .def = d, .choices = ch, .values = vals, .off = OFF(f), .desc = ds}
#define PROPS(n, f, cnt, ds) \
    {.name = n, .kind = K_PROPS, .off = OFF(f), .count_off = OFF(cnt), .desc = ds}
#define SECTION(n, f, ds) {.name = n, .kind = K_SECTION, .off = OFF(f), .desc = ds}

/* Keys of one section stay together: the dump opens each section once. */
const key_def_t lc_config_keys[] = {
    STR("kafka.brokers", kafka.brokers, "127.0.0.1:9092", F_NONEMPTY,
        "Bootstrap brokers, comma-separated host:port."),
    STR("kafka.group_id", kafka.group_id, "logclassify", F_NONEMPTY,
        "Consumer group; instances with the same group share the input partitions."),
    STR("kafka.input_topic", kafka.input_topic, "server-logs", F_NONEMPTY,
        "Topic the JSON log records are read from."),
    STR("kafka.output_topic", kafka.output_topic, "server-logs-status", F_NONEMPTY,
        "Topic the classified records are written to."),
    STR("kafka.transactional_id", kafka.transactional_id, "logclassify-1", F_NONEMPTY,
        "Transactional id for delivery exactly_once; unique per instance."),
    INT("kafka.startup_timeout_s", kafka.startup_timeout_s, "30", 1, 3600,
        "Seconds to wait for the brokers at start before exiting with status 3."),
    ENUM("kafka.group_protocol", kafka.group_protocol, "classic", lc_group_protocol_names, NULL,
         "How the group shares the partitions: classic (the members assign, cooperative-sticky) "
         "or consumer (KIP-848: the broker assigns; Kafka 4.0+ brokers)."),
    PROPS("kafka.consumer", kafka.consumer_props, kafka.n_consumer_props,
          "librdkafka consumer properties, passed through unchanged (TLS, SASL, tuning)."),
    PROPS("kafka.producer", kafka.producer_props, kafka.n_producer_props,
          "librdkafka producer properties, passed through unchanged (TLS, SASL, tuning)."),
    SECTION("kafka.aws_iam", kafka.aws_iam,
            "Amazon MSK IAM access control: when present, both clients log in with SASL_SSL "
            "and OAUTHBEARER, with AWS-signed tokens from the standard credential sources "
            "(CONTRACT section 7)."),
    STR("kafka.aws_iam.region", kafka.aws.region, "", F_REQUIRED,
        "AWS region of the MSK cluster, e.g. eu-west-1."),
    STR("kafka.aws_iam.profile", kafka.aws.profile, "", 0,
        "Profile in the shared credentials and config files (\"\" = $AWS_PROFILE, else "
        "default); naming one skips the environment's keys."),
    STR("kafka.aws_iam.role_arn", kafka.aws.role_arn, "", 0,
        "IAM role to assume (STS AssumeRole) with the credentials found (\"\" = none)."),
    STR("kafka.aws_iam.role_session_name", kafka.aws.role_session_name, "logclassify", 0,
        "Session name of the assumed role, with role_arn (2 to 64 of A-Z a-z 0-9 + = , . @ _ -)."),
    ENUM("delivery", pipeline.delivery, "at_least_once", lc_delivery_names, NULL,
         "at_least_once: commit after the outputs are acknowledged; exactly_once: one "
         "Kafka transaction per batch."),
    INT("batch.max_records", pipeline.batch_max_records, "10000", 1, 1000000,
        "Most records in one micro-batch."),
    INT("batch.max_wait_ms", pipeline.batch_max_wait_ms, "50", 0, 60000,
        "Longest wait for a micro-batch to fill, in milliseconds."),
    INT("batch.commit_interval_ms", pipeline.commit_interval_ms, "100", 0, 60000,
        "at_least_once: commit acknowledged offsets at most this often, in milliseconds "
        "(0 = after every batch)."),
    SIZE("input.max_record_bytes", classify.max_record_bytes, "1048576", 1, 104857600,
         "Longer records are labelled bad (too_large) without being parsed."),
    STR("output.status_field", classify.status_field, "status", F_NONEMPTY,
        "Member added to each output record for the label."),
    STR("output.reasons_field", classify.reasons_field, "reasons", F_NONEMPTY,
        "Member added to each output record for the reason codes (differs from status_field)."),
    STR("mysql.host", mysql.host, "127.0.0.1", 0, "MySQL/MariaDB host name or address."),
    INT("mysql.port", mysql.port, "3306", 1, 65535, "MySQL/MariaDB TCP port."),
    STR("mysql.socket", mysql.socket, "", 0,
        "Unix socket path; when set it is used instead of host and port."),
    STR("mysql.user", mysql.user, "logclassify", F_NONEMPTY, "MySQL user name."),
    {.name = "mysql.password", .kind = K_STRING, .def = "", .flags = F_SECRET,
     .off = OFF(mysql.password), .desc = "MySQL password (secret: masked, never logged)."},
    STR("mysql.password_file", password_file, "", 0,
        "File holding the password (trailing newline dropped); excludes mysql.password."),
    STR("mysql.database", mysql.database, "dim_users", F_NONEMPTY,
        "Database that holds the users table."),
    ENUM("mysql.ssl_mode", mysql.ssl_mode, "preferred", lc_mysql_ssl_mode_names, NULL,
         "TLS to MySQL."),
    STR("mysql.ssl_ca", mysql.ssl_ca, "", 0,
        "CA certificate file (PEM) for verify_ca and verify_identity."),
    INT("mysql.connect_timeout_s", mysql.connect_timeout_s, "5", 1, 300,
        "Seconds to wait for one connection attempt."),
    STR("users.table", mysql.table, "users", F_IDENT, "Users table ([A-Za-z0-9_]+)."),
    STR("users.key_column", mysql.key_column, "account_no", F_IDENT,
        "Column holding the account ([A-Za-z0-9_]+)."),
    STR("users.value_column", mysql.value_column, "user_device", F_IDENT,
        "Column holding the device ([A-Za-z0-9_]+)."),
    STR("users.key_field", classify.key_field, "account_id", F_NONEMPTY,
        "Record field looked up in key_column."),
    STR("users.value_field", classify.value_field, "device", F_NONEMPTY,
        "Record field compared with value_column."),
    INT("users.refresh_interval_s", users.refresh_interval_s, "60", 1, 86400,
        "Seconds between background reloads of the users table."),
    INT("users.startup_timeout_s", users.startup_timeout_s, "60", 0, 3600,
        "Seconds to wait for MySQL at start before exiting with status 3."),
    STR("users.snapshot_path", users.snapshot_path, "", 0,
        "Snapshot file written after every load, used when MySQL is down at start (\"\" = off)."),
    ENUM("users.unknown_account", classify.unknown_account_status, "suspicious", unknown_choices,
         unknown_values, "Label of a record whose account is not in the users table."),
    BOOL("users.case_insensitive", users.case_insensitive, "true",
         "Compare devices ignoring ASCII case."),
    STR("metrics.listen", metrics_listen, "127.0.0.1:9108", F_HOSTPORT,
        "host:port of the /metrics and /healthz endpoint (\"\" = off)."),
    ENUM("log.level", log_level, "info", lc_log_level_names, NULL, "Least severe level logged."),
    INT("log.stats_interval_s", stats_interval_s, "10", 0, 3600,
        "Seconds between statistics log lines (0 = off)."),
    {.name = "schema", .kind = K_SCHEMA, .off = OFF(fields), .count_off = OFF(nfields),
     .desc = "Record fields and their checks; without it the default schema applies."},
};

const size_t lc_config_nkeys = LC_ARRAY_SIZE(lc_config_keys);

/* ------------------------------------------------------------------------------------ */
/* Small helpers                                                                          */

int lc_config_fail(ctx_t *x, int line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        return lc_err(x->errstr, x->errlen, "%s:%d: %s", x->name, line, msg);
    return lc_err(x->errstr, x->errlen, "%s: %s", x->name, msg);
}

static void *field_ptr(lc_config_t *c, size_t off)
{
    return (char *)c + off;
}

const key_def_t *lc_config_find_key(const char *name)
{
    for (size_t i = 0; i < lc_config_nkeys; i++)
        if (strcmp(lc_config_keys[i].name, name) == 0)
            return &lc_config_keys[i];
    return NULL;
}

int lc_config_key_line(const ctx_t *x, const char *name)
{
    const key_def_t *k = lc_config_find_key(name);
    return k ? x->set_line[k - lc_config_keys] : 0;
}

void lc_config_join_choices(const char *const *ch, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; ch[i] && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", ch[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int lc_config_parse_ll(const char *s, long long *out)
{
    bool neg = *s == '-';
    const char *p = s + (*s == '+' || *s == '-');
    size_t n = strlen(p);
    if (n == 0 || strspn(p, "0123456789") != n)
        return -1;
    while (n > 1 && *p == '0') {   /* any number of leading zeros */
        p++;
        n--;
    }
    char digits[24];
    if (n > 19)
        return 1;
    snprintf(digits, sizeof(digits), "%s%s", neg ? "-" : "", p);
    int64_t v;
    if (!lc_text_parse_int64(digits, strlen(digits), false, &v))
        return 1;
    *out = v;
    return 0;
}

int lc_config_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* "host:port", "[v6addr]:port"; port 1..65535. */
static bool is_hostport(const char *s)
{
    const char *colon;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close == s + 1 || close[1] != ':')
            return false;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || colon == s)
            return false;
        for (const char *p = s; p < colon; p++)
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
                return false;
    }
    long long port;
    if (colon[1] == '+' || colon[1] == '-' || lc_config_parse_ll(colon + 1, &port) != 0)
        return false;
    return port >= 1 && port <= 65535;
}

int lc_config_read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno;
    lc_buf_t b = {0};
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + n > max) {
            rc = EFBIG;
            break;
        }
        lc_buf_append(&b, chunk, n);
    }
    if (!rc && ferror(f))
        rc = errno ? errno : EIO;
    fclose(f);
    if (rc) {
        lc_buf_free(&b);
        return rc;
    }
    *len = b.len;
    lc_buf_putc(&b, '\0');
    *out = b.data;
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Setting one value of the table                                                         */

static int check_string(ctx_t *x, const key_def_t *k, const char *v, int line)
{
    if ((k->flags & (F_NONEMPTY | F_IDENT)) && !*v)
        return lc_config_fail(x, line, "%s: must not be empty", k->name);
    if ((k->flags & F_IDENT) && !lc_text_is_identifier(v))
        return lc_config_fail(x, line,
                              "%s: '%s' is not a valid identifier (letters, digits and _ only)",
                              k->name, v);
    if ((k->flags & F_IDENT) && strlen(v) > IDENT_MAX)
        return lc_config_fail(x, line, "%s: '%s' is longer than %d characters (MySQL's limit)",
                              k->name, v, IDENT_MAX);
    if ((k->flags & F_HOSTPORT) && *v && !is_hostport(v))
        return lc_config_fail(x, line, "%s: expected host:port (port 1..65535) or \"\", got '%s'",
                              k->name, v);
    return 0;
}

static int set_number(ctx_t *x, const key_def_t *k, const char *v, int line)
{
    long long n = 0;
    int rc = lc_config_parse_ll(v, &n);
    if (rc < 0)
        return lc_config_fail(x, line, "%s: expected an integer, got '%s'", k->name, v);
    if (rc > 0 || n < k->min || n > k->max)
        return lc_config_fail(x, line, "%s: %s is out of range (%lld..%lld)", k->name, v, k->min,
                              k->max);
    if (k->kind == K_INT)
        *(int *)field_ptr(x->c, k->off) = (int)n;
    else
        *(size_t *)field_ptr(x->c, k->off) = (size_t)n;
    return 0;
}

static int set_enum(ctx_t *x, const key_def_t *k, const char *v, int line)
{
    for (size_t i = 0; k->choices[i]; i++) {
        if (strcasecmp(v, k->choices[i]) != 0)
            continue;
        *(int *)field_ptr(x->c, k->off) = k->values ? k->values[i] : (int)i;
        return 0;
    }
    char list[256];
    lc_config_join_choices(k->choices, list, sizeof(list));
    return lc_config_fail(x, line, "%s: expected one of %s, got '%s'", k->name, list, v);
}

int lc_config_set_scalar(ctx_t *x, const key_def_t *k, const char *v, int line)
{
    switch (k->kind) {
    case K_STRING: {
        if (check_string(x, k, v, line) < 0)
            return -1;
        const char **p = field_ptr(x->c, k->off);
        free((char *)*p);
        *p = lc_xstrdup(v);
        return 0;
    }
    case K_INT:
    case K_SIZE:
        return set_number(x, k, v, line);
    case K_BOOL: {
        bool b;
        if (lc_config_parse_bool(v, &b) < 0)
            return lc_config_fail(x, line, "%s: expected true or false, got '%s'", k->name, v);
        *(bool *)field_ptr(x->c, k->off) = b;
        return 0;
    }
    case K_ENUM:
        return set_enum(x, k, v, line);
    default:
        return lc_config_fail(x, line, "%s: not a single value", k->name);
    }
}

static int apply_defaults(ctx_t *x)
{
    for (size_t i = 0; i < lc_config_nkeys; i++) {
        const key_def_t *k = &lc_config_keys[i];
        if (k->def && lc_config_set_scalar(x, k, k->def, 0) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Pass-through properties                                                                */

static const lc_kafka_prop_t *props_find(const lc_kafka_prop_t *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return &kv[i];
    return NULL;
}

int lc_config_add_prop(ctx_t *x, const key_def_t *k, const char *pkey, const yaml_node_t *kn,
                       const yaml_node_t *vn)
{
    const lc_kafka_prop_t **arr = field_ptr(x->c, k->off);
    size_t *n = field_ptr(x->c, k->count_off);
    char label[320];
    snprintf(label, sizeof(label), "%s.%s", k->name, pkey);
    if (!*pkey)
        return lc_config_fail(x, line_of(kn), "%s: empty property name", k->name);
    const lc_kafka_prop_t *old = props_find(*arr, *n, pkey);
    if (old)
        return lc_config_fail(x, line_of(kn), "duplicate key '%s' (first at line %d)", label,
                              old->line);
    char *v;
    if (lc_config_yaml_scalar(x, label, vn, line_of(kn), &v) < 0)
        return -1;
    lc_kafka_prop_t *grown = lc_xrealloc((void *)*arr, *n + 1, sizeof(**arr));
    grown[*n] = (lc_kafka_prop_t){.key = lc_xstrdup(pkey), .value = v, .line = line_of(kn)};
    *arr = grown;
    (*n)++;
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* After the file: the rules across keys, the schema, the options derived from both      */

/* Whether users.key_field is an integer field: decided once, here (CONTRACT §2.2). */
static bool key_field_is_integer(const lc_config_t *c)
{
    int i = lc_schema_field_index(c->schema, c->classify.key_field);
    return i >= 0 && lc_schema_field_type(c->schema, (size_t)i) == LC_FT_INTEGER;
}

/* Fills the option fields that come from other keys. */
static void derive_options(lc_config_t *c)
{
    c->classify.schema = c->schema;
    c->users.int_keys = key_field_is_integer(c);
    c->mysql.int_keys = c->users.int_keys;
    c->mysql.case_insensitive = c->users.case_insensitive;
    c->kafka.config_path = c->path;
    c->kafka.transactional = c->pipeline.delivery == LC_DELIVERY_EXACTLY_ONCE;
    c->kafka.max_record_bytes = c->classify.max_record_bytes;
}

size_t lc_config_section_end(size_t i)
{
    const char *name = lc_config_keys[i].name;
    size_t n = strlen(name), j = i + 1;
    while (j < lc_config_nkeys && strncmp(lc_config_keys[j].name, name, n) == 0 &&
           lc_config_keys[j].name[n] == '.')
        j++;
    return j;
}

/* A section is there when the file opened it or set a key below it in dotted form; its
 * line is then the earliest of those. */
static void mark_sections(ctx_t *x)
{
    for (size_t i = 0; i < lc_config_nkeys; i++) {
        const key_def_t *k = &lc_config_keys[i];
        if (k->kind != K_SECTION)
            continue;
        if (!x->set_line[i]) {
            for (size_t j = i + 1; j < lc_config_section_end(i); j++)
                if (x->set_line[j] && (!x->set_line[i] || x->set_line[j] < x->set_line[i]))
                    x->set_line[i] = x->set_line[j];
        }
        *(bool *)field_ptr(x->c, k->off) = x->set_line[i] != 0;
    }
}

static int finish(ctx_t *x)
{
    mark_sections(x);
    if (lc_config_rules_check(x) < 0)
        return -1;
    if (!lc_config_key_line(x, "schema"))
        lc_config_schema_default(x->c);
    if (lc_config_schema_compile(x) < 0)
        return -1;
    derive_options(x->c);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Loading                                                                                */

static lc_config_t *load(const char *yaml, size_t len, const char *name, char *errstr,
                         size_t errlen)
{
    lc_config_t *c = lc_xcalloc(1, sizeof(*c));
    c->path = lc_xstrdup(name);
    ctx_t x = {.name = name, .c = c, .errstr = errstr, .errlen = errlen,
               .set_line = lc_xcalloc(lc_config_nkeys, sizeof(*x.set_line))};
    if (apply_defaults(&x) < 0 || lc_config_yaml_parse(&x, yaml, len) < 0 || finish(&x) < 0) {
        lc_config_free(c);
        c = NULL;
    }
    free(x.set_line);
    return c;
}

lc_config_t *lc_config_load_string(const char *yaml, const char *name, char *errstr,
                                   size_t errlen)
{
    return load(yaml, strlen(yaml), name ? name : "<string>", errstr, errlen);
}

lc_config_t *lc_config_load(const char *path, char *errstr, size_t errlen)
{
    char *buf;
    size_t len;
    int err = lc_config_read_file(path, CONFIG_MAX_BYTES, &buf, &len);
    if (err) {
        lc_err(errstr, errlen, "%s: cannot read: %s", path,
               err == EFBIG ? "file too large" : strerror(err));
        return NULL;
    }
    lc_config_t *c = load(buf, len, path, errstr, errlen);
    free(buf);
    return c;
}

lc_config_t *lc_config_defaults(char *errstr, size_t errlen)
{
    return load("", 0, "<defaults>", errstr, errlen);
}

static void free_props(const lc_kafka_prop_t *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)kv[i].key);
        free((char *)kv[i].value);
    }
    free((void *)kv);
}

void lc_config_free(lc_config_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < lc_config_nkeys; i++) {
        const key_def_t *k = &lc_config_keys[i];
        if (k->kind == K_STRING)
            free((char *)*(const char **)field_ptr(c, k->off));
    }
    free_props(c->kafka.consumer_props, c->kafka.n_consumer_props);
    free_props(c->kafka.producer_props, c->kafka.n_producer_props);
    lc_config_schema_free_fields(c->fields, c->nfields);
    lc_schema_free(c->schema);
    free(c->path);
    free(c);
}
