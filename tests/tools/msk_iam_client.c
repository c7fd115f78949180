/*
 * msk_iam_client.c (lc-msk-iam-client) - produces and consumes through a SASL_SSL
 * OAUTHBEARER listener with MSK IAM tokens from lc_msk_iam (the AWS credential chain, the
 * refresh callback on librdkafka's background thread), as logclassify will in phase 2.
 *
 *   lc-msk-iam-client -b HOST:PORT -t TOPIC --ca FILE --region R [-n N] [--timeout S]
 *                     [--hold S]
 *
 * Produces N records with a run-unique prefix, then consumes the topic from the start until
 * all N came back. --hold keeps the consumer polling S seconds more (token refreshes
 * meanwhile are counted). Exit 0 when all N came back; 3 with one line
 * "lc-msk-iam-client: kafka authentication failed: ..." when the broker refused the login;
 * 1 otherwise. Prints the refresh counters at the end.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_log.h"
#include "lc_msk_iam.h"

static char auth_error[512];
static int delivered, delivery_failed;

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION && !auth_error[0])
        snprintf(auth_error, sizeof(auth_error), "%s", reason);
    LC_WARN("client", "kafka: %s: %s", rd_kafka_err2name(err), reason);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err)
        delivery_failed++;
    else
        delivered++;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers, const char *ca,
                          const char *group, lc_msk_iam_t *iam)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[][2] = {
        {"bootstrap.servers", brokers}, {"ssl.ca.location", ca},
        {"group.id", group}, {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(props); i++) {
        if (type == RD_KAFKA_PRODUCER && i >= 2)
            break;
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], err, sizeof(err)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "lc-msk-iam-client: %s\n", err);
            exit(1);
        }
    }
    rd_kafka_conf_set_opaque(conf, iam);
    if (lc_msk_iam_conf_set(conf, lc_msk_iam_opaque_refresh_cb, err, sizeof(err)) != 0) {
        fprintf(stderr, "lc-msk-iam-client: %s\n", err);
        exit(1);
    }
    rd_kafka_conf_set_error_cb(conf, error_cb);
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk || lc_msk_iam_enable_background(rk, err, sizeof(err)) != 0) {
        fprintf(stderr, "lc-msk-iam-client: %s\n", err);
        exit(1);
    }
    if (type == RD_KAFKA_CONSUMER)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

static int auth_failed(void)
{
    printf("lc-msk-iam-client: kafka authentication failed: %s\n", auth_error);
    return 3;
}

int main(int argc, char **argv)
{
    const char *brokers = NULL, *topic = NULL, *ca = NULL, *region = NULL;
    int n = 100, timeout_s = 60, hold_s = 0;
    static const struct option longopts[] = {
        {"ca", required_argument, NULL, 'c'}, {"region", required_argument, NULL, 'r'},
        {"timeout", required_argument, NULL, 'T'}, {"hold", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "b:t:n:", longopts, NULL)) != -1) {
        switch (o) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'n': n = atoi(optarg); break;
        case 'c': ca = optarg; break;
        case 'r': region = optarg; break;
        case 'T': timeout_s = atoi(optarg); break;
        case 'H': hold_s = atoi(optarg); break;
        default: return 2;
        }
    }
    if (!brokers || !topic || !ca || !region || n < 1) {
        fprintf(stderr, "usage: lc-msk-iam-client -b HOST:PORT -t TOPIC --ca FILE --region R "
                        "[-n N] [--timeout S] [--hold S]\n");
        return 2;
    }
    lc_log_set_level(getenv("LC_DEBUG") ? LC_LOG_DEBUG : LC_LOG_INFO);
    char err[512];
    lc_aws_options_t opt = {.region = region};
    lc_msk_iam_t *iam = lc_msk_iam_new(&opt, NULL, err, sizeof(err));
    if (!iam) {
        fprintf(stderr, "lc-msk-iam-client: %s\n", err);
        return 1;
    }
    int64_t deadline = lc_now_ms() + (int64_t)timeout_s * 1000;
    char prefix[64], group[96];
    snprintf(prefix, sizeof(prefix), "msk-iam-%d-%" PRId64 ":", (int)getpid(), lc_wall_ms());
    snprintf(group, sizeof(group), "grp-%s", prefix);
    int rc = 1;

    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, brokers, ca, group, iam);
    for (int i = 0; i < n; i++) {
        char v[128];
        int len = snprintf(v, sizeof(v), "%s%d", prefix, i);
        rd_kafka_resp_err_t e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                                  RD_KAFKA_V_VALUE(v, (size_t)len),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                  RD_KAFKA_V_END);
        if (e) {
            fprintf(stderr, "lc-msk-iam-client: produce: %s\n", rd_kafka_err2str(e));
            goto out_p;
        }
    }
    while (delivered + delivery_failed < n && lc_now_ms() < deadline && !auth_error[0])
        rd_kafka_poll(p, 100);
    if (auth_error[0]) {
        rc = auth_failed();
        goto out_p;
    }
    if (delivered < n) {
        fprintf(stderr, "lc-msk-iam-client: %d of %d records delivered (%d failed)\n",
                delivered, n, delivery_failed);
        goto out_p;
    }
    printf("produced %d records through %s\n", delivered, brokers);

    rd_kafka_t *c = client(RD_KAFKA_CONSUMER, brokers, ca, group, iam);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(c, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    char *seen = calloc((size_t)n, 1);
    int got = 0;
    int64_t hold_until = 0;
    while (lc_now_ms() < deadline && !auth_error[0]) {
        if (got == n && !hold_until)
            hold_until = lc_now_ms() + (int64_t)hold_s * 1000;
        if (hold_until && lc_now_ms() >= hold_until)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m)
            continue;
        if (!m->err && m->len > strlen(prefix) && memcmp(m->payload, prefix, strlen(prefix)) == 0) {
            int i = atoi((const char *)m->payload + strlen(prefix));
            if (i >= 0 && i < n && !seen[i]) {
                seen[i] = 1;
                got++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    if (auth_error[0])
        rc = auth_failed();
    else if (got == n)
        rc = 0;
    else
        fprintf(stderr, "lc-msk-iam-client: consumed %d of %d records before the timeout\n", got, n);
    if (rc == 0)
        printf("consumed %d records through %s\n", got, brokers);
    free(seen);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
out_p:
    rd_kafka_flush(p, 2000);
    rd_kafka_destroy(p);
    lc_msk_iam_stats_t st;
    lc_msk_iam_stats(iam, &st);
    printf("token refreshes %u, refresh failures %u, credential fetches %u\n", st.refreshes,
           st.failures, st.credential_fetches);
    lc_msk_iam_free(iam);
    return rc;
}
