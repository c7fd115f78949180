/*
 * pipeline.c - consume -> transform -> produce. How input offsets follow the outputs is the
 * delivery mode's (lc_delivery.h: at_least_once in offsets.c, exactly_once in txn.c); what
 * each record becomes is the transform's (lc_transform.h).
 */
#include "lc_pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_log.h"

typedef struct pipeline {
    const lc_pipeline_opts_t *opts;
    const lc_kafka_opts_t *kafka;
    const lc_transform_t *transform;
    lc_metrics_t *metrics;
    const lc_pipeline_hooks_t *hooks;
    const atomic_int *stop;     /* set by a signal handler or another thread */

    const lc_delivery_ops_t *ops;   /* the delivery mode */
    void *delivery;                 /* its state */

    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    lc_msk_iam_t *iam;              /* kafka.aws_iam: both clients' tokens; outlives them */
    rd_kafka_topic_t *out_topic;

    rd_kafka_message_t **batch;     /* the batch in hand */
    int batch_len;
    lc_buf_t out;                   /* the transform's scratch */
    uint64_t *batch_reasons;        /* per-batch reason counts, added to metrics at once */
    uint64_t batch_status[LC_STATUS__COUNT];

    char auth_error[512];           /* the first authentication error (start-up gives up on it) */
    char last_error[512];           /* the client's last error, for the start-up failure line */
    bool fatal;                     /* set by a failed delivery or a fatal client error */
    char fatal_msg[512];
    bool ready_sent;
    int64_t next_lag_ms;            /* the lag gauge is refreshed from cached watermarks then */
    int64_t next_probe_ms;          /* next metadata probe while the brokers are down */
} pipeline_t;

static bool stop_requested(const pipeline_t *p)
{
    return atomic_load_explicit(p->stop, memory_order_relaxed);
}

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

/* ---- client callbacks ------------------------------------------------------------------- */

static void delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    pipeline_t *p = opaque;
    bool ok = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    bool fatal = p->ops->delivered(p->delivery, m->_private, ok);
    if (ok)
        return;
    lc_metrics_count_produce_error(p->metrics);
    /* The idempotent producer has already retried everything retriable. */
    if (fatal)
        set_fatal(p, "delivery to %s [%" PRId32 "] failed: %s; stopping before committing past it",
                  rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
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

/* A client's MSK IAM token refresh, on librdkafka's background thread: the pipeline is the
 * clients' opaque, and holds the token maker they share. */
static void iam_refresh_cb(rd_kafka_t *rk, const char *oauthbearer_config, void *opaque)
{
    (void)oauthbearer_config;
    pipeline_t *p = opaque;
    lc_msk_iam_refresh(p->iam, rk, lc_wall_ms());
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

static void on_assign(pipeline_t *p, rd_kafka_topic_partition_list_t *parts)
{
    p->ops->assign(p->delivery, parts);
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
    p->ops->revoke(p->delivery, parts, lost);   /* at_least_once: finish, commit, let go */
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
    while (p->batch_len < p->opts->batch_max_records && !stop_requested(p) && !p->fatal) {
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

static void release_batch(pipeline_t *p)
{
    for (int i = 0; i < p->batch_len; i++)
        rd_kafka_message_destroy(p->batch[i]);
    p->batch_len = 0;
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

/* Hands one output record to the producer, waiting while its queue is full. -1 when it was
 * refused: fatal (p->fatal), or for the delivery mode to roll the batch back. */
static int produce_one(pipeline_t *p, const rd_kafka_message_t *in, const lc_verdict_t *v,
                       const char *value, size_t len, void *opaque)
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
            RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_KEY(in->key, in->key_len),
            RD_KAFKA_V_TIMESTAMP(ts > 0 ? ts : 0),
            RD_KAFKA_V_HEADER("status", status, (ssize_t)strlen(status)),
            RD_KAFKA_V_HEADER("source", source, (ssize_t)slen),
            RD_KAFKA_V_OPAQUE(opaque),
            RD_KAFKA_V_END);
        if (!err)
            return 0;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !p->fatal) {
            rd_kafka_poll(p->producer, 50);
            continue;
        }
        if (p->ops->refused(p->delivery, opaque, err, source))
            return -1;
        lc_metrics_count_produce_error(p->metrics);
        set_fatal(p, "cannot produce output of %s: %s", source, rd_kafka_err2str(err));
        return -1;
    }
}

/* Transforms and produces the batch in hand, each record tracked by the delivery mode. */
static int produce_batch(pipeline_t *p)
{
    const lc_transform_t *t = p->transform;
    if (t->begin_batch)
        t->begin_batch(t->ctx);
    int rc = 0;
    for (int i = 0; i < p->batch_len && rc == 0; i++) {
        rd_kafka_message_t *m = p->batch[i];
        void *opaque = p->ops->track(p->delivery, m);
        lc_verdict_t v;
        size_t len;
        const char *value = t->apply(t->ctx, m->payload, m->len, m->payload != NULL, &v,
                                     &p->out, &len);
        count_verdict(p, &v);
        rc = produce_one(p, m, &v, value, len, opaque);
    }
    if (t->end_batch)
        t->end_batch(t->ctx);
    return rc;
}

/* One batch through the delivery mode: 0 when its records count, else 1 or -1 (lc_delivery.h
 * end_batch). */
static int run_batch(pipeline_t *p)
{
    char why[512] = "";
    if (p->ops->begin_batch(p->delivery, why, sizeof(why)) != 0) {
        set_fatal(p, "%s", why);
        return -1;
    }
    lc_batch_end_t how = LC_BATCH_PRODUCED;
    if (produce_batch(p) != 0)
        how = p->fatal ? LC_BATCH_FAILED : LC_BATCH_REFUSED;
    int rc = p->ops->end_batch(p->delivery, how, why, sizeof(why));
    if (rc < 0 && why[0])
        set_fatal(p, "%s", why);
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
    p->ops->tick(p->delivery, now);
    if (p->hooks && p->hooks->tick)
        p->hooks->tick(p->hooks->ctx);
    if (!p->ready_sent && lc_metrics_consuming(p->metrics)) {
        p->ready_sent = true;
        LC_INFO("pipeline", "ready: consuming %s -> %s (%s, group protocol %s)",
                p->kafka->input_topic, p->kafka->output_topic, p->ops->name,
                lc_group_protocol_names[p->kafka->group_protocol]);
        if (p->hooks && p->hooks->ready)
            p->hooks->ready(p->hooks->ctx);
    }
    probe_kafka_if_down(p, now);
    int64_t lag;
    if (now >= p->next_lag_ms) {   /* no network: positions and fetch-updated watermarks */
        if (lc_kafka_consumer_lag(p->consumer, &lag) == 0)
            lc_metrics_set_consumer_lag(p->metrics, lag);
        if (p->iam) {
            lc_msk_iam_stats_t st;
            lc_msk_iam_stats(p->iam, &st);
            lc_metrics_set_kafka_tokens(p->metrics, st.refreshes, st.failures);
        }
        p->next_lag_ms = now + 200;
    }
    lc_metrics_stats_tick(p->metrics, now);
}

static void run_loop(pipeline_t *p)
{
    while (!stop_requested(p) && !p->fatal) {
        collect_batch(p);
        if (p->batch_len > 0 && !p->fatal) {
            int64_t t0 = lc_now_ms();
            if (run_batch(p) == 0)
                flush_batch_counts(p);
            else
                discard_batch_counts(p);
            lc_metrics_observe_batch(p->metrics, (uint64_t)(lc_now_ms() - t0) * 1000);
        }
        release_batch(p);
        housekeeping(p);
    }
}

/* ---- set-up and tear-down -------------------------------------------------------------- */

static rd_kafka_t *create_producer(pipeline_t *p, char *errstr, size_t errlen)
{
    rd_kafka_conf_t *conf = lc_kafka_producer_conf(p->kafka, iam_refresh_cb, errstr, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    return lc_kafka_new(RD_KAFKA_PRODUCER, conf, p->kafka, errstr, errlen);
}

static rd_kafka_t *create_consumer(pipeline_t *p, char *errstr, size_t errlen)
{
    rd_kafka_conf_t *conf = lc_kafka_consumer_conf(p->kafka, iam_refresh_cb, errstr, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_t *rk = lc_kafka_new(RD_KAFKA_CONSUMER, conf, p->kafka, errstr, errlen);
    if (rk)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* The clients, and the delivery mode's state for them. Returns an exit status. */
static int create_clients(pipeline_t *p, char *errstr, size_t errlen)
{
    const lc_kafka_opts_t *k = p->kafka;
    if (k->aws_iam) {
        if (!(p->iam = lc_msk_iam_new(&k->aws, NULL, errstr, errlen)))
            return LC_EXIT_USAGE;
        LC_INFO("pipeline", "MSK IAM access control: region %s%s%s%s%s", k->aws.region,
                k->aws.profile && *k->aws.profile ? ", profile " : "",
                k->aws.profile ? k->aws.profile : "",
                k->aws.role_arn && *k->aws.role_arn ? ", role " : "",
                k->aws.role_arn ? k->aws.role_arn : "");
    }
    if (!(p->producer = create_producer(p, errstr, errlen)) ||
        !(p->consumer = create_consumer(p, errstr, errlen)))
        return LC_EXIT_USAGE;
    lc_delivery_env_t env = {.consumer = p->consumer, .producer = p->producer,
                             .input_topic = p->kafka->input_topic,
                             .commit_interval_ms = p->opts->commit_interval_ms,
                             .metrics = p->metrics};
    p->delivery = p->ops->create(&env);
    return LC_EXIT_OK;
}

/* Kafka reachable within kafka.startup_timeout_s, the output topic exists, the delivery mode
 * started (exactly_once: transactions initialised), subscribed. Returns an exit status. */
static int connect_kafka(pipeline_t *p, char *errstr, size_t errlen)
{
    int rc = create_clients(p, errstr, errlen);
    if (rc != LC_EXIT_OK)
        return rc;
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
    rc = p->ops->start(p->delivery, k->startup_timeout_s * 1000, errstr, errlen);
    if (rc != 0)
        return rc > 0 ? LC_EXIT_UNAVAILABLE : LC_EXIT_FAILURE;
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

/* The consumer closes first (its revoke hands the partitions over through the delivery
 * mode), then the producer delivers what it still holds (the reports reach the delivery
 * mode too), then the mode's state goes, then the clients, then their MSK IAM token maker. */
static void pipeline_destroy(pipeline_t *p)
{
    if (p->consumer)
        rd_kafka_consumer_close(p->consumer);   /* revokes: commits what is finished */
    if (p->producer)
        rd_kafka_flush(p->producer, p->fatal ? 1000 : 10000);
    if (p->delivery)
        p->ops->destroy(p->delivery);   /* before the consumer: its commit queue is the consumer's */
    if (p->consumer)
        rd_kafka_destroy(p->consumer);
    if (p->out_topic)
        rd_kafka_topic_destroy(p->out_topic);
    if (p->producer)
        rd_kafka_destroy(p->producer);
    lc_msk_iam_free(p->iam);   /* after both clients: their refresh callbacks use it */
    free(p->batch);
    free(p->batch_reasons);
    lc_buf_free(&p->out);
}

int lc_pipeline_run(const lc_pipeline_opts_t *opts, const lc_kafka_opts_t *kafka,
                    const lc_transform_t *transform, lc_metrics_t *metrics,
                    const lc_pipeline_hooks_t *hooks, const atomic_int *stop,
                    char *errstr, size_t errlen)
{
    pipeline_t p = {.opts = opts, .kafka = kafka, .transform = transform, .metrics = metrics,
                    .hooks = hooks, .stop = stop, .ops = lc_delivery_ops(opts->delivery)};
    if (errstr && errlen)
        errstr[0] = 0;
    p.batch = lc_xcalloc((size_t)opts->batch_max_records, sizeof(*p.batch));
    p.batch_reasons = lc_xcalloc(lc_metrics_nreasons(metrics) + 1, sizeof(*p.batch_reasons));
    lc_metrics_stats_start(metrics, lc_now_ms());
    int rc = connect_kafka(&p, errstr, errlen);
    if (rc == LC_EXIT_OK) {
        run_loop(&p);
        if (hooks && hooks->stopping)
            hooks->stopping(hooks->ctx);
        LC_INFO("pipeline", "stopping: %s", p.fatal ? "fatal error" : "signal");
        p.ops->drain(p.delivery, p.fatal);
        rc = p.fatal ? LC_EXIT_FAILURE : LC_EXIT_OK;
        if (p.fatal)
            lc_err(errstr, errlen, "%s", p.fatal_msg);
    }
    pipeline_destroy(&p);
    return rc;
}
