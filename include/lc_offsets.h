/*
 * lc_offsets.h - at_least_once offset tracking: which input offsets may be committed.
 *
 * Every record handed to the producer belongs to a segment: the records of one input
 * partition within one micro-batch, with the batch's last offset and a count of delivery
 * reports still outstanding. A partition's committable offset is the end of its longest
 * prefix of finished segments (every report back, none failed); a failed delivery stops the
 * prefix for good, so nothing past it is ever committed.
 *
 * Commits are asynchronous with one in flight at a time, and their results come back on a
 * queue of their own, served by lc_offsets_serve(). A synchronous commit first waits for the
 * one in flight: a retried older commit can then never land after a newer one and move a
 * committed offset backwards. A commit that fails is sent again by the next call.
 *
 * lc_offsets_delivery is the at_least_once delivery mode (lc_delivery.h) built on these:
 * each record is added to its segment before it is produced, a revoke waits for the
 * partitions' reports and commits them synchronously, and stopping drains the producer and
 * commits. Single-threaded: every call, and the delivery reports, come from the thread that
 * polls the producer and the consumer.
 */
#ifndef LC_OFFSETS_H
#define LC_OFFSETS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "lc_delivery.h"

/* The at_least_once delivery mode. */
extern const lc_delivery_ops_t lc_offsets_delivery;

typedef struct lc_offsets lc_offsets_t;
typedef struct lc_segment lc_segment_t;

/* Told of every commit result (err 0: acknowledged); for metrics and logs. May be NULL. */
typedef void (*lc_commit_result_fn)(void *ctx, rd_kafka_resp_err_t err);

/* `consumer` NULL: bookkeeping only, commits are never sent (unit tests). Async commits go
 * out at most every commit_interval_ms (lc_offsets_tick). Never NULL; the caller owns the
 * result (lc_offsets_free, before the consumer is destroyed: the result queue is its). */
lc_offsets_t *lc_offsets_new(rd_kafka_t *consumer, const char *topic, int commit_interval_ms,
                             lc_commit_result_fn on_result, void *ctx);
void lc_offsets_free(lc_offsets_t *o);

/* A partition was assigned (starts empty) or is let go (its segments are dropped). */
void lc_offsets_assign(lc_offsets_t *o, int32_t partition);
void lc_offsets_forget(lc_offsets_t *o, int32_t partition);

/* One more record of the current batch, about to be produced: returns its segment, to be
 * passed as the message opaque and given to lc_offsets_segment_done() exactly once. */
lc_segment_t *lc_offsets_add(lc_offsets_t *o, int32_t partition, int64_t offset);
/* The batch is fully handed over: its segments only wait for their reports now. */
void lc_offsets_end_batch(lc_offsets_t *o);
/* A record's delivery report (or a produce() that failed: delivered = false). NULL: no-op. */
void lc_offsets_segment_done(lc_segment_t *s, bool delivered);

/* No delivery report outstanding in these partitions (NULL: in any partition). */
bool lc_offsets_idle(const lc_offsets_t *o, const rd_kafka_topic_partition_list_t *parts);
/* Pops (and frees) the partition's leading segments whose reports are all back without
 * error, and returns the offset up to which every output is acknowledged: the offset to
 * commit, or -1 when none yet. Calling it again without new reports returns the same. */
int64_t lc_offsets_pop_finished(lc_offsets_t *o, int32_t partition);
/* The offset the broker acknowledged as committed, or -1. */
int64_t lc_offsets_committed(const lc_offsets_t *o, int32_t partition);

/* Commits what is committable and not yet acknowledged (`only`: just those partitions).
 * Async: returns at once, and does nothing while a commit is in flight. Sync: waits. */
void lc_offsets_commit(lc_offsets_t *o, const rd_kafka_topic_partition_list_t *only, bool sync);
/* Serves commit results, waiting up to timeout_ms for one. */
void lc_offsets_serve(lc_offsets_t *o, int timeout_ms);
/* Called after every batch and when none came: serves commit results, then commits async
 * when the interval has passed since the last one. A commit per small batch cost the broker
 * an OffsetCommit and a __consumer_offsets write each; a crash re-reads at most one interval
 * more, and revoke and stop still commit synchronously. */
void lc_offsets_tick(lc_offsets_t *o, int64_t now_ms);
bool lc_offsets_commit_inflight(const lc_offsets_t *o);
/* Something committable in these partitions is not acknowledged yet. */
bool lc_offsets_commit_pending(const lc_offsets_t *o, const rd_kafka_topic_partition_list_t *only);

#endif
