/* offsets.c - at_least_once offset tracking and commits (see lc_offsets.h). */
#include "lc_offsets.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lc_common.h"
#include "lc_log.h"

struct lc_segment {
    struct lc_segment *next;
    int64_t last_offset;
    uint32_t pending;        /* delivery reports still outstanding */
    bool failed;             /* a record's delivery failed: never commit past this */
};

typedef struct partition {
    bool assigned;
    lc_segment_t *head, *tail;  /* unfinished segments, oldest first */
    lc_segment_t *open;         /* the current batch's segment, while the batch is produced */
    int64_t done;               /* every record before this offset is delivered; -1 none */
    int64_t committed;          /* offset the broker acknowledged as committed; -1 none */
} partition_t;

struct lc_offsets {
    rd_kafka_t *consumer;
    rd_kafka_queue_t *results;  /* results of our async commits, served by lc_offsets_serve */
    bool inflight;              /* an async commit awaits its result: send no other */
    int interval_ms;            /* least time between two async commits */
    int64_t next_commit_ms;     /* the next async commit is due then */
    char *topic;
    lc_commit_result_fn on_result;
    void *ctx;
    partition_t *parts;         /* indexed by partition id */
    int nparts;
};

static void partition_reset(partition_t *part)
{
    lc_segment_t *s = part->head;
    while (s) {
        lc_segment_t *n = s->next;
        free(s);
        s = n;
    }
    *part = (partition_t){.done = -1, .committed = -1};
}

static partition_t *partition_get(lc_offsets_t *o, int32_t id)
{
    if (id < 0)
        abort();
    if (id >= o->nparts) {
        int n = id + 1 > o->nparts * 2 ? id + 1 : o->nparts * 2;
        partition_t *np = lc_xrealloc(o->parts, (size_t)n, sizeof(*np));
        for (int i = o->nparts; i < n; i++)
            np[i] = (partition_t){.done = -1, .committed = -1};
        o->parts = np;
        o->nparts = n;
    }
    return &o->parts[id];
}

static bool selected(const lc_offsets_t *o, const rd_kafka_topic_partition_list_t *only, int32_t id)
{
    return !only || rd_kafka_topic_partition_list_find(only, o->topic, id) != NULL;
}

lc_offsets_t *lc_offsets_new(rd_kafka_t *consumer, const char *topic, int commit_interval_ms,
                             lc_commit_result_fn on_result, void *ctx)
{
    lc_offsets_t *o = lc_xcalloc(1, sizeof(*o));
    o->topic = lc_xstrdup(topic);
    o->consumer = consumer;
    o->interval_ms = commit_interval_ms;
    o->on_result = on_result;
    o->ctx = ctx;
    if (consumer && !(o->results = rd_kafka_queue_new(consumer)))
        lc_oom();   /* librdkafka's only failure here */
    return o;
}

void lc_offsets_free(lc_offsets_t *o)
{
    if (!o)
        return;
    for (int id = 0; id < o->nparts; id++)
        partition_reset(&o->parts[id]);
    if (o->results)
        rd_kafka_queue_destroy(o->results);
    free(o->parts);
    free(o->topic);
    free(o);
}

void lc_offsets_assign(lc_offsets_t *o, int32_t partition)
{
    partition_t *part = partition_get(o, partition);
    partition_reset(part);
    part->assigned = true;
}

void lc_offsets_forget(lc_offsets_t *o, int32_t partition)
{
    if (partition >= 0 && partition < o->nparts)
        partition_reset(&o->parts[partition]);
}

lc_segment_t *lc_offsets_add(lc_offsets_t *o, int32_t partition, int64_t offset)
{
    partition_t *part = partition_get(o, partition);
    lc_segment_t *s = part->open;
    if (!s) {
        s = lc_xcalloc(1, sizeof(*s));
        if (part->tail)
            part->tail->next = s;
        else
            part->head = s;
        part->tail = part->open = s;
    }
    s->last_offset = offset;
    s->pending++;
    return s;
}

void lc_offsets_end_batch(lc_offsets_t *o)
{
    for (int id = 0; id < o->nparts; id++)
        o->parts[id].open = NULL;
}

void lc_offsets_segment_done(lc_segment_t *s, bool delivered)
{
    if (!s)
        return;
    s->pending--;
    if (!delivered)
        s->failed = true;
}

bool lc_offsets_idle(const lc_offsets_t *o, const rd_kafka_topic_partition_list_t *parts)
{
    for (int id = 0; id < o->nparts; id++) {
        if (!selected(o, parts, id))
            continue;
        for (const lc_segment_t *s = o->parts[id].head; s; s = s->next)
            if (s->pending)
                return false;
    }
    return true;
}

int64_t lc_offsets_pop_finished(lc_offsets_t *o, int32_t partition)
{
    if (partition < 0 || partition >= o->nparts)
        return -1;
    partition_t *part = &o->parts[partition];
    while (part->head && part->head != part->open && part->head->pending == 0 &&
           !part->head->failed) {
        lc_segment_t *s = part->head;
        part->done = s->last_offset + 1;
        part->head = s->next;
        if (!part->head)
            part->tail = NULL;
        free(s);
    }
    return part->done;
}

int64_t lc_offsets_committed(const lc_offsets_t *o, int32_t partition)
{
    return partition >= 0 && partition < o->nparts ? o->parts[partition].committed : -1;
}

/* The broker's answer: acknowledged offsets need no further commit; a failed commit leaves
 * `committed` behind `done`, so the next call sends it again. */
static void note_result(lc_offsets_t *o, rd_kafka_resp_err_t err,
                        const rd_kafka_topic_partition_list_t *offs)
{
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;   /* nothing was left to commit */
    if (o->on_result)
        o->on_result(o->ctx, err);
    for (int i = 0; !err && offs && i < offs->cnt; i++) {
        const rd_kafka_topic_partition_t *e = &offs->elems[i];
        if (e->err || e->partition < 0 || e->partition >= o->nparts || strcmp(e->topic, o->topic))
            continue;
        partition_t *part = &o->parts[e->partition];
        if (part->assigned && e->offset > part->committed) {
            part->committed = e->offset;
            LC_DEBUG("offsets", "committed [%" PRId32 "] offset %" PRId64, e->partition, e->offset);
        }
    }
}

static void commit_result_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    lc_offsets_t *o = opaque;
    o->inflight = false;
    note_result(o, err, offsets);
}

void lc_offsets_serve(lc_offsets_t *o, int timeout_ms)
{
    if (o->results)
        rd_kafka_queue_poll_callback(o->results, timeout_ms);
}

void lc_offsets_tick(lc_offsets_t *o, int64_t now_ms)
{
    lc_offsets_serve(o, 0);
    if (o->inflight || now_ms < o->next_commit_ms)
        return;
    lc_offsets_commit(o, NULL, false);
    o->next_commit_ms = now_ms + o->interval_ms;
}

bool lc_offsets_commit_inflight(const lc_offsets_t *o)
{
    return o->inflight;
}

void lc_offsets_commit(lc_offsets_t *o, const rd_kafka_topic_partition_list_t *only, bool sync)
{
    if (!o->consumer)
        return;
    if (sync) {
        for (int i = 0; o->inflight && i < 300; i++)   /* bounded: 30 s */
            lc_offsets_serve(o, 100);
    } else if (o->inflight) {
        return;
    }
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(8);
    for (int id = 0; id < o->nparts; id++) {
        partition_t *part = &o->parts[id];
        if (!part->assigned || !selected(o, only, id))
            continue;
        if (lc_offsets_pop_finished(o, id) > part->committed) {
            rd_kafka_topic_partition_list_add(offs, o->topic, id)->offset = part->done;
            LC_DEBUG("offsets", "commit%s %s [%d] offset %" PRId64, sync ? " (sync)" : "",
                     o->topic, id, part->done);
        }
    }
    if (offs->cnt > 0) {
        /* sync: a NULL queue makes the call wait and serve commit_result_cb itself */
        o->inflight = !sync;
        rd_kafka_resp_err_t err = rd_kafka_commit_queue(o->consumer, offs, sync ? NULL : o->results,
                                                        commit_result_cb, o);
        if (err && !sync) {
            o->inflight = false;
            note_result(o, err, NULL);
        }
    }
    rd_kafka_topic_partition_list_destroy(offs);
}

bool lc_offsets_commit_pending(const lc_offsets_t *o, const rd_kafka_topic_partition_list_t *only)
{
    for (int id = 0; id < o->nparts; id++) {
        const partition_t *part = &o->parts[id];
        if (part->assigned && part->done > part->committed && selected(o, only, id))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------------------------ */
/* at_least_once: the delivery mode (lc_delivery.h)                                       */

typedef struct alo {
    lc_offsets_t *offsets;
    rd_kafka_t *producer;       /* polled while waiting for delivery reports */
    lc_metrics_t *metrics;
} alo_t;

static void alo_commit_result(void *ctx, rd_kafka_resp_err_t err)
{
    alo_t *a = ctx;
    lc_metrics_count_commit(a->metrics, !err);
    if (err)
        LC_WARN("pipeline", "offset commit failed: %s (retried with the next commit)",
                rd_kafka_err2str(err));
}

static void *alo_create(const lc_delivery_env_t *env)
{
    alo_t *a = lc_xcalloc(1, sizeof(*a));
    a->producer = env->producer;
    a->metrics = env->metrics;
    a->offsets = lc_offsets_new(env->consumer, env->input_topic, env->commit_interval_ms,
                                alo_commit_result, a);
    return a;
}

static void alo_destroy(void *d)
{
    alo_t *a = d;
    if (!a)
        return;
    lc_offsets_free(a->offsets);
    free(a);
}

static int alo_start(void *d, int timeout_ms, char *errstr, size_t errlen)
{
    (void)d, (void)timeout_ms, (void)errstr, (void)errlen;
    return 0;
}

static void alo_assign(void *d, const rd_kafka_topic_partition_list_t *parts)
{
    alo_t *a = d;
    for (int i = 0; i < parts->cnt; i++)
        lc_offsets_assign(a->offsets, parts->elems[i].partition);
}

/* Before letting partitions go or stopping: commit synchronously, retrying a failed commit
 * for a while; what still fails is read again by the next owner (at least once). */
static void commit_until_acknowledged(alo_t *a, const rd_kafka_topic_partition_list_t *only)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        lc_offsets_commit(a->offsets, only, true);
        if (!lc_offsets_commit_pending(a->offsets, only))
            return;
        rd_kafka_poll(a->producer, 200 * (attempt + 1));
    }
    LC_WARN("pipeline", "could not commit the last offsets: those records will be read again");
}

/* Finishes what was handed to the producer for these partitions, commits it (unless the
 * partitions are lost already), and forgets them. */
static void alo_revoke(void *d, const rd_kafka_topic_partition_list_t *parts, bool lost)
{
    alo_t *a = d;
    while (!lc_offsets_idle(a->offsets, parts))
        rd_kafka_poll(a->producer, 100);
    if (!lost)
        commit_until_acknowledged(a, parts);
    for (int i = 0; i < parts->cnt; i++)
        lc_offsets_forget(a->offsets, parts->elems[i].partition);
}

static int alo_begin_batch(void *d, char *errstr, size_t errlen)
{
    (void)d, (void)errstr, (void)errlen;
    return 0;
}

/* Counted as pending until its delivery report. */
static void *alo_track(void *d, const rd_kafka_message_t *m)
{
    alo_t *a = d;
    return lc_offsets_add(a->offsets, m->partition, m->offset);
}

/* The record never reaches the producer: its segment can never be committed, and the
 * service stops before committing past it. */
static bool alo_refused(void *d, void *opaque, rd_kafka_resp_err_t err, const char *source)
{
    (void)d, (void)err, (void)source;
    lc_offsets_segment_done(opaque, false);
    return false;
}

/* A failed delivery (after the idempotent producer's own retries) stops the service before
 * anything past it is committed. */
static bool alo_delivered(void *d, void *opaque, bool ok)
{
    (void)d;
    lc_offsets_segment_done(opaque, ok);
    return !ok;
}

/* The batch's segments now only wait for their reports; serve those already back. */
static int alo_end_batch(void *d, lc_batch_end_t how, char *errstr, size_t errlen)
{
    (void)how, (void)errstr, (void)errlen;
    alo_t *a = d;
    lc_offsets_end_batch(a->offsets);
    rd_kafka_poll(a->producer, 0);
    return 0;
}

static void alo_tick(void *d, int64_t now_ms)
{
    alo_t *a = d;
    lc_offsets_tick(a->offsets, now_ms);
}

/* Everything handed to the producer is delivered, then committed. */
static void alo_drain(void *d, bool fatal)
{
    alo_t *a = d;
    int64_t deadline = lc_now_ms() + (fatal ? 10000 : 60000);
    while (rd_kafka_outq_len(a->producer) > 0 && lc_now_ms() < deadline)
        rd_kafka_poll(a->producer, 100);
    if (rd_kafka_outq_len(a->producer) > 0)
        LC_WARN("pipeline", "%d output record(s) still undelivered at stop: their offsets stay uncommitted",
                rd_kafka_outq_len(a->producer));
    commit_until_acknowledged(a, NULL);
}

const lc_delivery_ops_t lc_offsets_delivery = {
    .name = "at_least_once",
    .create = alo_create,
    .destroy = alo_destroy,
    .start = alo_start,
    .assign = alo_assign,
    .revoke = alo_revoke,
    .begin_batch = alo_begin_batch,
    .track = alo_track,
    .refused = alo_refused,
    .delivered = alo_delivered,
    .end_batch = alo_end_batch,
    .tick = alo_tick,
    .drain = alo_drain,
};
