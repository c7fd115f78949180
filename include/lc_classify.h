/*
 * lc_classify.h - the pure classifier: bytes in, label + reasons + output record out.
 * No I/O, no globals, no locks. One classifier per thread (it owns scratch buffers).
 */
#ifndef LC_CLASSIFY_H
#define LC_CLASSIFY_H

#include "lc_common.h"
#include "lc_schema.h"
#include "lc_users.h"

typedef enum lc_status {
    LC_STATUS_GOOD = 0,
    LC_STATUS_BAD,
    LC_STATUS_SUSPICIOUS,
    LC_STATUS__COUNT
} lc_status_t;

const char *lc_status_name(lc_status_t s);       /* "good", "bad", "suspicious" */
int lc_status_parse(const char *name, lc_status_t *out);

/* The classifier's options: every one must be given (lc_config fills them from the file and
 * its defaults, and checks the rules between them). */
typedef struct lc_classify_opts {
    const lc_schema_t *schema;       /* borrowed; outlives the classifier */
    const char *key_field;           /* users.key_field; need not be a schema field */
    const char *value_field;         /* users.value_field; need not be a schema field */
    lc_status_t unknown_account_status;  /* users.unknown_account */
    size_t max_record_bytes;         /* input.max_record_bytes; longer is too_large */
    const char *status_field;        /* output.status_field */
    const char *reasons_field;       /* output.reasons_field: differs from status_field */
} lc_classify_opts_t;

/* The member names of a refused record's payload ("raw", "raw_base64", "raw_bytes", NULL):
 * the output fields must be named otherwise (the configuration checks it). */
extern const char *const lc_classify_refused_names[];

/* At most one reason per schema field, or one document/users reason. */
typedef struct lc_verdict {
    lc_status_t status;
    size_t nreasons;
    uint32_t *reasons;     /* reason ids (lc_schema_reason_id), owned by the classifier,
                              valid until the next call */
} lc_verdict_t;

typedef struct lc_classifier lc_classifier_t;

/* A classifier for opts (copied; the schema is borrowed). The key and value fields need not
 * be schema fields: one outside the schema is read without type checks. Never NULL; free
 * with lc_classifier_free (NULL is fine). */
lc_classifier_t *lc_classifier_new(const lc_classify_opts_t *opts);
void lc_classifier_free(lc_classifier_t *c);

/*
 * Classifies one record. `data`/`len` is the message value; `present` is false for a
 * tombstone (absent value). `users` may be NULL only when the schema check alone is wanted
 * (then records that are not bad are `good`). Appends the output record's value to `out`
 * (the caller resets it) and fills `v`.
 */
void lc_classify(lc_classifier_t *c, const lc_users_t *users,
                 const char *data, size_t len, bool present,
                 lc_verdict_t *v, lc_buf_t *out);

#endif
