/*
 * lc_pipeline.h - the consume -> classify -> produce loop (CONTRACT §4, §6).
 *
 * at_least_once: output records go to an idempotent producer (acks=all); each micro-batch
 * leaves one "segment" per input partition holding its last offset and a count of
 * outstanding delivery reports. An input offset is committed only when every segment up to
 * it has all its reports back without error, so a failed delivery is never followed by a
 * commit past it.
 *
 * exactly_once: each micro-batch is one Kafka transaction holding its output records and the
 * consumer's positions (shaped like librdkafka's examples/transactions.c).
 */
#ifndef LC_PIPELINE_H
#define LC_PIPELINE_H

#include <signal.h>

#include "lc_classify.h"
#include "lc_delivery.h"
#include "lc_kafka.h"
#include "lc_metrics.h"
#include "lc_users_source.h"

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
 * record), or Kafka unreachable at start within kafka.startup_timeout_s
 * (LC_EXIT_UNAVAILABLE). The message of a non-zero return is in errstr.
 */
int lc_pipeline_run(const lc_pipeline_opts_t *opts, const lc_kafka_opts_t *kafka,
                    const lc_classify_opts_t *classify, lc_users_source_t *users,
                    lc_metrics_t *metrics, const lc_pipeline_hooks_t *hooks,
                    volatile sig_atomic_t *stop, char *errstr, size_t errlen);

#endif
