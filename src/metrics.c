/* metrics.c - counters and gauges, the stats log line, Prometheus text, health. */
#include "lc_metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_log.h"

/* Batch duration histogram upper bounds, in seconds. */
#define NBUCKETS 12
static const double bucket_bounds_s[NBUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

struct lc_metrics {
    const lc_schema_t *schema;                    /* borrowed: reason names */
    _Atomic uint64_t records[LC_STATUS__COUNT];
    _Atomic uint64_t *reasons;                    /* nreasons entries */
    size_t nreasons;
    _Atomic uint64_t batches;
    _Atomic uint64_t batch_us_sum;
    _Atomic uint64_t batch_buckets[NBUCKETS];
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
    _Atomic int consuming;                        /* 1 once the group assigned us */
    _Atomic int kafka_down;                       /* 1 while all brokers are down */
    _Atomic int kafka_tokens;                     /* 1 with MSK IAM: the token counters */
    _Atomic uint64_t token_refreshes;
    _Atomic uint64_t token_failures;
    /* the stats line: only the thread that calls lc_metrics_stats_* touches these */
    int stats_interval_s;
    int64_t next_stats_ms;
    int64_t stats_prev_ms;
    uint64_t stats_records_prev;
};

lc_metrics_t *lc_metrics_new(const lc_schema_t *schema, int stats_interval_s)
{
    lc_metrics_t *m = lc_xcalloc(1, sizeof(*m));
    m->schema = schema;
    m->nreasons = schema ? lc_schema_nreasons(schema) : 0;
    m->reasons = lc_xcalloc(m->nreasons, sizeof(*m->reasons));
    m->stats_interval_s = stats_interval_s;
    atomic_store(&m->consumer_lag, -1);
    return m;
}

void lc_metrics_free(lc_metrics_t *m)
{
    if (!m)
        return;
    free(m->reasons);
    free(m);
}

size_t lc_metrics_nreasons(const lc_metrics_t *m)
{
    return m->nreasons;
}

/* ---- writers -------------------------------------------------------------------------- */

void lc_metrics_add_records(lc_metrics_t *m, const uint64_t *status, const uint64_t *reasons)
{
    if (!m)
        return;
    for (int s = 0; s < LC_STATUS__COUNT; s++)
        if (status[s])
            atomic_fetch_add(&m->records[s], status[s]);
    for (size_t r = 0; r < m->nreasons; r++)
        if (reasons[r])
            atomic_fetch_add(&m->reasons[r], reasons[r]);
}

void lc_metrics_observe_batch(lc_metrics_t *m, uint64_t duration_us)
{
    if (!m)
        return;
    atomic_fetch_add(&m->batches, 1);
    atomic_fetch_add(&m->batch_us_sum, duration_us);
    for (int i = 0; i < NBUCKETS; i++) {
        if ((double)duration_us / 1e6 <= bucket_bounds_s[i]) {
            atomic_fetch_add(&m->batch_buckets[i], 1);
            break;
        }
    }
}

void lc_metrics_count_produce_error(lc_metrics_t *m)
{
    if (m)
        atomic_fetch_add(&m->produce_errors, 1);
}

void lc_metrics_count_commit(lc_metrics_t *m, bool ok)
{
    if (m)
        atomic_fetch_add(ok ? &m->commits : &m->commit_errors, 1);
}

void lc_metrics_count_abort(lc_metrics_t *m)
{
    if (m)
        atomic_fetch_add(&m->transactions_aborted, 1);
}

void lc_metrics_set_consuming(lc_metrics_t *m)
{
    if (m)
        atomic_store(&m->consuming, 1);
}

bool lc_metrics_consuming(const lc_metrics_t *m)
{
    return m && atomic_load(&m->consuming);
}

void lc_metrics_set_kafka_down(lc_metrics_t *m, bool down)
{
    if (m)
        atomic_store(&m->kafka_down, down ? 1 : 0);
}

bool lc_metrics_kafka_down(const lc_metrics_t *m)
{
    return m && atomic_load(&m->kafka_down);
}

void lc_metrics_set_consumer_lag(lc_metrics_t *m, int64_t lag)
{
    if (m)
        atomic_store(&m->consumer_lag, lag);
}

void lc_metrics_set_kafka_tokens(lc_metrics_t *m, uint64_t refreshes, uint64_t failures)
{
    if (!m)
        return;
    atomic_store(&m->token_refreshes, refreshes);
    atomic_store(&m->token_failures, failures);
    atomic_store(&m->kafka_tokens, 1);
}

void lc_metrics_set_users(lc_metrics_t *m, size_t accounts, int64_t loaded_at_ms,
                          size_t rows_skipped)
{
    if (!m)
        return;
    atomic_store(&m->users_entries, (int64_t)accounts);
    atomic_store(&m->users_loaded_at_ms, loaded_at_ms);
    atomic_store(&m->users_rows_skipped, (uint64_t)rows_skipped);
}

void lc_metrics_count_refresh_failure(lc_metrics_t *m)
{
    if (m)
        atomic_fetch_add(&m->users_refresh_failures, 1);
}

void lc_metrics_set_users_outage(lc_metrics_t *m, bool outage)
{
    if (m)
        atomic_store(&m->users_outage, outage ? 1 : 0);
}

/* ---- the stats line ----------------------------------------------------------------- */

static void log_stats(lc_metrics_t *m, int64_t now)
{
    lc_metrics_counts_t c;
    lc_metrics_read(m, &c);
    uint64_t total = 0;
    for (int i = 0; i < LC_STATUS__COUNT; i++)
        total += c.records[i];
    double secs = (double)(now - m->stats_prev_ms) / 1000.0;
    double rate = secs > 0 ? (double)(total - m->stats_records_prev) / secs : 0;
    int64_t loaded = c.users_loaded_at_ms;
    LC_INFO("stats", "%.0f records/s, total=%llu good=%llu bad=%llu suspicious=%llu lag=%lld users=%lld users_age=%llds",
            rate, (unsigned long long)total, (unsigned long long)c.records[LC_STATUS_GOOD],
            (unsigned long long)c.records[LC_STATUS_BAD],
            (unsigned long long)c.records[LC_STATUS_SUSPICIOUS], (long long)c.consumer_lag,
            (long long)c.users_entries,
            (long long)(loaded ? (lc_wall_ms() - loaded) / 1000 : -1));
    m->stats_records_prev = total;
    m->stats_prev_ms = now;
}

void lc_metrics_stats_start(lc_metrics_t *m, int64_t now_ms)
{
    m->stats_prev_ms = now_ms;
    m->next_stats_ms = 0;
}

void lc_metrics_stats_tick(lc_metrics_t *m, int64_t now_ms)
{
    if (now_ms < m->next_stats_ms)
        return;
    if (m->stats_interval_s > 0 && now_ms - m->stats_prev_ms >= (int64_t)m->stats_interval_s * 1000)
        log_stats(m, now_ms);
    m->next_stats_ms = now_ms + 1000;
}

/* ---- readers ------------------------------------------------------------------------ */

void lc_metrics_read(const lc_metrics_t *m, lc_metrics_counts_t *out)
{
    for (int s = 0; s < LC_STATUS__COUNT; s++)
        out->records[s] = atomic_load(&m->records[s]);
    out->batches = atomic_load(&m->batches);
    out->produce_errors = atomic_load(&m->produce_errors);
    out->commits = atomic_load(&m->commits);
    out->commit_errors = atomic_load(&m->commit_errors);
    out->transactions_aborted = atomic_load(&m->transactions_aborted);
    out->users_refresh_failures = atomic_load(&m->users_refresh_failures);
    out->consumer_lag = atomic_load(&m->consumer_lag);
    out->users_entries = atomic_load(&m->users_entries);
    out->users_loaded_at_ms = atomic_load(&m->users_loaded_at_ms);
}

uint64_t lc_metrics_reason(const lc_metrics_t *m, size_t r)
{
    return r < m->nreasons ? atomic_load(&m->reasons[r]) : 0;
}

static void render_header(lc_buf_t *out, const char *name, const char *type, const char *help)
{
    lc_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Prometheus label values escape backslash, double quote and newline. */
static void render_label_value(lc_buf_t *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            lc_buf_putc(out, '\\');
        if (*v == '\n') {
            lc_buf_puts(out, "\\n");
            continue;
        }
        lc_buf_putc(out, *v);
    }
}

static void render_batch_histogram(const lc_metrics_t *m, lc_buf_t *out)
{
    const char *name = "logclassify_batch_duration_seconds";
    render_header(out, name, "histogram", "Time to classify, produce and hand over one micro-batch.");
    uint64_t cumulative = 0;
    for (int i = 0; i < NBUCKETS; i++) {
        cumulative += atomic_load(&m->batch_buckets[i]);
        lc_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_bounds_s[i],
                      (unsigned long long)cumulative);
    }
    uint64_t count = atomic_load(&m->batches);
    lc_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)count);
    lc_buf_printf(out, "%s_sum %.6f\n", name, (double)atomic_load(&m->batch_us_sum) / 1e6);
    lc_buf_printf(out, "%s_count %llu\n", name, (unsigned long long)count);
}

static void render_counter(lc_buf_t *out, const char *name, const char *help, uint64_t v)
{
    render_header(out, name, "counter", help);
    lc_buf_printf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void render_gauge(lc_buf_t *out, const char *name, const char *help, double v)
{
    render_header(out, name, "gauge", help);
    if (v == (double)(int64_t)v)
        lc_buf_printf(out, "%s %lld\n", name, (long long)v);
    else
        lc_buf_printf(out, "%s %.3f\n", name, v);
}

void lc_metrics_render(const lc_metrics_t *m, lc_buf_t *out)
{
    render_header(out, "logclassify_records_total", "counter", "Records classified, by label.");
    for (int s = 0; s < LC_STATUS__COUNT; s++)
        lc_buf_printf(out, "logclassify_records_total{status=\"%s\"} %llu\n",
                      lc_status_name((lc_status_t)s),
                      (unsigned long long)atomic_load(&m->records[s]));

    render_header(out, "logclassify_reasons_total", "counter", "Reason codes given, by reason.");
    for (size_t r = 0; r < m->nreasons; r++) {
        lc_buf_puts(out, "logclassify_reasons_total{reason=\"");
        render_label_value(out, lc_schema_reason_name(m->schema, r));
        lc_buf_printf(out, "\"} %llu\n", (unsigned long long)atomic_load(&m->reasons[r]));
    }

    render_batch_histogram(m, out);
    int64_t lag = atomic_load(&m->consumer_lag);
    render_gauge(out, "logclassify_consumer_lag", "Records behind the end of the assigned input partitions (-1 unknown).", (double)lag);
    render_counter(out, "logclassify_produce_errors_total", "Output records whose delivery failed.", atomic_load(&m->produce_errors));
    render_counter(out, "logclassify_commits_total", "Input offset commits (or committed transactions).", atomic_load(&m->commits));
    render_counter(out, "logclassify_commit_errors_total", "Offset commits that failed.", atomic_load(&m->commit_errors));
    render_counter(out, "logclassify_transactions_aborted_total", "Transactions aborted (exactly_once).", atomic_load(&m->transactions_aborted));
    if (atomic_load(&m->kafka_tokens)) {
        render_counter(out, "logclassify_kafka_token_refreshes_total", "MSK IAM tokens made for the Kafka clients.", atomic_load(&m->token_refreshes));
        render_counter(out, "logclassify_kafka_token_refresh_failures_total", "MSK IAM token refreshes that failed (no credentials, refused by STS, ...).", atomic_load(&m->token_failures));
    }

    int64_t loaded = atomic_load(&m->users_loaded_at_ms);
    render_gauge(out, "logclassify_users_cache_entries", "Accounts in the users snapshot.", (double)atomic_load(&m->users_entries));
    render_gauge(out, "logclassify_users_cache_age_seconds", "Age of the users snapshot (-1: none).",
                 loaded ? (double)(lc_wall_ms() - loaded) / 1000.0 : -1.0);
    render_counter(out, "logclassify_users_refresh_failures_total", "Users refreshes that failed.", atomic_load(&m->users_refresh_failures));
    render_counter(out, "logclassify_users_rows_skipped_total", "Users rows skipped because their key does not convert.", atomic_load(&m->users_rows_skipped));
    render_gauge(out, "logclassify_up", "1 when healthy (same rule as /healthz).", lc_metrics_health(m, NULL, 0) == 0 ? 1 : 0);
}

int lc_metrics_health(const lc_metrics_t *m, char *reason, size_t len)
{
    if (atomic_load(&m->users_loaded_at_ms) == 0)
        return lc_err(reason, len, "no users snapshot");
    if (atomic_load(&m->kafka_down))
        return lc_err(reason, len, "kafka brokers unreachable");
    if (!atomic_load(&m->consuming))
        return lc_err(reason, len, "not consuming (no group assignment yet)");
    return 0;
}
