/*
 * fuzz_checks.h - what every classified record must satisfy (SPEC §2-§4, §7), shared by the
 * libFuzzer harnesses (tests/fuzz/fuzz_classify.c, fuzz_pipe.c) and the replay test
 * (tests/unit/test_fuzz_regressions.c), so the logic exists once.
 *
 * Everything is static inline: each includer gets its own copy and unused functions cost
 * nothing. A check returns NULL when it holds, else a message (in the environment's buffer,
 * valid until the next failing check); the harnesses abort() on it, the test fails with it.
 *
 * Input format (fz_run_input). An input whose first byte is 0xFF and that has at least two
 * bytes carries a header; any other input is the record itself, classified under variant 0.
 *
 *     0xFF FLAGS [POS1 POS2 SLICE] PAYLOAD
 *     FLAGS  bits 0-3  configuration variant (modulo FZ_NVARIANTS, see fz_env_new)
 *            bit  4    expand: the three bytes in brackets follow
 *     POS1/POS2        where slice 1 and slice 2 start in the payload (modulo its length)
 *     SLICE  bits 0-2  slice length - 1;  bit 3: mirror (also repeat slice 2)
 *            bits 4-7  target length, an index into fz_expand_target()
 * Expanding repeats slice 1 (and, mirrored, slice 2 the same number of times) in place
 * until the record reaches the target length, then pads it with trailing spaces to exactly
 * that length: e.g. "[" and "]" of "[]" give deep nesting, one byte of a string value gives a
 * huge string, and the targets max_record_bytes - 1, max and max + 1 hit the too_large edge.
 * So the corpus stays small while records range from 0 bytes to twice the limit.
 *
 * Oracles. Validity, object-ness and duplicates come from jansson (the reference of
 * tests/unit/test_json_diff.c, with its documented exceptions: numbers jansson refuses for
 * overflow and "\u0000" in member names are valid here; nesting deeper than
 * LC_JSON_MAX_DEPTH and a NUL right after a token are invalid here). Field reasons are
 * recomputed from SPEC §2.1/§3 (and the decisions of src/schema.c: length, enum and pattern
 * see a non-string value's raw text) except `pattern`, where either answer is accepted; the
 * users verdict is recomputed from a plain list of the rows loaded into the snapshots.
 */
#ifndef FUZZ_CHECKS_H
#define FUZZ_CHECKS_H

#include <jansson.h>
#include <math.h>
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
#include "lc_pipe.h"
#include "lc_schema.h"
#include "lc_users.h"

#define FZ_NVARIANTS 10
#define FZ_HEADER_MARK 0xFF
#define FZ_MAX_EXPANDED ((size_t)3 << 20)
#define FZ_SMALL_MAX_RECORD 64
/* Both directions: decoded values may hold NUL; big integers become reals, so that only
 * numbers beyond a double's range are refused for overflow. */
#define FZ_JANSSON_FLAGS \
    (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)

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

/* ---- small independent text rules ---------------------------------------------------- */

static inline bool fz_json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* SPEC §2.1 `empty` and §2.2 device trimming: space, tab, CR, LF, FF, VT. */
static inline bool fz_ascii_ws(char c)
{
    return fz_json_ws(c) || c == '\f' || c == '\v';
}

static inline bool fz_digit(char c) { return c >= '0' && c <= '9'; }

static inline bool fz_all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!fz_digit(s[i]))
            return false;
    return n > 0;
}

/* An optional '-' and 1-19 digits within int64 (SPEC §3 integer, and users keys). */
static inline bool fz_parse_int(const char *s, size_t n, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    size_t i = neg ? 1 : 0;
    if (n - i > 19 || !fz_all_digits(s + i, n - i))
        return false;
    uint64_t acc = 0;
    for (; i < n; i++)
        acc = acc * 10 + (uint64_t)(s[i] - '0');
    if (acc > (uint64_t)INT64_MAX + (neg ? 1 : 0))
        return false;
    if (!neg)
        *out = (int64_t)acc;
    else
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    return true;
}

static inline size_t fz_skip_digits(const char *s, size_t n, size_t i)
{
    while (i < n && fz_digit(s[i]))
        i++;
    return i;
}

/* SPEC §3 number string: [+-]? (digits [. digits?]? | . digits) ([eE][+-]?digits)?, finite.
 * Returns 1 yes, 0 no, -1 too long to decide cheaply. */
static inline int fz_decimal_string(const char *s, size_t n)
{
    if (n > 4000)
        return -1;
    size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    size_t int_end = fz_skip_digits(s, n, i), frac_end = int_end;
    if (int_end < n && s[int_end] == '.')
        frac_end = fz_skip_digits(s, n, int_end + 1);
    if (int_end == i && frac_end <= int_end + 1)
        return 0;                               /* no digit in the mantissa */
    i = frac_end;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_end = fz_skip_digits(s, n, i);
        if (exp_end == i)
            return 0;
        i = exp_end;
    }
    if (i != n)
        return 0;
    char *copy = malloc(n + 1);
    if (!copy)
        abort();
    memcpy(copy, s, n);
    copy[n] = '\0';
    bool finite = isfinite(strtod(copy, NULL));
    free(copy);
    return finite;
}

static inline bool fz_two(const char *s, int *out)
{
    if (!fz_digit(s[0]) || !fz_digit(s[1]))
        return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

static inline bool fz_real_date(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* RFC 3339 offset at s[i..n): Z, z or +hh:mm / -hh:mm. */
static inline bool fz_rfc3339_offset(const char *s, size_t n, size_t i)
{
    int oh, om;
    if (i < n && (s[i] == 'Z' || s[i] == 'z'))
        return i + 1 == n;
    return i + 6 == n && (s[i] == '+' || s[i] == '-') && fz_two(s + i + 1, &oh) &&
           s[i + 3] == ':' && fz_two(s + i + 4, &om) && oh <= 23 && om <= 59;
}

/* YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm), T/Z either case, a real date, seconds up to 60. */
static inline bool fz_rfc3339(const char *s, size_t n)
{
    int y1, y2, mo, d, h, mi, se;
    if (n < 20 || !fz_two(s, &y1) || !fz_two(s + 2, &y2) || s[4] != '-' ||
        !fz_two(s + 5, &mo) || s[7] != '-' || !fz_two(s + 8, &d) ||
        (s[10] != 'T' && s[10] != 't') || !fz_two(s + 11, &h) || s[13] != ':' ||
        !fz_two(s + 14, &mi) || s[16] != ':' || !fz_two(s + 17, &se))
        return false;
    if (!fz_real_date(y1 * 100 + y2, mo, d) || h > 23 || mi > 59 || se > 60)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t end = fz_skip_digits(s, n, i + 1);
        if (end == i + 1)
            return false;
        i = end;
    }
    return fz_rfc3339_offset(s, n, i);
}

/* Epoch seconds 0..253402300799 written as digits (leading zeros allowed). */
static inline bool fz_epoch_digits(const char *s, size_t n)
{
    if (!fz_all_digits(s, n))
        return false;
    while (n > 1 && s[0] == '0') {
        s++;
        n--;
    }
    if (n != 12)
        return n < 12;
    return memcmp(s, "253402300799", 12) <= 0;
}

static inline size_t fz_code_points(const char *s, size_t n)
{
    size_t cps = 0;
    for (size_t i = 0; i < n; i++)
        cps += ((unsigned char)s[i] & 0xC0) != 0x80;
    return cps;
}

static inline bool fz_utf8_valid(const char *s, size_t n)
{
    if (n == 0)
        return true;
    json_t *j = json_stringn(s, n);      /* jansson validates strictly, NUL allowed */
    json_decref(j);
    return j != NULL;
}

static inline void fz_base64(lc_buf_t *b, const unsigned char *p, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63]};
        if (i + 1 >= n)
            q[2] = '=';
        if (i + 2 >= n)
            q[3] = '=';
        lc_buf_append(b, q, 4);
    }
}

/* Deepest nesting of arrays and objects outside strings (for valid JSON). */
static inline size_t fz_depth(const char *s, size_t n)
{
    size_t depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        if (in_string) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_string = false;
        } else if (s[i] == '"') {
            in_string = true;
        } else if (s[i] == '[' || s[i] == '{') {
            max = ++depth > max ? depth : max;
        } else if (s[i] == ']' || s[i] == '}') {
            depth--;
        }
    }
    return max;
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

/* The configuration's default schema must be the SPEC §3 one the oracles assume. */
static inline const char *fz_check_default_schema(fz_env_t *e, const lc_schema_t *s)
{
    if (lc_schema_nfields(s) != LC_ARRAY_SIZE(fz_default_defs))
        return fz_fail(e, NULL, "default schema has %zu fields", lc_schema_nfields(s));
    for (size_t f = 0; f < LC_ARRAY_SIZE(fz_default_defs); f++)
        if (strcmp(lc_schema_field_name(s, f), fz_default_defs[f].name) != 0 ||
            lc_schema_field_type(s, f) != fz_default_defs[f].type ||
            !lc_schema_field_required(s, f))
            return fz_fail(e, NULL, "default schema field %zu differs from SPEC §3", f);
    return NULL;
}

/* Fills variant `i` (see the table in fz_init_variants). */
static inline const char *fz_init_variant(fz_env_t *e, fz_variant_t *v)
{
    char err[512] = "";
    if (!v->opts.schema) {
        v->own_schema = lc_schema_new(v->defs, v->ndefs, err, sizeof(err));
        if (!v->own_schema)
            return fz_fail(e, NULL, "%s: lc_schema_new: %s", v->name, err);
        v->opts.schema = v->own_schema;
    }
    if (!v->opts.max_record_bytes)
        v->opts.max_record_bytes = (size_t)1 << 20;
    if (!fz_plain_name(v->opts.status_field) || !fz_plain_name(v->opts.reasons_field))
        return fz_fail(e, NULL, "%s: output names must need no escaping", v->name);
    v->classifier = lc_classifier_new(&v->opts, err, sizeof(err));
    if (!v->classifier)
        return fz_fail(e, NULL, "%s: lc_classifier_new: %s", v->name, err);
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
 */
static inline void fz_init_variants(fz_env_t *e)
{
    lc_classify_opts_t base;
    lc_config_classify_opts(e->config, &base);
    static const char *const names[FZ_NVARIANTS] = {
        "default", "small", "unknown-good", "unknown-bad", "constraints", "renamed",
        "string-keys", "no-users", "untyped-key", "no-fields"};
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

/* ---- the reference verdict on the input (jansson) ------------------------------------ */

/* Our scanner is stricter than jansson on depth and on a NUL after a token (lc_json.h). */
static inline bool fz_stricter_here(const char *in, size_t len)
{
    return memchr(in, '\0', len) || fz_depth(in, len) > LC_JSON_MAX_DEPTH;
}

/* jansson's view of a refused load: the document reason, or FZ_DOC_ANY for the documented
 * refusals of valid JSON. */
static inline int fz_doc_of_error(const json_error_t *err)
{
    switch (json_error_code(err)) {
    case json_error_numeric_overflow:
    case json_error_null_byte_in_key:
        return FZ_DOC_ANY;
    default:
        return LC_R_INVALID_JSON;
    }
}

/* The document reason the input must get, from jansson; k->in_root keeps the parse. */
static inline int fz_reference_doc(fz_case_t *k)
{
    size_t max = k->var->opts.max_record_bytes;
    if (!k->present || k->in_len == 0)
        return LC_R_INVALID_JSON;
    if (k->in_len > max)
        return LC_R_TOO_LARGE;
    json_error_t err;
    bool dup = false;
    k->in_root = json_loadb(k->in, k->in_len, FZ_JANSSON_FLAGS, &err);
    if (!k->in_root && json_error_code(&err) == json_error_duplicate_key) {
        dup = true;
        k->in_root = json_loadb(k->in, k->in_len, FZ_JANSSON_FLAGS & ~JSON_REJECT_DUPLICATES,
                                &err);
    }
    if (!k->in_root)
        return fz_doc_of_error(&err);
    if (fz_stricter_here(k->in, k->in_len))
        return LC_R_INVALID_JSON;
    if (!json_is_object(k->in_root))
        return LC_R_NOT_OBJECT;
    return dup ? LC_R_DUPLICATE_KEY : FZ_DOC_NONE;
}

/* ---- checks on the verdict ----------------------------------------------------------- */

static inline int fz_kind(const fz_case_t *k, size_t i)
{
    return k->var->reason_kind[k->v.reasons[i]];
}

static inline const char *fz_check_reason_ids(fz_env_t *e, const fz_case_t *k)
{
    if ((size_t)k->v.status >= LC_STATUS__COUNT)
        return fz_fail(e, k, "status %d out of range", (int)k->v.status);
    if (k->v.nreasons > k->var->ndefs + 1)
        return fz_fail(e, k, "%zu reasons for %zu fields", k->v.nreasons, k->var->ndefs);
    for (size_t i = 0; i < k->v.nreasons; i++)
        if (k->v.reasons[i] >= k->var->nreasons)
            return fz_fail(e, k, "reason id %u out of range", (unsigned)k->v.reasons[i]);
    return NULL;
}

/* bad <=> a document or field reason (or unknown_account with unknown_account: bad);
 * a document or users reason comes alone; field reasons at most one per field, in order. */
static inline const char *fz_check_verdict_logic(fz_env_t *e, const fz_case_t *k)
{
    size_t n = k->v.nreasons, doc = 0, field = 0;
    int last_field = -1;
    for (size_t i = 0; i < n; i++) {
        int kind = fz_kind(k, i);
        if (kind <= LC_R_DUPLICATE_KEY) {
            doc++;
        } else if (kind <= LC_R_PATTERN) {
            int f = k->var->reason_field[k->v.reasons[i]];
            if (f <= last_field)
                return fz_fail(e, k, "field reasons out of schema order or repeated");
            last_field = f;
            field++;
        }
    }
    lc_status_t st = k->v.status;
    if ((doc || field) && st != LC_STATUS_BAD)
        return fz_fail(e, k, "document/field reason but status %s", lc_status_name(st));
    if ((doc || field < n) && n != 1)
        return fz_fail(e, k, "a document or users reason must come alone (%zu reasons)", n);
    if (n == 0 && st != LC_STATUS_GOOD)
        return fz_fail(e, k, "no reason but status %s", lc_status_name(st));
    if (n == 1 && fz_kind(k, 0) == LC_R_UNKNOWN_ACCOUNT &&
        st != k->var->opts.unknown_account_status)
        return fz_fail(e, k, "unknown_account but status %s", lc_status_name(st));
    if (n == 1 && fz_kind(k, 0) == LC_R_DEVICE_MISMATCH && st != LC_STATUS_SUSPICIOUS)
        return fz_fail(e, k, "device_mismatch but status %s", lc_status_name(st));
    return NULL;
}

/* ---- checks on the output ------------------------------------------------------------ */

/* `"<status>":"<label>","<reasons>":[...]}` as the verdict says, into e->expect. */
static inline void fz_expected_tail(fz_env_t *e, const fz_case_t *k)
{
    lc_buf_printf(&e->expect, "\"%s\":\"%s\",\"%s\":[", k->var->opts.status_field,
                  lc_status_name(k->v.status), k->var->opts.reasons_field);
    for (size_t i = 0; i < k->v.nreasons; i++)
        lc_buf_printf(&e->expect, "%s\"%s\"", i ? "," : "",
                      lc_schema_reason_name(k->var->opts.schema, k->v.reasons[i]));
    lc_buf_append(&e->expect, "]}", 2);
}

/* The output is one valid JSON object without duplicate names (our scanner), jansson
 * agrees unless it refuses a big number or a NUL in a name, and it ends with the
 * classification. */
static inline const char *fz_check_output_json(fz_env_t *e, fz_case_t *k)
{
    bool utf8_ok;
    const char *os, *oe;
    lc_json_result_t r = lc_json_scan(e->out_scan, k->out, k->out_len, &utf8_ok, &k->out_m,
                                      &k->out_n, &os, &oe);
    if (r != LC_JSON_OK)
        return fz_fail(e, k, "output is not a valid JSON object (scan result %d)", r);
    if (os != k->out || oe != k->out + k->out_len)
        return fz_fail(e, k, "output has bytes around its object");
    json_error_t err;
    k->out_root = json_loadb(k->out, k->out_len, FZ_JANSSON_FLAGS, &err);
    if (!k->out_root && fz_doc_of_error(&err) != FZ_DOC_ANY)
        return fz_fail(e, k, "jansson refuses the output: %s (code %d)", err.text,
                       (int)json_error_code(&err));
    if (k->out_root && !json_is_object(k->out_root))
        return fz_fail(e, k, "jansson: output is not an object");
    lc_buf_reset(&e->expect);
    fz_expected_tail(e, k);
    size_t tl = e->expect.len;
    if (k->out_n < 2 || k->out_len < tl ||
        memcmp(k->out + k->out_len - tl, e->expect.data, tl) != 0)
        return fz_fail(e, k, "output does not end with %.*s", (int)tl, e->expect.data);
    const lc_json_member_t *st = &k->out_m[k->out_n - 2];
    if (!lc_json_key_equals(st->key, st->key_len, st->key_escaped, k->var->opts.status_field,
                            strlen(k->var->opts.status_field)))
        return fz_fail(e, k, "the status member is not where the tail is");
    return NULL;
}

/* The jansson view of the status/reasons members, for good measure. */
static inline const char *fz_check_output_members(fz_env_t *e, const fz_case_t *k)
{
    if (!k->out_root)
        return NULL;
    json_t *st = json_object_get(k->out_root, k->var->opts.status_field);
    json_t *rs = json_object_get(k->out_root, k->var->opts.reasons_field);
    if (!json_is_string(st) || strcmp(json_string_value(st), lc_status_name(k->v.status)))
        return fz_fail(e, k, "jansson: bad %s member", k->var->opts.status_field);
    if (!json_is_array(rs) || json_array_size(rs) != k->v.nreasons)
        return fz_fail(e, k, "jansson: bad %s member", k->var->opts.reasons_field);
    for (size_t i = 0; i < k->v.nreasons; i++) {
        json_t *r = json_array_get(rs, i);
        const char *want = lc_schema_reason_name(k->var->opts.schema, k->v.reasons[i]);
        if (!json_is_string(r) || strcmp(json_string_value(r), want) != 0)
            return fz_fail(e, k, "jansson: reason %zu is not %s", i, want);
    }
    return NULL;
}

/* A refused record: exactly raw | raw_base64 | raw_bytes, then the classification. */
static inline const char *fz_check_refused(fz_env_t *e, const fz_case_t *k, int kind)
{
    if (k->out_n != 3)
        return fz_fail(e, k, "refused record has %zu members, not 3", k->out_n);
    const lc_json_member_t *m = &k->out_m[0];
    lc_buf_reset(&e->expect);
    if (kind == LC_R_TOO_LARGE) {
        lc_buf_printf(&e->expect, "%zu", k->in_len);
        if (!lc_json_key_equals(m->key, m->key_len, m->key_escaped, "raw_bytes", 9) ||
            m->val_len != e->expect.len || memcmp(m->val, e->expect.data, m->val_len))
            return fz_fail(e, k, "too_large needs \"raw_bytes\":%zu first", k->in_len);
        return NULL;
    }
    if (!fz_utf8_valid(k->in, k->in_len)) {
        fz_base64(&e->expect, (const unsigned char *)k->in, k->in_len);
        if (!lc_json_key_equals(m->key, m->key_len, m->key_escaped, "raw_base64", 10) ||
            m->val_len != e->expect.len || memcmp(m->val, e->expect.data, m->val_len))
            return fz_fail(e, k, "input not UTF-8: needs raw_base64 of it first");
        return NULL;
    }
    json_t *raw = k->out_root ? json_object_get(k->out_root, "raw") : NULL;
    if (!lc_json_key_equals(m->key, m->key_len, m->key_escaped, "raw", 3) ||
        m->type != LC_JT_STRING || !raw || json_string_length(raw) != k->in_len ||
        memcmp(json_string_value(raw), k->in, k->in_len) != 0)
        return fz_fail(e, k, "UTF-8 input: needs \"raw\" holding exactly its bytes first");
    return NULL;
}

/* The name an output field would give: status_field or reasons_field, else NULL. */
static inline const char *fz_output_field_named(const fz_case_t *k, const lc_json_member_t *m)
{
    const char *names[2] = {k->var->opts.status_field, k->var->opts.reasons_field};
    for (size_t i = 0; i < 2; i++)
        if (lc_json_key_equals(m->key, m->key_len, m->key_escaped, names[i], strlen(names[i])))
            return names[i];
    return NULL;
}

static inline bool fz_out_has_key(const fz_case_t *k, size_t skip, const char *name, size_t n)
{
    for (size_t i = 0; i < k->out_n; i++)
        if (i != skip && lc_json_key_equals(k->out_m[i].key, k->out_m[i].key_len,
                                            k->out_m[i].key_escaped, name, n))
            return true;
    return false;
}

/* Member i was named like an output field: now it is "original_"^j + its name, j >= 1,
 * and j is the smallest such name not taken by another output member. */
static inline const char *fz_check_renamed(fz_env_t *e, const fz_case_t *k, size_t i,
                                           const char *name)
{
    const lc_json_member_t *m = &k->out_m[i];
    lc_buf_t *d = &e->dec[0];
    lc_buf_reset(d);
    lc_buf_reserve(d, m->key_len + 1);
    d->len = lc_json_unescape(m->key, m->key_len, d->data, d->cap);
    size_t nl = strlen(name), j = 0;
    while ((j + 1) * 9 + nl <= d->len && memcmp(d->data + j * 9, "original_", 9) == 0)
        j++;
    if (j == 0 || j * 9 + nl != d->len || memcmp(d->data + j * 9, name, nl) != 0)
        return fz_fail(e, k, "member %zu named like an output field was not renamed "
                             "original_%s", i, name);
    if (j > 1 && !fz_out_has_key(k, i, d->data + 9, d->len - 9))
        return fz_fail(e, k, "member %zu renamed with %zu prefixes, fewer were free", i, j);
    return NULL;
}

/* Every input member is in the output, in order, with its value text unchanged and its
 * name unchanged unless renamed; the classification is the last two members. */
static inline const char *fz_check_members_kept(fz_env_t *e, const fz_case_t *k,
                                                bool *renamed)
{
    if (k->out_n != k->in_n + 2)
        return fz_fail(e, k, "output has %zu members for %zu input members", k->out_n, k->in_n);
    *renamed = false;
    for (size_t i = 0; i < k->in_n; i++) {
        const lc_json_member_t *a = &k->in_m[i], *b = &k->out_m[i];
        if (a->type != b->type || a->val_len != b->val_len || memcmp(a->val, b->val, a->val_len))
            return fz_fail(e, k, "member %zu: value not kept byte for byte", i);
        const char *field = fz_output_field_named(k, a);
        if (field) {
            *renamed = true;
            FZ_TRY(fz_check_renamed(e, k, i, field));
        } else if (a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len) != 0) {
            return fz_fail(e, k, "member %zu: name not kept", i);
        }
    }
    return NULL;
}

/* Without renames the output is exactly: the trimmed input minus its final '}' (and the
 * white space before it), a comma if it had members, then the classification. */
static inline const char *fz_check_splice_text(fz_env_t *e, const fz_case_t *k)
{
    const char *s = k->in, *end = k->in + k->in_len;
    while (s < end && fz_json_ws(*s))
        s++;
    while (end > s && fz_json_ws(end[-1]))
        end--;
    if (end == s || end[-1] != '}')
        return fz_fail(e, k, "spliced record does not end with '}'");
    end--;
    while (end > s + 1 && fz_json_ws(end[-1]))
        end--;
    lc_buf_reset(&e->expect);
    lc_buf_append(&e->expect, s, (size_t)(end - s));
    if (k->in_n > 0)
        lc_buf_putc(&e->expect, ',');
    fz_expected_tail(e, k);
    if (e->expect.len != k->out_len || memcmp(e->expect.data, k->out, k->out_len) != 0)
        return fz_fail(e, k, "output is not the input plus the classification");
    return NULL;
}

/* ---- field oracle (SPEC §2.1, §3) ---------------------------------------------------- */

/* Our scanner's member for `name` in the input object, or NULL. */
static inline const lc_json_member_t *fz_in_member(const fz_case_t *k, const char *name)
{
    for (size_t i = 0; i < k->in_n; i++)
        if (lc_json_key_equals(k->in_m[i].key, k->in_m[i].key_len, k->in_m[i].key_escaped,
                               name, strlen(name)))
            return &k->in_m[i];
    return NULL;
}

/* The text a check sees: a string decoded (into e->dec[slot], and compared with jansson's
 * decoding when jansson parsed the input), anything else its raw JSON text. */
static inline const char *fz_value_text(fz_env_t *e, const fz_case_t *k, const char *name,
                                        const lc_json_member_t *m, int slot, size_t *len)
{
    if (m->type != LC_JT_STRING) {
        *len = m->val_len;
        return m->val;
    }
    lc_buf_t *d = &e->dec[slot];
    lc_buf_reset(d);
    lc_buf_reserve(d, m->val_len + 1);
    d->len = lc_json_unescape(m->val, m->val_len, d->data, d->cap);
    json_t *j = k->in_root ? json_object_get(k->in_root, name) : NULL;
    if (j && (!json_is_string(j) || json_string_length(j) != d->len ||
              memcmp(json_string_value(j), d->data, d->len) != 0))
        *len = SIZE_MAX;                   /* reported by the caller */
    else
        *len = d->len;
    return d->data;
}

/* Type rule of SPEC §3 on a present, non-null value: 1 accepted, 0 refused, -1 unknown. */
static inline int fz_type_accepts(lc_field_type_t type, int jt, const char *t, size_t n)
{
    int64_t ignored;
    switch (type) {
    case LC_FT_STRING:
        return jt == LC_JT_STRING;
    case LC_FT_INTEGER:
        return (jt == LC_JT_STRING || jt == LC_JT_NUMBER) && fz_parse_int(t, n, &ignored);
    case LC_FT_NUMBER:
        return jt == LC_JT_NUMBER ? 1 : jt == LC_JT_STRING ? fz_decimal_string(t, n) : 0;
    case LC_FT_BOOLEAN:
        return jt == LC_JT_TRUE || jt == LC_JT_FALSE;
    case LC_FT_TIMESTAMP:
        if (jt == LC_JT_NUMBER)
            return fz_epoch_digits(t, n);
        return jt == LC_JT_STRING && (fz_epoch_digits(t, n) || fz_rfc3339(t, n));
    }
    return -1;
}

static inline bool fz_in_enum(const lc_field_def_t *d, const char *t, size_t n)
{
    for (size_t i = 0; i < d->n_enum; i++)
        if (strlen(d->enum_values[i]) == n && memcmp(d->enum_values[i], t, n) == 0)
            return true;
    return false;
}

static inline bool fz_blank(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!fz_ascii_ws(t[i]))
            return false;
    return true;
}

/* The reason field f must get: a kind or one of FZ_FIELD_*. *decode_differs is set when
 * lc_json_unescape and jansson disagree on the value. */
static inline int fz_expected_field_reason(fz_env_t *e, const fz_case_t *k, size_t f,
                                           bool *decode_differs)
{
    const lc_field_def_t *d = &k->var->defs[f];
    const lc_json_member_t *m = fz_in_member(k, d->name);
    if (!m)
        return d->required ? LC_R_MISSING : FZ_FIELD_NONE;
    if (m->type == LC_JT_NULL)
        return LC_R_NULL;
    size_t n;
    const char *t = fz_value_text(e, k, d->name, m, 0, &n);
    if (n == SIZE_MAX) {
        *decode_differs = true;
        return FZ_FIELD_NONE;
    }
    int ok = fz_type_accepts(d->type, m->type, t, n);
    if (ok < 0)
        return FZ_FIELD_AFTER_TYPE;
    if (!ok)
        return LC_R_TYPE;
    if (d->type == LC_FT_STRING && fz_blank(t, n))
        return LC_R_EMPTY;
    if (d->max_length >= 0 && fz_code_points(t, n) > (size_t)d->max_length)
        return LC_R_LENGTH;
    if (d->n_enum > 0 && !fz_in_enum(d, t, n))
        return LC_R_ENUM;
    return d->pattern ? FZ_FIELD_NONE_OR_PATTERN : FZ_FIELD_NONE;
}

/* The reason the classifier gave field f, or FZ_FIELD_NONE. */
static inline int fz_actual_field_reason(const fz_case_t *k, size_t f)
{
    for (size_t i = 0; i < k->v.nreasons; i++)
        if (k->var->reason_field[k->v.reasons[i]] == (int)f)
            return fz_kind(k, i);
    return FZ_FIELD_NONE;
}

static inline const char *fz_check_fields(fz_env_t *e, const fz_case_t *k)
{
    for (size_t f = 0; f < k->var->ndefs; f++) {
        bool decode_differs = false;
        int want = fz_expected_field_reason(e, k, f, &decode_differs);
        int got = fz_actual_field_reason(k, f);
        if (decode_differs)
            return fz_fail(e, k, "field %s: lc_json_unescape and jansson decode differently",
                           k->var->defs[f].name);
        bool ok = got == want ||
                  (want == FZ_FIELD_NONE_OR_PATTERN &&
                   (got == FZ_FIELD_NONE || got == LC_R_PATTERN)) ||
                  (want == FZ_FIELD_AFTER_TYPE && got != LC_R_MISSING &&
                   got != LC_R_NULL && got != LC_R_EMPTY);
        if (!ok)
            return fz_fail(e, k, "field %s: reason %d, the rules of SPEC §3 say %d",
                           k->var->defs[f].name, got, want);
    }
    return NULL;
}

/* ---- users oracle (SPEC §2.2) -------------------------------------------------------- */

static inline void fz_trim(const char **s, size_t *n)
{
    while (*n > 0 && fz_ascii_ws((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && fz_ascii_ws((*s)[*n - 1]))
        (*n)--;
}

static inline bool fz_same_device(const fz_users_t *u, const char *a, size_t an,
                                  const char *b, size_t bn)
{
    fz_trim(&a, &an);
    fz_trim(&b, &bn);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        char x = a[i], y = b[i];
        if (u->case_insensitive) {
            x = (x >= 'A' && x <= 'Z') ? (char)(x + 32) : x;
            y = (y >= 'A' && y <= 'Z') ? (char)(y + 32) : y;
        }
        if (x != y)
            return false;
    }
    return true;
}

static inline bool fz_row_has_key(const fz_users_t *u, const fz_row_t *r, const char *key,
                                  size_t n)
{
    if (!u->int_keys)
        return r->key_len == n && memcmp(r->key, key, n) == 0;
    int64_t a, b;
    return fz_parse_int(r->key, r->key_len, &a) && fz_parse_int(key, n, &b) && a == b;
}

/* LC_USERS_* for key text/device text against the rows loaded into the snapshot. */
static inline lc_users_match_t fz_users_lookup(const fz_users_t *u, const char *key, size_t kn,
                                               const char *dev, size_t dn)
{
    lc_users_match_t m = LC_USERS_UNKNOWN;
    for (size_t i = 0; i < u->nrows; i++) {
        const fz_row_t *r = &u->rows[i];
        if (!fz_row_has_key(u, r, key, kn))
            continue;
        if (fz_same_device(u, r->dev, r->dev_len, dev, dn))
            return LC_USERS_MATCH;
        m = LC_USERS_MISMATCH;
    }
    return m;
}

/* The users verdict for a record with no field reason: status and at most one reason. */
static inline const char *fz_check_users(fz_env_t *e, const fz_case_t *k)
{
    const fz_users_t *u = k->var->users;
    lc_users_match_t m = LC_USERS_MATCH;
    if (u) {
        const char *kf = k->var->opts.key_field, *vf = k->var->opts.value_field;
        const lc_json_member_t *km = fz_in_member(k, kf), *dm = fz_in_member(k, vf);
        size_t kn = 0, dn = 0;
        const char *key = km ? fz_value_text(e, k, kf, km, 0, &kn) : NULL;
        const char *dev = dm ? fz_value_text(e, k, vf, dm, 1, &dn) : "";
        if (kn == SIZE_MAX || dn == SIZE_MAX)
            return fz_fail(e, k, "users fields: lc_json_unescape and jansson differ");
        m = (!km || km->type == LC_JT_NULL) ? LC_USERS_UNKNOWN
                                            : fz_users_lookup(u, key, kn, dev, dn);
    }
    lc_status_t want = m == LC_USERS_MATCH     ? LC_STATUS_GOOD
                       : m == LC_USERS_UNKNOWN ? k->var->opts.unknown_account_status
                                               : LC_STATUS_SUSPICIOUS;
    size_t nwant = m == LC_USERS_MATCH ? 0 : 1;
    int kind = m == LC_USERS_UNKNOWN ? LC_R_UNKNOWN_ACCOUNT : LC_R_DEVICE_MISMATCH;
    if (k->v.status != want || k->v.nreasons != nwant || (nwant && fz_kind(k, 0) != kind))
        return fz_fail(e, k, "users check: got %s with %zu reasons, the rows say %s%s",
                       lc_status_name(k->v.status), k->v.nreasons, lc_status_name(want),
                       nwant ? (kind == LC_R_UNKNOWN_ACCOUNT ? " unknown_account"
                                                             : " device_mismatch")
                             : "");
    return NULL;
}

/* ---- one classification -------------------------------------------------------------- */

static inline int fz_doc_reason_of(const fz_case_t *k)
{
    if (k->v.nreasons == 1 && fz_kind(k, 0) <= LC_R_DUPLICATE_KEY)
        return fz_kind(k, 0);
    return FZ_DOC_NONE;
}

static inline const char *fz_check_spliced(fz_env_t *e, fz_case_t *k)
{
    bool utf8_ok, renamed = false;
    if (lc_json_scan(e->in_scan, k->in, k->in_len, &utf8_ok, &k->in_m, &k->in_n, NULL,
                     NULL) != LC_JSON_OK)
        return fz_fail(e, k, "spliced, but the scanner refuses the input on a second scan");
    FZ_TRY(fz_check_members_kept(e, k, &renamed));
    if (!renamed)
        FZ_TRY(fz_check_splice_text(e, k));
    FZ_TRY(fz_check_fields(e, k));
    for (size_t i = 0; i < k->v.nreasons; i++)
        if (fz_kind(k, i) >= LC_R_MISSING && fz_kind(k, i) <= LC_R_PATTERN)
            return NULL;                   /* bad by the schema: no users check */
    return fz_check_users(e, k);
}

static inline const char *fz_check_case(fz_env_t *e, fz_case_t *k)
{
    FZ_TRY(fz_check_reason_ids(e, k));
    FZ_TRY(fz_check_verdict_logic(e, k));
    FZ_TRY(fz_check_output_json(e, k));
    FZ_TRY(fz_check_output_members(e, k));
    int got = fz_doc_reason_of(k);
    if (k->want_doc != FZ_DOC_ANY && got != k->want_doc)
        return fz_fail(e, k, "document reason %d, jansson says %d", got, k->want_doc);
    if (k->want_doc == FZ_DOC_ANY && got == LC_R_TOO_LARGE)
        return fz_fail(e, k, "too_large within max_record_bytes");
    if (got != FZ_DOC_NONE)
        return fz_check_refused(e, k, got);
    return fz_check_spliced(e, k);
}

/* Classifies one record under variant `vi` and checks everything above. */
static inline const char *fz_check_record(fz_env_t *e, size_t vi, const char *in, size_t len,
                                          bool present)
{
    fz_case_t k = {.var = &e->var[vi % FZ_NVARIANTS], .in = in ? in : "", .in_len = len,
                   .present = present};
    lc_buf_reset(&e->out);
    const lc_users_t *users = k.var->users ? k.var->users->snap : NULL;
    lc_classify(k.var->classifier, users, k.in, len, present, &k.v, &e->out);
    k.out = e->out.data ? e->out.data : "";
    k.out_len = e->out.len;
    k.want_doc = fz_reference_doc(&k);
    const char *why = fz_check_case(e, &k);
    json_decref(k.in_root);
    json_decref(k.out_root);
    return why;
}

/* ---- fuzz input decoding ------------------------------------------------------------- */

/* Record lengths an expansion aims at: mostly small, a quarter at the too_large edge. */
static inline size_t fz_expand_target(size_t max, unsigned idx)
{
    const size_t targets[16] = {max - 1, max, max + 1, 2 * max + 7, 63, 64, 65, 513,
                                1024, 1026, 2049, 4100, 8200, 65536, 100000, 300000};
    size_t t = targets[idx & 15];
    return t < FZ_MAX_EXPANDED ? t : FZ_MAX_EXPANDED;
}

/* Appends `times` copies of p[0..n) (doubling copies: ASan makes byte loops slow). */
static inline void fz_append_repeated(lc_buf_t *b, const char *p, size_t n, size_t times)
{
    if (times == 0 || n == 0)
        return;
    size_t start = b->len, total = n * times;
    lc_buf_reserve(b, total);
    memcpy(b->data + start, p, n);
    for (size_t done = n; done < total;) {
        size_t chunk = done < total - done ? done : total - done;
        memcpy(b->data + start + done, b->data + start, chunk);
        done += chunk;
    }
    b->len = start + total;
}

/* Writes the payload with its slices repeated (see the top of this file) into e->expanded:
 * hdr is POS1 POS2 SLICE. */
static inline void fz_expand(fz_env_t *e, const uint8_t *hdr, const char *p, size_t n,
                             size_t max)
{
    lc_buf_t *b = &e->expanded;
    lc_buf_reset(b);
    if (n == 0)
        return;
    size_t slen = 1 + (hdr[2] & 7), s1 = hdr[0] % n, s2 = hdr[1] % n;
    bool mirror = hdr[2] & 8;
    size_t l1 = slen < n - s1 ? slen : n - s1, l2 = slen < n - s2 ? slen : n - s2;
    size_t target = fz_expand_target(max, (unsigned)(hdr[2] >> 4));
    size_t times = target > n ? (target - n) / (l1 + (mirror ? l2 : 0)) : 0;
    size_t a = s1, al = l1, z = n, zl = 0;      /* slices in payload order */
    if (mirror && s2 < s1) {
        a = s2;
        al = l2;
        z = s1;
        zl = l1;
    } else if (mirror) {
        z = s2;
        zl = l2;
    }
    lc_buf_reserve(b, n + times * (al + zl) + 1);
    lc_buf_append(b, p, a);
    fz_append_repeated(b, p + a, al, times);
    lc_buf_append(b, p + a, z - a);
    fz_append_repeated(b, p + z, zl, times);
    lc_buf_append(b, p + z, n - z);
    if (b->len < target) {
        lc_buf_reserve(b, target - b->len);
        memset(b->data + b->len, ' ', target - b->len);
        b->len = target;
    }
}

/* Decodes a fuzz input (header, expansion) and checks its record; a 0-byte input is also
 * checked as a tombstone. */
static inline const char *fz_run_input(fz_env_t *e, const uint8_t *data, size_t size)
{
    if (size < 2 || data[0] != FZ_HEADER_MARK) {
        if (size == 0)
            FZ_TRY(fz_check_record(e, 0, NULL, 0, false));
        return fz_check_record(e, 0, (const char *)data, size, true);
    }
    size_t vi = (data[1] & 15) % FZ_NVARIANTS;
    if (!(data[1] & 16) || size < 5)
        return fz_check_record(e, vi, (const char *)data + 2, size - 2, true);
    fz_expand(e, data + 2, (const char *)data + 5, size - 5, e->var[vi].opts.max_record_bytes);
    return fz_check_record(e, vi, e->expanded.data ? e->expanded.data : "", e->expanded.len,
                           true);
}

/* The whole input as a record, under every variant (the replay test's extra mile). */
static inline const char *fz_run_all_variants(fz_env_t *e, const uint8_t *data, size_t size)
{
    for (size_t vi = 0; vi < FZ_NVARIANTS; vi++)
        FZ_TRY(fz_check_record(e, vi, (const char *)data, size, true));
    return NULL;
}

/* ---- pipe mode (SPEC §7) -------------------------------------------------------------- */

static inline bool fz_blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

/* What pipe mode must write for `data`: for each non-blank line (split on '\n', one trailing
 * '\r' dropped) the default variant's output and a newline; each line is also checked. */
static inline const char *fz_expected_pipe(fz_env_t *e, const char *data, size_t size,
                                           lc_buf_t *want, size_t *lines)
{
    *lines = 0;
    for (size_t at = 0; at < size;) {
        const char *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size, len = end - at;
        if (len && data[at + len - 1] == '\r')
            len--;
        if (!fz_blank_line(data + at, len)) {
            FZ_TRY(fz_check_record(e, 0, data + at, len, true));
            lc_buf_append(want, e->out.data, e->out.len);
            lc_buf_putc(want, '\n');
            (*lines)++;
        }
        at = end + 1;
    }
    return NULL;
}

/* Runs lc_pipe_run over `data` with the default configuration and users: one output line
 * per non-blank input line, in order, each the classifier's output. */
static inline const char *fz_check_pipe(fz_env_t *e, const uint8_t *data, size_t size)
{
    if (size == 0)
        return NULL;                 /* fmemopen needs a non-empty buffer */
    char *got = NULL, err[256] = "";
    size_t got_len = 0, lines = 0;
    FILE *in = fmemopen((void *)data, size, "r");
    FILE *out = open_memstream(&got, &got_len);
    if (!in || !out)
        abort();
    int rc = lc_pipe_run(e->config, e->int_users.snap, in, out, NULL, err, sizeof(err));
    fclose(in);
    fclose(out);
    lc_buf_reset(&e->pipe_out);
    const char *why = fz_expected_pipe(e, (const char *)data, size, &e->pipe_out, &lines);
    fz_case_t k = {.var = &e->var[0], .in = (const char *)data, .in_len = size, .out = got,
                   .out_len = got_len};
    if (!why && rc != 0)
        why = fz_fail(e, &k, "lc_pipe_run failed: %s", err);
    if (!why && (got_len != e->pipe_out.len ||
                 (got_len && memcmp(got, e->pipe_out.data, got_len) != 0)))
        why = fz_fail(e, &k, "pipe output differs from the %zu classified lines", lines);
    free(got);
    return why;
}

#endif
