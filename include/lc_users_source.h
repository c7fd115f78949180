/*
 * lc_users_source.h - the current users snapshot and its background refresh (CONTRACT §5).
 *
 * The source holds one snapshot at a time. Readers acquire a reference (one mutex-guarded
 * pointer copy per batch, never per record) and release it when done; a refresh builds a
 * whole new snapshot off to the side and swaps the pointer, so a record is never judged
 * against a half-loaded table. A failed refresh keeps the last good snapshot, is logged
 * once per outage, counted in metrics, and retried with exponential backoff.
 */
#ifndef LC_USERS_SOURCE_H
#define LC_USERS_SOURCE_H

#include <stdatomic.h>

#include "lc_metrics.h"
#include "lc_users.h"

/* Loads a whole snapshot; NULL with a one-line reason on failure. */
typedef lc_users_t *(*lc_users_loader_fn)(void *ctx, char *errstr, size_t errlen);

/* The users.* keys the source uses. */
typedef struct lc_users_source_opts {
    int refresh_interval_s;     /* users.refresh_interval_s: between successful loads */
    int startup_timeout_s;      /* users.startup_timeout_s: how long the first load retries */
    const char *snapshot_path;  /* users.snapshot_path; "" or NULL: none */
    bool case_insensitive;      /* users.case_insensitive */
    /* set by the configuration: users.key_field is an integer field of the schema (the
     * kind of keys a snapshot file must hold, CONTRACT §2.2) */
    bool int_keys;
} lc_users_source_opts_t;

typedef struct lc_users_source lc_users_source_t;

/*
 * Loads the first snapshot with `load` (load_ctx is its argument), retrying with backoff
 * for up to startup_timeout_s. When that fails and a snapshot file exists, starts from the
 * file (logging its age). Then starts the refresh thread. Returns NULL when no snapshot
 * could be had (the caller exits 3), with the reason in errstr. `metrics` (may be NULL) is
 * told of every snapshot and refresh failure; `stop_flag` (may be NULL) is checked while
 * retrying at start-up. opts is copied; load_ctx and metrics must outlive the source.
 */
lc_users_source_t *lc_users_source_start(const lc_users_source_opts_t *opts,
                                         lc_users_loader_fn load, void *load_ctx,
                                         lc_metrics_t *metrics, const atomic_int *stop_flag,
                                         char *errstr, size_t errlen);

/* A reference to the current snapshot; release with lc_users_unref. Never NULL. */
lc_users_t *lc_users_source_acquire(lc_users_source_t *s);

/* Stops the refresh thread and drops the source's reference. */
void lc_users_source_stop(lc_users_source_t *s);

#endif
