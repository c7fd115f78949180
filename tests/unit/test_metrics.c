/*
 * test_metrics.c - the metrics module behind its functions (lc_metrics.h, CONTRACT §8):
 * batch counts per label and reason, the other counters and gauges, the Prometheus text,
 * health, the stats line's cadence, and that every writer takes NULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lc_log.h"
#include "lc_metrics.h"

static lc_schema_t *schema_ab(void)
{
    static const lc_field_def_t defs[] = {
        {.name = "a", .type = LC_FT_STRING, .required = true, .max_length = -1},
        {.name = "b\"q", .type = LC_FT_INTEGER, .required = true, .max_length = -1},
    };
    char err[128];
    lc_schema_t *s = lc_schema_new(defs, 2, NULL, err, sizeof(err));
    assert_non_null(s);
    return s;
}

static char *render(const lc_metrics_t *m)
{
    lc_buf_t b = {0};
    lc_metrics_render(m, &b);
    lc_buf_putc(&b, '\0');
    return b.data;
}

static void test_batch_counts(void **state)
{
    (void)state;
    lc_schema_t *s = schema_ab();
    lc_metrics_t *m = lc_metrics_new(s, 0);
    size_t n = lc_metrics_nreasons(m);
    assert_int_equal(n, lc_schema_nreasons(s));
    uint64_t status[LC_STATUS__COUNT] = {[LC_STATUS_GOOD] = 5, [LC_STATUS_BAD] = 2};
    uint64_t *reasons = calloc(n, sizeof(*reasons));
    size_t missing_a = lc_schema_reason_id(s, LC_R_MISSING, 0);
    reasons[missing_a] = 2;
    lc_metrics_add_records(m, status, reasons);
    status[LC_STATUS_SUSPICIOUS] = 1;
    lc_metrics_add_records(m, status, reasons);
    lc_metrics_counts_t c;
    lc_metrics_read(m, &c);
    assert_int_equal(c.records[LC_STATUS_GOOD], 10);
    assert_int_equal(c.records[LC_STATUS_BAD], 4);
    assert_int_equal(c.records[LC_STATUS_SUSPICIOUS], 1);
    assert_int_equal(lc_metrics_reason(m, missing_a), 4);
    assert_int_equal(lc_metrics_reason(m, n), 0);   /* out of range */
    char *text = render(m);
    assert_non_null(strstr(text, "logclassify_records_total{status=\"good\"} 10\n"));
    assert_non_null(strstr(text, "logclassify_records_total{status=\"suspicious\"} 1\n"));
    assert_non_null(strstr(text, "logclassify_reasons_total{reason=\"missing:a\"} 4\n"));
    /* label values are escaped */
    assert_non_null(strstr(text, "logclassify_reasons_total{reason=\"type:b\\\"q\"} 0\n"));
    free(text);
    free(reasons);
    lc_metrics_free(m);
    lc_schema_free(s);
}

static void test_counters_and_gauges(void **state)
{
    (void)state;
    lc_metrics_t *m = lc_metrics_new(NULL, 0);
    assert_int_equal(lc_metrics_nreasons(m), 0);
    lc_metrics_counts_t c;
    lc_metrics_read(m, &c);
    assert_true(c.consumer_lag == -1);          /* unknown until measured */
    lc_metrics_count_produce_error(m);
    lc_metrics_count_commit(m, true);
    lc_metrics_count_commit(m, true);
    lc_metrics_count_commit(m, false);
    lc_metrics_count_abort(m);
    lc_metrics_count_refresh_failure(m);
    lc_metrics_set_consumer_lag(m, 1234);
    lc_metrics_observe_batch(m, 3000);          /* 3 ms: the 0.005 bucket */
    lc_metrics_observe_batch(m, 9000000);       /* 9 s: only +Inf */
    lc_metrics_read(m, &c);
    assert_int_equal(c.produce_errors, 1);
    assert_int_equal(c.commits, 2);
    assert_int_equal(c.commit_errors, 1);
    assert_int_equal(c.transactions_aborted, 1);
    assert_int_equal(c.users_refresh_failures, 1);
    assert_int_equal(c.batches, 2);
    assert_true(c.consumer_lag == 1234);
    char *text = render(m);
    assert_non_null(strstr(text, "logclassify_consumer_lag 1234\n"));
    assert_non_null(strstr(text, "logclassify_commits_total 2\n"));
    assert_non_null(strstr(text, "logclassify_commit_errors_total 1\n"));
    assert_non_null(strstr(text, "logclassify_batch_duration_seconds_bucket{le=\"0.0025\"} 0\n"));
    assert_non_null(strstr(text, "logclassify_batch_duration_seconds_bucket{le=\"0.005\"} 1\n"));
    assert_non_null(strstr(text, "logclassify_batch_duration_seconds_bucket{le=\"5\"} 1\n"));
    assert_non_null(strstr(text, "logclassify_batch_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(text, "logclassify_batch_duration_seconds_sum 9.003000\n"));
    assert_non_null(strstr(text, "logclassify_users_cache_age_seconds -1\n"));
    assert_null(strstr(text, "token"));        /* MSK IAM's counters: only with IAM on */
    free(text);
    lc_metrics_set_kafka_tokens(m, 7, 1);
    text = render(m);
    assert_non_null(strstr(text, "logclassify_kafka_token_refreshes_total 7\n"));
    assert_non_null(strstr(text, "logclassify_kafka_token_refresh_failures_total 1\n"));
    free(text);
    lc_metrics_set_kafka_tokens(NULL, 1, 1);
    lc_metrics_free(m);
}

static void test_health(void **state)
{
    (void)state;
    lc_metrics_t *m = lc_metrics_new(NULL, 0);
    char why[128];
    assert_int_equal(lc_metrics_health(m, why, sizeof(why)), -1);
    assert_string_equal(why, "no users snapshot");
    lc_metrics_set_users(m, 10, lc_wall_ms() - 5000, 2);
    assert_int_equal(lc_metrics_health(m, why, sizeof(why)), -1);
    assert_string_equal(why, "not consuming (no group assignment yet)");
    assert_false(lc_metrics_consuming(m));
    lc_metrics_set_consuming(m);
    assert_true(lc_metrics_consuming(m));
    assert_int_equal(lc_metrics_health(m, NULL, 0), 0);
    lc_metrics_set_kafka_down(m, true);
    assert_true(lc_metrics_kafka_down(m));
    assert_int_equal(lc_metrics_health(m, why, sizeof(why)), -1);
    assert_string_equal(why, "kafka brokers unreachable");
    char *text = render(m);
    assert_non_null(strstr(text, "logclassify_up 0\n"));
    assert_non_null(strstr(text, "logclassify_users_cache_entries 10\n"));
    assert_non_null(strstr(text, "logclassify_users_rows_skipped_total 2\n"));
    free(text);
    lc_metrics_set_kafka_down(m, false);
    assert_int_equal(lc_metrics_health(m, NULL, 0), 0);
    lc_metrics_counts_t c;
    lc_metrics_read(m, &c);
    assert_true(c.users_entries == 10);
    lc_metrics_set_users_outage(m, true);   /* no effect on health */
    assert_int_equal(lc_metrics_health(m, NULL, 0), 0);
    lc_metrics_free(m);
}

/* Every writer takes NULL (the users source runs without metrics in pipe mode). */
static void test_writers_take_null(void **state)
{
    (void)state;
    uint64_t status[LC_STATUS__COUNT] = {1, 1, 1};
    lc_metrics_add_records(NULL, status, NULL);
    lc_metrics_observe_batch(NULL, 1);
    lc_metrics_count_produce_error(NULL);
    lc_metrics_count_commit(NULL, true);
    lc_metrics_count_abort(NULL);
    lc_metrics_set_consuming(NULL);
    lc_metrics_set_kafka_down(NULL, true);
    lc_metrics_set_consumer_lag(NULL, 1);
    lc_metrics_set_users(NULL, 1, 1, 1);
    lc_metrics_count_refresh_failure(NULL);
    lc_metrics_set_users_outage(NULL, true);
    assert_false(lc_metrics_consuming(NULL));
    assert_false(lc_metrics_kafka_down(NULL));
    lc_metrics_free(NULL);
}

/* Runs fn with standard error sent to a file; returns what was written. */
static char *capture_stderr(void (*fn)(lc_metrics_t *), lc_metrics_t *m)
{
    char path[] = "/tmp/lc_test_metrics_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(m);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t len = lseek(fd, 0, SEEK_END);
    char *buf = calloc(1, (size_t)len + 1);
    assert_int_equal(pread(fd, buf, (size_t)len, 0), len);
    close(fd);
    unlink(path);
    return buf;
}

static void stats_sequence(lc_metrics_t *m)
{
    lc_metrics_stats_start(m, 100000);
    lc_metrics_stats_tick(m, 100500);   /* within the interval: nothing; next check at 101.5 s */
    uint64_t status[LC_STATUS__COUNT] = {[LC_STATUS_GOOD] = 300, [LC_STATUS_BAD] = 100};
    lc_metrics_add_records(m, status, NULL);
    lc_metrics_stats_tick(m, 101000);   /* not checked: less than a second since the last */
    lc_metrics_stats_tick(m, 102000);   /* 2 s after the start: the line */
    lc_metrics_stats_tick(m, 102500);   /* not checked */
    lc_metrics_stats_tick(m, 103100);   /* checked, but 1.1 s since the line: nothing */
}

static void test_stats_line_cadence(void **state)
{
    (void)state;
    lc_log_set_level(LC_LOG_INFO);
    lc_metrics_t *m = lc_metrics_new(NULL, 2);
    char *out = capture_stderr(stats_sequence, m);
    char *first = strstr(out, " stats: 200 records/s, total=400 good=300 bad=100 suspicious=0 lag=-1 users=0 users_age=-1s");
    if (!first)
        fail_msg("no stats line: %s", out);
    assert_null(strstr(first + 1, " stats: "));   /* exactly one */
    free(out);
    lc_metrics_free(m);

    m = lc_metrics_new(NULL, 0);                   /* 0: never */
    out = capture_stderr(stats_sequence, m);
    assert_null(strstr(out, " stats: "));
    free(out);
    lc_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_counts),
        cmocka_unit_test(test_counters_and_gauges),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_writers_take_null),
        cmocka_unit_test(test_stats_line_cadence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
