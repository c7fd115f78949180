/* users_source.c - the current users snapshot, its start-up load and background refresh. */
#include "lc_users_source.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lc_log.h"

#define BACKOFF_MIN_MS 1000       /* first retry delay after a failure (then doubles) */

struct lc_users_source {
    lc_users_loader_fn load;
    void *load_ctx;
    lc_metrics_t *metrics;        /* may be NULL */
    int refresh_interval_ms;
    int startup_timeout_ms;
    bool int_keys;                /* for reading the snapshot file */
    bool case_insensitive;
    char *snapshot_path;          /* owned copy; NULL: none */
    pthread_mutex_t lock;         /* guards current and stopping */
    pthread_cond_t wake;
    lc_users_t *current;
    bool stopping;
    bool from_file;               /* current came from the snapshot file, not MySQL */
    pthread_t thread;
    bool thread_started;
};

/* Replaces the current snapshot; the old one lives on while batches still hold it. */
static void swap_snapshot(lc_users_source_t *s, lc_users_t *fresh, bool from_file)
{
    pthread_mutex_lock(&s->lock);
    lc_users_t *old = s->current;
    s->current = fresh;
    s->from_file = from_file;
    pthread_mutex_unlock(&s->lock);
    lc_users_unref(old);
    lc_metrics_set_users(s->metrics, lc_users_accounts(fresh), lc_users_loaded_at_ms(fresh),
                         lc_users_skipped(fresh));
}

static void save_snapshot_file(lc_users_source_t *s, const lc_users_t *u)
{
    if (!s->snapshot_path)
        return;
    char err[256];
    if (lc_users_save(u, s->snapshot_path, err, sizeof(err)) != 0)
        LC_WARN("users", "could not write snapshot file: %s", err);
}

/* Sleeps up to ms, waking early when the source stops. Returns true when stopping. */
static bool wait_or_stop(lc_users_source_t *s, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        if (pthread_cond_timedwait(&s->wake, &s->lock, &until) == ETIMEDOUT)
            break;
    }
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return stopping;
}

static int next_backoff(int current, int cap)
{
    int next = current * 2;
    return next > cap ? cap : next;
}

/* The refresh loop: one load per interval; on failure keep the old snapshot, say so once
 * per outage, and retry with exponential backoff (capped at the refresh interval). */
static void *refresh_main(void *arg)
{
    lc_users_source_t *s = arg;
    int interval = s->refresh_interval_ms;
    int backoff = BACKOFF_MIN_MS;
    int failures = 0;
    /* Started from the file: get back to MySQL soon rather than after a full interval. */
    int delay = s->from_file ? backoff : interval;
    while (!wait_or_stop(s, delay)) {
        char err[512];
        int64_t t0 = lc_now_ms();
        lc_users_t *fresh = s->load(s->load_ctx, err, sizeof(err));
        if (fresh) {
            if (failures)
                LC_INFO("users", "refresh recovered after %d failed attempt(s)", failures);
            LC_INFO("users", "refreshed: %zu accounts, %zu rows, %zu skipped, in %lld ms",
                    lc_users_accounts(fresh), lc_users_rows(fresh), lc_users_skipped(fresh),
                    (long long)(lc_now_ms() - t0));
            save_snapshot_file(s, fresh);
            swap_snapshot(s, fresh, false);
            lc_metrics_set_users_outage(s->metrics, false);
            failures = 0;
            backoff = BACKOFF_MIN_MS;
            delay = interval;
            continue;
        }
        lc_metrics_count_refresh_failure(s->metrics);
        if (failures++ == 0) {
            lc_users_t *cur = lc_users_source_acquire(s);
            LC_WARN("users", "refresh failed: %s; keeping the snapshot loaded %lld s ago; retrying with backoff",
                    err, (long long)((lc_wall_ms() - lc_users_loaded_at_ms(cur)) / 1000));
            lc_users_unref(cur);
            lc_metrics_set_users_outage(s->metrics, true);
        } else {
            LC_DEBUG("users", "refresh attempt %d failed: %s", failures, err);
        }
        delay = backoff;
        backoff = next_backoff(backoff, interval);
    }
    return NULL;
}

/* First load: retry MySQL until the start-up timeout; fall back to the snapshot file. */
static lc_users_t *load_at_start(lc_users_source_t *s, const atomic_int *stop_flag, bool *from_file,
                                 char *errstr, size_t errlen)
{
    int64_t deadline = lc_now_ms() + s->startup_timeout_ms;
    int backoff = BACKOFF_MIN_MS;
    bool have_file = s->snapshot_path && access(s->snapshot_path, R_OK) == 0;
    char err[512] = "";
    for (int attempt = 1;; attempt++) {
        lc_users_t *u = s->load(s->load_ctx, err, sizeof(err));
        if (u) {
            *from_file = false;
            return u;
        }
        LC_WARN("users", "initial load attempt %d failed: %s", attempt, err);
        /* With a snapshot file there is no point making the service wait: start from the
         * file now and let the refresh thread reach MySQL again with backoff. */
        if (have_file)
            break;
        int64_t left = deadline - lc_now_ms();
        if (left <= 0 || (stop_flag && atomic_load_explicit(stop_flag, memory_order_relaxed)))
            break;
        struct timespec ts = {.tv_sec = (backoff < left ? backoff : left) / 1000,
                              .tv_nsec = ((backoff < left ? backoff : left) % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff = next_backoff(backoff, 5000);
    }
    if (!have_file) {
        lc_err(errstr, errlen, "users table unreachable after %d s: %s",
               s->startup_timeout_ms / 1000, err);
        return NULL;
    }
    char ferr[512];
    lc_users_t *u = lc_users_load_file(s->snapshot_path, s->int_keys,
                                       s->case_insensitive, ferr, sizeof(ferr));
    if (!u) {
        lc_err(errstr, errlen, "users table unreachable (%s) and snapshot file unusable: %s", err, ferr);
        return NULL;
    }
    LC_WARN("users", "MySQL unreachable (%s): starting from snapshot file %s, %zu accounts, loaded %lld s ago",
            err, s->snapshot_path, lc_users_accounts(u),
            (long long)((lc_wall_ms() - lc_users_loaded_at_ms(u)) / 1000));
    *from_file = true;
    return u;
}

lc_users_source_t *lc_users_source_start(const lc_users_source_opts_t *opts,
                                         lc_users_loader_fn load, void *load_ctx,
                                         lc_metrics_t *metrics, const atomic_int *stop_flag,
                                         char *errstr, size_t errlen)
{
    lc_users_source_t *s = lc_xcalloc(1, sizeof(*s));
    s->load = load;
    s->load_ctx = load_ctx;
    s->metrics = metrics;
    s->refresh_interval_ms = opts->refresh_interval_s * 1000;
    s->startup_timeout_ms = opts->startup_timeout_s * 1000;
    s->int_keys = opts->int_keys;
    s->case_insensitive = opts->case_insensitive;
    if (opts->snapshot_path && *opts->snapshot_path)
        s->snapshot_path = lc_xstrdup(opts->snapshot_path);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);

    bool from_file = false;
    int64_t t0 = lc_now_ms();
    lc_users_t *u = load_at_start(s, stop_flag, &from_file, errstr, errlen);
    if (!u) {
        lc_users_source_stop(s);
        return NULL;
    }
    if (!from_file) {
        LC_INFO("users", "loaded: %zu accounts, %zu rows, %zu skipped, in %lld ms",
                lc_users_accounts(u), lc_users_rows(u), lc_users_skipped(u),
                (long long)(lc_now_ms() - t0));
        save_snapshot_file(s, u);
    }
    swap_snapshot(s, u, from_file);
    if (pthread_create(&s->thread, NULL, refresh_main, s) != 0) {
        lc_err(errstr, errlen, "cannot start the users refresh thread");
        lc_users_source_stop(s);
        return NULL;
    }
    s->thread_started = true;
    return s;
}

lc_users_t *lc_users_source_acquire(lc_users_source_t *s)
{
    pthread_mutex_lock(&s->lock);
    lc_users_t *u = s->current;
    lc_users_ref(u);
    pthread_mutex_unlock(&s->lock);
    return u;
}

void lc_users_source_stop(lc_users_source_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    lc_users_unref(s->current);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s->snapshot_path);
    free(s);
}
