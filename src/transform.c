/* transform.c - the service's per-record work: classify against the users snapshot. */
#include "lc_transform.h"

#include <stdlib.h>

typedef struct classify_transform {
    lc_transform_t base;            /* first: the transform handed out */
    lc_classifier_t *classifier;
    lc_users_source_t *users;
    lc_users_t *snapshot;           /* the batch in hand's reference */
} classify_transform_t;

/* One reference (a mutex-guarded pointer copy) per batch, never per record. */
static void classify_begin_batch(void *ctx)
{
    classify_transform_t *t = ctx;
    t->snapshot = lc_users_source_acquire(t->users);
}

static void classify_end_batch(void *ctx)
{
    classify_transform_t *t = ctx;
    lc_users_unref(t->snapshot);
    t->snapshot = NULL;
}

static const char *classify_apply(void *ctx, const char *data, size_t len, bool present,
                                  lc_verdict_t *v, lc_buf_t *scratch, size_t *out_len)
{
    classify_transform_t *t = ctx;
    lc_buf_reset(scratch);
    lc_classify(t->classifier, t->snapshot, data, len, present, v, scratch);
    *out_len = scratch->len;
    return scratch->data;
}

lc_transform_t *lc_transform_classify_new(const lc_classify_opts_t *opts,
                                          lc_users_source_t *users)
{
    classify_transform_t *t = lc_xcalloc(1, sizeof(*t));
    t->classifier = lc_classifier_new(opts);
    t->users = users;
    t->base = (lc_transform_t){.begin_batch = classify_begin_batch,
                               .end_batch = classify_end_batch,
                               .apply = classify_apply,
                               .ctx = t};
    return &t->base;
}

void lc_transform_classify_free(lc_transform_t *base)
{
    if (!base)
        return;
    classify_transform_t *t = base->ctx;
    lc_users_unref(t->snapshot);
    lc_classifier_free(t->classifier);
    free(t);
}
