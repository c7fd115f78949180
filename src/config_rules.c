/*
 * config_rules.c - the rules across keys: validation hooks run while a file is loaded, after
 * every key has its value and before the options are derived. Each rule that fails names
 * the line of the key at fault, so `--check-config` refuses (exit 2, file:line) every file
 * the service or pipe mode would refuse for its content, and they never refuse it later.
 *
 * A rule is one function in rules[]; a rule for a key added later is one more entry.
 */
#include "config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD_MAX_BYTES (64u << 10)   /* a mysql.password_file larger than this is refused */

/* output.status_field and output.reasons_field name two different members. */
static int output_fields_differ(ctx_t *x)
{
    const lc_classify_opts_t *o = &x->c->classify;
    if (strcmp(o->status_field, o->reasons_field) != 0)
        return 0;
    int a = lc_config_key_line(x, "output.status_field");
    int b = lc_config_key_line(x, "output.reasons_field");
    return lc_config_fail(x, a > b ? a : b, "output.reasons_field and output.status_field must "
                          "differ (both are '%s')", o->status_field);
}

/* The output fields are not named like a refused record's payload ("raw", ...): the
 * classifier writes those members beside them. */
static int output_fields_not_reserved(ctx_t *x)
{
    static const char *const keys[] = {"output.status_field", "output.reasons_field"};
    const char *values[] = {x->c->classify.status_field, x->c->classify.reasons_field};
    for (size_t k = 0; k < LC_ARRAY_SIZE(keys); k++)
        for (const char *const *r = lc_classify_refused_names; *r; r++)
            if (strcmp(values[k], *r) == 0)
                return lc_config_fail(x, lc_config_key_line(x, keys[k]),
                                      "%s: '%s' is reserved for refused records (raw, "
                                      "raw_base64, raw_bytes)", keys[k], *r);
    return 0;
}

/* mysql.password_file excludes mysql.password; the file is read now, into mysql.password. */
static int password_file(ctx_t *x)
{
    lc_config_t *c = x->c;
    int line = lc_config_key_line(x, "mysql.password_file");
    if (!*c->password_file)
        return 0;
    if (*c->mysql.password)
        return lc_config_fail(x, line, "mysql.password_file: mysql.password is set too (line %d); "
                              "set only one", lc_config_key_line(x, "mysql.password"));
    char *buf;
    size_t len;
    int err = lc_config_read_file(c->password_file, PASSWORD_MAX_BYTES, &buf, &len);
    if (err)
        return lc_config_fail(x, line, "mysql.password_file: cannot read '%s': %s",
                              c->password_file, strerror(err));
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    if (strlen(buf) != len) {
        free(buf);
        return lc_config_fail(x, line, "mysql.password_file: '%s' contains a NUL byte",
                              c->password_file);
    }
    free((char *)c->mysql.password);
    c->mysql.password = buf;
    return 0;
}

/* verify_ca verifies the server's chain against mysql.ssl_ca: it needs one. */
static int ssl_ca_for_verify_ca(ctx_t *x)
{
    const lc_mysql_opts_t *m = &x->c->mysql;
    if (m->ssl_mode != LC_MYSQL_SSL_VERIFY_CA || *m->ssl_ca)
        return 0;
    return lc_config_fail(x, lc_config_key_line(x, "mysql.ssl_mode"),
                          "mysql.ssl_mode verify_ca needs mysql.ssl_ca");
}

/* kafka.group_protocol: the client can use it, and no consumer pass-through property
 * belongs to the other protocol (with consumer, the broker owns the session timeout, the
 * heartbeat interval and the assignment; the protocol itself is chosen by the key). */
static int group_protocol(ctx_t *x)
{
    const lc_kafka_opts_t *k = &x->c->kafka;
    const char *gp = lc_group_protocol_names[k->group_protocol];
    char why[256];
    if (lc_kafka_group_protocol_supported(k->group_protocol, why, sizeof(why)) < 0)
        return lc_config_fail(x, lc_config_key_line(x, "kafka.group_protocol"),
                              "kafka.group_protocol %s: %s", gp, why);
    for (size_t i = 0; i < k->n_consumer_props; i++) {
        const lc_kafka_prop_t *p = &k->consumer_props[i];
        const char *no = lc_kafka_prop_refused(k->group_protocol, p->key);
        if (!no)
            continue;
        if (strcmp(p->key, "group.protocol") == 0)
            return lc_config_fail(x, p->line, "kafka.consumer.%s: not a pass-through property: "
                                  "%s", p->key, no);
        int gl = lc_config_key_line(x, "kafka.group_protocol");
        char where[32] = "";
        if (gl > 0)
            snprintf(where, sizeof(where), " (line %d)", gl);
        return lc_config_fail(x, p->line, "kafka.consumer.%s: not used with kafka.group_protocol "
                              "%s%s: %s", p->key, gp, where, no);
    }
    return 0;
}

/* librdkafka accepts every pass-through property (name and value), as the clients will
 * set them. */
static int kafka_properties(ctx_t *x)
{
    const lc_kafka_opts_t *k = &x->c->kafka;
    const struct {
        const lc_kafka_prop_t *props;
        size_t n;
    } lists[] = {{k->consumer_props, k->n_consumer_props},
                 {k->producer_props, k->n_producer_props}};
    for (size_t l = 0; l < LC_ARRAY_SIZE(lists); l++) {
        size_t bad;
        char why[512];
        if (lc_kafka_check_props(lists[l].props, lists[l].n, &bad, why, sizeof(why)) < 0)
            return lc_config_fail(x, lists[l].props[bad].line, "kafka property %s: %s",
                                  lists[l].props[bad].key, why);
    }
    return 0;
}

/* STS's rule for a role session name: 2 to 64 of [A-Za-z0-9+=,.@_-]. */
static bool session_name_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 2 && n <= 64 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") == n;
}

/* kafka.aws_iam: a region like MSK's; a role ARN that looks like one; a session name STS
 * accepts (used only with a role); no pass-through property that says otherwise about the
 * login (CONTRACT §7: such a file is refused rather than half-applied). */
static int kafka_aws_iam(ctx_t *x)
{
    const lc_kafka_opts_t *k = &x->c->kafka;
    if (!k->aws_iam)
        return 0;
    int section = lc_config_key_line(x, "kafka.aws_iam");
    int rline = lc_config_key_line(x, "kafka.aws_iam.region");
    if (!*k->aws.region)
        return lc_config_fail(x, rline ? rline : section, "kafka.aws_iam.region is required "
                              "with kafka.aws_iam: the MSK cluster's AWS region, e.g. eu-west-1");
    if (!lc_msk_iam_region_ok(k->aws.region))
        return lc_config_fail(x, rline, "kafka.aws_iam.region: '%.64s' is not an AWS region "
                              "name like eu-west-1", k->aws.region);
    int aline = lc_config_key_line(x, "kafka.aws_iam.role_arn");
    const char *arn = k->aws.role_arn;
    if (*arn && (strncmp(arn, "arn:", 4) != 0 || !strstr(arn, ":role/") || strlen(arn) > 2048))
        return lc_config_fail(x, aline, "kafka.aws_iam.role_arn: '%.128s' is not an IAM role "
                              "ARN (arn:aws:iam::ACCOUNT:role/NAME)", arn);
    int sline = lc_config_key_line(x, "kafka.aws_iam.role_session_name");
    if (!session_name_ok(k->aws.role_session_name))
        return lc_config_fail(x, sline, "kafka.aws_iam.role_session_name: '%.80s' is not 2 to "
                              "64 of A-Z a-z 0-9 + = , . @ _ -", k->aws.role_session_name);
    const struct {
        const char *name;
        const lc_kafka_prop_t *props;
        size_t n;
    } lists[] = {{"kafka.consumer", k->consumer_props, k->n_consumer_props},
                 {"kafka.producer", k->producer_props, k->n_producer_props}};
    for (size_t l = 0; l < LC_ARRAY_SIZE(lists); l++) {
        size_t bad;
        char why[256];
        if (lc_kafka_iam_conflict(lists[l].props, lists[l].n, &bad, why, sizeof(why)) < 0)
            return lc_config_fail(x, lists[l].props[bad].line, "%s.%s contradicts "
                                  "kafka.aws_iam (line %d): %s; remove it", lists[l].name,
                                  lists[l].props[bad].key, section, why);
    }
    return 0;
}

static int (*const rules[])(ctx_t *x) = {
    output_fields_differ,
    password_file,
    output_fields_not_reserved,
    ssl_ca_for_verify_ca,
    group_protocol,
    kafka_properties,
    kafka_aws_iam,
};

int lc_config_rules_check(ctx_t *x)
{
    for (size_t i = 0; i < LC_ARRAY_SIZE(rules); i++)
        if (rules[i](x) < 0)
            return -1;
    return 0;
}
