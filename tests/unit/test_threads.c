/*
 * test_threads.c - the state that several threads share, exercised from several threads at
 * once, so that ThreadSanitizer (`make tsan`) has something to watch as well as the plain and
 * ASan builds:
 *
 *  - a users snapshot referenced and released from many threads; the last release, on any
 *    thread, frees it (CONTRACT §5);
 *  - the users source swapping snapshots every millisecond (some loads failing) while reader
 *    threads acquire, look up and release, and another thread renders the metrics: every
 *    reader sees whole snapshots only, never an older one after a newer one (CONTRACT §5);
 *  - metrics counted by several threads while another renders /metrics and /healthz: the
 *    rendered counters never go down, and the final totals are exact (CONTRACT §8).
 *
 * cmocka's assertions may only run on the main thread, so worker threads note the first
 * problem they see and the main thread asserts after joining them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lc_log.h"
#include "lc_metrics.h"
#include "lc_schema.h"
#include "lc_users.h"
#include "lc_users_source.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* The first problem a worker thread saw ("" when none). */
typedef struct problem {
    pthread_mutex_t lock;
    char text[256];
} problem_t;

static problem_t problem = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void note_problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note_problem(const char *fmt, ...)
{
    pthread_mutex_lock(&problem.lock);
    if (!problem.text[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(problem.text, sizeof(problem.text), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&problem.lock);
}

static void assert_no_problem(void)
{
    pthread_mutex_lock(&problem.lock);
    char text[sizeof(problem.text)];
    memcpy(text, problem.text, sizeof(text));
    problem.text[0] = 0;
    pthread_mutex_unlock(&problem.lock);
    if (text[0])
        fail_msg("%s", text);
}

static void start_threads(pthread_t *t, int n, void *(*fn)(void *), void *arg)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fn, arg), 0);
}

static void join_threads(pthread_t *t, int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
}

/* "good" -> value of logclassify_records_total{status="good"} in a rendered text; -1 if absent. */
static long long rendered_records(const char *text, const char *status)
{
    char needle[96];
    snprintf(needle, sizeof(needle), "logclassify_records_total{status=\"%s\"} ", status);
    const char *p = strstr(text, needle);
    return p ? strtoll(p + strlen(needle), NULL, 10) : -1;
}

static long long rendered_value(const char *text, const char *name)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "\n%s ", name);
    const char *p = strstr(text, needle);
    return p ? strtoll(p + strlen(needle), NULL, 10) : -1;
}

/* A batch's counts, added the way the pipeline adds them (the whole batch's counts per
 * status and per reason at once, then the batch duration). */
static void count_batch(lc_metrics_t *m, const uint64_t status[LC_STATUS__COUNT],
                        size_t reason, uint64_t reason_count, uint64_t duration_us)
{
    uint64_t *reasons = calloc(lc_metrics_nreasons(m), sizeof(*reasons));
    if (!reasons || reason >= lc_metrics_nreasons(m)) {
        note_problem("reason id %zu of %zu", reason, lc_metrics_nreasons(m));
        free(reasons);
        return;
    }
    reasons[reason] = reason_count;
    lc_metrics_add_records(m, status, reasons);
    free(reasons);
    lc_metrics_observe_batch(m, duration_us);
}

/* ---- one snapshot, many references ---------------------------------------------------- */

#define REF_THREADS 4
#define REF_ROUNDS 20000

static lc_users_t *small_snapshot(int64_t loaded_at_ms, const char *device, int accounts)
{
    lc_users_builder_t *b = lc_users_builder_new(true, true, (size_t)accounts);
    if (!b)
        return NULL;
    for (int k = 1; k <= accounts; k++)
        if (lc_users_builder_add_int(b, k, device, strlen(device)) != 0) {
            lc_users_builder_free(b);
            return NULL;
        }
    return lc_users_builder_finish(b, loaded_at_ms);
}

/* Each worker owns one reference on entry (taken by the main thread) and drops it on exit. */
static void *ref_worker(void *arg)
{
    lc_users_t *u = arg;
    for (int i = 0; i < REF_ROUNDS; i++) {
        lc_users_ref(u);
        if (lc_users_check_int(u, 1 + i % 50, "ios", 3) != LC_USERS_MATCH) {
            note_problem("lookup of account %d failed while referenced", 1 + i % 50);
            break;
        }
        lc_users_unref(u);
    }
    lc_users_unref(u);   /* the last one out frees the snapshot */
    return NULL;
}

static void refcount_from_many_threads(void **state)
{
    (void)state;
    lc_users_t *u = small_snapshot(1, "IOS", 50);
    assert_non_null(u);
    for (int i = 0; i < REF_THREADS; i++)
        lc_users_ref(u);
    pthread_t t[REF_THREADS];
    start_threads(t, REF_THREADS, ref_worker, u);
    lc_users_unref(u);   /* the main thread lets go while the workers still hold it */
    join_threads(t, REF_THREADS);
    assert_no_problem();
}

/* ---- snapshots swapped under readers --------------------------------------------------- */

#define ACCOUNTS 64
#define READERS 3
/* The refresh interval is a whole second (users.refresh_interval_s), so this takes about
 * five seconds; what TSan needs is readers holding snapshots while one is swapped out, not
 * many swaps. Four snapshots seen means generation 4 was refused on the way (see below). */
#define MIN_SWAPS_SEEN 4

typedef struct swap_ctx {
    int generation;                /* loader only: the refresh thread after start-up */
    lc_users_source_t *source;
    lc_metrics_t *metrics;
    _Atomic int stop;
    _Atomic int readers_done;
} swap_ctx_t;

/* Generation g: accounts 1..ACCOUNTS, all with device "gen<g>", loaded_at_ms = g. Every
 * fourth attempt fails, so the failure path (keep the old snapshot, count, back off) runs
 * too. */
static lc_users_t *generation_loader(void *arg, char *errstr, size_t errlen)
{
    swap_ctx_t *c = arg;
    int g = ++c->generation;
    if (g % 4 == 0) {
        snprintf(errstr, errlen, "generation %d refused on purpose", g);
        return NULL;
    }
    char device[32];
    snprintf(device, sizeof(device), "gen%d", g);
    lc_users_t *u = small_snapshot(g, device, ACCOUNTS);
    if (!u)
        snprintf(errstr, errlen, "out of memory");
    return u;
}

static void *swap_reader(void *arg)
{
    swap_ctx_t *c = arg;
    int64_t last = 0;
    int seen = 0;
    while (!atomic_load(&c->stop)) {
        lc_users_t *u = lc_users_source_acquire(c->source);
        int64_t g = lc_users_loaded_at_ms(u);
        char device[32];
        int n = snprintf(device, sizeof(device), "GEN%" PRId64, g);   /* case-insensitive */
        if (g < last)
            note_problem("reader saw generation %" PRId64 " after %" PRId64, g, last);
        if (lc_users_accounts(u) != ACCOUNTS)
            note_problem("generation %" PRId64 " has %zu accounts", g, lc_users_accounts(u));
        for (int k = 1; k <= ACCOUNTS; k += 7)
            if (lc_users_check_int(u, k, device, (size_t)n) != LC_USERS_MATCH)
                note_problem("generation %" PRId64 ": account %d does not have its device", g, k);
        if (g != last && ++seen == MIN_SWAPS_SEEN)
            atomic_fetch_add(&c->readers_done, 1);
        last = g;
        lc_users_unref(u);
    }
    if (seen < MIN_SWAPS_SEEN)
        note_problem("a reader saw only %d snapshots", seen);
    return NULL;
}

static void *metrics_reader(void *arg)
{
    swap_ctx_t *c = arg;
    lc_buf_t text = {0};
    char reason[160];
    while (!atomic_load(&c->stop)) {
        lc_buf_reset(&text);
        lc_metrics_render(c->metrics, &text);
        lc_buf_putc(&text, 0);
        if (rendered_value(text.data, "logclassify_users_cache_entries") != ACCOUNTS)
            note_problem("users_cache_entries is not %d while snapshots swap", ACCOUNTS);
        if (lc_metrics_health(c->metrics, reason, sizeof(reason)) == 0)
            note_problem("healthy without consuming");
    }
    lc_buf_free(&text);
    return NULL;
}

static void snapshot_swaps_under_readers(void **state)
{
    (void)state;
    lc_metrics_t *m = lc_metrics_new(NULL, 0);
    swap_ctx_t c = {.metrics = m};
    lc_users_source_opts_t so = {.refresh_interval_s = 1, .startup_timeout_s = 1,
                                 .int_keys = true, .case_insensitive = true};
    char err[256];
    c.source = lc_users_source_start(&so, generation_loader, &c, m, NULL, err, sizeof(err));
    assert_non_null(c.source);

    pthread_t readers[READERS], render;
    start_threads(readers, READERS, swap_reader, &c);
    start_threads(&render, 1, metrics_reader, &c);
    /* Until every reader has seen MIN_SWAPS_SEEN snapshots (a few hundred ms under TSan),
     * at most 20 s. */
    for (int i = 0; i < 2000 && atomic_load(&c.readers_done) < READERS; i++)
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    atomic_store(&c.stop, 1);
    join_threads(readers, READERS);
    join_threads(&render, 1);
    lc_users_source_stop(c.source);   /* joins the refresh thread */

    assert_no_problem();
    assert_true(c.generation > MIN_SWAPS_SEEN);   /* one generation was refused */
    lc_metrics_counts_t counts;
    lc_metrics_read(m, &counts);
    assert_true(counts.users_refresh_failures >= 1);
    assert_int_equal(counts.users_entries, ACCOUNTS);
    lc_metrics_free(m);
}

/* ---- metrics counted while rendered ---------------------------------------------------- */

#define WRITERS 3
#define BATCHES 3000

typedef struct count_ctx {
    lc_metrics_t *metrics;
    size_t reason;
    _Atomic int writers_left;
} count_ctx_t;

static void *count_writer(void *arg)
{
    count_ctx_t *c = arg;
    const uint64_t status[LC_STATUS__COUNT] = {[LC_STATUS_GOOD] = 8, [LC_STATUS_BAD] = 1,
                                               [LC_STATUS_SUSPICIOUS] = 1};
    for (int i = 0; i < BATCHES; i++)
        count_batch(c->metrics, status, c->reason, 2, (uint64_t)(i % 7) * 1000);
    atomic_fetch_sub(&c->writers_left, 1);
    return NULL;
}

static void *count_renderer(void *arg)
{
    count_ctx_t *c = arg;
    lc_buf_t text = {0};
    long long last_good = 0, last_batches = 0;
    for (;;) {
        bool last_round = atomic_load(&c->writers_left) == 0;
        lc_buf_reset(&text);
        lc_metrics_render(c->metrics, &text);
        lc_buf_putc(&text, 0);
        long long good = rendered_records(text.data, "good");
        long long batches = rendered_value(text.data, "logclassify_batch_duration_seconds_count");
        if (good < last_good || batches < last_batches)
            note_problem("a counter went down: good %lld -> %lld, batches %lld -> %lld",
                         last_good, good, last_batches, batches);
        last_good = good;
        last_batches = batches;
        if (last_round)
            break;
    }
    if (last_good != 8LL * WRITERS * BATCHES || last_batches != (long long)WRITERS * BATCHES)
        note_problem("after the writers: good %lld, batches %lld", last_good, last_batches);
    lc_buf_free(&text);
    return NULL;
}

static void metrics_counted_while_rendered(void **state)
{
    (void)state;
    lc_field_def_t def = {.name = "device", .type = LC_FT_STRING, .required = true,
                          .max_length = -1};
    char err[256];
    lc_schema_t *schema = lc_schema_new(&def, 1, NULL, err, sizeof(err));
    assert_non_null(schema);
    lc_metrics_t *m = lc_metrics_new(schema, 0);
    count_ctx_t c = {.metrics = m, .reason = lc_schema_reason_id(schema, LC_R_MISSING, 0),
                     .writers_left = WRITERS};

    pthread_t writers[WRITERS], render;
    start_threads(&render, 1, count_renderer, &c);
    start_threads(writers, WRITERS, count_writer, &c);
    join_threads(writers, WRITERS);
    join_threads(&render, 1);
    assert_no_problem();

    lc_metrics_counts_t counts;
    lc_metrics_read(m, &counts);
    assert_int_equal(counts.records[LC_STATUS_GOOD], 8ULL * WRITERS * BATCHES);
    assert_int_equal(counts.records[LC_STATUS_BAD], 1ULL * WRITERS * BATCHES);
    assert_int_equal(lc_metrics_reason(m, c.reason), 2ULL * WRITERS * BATCHES);
    lc_buf_t text = {0};
    lc_metrics_render(m, &text);
    lc_buf_putc(&text, 0);
    char line[128];
    snprintf(line, sizeof(line), "logclassify_batch_duration_seconds_bucket{le=\"+Inf\"} %d\n",
             WRITERS * BATCHES);
    assert_non_null(strstr(text.data, line));
    snprintf(line, sizeof(line), "logclassify_reasons_total{reason=\"missing:device\"} %d\n",
             2 * WRITERS * BATCHES);
    assert_non_null(strstr(text.data, line));
    lc_buf_free(&text);
    lc_metrics_free(m);
    lc_schema_free(schema);
}

int main(void)
{
    lc_log_set_level(LC_LOG_ERROR);   /* the refused generations would warn on every swap */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refcount_from_many_threads),
        cmocka_unit_test(snapshot_swaps_under_readers),
        cmocka_unit_test(metrics_counted_while_rendered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
