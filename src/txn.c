/* txn.c - the exactly_once delivery mode: one Kafka transaction per batch (see lc_txn.h). */
#include "lc_txn.h"

#include <inttypes.h>
#include <stdlib.h>

#include "lc_common.h"
#include "lc_log.h"

/* Where an input partition's part of the batch in hand starts and ends. */
typedef struct partition {
    int64_t first_in_batch;  /* where to rewind to after an abort; -1: not in the batch */
    int64_t next_in_batch;   /* the position after the batch: what the transaction commits */
} partition_t;

typedef struct txn {
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    char *topic;             /* the input topic */
    lc_metrics_t *metrics;
    partition_t *parts;      /* by partition id */
    int nparts;
} txn_t;

/* ---- batch positions ------------------------------------------------------------------ */

static partition_t *partition_get(txn_t *t, int32_t id)
{
    if (id >= t->nparts) {
        int n = id + 1 > t->nparts * 2 ? id + 1 : t->nparts * 2;
        t->parts = lc_xrealloc(t->parts, (size_t)n, sizeof(*t->parts));
        for (int i = t->nparts; i < n; i++)
            t->parts[i] = (partition_t){.first_in_batch = -1, .next_in_batch = -1};
        t->nparts = n;
    }
    return &t->parts[id];
}

static void reset_partitions(txn_t *t, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++)
        *partition_get(t, parts->elems[i].partition) =
            (partition_t){.first_in_batch = -1, .next_in_batch = -1};
}

/* The batch's partitions, each at its first record (rewind) or just past its last. */
static rd_kafka_topic_partition_list_t *batch_positions(const txn_t *t, bool rewind)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (int id = 0; id < t->nparts; id++) {
        const partition_t *part = &t->parts[id];
        if (part->first_in_batch < 0)
            continue;
        rd_kafka_topic_partition_list_add(l, t->topic, id)->offset =
            rewind ? part->first_in_batch : part->next_in_batch;
    }
    return l;
}

/* ---- aborting and committing ------------------------------------------------------------ */

/* How long a rewind waits for the fetchers to take the batch's first offsets. */
#define REWIND_TIMEOUT_MS 10000

/* Whether the consumer still has `p` assigned (true when its assignment cannot be read). */
static bool still_assigned(rd_kafka_t *consumer, const rd_kafka_topic_partition_t *p)
{
    rd_kafka_topic_partition_list_t *owned = NULL;
    if (rd_kafka_assignment(consumer, &owned) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return true;
    bool found = rd_kafka_topic_partition_list_find(owned, p->topic, p->partition) != NULL;
    rd_kafka_topic_partition_list_destroy(owned);
    return found;
}

/* After an abort: read the batch's records again from where the batch started.
 *
 * The seek waits until each partition's fetcher has taken its new position, so every
 * partition's answer is known. Records fetched before it are never returned afterwards.
 * A partition that is still assigned and cannot be rewound would go on past the aborted
 * records, and the next transaction would commit offsets beyond records never written: that
 * stops the service, whose restart resumes from the last committed transaction. A seek that
 * does not finish in time leaves the fetchers' positions unknown, and stops it the same way.
 * A partition let go since the batch was collected needs no rewind: its next owner starts
 * from the last committed transaction, which is where the rewind points too. */
static int rewind_batch(txn_t *t, char *errstr, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = batch_positions(t, true);
    int rc = 0;
    rd_kafka_error_t *e = l->cnt ? rd_kafka_seek_partitions(t->consumer, l, REWIND_TIMEOUT_MS)
                                 : NULL;
    if (e) {
        rc = lc_err(errstr, errlen, "cannot rewind after abort: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    for (int i = 0; i < l->cnt && rc == 0; i++) {
        const rd_kafka_topic_partition_t *p = &l->elems[i];
        if (!p->err)
            continue;
        if (!still_assigned(t->consumer, p)) {
            LC_INFO("pipeline", "%s [%" PRId32 "] was let go before its rewind: its next owner "
                    "resumes from the last committed transaction", p->topic, p->partition);
            continue;
        }
        rc = lc_err(errstr, errlen, "cannot rewind %s [%" PRId32 "] to offset %" PRId64
                    " after abort: %s", p->topic, p->partition, p->offset,
                    rd_kafka_err2str(p->err));
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Aborts the open transaction and rewinds its batch: 1, or -1 (errstr) when either fails. */
static int abort_and_rewind(txn_t *t, char *errstr, size_t errlen)
{
    rd_kafka_error_t *e = rd_kafka_abort_transaction(t->producer, -1);
    if (e) {
        lc_err(errstr, errlen, "abort_transaction failed: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    lc_metrics_count_abort(t->metrics);
    return rewind_batch(t, errstr, errlen) < 0 ? -1 : 1;
}

/* An error of `what`: 1 when it was abortable (aborted and rewound), -1 when fatal. Takes
 * ownership of e. */
static int handle_txn_error(txn_t *t, rd_kafka_error_t *e, const char *what, char *errstr,
                            size_t errlen)
{
    int rc;
    if (rd_kafka_error_txn_requires_abort(e)) {
        LC_WARN("pipeline", "%s: %s: aborting the transaction and rewinding", what,
                rd_kafka_error_string(e));
        rc = abort_and_rewind(t, errstr, errlen);
    } else {
        rc = lc_err(errstr, errlen, "%s: %s", what, rd_kafka_error_string(e));
    }
    rd_kafka_error_destroy(e);
    return rc;
}

/* Sends the batch's positions with the transaction and commits it: 0, 1 (aborted), -1. */
static int commit_transaction(txn_t *t, char *errstr, size_t errlen)
{
    rd_kafka_topic_partition_list_t *pos = batch_positions(t, false);
    rd_kafka_consumer_group_metadata_t *gm = rd_kafka_consumer_group_metadata(t->consumer);
    rd_kafka_error_t *e = rd_kafka_send_offsets_to_transaction(t->producer, pos, gm, -1);
    rd_kafka_consumer_group_metadata_destroy(gm);
    rd_kafka_topic_partition_list_destroy(pos);
    if (e)
        return handle_txn_error(t, e, "send_offsets_to_transaction", errstr, errlen);
    for (;;) {
        e = rd_kafka_commit_transaction(t->producer, -1);
        if (!e)
            break;
        if (rd_kafka_error_is_retriable(e)) {
            rd_kafka_error_destroy(e);
            continue;
        }
        return handle_txn_error(t, e, "commit_transaction", errstr, errlen);
    }
    lc_metrics_count_commit(t->metrics, true);
    return 0;
}

/* ---- the operations --------------------------------------------------------------------- */

static void *txn_create(const lc_delivery_env_t *env)
{
    txn_t *t = lc_xcalloc(1, sizeof(*t));
    t->consumer = env->consumer;
    t->producer = env->producer;
    t->topic = lc_xstrdup(env->input_topic);
    t->metrics = env->metrics;
    return t;
}

static void txn_destroy(void *d)
{
    txn_t *t = d;
    if (!t)
        return;
    free(t->parts);
    free(t->topic);
    free(t);
}

static int txn_start(void *d, int timeout_ms, char *errstr, size_t errlen)
{
    txn_t *t = d;
    rd_kafka_error_t *e = rd_kafka_init_transactions(t->producer, timeout_ms);
    if (!e)
        return 0;
    lc_err(errstr, errlen, "init_transactions: %s", rd_kafka_error_string(e));
    bool timeout = rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__TIMED_OUT;
    rd_kafka_error_destroy(e);
    return timeout ? 1 : -1;
}

static void txn_assign(void *d, const rd_kafka_topic_partition_list_t *parts)
{
    reset_partitions(d, parts);
}

/* Every batch was committed or aborted in its own transaction: nothing is pending. */
static void txn_revoke(void *d, const rd_kafka_topic_partition_list_t *parts, bool lost)
{
    (void)lost;
    reset_partitions(d, parts);
}

static int txn_begin_batch(void *d, char *errstr, size_t errlen)
{
    txn_t *t = d;
    for (int id = 0; id < t->nparts; id++)
        t->parts[id].first_in_batch = -1;
    rd_kafka_error_t *e = rd_kafka_begin_transaction(t->producer);
    if (!e)
        return 0;
    lc_err(errstr, errlen, "begin_transaction: %s", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return -1;
}

/* Notes where to rewind to after an abort, and the position the transaction commits. */
static void *txn_track(void *d, const rd_kafka_message_t *m)
{
    partition_t *part = partition_get(d, m->partition);
    if (part->first_in_batch < 0)
        part->first_in_batch = m->offset;
    part->next_in_batch = m->offset + 1;
    return NULL;
}

/* _STATE: the transaction failed under the batch (e.g. a refused AddPartitionsToTxn), an
 * abortable error: end_batch aborts and rewinds. A fatal one comes as _FATAL. */
static bool txn_refused(void *d, void *opaque, rd_kafka_resp_err_t err, const char *source)
{
    (void)d, (void)opaque;
    if (err != RD_KAFKA_RESP_ERR__STATE)
        return false;
    LC_WARN("pipeline", "transaction failed while producing output of %s; aborting it", source);
    return true;
}

/* A failed delivery fails the transaction's commit, which aborts and rewinds it. */
static bool txn_delivered(void *d, void *opaque, bool ok)
{
    (void)d, (void)opaque, (void)ok;
    return false;
}

static int txn_end_batch(void *d, lc_batch_end_t how, char *errstr, size_t errlen)
{
    switch (how) {
    case LC_BATCH_PRODUCED:
        return commit_transaction(d, errstr, errlen);
    case LC_BATCH_REFUSED:
        return abort_and_rewind(d, errstr, errlen);
    case LC_BATCH_FAILED:
    default:
        return lc_err(errstr, errlen, "%s", "");
    }
}

static void txn_tick(void *d, int64_t now_ms)
{
    (void)d, (void)now_ms;
}

static void txn_drain(void *d, bool fatal)
{
    (void)d, (void)fatal;   /* every batch was committed (or aborted) in its own transaction */
}

const lc_delivery_ops_t lc_txn_delivery = {
    .name = "exactly_once",
    .create = txn_create,
    .destroy = txn_destroy,
    .start = txn_start,
    .assign = txn_assign,
    .revoke = txn_revoke,
    .begin_batch = txn_begin_batch,
    .track = txn_track,
    .refused = txn_refused,
    .delivered = txn_delivered,
    .end_batch = txn_end_batch,
    .tick = txn_tick,
    .drain = txn_drain,
};
