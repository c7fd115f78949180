/*
 * passthrough.c - the throughput ceiling: logclassify's Kafka path with zero work.
 *
 *   passthrough -c CONFIG
 *
 * Same client settings as logclassify by construction (lc_kafka_consumer_conf and
 * lc_kafka_producer_conf on the same configuration file: our defaults, the file's
 * kafka.consumer/kafka.producer pass-through, acks=all + idempotence), and the same loop
 * shape as src/pipeline.c at_least_once: collect up to batch.max_records (waiting up to
 * batch.max_wait_ms for the first record only), hand each record to the producer
 * (RD_KAFKA_MSG_F_COPY, the input's key and timestamp, the `status` and `source` headers,
 * the latter from the same lc_kafka_format_source), poll the producer, and commit what
 * lc_offsets (the pipeline's own module) says is acknowledged, at most every
 * batch.commit_interval_ms. The only thing left out is lc_classify(): the output value is the
 * input value unchanged (empty for a value longer than input.max_record_bytes, which
 * logclassify does not copy either).
 *
 * SIGTERM/SIGINT: drain the producer, commit synchronously, close, exit 0.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_common.h"
#include "lc_config.h"
#include "lc_kafka.h"
#include "lc_log.h"
#include "lc_offsets.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static struct {
    const lc_config_t *cfg;
    rd_kafka_t *consumer, *producer;
    lc_offsets_t *offsets;        /* the pipeline's at_least_once bookkeeping and commits */
    rd_kafka_topic_t *out;
    rd_kafka_message_t **batch;
    int batch_len;
    bool fatal;
    uint64_t records;
} P;

static void commit_result(void *ctx, rd_kafka_resp_err_t err)
{
    (void)ctx;
    if (err)
        LC_WARN("passthrough", "offset commit failed: %s", rd_kafka_err2str(err));
}

static void delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk; (void)opaque;
    lc_offsets_segment_done(m->_private, m->err == RD_KAFKA_RESP_ERR_NO_ERROR);
    if (m->err) {
        if (!P.fatal)
            LC_ERROR("passthrough", "delivery failed: %s", rd_kafka_err2str(m->err));
        P.fatal = true;
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk; (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        P.fatal = true;
    LC_WARN("kafka", "%s: %s", rd_kafka_err2name(err), reason);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)opaque;
    rd_kafka_error_t *e = NULL;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++)
            lc_offsets_assign(P.offsets, parts->elems[i].partition);
        LC_INFO("passthrough", "assigned %d partition(s)", parts->cnt);
        e = rd_kafka_incremental_assign(rk, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* The batch in hand is empty here (callbacks are served inside consumer_poll while
         * collecting); finish what the producer holds for these partitions, commit it. */
        while (!lc_offsets_idle(P.offsets, parts) && !P.fatal)
            rd_kafka_poll(P.producer, 100);
        if (!rd_kafka_assignment_lost(rk) && !P.fatal)
            lc_offsets_commit(P.offsets, parts, true);
        for (int i = 0; i < parts->cnt; i++)
            lc_offsets_forget(P.offsets, parts->elems[i].partition);
        e = rd_kafka_incremental_unassign(rk, parts);
    } else {
        LC_ERROR("passthrough", "rebalance error: %s", rd_kafka_err2str(err));
        P.fatal = true;
    }
    if (e) {
        LC_WARN("passthrough", "incremental (un)assign: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

/* The pipeline's collect_batch: the first record waits up to max_wait_ms, then only what is
 * already there is taken. */
static void collect_batch(void)
{
    int64_t deadline = lc_now_ms() + P.cfg->pipeline.batch_max_wait_ms;
    P.batch_len = 0;
    while (P.batch_len < P.cfg->pipeline.batch_max_records && !stop && !P.fatal) {
        int timeout = 0;   /* once a record is in hand, only what is already there */
        if (P.batch_len == 0) {
            int64_t left = deadline - lc_now_ms();
            timeout = (int)(left > 0 ? left : 0);
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(P.consumer, timeout);
        if (!m) {
            if (P.batch_len > 0 || lc_now_ms() >= deadline)
                break;
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                LC_WARN("consumer", "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        P.batch[P.batch_len++] = m;
    }
}

static int produce_one(const rd_kafka_message_t *in, lc_segment_t *seg)
{
    char source[512];
    int slen = lc_kafka_format_source(source, sizeof(source), rd_kafka_topic_name(in->rkt),
                                      in->partition, in->offset);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(in, &tstype);
    static const char status[] = "good";
    bool too_large = in->len > P.cfg->classify.max_record_bytes;
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            P.producer,
            RD_KAFKA_V_RKT(P.out),
            RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            /* like logclassify, never forward a too_large value (the output topic would
             * refuse it); every other value goes out unchanged */
            RD_KAFKA_V_VALUE(in->payload, too_large ? 0 : in->len),
            RD_KAFKA_V_KEY(in->key, in->key_len),
            RD_KAFKA_V_TIMESTAMP(ts > 0 ? ts : 0),
            RD_KAFKA_V_HEADER("status", status, (ssize_t)(sizeof(status) - 1)),
            RD_KAFKA_V_HEADER("source", source, (ssize_t)slen),
            RD_KAFKA_V_OPAQUE(seg),
            RD_KAFKA_V_END);
        if (!err)
            return 0;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !P.fatal) {
            rd_kafka_poll(P.producer, 50);
            continue;
        }
        lc_offsets_segment_done(seg, false);
        LC_ERROR("passthrough", "produce: %s", rd_kafka_err2str(err));
        P.fatal = true;
        return -1;
    }
}

static void run_batch(void)
{
    for (int i = 0; i < P.batch_len && !P.fatal; i++) {
        rd_kafka_message_t *m = P.batch[i];
        if (produce_one(m, lc_offsets_add(P.offsets, m->partition, m->offset)) == 0)
            P.records++;
    }
    lc_offsets_end_batch(P.offsets);
    rd_kafka_poll(P.producer, 0);
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: passthrough -c CONFIG\n");
        return 2;
    }
    char err[1024];
    lc_config_t *cfg = lc_config_load(argv[2], err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "passthrough: %s\n", err);
        return 2;
    }
    if (cfg->pipeline.delivery != LC_DELIVERY_AT_LEAST_ONCE) {
        fprintf(stderr, "passthrough: only delivery: at_least_once is modelled\n");
        return 2;
    }
    lc_log_set_level(cfg->log_level);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    P.cfg = cfg;
    P.batch = calloc((size_t)cfg->pipeline.batch_max_records, sizeof(*P.batch));

    rd_kafka_conf_t *pc = lc_kafka_producer_conf(&cfg->kafka, err, sizeof(err));
    rd_kafka_conf_t *cc = pc ? lc_kafka_consumer_conf(&cfg->kafka, err, sizeof(err)) : NULL;
    if (!pc || !cc) {
        fprintf(stderr, "passthrough: %s\n", err);
        return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(pc, delivery_cb);
    rd_kafka_conf_set_error_cb(pc, error_cb);
    rd_kafka_conf_set_rebalance_cb(cc, rebalance_cb);
    rd_kafka_conf_set_error_cb(cc, error_cb);
    char why[512];
    if (!(P.producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, why, sizeof(why))) ||
        !(P.consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, why, sizeof(why)))) {
        fprintf(stderr, "passthrough: %s\n", why);
        return 1;
    }
    rd_kafka_poll_set_consumer(P.consumer);
    if (!(P.offsets = lc_offsets_new(P.consumer, cfg->kafka.input_topic, cfg->pipeline.commit_interval_ms,
                                     commit_result, NULL))) {
        fprintf(stderr, "passthrough: out of memory\n");
        return 1;
    }
    P.out = rd_kafka_topic_new(P.producer, cfg->kafka.output_topic, NULL);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, cfg->kafka.input_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(P.consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        fprintf(stderr, "passthrough: subscribe: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    LC_INFO("passthrough", "consuming %s -> %s", cfg->kafka.input_topic, cfg->kafka.output_topic);
    while (!stop && !P.fatal) {
        collect_batch();
        if (P.batch_len > 0)
            run_batch();
        for (int i = 0; i < P.batch_len; i++)
            rd_kafka_message_destroy(P.batch[i]);
        P.batch_len = 0;
        rd_kafka_poll(P.producer, 0);       /* the pipeline's housekeeping */
        lc_offsets_tick(P.offsets, lc_now_ms());   /* also when no new batch came */
    }
    int64_t deadline = lc_now_ms() + 60000;
    while (rd_kafka_outq_len(P.producer) > 0 && lc_now_ms() < deadline)
        rd_kafka_poll(P.producer, 100);
    if (!P.fatal)
        lc_offsets_commit(P.offsets, NULL, true);
    LC_INFO("passthrough", "stopping: %" PRIu64 " records%s", P.records, P.fatal ? " (fatal error)" : "");
    rd_kafka_consumer_close(P.consumer);
    lc_offsets_free(P.offsets);
    rd_kafka_destroy(P.consumer);
    rd_kafka_topic_destroy(P.out);
    rd_kafka_flush(P.producer, 10000);
    rd_kafka_destroy(P.producer);
    free(P.batch);
    lc_config_free(cfg);
    return P.fatal ? 1 : 0;
}
