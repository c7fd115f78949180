/*
 * fuzz_env.h - the fixtures of the fuzz checks (fuzz_checks.h): configuration variants,
 * schemas, users snapshots with the plain list of rows the users oracle reads, and the
 * environment that holds them, built once per process.
 */
#ifndef FUZZ_ENV_H
#define FUZZ_ENV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_classify.h"
#include "lc_common.h"
#include "lc_config.h"
#include "lc_json.h"
#include "lc_schema.h"
#include "lc_users.h"

#include "fuzz_rules.h"

#define FZ_NVARIANTS 11
#define FZ_HEADER_MARK 0xFF
#define FZ_MAX_EXPANDED ((size_t)3 << 20)
#define FZ_SMALL_MAX_RECORD 64

#define FZ_TRY(expr)                      \
    do {                                  \
        const char *fz_why_ = (expr);     \
        if (fz_why_)                      \
            return fz_why_;               \
    } while (0)

/* ---- configuration variants ---------------------------------------------------------- */

/* One row of a users snapshot as loaded, for the users oracle. */
typedef struct fz_row {
    const char *key, *dev;
    size_t key_len, dev_len;
} fz_row_t;

#define FZ_ROW(k, d) { k, d, sizeof(k) - 1, sizeof(d) - 1 }

typedef struct fz_users {
    lc_users_t *snap;
    const fz_row_t *rows;     /* every row given to the builder (skipped ones too) */
    size_t nrows;
    bool int_keys, case_insensitive;
} fz_users_t;

typedef struct fz_variant {
    const char *name;
    lc_classify_opts_t opts;       /* max_record_bytes resolved (never 0) */
    const lc_field_def_t *defs;    /* the schema's fields, for the field oracle */
    size_t ndefs;
    lc_schema_t *own_schema;       /* NULL when the configuration's schema is used */
    const fz_users_t *users;       /* NULL: schema check only */
    lc_classifier_t *classifier;
    int *reason_kind;              /* per reason id: lc_reason_kind_t */
    int *reason_field;             /* per reason id: field index, or -1 */
    size_t nreasons;
} fz_variant_t;

typedef struct fz_env {
    lc_config_t *config;           /* lc_config_defaults(): variant 0 and pipe mode */
    fz_users_t int_users, str_users;
    fz_variant_t var[FZ_NVARIANTS];
    lc_json_scanner_t *in_scan, *out_scan;
    lc_buf_t out, expanded, expect, dec[2], pipe_out;
    char msg[2048];
} fz_env_t;

/* What one classification is checked against. */
typedef struct fz_case {
    const fz_variant_t *var;
    const char *in;
    size_t in_len;
    bool present;
    lc_verdict_t v;
    const char *out;
    size_t out_len;
    int want_doc;                  /* FZ_DOC_* or the lc_reason_kind_t of a refusal */
    json_t *in_root, *out_root;    /* jansson's parse, NULL when it refused */
    const lc_json_member_t *in_m, *out_m;
    size_t in_n, out_n;
} fz_case_t;

enum { FZ_DOC_NONE = -1, FZ_DOC_ANY = -2 };   /* spliced object; jansson cannot tell */
/* Expected field reasons besides a kind: none; none or pattern (the one rule not redone
 * here); anything after the type rule (a decimal string too long to decide cheaply). */
enum { FZ_FIELD_NONE = -1, FZ_FIELD_NONE_OR_PATTERN = -2, FZ_FIELD_AFTER_TYPE = -3 };

static const lc_field_def_t fz_default_defs[] = {
    {.name = "event_id", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "account_id", .type = LC_FT_INTEGER, .required = true, .max_length = -1},
    {.name = "event_type", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "device", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "location_country", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "event_timestamp", .type = LC_FT_TIMESTAMP, .required = true, .max_length = -1},
};

static const lc_field_def_t fz_string_key_defs[] = {
    {.name = "event_id", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "account_id", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "event_type", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "device", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "location_country", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "event_timestamp", .type = LC_FT_TIMESTAMP, .required = true, .max_length = -1},
};

/* The default schema without account_id: the key field is read without type checks. */
static const lc_field_def_t fz_untyped_key_defs[] = {
    {.name = "event_id", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "event_type", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "device", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "location_country", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "event_timestamp", .type = LC_FT_TIMESTAMP, .required = true, .max_length = -1},
};

static const char *const fz_event_types[] = {"other", "login", "purchase"};
static const char *const fz_codes[] = {"1", "-0", "007"};

/* Every constraint and type, required and optional. */
static const lc_field_def_t fz_constraint_defs[] = {
    {.name = "event_id", .type = LC_FT_STRING, .required = true, .max_length = 32,
     .pattern = "[0-9a-f]+"},
    {.name = "account_id", .type = LC_FT_INTEGER, .required = true, .max_length = -1},
    {.name = "event_type", .type = LC_FT_STRING, .required = true, .max_length = -1,
     .enum_values = fz_event_types, .n_enum = 3},
    {.name = "device", .type = LC_FT_STRING, .required = true, .max_length = 10},
    {.name = "score", .type = LC_FT_NUMBER, .required = false, .max_length = 8},
    {.name = "flag", .type = LC_FT_BOOLEAN, .required = false, .max_length = -1},
    {.name = "when", .type = LC_FT_TIMESTAMP, .required = false, .max_length = -1},
    {.name = "note", .type = LC_FT_STRING, .required = false, .max_length = 3},
    {.name = "code", .type = LC_FT_INTEGER, .required = false, .max_length = -1,
     .enum_values = fz_codes, .n_enum = 3},
    {.name = "country", .type = LC_FT_STRING, .required = false, .max_length = -1,
     .pattern = "[A-Z]{2}"},
};

/* Integer keys, case-insensitive devices: several devices per account, keys given with
 * leading zeros, at both ends of int64, a key that does not convert (skipped), devices
 * with surrounding white space, an inner NUL, or nothing but white space. */
static const fz_row_t fz_int_rows[] = {
    FZ_ROW("684", "android"), FZ_ROW("684", "web"), FZ_ROW("0684", " Tablet "),
    FZ_ROW("7", "IOS"), FZ_ROW("0", "\tWeb \r\n"), FZ_ROW("-1", "x"),
    FZ_ROW("9223372036854775807", "max"), FZ_ROW("-9223372036854775808", "min"),
    FZ_ROW("5", "a\0b"), FZ_ROW("abc", "skipped"), FZ_ROW("12", " \v "),
    FZ_ROW("1619724510", "ANDROID"),
};

/* String keys, case-sensitive devices. */
static const fz_row_t fz_str_rows[] = {
    FZ_ROW("684", "ANDROID"), FZ_ROW("684", "web"), FZ_ROW("0684", "web"),
    FZ_ROW("abc", "IOS"), FZ_ROW(" k ", "x"), FZ_ROW("a\0b", "nul"),
    FZ_ROW("\xc3\xa9", "\xc3\x9cn\xc3\xaf"),
};


/* ---- failure messages ---------------------------------------------------------------- */

/* Appends a printable excerpt of data (C escapes, cut after `max` bytes). */
static inline void fz_excerpt(char *dst, size_t cap, const char *data, size_t len, size_t max)
{
    size_t n = strlen(dst);
    for (size_t i = 0; i < len && i < max && n + 8 < cap; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            dst[n++] = (char)c;
        else
            n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", c);
    }
    dst[n] = '\0';
    snprintf(dst + n, cap - n, "%s (%zu bytes)", len > max ? "..." : "", len);
}

static inline const char *fz_fail(fz_env_t *e, const fz_case_t *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline const char *fz_fail(fz_env_t *e, const fz_case_t *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(e->msg, sizeof(e->msg), "[%s] ", k ? k->var->name : "env");
    vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
    va_end(ap);
    if (k) {
        strncat(e->msg, "\n  input:  ", sizeof(e->msg) - strlen(e->msg) - 1);
        fz_excerpt(e->msg, sizeof(e->msg), k->in, k->in_len, 300);
        if (k->out) {
            strncat(e->msg, "\n  output: ", sizeof(e->msg) - strlen(e->msg) - 1);
            fz_excerpt(e->msg, sizeof(e->msg), k->out, k->out_len, 400);
        }
    }
    return e->msg;
}


/* ---- environment --------------------------------------------------------------------- */

static inline bool fz_plain_name(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return false;
    return true;
}

static inline lc_users_t *fz_build_users(const fz_users_t *u, char *err, size_t errlen)
{
    lc_users_builder_t *b = lc_users_builder_new(u->int_keys, u->case_insensitive, 0);
    if (!b)
        return NULL;
    for (size_t i = 0; i < u->nrows; i++) {
        const fz_row_t *r = &u->rows[i];
        int64_t k;
        int want = (u->int_keys && !fz_parse_int(r->key, r->key_len, &k)) ? 1 : 0;
        int rc = lc_users_builder_add(b, r->key, r->key_len, r->dev, r->dev_len);
        if (rc != want) {
            snprintf(err, errlen, "users row %zu: builder says %d, expected %d", i, rc, want);
            lc_users_builder_free(b);
            return NULL;
        }
    }
    return lc_users_builder_finish(b, 0);
}

/* Maps every reason id to its kind and field, and checks the names the schema gives them. */
static inline const char *fz_map_reasons(fz_env_t *e, fz_variant_t *v)
{
    static const char *const field_prefix[] = {"missing", "null", "type", "empty",
                                               "length", "enum", "pattern"};
    static const char *const fixed_names[LC_R__COUNT] = {
        [LC_R_TOO_LARGE] = "too_large", [LC_R_INVALID_JSON] = "invalid_json",
        [LC_R_NOT_OBJECT] = "not_object", [LC_R_DUPLICATE_KEY] = "duplicate_key",
        [LC_R_UNKNOWN_ACCOUNT] = "unknown_account",
        [LC_R_DEVICE_MISMATCH] = "device_mismatch"};
    const lc_schema_t *s = v->opts.schema;
    v->nreasons = lc_schema_nreasons(s);
    v->reason_kind = calloc(v->nreasons, sizeof(int));
    v->reason_field = calloc(v->nreasons, sizeof(int));
    if (!v->reason_kind || !v->reason_field)
        abort();
    for (size_t id = 0; id < v->nreasons; id++)
        v->reason_kind[id] = -1;
    for (int kind = 0; kind < LC_R__COUNT; kind++) {
        bool per_field = kind >= LC_R_MISSING && kind <= LC_R_PATTERN;
        for (size_t f = 0; f < (per_field ? v->ndefs : 1); f++) {
            size_t id = lc_schema_reason_id(s, (lc_reason_kind_t)kind, f);
            if (id >= v->nreasons || v->reason_kind[id] != -1)
                return fz_fail(e, NULL, "%s: reason id %zu out of range or reused", v->name, id);
            v->reason_kind[id] = kind;
            v->reason_field[id] = per_field ? (int)f : -1;
            char want[128];
            if (per_field)
                snprintf(want, sizeof(want), "%s:%s", field_prefix[kind - LC_R_MISSING],
                         v->defs[f].name);
            else
                snprintf(want, sizeof(want), "%s", fixed_names[kind]);
            const char *got = lc_schema_reason_name(s, id);
            if (!got || strcmp(got, want) != 0)
                return fz_fail(e, NULL, "%s: reason %zu is named %s, not %s", v->name, id,
                               got ? got : "(null)", want);
        }
    }
    for (size_t id = 0; id < v->nreasons; id++)
        if (v->reason_kind[id] == -1 || !fz_plain_name(lc_schema_reason_name(s, id)))
            return fz_fail(e, NULL, "%s: reason id %zu unmapped or needs escaping", v->name, id);
    return NULL;
}

/* The configuration's default schema must be the CONTRACT §3 one the oracles assume. */
static inline const char *fz_check_default_schema(fz_env_t *e, const lc_schema_t *s)
{
    if (lc_schema_nfields(s) != LC_ARRAY_SIZE(fz_default_defs))
        return fz_fail(e, NULL, "default schema has %zu fields", lc_schema_nfields(s));
    for (size_t f = 0; f < LC_ARRAY_SIZE(fz_default_defs); f++)
        if (strcmp(lc_schema_field_name(s, f), fz_default_defs[f].name) != 0 ||
            lc_schema_field_type(s, f) != fz_default_defs[f].type ||
            !lc_schema_field_required(s, f))
            return fz_fail(e, NULL, "default schema field %zu differs from CONTRACT §3", f);
    return NULL;
}

/* Fills variant `i` (see the table in fz_init_variants). */
static inline const char *fz_init_variant(fz_env_t *e, fz_variant_t *v)
{
    char err[512] = "";
    if (!v->opts.schema) {
        v->own_schema = lc_schema_new(v->defs, v->ndefs, NULL, err, sizeof(err));
        if (!v->own_schema)
            return fz_fail(e, NULL, "%s: lc_schema_new: %s", v->name, err);
        v->opts.schema = v->own_schema;
    }
    if (!v->opts.max_record_bytes)
        v->opts.max_record_bytes = (size_t)1 << 20;
    if (!fz_plain_name(v->opts.status_field) || !fz_plain_name(v->opts.reasons_field))
        return fz_fail(e, NULL, "%s: output names must need no escaping", v->name);
    v->classifier = lc_classifier_new(&v->opts);
    return fz_map_reasons(e, v);
}

/*
 *   0 default      lc_config_defaults() as is, integer-key users
 *   1 small        max_record_bytes 64: too_large is cheap to reach
 *   2 unknown-good users.unknown_account: good
 *   3 unknown-bad  users.unknown_account: bad
 *   4 constraints  enum, pattern, max_length, number, boolean, timestamp, optional fields
 *   5 renamed      status_field "st", reasons_field "original_st" (renames chain)
 *   6 string-keys  account_id a string field, string-key users, case-sensitive devices
 *   7 no-users     users NULL: the schema alone
 *   8 untyped-key  account_id outside the schema (read without type checks)
 *   9 no-fields    an empty schema: key and device both outside it
 *  10 string-users integer account_id, string-key users: the key's text is looked up
 */
static inline void fz_init_variants(fz_env_t *e)
{
    lc_classify_opts_t base = e->config->classify;
    static const char *const names[FZ_NVARIANTS] = {
        "default", "small", "unknown-good", "unknown-bad", "constraints", "renamed",
        "string-keys", "no-users", "untyped-key", "no-fields", "string-users"};
    for (size_t i = 0; i < FZ_NVARIANTS; i++) {
        fz_variant_t *v = &e->var[i];
        v->name = names[i];
        v->opts = base;
        v->defs = fz_default_defs;
        v->ndefs = LC_ARRAY_SIZE(fz_default_defs);
        v->users = &e->int_users;
    }
    e->var[1].opts.max_record_bytes = FZ_SMALL_MAX_RECORD;
    e->var[2].opts.unknown_account_status = LC_STATUS_GOOD;
    e->var[3].opts.unknown_account_status = LC_STATUS_BAD;
    e->var[5].opts.status_field = "st";
    e->var[5].opts.reasons_field = "original_st";
    e->var[7].users = NULL;
    e->var[6].users = &e->str_users;
    e->var[10].users = &e->str_users;
#define FZ_OWN_DEFS(i, d) (e->var[i].opts.schema = NULL, e->var[i].defs = d, \
                           e->var[i].ndefs = LC_ARRAY_SIZE(d))
    FZ_OWN_DEFS(4, fz_constraint_defs);
    FZ_OWN_DEFS(6, fz_string_key_defs);
    FZ_OWN_DEFS(8, fz_untyped_key_defs);
#undef FZ_OWN_DEFS
    e->var[9].opts.schema = NULL;
    e->var[9].defs = fz_default_defs;     /* any non-NULL pointer: no field is read */
    e->var[9].ndefs = 0;
}

static inline void fz_env_free(fz_env_t *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < FZ_NVARIANTS; i++) {
        lc_classifier_free(e->var[i].classifier);
        lc_schema_free(e->var[i].own_schema);
        free(e->var[i].reason_kind);
        free(e->var[i].reason_field);
    }
    lc_users_unref(e->int_users.snap);
    lc_users_unref(e->str_users.snap);
    if (e->in_scan)
        lc_json_scanner_free(e->in_scan);
    if (e->out_scan)
        lc_json_scanner_free(e->out_scan);
    lc_config_free(e->config);
    lc_buf_free(&e->out);
    lc_buf_free(&e->expanded);
    lc_buf_free(&e->expect);
    lc_buf_free(&e->dec[0]);
    lc_buf_free(&e->dec[1]);
    lc_buf_free(&e->pipe_out);
    free(e);
}

/* Builds everything once. On failure returns NULL and writes the reason into err. */
static inline fz_env_t *fz_env_new(char *err, size_t errlen)
{
    fz_env_t *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->config = lc_config_defaults(err, errlen);
    e->int_users = (fz_users_t){NULL, fz_int_rows, LC_ARRAY_SIZE(fz_int_rows), true, true};
    e->str_users = (fz_users_t){NULL, fz_str_rows, LC_ARRAY_SIZE(fz_str_rows), false, false};
    e->in_scan = lc_json_scanner_new();
    e->out_scan = lc_json_scanner_new();
    if (!e->config || !e->in_scan || !e->out_scan)
        goto fail;
    e->int_users.snap = fz_build_users(&e->int_users, err, errlen);
    e->str_users.snap = fz_build_users(&e->str_users, err, errlen);
    if (!e->int_users.snap || !e->str_users.snap)
        goto fail;
    const char *why = fz_check_default_schema(e, e->config->schema);
    fz_init_variants(e);
    for (size_t i = 0; !why && i < FZ_NVARIANTS; i++)
        why = fz_init_variant(e, &e->var[i]);
    if (why) {
        snprintf(err, errlen, "%s", why);
        goto fail;
    }
    return e;

fail:
    fz_env_free(e);
    return NULL;
}


#endif
