/* pipeline.c - consume -> classify -> produce, with at-least-once or exactly-once hand-over. */
#include "lc_pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_kafka.h"
#include "lc_log.h"
#include "lc_offsets.h"

/* exactly_once: where each input partition's part of the batch in hand starts and ends. */
typedef struct partition {
    int64_t first_in_batch;  /* where to rewind to after an abort; -1 none */
    int64_t next_in_batch;   /* position after the batch */
} partition_t;

typedef struct pipeline {
    const lc_pipeline_opts_t *opts;
    const lc_kafka_opts_t *kafka;
    const lc_classify_opts_t *classify;
    lc_metrics_t *metrics;
    lc_users_source_t *users;
    const lc_pipeline_hooks_t *hooks;
    volatile sig_atomic_t *stop;
    bool eos;

    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_topic_t *out_topic;
    lc_offsets_t *offsets;       /* at_least_once: what may be committed, and the commits */

    partition_t *parts;          /* exactly_once batch positions, by input partition id */
    int nparts;

    rd_kafka_message_t **batch;  /* the batch in hand */
    int batch_len;

    lc_classifier_t *classifier;
    lc_buf_t out;
    uint64_t *batch_reasons;     /* per-batch reason counts, added to metrics at once */
    uint64_t batch_status[LC_STATUS__COUNT];

    char auth_error[512];        /* the first authentication error (start-up gives up on it) */
    char last_error[512];        /* the client's last error, for the start-up failure line */
    bool fatal;                  /* set by a failed delivery or a fatal client error */
    char fatal_msg[512];
    bool ready_sent;
    int64_t next_lag_ms;         /* the lag gauge is refreshed from cached watermarks then */
    int64_t next_probe_ms;       /* next metadata probe while the brokers are down */
} pipeline_t;

static void set_fatal(pipeline_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_fatal(pipeline_t *p, const char *fmt, ...)
{
    if (p->fatal)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->fatal_msg, sizeof(p->fatal_msg), fmt, ap);
    va_end(ap);
    p->fatal = true;
    LC_ERROR("pipeline", "%s", p->fatal_msg);
}

/* ---- partition bookkeeping ----------------------------------------------------------- */

static partition_t *partition_get(pipeline_t *p, int32_t id)
{
    if (id >= p->nparts) {
        int n = id + 1 > p->nparts * 2 ? id + 1 : p->nparts * 2;
        partition_t *np = lc_xrealloc(p->parts, (size_t)n, sizeof(*np));
        for (int i = p->nparts; i < n; i++)
            np[i] = (partition_t){.first_in_batch = -1, .next_in_batch = -1};
        p->parts = np;
        p->nparts = n;
    }
    return &p->parts[id];
}

static void partition_reset(pipeline_t *p, int32_t id)
{
    *partition_get(p, id) = (partition_t){.first_in_batch = -1, .next_in_batch = -1};
}

/* ---- commits (at_least_once) ---------------------------------------------------------- */

static void commit_result(void *ctx, rd_kafka_resp_err_t err)
{
    pipeline_t *p = ctx;
    lc_metrics_count_commit(p->metrics, !err);
    if (!err)
        return;
    LC_WARN("pipeline", "offset commit failed: %s (retried with the next commit)",
            rd_kafka_err2str(err));
}

/* Before letting partitions go or stopping: commit synchronously, retrying a failed commit
 * for a while; what still fails is read again by the next owner (at least once). */
static void commit_until_acknowledged(pipeline_t *p, const rd_kafka_topic_partition_list_t *only)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        lc_offsets_commit(p->offsets, only, true);
        if (!lc_offsets_commit_pending(p->offsets, only))
            return;
        rd_kafka_poll(p->producer, 200 * (attempt + 1));
    }
    LC_WARN("pipeline", "could not commit the last offsets: those records will be read again");
}

static void delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    pipeline_t *p = opaque;
    lc_offsets_segment_done(m->_private, m->err == RD_KAFKA_RESP_ERR_NO_ERROR);
    if (m->err) {
        lc_metrics_count_produce_error(p->metrics);
        /* The idempotent producer has already retried everything retriable. */
        if (!p->eos)
            set_fatal(p, "delivery to %s [%" PRId32 "] failed: %s; stopping before committing past it",
                      rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    pipeline_t *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk, why, sizeof(why));
        set_fatal(p, "fatal kafka client error: %s", why);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        lc_metrics_set_kafka_down(p->metrics, true);
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION && !p->auth_error[0])
        snprintf(p->auth_error, sizeof(p->auth_error), "%s", reason);   /* names no secret */
    if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        snprintf(p->last_error, sizeof(p->last_error), "%s", reason);
    LC_WARN("kafka", "%s: %s", rd_kafka_err2name(err), reason);
}

/* ---- rebalance ------------------------------------------------------------------------ */

/* Drops the unproduced records of revoked partitions from the batch in hand: their offsets
 * are not committed, so the partitions' next owner reads them again. */
static void drop_batch_records(pipeline_t *p, const rd_kafka_topic_partition_list_t *parts)
{
    int kept = 0;
    for (int i = 0; i < p->batch_len; i++) {
        rd_kafka_message_t *m = p->batch[i];
        if (rd_kafka_topic_partition_list_find(parts, rd_kafka_topic_name(m->rkt), m->partition)) {
            rd_kafka_message_destroy(m);
            continue;
        }
        p->batch[kept++] = m;
    }
    p->batch_len = kept;
}

/* Waits for the delivery reports of the given partitions' records (at_least_once). */
static void await_partitions(pipeline_t *p, const rd_kafka_topic_partition_list_t *parts)
{
    while (!lc_offsets_idle(p->offsets, parts))
        rd_kafka_poll(p->producer, 100);
}

static void on_assign(pipeline_t *p, rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        int32_t id = parts->elems[i].partition;
        partition_reset(p, id);
        if (p->offsets)
            lc_offsets_assign(p->offsets, id);
    }
    LC_INFO("pipeline", "assigned %d partition(s)", parts->cnt);
    rd_kafka_error_t *e = rd_kafka_incremental_assign(p->consumer, parts);
    if (e) {
        set_fatal(p, "incremental assign failed: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    lc_metrics_set_consuming(p->metrics);
}

static void on_revoke(pipeline_t *p, rd_kafka_topic_partition_list_t *parts, bool lost)
{
    drop_batch_records(p, parts);
    if (!p->eos) {
        /* Finish what was handed to the producer, then commit it before letting go. */
        await_partitions(p, parts);
        if (!lost)
            commit_until_acknowledged(p, parts);
    }
    for (int i = 0; i < parts->cnt; i++) {
        int32_t id = parts->elems[i].partition;
        partition_reset(p, id);
        if (p->offsets)
            lc_offsets_forget(p->offsets, id);
    }
    LC_INFO("pipeline", "%s %d partition(s)", lost ? "lost" : "revoked", parts->cnt);
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(p->consumer, parts);
    if (e) {
        LC_WARN("pipeline", "incremental unassign failed: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    pipeline_t *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(p, parts);
    else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
        on_revoke(p, parts, rd_kafka_assignment_lost(rk));
    else
        set_fatal(p, "rebalance error: %s", rd_kafka_err2str(err));
}

/* ---- one batch ------------------------------------------------------------------------ */

/* Collects up to batch.max_records: waits up to batch.max_wait_ms for the first record,
 * then takes only what is already there, so a quiet topic never delays a record. */
static void collect_batch(pipeline_t *p)
{
    int64_t deadline = lc_now_ms() + p->opts->batch_max_wait_ms;
    p->batch_len = 0;
    while (p->batch_len < p->opts->batch_max_records && !*p->stop && !p->fatal) {
        int timeout = 0;   /* once a record is in hand, only what is already there */
        if (p->batch_len == 0) {
            int64_t left = deadline - lc_now_ms();
            timeout = (int)(left > 0 ? left : 0);
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, timeout);
        if (!m) {
            if (p->batch_len > 0 || lc_now_ms() >= deadline)
                break;
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                LC_WARN("consumer", "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        p->batch[p->batch_len++] = m;
    }
    if (p->batch_len > 0)
        lc_metrics_set_kafka_down(p->metrics, false);
}

static void count_verdict(pipeline_t *p, const lc_verdict_t *v)
{
    p->batch_status[v->status]++;
    for (size_t i = 0; i < v->nreasons; i++)
        p->batch_reasons[v->reasons[i]]++;
}

static void discard_batch_counts(pipeline_t *p)
{
    memset(p->batch_status, 0, sizeof(p->batch_status));
    memset(p->batch_reasons, 0, lc_metrics_nreasons(p->metrics) * sizeof(*p->batch_reasons));
}

static void flush_batch_counts(pipeline_t *p)
{
    lc_metrics_add_records(p->metrics, p->batch_status, p->batch_reasons);
    discard_batch_counts(p);
}

/* Hands one output record to the producer, waiting while its queue is full. */
static int produce_one(pipeline_t *p, const rd_kafka_message_t *in, const lc_verdict_t *v,
                       lc_segment_t *seg)
{
    char source[512];
    int slen = lc_kafka_format_source(source, sizeof(source), rd_kafka_topic_name(in->rkt),
                                      in->partition, in->offset);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(in, &tstype);
    const char *status = lc_status_name(v->status);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            p->producer,
            RD_KAFKA_V_RKT(p->out_topic),
            RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(p->out.data, p->out.len),
            RD_KAFKA_V_KEY(in->key, in->key_len),
            RD_KAFKA_V_TIMESTAMP(ts > 0 ? ts : 0),
            RD_KAFKA_V_HEADER("status", status, (ssize_t)strlen(status)),
            RD_KAFKA_V_HEADER("source", source, (ssize_t)slen),
            RD_KAFKA_V_OPAQUE(seg),
            RD_KAFKA_V_END);
        if (!err)
            return 0;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !p->fatal) {
            rd_kafka_poll(p->producer, 50);
            continue;
        }
        if (err == RD_KAFKA_RESP_ERR__STATE && p->eos) {
            /* The transaction failed under the batch (e.g. a refused AddPartitionsToTxn):
             * an abortable error; run_batch_eos aborts and rewinds. A fatal one is _FATAL. */
            LC_WARN("pipeline", "transaction failed while producing output of %s; aborting it",
                    source);
            return -1;
        }
        lc_offsets_segment_done(seg, false);
        lc_metrics_count_produce_error(p->metrics);
        set_fatal(p, "cannot produce output of %s: %s", source, rd_kafka_err2str(err));
        return -1;
    }
}

static void note_batch_position(pipeline_t *p, const rd_kafka_message_t *m)
{
    partition_t *part = partition_get(p, m->partition);
    if (part->first_in_batch < 0)
        part->first_in_batch = m->offset;
    part->next_in_batch = m->offset + 1;
}

/* Classifies and produces the batch in hand (exactly_once: noting where to rewind to). */
static int produce_batch(pipeline_t *p)
{
    lc_users_t *users = lc_users_source_acquire(p->users);
    int rc = 0;
    for (int i = 0; i < p->batch_len && rc == 0; i++) {
        rd_kafka_message_t *m = p->batch[i];
        lc_segment_t *seg = NULL;
        if (p->eos)
            note_batch_position(p, m);   /* where to rewind to after an abort */
        else   /* counted as pending until its delivery report */
            seg = lc_offsets_add(p->offsets, m->partition, m->offset);
        lc_verdict_t v;
        lc_buf_reset(&p->out);
        lc_classify(p->classifier, users, m->payload, m->len, m->payload != NULL, &v, &p->out);
        count_verdict(p, &v);
        rc = produce_one(p, m, &v, seg);
    }
    lc_users_unref(users);
    if (p->offsets)
        lc_offsets_end_batch(p->offsets);
    return rc;
}

static void release_batch(pipeline_t *p)
{
    for (int i = 0; i < p->batch_len; i++)
        rd_kafka_message_destroy(p->batch[i]);
    p->batch_len = 0;
    for (int id = 0; id < p->nparts; id++)
        p->parts[id].first_in_batch = -1;
}

/* ---- exactly_once --------------------------------------------------------------------- */

static rd_kafka_topic_partition_list_t *batch_positions(pipeline_t *p, bool rewind)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (int id = 0; id < p->nparts; id++) {
        partition_t *part = &p->parts[id];
        if (part->first_in_batch < 0)
            continue;
        rd_kafka_topic_partition_list_add(l, p->kafka->input_topic, id)->offset =
            rewind ? part->first_in_batch : part->next_in_batch;
    }
    return l;
}

/* After an abort: read the batch's records again from where the batch started.
 *
 * The seek is asynchronous. Asking for it already raises the partition's version barrier, so
 * records fetched before it are never returned by a later poll, and the fetcher restarts at
 * the rewound offset when it serves the request. Waiting for that buys nothing, and
 * librdkafka 2.0.2 reads the wait in the wrong unit (librdkafka#4230: 10,000 ms becomes
 * 10 ms), so a synchronous seek during a rebalance failed "timed out" and stopped the
 * service. A partition that is being let go ignores the seek; its next owner starts from the
 * last committed transaction, which is where the rewind points too. Revokes are served only
 * while collecting, so an aborted batch still names at least one partition here. */
static void rewind_batch(pipeline_t *p)
{
    rd_kafka_topic_partition_list_t *l = batch_positions(p, true);
    rd_kafka_error_t *e = rd_kafka_seek_partitions(p->consumer, l, 0);
    if (e) {
        set_fatal(p, "cannot rewind after abort: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Aborts the open transaction and rewinds its batch: 1, or -1 when the abort failed. */
static int abort_and_rewind(pipeline_t *p)
{
    rd_kafka_error_t *ae = rd_kafka_abort_transaction(p->producer, -1);
    if (ae) {
        set_fatal(p, "abort_transaction failed: %s", rd_kafka_error_string(ae));
        rd_kafka_error_destroy(ae);
        return -1;
    }
    lc_metrics_count_abort(p->metrics);
    rewind_batch(p);
    return p->fatal ? -1 : 1;
}

/* Returns 0 when committed, 1 when aborted (and rewound), -1 on a fatal error. */
static int handle_txn_error(pipeline_t *p, rd_kafka_error_t *e, const char *what)
{
    int rc;
    if (rd_kafka_error_txn_requires_abort(e)) {
        LC_WARN("pipeline", "%s: %s: aborting the transaction and rewinding", what,
                rd_kafka_error_string(e));
        rc = abort_and_rewind(p);
    } else {
        set_fatal(p, "%s: %s", what, rd_kafka_error_string(e));
        rc = -1;
    }
    rd_kafka_error_destroy(e);
    return rc;
}

static int commit_transaction(pipeline_t *p)
{
    rd_kafka_topic_partition_list_t *pos = batch_positions(p, false);
    rd_kafka_consumer_group_metadata_t *gm = rd_kafka_consumer_group_metadata(p->consumer);
    rd_kafka_error_t *e = rd_kafka_send_offsets_to_transaction(p->producer, pos, gm, -1);
    rd_kafka_consumer_group_metadata_destroy(gm);
    rd_kafka_topic_partition_list_destroy(pos);
    if (e)
        return handle_txn_error(p, e, "send_offsets_to_transaction");
    for (;;) {
        e = rd_kafka_commit_transaction(p->producer, -1);
        if (!e)
            break;
        if (rd_kafka_error_is_retriable(e)) {
            rd_kafka_error_destroy(e);
            continue;
        }
        return handle_txn_error(p, e, "commit_transaction");
    }
    lc_metrics_count_commit(p->metrics, true);
    return 0;
}

static int run_batch_eos(pipeline_t *p)
{
    rd_kafka_error_t *e = rd_kafka_begin_transaction(p->producer);
    if (e) {
        set_fatal(p, "begin_transaction: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    if (produce_batch(p) != 0)
        return p->fatal ? -1 : abort_and_rewind(p);
    return commit_transaction(p);
}

/* ---- at_least_once -------------------------------------------------------------------- */

static int run_batch_alo(pipeline_t *p)
{
    int rc = produce_batch(p);
    rd_kafka_poll(p->producer, 0);
    return rc;
}

/* ---- the loop ------------------------------------------------------------------------- */

/* While the brokers are marked down, a cheap metadata request tells when they are back,
 * so /healthz recovers even on a topic with no new records. */
static void probe_kafka_if_down(pipeline_t *p, int64_t now)
{
    if (!lc_metrics_kafka_down(p->metrics) || now < p->next_probe_ms)
        return;
    p->next_probe_ms = now + 2000;
    if (lc_kafka_reachable(p->consumer, 500)) {
        lc_metrics_set_kafka_down(p->metrics, false);
        LC_INFO("pipeline", "kafka brokers reachable again");
    }
}

static void housekeeping(pipeline_t *p)
{
    rd_kafka_poll(p->producer, 0);
    int64_t now = lc_now_ms();
    if (p->offsets)
        lc_offsets_tick(p->offsets, now);
    if (p->hooks && p->hooks->tick)
        p->hooks->tick(p->hooks->ctx);
    if (!p->ready_sent && lc_metrics_consuming(p->metrics)) {
        p->ready_sent = true;
        LC_INFO("pipeline", "ready: consuming %s -> %s (%s)", p->kafka->input_topic,
                p->kafka->output_topic, p->eos ? "exactly_once" : "at_least_once");
        if (p->hooks && p->hooks->ready)
            p->hooks->ready(p->hooks->ctx);
    }
    probe_kafka_if_down(p, now);
    int64_t lag;
    if (now >= p->next_lag_ms) {   /* no network: positions and fetch-updated watermarks */
        if (lc_kafka_consumer_lag(p->consumer, &lag) == 0)
            lc_metrics_set_consumer_lag(p->metrics, lag);
        p->next_lag_ms = now + 200;
    }
    lc_metrics_stats_tick(p->metrics, now);
}

static void run_loop(pipeline_t *p)
{
    while (!*p->stop && !p->fatal) {
        collect_batch(p);
        if (p->batch_len > 0 && !p->fatal) {
            int64_t t0 = lc_now_ms();
            int rc = p->eos ? run_batch_eos(p) : run_batch_alo(p);
            if (rc == 0 || !p->eos)
                flush_batch_counts(p);
            else
                discard_batch_counts(p);
            lc_metrics_observe_batch(p->metrics, (uint64_t)(lc_now_ms() - t0) * 1000);
        }
        release_batch(p);
        housekeeping(p);
    }
}

/* Stop: everything handed to the producer is delivered, then committed. */
static void drain_and_commit(pipeline_t *p)
{
    if (p->eos)
        return;   /* every batch was committed (or aborted) in its own transaction */
    int64_t deadline = lc_now_ms() + (p->fatal ? 10000 : 60000);
    while (rd_kafka_outq_len(p->producer) > 0 && lc_now_ms() < deadline)
        rd_kafka_poll(p->producer, 100);
    if (rd_kafka_outq_len(p->producer) > 0)
        LC_WARN("pipeline", "%d output record(s) still undelivered at stop: their offsets stay uncommitted",
                rd_kafka_outq_len(p->producer));
    commit_until_acknowledged(p, NULL);
}

/* ---- set-up and tear-down -------------------------------------------------------------- */

static rd_kafka_t *create_producer(pipeline_t *p, char *errstr, size_t errlen)
{
    rd_kafka_conf_t *conf = lc_kafka_producer_conf(p->kafka, errstr, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (!rk)
        lc_err(errstr, errlen, "cannot create the kafka producer: %s", why);
    return rk;
}

static rd_kafka_t *create_consumer(pipeline_t *p, char *errstr, size_t errlen)
{
    rd_kafka_conf_t *conf = lc_kafka_consumer_conf(p->kafka, errstr, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (!rk) {
        lc_err(errstr, errlen, "cannot create the kafka consumer: %s", why);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    if (!p->eos)
        p->offsets = lc_offsets_new(rk, p->kafka->input_topic,
                                    p->opts->commit_interval_ms, commit_result, p);
    return rk;
}

/* Kafka reachable within kafka.startup_timeout_s, the output topic exists, transactions
 * initialised. Returns an exit status. */
static int connect_kafka(pipeline_t *p, char *errstr, size_t errlen)
{
    if (!(p->producer = create_producer(p, errstr, errlen)) ||
        !(p->consumer = create_consumer(p, errstr, errlen)))
        return LC_EXIT_USAGE;
    const lc_kafka_opts_t *k = p->kafka;
    bool in_ok = false, out_ok = false;
    char why[512];
    if (lc_kafka_wait_cluster(p->consumer, k->input_topic, k->output_topic,
                              k->startup_timeout_s * 1000, p->auth_error, &in_ok,
                              &out_ok, why, sizeof(why)) != 0) {
        bool say_last = p->last_error[0] && !p->auth_error[0];   /* e.g. a refused certificate */
        lc_err(errstr, errlen, "%s (kafka.brokers %s)%s%s", why, k->brokers,
               say_last ? "; last error: " : "", say_last ? p->last_error : "");
        return LC_EXIT_UNAVAILABLE;
    }
    if (!out_ok) {
        lc_err(errstr, errlen, "output topic '%s' does not exist on %s", k->output_topic,
               k->brokers);
        return LC_EXIT_UNAVAILABLE;
    }
    if (!in_ok)
        LC_WARN("pipeline", "input topic '%s' does not exist yet: waiting for it", k->input_topic);
    p->out_topic = rd_kafka_topic_new(p->producer, k->output_topic, NULL);
    if (p->eos) {
        rd_kafka_error_t *e = rd_kafka_init_transactions(p->producer, k->startup_timeout_s * 1000);
        if (e) {
            lc_err(errstr, errlen, "init_transactions: %s", rd_kafka_error_string(e));
            bool timeout = rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__TIMED_OUT;
            rd_kafka_error_destroy(e);
            return timeout ? LC_EXIT_UNAVAILABLE : LC_EXIT_FAILURE;
        }
    }
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, k->input_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(p->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        lc_err(errstr, errlen, "subscribe to %s: %s", k->input_topic, rd_kafka_err2str(err));
        return LC_EXIT_FAILURE;
    }
    return LC_EXIT_OK;
}

static void pipeline_init(pipeline_t *p)
{
    p->classifier = lc_classifier_new(p->classify);
    p->batch = lc_xcalloc((size_t)p->opts->batch_max_records, sizeof(*p->batch));
    p->batch_reasons = lc_xcalloc(lc_metrics_nreasons(p->metrics) + 1, sizeof(*p->batch_reasons));
    lc_metrics_stats_start(p->metrics, lc_now_ms());
}

static void pipeline_destroy(pipeline_t *p)
{
    if (p->consumer) {
        rd_kafka_consumer_close(p->consumer);   /* revokes: commits what is finished */
        lc_offsets_free(p->offsets);   /* its result queue belongs to the consumer */
        rd_kafka_destroy(p->consumer);
    }
    if (p->out_topic)
        rd_kafka_topic_destroy(p->out_topic);
    if (p->producer) {
        rd_kafka_flush(p->producer, p->fatal ? 1000 : 10000);
        rd_kafka_destroy(p->producer);
    }
    free(p->parts);
    free(p->batch);
    free(p->batch_reasons);
    lc_classifier_free(p->classifier);
    lc_buf_free(&p->out);
}

int lc_pipeline_run(const lc_pipeline_opts_t *opts, const lc_kafka_opts_t *kafka,
                    const lc_classify_opts_t *classify, lc_users_source_t *users,
                    lc_metrics_t *metrics, const lc_pipeline_hooks_t *hooks,
                    volatile sig_atomic_t *stop, char *errstr, size_t errlen)
{
    pipeline_t p = {.opts = opts, .kafka = kafka, .classify = classify, .metrics = metrics,
                    .users = users, .hooks = hooks, .stop = stop,
                    .eos = opts->delivery == LC_DELIVERY_EXACTLY_ONCE};
    if (errstr && errlen)
        errstr[0] = 0;
    pipeline_init(&p);
    int rc = connect_kafka(&p, errstr, errlen);
    if (rc == LC_EXIT_OK) {
        run_loop(&p);
        if (hooks && hooks->stopping)
            hooks->stopping(hooks->ctx);
        LC_INFO("pipeline", "stopping: %s", p.fatal ? "fatal error" : "signal");
        drain_and_commit(&p);
        rc = p.fatal ? LC_EXIT_FAILURE : LC_EXIT_OK;
        if (p.fatal)
            lc_err(errstr, errlen, "%s", p.fatal_msg);
    }
    pipeline_destroy(&p);
    return rc;
}
