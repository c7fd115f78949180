/*
 * schema.c - the record schema (CONTRACT §2.1, §3): compiled field table, reason ids and names,
 * and the type rules every field value is checked against.
 *
 * Decisions the contract leaves open, made here (and tested in tests/unit/test_schema.c):
 *
 *  - `length` counts Unicode code points of the decoded value (what a user means by
 *    "characters"), not bytes: "é" is 1, not 2.
 *  - `empty` applies to `string` fields only (CONTRACT §2.1 says so). `length`, `enum` and
 *    `pattern` apply to every type: for a non-string value they see the value's text as
 *    given - the decoded contents of a JSON string ("0684" for "0684") or the raw token of a
 *    JSON number or literal (`684`, `1.50`, `true`). Nothing is re-formatted.
 *  - `number` strings: an optional sign ('+' or '-'), digits with an optional fraction, an
 *    optional exponent. ".5" and "5." are accepted (as C's strtod, Python's float() and
 *    Spark's cast, which the replaced job used, accept them); "." alone is not. A value that
 *    overflows a double ("1e999") is not finite and is refused; one that underflows to zero
 *    ("1e-999") is a finite number and is accepted.
 *  - `pattern` is wrapped as ^(pattern)$ so the WHOLE value must match. To keep that
 *    wrapping honest a pattern must have balanced parentheses (a stray ')' would close our
 *    group early: "a)|(b" would become "^(a)|(b)$"); write "\)" for a literal parenthesis.
 *  - Timestamps: RFC 3339 strings are not limited to the epoch range (years 0000-9999 are
 *    what the format can express); seconds may be 60 (RFC 3339 leap second) at any minute.
 */
#include "lc_schema.h"

#include "lc_common.h"
#include "lc_json.h"
#include "lc_text.h"

#include <float.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reasons without a field, in reason-id order: ids 0..N_FIXED_REASONS-1. */
static const struct {
    lc_reason_kind_t kind;
    const char *name;
} fixed_reasons[] = {
    {LC_R_TOO_LARGE, "too_large"},
    {LC_R_INVALID_JSON, "invalid_json"},
    {LC_R_NOT_OBJECT, "not_object"},
    {LC_R_DUPLICATE_KEY, "duplicate_key"},
    {LC_R_UNKNOWN_ACCOUNT, "unknown_account"},
    {LC_R_DEVICE_MISMATCH, "device_mismatch"},
};
#define N_FIXED_REASONS LC_ARRAY_SIZE(fixed_reasons)

/* Field reasons, LC_R_MISSING..LC_R_PATTERN: each field owns this many consecutive ids. */
static const char *const field_reason_prefix[] = {
    "missing", "null", "type", "empty", "length", "enum", "pattern",
};
#define N_FIELD_REASONS LC_ARRAY_SIZE(field_reason_prefix)

#define EPOCH_MAX_SECONDS INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

typedef struct lc_field {
    char *name;
    size_t name_len;
    lc_field_type_t type;
    bool required;
    int64_t max_length;        /* -1: none */
    char **enum_values;
    size_t *enum_lens;
    size_t n_enum;
    char *anchored_pattern;    /* "^(pattern)$", or NULL */
    regex_t re;
    bool has_re;
} lc_field_t;

struct lc_schema {
    lc_field_t *fields;
    size_t n;
    char **reason_names;       /* nreasons entries; fixed ones point at string literals */
    size_t nreasons;
};

struct lc_schema_matcher {
    regex_t *re;               /* one per field; valid where has_re[i] */
    bool *has_re;
    size_t n;
    lc_buf_t copy;             /* the value, NUL-terminated, for regexec */
};

/* ------------------------------------------------------------------------------------ */
/* Small character helpers                                                               */
/* ------------------------------------------------------------------------------------ */

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* Value of exactly n ASCII digits at s (caller checked they are digits). */
static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* ------------------------------------------------------------------------------------ */
/* Type rules (CONTRACT §3)                                                                  */
/* ------------------------------------------------------------------------------------ */

static inline uint64_t load8_bytes(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Eight bytes, all ASCII digits? Bytes below '0' wrap the subtraction into the high bit
 * (a borrow can only set more bits), bytes above '9' carry the addition into it, bytes of
 * 0x80 and above have it already. */
static inline bool eight_digits(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    return !(((x - ones * '0') | (x + ones * (0x80 - 0x3A)) | x) & high);
}

/* Epoch seconds: 1+ ASCII digits (leading zeros fine), 0..253402300799. */
static bool valid_epoch_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    /* Eleven digits or fewer never exceed EPOCH_MAX_SECONDS (twelve digits): only the
     * digits need checking, 8 bytes at a time (two overlapping loads from 8 on). */
    if (len >= 8 && len <= 11)
        return eight_digits(load8_bytes(s)) && eight_digits(load8_bytes(s + len - 8));
    int64_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        acc = acc * 10 + (s[i] - '0');
        if (acc > EPOCH_MAX_SECONDS)
            return false;   /* stop before acc could overflow on a long digit string */
    }
    return true;
}

static bool is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* Checks that s[pos..pos+n) are digits and yields their value. */
static bool take_digits(const char *s, size_t len, size_t pos, size_t n, int *out)
{
    if (pos + n > len || !all_digits(s + pos, n))
        return false;
    *out = digits_value(s + pos, n);
    return true;
}

/* RFC 3339 date-time: YYYY-MM-DD(T|t)hh:mm:ss(.frac)?(Z|z|(+|-)hh:mm), a real date. */
static bool valid_rfc3339(const char *s, size_t len)
{
    int y, mo, d, h, mi, sec;
    if (!take_digits(s, len, 0, 4, &y) || len < 20 || s[4] != '-' ||
        !take_digits(s, len, 5, 2, &mo) || s[7] != '-' ||
        !take_digits(s, len, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !take_digits(s, len, 11, 2, &h) || s[13] != ':' ||
        !take_digits(s, len, 14, 2, &mi) || s[16] != ':' ||
        !take_digits(s, len, 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    if (h > 23 || mi > 59 || sec > 60)
        return false;

    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return false;   /* "." needs at least one digit */
    }
    if (i >= len)
        return false;       /* the offset is not optional */
    if (s[i] == 'Z' || s[i] == 'z')
        return i + 1 == len;
    if (s[i] != '+' && s[i] != '-')
        return false;
    int oh, om;
    if (i + 6 != len || !take_digits(s, len, i + 1, 2, &oh) || s[i + 3] != ':' ||
        !take_digits(s, len, i + 4, 2, &om))
        return false;
    return oh <= 23 && om <= 59;
}

/* A timestamp given as a JSON string: epoch digits or RFC 3339. */
bool lc_schema_valid_timestamp(const char *s, size_t len)
{
    /* An RFC 3339 string has a '-' at [4]; anything else must be epoch digits. */
    if (len < 20 || s[4] != '-')
        return valid_epoch_digits(s, len);
    return valid_rfc3339(s, len);
}

/* A timestamp given as a JSON number token: an integer with no '-', fraction or exponent. */
static bool valid_timestamp_number(const char *s, size_t len)
{
    return valid_epoch_digits(s, len);
}

/*
 * Decides whether a decimal whose significant digits are `digits` (ndigits of them, first one
 * non-zero, may contain one '.' that is skipped) times 10^exp10 rounds to a finite double.
 * Only called for magnitudes near DBL_MAX, where rounding decides: the digits are rebuilt
 * without a decimal point (so strtod's locale does not matter), at most 400 of them (DBL_MAX
 * has 309 integer digits, so later digits can only matter when all earlier ones equal the
 * rounding boundary, which has none beyond that; a sticky '1' keeps them counted anyway).
 */
static bool near_max_is_finite(const char *digits, const char *end, long exp10)
{
    char buf[432];
    size_t n = 0;
    bool dropped_nonzero = false;
    for (const char *p = digits; p < end; p++) {
        if (*p == '.')
            continue;
        if (n < 400)
            buf[n++] = *p;
        else if (*p != '0')
            dropped_nonzero = true;
    }
    if (dropped_nonzero)
        buf[n++] = '1';
    /* buf holds an integer D of n digits; the value is D * 10^(exp10 - (n - 1)) where exp10
     * is the exponent of the leading digit. */
    long e = exp10 - (long)(n - 1);
    int w = snprintf(buf + n, sizeof(buf) - n, "e%ld", e);
    if (w < 0 || (size_t)w >= sizeof(buf) - n)
        return false;
    double v = strtod(buf, NULL);
    return v <= DBL_MAX;
}

/*
 * number as a string: [+-]? (digits [. digits?]? | . digits) ([eE] [+-]? digits)?, finite.
 * See the file comment for ".5"/"5." and overflow/underflow.
 */
bool lc_schema_valid_decimal(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    const char *mant = s + i;
    size_t int_digits = 0, frac_digits = 0;
    while (i < len && is_digit(s[i])) {
        i++;
        int_digits++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && is_digit(s[i])) {
            i++;
            frac_digits++;
        }
    }
    if (int_digits + frac_digits == 0)
        return false;
    const char *mant_end = s + i;

    /* Exponent, saturated far beyond any double's range so long digit strings are safe. */
    long exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool neg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            neg = s[i++] == '-';
        size_t start = i;
        while (i < len && is_digit(s[i])) {
            if (exp < 100000000L)
                exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (i == start)
            return false;
        if (neg)
            exp = -exp;
    }
    if (i != len)
        return false;

    /* Finite? Find the first non-zero digit: the value is in [10^E, 10^(E+1)). */
    const char *first = mant;
    long pos = 0;               /* index of `first` among the mantissa's digits */
    while (first < mant_end && (*first == '0' || *first == '.')) {
        if (*first == '0')
            pos++;
        first++;
    }
    if (first == mant_end)
        return true;            /* zero */
    long e10 = (long)int_digits - pos - 1 + exp;
    if (e10 < DBL_MAX_10_EXP)   /* < 10^308: always below DBL_MAX (~1.8e308) */
        return true;
    if (e10 > DBL_MAX_10_EXP)
        return false;
    return near_max_is_finite(first, mant_end, e10);
}

/* ------------------------------------------------------------------------------------ */
/* Constraints                                                                           */
/* ------------------------------------------------------------------------------------ */

/* Code points of valid UTF-8: every byte that is not a continuation byte starts one. */
static size_t count_code_points(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static bool in_enum(const lc_field_t *f, const char *val, size_t len)
{
    for (size_t i = 0; i < f->n_enum; i++)
        if (f->enum_lens[i] == len && memcmp(f->enum_values[i], val, len) == 0)
            return true;
    return false;
}

/*
 * Whole-value match (the regex is anchored); REG_STARTEND so NUL bytes are just bytes.
 * regexec gets a NUL-terminated copy even so: values are spans inside a message, and
 * although glibc honours REG_STARTEND, other readers of the argument (ASan's regexec
 * interceptor, for one) run strlen over it and would read past the message. `copy` is the
 * caller's scratch (a matcher's, reused), or NULL to use a temporary one.
 */
static bool pattern_matches(const regex_t *re, const char *val, size_t len, lc_buf_t *copy)
{
    lc_buf_t temp = {0};
    lc_buf_t *b = copy ? copy : &temp;
    lc_buf_reset(b);
    lc_buf_reserve(b, len + 1);
    if (len)
        memcpy(b->data, val, len);
    b->data[len] = '\0';
    regmatch_t range[1];
    range[0].rm_so = 0;
    range[0].rm_eo = (regoff_t)len;
    bool ok = regexec(re, b->data, 1, range, REG_STARTEND) == 0;
    lc_buf_free(&temp);
    return ok;
}

/* The type rule alone. Sets *int_out for an integer field that converts. */
static bool type_accepts(const lc_field_t *f, int jtype, const char *val, size_t len,
                         int64_t *int_out)
{
    switch (f->type) {
    case LC_FT_STRING:
        return jtype == LC_JT_STRING;
    case LC_FT_INTEGER:
        if (jtype == LC_JT_NUMBER)
            return lc_text_parse_int64(val, len, true, int_out);
        return jtype == LC_JT_STRING && lc_text_parse_int64(val, len, false, int_out);
    case LC_FT_NUMBER:
        if (jtype == LC_JT_NUMBER)
            return true;     /* any size or precision (CONTRACT §2.1) */
        return jtype == LC_JT_STRING && lc_schema_valid_decimal(val, len);
    case LC_FT_BOOLEAN:
        return jtype == LC_JT_TRUE || jtype == LC_JT_FALSE;
    case LC_FT_TIMESTAMP:
        if (jtype == LC_JT_NUMBER)
            return valid_timestamp_number(val, len);
        return jtype == LC_JT_STRING && lc_schema_valid_timestamp(val, len);
    }
    return false;
}

static inline int check_field_value(const lc_field_t *f, const regex_t *re, lc_buf_t *copy,
                                    int jtype, const char *val, size_t len, int64_t *int_out)
{
    if (!type_accepts(f, jtype, val, len, int_out))
        return LC_R_TYPE;
    if (f->type == LC_FT_STRING && lc_text_is_blank(val, len))
        return LC_R_EMPTY;
    /* Code points never outnumber bytes: only count when the byte length could exceed. */
    if (f->max_length >= 0 && len > (uint64_t)f->max_length &&
        count_code_points(val, len) > (uint64_t)f->max_length)
        return LC_R_LENGTH;
    if (f->n_enum > 0 && !in_enum(f, val, len))
        return LC_R_ENUM;
    if (re && !pattern_matches(re, val, len, copy))
        return LC_R_PATTERN;
    return -1;
}

int lc_schema_check_value(const lc_schema_t *s, size_t field, int jtype,
                          const char *val, size_t len, int64_t *int_out)
{
    const lc_field_t *f = &s->fields[field];
    return check_field_value(f, f->has_re ? &f->re : NULL, NULL, jtype, val, len, int_out);
}

int lc_schema_check_value_with(const lc_schema_t *s, lc_schema_matcher_t *m,
                               size_t field, int jtype, const char *val, size_t len,
                               int64_t *int_out)
{
    if (!m)
        return lc_schema_check_value(s, field, jtype, val, len, int_out);
    const lc_field_t *f = &s->fields[field];
    return check_field_value(f, m->has_re[field] ? &m->re[field] : NULL, &m->copy, jtype,
                             val, len, int_out);
}

/* ------------------------------------------------------------------------------------ */
/* Building the schema                                                                   */
/* ------------------------------------------------------------------------------------ */

/*
 * Rejects a pattern whose parentheses do not balance, so that ^(pattern)$ really anchors
 * the whole pattern. Bracket expressions ("[)]", "[]a]", "[[:alpha:]]") and backslash
 * escapes are skipped. A trailing lone backslash is refused too (it would escape our ')').
 */
static bool parens_balanced(const char *p)
{
    int depth = 0;
    for (size_t i = 0; p[i]; i++) {
        char c = p[i];
        if (c == '\\') {
            if (!p[i + 1])
                return false;
            i++;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (--depth < 0)
                return false;
        } else if (c == '[') {
            size_t j = i + 1;
            if (p[j] == '^')
                j++;
            if (p[j] == ']')
                j++;   /* a ']' first in the list is a literal */
            while (p[j] && p[j] != ']') {
                if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
                    char close = p[j + 1];
                    j += 2;
                    while (p[j] && !(p[j] == close && p[j + 1] == ']'))
                        j++;
                    if (!p[j])
                        return false;
                    j += 2;
                } else {
                    j++;
                }
            }
            if (!p[j])
                return false;   /* unterminated bracket: regcomp would refuse it anyway */
            i = j;
        }
    }
    return depth == 0;
}

static int compile_anchored(regex_t *re, const char *anchored, const char *field,
                            char *errstr, size_t errlen)
{
    int rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, re, msg, sizeof(msg));
        return lc_err(errstr, errlen, "field '%s': pattern does not compile: %s", field, msg);
    }
    return 0;
}

static void field_free(lc_field_t *f)
{
    free(f->name);
    for (size_t i = 0; i < f->n_enum; i++)
        free(f->enum_values ? f->enum_values[i] : NULL);
    free(f->enum_values);
    free(f->enum_lens);
    free(f->anchored_pattern);
    if (f->has_re)
        regfree(&f->re);
}

static void copy_enum(lc_field_t *f, const lc_field_def_t *d)
{
    if (d->n_enum == 0)
        return;
    f->enum_values = lc_xcalloc(d->n_enum, sizeof(*f->enum_values));
    f->enum_lens = lc_xcalloc(d->n_enum, sizeof(*f->enum_lens));
    for (size_t i = 0; i < d->n_enum; i++) {
        f->enum_lens[i] = strlen(d->enum_values[i]);
        f->enum_values[i] = lc_xmemdup(d->enum_values[i], f->enum_lens[i]);
    }
    f->n_enum = d->n_enum;
}

static int compile_pattern(lc_field_t *f, const lc_field_def_t *d, char *errstr, size_t errlen)
{
    if (!d->pattern)
        return 0;
    if (!parens_balanced(d->pattern))
        return lc_err(errstr, errlen,
                      "field '%s': pattern has unbalanced parentheses or brackets "
                      "(write \\( or \\) for a literal parenthesis)", d->name);
    size_t n = strlen(d->pattern);
    f->anchored_pattern = lc_xmalloc(n + 5);
    memcpy(f->anchored_pattern, "^(", 2);
    memcpy(f->anchored_pattern + 2, d->pattern, n);
    memcpy(f->anchored_pattern + 2 + n, ")$", 3);
    if (compile_anchored(&f->re, f->anchored_pattern, d->name, errstr, errlen) < 0)
        return -1;
    f->has_re = true;
    return 0;
}

static int field_init(lc_field_t *f, const lc_field_def_t *d, char *errstr, size_t errlen)
{
    if (!d->name || !d->name[0])
        return lc_err(errstr, errlen, "a schema field has an empty name");
    f->name_len = strlen(d->name);
    f->name = lc_xmemdup(d->name, f->name_len);
    f->type = d->type;
    f->required = d->required;
    f->max_length = d->max_length < 0 ? -1 : d->max_length;
    copy_enum(f, d);
    return compile_pattern(f, d, errstr, errlen);
}

static void build_reason_names(lc_schema_t *s)
{
    s->nreasons = N_FIXED_REASONS + N_FIELD_REASONS * s->n;
    s->reason_names = lc_xcalloc(s->nreasons, sizeof(*s->reason_names));
    for (size_t i = 0; i < N_FIXED_REASONS; i++)
        s->reason_names[i] = (char *)fixed_reasons[i].name;
    for (size_t f = 0; f < s->n; f++) {
        for (size_t k = 0; k < N_FIELD_REASONS; k++) {
            size_t plen = strlen(field_reason_prefix[k]);
            char *name = lc_xmalloc(plen + 1 + s->fields[f].name_len + 1);
            memcpy(name, field_reason_prefix[k], plen);
            name[plen] = ':';
            memcpy(name + plen + 1, s->fields[f].name, s->fields[f].name_len + 1);
            s->reason_names[N_FIXED_REASONS + N_FIELD_REASONS * f + k] = name;
        }
    }
}

lc_schema_t *lc_schema_new(const lc_field_def_t *defs, size_t n, size_t *bad_field,
                           char *errstr, size_t errlen)
{
    lc_schema_t *s = lc_xcalloc(1, sizeof(*s));
    s->fields = lc_xcalloc(n, sizeof(*s->fields));
    for (size_t i = 0; i < n; i++) {
        s->n = i + 1;   /* so lc_schema_free releases this field if it fails half-built */
        if (bad_field)
            *bad_field = i;
        if (field_init(&s->fields[i], &defs[i], errstr, errlen) < 0)
            goto fail;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->fields[j].name, s->fields[i].name) == 0) {
                lc_err(errstr, errlen, "field '%s' is defined twice (first on line %d)",
                       defs[i].name, defs[j].line);
                goto fail;
            }
        }
    }
    s->n = n;
    build_reason_names(s);
    return s;

fail:
    lc_schema_free(s);
    return NULL;
}

void lc_schema_free(lc_schema_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        field_free(&s->fields[i]);
    free(s->fields);
    if (s->reason_names)
        for (size_t i = N_FIXED_REASONS; i < s->nreasons; i++)
            free(s->reason_names[i]);
    free(s->reason_names);
    free(s);
}

/* ------------------------------------------------------------------------------------ */
/* Per-thread matchers                                                                   */
/* ------------------------------------------------------------------------------------ */

lc_schema_matcher_t *lc_schema_matcher_new(const lc_schema_t *s)
{
    lc_schema_matcher_t *m = lc_xcalloc(1, sizeof(*m));
    m->re = lc_xcalloc(s->n, sizeof(*m->re));
    m->has_re = lc_xcalloc(s->n, sizeof(*m->has_re));
    m->n = s->n;
    for (size_t i = 0; i < s->n; i++) {
        const lc_field_t *f = &s->fields[i];
        if (!f->anchored_pattern)
            continue;
        /* lc_schema_new compiled this pattern already: only memory can make it fail now. */
        if (regcomp(&m->re[i], f->anchored_pattern, REG_EXTENDED | REG_NOSUB) != 0)
            lc_oom();
        m->has_re[i] = true;
    }
    return m;
}

void lc_schema_matcher_free(lc_schema_matcher_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        if (m->has_re && m->has_re[i])
            regfree(&m->re[i]);
    free(m->re);
    free(m->has_re);
    lc_buf_free(&m->copy);
    free(m);
}

/* ------------------------------------------------------------------------------------ */
/* Accessors, type names, reason ids                                                     */
/* ------------------------------------------------------------------------------------ */

size_t lc_schema_nfields(const lc_schema_t *s)
{
    return s->n;
}

const char *lc_schema_field_name(const lc_schema_t *s, size_t i)
{
    return i < s->n ? s->fields[i].name : NULL;
}

lc_field_type_t lc_schema_field_type(const lc_schema_t *s, size_t i)
{
    return s->fields[i].type;
}

bool lc_schema_field_required(const lc_schema_t *s, size_t i)
{
    return s->fields[i].required;
}

bool lc_schema_field_plain_string(const lc_schema_t *s, size_t i)
{
    const lc_field_t *f = &s->fields[i];
    return f->type == LC_FT_STRING && f->max_length < 0 && f->n_enum == 0 && !f->has_re;
}

int lc_schema_field_index(const lc_schema_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static const char *const type_names[] = {
    [LC_FT_STRING] = "string",
    [LC_FT_INTEGER] = "integer",
    [LC_FT_NUMBER] = "number",
    [LC_FT_BOOLEAN] = "boolean",
    [LC_FT_TIMESTAMP] = "timestamp",
};

const char *lc_schema_type_name(lc_field_type_t t)
{
    return (size_t)t < LC_ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

int lc_schema_type_parse(const char *name, lc_field_type_t *out)
{
    for (size_t i = 0; i < LC_ARRAY_SIZE(type_names); i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (lc_field_type_t)i;
            return 0;
        }
    }
    return -1;
}

size_t lc_schema_nreasons(const lc_schema_t *s)
{
    return s->nreasons;
}

/* For a field reason with field >= nfields, or an unknown kind, returns SIZE_MAX. */
size_t lc_schema_reason_id(const lc_schema_t *s, lc_reason_kind_t kind, size_t field)
{
    if (kind >= LC_R_MISSING && kind <= LC_R_PATTERN) {
        if (field >= s->n)
            return SIZE_MAX;
        return N_FIXED_REASONS + N_FIELD_REASONS * field + (size_t)(kind - LC_R_MISSING);
    }
    for (size_t i = 0; i < N_FIXED_REASONS; i++)
        if (fixed_reasons[i].kind == kind)
            return i;
    return SIZE_MAX;
}

const char *lc_schema_reason_name(const lc_schema_t *s, size_t reason_id)
{
    return reason_id < s->nreasons ? s->reason_names[reason_id] : NULL;
}
