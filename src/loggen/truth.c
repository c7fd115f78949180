/* truth.c - loggen's oracle: reason names of the default schema and the expected counts. */
#include "loggen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *const FIELD_NAMES[NFIELDS] = {
    "event_id", "account_id", "event_type", "device", "location_country", "event_timestamp",
};
/* The same names as JSON text, ready to be a member name. */
const char *const FIELD_NAMES_JSON[NFIELDS] = {
    "\"event_id\"", "\"account_id\"", "\"event_type\"",
    "\"device\"", "\"location_country\"", "\"event_timestamp\"",
};

static const char *const CHECK_NAMES[NCHECKS] = { "missing", "null", "type", "empty" };

static const char *const DOCUMENT_REASON_NAMES[R_FIRST_FIELD] = {
    "too_large", "invalid_json", "not_object", "duplicate_key", "unknown_account",
    "device_mismatch",
};

/* The reason code exactly as the contract names it: "invalid_json", "missing:device", ... */
static void reason_name(int reason, char *out, size_t cap)
{
    if (reason < R_FIRST_FIELD) {
        snprintf(out, cap, "%s", DOCUMENT_REASON_NAMES[reason]);
        return;
    }
    int index = reason - R_FIRST_FIELD;
    snprintf(out, cap, "%s:%s", CHECK_NAMES[index % NCHECKS], FIELD_NAMES[index / NCHECKS]);
}

static const char *const LABEL_NAMES[NLABELS] = { "good", "bad", "suspicious" };

void truth_add(truth_t *t, int label, int reason)
{
    t->count++;
    t->labels[label]++;
    if (reason != R_NONE)
        t->reasons[reason]++;
}

typedef struct named_count {
    char name[48];
    uint64_t count;
} named_count_t;

static int named_count_cmp(const void *a, const void *b)
{
    return strcmp(((const named_count_t *)a)->name, ((const named_count_t *)b)->name);
}

/* The reasons that occurred, sorted by name. Returns how many. */
static size_t truth_sorted_reasons(const truth_t *t, named_count_t out[NREASONS])
{
    size_t n = 0;
    for (int r = 0; r < NREASONS; r++) {
        if (!t->reasons[r])
            continue;
        reason_name(r, out[n].name, sizeof out[n].name);
        out[n].count = t->reasons[r];
        n++;
    }
    qsort(out, n, sizeof *out, named_count_cmp);
    return n;
}

void truth_print(const truth_t *t, FILE *f)
{
    named_count_t sorted[NREASONS];
    size_t n = truth_sorted_reasons(t, sorted);
    fprintf(f, "loggen: %" PRIu64 " records: good=%" PRIu64 " bad=%" PRIu64
               " suspicious=%" PRIu64 "\n",
            t->count, t->labels[L_GOOD], t->labels[L_BAD], t->labels[L_SUSPICIOUS]);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  reason %s %" PRIu64 "\n", sorted[i].name, sorted[i].count);
}

int truth_write_json(const truth_t *t, const char *path, char *errstr, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return lc_err(errstr, errlen, "%s: %s", path, strerror(errno));
    named_count_t sorted[NREASONS];
    size_t n = truth_sorted_reasons(t, sorted);
    fprintf(f, "{\"count\":%" PRIu64 ",\"labels\":{", t->count);
    for (int l = 0; l < NLABELS; l++)
        fprintf(f, "%s\"%s\":%" PRIu64, l ? "," : "", LABEL_NAMES[l], t->labels[l]);
    fputs("},\"reasons\":{", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", sorted[i].name, sorted[i].count);
    fputs("}}\n", f);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed)
        return lc_err(errstr, errlen, "%s: write failed", path);
    return 0;
}
