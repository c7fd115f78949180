/* kafka.c - librdkafka configuration (MSK IAM included) and log routing. */
#include "lc_kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lc_common.h"
#include "lc_log.h"

typedef struct prop {
    const char *name;
    const char *value;
} prop_t;

const char *const lc_group_protocol_names[] = {"classic", "consumer", NULL};

/* Defaults for a low-latency service; users may override any of these. */
static const prop_t consumer_defaults[] = {
    {"auto.offset.reset", "earliest"},      /* a new group starts from the oldest record: lose nothing */
    {"isolation.level", "read_committed"},
    {"socket.nagle.disable", "true"},       /* 2.0.2 leaves Nagle on: costs up to 40 ms per round trip */
    {"fetch.wait.max.ms", "100"},           /* default 500 */
    /* default 1 MB: with it the main thread waited for records 60% of the time (148k rec/s
     * against a 195k ceiling); with 4 MB it keeps up (190k). README "Performance". */
    {"max.partition.fetch.bytes", "4194304"},
    {"enable.partition.eof", "false"},
};

/* The classic protocol: the members assign, and a rebalance moves only the partitions that
 * change owner (KIP-429). The consumer protocol has the broker assign (group.remote.assignor). */
static const prop_t classic_defaults[] = {
    {"partition.assignment.strategy", "cooperative-sticky"},
};

static const prop_t producer_defaults[] = {
    {"linger.ms", "2"},
    {"socket.nagle.disable", "true"},
    {"compression.type", "none"},
};

static int set_prop(rd_kafka_conf_t *conf, const char *name, const char *value, int line,
                    const char *path, char *errstr, size_t errlen)
{
    char why[512];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) == RD_KAFKA_CONF_OK)
        return 0;
    if (line > 0)
        return lc_err(errstr, errlen, "%s:%d: kafka property %s: %s", path, line, name, why);
    return lc_err(errstr, errlen, "kafka property %s: %s", name, why);
}

static int set_list(rd_kafka_conf_t *conf, const prop_t *props, size_t n, char *errstr, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (set_prop(conf, props[i].name, props[i].value, 0, NULL, errstr, errlen) != 0)
            return -1;
    return 0;
}

static int set_passthrough(rd_kafka_conf_t *conf, const lc_kafka_prop_t *kv, size_t n,
                           const char *path, char *errstr, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (set_prop(conf, kv[i].key, kv[i].value, kv[i].line, path, errstr, errlen) != 0)
            return -1;
    return 0;
}

/* Properties the delivery guarantees rest on: set last, and a differing user value is
 * reported instead of silently weakening the guarantee. */
static int force_prop(rd_kafka_conf_t *conf, const lc_kafka_prop_t *user, size_t n,
                      const char *name, const char *value, char *errstr, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(user[i].key, name) == 0 && strcmp(user[i].value, value) != 0)
            LC_WARN("config", "kafka property %s=%s ignored: logclassify needs %s", name,
                    lc_log_is_secret_name(name) ? "********" : user[i].value, value);
    return set_prop(conf, name, value, 0, NULL, errstr, errlen);
}

/* ---- MSK IAM ---------------------------------------------------------------------- */

/* Why the pass-through property key=value contradicts MSK IAM, or NULL when it does not. */
static const char *iam_conflict(const char *key, const char *value)
{
    if (strcmp(key, "security.protocol") == 0 && strcasecmp(value, "SASL_SSL") != 0)
        return "MSK IAM needs security.protocol SASL_SSL";
    if ((strcmp(key, "sasl.mechanism") == 0 || strcmp(key, "sasl.mechanisms") == 0) &&
        strcmp(value, "OAUTHBEARER") != 0)
        return "MSK IAM needs sasl.mechanism OAUTHBEARER";
    if (strncmp(key, "sasl.oauthbearer.", strlen("sasl.oauthbearer.")) == 0)
        return "MSK IAM makes the OAUTHBEARER tokens itself";
    if (strcmp(key, "enable.sasl.oauthbearer.unsecure.jwt") == 0 &&
        strcasecmp(value, "false") != 0 && strcmp(value, "0") != 0)
        return "MSK IAM makes the OAUTHBEARER tokens itself";
    return NULL;
}

int lc_kafka_iam_conflict(const lc_kafka_prop_t *props, size_t n, size_t *bad, char *why,
                          size_t whylen)
{
    for (size_t i = 0; i < n; i++) {
        const char *c = iam_conflict(props[i].key, props[i].value);
        if (c) {
            *bad = i;
            return lc_err(why, whylen, "%s", c);
        }
    }
    return 0;
}

/* MSK IAM's properties and refresh callback, last: a pass-through value that contradicts
 * them is logged and ignored, like the other forced properties (the configuration refuses
 * such a file before it gets here). */
static int force_iam(rd_kafka_conf_t *conf, const lc_kafka_opts_t *o, const lc_kafka_prop_t *u,
                     size_t n, lc_msk_iam_refresh_cb_t *refresh, char *errstr, size_t errlen)
{
    if (!o->aws_iam)
        return 0;
    if (!refresh)
        return lc_err(errstr, errlen, "kafka.aws_iam: no token refresh callback");
    for (size_t i = 0; i < n; i++) {
        const char *c = iam_conflict(u[i].key, u[i].value);
        if (!c)
            continue;
        LC_WARN("config", "kafka property %s ignored: %s (kafka.aws_iam)", u[i].key, c);
        /* a token source of librdkafka's own would take the place of the callback: back to
         * the defaults (set only when given: a librdkafka built without OIDC, such as
         * Debian's, does not know sasl.oauthbearer.method at all) */
        const char *reset = strcmp(u[i].key, "sasl.oauthbearer.method") == 0 ? "default"
                          : strcmp(u[i].key, "enable.sasl.oauthbearer.unsecure.jwt") == 0
                              ? "false" : NULL;
        if (reset && set_prop(conf, u[i].key, reset, 0, NULL, errstr, errlen) != 0)
            return -1;
    }
    return lc_msk_iam_conf_set(conf, refresh, errstr, errlen);
}

rd_kafka_t *lc_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const lc_kafka_opts_t *o,
                         char *errstr, size_t errlen)
{
    const char *what = type == RD_KAFKA_PRODUCER ? "producer" : "consumer";
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof(why));
    if (!rk) {
        rd_kafka_conf_destroy(conf);   /* rd_kafka_new takes it only when it succeeds */
        lc_err(errstr, errlen, "cannot create the kafka %s: %s", what, why);
        return NULL;
    }
    if (o->aws_iam && lc_msk_iam_enable_background(rk, why, sizeof(why)) != 0) {
        rd_kafka_destroy(rk);
        lc_err(errstr, errlen, "kafka %s: %s", what, why);
        return NULL;
    }
    return rk;
}

/* ---- logs and checks ------------------------------------------------------------------- */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    lc_log_level_t l = level <= 3 ? LC_LOG_ERROR : level == 4 ? LC_LOG_WARN
                     : level <= 6 ? LC_LOG_INFO : LC_LOG_DEBUG;
    LC_LOG(l, "rdkafka", "%s: %s", fac, buf);
}

void lc_kafka_route_logs(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, log_cb);
}

/* librdkafka's consumer protocol is generally available from 2.12.0 on. */
#define CONSUMER_PROTOCOL_MIN_VERSION 0x020c0000

int lc_kafka_group_protocol_supported(lc_group_protocol_t gp, char *why, size_t whylen)
{
    if (gp != LC_GROUP_PROTOCOL_CONSUMER || rd_kafka_version() >= CONSUMER_PROTOCOL_MIN_VERSION)
        return 0;
    return lc_err(why, whylen, "the consumer group protocol needs librdkafka 2.12 or newer; "
                  "this build runs %s", rd_kafka_version_str());
}

/* Consumer properties of the classic protocol that the consumer protocol has no use for
 * (librdkafka refuses them with it): the broker owns the session and the assignment. */
static const prop_t classic_only[] = {
    {"session.timeout.ms", "the broker's group.consumer.session.timeout.ms sets it"},
    {"heartbeat.interval.ms", "the broker's group.consumer.heartbeat.interval.ms sets it"},
    {"partition.assignment.strategy", "the broker assigns the partitions (group.remote.assignor "
                                      "chooses how)"},
    {"group.protocol.type", "it names a classic protocol type"},
};

const char *lc_kafka_prop_refused(lc_group_protocol_t gp, const char *name)
{
    if (strcmp(name, "group.protocol") == 0)
        return "kafka.group_protocol chooses the group protocol";
    if (gp != LC_GROUP_PROTOCOL_CONSUMER)
        return NULL;
    for (size_t i = 0; i < LC_ARRAY_SIZE(classic_only); i++)
        if (strcmp(name, classic_only[i].name) == 0)
            return classic_only[i].value;
    return NULL;
}

int lc_kafka_check_props(const lc_kafka_prop_t *props, size_t n, size_t *bad, char *why,
                         size_t whylen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (rd_kafka_conf_set(conf, props[i].key, props[i].value, why, whylen) !=
            RD_KAFKA_CONF_OK) {
            *bad = i;
            rc = -1;
        }
    }
    rd_kafka_conf_destroy(conf);
    return rc;
}

rd_kafka_conf_t *lc_kafka_consumer_conf(const lc_kafka_opts_t *o,
                                        lc_msk_iam_refresh_cb_t *iam_refresh, char *errstr,
                                        size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const lc_kafka_prop_t *u = o->consumer_props;
    size_t n = o->n_consumer_props;
    bool classic = o->group_protocol == LC_GROUP_PROTOCOL_CLASSIC;
    if (set_prop(conf, "bootstrap.servers", o->brokers, 0, NULL, errstr, errlen) ||
        set_list(conf, consumer_defaults, LC_ARRAY_SIZE(consumer_defaults), errstr, errlen) ||
        (classic && set_list(conf, classic_defaults, LC_ARRAY_SIZE(classic_defaults), errstr,
                             errlen)) ||
        set_passthrough(conf, u, n, o->config_path, errstr, errlen) ||
        /* classic is librdkafka's default, and the only protocol librdkafka < 2.4 knows */
        (!classic && force_prop(conf, u, n, "group.protocol", "consumer", errstr, errlen)) ||
        force_prop(conf, u, n, "group.id", o->group_id, errstr, errlen) ||
        force_prop(conf, u, n, "enable.auto.commit", "false", errstr, errlen) ||
        force_prop(conf, u, n, "enable.auto.offset.store", "false", errstr, errlen) ||
        force_iam(conf, o, u, n, iam_refresh, errstr, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    lc_kafka_route_logs(conf);
    return conf;
}

rd_kafka_conf_t *lc_kafka_producer_conf(const lc_kafka_opts_t *o,
                                        lc_msk_iam_refresh_cb_t *iam_refresh, char *errstr,
                                        size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const lc_kafka_prop_t *u = o->producer_props;
    size_t n = o->n_producer_props;
    /* An output record is its input plus a few dozen bytes; a bad record's raw/base64 copy
     * can be up to 4/3 of it plus escapes: room for the largest record we accept. */
    char max_bytes[32];
    long long need = (long long)o->max_record_bytes * 2 + 65536;
    if (need < 1000000)
        need = 1000000;
    if (need > 1000000000)
        need = 1000000000;
    snprintf(max_bytes, sizeof(max_bytes), "%lld", need);
    int rc = set_prop(conf, "bootstrap.servers", o->brokers, 0, NULL, errstr, errlen) ||
             set_list(conf, producer_defaults, LC_ARRAY_SIZE(producer_defaults), errstr, errlen) ||
             set_prop(conf, "message.max.bytes", max_bytes, 0, NULL, errstr, errlen) ||
             set_passthrough(conf, u, n, o->config_path, errstr, errlen) ||
             force_prop(conf, u, n, "enable.idempotence", "true", errstr, errlen) ||
             force_prop(conf, u, n, "acks", "all", errstr, errlen);
    if (!rc && o->transactional)
        rc = force_prop(conf, u, n, "transactional.id", o->transactional_id, errstr, errlen);
    if (!rc)
        rc = force_iam(conf, o, u, n, iam_refresh, errstr, errlen);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    lc_kafka_route_logs(conf);
    return conf;
}

static bool topic_in_metadata(const struct rd_kafka_metadata *md, const char *topic)
{
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0)
            return md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR;
    return false;
}

/* Serves the handle's queued events (error_cb among them) without waiting. */
static void serve_events(rd_kafka_t *rk)
{
    if (rd_kafka_type(rk) == RD_KAFKA_PRODUCER) {
        rd_kafka_poll(rk, 0);
        return;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 0);   /* nothing is assigned yet */
    if (m)
        rd_kafka_message_destroy(m);
}

int lc_kafka_wait_cluster(rd_kafka_t *rk, const char *input_topic, const char *output_topic,
                          int timeout_ms, const char *auth_error, bool *input_exists,
                          bool *output_exists, char *errstr, size_t errlen)
{
    int64_t deadline = lc_now_ms() + timeout_ms;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TRANSPORT;
    for (;;) {
        serve_events(rk);
        if (auth_error && auth_error[0])
            return lc_err(errstr, errlen, "kafka authentication failed: %s", auth_error);
        int64_t left = deadline - lc_now_ms();
        if (left <= 0)
            break;
        const struct rd_kafka_metadata *md = NULL;
        /* short attempts, so an authentication error ends the wait within a second */
        err = rd_kafka_metadata(rk, 1, NULL, &md, (int)(left < 1000 ? left : 1000));
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            *input_exists = topic_in_metadata(md, input_topic);
            *output_exists = topic_in_metadata(md, output_topic);
            rd_kafka_metadata_destroy(md);
            return 0;
        }
    }
    return lc_err(errstr, errlen, "kafka %s unreachable after %d s: %s",
                  "brokers", timeout_ms / 1000, rd_kafka_err2str(err));
}

bool lc_kafka_reachable(rd_kafka_t *rk, int timeout_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return false;
    rd_kafka_metadata_destroy(md);
    return true;
}

int lc_kafka_consumer_lag(rd_kafka_t *consumer, int64_t *lag_out)
{
    int64_t lag = 0;
    bool known = false;
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(consumer, &l) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    rd_kafka_position(consumer, l);
    for (int i = 0; i < l->cnt; i++) {
        int64_t lo, hi;
        if (rd_kafka_get_watermark_offsets(consumer, l->elems[i].topic, l->elems[i].partition,
                                           &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR || hi < 0)
            continue;
        int64_t pos = l->elems[i].offset >= 0 ? l->elems[i].offset : lo;
        if (hi > pos)
            lag += hi - pos;
        known = true;
    }
    bool none_assigned = l->cnt == 0;
    rd_kafka_topic_partition_list_destroy(l);
    *lag_out = known || none_assigned ? lag : -1;
    return 0;
}

/* Appends the decimal digits of v (v >= 0) at o; returns the end. */
static char *put_decimal(char *o, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *o++ = tmp[--n];
    return o;
}

/* `<topic>/<partition>/<offset>` as snprintf("%s/%d/%lld") would write it (truncated to
 * cap - 1 bytes), without printf's cost on every record. */
int lc_kafka_format_source(char *buf, size_t cap, const char *topic, int32_t partition,
                           int64_t offset)
{
    size_t tlen = strlen(topic);
    if (tlen + 44 > cap)    /* 2 slashes, int32, int64 and a NUL always fit below cap */
        return snprintf(buf, cap, "%s/%" PRId32 "/%" PRId64, topic, partition, offset);
    memcpy(buf, topic, tlen);
    char *o = buf + tlen;
    *o++ = '/';
    if (partition < 0) {
        *o++ = '-';
        o = put_decimal(o, (uint64_t)-(int64_t)partition);
    } else {
        o = put_decimal(o, (uint64_t)partition);
    }
    *o++ = '/';
    if (offset < 0) {
        *o++ = '-';
        o = put_decimal(o, 0 - (uint64_t)offset);
    } else {
        o = put_decimal(o, (uint64_t)offset);
    }
    *o = '\0';
    return (int)(o - buf);
}
