/*
 * lc_metrics.h - the counters and gauges the service exposes (CONTRACT §8), and its stats
 * log line.
 *
 * Written by the pipeline, its delivery mode and the users source through the functions
 * below, read by the HTTP endpoint (lc_http.h) and the stats line. The values are private
 * to metrics.c and are C11 atomics, so readers never block the hot path; the pipeline adds
 * a whole batch's counts at once. Label sets are bounded: statuses are three, reasons come
 * from the schema (lc_schema_reason_name), never from record data.
 *
 * Every writer accepts m == NULL and does nothing (the users source runs without metrics
 * in pipe mode and in tests).
 */
#ifndef LC_METRICS_H
#define LC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lc_classify.h"
#include "lc_common.h"
#include "lc_schema.h"

typedef struct lc_metrics lc_metrics_t;

/* New metrics for records checked against `schema` (borrowed, must outlive the metrics:
 * the reason names; NULL: no reasons). stats_interval_s: seconds between two stats log
 * lines, 0 for none. Never NULL; free with lc_metrics_free (NULL is fine). */
lc_metrics_t *lc_metrics_new(const lc_schema_t *schema, int stats_interval_s);
void lc_metrics_free(lc_metrics_t *m);

/* The number of reason ids (lc_schema_nreasons of the schema, 0 without one). */
size_t lc_metrics_nreasons(const lc_metrics_t *m);

/* ---- the pipeline and its delivery mode --------------------------------------------- */

/* Adds one batch's counts: status[LC_STATUS__COUNT] records per label, reasons[] per reason
 * id (lc_metrics_nreasons entries). */
void lc_metrics_add_records(lc_metrics_t *m, const uint64_t *status, const uint64_t *reasons);
void lc_metrics_observe_batch(lc_metrics_t *m, uint64_t duration_us);
void lc_metrics_count_produce_error(lc_metrics_t *m);
/* An offset commit (at_least_once) or a committed transaction (exactly_once). */
void lc_metrics_count_commit(lc_metrics_t *m, bool ok);
void lc_metrics_count_abort(lc_metrics_t *m);   /* an aborted transaction */
void lc_metrics_set_consuming(lc_metrics_t *m); /* the group assigned us partitions */
bool lc_metrics_consuming(const lc_metrics_t *m);
void lc_metrics_set_kafka_down(lc_metrics_t *m, bool down);
bool lc_metrics_kafka_down(const lc_metrics_t *m);
/* Records behind the end of the assigned input partitions; -1 unknown. */
void lc_metrics_set_consumer_lag(lc_metrics_t *m, int64_t lag);
/* MSK IAM (kafka.aws_iam): the MSK IAM tokens made for the clients so far, and the refreshes
 * that failed. The first call adds the two counters to the exposition. */
void lc_metrics_set_kafka_tokens(lc_metrics_t *m, uint64_t refreshes, uint64_t failures);

/* The stats line (records/s, counts per label, lag, users and their age) every
 * stats_interval_s, from one thread: _start begins the interval at now_ms, _tick (call it
 * at least every second) logs the line when it is due. */
void lc_metrics_stats_start(lc_metrics_t *m, int64_t now_ms);
void lc_metrics_stats_tick(lc_metrics_t *m, int64_t now_ms);

/* ---- the users source ----------------------------------------------------------------- */

/* A new snapshot: its accounts, the wall-clock time of its load, the rows it skipped. */
void lc_metrics_set_users(lc_metrics_t *m, size_t accounts, int64_t loaded_at_ms,
                          size_t rows_skipped);
void lc_metrics_count_refresh_failure(lc_metrics_t *m);
void lc_metrics_set_users_outage(lc_metrics_t *m, bool outage);

/* ---- readers ------------------------------------------------------------------------ */

/* The counters at one moment (each read atomically, not all at once). */
typedef struct lc_metrics_counts {
    uint64_t records[LC_STATUS__COUNT];
    uint64_t batches;
    uint64_t produce_errors;
    uint64_t commits;
    uint64_t commit_errors;
    uint64_t transactions_aborted;
    uint64_t users_refresh_failures;
    int64_t consumer_lag;
    int64_t users_entries;
    int64_t users_loaded_at_ms;
} lc_metrics_counts_t;
void lc_metrics_read(const lc_metrics_t *m, lc_metrics_counts_t *out);
/* Reason id r's count. */
uint64_t lc_metrics_reason(const lc_metrics_t *m, size_t r);

/* Appends the Prometheus text exposition (format 0.0.4). */
void lc_metrics_render(const lc_metrics_t *m, lc_buf_t *out);

/* Health: 0 healthy, else -1 and the reason ("no users snapshot", "not consuming", ...)
 * in reason (may be NULL). */
int lc_metrics_health(const lc_metrics_t *m, char *reason, size_t len);

#endif
