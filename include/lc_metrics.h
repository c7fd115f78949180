/*
 * lc_metrics.h - counters and gauges the service exposes (CONTRACT §8).
 *
 * Written by the pipeline and the users refresher, read by the HTTP endpoint and the stats
 * log line. Every value is a C11 atomic, so readers never block the hot path; the pipeline
 * adds a whole batch's counts at once. Label sets are bounded: statuses are three, reasons
 * come from the schema (lc_schema_reason_name), never from record data.
 */
#ifndef LC_METRICS_H
#define LC_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lc_classify.h"
#include "lc_common.h"
#include "lc_schema.h"

/* Batch duration histogram upper bounds, in seconds. */
#define LC_METRICS_NBUCKETS 12

typedef struct lc_metrics {
    const lc_schema_t *schema;                    /* borrowed: reason names */
    _Atomic uint64_t records[LC_STATUS__COUNT];
    _Atomic uint64_t *reasons;                    /* lc_schema_nreasons() entries */
    size_t nreasons;
    _Atomic uint64_t batches;
    _Atomic uint64_t batch_us_sum;
    _Atomic uint64_t batch_buckets[LC_METRICS_NBUCKETS];
    _Atomic int64_t consumer_lag;                 /* sum over assigned partitions; -1 unknown */
    _Atomic uint64_t produce_errors;
    _Atomic uint64_t commits;
    _Atomic uint64_t commit_errors;
    _Atomic uint64_t transactions_aborted;
    _Atomic int64_t users_entries;                /* distinct accounts in the snapshot */
    _Atomic int64_t users_loaded_at_ms;           /* wall clock of the snapshot's load; 0 none */
    _Atomic uint64_t users_refresh_failures;
    _Atomic uint64_t users_rows_skipped;
    _Atomic int users_outage;                     /* 1 while refreshes fail */
    _Atomic int consuming;                        /* 1 once the group assigned us / polling */
    _Atomic int kafka_down;                       /* 1 while all brokers are down */
    _Atomic int64_t started_at_ms;
} lc_metrics_t;

/* Sets up (allocates the reasons array; lc_metrics_destroy frees it). */
void lc_metrics_init(lc_metrics_t *m, const lc_schema_t *schema);
void lc_metrics_destroy(lc_metrics_t *m);

void lc_metrics_observe_batch(lc_metrics_t *m, uint64_t duration_us);

/* Appends the Prometheus text exposition (format 0.0.4). */
void lc_metrics_render(lc_metrics_t *m, lc_buf_t *out);

/* Health: 0 healthy, else fills reason ("no users snapshot", "not consuming", ...). */
int lc_metrics_health(lc_metrics_t *m, char *reason, size_t len);

#endif
