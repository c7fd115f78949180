/*
 * lc_transform.h - the pipeline's per-record work, given to it as a parameter: the service
 * classifies each record against the current users snapshot (lc_transform_classify_new);
 * bench/passthrough forwards each record unchanged, to measure the pipeline's ceiling with
 * the pipeline's own loop.
 */
#ifndef LC_TRANSFORM_H
#define LC_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "lc_classify.h"
#include "lc_common.h"
#include "lc_users_source.h"

typedef struct lc_transform {
    /* Before a batch's first record, and after its last (may be NULL). */
    void (*begin_batch)(void *ctx);
    void (*end_batch)(void *ctx);
    /* One record: `data`/`len` is the message value, `present` false for a tombstone. Fills
     * *v and returns the output value (*out_len bytes), which may be written into `scratch`
     * (the pipeline's buffer, reused for every record) or point into the input; it stays
     * valid until the next call. The hot path. */
    const char *(*apply)(void *ctx, const char *data, size_t len, bool present,
                         lc_verdict_t *v, lc_buf_t *scratch, size_t *out_len);
    void *ctx;
} lc_transform_t;

/* The service's transform: a classifier for opts (copied; the schema is borrowed) against
 * the snapshot of `users` taken at each batch's start. Never NULL; the caller owns it and
 * frees it with lc_transform_classify_free (NULL is fine); `users` must outlive it. */
lc_transform_t *lc_transform_classify_new(const lc_classify_opts_t *opts,
                                          lc_users_source_t *users);
void lc_transform_classify_free(lc_transform_t *t);

#endif
