/*
 * lc_pipeline.h - the consume -> transform -> produce loop (CONTRACT §4, §6).
 *
 * Micro-batches: up to batch.max_records, waiting up to batch.max_wait_ms for the first
 * record only. Each record goes through the transform (lc_transform.h: the classifier, or
 * nothing for bench/passthrough) and its output to an idempotent producer (acks=all) with
 * the input's key and timestamp and the `status` and `source` headers. How input offsets
 * follow the outputs is the delivery mode's (lc_delivery.h): at_least_once commits an offset
 * only when every output up to it is acknowledged; exactly_once makes each batch one Kafka
 * transaction. Rebalances (cooperative) hand partitions over through the mode; SIGTERM
 * finishes the batch in hand and drains.
 */
#ifndef LC_PIPELINE_H
#define LC_PIPELINE_H

#include <stdatomic.h>

#include "lc_delivery.h"
#include "lc_kafka.h"
#include "lc_metrics.h"
#include "lc_transform.h"

/* The delivery and batch.* keys. */
typedef struct lc_pipeline_opts {
    lc_delivery_t delivery;       /* delivery */
    int batch_max_records;        /* batch.max_records */
    int batch_max_wait_ms;        /* batch.max_wait_ms */
    int commit_interval_ms;       /* batch.commit_interval_ms (at_least_once) */
} lc_pipeline_opts_t;

/* Exit statuses (CONTRACT §7). */
enum {
    LC_EXIT_OK = 0,
    LC_EXIT_FAILURE = 1,
    LC_EXIT_USAGE = 2,
    LC_EXIT_UNAVAILABLE = 3,
};

typedef struct lc_pipeline_hooks {
    void (*ready)(void *ctx);      /* once: first users snapshot and group joined */
    void (*tick)(void *ctx);       /* from the main loop, at least every ~second */
    void (*stopping)(void *ctx);   /* once: shutdown begins */
    void *ctx;
} lc_pipeline_hooks_t;

/*
 * Runs until *stop becomes non-zero (then finishes the batch in hand, flushes, commits and
 * returns LC_EXIT_OK), a fatal error (LC_EXIT_FAILURE, nothing committed past a failed
 * record), Kafka unreachable at start within kafka.startup_timeout_s (LC_EXIT_UNAVAILABLE),
 * or a client that cannot be created from the options (LC_EXIT_USAGE). The message of a
 * non-zero return is in errstr. Everything passed is borrowed for the run; `metrics` gets
 * the counts of every batch whose records are done, and the stats line; `hooks` may be NULL.
 */
int lc_pipeline_run(const lc_pipeline_opts_t *opts, const lc_kafka_opts_t *kafka,
                    const lc_transform_t *transform, lc_metrics_t *metrics,
                    const lc_pipeline_hooks_t *hooks, const atomic_int *stop,
                    char *errstr, size_t errlen);

#endif
