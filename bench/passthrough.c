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
 * (RD_KAFKA_MSG_F_COPY, the input's key and timestamp, the `status` and `source` headers),
 * poll the producer, and commit asynchronously every partition's prefix whose delivery
 * reports are all back (per-partition segments; one commit in flight at a time, on its own
 * result queue, re-sent until acknowledged, also between batches: as the pipeline does). The only thing left
 * out is lc_classify(): the output value is the input value unchanged (empty for a value
 * longer than input.max_record_bytes, which logclassify does not copy either).
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

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

typedef struct segment {
    struct segment *next;
    int64_t last_offset;
    uint32_t pending;
    bool failed;
} segment_t;

typedef struct part {
    bool assigned;
    segment_t *head, *tail, *open;
    int64_t done;        /* offset up to which every record's output is acknowledged */
    int64_t committed;   /* offset the broker acknowledged as committed */
} part_t;

static struct {
    const lc_config_t *cfg;
    rd_kafka_t *consumer, *producer;
    rd_kafka_queue_t *commit_q;   /* results of our async commits, served by us */
    bool commit_inflight;         /* one async commit at a time, as the pipeline */
    rd_kafka_topic_t *out;
    part_t *parts;
    int nparts;
    rd_kafka_message_t **batch;
    int batch_len;
    bool fatal;
    uint64_t records;
} P;

static part_t *part_get(int32_t id)
{
    if (id >= P.nparts) {
        int n = id + 1 > P.nparts * 2 ? id + 1 : P.nparts * 2;
        P.parts = realloc(P.parts, (size_t)n * sizeof(*P.parts));
        if (!P.parts)
            abort();
        memset(P.parts + P.nparts, 0, (size_t)(n - P.nparts) * sizeof(*P.parts));
        for (int i = P.nparts; i < n; i++)
            P.parts[i].done = P.parts[i].committed = -1;
        P.nparts = n;
    }
    return &P.parts[id];
}

static segment_t *segment_open(part_t *pt)
{
    if (pt->open)
        return pt->open;
    segment_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    if (pt->tail)
        pt->tail->next = s;
    else
        pt->head = s;
    pt->tail = pt->open = s;
    return s;
}

static int64_t part_advance(part_t *pt)
{
    int64_t commit = -1;
    while (pt->head && pt->head != pt->open && pt->head->pending == 0 && !pt->head->failed) {
        segment_t *s = pt->head;
        commit = s->last_offset + 1;
        pt->head = s->next;
        if (!pt->head)
            pt->tail = NULL;
        free(s);
    }
    return commit;
}

static bool part_idle(const part_t *pt)
{
    for (const segment_t *s = pt->head; s; s = s->next)
        if (s->pending)
            return false;
    return true;
}

static void part_clear(part_t *pt)
{
    segment_t *s = pt->head;
    while (s) {
        segment_t *n = s->next;
        free(s);
        s = n;
    }
    pt->head = pt->tail = pt->open = NULL;
    pt->assigned = false;
    pt->done = pt->committed = -1;
}

/* The broker's answer: acknowledged offsets need no further commit (src/pipeline.c). */
static void note_committed(const rd_kafka_topic_partition_list_t *offs, rd_kafka_resp_err_t err)
{
    for (int i = 0; i < offs->cnt; i++) {
        const rd_kafka_topic_partition_t *e = &offs->elems[i];
        if (err || e->err || e->partition >= P.nparts || strcmp(e->topic, P.cfg->kafka_input_topic))
            continue;
        part_t *pt = &P.parts[e->partition];
        if (pt->assigned && e->offset > pt->committed)
            pt->committed = e->offset;
    }
}

static void commit_done_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *offsets, void *opaque);

/* Every partition's finished prefix not yet acknowledged as committed, as src/pipeline.c:
 * at most one async commit in flight (on its own result queue), a sync commit waits for it
 * first, a failed commit is sent again by the next call. */
static void commit_finished(const rd_kafka_topic_partition_list_t *only, bool sync)
{
    if (sync) {
        for (int i = 0; P.commit_inflight && i < 300; i++)
            rd_kafka_queue_poll_callback(P.commit_q, 100);
    } else if (P.commit_inflight) {
        return;
    }
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(8);
    for (int id = 0; id < P.nparts; id++) {
        part_t *pt = &P.parts[id];
        if (!pt->assigned)
            continue;
        if (only && !rd_kafka_topic_partition_list_find(only, P.cfg->kafka_input_topic, id))
            continue;
        int64_t off = part_advance(pt);
        if (off > pt->done)
            pt->done = off;
        if (pt->done > pt->committed)
            rd_kafka_topic_partition_list_add(offs, P.cfg->kafka_input_topic, id)->offset = pt->done;
    }
    if (offs->cnt > 0) {
        P.commit_inflight = !sync;
        rd_kafka_resp_err_t err = rd_kafka_commit_queue(P.consumer, offs, sync ? NULL : P.commit_q,
                                                        commit_done_cb, NULL);
        if (err && !sync) {
            P.commit_inflight = false;
            LC_WARN("passthrough", "offset commit failed: %s", rd_kafka_err2str(err));
        }
    }
    rd_kafka_topic_partition_list_destroy(offs);
}

static void commit_done_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk; (void)opaque;
    P.commit_inflight = false;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    if (err)
        LC_WARN("passthrough", "async offset commit failed: %s", rd_kafka_err2str(err));
    else
        note_committed(offsets, err);
}

static void delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk; (void)opaque;
    segment_t *s = m->_private;
    if (s)
        s->pending--;
    if (m->err) {
        if (s)
            s->failed = true;
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
        for (int i = 0; i < parts->cnt; i++) {
            part_t *pt = part_get(parts->elems[i].partition);
            part_clear(pt);
            pt->assigned = true;
        }
        LC_INFO("passthrough", "assigned %d partition(s)", parts->cnt);
        e = rd_kafka_incremental_assign(rk, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* The batch in hand is empty here (callbacks are served inside consumer_poll while
         * collecting); finish what the producer holds for these partitions, commit it. */
        for (;;) {
            bool idle = true;
            for (int i = 0; i < parts->cnt && idle; i++) {
                int32_t id = parts->elems[i].partition;
                if (id < P.nparts && !part_idle(&P.parts[id]))
                    idle = false;
            }
            if (idle || P.fatal)
                break;
            rd_kafka_poll(P.producer, 100);
        }
        if (!rd_kafka_assignment_lost(rk) && !P.fatal)
            commit_finished(parts, true);
        for (int i = 0; i < parts->cnt; i++)
            if (parts->elems[i].partition < P.nparts)
                part_clear(&P.parts[parts->elems[i].partition]);
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
    int64_t deadline = lc_now_ms() + P.cfg->batch_max_wait_ms;
    P.batch_len = 0;
    while (P.batch_len < P.cfg->batch_max_records && !stop && !P.fatal) {
        int64_t left = deadline - lc_now_ms();
        int timeout = P.batch_len > 0 ? 0 : (int)(left > 0 ? left : 0);
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

static int produce_one(const rd_kafka_message_t *in, segment_t *seg)
{
    char source[512];
    int slen = snprintf(source, sizeof(source), "%s/%" PRId32 "/%" PRId64,
                        rd_kafka_topic_name(in->rkt), in->partition, in->offset);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(in, &tstype);
    static const char status[] = "good";
    bool too_large = in->len > (size_t)P.cfg->input_max_record_bytes;
    seg->pending++;
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
        seg->pending--;
        seg->failed = true;
        LC_ERROR("passthrough", "produce: %s", rd_kafka_err2str(err));
        P.fatal = true;
        return -1;
    }
}

static void run_batch(void)
{
    for (int i = 0; i < P.batch_len && !P.fatal; i++) {
        rd_kafka_message_t *m = P.batch[i];
        segment_t *seg = segment_open(part_get(m->partition));
        seg->last_offset = m->offset;
        if (produce_one(m, seg) == 0)
            P.records++;
    }
    for (int id = 0; id < P.nparts; id++)
        P.parts[id].open = NULL;
    rd_kafka_poll(P.producer, 0);
    rd_kafka_queue_poll_callback(P.commit_q, 0);
    commit_finished(NULL, false);
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
    if (cfg->delivery != LC_DELIVERY_AT_LEAST_ONCE) {
        fprintf(stderr, "passthrough: only delivery: at_least_once is modelled\n");
        return 2;
    }
    lc_log_level_t level = LC_LOG_INFO;
    lc_log_parse_level(cfg->log_level, &level);
    lc_log_set_level(level);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    P.cfg = cfg;
    P.batch = calloc((size_t)cfg->batch_max_records, sizeof(*P.batch));

    rd_kafka_conf_t *pc = lc_kafka_producer_conf(cfg, err, sizeof(err));
    rd_kafka_conf_t *cc = pc ? lc_kafka_consumer_conf(cfg, err, sizeof(err)) : NULL;
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
    P.commit_q = rd_kafka_queue_new(P.consumer);
    P.out = rd_kafka_topic_new(P.producer, cfg->kafka_output_topic, NULL);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, cfg->kafka_input_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(P.consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        fprintf(stderr, "passthrough: subscribe: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    LC_INFO("passthrough", "consuming %s -> %s", cfg->kafka_input_topic, cfg->kafka_output_topic);
    while (!stop && !P.fatal) {
        collect_batch();
        if (P.batch_len > 0)
            run_batch();
        for (int i = 0; i < P.batch_len; i++)
            rd_kafka_message_destroy(P.batch[i]);
        P.batch_len = 0;
        rd_kafka_poll(P.producer, 0);       /* the pipeline's housekeeping */
        rd_kafka_queue_poll_callback(P.commit_q, 0);
        commit_finished(NULL, false);       /* also when no new batch came */
    }
    int64_t deadline = lc_now_ms() + 60000;
    while (rd_kafka_outq_len(P.producer) > 0 && lc_now_ms() < deadline)
        rd_kafka_poll(P.producer, 100);
    if (!P.fatal)
        commit_finished(NULL, true);
    LC_INFO("passthrough", "stopping: %" PRIu64 " records%s", P.records, P.fatal ? " (fatal error)" : "");
    rd_kafka_consumer_close(P.consumer);
    rd_kafka_queue_destroy(P.commit_q);
    rd_kafka_destroy(P.consumer);
    rd_kafka_topic_destroy(P.out);
    rd_kafka_flush(P.producer, 10000);
    rd_kafka_destroy(P.producer);
    for (int id = 0; id < P.nparts; id++)
        part_clear(&P.parts[id]);
    free(P.parts);
    free(P.batch);
    lc_config_free(cfg);
    return P.fatal ? 1 : 0;
}
