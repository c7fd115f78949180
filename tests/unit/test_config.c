/*
 * test_config.c - the configuration: defaults, every value type and its errors with exact
 * "FILE:LINE: message" texts, environment substitution, pass-through properties, the
 * password file, the schema list, the dump (secrets masked), and the files under conf/.
 *
 * The conf/ tests look for the directory from the working directory (the repository root
 * under `make`), or in LC_SOURCE_DIR when set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_config.h"

/* ---------------------------------------------------------------------------------- */
/* Helpers                                                                              */

static lc_config_t *load_ok(const char *yaml)
{
    char err[1024] = "";
    lc_config_t *c = lc_config_load_string(yaml, "t.yaml", err, sizeof(err));
    if (!c)
        fail_msg("unexpected error: %s\n--- yaml:\n%s", err, yaml);
    return c;
}

static void expect_err(const char *yaml, const char *want)
{
    char err[1024] = "";
    lc_config_t *c = lc_config_load_string(yaml, "t.yaml", err, sizeof(err));
    if (c) {
        lc_config_free(c);
        fail_msg("loaded, but expected: %s\n--- yaml:\n%s", want, yaml);
    }
    if (strcmp(err, want) != 0)
        fail_msg("wrong error\n  got:  %s\n  want: %s\n--- yaml:\n%s", err, want, yaml);
}

/* Fails with the message in err (no exact text). Returns the message's line. */
static int err_line(const char *yaml, char *err, size_t errlen)
{
    lc_config_t *c = lc_config_load_string(yaml, "t.yaml", err, errlen);
    if (c) {
        lc_config_free(c);
        fail_msg("loaded, but expected an error\n--- yaml:\n%s", yaml);
    }
    if (strncmp(err, "t.yaml:", 7) != 0)
        fail_msg("error does not start with 't.yaml:': %s", err);
    return atoi(err + 7);
}

typedef struct err_case {
    const char *yaml;
    const char *err;
} err_case_t;

static void run_err_cases(const err_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_err(cases[i].yaml, cases[i].err);
}

static char *dump_str(const lc_config_t *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    lc_config_dump(c, f);
    fclose(f);
    return buf;
}

static char *describe_str(bool md)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    lc_config_describe(f, md);
    fclose(f);
    return buf;
}

/* Every dotted key of the table, as documented in CONTRACT/README. */
static const char *const all_keys[] = {
    "kafka.brokers", "kafka.group_id", "kafka.input_topic", "kafka.output_topic",
    "kafka.transactional_id", "kafka.startup_timeout_s", "kafka.group_protocol",
    "kafka.consumer", "kafka.producer", "kafka.aws_iam", "kafka.aws_iam.region",
    "kafka.aws_iam.profile", "kafka.aws_iam.role_arn", "kafka.aws_iam.role_session_name",
    "delivery", "batch.max_records", "batch.max_wait_ms", "input.max_record_bytes",
    "output.status_field", "output.reasons_field", "mysql.host", "mysql.port", "mysql.socket",
    "mysql.user", "mysql.password", "mysql.password_file", "mysql.database", "mysql.ssl_mode",
    "mysql.ssl_ca", "mysql.connect_timeout_s", "users.table", "users.key_column",
    "users.value_column", "users.key_field", "users.value_field", "users.refresh_interval_s",
    "users.startup_timeout_s", "users.snapshot_path", "users.unknown_account",
    "users.case_insensitive", "metrics.listen", "log.level", "log.stats_interval_s", "schema",
};

/* ---------------------------------------------------------------------------------- */
/* Defaults                                                                             */

static void check_default_values(const lc_config_t *c)
{
    assert_string_equal(c->kafka.brokers, "127.0.0.1:9092");
    assert_string_equal(c->kafka.group_id, "logclassify");
    assert_string_equal(c->kafka.input_topic, "server-logs");
    assert_string_equal(c->kafka.output_topic, "server-logs-status");
    assert_string_equal(c->kafka.transactional_id, "logclassify-1");
    assert_int_equal(c->kafka.startup_timeout_s, 30);
    assert_int_equal(c->kafka.group_protocol, LC_GROUP_PROTOCOL_CLASSIC);
    assert_int_equal(c->kafka.n_consumer_props, 0);
    assert_int_equal(c->kafka.n_producer_props, 0);
    assert_int_equal(c->pipeline.delivery, LC_DELIVERY_AT_LEAST_ONCE);
    assert_int_equal(c->pipeline.batch_max_records, 10000);
    assert_int_equal(c->pipeline.batch_max_wait_ms, 50);
    assert_int_equal(c->pipeline.commit_interval_ms, 100);
    assert_true(c->classify.max_record_bytes == 1048576);
    assert_string_equal(c->classify.status_field, "status");
    assert_string_equal(c->classify.reasons_field, "reasons");
    assert_string_equal(c->mysql.host, "127.0.0.1");
    assert_int_equal(c->mysql.port, 3306);
    assert_string_equal(c->mysql.socket, "");
    assert_string_equal(c->mysql.user, "logclassify");
    assert_string_equal(c->mysql.password, "");
    assert_string_equal(c->password_file, "");
    assert_string_equal(c->mysql.database, "dim_users");
    assert_int_equal(c->mysql.ssl_mode, LC_MYSQL_SSL_PREFERRED);
    assert_string_equal(c->mysql.ssl_ca, "");
    assert_int_equal(c->mysql.connect_timeout_s, 5);
    assert_string_equal(c->mysql.table, "users");
    assert_string_equal(c->mysql.key_column, "account_no");
    assert_string_equal(c->mysql.value_column, "user_device");
    assert_string_equal(c->classify.key_field, "account_id");
    assert_string_equal(c->classify.value_field, "device");
    assert_int_equal(c->users.refresh_interval_s, 60);
    assert_int_equal(c->users.startup_timeout_s, 60);
    assert_string_equal(c->users.snapshot_path, "");
    assert_int_equal(c->classify.unknown_account_status, LC_STATUS_SUSPICIOUS);
    assert_true(c->users.case_insensitive);
    assert_string_equal(c->metrics_listen, "127.0.0.1:9108");
    assert_int_equal(c->log_level, LC_LOG_INFO);
    assert_int_equal(c->stats_interval_s, 10);
}

static void check_default_schema(const lc_config_t *c)
{
    static const struct {
        const char *name;
        lc_field_type_t type;
    } want[] = {
        {"event_id", LC_FT_STRING},       {"account_id", LC_FT_INTEGER},
        {"event_type", LC_FT_STRING},     {"device", LC_FT_STRING},
        {"location_country", LC_FT_STRING}, {"event_timestamp", LC_FT_TIMESTAMP},
    };
    assert_int_equal(c->nfields, 6);
    assert_non_null(c->schema);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(c->fields[i].name, want[i].name);
        assert_int_equal(c->fields[i].type, want[i].type);
        assert_true(c->fields[i].required);
        assert_true(c->fields[i].max_length == -1);
        assert_int_equal(c->fields[i].n_enum, 0);
        assert_null(c->fields[i].pattern);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    char err[256] = "";
    lc_config_t *c = lc_config_defaults(err, sizeof(err));
    if (!c)
        fail_msg("defaults: %s", err);
    check_default_values(c);
    check_default_schema(c);
    lc_config_free(c);
}

/* An empty file, a comment-only file, null sections and lc_config_defaults agree. */
static void test_empty_equals_defaults(void **state)
{
    (void)state;
    char err[256];
    lc_config_t *d = lc_config_defaults(err, sizeof(err));
    assert_non_null(d);
    free(d->path);
    d->path = strdup("t.yaml");
    char *want = dump_str(d);
    static const char *const empties[] = {
        "", "# only a comment\n", "---\n", "kafka:\nbatch:\nusers: ~\n",
        "kafka:\n  consumer:\n    # commented out\n  producer: {}\n",
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(empties); i++) {
        lc_config_t *c = load_ok(empties[i]);
        check_default_values(c);
        check_default_schema(c);
        char *got = dump_str(c);
        assert_string_equal(got, want);
        free(got);
        lc_config_free(c);
    }
    free(want);
    lc_config_free(d);
}

/* ---------------------------------------------------------------------------------- */
/* Values                                                                               */

/* The consumer group protocol needs librdkafka 2.12 or newer: not LIBRDKAFKA=system's 2.0.2. */
static bool consumer_protocol_available(void)
{
    return rd_kafka_version() >= 0x020c0000;
}

static void test_every_key_set(void **state)
{
    (void)state;
    const char *gp = consumer_protocol_available() ? "consumer" : "classic";
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
        "kafka:\n"
        "  brokers: b1:9092,b2:9092\n"
        "  group_id: g\n"
        "  input_topic: in\n"
        "  output_topic: out\n"
        "  transactional_id: tx-7\n"
        "  startup_timeout_s: 3600\n"
        "  group_protocol: %s\n"
        "delivery: exactly_once\n"
        "batch: {max_records: 1, max_wait_ms: 0}\n"
        "input.max_record_bytes: 104857600\n"
        "output:\n"
        "  status_field: label\n"
        "  reasons_field: why\n"
        "mysql:\n"
        "  host: db\n"
        "  port: 65535\n"
        "  socket: /run/mysqld/mysqld.sock\n"
        "  user: u\n"
        "  password: pw\n"
        "  database: d\n"
        "  ssl_mode: verify_identity\n"
        "  ssl_ca: /etc/ca.pem\n"
        "  connect_timeout_s: 300\n"
        "users:\n"
        "  table: Users_2\n"
        "  key_column: acc\n"
        "  value_column: dev\n"
        "  key_field: acct\n"
        "  value_field: dv\n"
        "  refresh_interval_s: 86400\n"
        "  startup_timeout_s: 0\n"
        "  snapshot_path: /var/lib/logclassify/users.snap\n"
        "  unknown_account: bad\n"
        "  case_insensitive: off\n"
        "metrics: {listen: ''}\n"
        "log:\n"
        "  level: debug\n"
        "  stats_interval_s: 0\n", gp);
    lc_config_t *c = load_ok(yaml);
    assert_string_equal(c->kafka.brokers, "b1:9092,b2:9092");
    assert_string_equal(c->kafka.group_id, "g");
    assert_string_equal(c->kafka.input_topic, "in");
    assert_string_equal(c->kafka.output_topic, "out");
    assert_string_equal(c->kafka.transactional_id, "tx-7");
    assert_int_equal(c->kafka.startup_timeout_s, 3600);
    assert_int_equal(c->kafka.group_protocol, consumer_protocol_available()
                                                  ? LC_GROUP_PROTOCOL_CONSUMER
                                                  : LC_GROUP_PROTOCOL_CLASSIC);
    assert_int_equal(c->pipeline.delivery, LC_DELIVERY_EXACTLY_ONCE);
    assert_int_equal(c->pipeline.batch_max_records, 1);
    assert_int_equal(c->pipeline.batch_max_wait_ms, 0);
    assert_true(c->classify.max_record_bytes == 104857600);
    assert_string_equal(c->classify.status_field, "label");
    assert_string_equal(c->classify.reasons_field, "why");
    assert_string_equal(c->mysql.host, "db");
    assert_int_equal(c->mysql.port, 65535);
    assert_string_equal(c->mysql.socket, "/run/mysqld/mysqld.sock");
    assert_string_equal(c->mysql.user, "u");
    assert_string_equal(c->mysql.password, "pw");
    assert_string_equal(c->mysql.database, "d");
    assert_int_equal(c->mysql.ssl_mode, LC_MYSQL_SSL_VERIFY_IDENTITY);
    assert_string_equal(c->mysql.ssl_ca, "/etc/ca.pem");
    assert_int_equal(c->mysql.connect_timeout_s, 300);
    assert_string_equal(c->mysql.table, "Users_2");
    assert_string_equal(c->mysql.key_column, "acc");
    assert_string_equal(c->mysql.value_column, "dev");
    assert_string_equal(c->classify.key_field, "acct");
    assert_string_equal(c->classify.value_field, "dv");
    assert_int_equal(c->users.refresh_interval_s, 86400);
    assert_int_equal(c->users.startup_timeout_s, 0);
    assert_string_equal(c->users.snapshot_path, "/var/lib/logclassify/users.snap");
    assert_int_equal(c->classify.unknown_account_status, LC_STATUS_BAD);
    assert_false(c->users.case_insensitive);
    assert_string_equal(c->metrics_listen, "");
    assert_int_equal(c->log_level, LC_LOG_DEBUG);
    assert_int_equal(c->stats_interval_s, 0);
    lc_config_free(c);
}

static void test_integers(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        int want;
    } ok[] = {
        {"batch: {max_records: +5}", 5},     {"batch: {max_records: '7'}", 7},
        {"batch: {max_records: 007}", 7},    {"batch: {max_records: 1000000}", 1000000},
        {"batch.max_records: \"42\"", 42},
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(ok); i++) {
        lc_config_t *c = load_ok(ok[i].yaml);
        assert_int_equal(c->pipeline.batch_max_records, ok[i].want);
        lc_config_free(c);
    }
    lc_config_t *c = load_ok("batch:\n  max_wait_ms: -0\n");
    assert_int_equal(c->pipeline.batch_max_wait_ms, 0);
    lc_config_free(c);

    static const err_case_t bad[] = {
        {"batch:\n  max_records: abc\n", "t.yaml:2: batch.max_records: expected an integer, got 'abc'"},
        {"batch:\n  max_records: 0x10\n", "t.yaml:2: batch.max_records: expected an integer, got '0x10'"},
        {"batch:\n  max_records: 1.5\n", "t.yaml:2: batch.max_records: expected an integer, got '1.5'"},
        {"batch:\n  max_records: 1e3\n", "t.yaml:2: batch.max_records: expected an integer, got '1e3'"},
        {"batch:\n  max_records: 10k\n", "t.yaml:2: batch.max_records: expected an integer, got '10k'"},
        {"batch:\n  max_records: '10 '\n", "t.yaml:2: batch.max_records: expected an integer, got '10 '"},
        {"batch:\n  max_records: ' 10'\n", "t.yaml:2: batch.max_records: expected an integer, got ' 10'"},
        {"batch:\n  max_records: \n", "t.yaml:2: batch.max_records: expected an integer, got ''"},
        {"batch:\n  max_records: '-'\n", "t.yaml:2: batch.max_records: expected an integer, got '-'"},
        {"batch:\n  max_records: 0\n", "t.yaml:2: batch.max_records: 0 is out of range (1..1000000)"},
        {"batch:\n  max_records: 1000001\n", "t.yaml:2: batch.max_records: 1000001 is out of range (1..1000000)"},
        {"batch:\n  max_records: -5\n", "t.yaml:2: batch.max_records: -5 is out of range (1..1000000)"},
        {"batch:\n  max_records: 99999999999999999999\n",
         "t.yaml:2: batch.max_records: 99999999999999999999 is out of range (1..1000000)"},
        {"batch:\n  max_wait_ms: 60001\n", "t.yaml:2: batch.max_wait_ms: 60001 is out of range (0..60000)"},
        {"kafka:\n\n  startup_timeout_s: 0\n", "t.yaml:3: kafka.startup_timeout_s: 0 is out of range (1..3600)"},
        {"input:\n  max_record_bytes: 104857601\n",
         "t.yaml:2: input.max_record_bytes: 104857601 is out of range (1..104857600)"},
        {"mysql:\n  port: 0\n", "t.yaml:2: mysql.port: 0 is out of range (1..65535)"},
        {"mysql:\n  port: 65536\n", "t.yaml:2: mysql.port: 65536 is out of range (1..65535)"},
        {"mysql:\n  connect_timeout_s: 301\n", "t.yaml:2: mysql.connect_timeout_s: 301 is out of range (1..300)"},
        {"users:\n  refresh_interval_s: 0\n", "t.yaml:2: users.refresh_interval_s: 0 is out of range (1..86400)"},
        {"users:\n  startup_timeout_s: 3601\n", "t.yaml:2: users.startup_timeout_s: 3601 is out of range (0..3600)"},
        {"log:\n  stats_interval_s: -1\n", "t.yaml:2: log.stats_interval_s: -1 is out of range (0..3600)"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

static void test_booleans(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool want;
    } ok[] = {
        {"true", true}, {"TRUE", true}, {"yes", true},   {"Yes", true},  {"on", true},
        {"ON", true},   {"false", false}, {"False", false}, {"no", false}, {"NO", false},
        {"off", false}, {"Off", false}, {"'off'", false},
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(ok); i++) {
        char yaml[128];
        snprintf(yaml, sizeof(yaml), "users:\n  case_insensitive: %s\n", ok[i].text);
        lc_config_t *c = load_ok(yaml);
        assert_int_equal(c->users.case_insensitive, ok[i].want);
        lc_config_free(c);
    }
    static const err_case_t bad[] = {
        {"users:\n  case_insensitive: 1\n", "t.yaml:2: users.case_insensitive: expected true or false, got '1'"},
        {"users:\n  case_insensitive: y\n", "t.yaml:2: users.case_insensitive: expected true or false, got 'y'"},
        {"users:\n  case_insensitive: truee\n", "t.yaml:2: users.case_insensitive: expected true or false, got 'truee'"},
        {"users:\n  case_insensitive:\n", "t.yaml:2: users.case_insensitive: expected true or false, got ''"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

static void test_enums(void **state)
{
    (void)state;
    lc_config_t *c = load_ok("delivery: EXACTLY_ONCE\nlog: {level: Warn}\n"
                             "users: {unknown_account: good}\nmysql: {ssl_mode: DISABLED}\n");
    assert_int_equal(c->pipeline.delivery, LC_DELIVERY_EXACTLY_ONCE);
    assert_int_equal(c->log_level, LC_LOG_WARN);
    assert_int_equal(c->classify.unknown_account_status, LC_STATUS_GOOD);
    assert_int_equal(c->mysql.ssl_mode, LC_MYSQL_SSL_DISABLED);
    lc_config_free(c);

    static const err_case_t bad[] = {
        {"delivery: at_most_once\n",
         "t.yaml:1: delivery: expected one of at_least_once, exactly_once, got 'at_most_once'"},
        {"# c\nmysql:\n  ssl_mode: on\n",
         "t.yaml:3: mysql.ssl_mode: expected one of disabled, preferred, required, verify_ca, "
         "verify_identity, got 'on'"},
        {"users:\n  unknown_account: ugly\n",
         "t.yaml:2: users.unknown_account: expected one of suspicious, good, bad, got 'ugly'"},
        {"log:\n  level: trace\n",
         "t.yaml:2: log.level: expected one of error, warn, info, debug, got 'trace'"},
        {"log:\n  level:\n", "t.yaml:2: log.level: expected one of error, warn, info, debug, got ''"},
        {"kafka.group_protocol: eager\n",
         "t.yaml:1: kafka.group_protocol: expected one of classic, consumer, got 'eager'"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

static void test_strings(void **state)
{
    (void)state;
    lc_config_t *c = load_ok("mysql:\n  socket: ~\n  ssl_ca: null\nusers:\n  snapshot_path:\n"
                             "kafka:\n  group_id: 'null'\n  input_topic: 123\n");
    assert_string_equal(c->mysql.socket, "");
    assert_string_equal(c->mysql.ssl_ca, "");
    assert_string_equal(c->users.snapshot_path, "");
    assert_string_equal(c->kafka.group_id, "null");   /* quoted: a string, not null */
    assert_string_equal(c->kafka.input_topic, "123");
    lc_config_free(c);

    static const err_case_t bad[] = {
        {"kafka:\n  brokers: ''\n", "t.yaml:2: kafka.brokers: must not be empty"},
        {"kafka:\n  brokers:\n", "t.yaml:2: kafka.brokers: must not be empty"},
        {"output:\n  status_field: \"\"\n", "t.yaml:2: output.status_field: must not be empty"},
        {"output:\n  reasons_field: status\n",
         "t.yaml:2: output.reasons_field and output.status_field must differ (both are 'status')"},
        {"output:\n  reasons_field: x\n  status_field: x\n",
         "t.yaml:3: output.reasons_field and output.status_field must differ (both are 'x')"},
        {"mysql:\n  database: \"a\\0b\"\n", "t.yaml:2: mysql.database: the value contains a NUL character"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

static void test_identifiers(void **state)
{
    (void)state;
    static const err_case_t bad[] = {
        {"users:\n  table: \"users; DROP TABLE users\"\n",
         "t.yaml:2: users.table: 'users; DROP TABLE users' is not a valid identifier (letters, "
         "digits and _ only)"},
        {"users:\n  key_column: account-no\n",
         "t.yaml:2: users.key_column: 'account-no' is not a valid identifier (letters, digits "
         "and _ only)"},
        {"users:\n  value_column: \"`dev`\"\n",
         "t.yaml:2: users.value_column: '`dev`' is not a valid identifier (letters, digits and "
         "_ only)"},
        {"users:\n  table: \"dim.users\"\n",
         "t.yaml:2: users.table: 'dim.users' is not a valid identifier (letters, digits and _ "
         "only)"},
        {"users:\n  table: ''\n", "t.yaml:2: users.table: must not be empty"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

static void test_metrics_listen(void **state)
{
    (void)state;
    static const char *const ok[] = {"''", "0.0.0.0:9108", "localhost:1", "'[::1]:9108'",
                                      "my-host.example:65535"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(ok); i++) {
        char yaml[128];
        snprintf(yaml, sizeof(yaml), "metrics:\n  listen: %s\n", ok[i]);
        lc_config_free(load_ok(yaml));
    }
    static const char *const bad[] = {"9108", "':9108'", "'h:'", "h:0", "h:65536", "h:+80",
                                      "'[::1]9108'", "'[]:80'", "'a b:80'", "'h:80x'"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(bad); i++) {
        char yaml[128], err[512];
        snprintf(yaml, sizeof(yaml), "metrics:\n  listen: %s\n", bad[i]);
        assert_int_equal(err_line(yaml, err, sizeof(err)), 2);
        assert_non_null(strstr(err, "metrics.listen: expected host:port"));
    }
}

/* ---------------------------------------------------------------------------------- */
/* Structure                                                                            */

static void test_structure_errors(void **state)
{
    (void)state;
    static const err_case_t bad[] = {
        {"kafka: 5\n", "t.yaml:1: kafka: expected a mapping, got a scalar"},
        {"delivery: at_least_once\nbatch:\n  - 1\n", "t.yaml:2: batch: expected a mapping, got a list"},
        {"batch:\n  max_records:\n    a: 1\n",
         "t.yaml:2: batch.max_records: expected a single value, got a mapping"},
        {"batch:\n  max_records: [1]\n", "t.yaml:2: batch.max_records: expected a single value, got a list"},
        {"kafka:\n  consumer: 5\n",
         "t.yaml:2: kafka.consumer: expected a mapping of librdkafka properties, got a scalar"},
        {"kafka:\n  producer:\n    linger.ms:\n      x: 1\n",
         "t.yaml:3: kafka.producer.linger.ms: expected a single value, got a mapping"},
        {"schema: 5\n", "t.yaml:1: schema: expected a list of fields, got a scalar"},
        {"schema:\n", "t.yaml:1: schema: expected a list of fields, got nothing"},
        {"schema:\n  - name: a\n    type: string\n    enum:\n",
         "t.yaml:4: schema[0].enum: expected a list of values, got nothing"},
        {"- a\n", "t.yaml:1: the top level must be a mapping of keys, got a list"},
        {"\n\nhello\n", "t.yaml:3: the top level must be a mapping of keys, got a scalar"},
        {"batch:\n  ? [a, b]\n  : 1\n", "t.yaml:2: batch: keys must be scalars, got a list"},
        {"delivery: at_least_once\n---\ndelivery: exactly_once\n",
         "t.yaml:3: only one YAML document is allowed"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

static void test_yaml_syntax_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        int line;
    } cases[] = {
        {"kafka:\n  brokers: x\n   group_id: y\n", 3},
        {"batch:\n  max_records: 1\n bad: x\n", 3},
        {"a: b: c\n", 1},
        {"kafka:\n  brokers: \"abc\n", 3},
        {"x: *nope\n", 1},
        {"kafka:\n\t brokers: x\n", 2},
        {"ok: 1\n\xff\xfe: 2\n", 2},
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(cases); i++) {
        char err[512];
        int line = err_line(cases[i].yaml, err, sizeof(err));
        if (line != cases[i].line)
            fail_msg("case %zu: want line %d, got: %s", i, cases[i].line, err);
        assert_non_null(strstr(err, "YAML"));
    }
}

static void test_unknown_keys(void **state)
{
    (void)state;
    static const err_case_t bad[] = {
        {"# top\nkafak:\n  brokers: x\n",
         "t.yaml:2: unknown key 'kafak' (top-level keys: kafka, delivery, batch, input, output, "
         "mysql, users, metrics, log, schema)"},
        {"batch:\n  max_records: 5\n  max_record: 5\n",
         "t.yaml:3: unknown key 'batch.max_record' (batch has: max_records, max_wait_ms, commit_interval_ms)"},
        {"batch.max_recordz: 1\n",
         "t.yaml:1: unknown key 'batch.max_recordz' (batch has: max_records, max_wait_ms, commit_interval_ms)"},
        {"batch.max_records.x: 1\n",
         "t.yaml:1: unknown key 'batch.max_records.x' (batch has: max_records, max_wait_ms, commit_interval_ms)"},
        {"metrics:\n  listen: ''\n  port: 9108\n",
         "t.yaml:3: unknown key 'metrics.port' (metrics has: listen)"},
        {"delivery: at_least_once\nschema:\n  - name: a\n    type: string\n    maxlen: 3\n",
         "t.yaml:5: unknown key 'schema[0].maxlen' (field keys: name, type, required, "
         "max_length, enum, pattern)"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    static const err_case_t bad[] = {
        {"batch:\n  max_records: 1\n  max_records: 2\n",
         "t.yaml:3: duplicate key 'batch.max_records' (first at line 2)"},
        {"batch:\n  max_records: 1\nbatch:\n  max_wait_ms: 2\n",
         "t.yaml:3: duplicate key 'batch' (first at line 1)"},
        {"batch:\n  max_records: 1\nbatch.max_records: 2\n",
         "t.yaml:3: duplicate key 'batch.max_records' (first at line 2)"},
        {"delivery: at_least_once\ndelivery: exactly_once\n",
         "t.yaml:2: duplicate key 'delivery' (first at line 1)"},
        {"kafka:\n  consumer:\n    a: 1\n    a: 2\n",
         "t.yaml:4: duplicate key 'kafka.consumer.a' (first at line 3)"},
        {"kafka:\n  consumer:\n    a: 1\nkafka.consumer.a: 2\n",
         "t.yaml:4: duplicate key 'kafka.consumer.a' (first at line 3)"},
        {"schema:\n  - name: a\n    type: string\n    name: b\n",
         "t.yaml:4: duplicate key 'schema[0].name' (first at line 2)"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

/* ---------------------------------------------------------------------------------- */
/* Environment                                                                          */

static void test_env_substitution(void **state)
{
    (void)state;
    setenv("LC_TEST_BROKERS", "k1:9092,k2:9092", 1);
    setenv("LC_TEST_HOST", "web-7", 1);
    setenv("LC_TEST_EMPTY", "", 1);
    setenv("LC_TEST_PORT", "3307", 1);
    setenv("LC_TEST_DOLLAR", "${LC_TEST_HOST}", 1);
    unsetenv("LC_TEST_UNSET");
    lc_config_t *c = load_ok(
        "kafka:\n"
        "  brokers: ${LC_TEST_BROKERS}\n"
        "  group_id: ${LC_TEST_UNSET:-fallback-group}\n"
        "  transactional_id: logclassify-${LC_TEST_HOST:-local}\n"
        "  input_topic: \"${LC_TEST_UNSET:-in}-${LC_TEST_HOST}-x\"\n"
        "  output_topic: ${LC_TEST_EMPTY:-used-when-empty}\n"
        "mysql:\n"
        "  port: ${LC_TEST_PORT:-13306}\n"
        "  password: a$$b$c$${LC_TEST_HOST}\n"
        "  socket: ${LC_TEST_EMPTY}\n"
        "  host: ${LC_TEST_DOLLAR}\n"
        "  user: ${LC_TEST_UNSET:-}x\n"
        "  database: ${LC_TEST_UNSET:-a:-b}\n");
    assert_string_equal(c->kafka.brokers, "k1:9092,k2:9092");
    assert_string_equal(c->kafka.group_id, "fallback-group");
    assert_string_equal(c->kafka.transactional_id, "logclassify-web-7");
    assert_string_equal(c->kafka.input_topic, "in-web-7-x");
    assert_string_equal(c->kafka.output_topic, "used-when-empty");
    assert_int_equal(c->mysql.port, 3307);
    assert_string_equal(c->mysql.password, "a$$b$c$web-7");   /* "$$" is not special */
    assert_string_equal(c->mysql.socket, "");
    assert_string_equal(c->mysql.host, "${LC_TEST_HOST}");    /* not expanded twice */
    assert_string_equal(c->mysql.user, "x");
    assert_string_equal(c->mysql.database, "a:-b");
    lc_config_free(c);

    setenv("LC_TEST_WORD", "many", 1);
    static const err_case_t bad[] = {
        {"kafka:\n  group_id: g\n  brokers: ${LC_TEST_UNSET}\n",
         "t.yaml:3: kafka.brokers: ${LC_TEST_UNSET} is not set"},
        {"kafka:\n  brokers: \"x-${LC_TEST_HOST}-${LC_TEST_UNSET}\"\n",
         "t.yaml:2: kafka.brokers: ${LC_TEST_UNSET} is not set"},
        {"kafka:\n  brokers: ${LC_TEST_HOST\n",
         "t.yaml:2: kafka.brokers: unterminated '${' (write ${NAME} or ${NAME:-default})"},
        {"kafka:\n  brokers: ${}\n",
         "t.yaml:2: kafka.brokers: bad variable reference (write ${NAME} or ${NAME:-default})"},
        {"kafka:\n  brokers: ${1X}\n",
         "t.yaml:2: kafka.brokers: bad variable reference (write ${NAME} or ${NAME:-default})"},
        {"kafka:\n  brokers: ${A-b}\n",
         "t.yaml:2: kafka.brokers: bad variable reference (write ${NAME} or ${NAME:-default})"},
        {"batch:\n  max_records: ${LC_TEST_WORD}\n",
         "t.yaml:2: batch.max_records: expected an integer, got 'many'"},
        {"kafka:\n  producer:\n    sasl.password: ${LC_TEST_UNSET}\n",
         "t.yaml:3: kafka.producer.sasl.password: ${LC_TEST_UNSET} is not set"},
        {"schema:\n  - name: ${LC_TEST_UNSET}\n    type: string\n",
         "t.yaml:2: schema[0].name: ${LC_TEST_UNSET} is not set"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

/* Messages never echo a value that could be a secret. */
static void test_errors_do_not_leak_values(void **state)
{
    (void)state;
    char err[512];
    err_line("mysql:\n  password: \"hunter2${X\"\n", err, sizeof(err));
    assert_null(strstr(err, "hunter2"));
    err_line("mysql:\n  password: \"${LC_TEST_UNSET:-hunter2\"\n", err, sizeof(err));
    assert_null(strstr(err, "hunter2"));
    err_line("kafka:\n  producer:\n    sasl.password: \"${bad name:-hunter2}\"\n", err,
             sizeof(err));
    assert_null(strstr(err, "hunter2"));
}

/* ---------------------------------------------------------------------------------- */
/* Pass-through properties                                                              */

static void test_passthrough_props(void **state)
{
    (void)state;
    setenv("LC_TEST_SASL_USER", "svc", 1);
    lc_config_t *c = load_ok(
        "kafka:\n"
        "  consumer:\n"
        "    security.protocol: SASL_SSL\n"
        "    sasl.mechanism: SCRAM-SHA-512\n"
        "    sasl.username: ${LC_TEST_SASL_USER}\n"
        "    fetch.max.bytes: 052428800\n"
        "    enable.partition.eof: false\n"
        "    client.id:\n"
        "  producer:\n"
        "    linger.ms: 5\n"
        "    compression.type: lz4\n"
        "kafka.producer.batch.size: 65536\n");
    static const struct {
        const char *key, *value;
        int line;
    } cons[] = {
        {"security.protocol", "SASL_SSL", 3},     {"sasl.mechanism", "SCRAM-SHA-512", 4},
        {"sasl.username", "svc", 5},               {"fetch.max.bytes", "052428800", 6},
        {"enable.partition.eof", "false", 7},      {"client.id", "", 8},
    }, prod[] = {
        {"linger.ms", "5", 10}, {"compression.type", "lz4", 11}, {"batch.size", "65536", 12},
    };
    assert_int_equal(c->kafka.n_consumer_props, LC_ARRAY_SIZE(cons));
    for (size_t i = 0; i < LC_ARRAY_SIZE(cons); i++) {
        assert_string_equal(c->kafka.consumer_props[i].key, cons[i].key);
        assert_string_equal(c->kafka.consumer_props[i].value, cons[i].value);
        assert_int_equal(c->kafka.consumer_props[i].line, cons[i].line);
    }
    assert_int_equal(c->kafka.n_producer_props, LC_ARRAY_SIZE(prod));
    for (size_t i = 0; i < LC_ARRAY_SIZE(prod); i++) {
        assert_string_equal(c->kafka.producer_props[i].key, prod[i].key);
        assert_string_equal(c->kafka.producer_props[i].value, prod[i].value);
        assert_int_equal(c->kafka.producer_props[i].line, prod[i].line);
    }
    lc_config_free(c);
}

/* ---------------------------------------------------------------------------------- */
/* Password file                                                                        */

static char *write_temp(const char *content)
{
    char *path = strdup("/tmp/lc_test_config_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(content);
    assert_int_equal(write(fd, content, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_password_file(void **state)
{
    (void)state;
    static const char *const contents[] = {"s3cret\n", "s3cret", "s3cret\r\n"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(contents); i++) {
        char *path = write_temp(contents[i]);
        char yaml[256];
        snprintf(yaml, sizeof(yaml), "mysql:\n  password_file: %s\n", path);
        lc_config_t *c = load_ok(yaml);
        assert_string_equal(c->mysql.password, "s3cret");
        assert_string_equal(c->password_file, path);
        char *d = dump_str(c);
        assert_null(strstr(d, "s3cret"));
        assert_non_null(strstr(d, "# password: read from mysql.password_file"));
        free(d);
        lc_config_free(c);
        unlink(path);
        free(path);
    }
    expect_err("mysql:\n  user: u\n  password_file: /nonexistent/lc/pw\n",
               "t.yaml:3: mysql.password_file: cannot read '/nonexistent/lc/pw': No such file "
               "or directory");
    expect_err("mysql:\n  password: x\n  password_file: /tmp/pw\n",
               "t.yaml:3: mysql.password_file: mysql.password is set too (line 2); set only one");
}

/* ---------------------------------------------------------------------------------- */
/* Schema                                                                               */

static void test_schema(void **state)
{
    (void)state;
    lc_config_t *c = load_ok(
        "schema:\n"
        "  - name: event_id\n"
        "    type: string\n"
        "    max_length: 64\n"
        "  - name: level\n"
        "    type: string\n"
        "    enum: [info, warn, \"err or\"]\n"
        "    required: false\n"
        "  - {name: country, type: string, pattern: \"[A-Z]{2}\"}\n"
        "  - name: n\n"
        "    type: number\n"
        "    required: no\n"
        "  - name: ok\n"
        "    type: boolean\n"
        "    max_length: 0\n"
        "  - name: ts\n"
        "    type: timestamp\n"
        "    enum:\n"
        "      - '1'\n");
    assert_int_equal(c->nfields, 6);
    assert_non_null(c->schema);
    const lc_field_def_t *f = c->fields;
    assert_string_equal(f[0].name, "event_id");
    assert_int_equal(f[0].type, LC_FT_STRING);
    assert_true(f[0].required);
    assert_true(f[0].max_length == 64);
    assert_int_equal(f[0].line, 2);
    assert_string_equal(f[1].name, "level");
    assert_false(f[1].required);
    assert_true(f[1].max_length == -1);
    assert_int_equal(f[1].n_enum, 3);
    assert_string_equal(f[1].enum_values[0], "info");
    assert_string_equal(f[1].enum_values[1], "warn");
    assert_string_equal(f[1].enum_values[2], "err or");
    assert_int_equal(f[1].line, 5);
    assert_string_equal(f[2].pattern, "[A-Z]{2}");
    assert_int_equal(f[2].line, 9);
    assert_int_equal(f[3].type, LC_FT_NUMBER);
    assert_false(f[3].required);
    assert_int_equal(f[4].type, LC_FT_BOOLEAN);
    assert_true(f[4].max_length == 0);
    assert_int_equal(f[5].type, LC_FT_TIMESTAMP);
    assert_int_equal(f[5].n_enum, 1);
    assert_string_equal(f[5].enum_values[0], "1");
    lc_config_free(c);

    c = load_ok("schema: []\n");
    assert_int_equal(c->nfields, 0);
    lc_config_free(c);
}

static void test_schema_errors(void **state)
{
    (void)state;
    static const err_case_t bad[] = {
        {"schema:\n  - type: string\n", "t.yaml:2: schema[0]: missing 'name'"},
        {"schema:\n  - name: a\n    type: string\n  - name: b\n    required: true\n",
         "t.yaml:4: schema[1] (b): missing 'type'"},
        {"schema:\n  - name: a\n    type: int\n",
         "t.yaml:3: schema[0].type: expected one of string, integer, number, boolean, "
         "timestamp, got 'int'"},
        {"schema:\n  - name: a\n    type: String\n",
         "t.yaml:3: schema[0].type: expected one of string, integer, number, boolean, "
         "timestamp, got 'String'"},
        {"schema:\n  - name: ''\n    type: string\n", "t.yaml:2: schema[0].name: must not be empty"},
        {"schema:\n  - name: a\n    type: string\n    required: maybe\n",
         "t.yaml:4: schema[0].required: expected true or false, got 'maybe'"},
        {"schema:\n  - name: a\n    type: string\n    max_length: -1\n",
         "t.yaml:4: schema[0].max_length: -1 is out of range (0..9223372036854775807)"},
        {"schema:\n  - name: a\n    type: string\n    max_length: ten\n",
         "t.yaml:4: schema[0].max_length: expected an integer, got 'ten'"},
        {"schema:\n  - name: a\n    type: string\n    enum: info\n",
         "t.yaml:4: schema[0].enum: expected a list of values, got a scalar"},
        {"schema:\n  - name: a\n    type: string\n    enum: []\n",
         "t.yaml:4: schema[0].enum: the list must not be empty"},
        {"schema:\n  - name: a\n    type: string\n    enum: [x, [y]]\n",
         "t.yaml:4: schema[0].enum[1]: expected a single value, got a list"},
        {"schema:\n  - name: a\n    type: string\n    pattern: ''\n",
         "t.yaml:4: schema[0].pattern: must not be empty"},
        {"schema:\n  - name: [a]\n    type: string\n",
         "t.yaml:2: schema[0].name: expected a single value, got a list"},
        {"schema:\n  - event_id\n",
         "t.yaml:2: schema[0]: expected a mapping (name, type, ...), got a scalar"},
        {"schema:\n  event_id: string\n", "t.yaml:1: schema: expected a list of fields, got a mapping"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

/* Errors found by lc_schema_new (duplicate names, bad regex) carry the file name and the
 * field's line. */
static void test_schema_compile_errors(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(err_line("schema:\n  - {name: a, type: string}\n  - {name: a, type: integer}\n",
                              err, sizeof(err)), 3);
    assert_non_null(strstr(err, "'a'"));
    assert_int_equal(err_line("schema:\n  - name: b\n    type: string\n  - name: c\n"
                              "    type: string\n    pattern: \"([A-Z]\"\n", err, sizeof(err)), 4);
    assert_non_null(strstr(err, "'c'"));
    assert_int_equal(err_line("schema:\n  - name: d\n    type: string\n    pattern: \"[\"\n",
                              err, sizeof(err)), 2);
}

/* ---------------------------------------------------------------------------------- */
/* Rules across keys (config_rules.c): what the service and pipe mode would refuse       */

static void test_rules_across_keys(void **state)
{
    (void)state;
    static const err_case_t bad[] = {
        /* the output fields cannot take the names of a refused record's payload */
        {"output:\n  status_field: raw\n",
         "t.yaml:2: output.status_field: 'raw' is reserved for refused records (raw, "
         "raw_base64, raw_bytes)"},
        {"# c\noutput:\n  reasons_field: raw_base64\n",
         "t.yaml:3: output.reasons_field: 'raw_base64' is reserved for refused records (raw, "
         "raw_base64, raw_bytes)"},
        {"output.reasons_field: x\noutput.status_field: raw_bytes\n",
         "t.yaml:2: output.status_field: 'raw_bytes' is reserved for refused records (raw, "
         "raw_base64, raw_bytes)"},
        /* verify_ca checks the chain against mysql.ssl_ca */
        {"mysql:\n  ssl_ca: ''\n  ssl_mode: verify_ca\n",
         "t.yaml:3: mysql.ssl_mode verify_ca needs mysql.ssl_ca"},
        /* every pass-through property is one librdkafka knows, with a value it takes */
        {"kafka:\n  consumer:\n    fetch.wait.max.ms: \"100\"\n    no.such.property: x\n",
         "t.yaml:4: kafka property no.such.property: No such configuration property: "
         "\"no.such.property\""},
        {"kafka:\n  producer:\n    acks: sometimes\n",
         "t.yaml:3: kafka property acks: Invalid value for configuration property "
         "\"request.required.acks\""},
        /* MySQL names are at most 64 characters */
        {"users:\n  key_column: "
         "a123456789b123456789c123456789d123456789e123456789f123456789g12345\n",
         "t.yaml:2: users.key_column: "
         "'a123456789b123456789c123456789d123456789e123456789f123456789g12345' is longer "
         "than 64 characters (MySQL's limit)"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
    /* and what the rules let through */
    lc_config_free(load_ok("mysql:\n  ssl_mode: verify_ca\n  ssl_ca: /etc/ca.pem\n"));
    lc_config_free(load_ok("output:\n  status_field: raw_status\n  reasons_field: raws\n"));
    lc_config_free(load_ok("users:\n  table: "
                           "a123456789b123456789c123456789d123456789e123456789f123456789g123\n"));
    lc_config_free(load_ok("kafka:\n  producer:\n    acks: \"1\"\n    transactional.id: x\n"));
}

/* kafka.group_protocol consumer: the broker owns the session, the heartbeat and the
 * assignment, so their classic pass-through properties are refused with their line; the
 * protocol is never a pass-through property; a librdkafka without it says so. */
static void test_group_protocol_rules(void **state)
{
    (void)state;
    /* classic takes the classic properties; group.remote.assignor passes through */
    lc_config_free(load_ok("kafka:\n  consumer:\n    session.timeout.ms: \"6000\"\n"
                           "    heartbeat.interval.ms: \"1000\"\n"
                           "    partition.assignment.strategy: range\n"));
    expect_err("kafka:\n  consumer:\n    group.protocol: consumer\n",
               "t.yaml:3: kafka.consumer.group.protocol: not a pass-through property: "
               "kafka.group_protocol chooses the group protocol");
    if (!consumer_protocol_available()) {
        char want[256];
        snprintf(want, sizeof(want), "t.yaml:2: kafka.group_protocol consumer: the consumer "
                 "group protocol needs librdkafka 2.12 or newer; this build runs %s",
                 rd_kafka_version_str());
        expect_err("# c\nkafka.group_protocol: consumer\n", want);
        return;
    }
    lc_config_t *c = load_ok("kafka:\n  group_protocol: consumer\n  consumer:\n"
                             "    group.remote.assignor: range\n    fetch.wait.max.ms: \"10\"\n");
    assert_int_equal(c->kafka.group_protocol, LC_GROUP_PROTOCOL_CONSUMER);
    lc_config_free(c);
    static const err_case_t bad[] = {
        {"kafka:\n  group_protocol: consumer\n  consumer:\n    fetch.wait.max.ms: \"10\"\n"
         "    session.timeout.ms: \"6000\"\n",
         "t.yaml:5: kafka.consumer.session.timeout.ms: not used with kafka.group_protocol "
         "consumer (line 2): the broker's group.consumer.session.timeout.ms sets it"},
        {"kafka.consumer.heartbeat.interval.ms: \"1000\"\nkafka.group_protocol: consumer\n",
         "t.yaml:1: kafka.consumer.heartbeat.interval.ms: not used with kafka.group_protocol "
         "consumer (line 2): the broker's group.consumer.heartbeat.interval.ms sets it"},
        {"kafka:\n  group_protocol: CONSUMER\n  consumer:\n    partition.assignment.strategy: range\n",
         "t.yaml:4: kafka.consumer.partition.assignment.strategy: not used with "
         "kafka.group_protocol consumer (line 2): the broker assigns the partitions "
         "(group.remote.assignor chooses how)"},
        {"kafka:\n  group_protocol: consumer\n  consumer:\n    group.protocol.type: consumer\n",
         "t.yaml:4: kafka.consumer.group.protocol.type: not used with kafka.group_protocol "
         "consumer (line 2): it names a classic protocol type"},
    };
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

/* kafka.aws_iam: the section (or any key below it) turns MSK IAM on; its values; the rules. */
static void test_aws_iam(void **state)
{
    (void)state;
    lc_config_t *c = load_ok("");
    assert_false(c->kafka.aws_iam);
    assert_string_equal(c->kafka.aws.region, "");
    assert_string_equal(c->kafka.aws.role_session_name, "logclassify");
    lc_config_free(c);

    c = load_ok("kafka:\n  aws_iam:\n    region: eu-west-1\n    profile: msk\n"
                "    role_arn: arn:aws:iam::123456789012:role/logclassify\n"
                "    role_session_name: lc-host_1@x.y\n");
    assert_true(c->kafka.aws_iam);
    assert_string_equal(c->kafka.aws.region, "eu-west-1");
    assert_string_equal(c->kafka.aws.profile, "msk");
    assert_string_equal(c->kafka.aws.role_arn, "arn:aws:iam::123456789012:role/logclassify");
    assert_string_equal(c->kafka.aws.role_session_name, "lc-host_1@x.y");
    assert_null(c->kafka.aws.sts_endpoint);
    assert_null(c->kafka.aws.imds_endpoint);
    char *d1 = dump_str(c);
    assert_non_null(strstr(d1, "  producer: {}\n  aws_iam:\n    region: \"eu-west-1\"\n"
                               "    profile: \"msk\"\n"));
    lc_config_t *c2 = load_ok(d1);       /* the dump loads, and says the same */
    char *d2 = dump_str(c2);
    assert_string_equal(d1, d2);
    free(d1);
    free(d2);
    lc_config_free(c2);
    lc_config_free(c);

    /* dotted keys turn it on as well; what IAM owns may be passed through when it agrees */
    c = load_ok("kafka.aws_iam.region: us-east-1\n"
                "kafka:\n  consumer:\n    security.protocol: sasl_ssl\n"
                "    sasl.mechanism: OAUTHBEARER\n    ssl.ca.location: /etc/ca.pem\n"
                "  producer:\n    enable.sasl.oauthbearer.unsecure.jwt: \"false\"\n");
    assert_true(c->kafka.aws_iam);
    assert_string_equal(c->kafka.aws.region, "us-east-1");
    lc_config_free(c);

    /* off: a comment in the dump, and the same properties are nobody's business */
    c = load_ok("kafka:\n  consumer:\n    security.protocol: SSL\n");
    char *d = dump_str(c);
    assert_non_null(strstr(d, "  producer: {}\n  # aws_iam: not set\n\ndelivery:"));
    free(d);
    lc_config_free(c);

    static const err_case_t bad[] = {
        {"kafka:\n  aws_iam:\n",
         "t.yaml:2: kafka.aws_iam.region is required with kafka.aws_iam: the MSK cluster's "
         "AWS region, e.g. eu-west-1"},
        {"kafka:\n  aws_iam: {}\n",
         "t.yaml:2: kafka.aws_iam.region is required with kafka.aws_iam: the MSK cluster's "
         "AWS region, e.g. eu-west-1"},
        {"# c\nkafka.aws_iam.profile: p\n",
         "t.yaml:2: kafka.aws_iam.region is required with kafka.aws_iam: the MSK cluster's "
         "AWS region, e.g. eu-west-1"},
        {"kafka:\n  aws_iam:\n    region: \"${LC_TEST_UNSET_REGION:-}\"\n",
         "t.yaml:3: kafka.aws_iam.region is required with kafka.aws_iam: the MSK cluster's "
         "AWS region, e.g. eu-west-1"},
        {"kafka:\n  aws_iam:\n    region: Eu-West-1\n",
         "t.yaml:3: kafka.aws_iam.region: 'Eu-West-1' is not an AWS region name like eu-west-1"},
        {"kafka:\n  aws_iam: eu-west-1\n",
         "t.yaml:2: kafka.aws_iam: expected a mapping, got a scalar"},
        {"kafka:\n  aws_iam:\n    region: eu-west-1\n    rolearn: x\n",
         "t.yaml:4: unknown key 'kafka.aws_iam.rolearn' (kafka.aws_iam has: region, profile, "
         "role_arn, role_session_name)"},
        {"kafka:\n  aws_iam:\n    region: eu-west-1\n    role_arn: logclassify\n",
         "t.yaml:4: kafka.aws_iam.role_arn: 'logclassify' is not an IAM role ARN "
         "(arn:aws:iam::ACCOUNT:role/NAME)"},
        {"kafka:\n  aws_iam:\n    region: eu-west-1\n    role_session_name: l\n",
         "t.yaml:4: kafka.aws_iam.role_session_name: 'l' is not 2 to 64 of A-Z a-z 0-9 + = , "
         ". @ _ -"},
        {"kafka:\n  aws_iam:\n    region: eu-west-1\n"
         "    role_arn: arn:aws:iam::123456789012:role/x\n    role_session_name: \"a b\"\n",
         "t.yaml:5: kafka.aws_iam.role_session_name: 'a b' is not 2 to 64 of A-Z a-z 0-9 + = "
         ", . @ _ -"},
        {"kafka:\n  aws_iam:\n    region: eu-west-1\n  consumer:\n    security.protocol: SSL\n",
         "t.yaml:5: kafka.consumer.security.protocol contradicts kafka.aws_iam (line 2): MSK "
         "IAM needs security.protocol SASL_SSL; remove it"},
        {"kafka:\n  producer:\n    sasl.mechanisms: SCRAM-SHA-512\n  aws_iam: {region: "
         "eu-west-1}\n",
         "t.yaml:3: kafka.producer.sasl.mechanisms contradicts kafka.aws_iam (line 4): MSK IAM "
         "needs sasl.mechanism OAUTHBEARER; remove it"},
        {"kafka.aws_iam.region: eu-west-1\nkafka.producer.sasl.oauthbearer.config: x=y\n",
         "t.yaml:2: kafka.producer.sasl.oauthbearer.config contradicts kafka.aws_iam (line 1): "
         "MSK IAM makes the OAUTHBEARER tokens itself; remove it"},
        {"kafka.aws_iam.region: eu-west-1\n"
         "kafka.consumer.enable.sasl.oauthbearer.unsecure.jwt: \"true\"\n",
         "t.yaml:2: kafka.consumer.enable.sasl.oauthbearer.unsecure.jwt contradicts "
         "kafka.aws_iam (line 1): MSK IAM makes the OAUTHBEARER tokens itself; remove it"},
    };
    unsetenv("LC_TEST_UNSET_REGION");
    run_err_cases(bad, LC_ARRAY_SIZE(bad));
}

/* The first broken rule is the one reported, in rules[] order. */
static void test_rules_order(void **state)
{
    (void)state;
    expect_err("output:\n  status_field: raw\n  reasons_field: raw\n",
               "t.yaml:3: output.reasons_field and output.status_field must differ (both are "
               "'raw')");
    expect_err("mysql:\n  ssl_mode: verify_ca\nkafka:\n  consumer:\n    nope: 1\n",
               "t.yaml:2: mysql.ssl_mode verify_ca needs mysql.ssl_ca");
}

/* ---------------------------------------------------------------------------------- */
/* Dump, describe, secrets, classifier options                                          */

static const char *const secret_yaml =
    "mysql:\n"
    "  password: hunter2\n"
    "kafka:\n"
    "  consumer:\n"
    "    security.protocol: SASL_SSL\n"
    "    sasl.password: consumer-pass\n"
    "    sasl.oauthbearer.config: \"principal=x secret=oauth-secret\"\n"
    "    ssl.key.pem: PEMDATA\n"
    "  producer:\n"
    "    sasl.username: svc\n"
    "    sasl.password: topsecret\n"
    "    ssl.key.password: keypass\n";

static void test_dump_masks_secrets(void **state)
{
    (void)state;
    lc_config_t *c = load_ok(secret_yaml);
    char *d = dump_str(c);
    static const char *const hidden[] = {"hunter2", "consumer-pass", "oauth-secret", "PEMDATA",
                                         "topsecret", "keypass"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(hidden); i++)
        if (strstr(d, hidden[i]))
            fail_msg("dump shows '%s':\n%s", hidden[i], d);
    assert_non_null(strstr(d, "  password: \"********\"\n"));
    assert_non_null(strstr(d, "    sasl.password: \"********\"\n"));
    assert_non_null(strstr(d, "    security.protocol: \"SASL_SSL\"\n"));
    assert_non_null(strstr(d, "    sasl.username: \"svc\"\n"));
    /* An empty password is shown as empty, not masked. */
    lc_config_t *e = load_ok("");
    char *de = dump_str(e);
    assert_non_null(strstr(de, "  password: \"\"\n"));
    free(de);
    lc_config_free(e);
    free(d);
    lc_config_free(c);
}

/* The dump is valid configuration: loading it gives the same dump again. */
static void test_dump_round_trip(void **state)
{
    (void)state;
    lc_config_t *c = load_ok(
        "kafka:\n  consumer:\n    client.id: \"a \\\"q\\\" b\"\n  producer:\n    linger.ms: 5\n"
        "delivery: exactly_once\nusers:\n  case_insensitive: no\n  unknown_account: good\n"
        "mysql:\n  password: hunter2\n  ssl_mode: required\n"
        "schema:\n  - name: a\n    type: string\n    enum: [x, 'y\"z']\n    max_length: 3\n"
        "    pattern: \"x|y\\\\.z\"\n    required: false\n  - name: b\n    type: number\n");
    char *d1 = dump_str(c);
    lc_config_t *c2 = load_ok(d1);
    char *d2 = dump_str(c2);
    assert_string_equal(d1, d2);
    assert_string_equal(c2->kafka.consumer_props[0].value, "a \"q\" b");
    assert_string_equal(c2->fields[0].enum_values[1], "y\"z");
    assert_string_equal(c2->fields[0].pattern, "x|y\\.z");
    assert_int_equal(c2->pipeline.delivery, LC_DELIVERY_EXACTLY_ONCE);
    free(d1);
    free(d2);
    lc_config_free(c2);
    lc_config_free(c);
}

static void test_describe(void **state)
{
    (void)state;
    char *md = describe_str(true), *txt = describe_str(false);
    assert_true(strncmp(md, "| key | type | default | description |\n|---|---|---|---|\n", 56) == 0);
    for (size_t i = 0; i < LC_ARRAY_SIZE(all_keys); i++) {
        char cell[96];
        snprintf(cell, sizeof(cell), "| `%s` |", all_keys[i]);
        if (!strstr(md, cell))
            fail_msg("markdown lacks %s", cell);
        if (!strstr(txt, all_keys[i]))
            fail_msg("text lacks %s", all_keys[i]);
    }
    assert_non_null(strstr(md, "| `batch.max_records` | integer 1..1000000 | `10000` |"));
    assert_non_null(strstr(md, "| `schema[].type` |"));
    assert_non_null(strstr(md, "one of at_least_once, exactly_once"));
    /* One table row per line: every row has exactly 5 unescaped '|'. */
    for (char *line = md; *line;) {
        char *nl = strchr(line, '\n');
        int bars = 0;
        for (char *p = line; p < nl; p++)
            bars += *p == '|' && (p == line || p[-1] != '\\');
        assert_int_equal(bars, 5);
        line = nl + 1;
    }
    free(md);
    free(txt);
}

static void test_secret_names(void **state)
{
    (void)state;
    static const char *const secret[] = {"sasl.password", "ssl.key.password", "SASL.PASSWORD",
                                         "ssl.keystore.password", "sasl.oauthbearer.config",
                                         "ssl.key.pem", "mysql.password", "client_secret",
                                         "ssl_key", "private.key", "sasl.oauthbearer.client.secret"};
    static const char *const plain[] = {"sasl.username", "security.protocol", "ssl.key.location",
                                        "ssl.ca.location", "linger.ms", "bootstrap.servers",
                                        "sasl.mechanism", "ssl.certificate.pem"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(secret); i++)
        if (!lc_log_is_secret_name(secret[i]))
            fail_msg("'%s' should be secret", secret[i]);
    for (size_t i = 0; i < LC_ARRAY_SIZE(plain); i++)
        if (lc_log_is_secret_name(plain[i]))
            fail_msg("'%s' should not be secret", plain[i]);
}

/* The classifier's options come straight from the table; the options derived from several
 * keys are decided once, at load. */
static void test_classify_opts(void **state)
{
    (void)state;
    lc_config_t *c = load_ok("users:\n  key_field: acct\n  value_field: dev\n  unknown_account: bad\n"
                             "input:\n  max_record_bytes: 2048\n"
                             "output:\n  status_field: s\n  reasons_field: r\n");
    const lc_classify_opts_t *o = &c->classify;
    assert_ptr_equal(o->schema, c->schema);
    assert_string_equal(o->key_field, "acct");
    assert_string_equal(o->value_field, "dev");
    assert_int_equal(o->unknown_account_status, LC_STATUS_BAD);
    assert_int_equal(o->max_record_bytes, 2048);
    assert_string_equal(o->status_field, "s");
    assert_string_equal(o->reasons_field, "r");
    assert_false(c->users.int_keys);              /* acct is not in the schema */
    assert_int_equal(c->kafka.max_record_bytes, 2048);
    assert_string_equal(c->kafka.config_path, "t.yaml");
    assert_false(c->kafka.transactional);
    lc_config_free(c);
}

static void test_derived_options(void **state)
{
    (void)state;
    lc_config_t *c = load_ok("delivery: exactly_once\nusers:\n  case_insensitive: no\n");
    assert_true(c->users.int_keys);               /* account_id is an integer field */
    assert_true(c->mysql.int_keys);
    assert_false(c->mysql.case_insensitive);
    assert_true(c->kafka.transactional);
    lc_config_free(c);
    c = load_ok("schema:\n  - {name: account_id, type: string}\n");
    assert_false(c->users.int_keys);
    assert_false(c->mysql.int_keys);
    assert_true(c->mysql.case_insensitive);
    lc_config_free(c);
}

/* ---------------------------------------------------------------------------------- */
/* Files under conf/                                                                    */

static const char *conf_dir(void)
{
    static char dir[512];
    const char *src = getenv("LC_SOURCE_DIR");
    static const char *const tries[] = {"conf", "../conf", "../../conf"};
    if (src) {
        snprintf(dir, sizeof(dir), "%s/conf", src);
        return dir;
    }
    for (size_t i = 0; i < LC_ARRAY_SIZE(tries); i++) {
        snprintf(dir, sizeof(dir), "%s/app.yaml", tries[i]);
        if (access(dir, R_OK) == 0) {
            snprintf(dir, sizeof(dir), "%s", tries[i]);
            return dir;
        }
    }
    fail_msg("conf/ not found (run from the repository root or set LC_SOURCE_DIR)");
    return NULL;
}

static void test_conf_app_yaml_loads(void **state)
{
    (void)state;
    static const char *const vars[] = {"KAFKA_BROKERS", "MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER",
                                       "MYSQL_PASSWORD", "HOSTNAME"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(vars); i++)
        unsetenv(vars[i]);
    char path[600], err[1024] = "";
    snprintf(path, sizeof(path), "%s/app.yaml", conf_dir());
    lc_config_t *c = lc_config_load(path, err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    assert_string_equal(c->kafka.brokers, "127.0.0.1:9092");
    assert_string_equal(c->kafka.transactional_id, "logclassify-1");
    assert_string_equal(c->mysql.host, "127.0.0.1");
    assert_int_equal(c->mysql.port, 13306);
    assert_string_equal(c->mysql.user, "logclassify");
    assert_string_equal(c->mysql.password, "logclassify");
    assert_int_equal(c->nfields, 6);
    assert_true(c->fields[0].max_length == -1 && "the shipped schema is CONTRACT §3 exactly");
    lc_config_free(c);

    setenv("MYSQL_PORT", "3306", 1);
    setenv("KAFKA_BROKERS", "b:9093", 1);
    c = lc_config_load(path, err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(c->mysql.port, 3306);
    assert_string_equal(c->kafka.brokers, "b:9093");
    lc_config_free(c);
    unsetenv("MYSQL_PORT");
    unsetenv("KAFKA_BROKERS");
}

static int expect_line_of(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int line = -1;
    if (fscanf(f, "# expect-line: %d", &line) != 1)
        line = -1;
    fclose(f);
    if (line <= 0)
        fail_msg("%s: the first line must be '# expect-line: N'", path);
    return line;
}

static void test_conf_bad_files(void **state)
{
    (void)state;
    char pattern[600];
    snprintf(pattern, sizeof(pattern), "%s/bad/*.yaml", conf_dir());
    glob_t g;
    assert_int_equal(glob(pattern, 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 7);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        char err[1024] = "", want[700];
        lc_config_t *c = lc_config_load(path, err, sizeof(err));
        if (c) {
            lc_config_free(c);
            fail_msg("%s loaded without error", path);
        }
        snprintf(want, sizeof(want), "%s:%d: ", path, expect_line_of(path));
        if (strncmp(err, want, strlen(want)) != 0)
            fail_msg("%s: want '%s...', got '%s'", path, want, err);
    }
    globfree(&g);
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[256];
    assert_null(lc_config_load("/nonexistent/lc.yaml", err, sizeof(err)));
    assert_string_equal(err, "/nonexistent/lc.yaml: cannot read: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_equals_defaults),
        cmocka_unit_test(test_every_key_set),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_metrics_listen),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_yaml_syntax_errors),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_env_substitution),
        cmocka_unit_test(test_errors_do_not_leak_values),
        cmocka_unit_test(test_passthrough_props),
        cmocka_unit_test(test_password_file),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_schema_compile_errors),
        cmocka_unit_test(test_dump_masks_secrets),
        cmocka_unit_test(test_dump_round_trip),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_secret_names),
        cmocka_unit_test(test_rules_across_keys),
        cmocka_unit_test(test_group_protocol_rules),
        cmocka_unit_test(test_rules_order),
        cmocka_unit_test(test_aws_iam),
        cmocka_unit_test(test_classify_opts),
        cmocka_unit_test(test_derived_options),
        cmocka_unit_test(test_conf_app_yaml_loads),
        cmocka_unit_test(test_conf_bad_files),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
