/*
 * test_kafka.c - the librdkafka client configuration (src/kafka.c): our low-latency and
 * throughput defaults, the user's pass-through overriding them, the properties delivery
 * rests on overriding the user, MSK IAM's (kafka.aws_iam) overriding the user and reaching
 * the refresh callback through the client's opaque; and the `source` header formatter
 * agreeing with snprintf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "lc_config.h"
#include "lc_kafka.h"

static lc_config_t *config(const char *yaml)
{
    char err[512];
    lc_config_t *c = lc_config_load_string(yaml, "t.yaml", err, sizeof(err));
    if (!c)
        fail_msg("config: %s", err);
    return c;
}

static void assert_prop(rd_kafka_conf_t *conf, const char *name, const char *want)
{
    char v[512];
    size_t n = sizeof(v);
    assert_int_equal(rd_kafka_conf_get(conf, name, v, &n), RD_KAFKA_CONF_OK);
    if (strcmp(v, want) != 0)
        fail_msg("%s = %s, expected %s", name, v, want);
}

static void consumer_defaults(void **state)
{
    (void)state;
    char err[512];
    lc_config_t *c = config("kafka:\n  group_id: g1\n");
    rd_kafka_conf_t *conf = lc_kafka_consumer_conf(&c->kafka, NULL, err, sizeof(err));
    assert_non_null(conf);
    assert_prop(conf, "socket.nagle.disable", "true");
    assert_prop(conf, "fetch.wait.max.ms", "100");
    assert_prop(conf, "max.partition.fetch.bytes", "4194304");
    assert_prop(conf, "isolation.level", "read_committed");
    assert_prop(conf, "auto.offset.reset", "smallest");   /* librdkafka's name for earliest */
    assert_prop(conf, "group.id", "g1");
    assert_prop(conf, "enable.auto.commit", "false");
    assert_prop(conf, "enable.auto.offset.store", "false");
    rd_kafka_conf_destroy(conf);
    lc_config_free(c);
}

/* A consumer librdkafka accepts (rd_kafka_new checks the protocol's properties); destroyed. */
static void assert_consumer_created(rd_kafka_conf_t *conf)
{
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (!rk)
        fail_msg("rd_kafka_new refused the consumer configuration: %s", why);
    rd_kafka_destroy(rk);
}

/* classic: cooperative-sticky. consumer: group.protocol=consumer and none of the classic
 * properties librdkafka refuses with it; group.remote.assignor passes through. */
static void group_protocols(void **state)
{
    (void)state;
    char err[512];
    lc_config_t *c = config("kafka:\n  consumer:\n    session.timeout.ms: \"6000\"\n");
    rd_kafka_conf_t *conf = lc_kafka_consumer_conf(&c->kafka, NULL, err, sizeof(err));
    assert_non_null(conf);
    assert_prop(conf, "partition.assignment.strategy", "cooperative-sticky");
    assert_prop(conf, "session.timeout.ms", "6000");
    assert_consumer_created(conf);
    lc_config_free(c);

    if (rd_kafka_version() < 0x020c0000) {   /* LIBRDKAFKA=system: test_config covers it */
        assert_int_equal(lc_kafka_group_protocol_supported(LC_GROUP_PROTOCOL_CONSUMER, err,
                                                           sizeof(err)), -1);
        return;
    }
    assert_int_equal(lc_kafka_group_protocol_supported(LC_GROUP_PROTOCOL_CONSUMER, err,
                                                       sizeof(err)), 0);
    c = config("kafka:\n  group_protocol: consumer\n  consumer:\n"
               "    group.remote.assignor: range\n");
    conf = lc_kafka_consumer_conf(&c->kafka, NULL, err, sizeof(err));
    assert_non_null(conf);
    assert_prop(conf, "group.protocol", "consumer");
    assert_prop(conf, "group.remote.assignor", "range");
    assert_prop(conf, "partition.assignment.strategy", "range,roundrobin");   /* unset */
    assert_prop(conf, "enable.auto.commit", "false");
    assert_consumer_created(conf);
    lc_config_free(c);
}

static void producer_defaults(void **state)
{
    (void)state;
    char err[512];
    lc_config_t *c = config("delivery: exactly_once\nkafka:\n  transactional_id: tx-9\n");
    rd_kafka_conf_t *conf = lc_kafka_producer_conf(&c->kafka, NULL, err, sizeof(err));
    assert_non_null(conf);
    assert_prop(conf, "linger.ms", "2");
    assert_prop(conf, "socket.nagle.disable", "true");
    assert_prop(conf, "enable.idempotence", "true");
    assert_prop(conf, "acks", "-1");            /* librdkafka's spelling of all */
    assert_prop(conf, "transactional.id", "tx-9");
    rd_kafka_conf_destroy(conf);
    lc_config_free(c);
}

/* A user's tuning wins over our defaults; the guarantees win over the user. */
static void pass_through_and_forced(void **state)
{
    (void)state;
    char err[512];
    lc_config_t *c = config("kafka:\n"
                            "  consumer:\n"
                            "    max.partition.fetch.bytes: \"1048576\"\n"
                            "    enable.auto.commit: \"true\"\n"
                            "  producer:\n"
                            "    linger.ms: \"20\"\n"
                            "    acks: \"1\"\n");
    rd_kafka_conf_t *cc = lc_kafka_consumer_conf(&c->kafka, NULL, err, sizeof(err));
    rd_kafka_conf_t *pc = lc_kafka_producer_conf(&c->kafka, NULL, err, sizeof(err));
    assert_non_null(cc);
    assert_non_null(pc);
    assert_prop(cc, "max.partition.fetch.bytes", "1048576");
    assert_prop(cc, "enable.auto.commit", "false");
    assert_prop(pc, "linger.ms", "20");
    assert_prop(pc, "acks", "-1");
    rd_kafka_conf_destroy(cc);
    rd_kafka_conf_destroy(pc);
    lc_config_free(c);
}

/* What a refresh callback saw: the opaque it was given leads here. */
typedef struct refresh_seen {
    atomic_int calls;
    atomic_int other_thread;    /* called off the thread that created the client */
    pthread_t creator;
} refresh_seen_t;

static void count_refresh(rd_kafka_t *rk, const char *oauthbearer_config, void *opaque)
{
    (void)oauthbearer_config;
    refresh_seen_t *seen = opaque;
    atomic_fetch_add(&seen->calls, 1);
    if (!pthread_equal(pthread_self(), seen->creator))
        atomic_store(&seen->other_thread, 1);
    rd_kafka_oauthbearer_set_token_failure(rk, "test: no token");
}

/* kafka.aws_iam: both confs log in with MSK IAM whatever the pass-through says (the
 * configuration refuses such a file; an opts struct made in code gets the warning), and the
 * refresh callback is called on librdkafka's background thread with the client's opaque. */
static void aws_iam_confs(void **state)
{
    (void)state;
    char err[512];
    lc_config_t *c = config("kafka:\n"
                            "  consumer:\n"
                            "    security.protocol: SSL\n"
                            "    enable.sasl.oauthbearer.unsecure.jwt: \"true\"\n"
                            "    sasl.oauthbearer.config: \"principal=x\"\n"
                            "  producer:\n"
                            "    sasl.mechanisms: PLAIN\n"
                            "    ssl.ca.location: /etc/ssl/certs/ca-certificates.crt\n");
    lc_kafka_opts_t o = c->kafka;
    o.aws_iam = true;
    o.aws.region = "eu-west-1";
    assert_null(lc_kafka_consumer_conf(&o, NULL, err, sizeof(err)));
    assert_string_equal(err, "kafka.aws_iam: no token refresh callback");

    rd_kafka_conf_t *cc = lc_kafka_consumer_conf(&o, count_refresh, err, sizeof(err));
    rd_kafka_conf_t *pc = lc_kafka_producer_conf(&o, count_refresh, err, sizeof(err));
    assert_non_null(cc);
    assert_non_null(pc);
    rd_kafka_conf_t *both[] = {cc, pc};
    for (size_t i = 0; i < 2; i++) {
        assert_prop(both[i], "security.protocol", "sasl_ssl");
        assert_prop(both[i], "sasl.mechanisms", "OAUTHBEARER");
        assert_prop(both[i], "enable.sasl.oauthbearer.unsecure.jwt", "false");
    }
    assert_prop(pc, "ssl.ca.location", "/etc/ssl/certs/ca-certificates.crt");
    assert_prop(pc, "enable.idempotence", "true");
    assert_prop(cc, "enable.auto.commit", "false");
    rd_kafka_conf_destroy(cc);

    refresh_seen_t seen = {.creator = pthread_self()};
    rd_kafka_conf_set_opaque(pc, &seen);
    rd_kafka_conf_set(pc, "bootstrap.servers", "127.0.0.1:1", err, sizeof(err));
    rd_kafka_conf_set(pc, "log_level", "0", err, sizeof(err));
    rd_kafka_t *rk = lc_kafka_new(RD_KAFKA_PRODUCER, pc, &o, err, sizeof(err));
    if (!rk)
        fail_msg("lc_kafka_new: %s", err);
    for (int i = 0; i < 100 && !atomic_load(&seen.calls); i++)
        usleep(20000);
    assert_true(atomic_load(&seen.calls) >= 1);
    assert_int_equal(atomic_load(&seen.other_thread), 1);
    rd_kafka_destroy(rk);

    /* without IAM, the callback is not asked for and nothing of IAM's is set */
    rd_kafka_conf_t *plain = lc_kafka_consumer_conf(&c->kafka, count_refresh, err, sizeof(err));
    assert_non_null(plain);
    assert_prop(plain, "security.protocol", "ssl");
    rd_kafka_conf_destroy(plain);
    lc_config_free(c);

    /* the check the configuration runs */
    const lc_kafka_prop_t agree[] = {{"security.protocol", "sasl_ssl", 1},
                                     {"sasl.mechanism", "OAUTHBEARER", 2},
                                     {"sasl.username", "ignored", 3}};
    size_t bad = 99;
    assert_int_equal(lc_kafka_iam_conflict(agree, 3, &bad, err, sizeof(err)), 0);
    const lc_kafka_prop_t differ[] = {{"linger.ms", "5", 1},
                                      {"sasl.oauthbearer.client.secret", "s3cr3t", 2}};
    assert_int_equal(lc_kafka_iam_conflict(differ, 2, &bad, err, sizeof(err)), -1);
    assert_int_equal(bad, 1);
    assert_null(strstr(err, "s3cr3t"));
}

static void source_header_matches_snprintf(void **state)
{
    (void)state;
    const char *topics[] = {"server-logs", "", "t", "a.b_c-d"};
    const int32_t parts[] = {0, 3, 9, 10, 2147483647, -1, (int32_t)-2147483647 - 1};
    const int64_t offs[] = {0, 1, 9, 10, 123456789, INT64_MAX, -1, -1001, INT64_MIN};
    for (size_t t = 0; t < sizeof(topics) / sizeof(*topics); t++)
        for (size_t p = 0; p < sizeof(parts) / sizeof(*parts); p++)
            for (size_t f = 0; f < sizeof(offs) / sizeof(*offs); f++) {
                char want[128], got[128];
                int wn = snprintf(want, sizeof(want), "%s/%" PRId32 "/%" PRId64, topics[t],
                                  parts[p], offs[f]);
                int gn = lc_kafka_format_source(got, sizeof(got), topics[t], parts[p], offs[f]);
                assert_string_equal(got, want);
                assert_int_equal(gn, wn);
            }
    /* a topic too long for the buffer: truncated as snprintf truncates */
    char longtopic[300];
    memset(longtopic, 'x', sizeof(longtopic) - 1);
    longtopic[sizeof(longtopic) - 1] = 0;
    char got[64];
    lc_kafka_format_source(got, sizeof(got), longtopic, 1, 2);
    assert_int_equal(strlen(got), sizeof(got) - 1);
    assert_int_equal(strspn(got, "x"), sizeof(got) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(consumer_defaults),
        cmocka_unit_test(group_protocols),
        cmocka_unit_test(producer_defaults),
        cmocka_unit_test(pass_through_and_forced),
        cmocka_unit_test(aws_iam_confs),
        cmocka_unit_test(source_header_matches_snprintf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
