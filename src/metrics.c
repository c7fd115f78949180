/* metrics.c - counters, Prometheus text rendering, health. */
#include "lc_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_log.h"

static const double bucket_bounds_s[LC_METRICS_NBUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

void lc_metrics_init(lc_metrics_t *m, const lc_schema_t *schema)
{
    memset(m, 0, sizeof(*m));
    m->schema = schema;
    m->nreasons = schema ? lc_schema_nreasons(schema) : 0;
    m->reasons = lc_xcalloc(m->nreasons, sizeof(*m->reasons));
    atomic_store(&m->consumer_lag, -1);
    atomic_store(&m->started_at_ms, lc_wall_ms());
}

void lc_metrics_destroy(lc_metrics_t *m)
{
    free(m->reasons);
    m->reasons = NULL;
}

void lc_metrics_observe_batch(lc_metrics_t *m, uint64_t duration_us)
{
    atomic_fetch_add(&m->batches, 1);
    atomic_fetch_add(&m->batch_us_sum, duration_us);
    for (int i = 0; i < LC_METRICS_NBUCKETS; i++) {
        if ((double)duration_us / 1e6 <= bucket_bounds_s[i]) {
            atomic_fetch_add(&m->batch_buckets[i], 1);
            break;
        }
    }
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

static void render_batch_histogram(lc_metrics_t *m, lc_buf_t *out)
{
    const char *name = "logclassify_batch_duration_seconds";
    render_header(out, name, "histogram", "Time to classify, produce and hand over one micro-batch.");
    uint64_t cumulative = 0;
    for (int i = 0; i < LC_METRICS_NBUCKETS; i++) {
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

void lc_metrics_render(lc_metrics_t *m, lc_buf_t *out)
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

    int64_t loaded = atomic_load(&m->users_loaded_at_ms);
    render_gauge(out, "logclassify_users_cache_entries", "Accounts in the users snapshot.", (double)atomic_load(&m->users_entries));
    render_gauge(out, "logclassify_users_cache_age_seconds", "Age of the users snapshot (-1: none).",
                 loaded ? (double)(lc_wall_ms() - loaded) / 1000.0 : -1.0);
    render_counter(out, "logclassify_users_refresh_failures_total", "Users refreshes that failed.", atomic_load(&m->users_refresh_failures));
    render_counter(out, "logclassify_users_rows_skipped_total", "Users rows skipped because their key does not convert.", atomic_load(&m->users_rows_skipped));
    render_gauge(out, "logclassify_up", "1 when healthy (same rule as /healthz).", lc_metrics_health(m, NULL, 0) == 0 ? 1 : 0);
}

int lc_metrics_health(lc_metrics_t *m, char *reason, size_t len)
{
    if (atomic_load(&m->users_loaded_at_ms) == 0)
        return lc_err(reason, len, "no users snapshot");
    if (atomic_load(&m->kafka_down))
        return lc_err(reason, len, "kafka brokers unreachable");
    if (!atomic_load(&m->consuming))
        return lc_err(reason, len, "not consuming (no group assignment yet)");
    return 0;
}
