/*
 * lc_delivery.h - the delivery modes (CONTRACT §6) behind one interface.
 *
 * The pipeline consumes a batch, runs each record's transform and produces its output; how
 * the input offsets follow the outputs is the delivery mode's, through these operations,
 * all called from the pipeline's one thread (the librdkafka callbacks run there too):
 *
 *   start        once, after the cluster answered (exactly_once: init_transactions)
 *   assign       the group gave partitions        revoke   they are taken back (or lost)
 *   begin_batch  before a batch's first record    track    each record, before it is produced
 *   refused      produce() refused a record       delivered  a record's delivery report
 *   end_batch    after the batch's last record    tick     after every batch, and idle
 *   drain        the service stops
 *
 * at_least_once is implemented by the offsets module (lc_offsets.h: segments, commits after
 * the outputs are acknowledged), exactly_once by the transactions module (lc_txn.h: one
 * Kafka transaction per batch, holding its outputs and the consumer's positions).
 */
#ifndef LC_DELIVERY_H
#define LC_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "lc_metrics.h"

typedef enum lc_delivery {
    LC_DELIVERY_AT_LEAST_ONCE = 0,   /* commit offsets after the outputs are acknowledged */
    LC_DELIVERY_EXACTLY_ONCE,        /* one Kafka transaction per batch */
} lc_delivery_t;

/* "at_least_once", "exactly_once", NULL: indexed by lc_delivery_t. */
extern const char *const lc_delivery_names[];

/* What a delivery mode works with: the pipeline's clients and metrics, borrowed for the
 * mode's lifetime. */
typedef struct lc_delivery_env {
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    const char *input_topic;
    int commit_interval_ms;          /* at_least_once: least time between two commits */
    lc_metrics_t *metrics;
} lc_delivery_env_t;

/* How the batch in hand ended, as end_batch is told. */
typedef enum lc_batch_end {
    LC_BATCH_PRODUCED = 0,   /* every record was handed to the producer */
    LC_BATCH_REFUSED,        /* produce() refused a record and `refused` said: roll back */
    LC_BATCH_FAILED,         /* the service is stopping on a fatal error */
} lc_batch_end_t;

typedef struct lc_delivery_ops {
    const char *name;   /* "at_least_once", "exactly_once" */
    /* The mode's state for these clients; never NULL. destroy (NULL is fine) frees it,
     * after the consumer is closed and the producer flushed. */
    void *(*create)(const lc_delivery_env_t *env);
    void (*destroy)(void *d);
    /* 0; or 1 when the cluster did not answer in time, -1 on any other failure (errstr). */
    int (*start)(void *d, int timeout_ms, char *errstr, size_t errlen);
    void (*assign)(void *d, const rd_kafka_topic_partition_list_t *parts);
    /* The batch in hand holds no record of these partitions any more. lost: they are gone
     * already (nothing can be committed for them). */
    void (*revoke)(void *d, const rd_kafka_topic_partition_list_t *parts, bool lost);
    /* 0, or -1 with errstr: fatal. */
    int (*begin_batch)(void *d, char *errstr, size_t errlen);
    /* The opaque that record m's delivery report will carry (may be NULL). The hot path. */
    void *(*track)(void *d, const rd_kafka_message_t *m);
    /* produce() refused the record tracked as opaque (source names it for logs): true when
     * the batch can be rolled back (end_batch then gets LC_BATCH_REFUSED), false when the
     * service must stop. */
    bool (*refused)(void *d, void *opaque, rd_kafka_resp_err_t err, const char *source);
    /* A delivery report: true when this failure must stop the service. */
    bool (*delivered)(void *d, void *opaque, bool ok);
    /* 0: the batch's records are done (count them); 1: rolled back, to be read again (do not
     * count them); -1: fatal (errstr, or "" when the pipeline has said why already). */
    int (*end_batch)(void *d, lc_batch_end_t how, char *errstr, size_t errlen);
    void (*tick)(void *d, int64_t now_ms);
    /* Stopping (fatal: on an error): hand over what can still be handed over. */
    void (*drain)(void *d, bool fatal);
} lc_delivery_ops_t;

/* The operations of a mode. */
const lc_delivery_ops_t *lc_delivery_ops(lc_delivery_t mode);

#endif
