/*
 * test_json_diff.c - differential test of the JSON scanner (lc_json.h) against jansson 2.14.
 *
 * Inputs: every file of tests/fuzz/corpus/ (or $LC_JSON_CORPUS), then RANDOM_RECORDS
 * pseudo-random records from a fixed seed: default-shaped records with random values, extra
 * members, nesting, escapes, unicode, numbers and duplicate names, half of them then mutated
 * byte-wise (bit flips, inserts, deletes, truncation).
 *
 * Each input goes to lc_json_scan and to
 *     json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &err)
 * and both must agree on validity, on object-ness and on duplicate names; for valid objects
 * on every top-level member name, value type and value (strings byte for byte after
 * decoding, integers by value, every value also by re-parsing its span with jansson).
 * Each input also goes to a scanner from lc_json_scanner_general, and the two must agree
 * exactly (result, members, spans): the short path for top-level objects against the
 * general state machine.
 *
 * Documented differences, counted and skipped (CONTRACT §2.1 decides, jansson does not):
 *  - numbers jansson refuses for overflow (json_error_numeric_overflow: integers outside
 *    64 bits, reals beyond double) are valid JSON here;
 *  - a member name containing "\u0000" is valid JSON here; jansson refuses it even with
 *    JSON_ALLOW_NUL (json_error_null_byte_in_key);
 *  - nesting deeper than LC_JSON_MAX_DEPTH (512) is invalid here; jansson allows 2048;
 *  - a NUL byte directly after a number or true/false/null is invalid here (RFC 8259); jansson
 *    2.14 skips it silently ("[4\0]" and "{\"a\":1\0}" load): its one-character unget
 *    buffer is NUL-terminated, so an ungot NUL reads as "buffer empty". A NUL in a document
 *    jansson accepts can only be that (raw NUL inside strings is refused by both).
 * jansson's JSON_REJECT_DUPLICATES checks objects at every depth, inside arrays too, and
 * compares decoded names (test_reference_rejects_duplicates_everywhere pins this down).
 * It stops at the first duplicate, so where a later syntax error follows we ask it again
 * without JSON_REJECT_DUPLICATES: the syntax error wins here (lc_json.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_common.h"
#include "lc_json.h"

/* Longer runs: -DRANDOM_RECORDS=10000000 -DRANDOM_SEED=...; the suite keeps the defaults. */
#ifndef RANDOM_RECORDS
#define RANDOM_RECORDS 100000
#endif
#ifndef RANDOM_SEED
#define RANDOM_SEED 0x6c6f67636c617373ULL
#endif
#define JANSSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

typedef struct diff_stats {
    unsigned long corpus, random;        /* inputs compared */
    unsigned long valid_objects, valid_other, duplicates, invalid;
    unsigned long skipped_big_number, skipped_nul_in_name, skipped_depth, skipped_nul_after_token;
} diff_stats_t;

typedef struct diff_ctx {
    lc_json_scanner_t *scanner;
    lc_json_scanner_t *general;          /* lc_json_scanner_general: the short path's reference */
    diff_stats_t stats;
    char *decoded;                       /* scratch for decoded names and strings */
    size_t decoded_cap;
} diff_ctx_t;

/* ---- reporting ------------------------------------------------------------------------- */

/* A printable excerpt of an input for failure messages (C-style escapes, cut at ~200). */
static const char *printable(const char *data, size_t len)
{
    static char out[1024];
    size_t n = 0;
    for (size_t i = 0; i < len && n < 800; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, sizeof(out) - n, "\\x%02x", c);
    }
    snprintf(out + n, sizeof(out) - n, "%s (%zu bytes)", len > 200 ? "..." : "", len);
    return out;
}

#define DIFF_FAIL(origin, data, len, ...)                                                  \
    do {                                                                                   \
        char why_[256];                                                                    \
        snprintf(why_, sizeof(why_), __VA_ARGS__);                                         \
        fail_msg("%s: %s\n  input: %s", origin, why_, printable(data, len));               \
    } while (0)

/* ---- helpers --------------------------------------------------------------------------- */

/* Deepest nesting of arrays and objects outside strings (input assumed valid JSON). */
static size_t nesting_depth(const char *data, size_t len)
{
    size_t depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

static const char *decode(diff_ctx_t *c, const char *raw, size_t len, size_t *out_len)
{
    if (len + 1 > c->decoded_cap) {
        c->decoded_cap = len + 1;
        c->decoded = realloc(c->decoded, c->decoded_cap);
        assert_non_null(c->decoded);
    }
    *out_len = lc_json_unescape(raw, len, c->decoded, c->decoded_cap);
    return c->decoded;
}

static lc_json_type_t jansson_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return LC_JT_OBJECT;
    case JSON_ARRAY: return LC_JT_ARRAY;
    case JSON_STRING: return LC_JT_STRING;
    case JSON_INTEGER:
    case JSON_REAL: return LC_JT_NUMBER;
    case JSON_TRUE: return LC_JT_TRUE;
    case JSON_FALSE: return LC_JT_FALSE;
    case JSON_NULL: return LC_JT_NULL;
    }
    return 0;
}

/* ---- comparison ------------------------------------------------------------------------ */

static void compare_member(diff_ctx_t *c, const char *origin, const char *data, size_t len,
                           const lc_json_member_t *m, const char *jkey, json_t *jval)
{
    size_t n;
    const char *name = decode(c, m->key, m->key_len, &n);
    if (n != strlen(jkey) || memcmp(name, jkey, n) != 0)
        DIFF_FAIL(origin, data, len, "member name differs: jansson '%s'", jkey);
    if (!lc_json_key_equals(m->key, m->key_len, m->key_escaped, jkey, strlen(jkey)))
        DIFF_FAIL(origin, data, len, "lc_json_key_equals refuses '%s'", jkey);
    if (m->type != jansson_type(jval))
        DIFF_FAIL(origin, data, len, "member '%s': type %d, jansson %d", jkey, m->type,
                  jansson_type(jval));

    if (json_is_string(jval)) {
        const char *s = decode(c, m->val, m->val_len, &n);
        if (n != json_string_length(jval) || memcmp(s, json_string_value(jval), n) != 0)
            DIFF_FAIL(origin, data, len, "member '%s': decoded string differs", jkey);
    } else if (json_is_integer(jval)) {
        char digits[64];
        if (m->val_len >= sizeof(digits))
            DIFF_FAIL(origin, data, len, "member '%s': integer span too long", jkey);
        memcpy(digits, m->val, m->val_len);
        digits[m->val_len] = '\0';
        errno = 0;
        long long v = strtoll(digits, NULL, 10);
        if (errno || v != json_integer_value(jval))
            DIFF_FAIL(origin, data, len, "member '%s': integer %s, jansson %lld", jkey, digits,
                      (long long)json_integer_value(jval));
    }

    /* The span itself must be exactly the value: re-parse it (strings with their quotes). */
    const char *span = m->val - (m->type == LC_JT_STRING);
    size_t span_len = m->val_len + 2 * (m->type == LC_JT_STRING);
    json_error_t err;
    json_t *again = json_loadb(span, span_len, JANSSON_FLAGS, &err);
    if (!again || !json_equal(again, jval))
        DIFF_FAIL(origin, data, len, "member '%s': span does not re-parse to the value (%s)",
                  jkey, again ? "differs" : err.text);
    json_decref(again);
}

static void compare_valid_object(diff_ctx_t *c, const char *origin, const char *data,
                                 size_t len, const lc_json_member_t *members, size_t nmembers,
                                 json_t *root)
{
    if (nmembers != json_object_size(root))
        DIFF_FAIL(origin, data, len, "%zu members, jansson %zu", nmembers,
                  json_object_size(root));
    size_t i = 0;
    for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it), i++)
        compare_member(c, origin, data, len, &members[i], json_object_iter_key(it),
                       json_object_iter_value(it));
}

/* jansson's verdict on a document, asked with and (if it found a duplicate) without
 * JSON_REJECT_DUPLICATES. */
typedef enum reference_verdict {
    REF_VALID,
    REF_DUPLICATE,          /* otherwise valid, some object names a member twice */
    REF_INVALID,
    REF_SKIP_BIG_NUMBER,
    REF_SKIP_NUL_IN_NAME,
} reference_verdict_t;

static reference_verdict_t verdict_of_error(const json_error_t *err)
{
    switch (json_error_code(err)) {
    case json_error_numeric_overflow: return REF_SKIP_BIG_NUMBER;
    case json_error_null_byte_in_key: return REF_SKIP_NUL_IN_NAME;
    default: return REF_INVALID;
    }
}

static reference_verdict_t reference_verdict(const char *data, size_t len, json_t **root,
                                             bool *bad_utf8)
{
    json_error_t err;
    *root = json_loadb(data, len, JANSSON_FLAGS, &err);
    *bad_utf8 = !*root && json_error_code(&err) == json_error_invalid_utf8;
    if (*root)
        return REF_VALID;
    if (json_error_code(&err) != json_error_duplicate_key)
        return verdict_of_error(&err);
    *root = json_loadb(data, len, JANSSON_FLAGS & ~JSON_REJECT_DUPLICATES, &err);
    *bad_utf8 = !*root && json_error_code(&err) == json_error_invalid_utf8;
    return *root ? REF_DUPLICATE : verdict_of_error(&err);
}

/*
 * The documented differences (see the top of this file): counts the input and returns true
 * when it is one of them, after checking our side of it.
 */
static bool skip_documented_difference(diff_ctx_t *c, const char *origin, const char *data,
                                       size_t len, reference_verdict_t ref, lc_json_result_t got)
{
    if (ref == REF_SKIP_BIG_NUMBER) {
        c->stats.skipped_big_number++;
        return true;
    }
    if (ref == REF_SKIP_NUL_IN_NAME) {
        c->stats.skipped_nul_in_name++;
        return true;
    }
    if (ref == REF_INVALID)
        return false;
    if (memchr(data, '\0', len)) {
        if (got != LC_JSON_INVALID)
            DIFF_FAIL(origin, data, len, "NUL outside strings but result %d", got);
        c->stats.skipped_nul_after_token++;
        return true;
    }
    if (nesting_depth(data, len) > LC_JSON_MAX_DEPTH) {
        if (got != LC_JSON_INVALID)
            DIFF_FAIL(origin, data, len, "deeper than %d but result %d", LC_JSON_MAX_DEPTH, got);
        c->stats.skipped_depth++;
        return true;
    }
    return false;
}

static lc_json_result_t expected_result(reference_verdict_t ref, const json_t *root)
{
    if (ref == REF_INVALID)
        return LC_JSON_INVALID;
    if (!json_is_object(root))
        return LC_JSON_NOT_OBJECT;       /* wins over duplicates (lc_json.h) */
    return ref == REF_DUPLICATE ? LC_JSON_DUPLICATE_KEY : LC_JSON_OK;
}

static void count_outcome(diff_stats_t *st, lc_json_result_t result)
{
    switch (result) {
    case LC_JSON_OK: st->valid_objects++; break;
    case LC_JSON_NOT_OBJECT: st->valid_other++; break;
    case LC_JSON_DUPLICATE_KEY: st->duplicates++; break;
    default: st->invalid++; break;
    }
}

/* The scanner's short path for top-level objects against the general state machine: the
 * same result, UTF-8 verdict, object bounds and members, to the byte. */
static void compare_with_general(diff_ctx_t *c, const char *origin, const char *data, size_t len,
                                 lc_json_result_t got, bool utf8_ok,
                                 const lc_json_member_t *members, size_t nmembers,
                                 const char *obj_start, const char *obj_end)
{
    bool g_utf8;
    const lc_json_member_t *g_members;
    size_t g_n;
    const char *g_start, *g_end;
    lc_json_result_t want = lc_json_scan(c->general, data, len, &g_utf8, &g_members, &g_n,
                                         &g_start, &g_end);
    if (got != want || utf8_ok != g_utf8)
        DIFF_FAIL(origin, data, len, "short path: result %d utf8 %d, general: %d utf8 %d", got,
                  utf8_ok, want, g_utf8);
    if (nmembers != g_n || obj_start != g_start || obj_end != g_end)
        DIFF_FAIL(origin, data, len, "short path: %zu members, general %zu (or other bounds)",
                  nmembers, g_n);
    for (size_t i = 0; i < nmembers; i++) {
        const lc_json_member_t *a = &members[i], *b = &g_members[i];
        if (a->key != b->key || a->key_len != b->key_len || a->key_escaped != b->key_escaped ||
            a->type != b->type || a->val_escaped != b->val_escaped || a->val != b->val ||
            a->val_len != b->val_len || a->name_fp != b->name_fp)
            DIFF_FAIL(origin, data, len, "member %zu differs between short path and general", i);
        if (a->name_fp != lc_json_name_fp(a->key, a->key_len))
            DIFF_FAIL(origin, data, len, "member %zu: name_fp is not its name's", i);
    }
}

static void compare_scan(diff_ctx_t *c, const char *origin, const char *data, size_t len)
{
    bool utf8_ok, ref_bad_utf8;
    const lc_json_member_t *members;
    size_t nmembers;
    const char *obj_start, *obj_end;
    lc_json_result_t got = lc_json_scan(c->scanner, data, len, &utf8_ok, &members, &nmembers,
                                        &obj_start, &obj_end);
    compare_with_general(c, origin, data, len, got, utf8_ok, members, nmembers, obj_start,
                         obj_end);
    json_t *root;
    reference_verdict_t ref = reference_verdict(data, len, &root, &ref_bad_utf8);

    if (ref_bad_utf8 && utf8_ok)
        DIFF_FAIL(origin, data, len, "jansson finds invalid UTF-8, utf8_ok is true");
    if (!utf8_ok && got != LC_JSON_INVALID)
        DIFF_FAIL(origin, data, len, "not UTF-8 but result %d", got);
    if (!skip_documented_difference(c, origin, data, len, ref, got)) {
        lc_json_result_t want = expected_result(ref, root);
        if (got != want)
            DIFF_FAIL(origin, data, len, "result %d, jansson says %d", got, want);
        if (want == LC_JSON_OK) {
            if (!utf8_ok || *obj_start != '{' || obj_end[-1] != '}')
                DIFF_FAIL(origin, data, len, "utf8_ok false or bad object bounds");
            compare_valid_object(c, origin, data, len, members, nmembers, root);
        }
        count_outcome(&c->stats, want);
    }
    json_decref(root);
}

/* Compares the scanner's and jansson's view of one input; fails the test on a difference. */
static void compare_one(diff_ctx_t *c, const char *origin, const char *input, size_t len)
{
    /* The scanner reads an exact-size copy, so that ASan catches a read past the end. */
    char *data = malloc(len ? len : 1);
    assert_non_null(data);
    memcpy(data, input, len);
    compare_scan(c, origin, data, len);
    free(data);
}

/* ---- random records -------------------------------------------------------------------- */

typedef struct rng {
    uint64_t state;
} rng_t;

static uint64_t rng_next(rng_t *r)        /* splitmix64 */
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static size_t rng_below(rng_t *r, size_t n) { return n ? (size_t)(rng_next(r) % n) : 0; }
static bool rng_percent(rng_t *r, unsigned pct) { return rng_below(r, 100) < pct; }

static const char *rng_pick(rng_t *r, const char *const *list, size_t n)
{
    return list[rng_below(r, n)];
}

#define PICK(r, list) rng_pick(r, list, LC_ARRAY_SIZE(list))

static void put_utf8(lc_buf_t *b, uint32_t cp)
{
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | cp >> 18);
        out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    lc_buf_append(b, out, n);
}

/* A random character of string contents: plain ASCII mostly, else an escape, a multi-byte
 * character, or (rarely) something invalid. */
static void put_string_char(rng_t *r, lc_buf_t *b)
{
    static const char *const escapes[] = {
        "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\u001f",
        "\\u00e9", "\\u20AC", "\\uFFFF", "\\ud83d\\ude00", "\\uDBFF\\uDFFF", "\\u0041",
    };
    static const char *const broken[] = {
        "\\uD800", "\\uDC00", "\\ud800\\u0041", "\\u12G4", "\\x41", "\\'", "\\U0041", "\t",
        "\x01", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3", "\xe2\x82", "\xff",
        "\x80", "\xf0\x9f\x98", "\xe0\x80\xaf", "\xf0\x8f\xbf\xbf", "\xc1\xbf",
    };
    size_t roll = rng_below(r, 100);
    if (roll < 70) {
        char c = (char)(0x20 + rng_below(r, 0x5F));
        lc_buf_putc(b, c == '"' || c == '\\' ? 'q' : c);
    } else if (roll < 82) {
        lc_buf_puts(b, PICK(r, escapes));
    } else if (roll < 86) {
        lc_buf_printf(b, "\\u%04x", (unsigned)rng_below(r, 0x10000));  /* any, even lone */
    } else if (roll < 98) {
        static const uint32_t ranges[][2] = {
            { 0x80, 0x7FF }, { 0x800, 0xD7FF }, { 0xE000, 0xFFFF }, { 0x10000, 0x10FFFF },
        };
        size_t k = rng_below(r, 4);
        put_utf8(b, ranges[k][0] + (uint32_t)rng_below(r, ranges[k][1] - ranges[k][0] + 1));
    } else {
        lc_buf_puts(b, PICK(r, broken));
    }
}

static void put_random_string(rng_t *r, lc_buf_t *b, size_t max_chars)
{
    lc_buf_putc(b, '"');
    for (size_t i = rng_below(r, max_chars + 1); i > 0; i--)
        put_string_char(r, b);
    lc_buf_putc(b, '"');
}

static void put_digits(rng_t *r, lc_buf_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lc_buf_putc(b, (char)('0' + rng_below(r, 10)));
}

static void put_random_number(rng_t *r, lc_buf_t *b)
{
    static const char *const special[] = {
        "0", "-0", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "-9223372036854775809", "1e308", "1e309", "-1e400", "1e-400", "2.5E+3", "0.0",
        "01", "-", "1.", ".5", "+1", "1e", "NaN", "-Infinity", "0x1F", "1.5e3.2",
    };
    size_t roll = rng_below(r, 100);
    if (roll < 10) {
        lc_buf_puts(b, PICK(r, special));
        return;
    }
    if (rng_percent(r, 20))
        lc_buf_putc(b, '-');
    if (roll < 20)
        put_digits(r, b, 20 + rng_below(r, 60));        /* beyond 64 bits */
    else
        lc_buf_printf(b, "%zu", rng_below(r, roll < 60 ? 1000 : 2000000000));
    if (rng_percent(r, 25)) {
        lc_buf_putc(b, '.');
        put_digits(r, b, 1 + rng_below(r, roll < 25 ? 40 : 6));
    }
    if (rng_percent(r, 15))
        lc_buf_printf(b, "%c%s%zu", rng_percent(r, 50) ? 'e' : 'E',
                      PICK(r, ((const char *const[]){ "", "+", "-" })), rng_below(r, 500));
}

static void put_ws(rng_t *r, lc_buf_t *b)
{
    static const char *const ws[] = { " ", "\n", "\t", "\r\n", "  " };
    if (rng_percent(r, 8))
        lc_buf_puts(b, PICK(r, ws));
}

/* A member name; with escape set, some characters are written as \u00XX (same name). */
static void put_name(rng_t *r, lc_buf_t *b, const char *name, bool escape)
{
    lc_buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (escape && rng_percent(r, 40))
            lc_buf_printf(b, "\\u%04x", (unsigned char)*p);
        else
            lc_buf_putc(b, *p);
    }
    lc_buf_putc(b, '"');
}

static void put_random_value(rng_t *r, lc_buf_t *b, int depth);

static void put_random_object(rng_t *r, lc_buf_t *b, int depth)
{
    static const char *const names[] = { "a", "b", "c", "id", "k", "x", "\\u0061", "" };
    size_t n = rng_below(r, depth > 2 ? 3 : 6);
    lc_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            lc_buf_putc(b, ',');
        put_ws(r, b);
        if (rng_percent(r, 60))
            lc_buf_printf(b, "\"%s\"", PICK(r, names));   /* names repeat now and then */
        else
            put_random_string(r, b, 6);
        put_ws(r, b);
        lc_buf_putc(b, ':');
        put_random_value(r, b, depth + 1);
    }
    lc_buf_putc(b, '}');
}

static void put_random_array(rng_t *r, lc_buf_t *b, int depth)
{
    size_t n = rng_below(r, depth > 2 ? 3 : 5);
    lc_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            lc_buf_putc(b, ',');
        put_ws(r, b);
        put_random_value(r, b, depth + 1);
    }
    lc_buf_putc(b, ']');
}

/* Nesting of LC_JSON_MAX_DEPTH give or take a few levels, counting `depth` around it. */
static void put_deep_nesting(rng_t *r, lc_buf_t *b, int depth)
{
    int levels = LC_JSON_MAX_DEPTH - depth - 4 + (int)rng_below(r, 8);
    for (int i = 0; i < levels; i++)
        lc_buf_puts(b, i % 2 ? "{\"d\":" : "[");
    lc_buf_puts(b, "0");
    for (int i = levels - 1; i >= 0; i--)
        lc_buf_puts(b, i % 2 ? "}" : "]");
}

static void put_random_value(rng_t *r, lc_buf_t *b, int depth)
{
    put_ws(r, b);
    size_t roll = rng_below(r, 100);
    if (roll < 30)
        put_random_string(r, b, 12);
    else if (roll < 55)
        put_random_number(r, b);
    else if (roll < 62)
        lc_buf_puts(b, PICK(r, ((const char *const[]){ "true", "false", "null" })));
    else if (roll < 80 && depth < 6)
        put_random_object(r, b, depth);
    else if (depth < 6)
        put_random_array(r, b, depth);
    else
        lc_buf_puts(b, "null");
    put_ws(r, b);
}

static void put_hex(rng_t *r, lc_buf_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lc_buf_putc(b, "0123456789abcdef"[rng_below(r, 16)]);
}

/* The value of one default field, as the original generator sent it, or something else. */
static void put_default_field_value(rng_t *r, lc_buf_t *b, size_t field)
{
    static const char *const event_types[] = { "other", "login", "purchase", "logout" };
    static const char *const devices[] = { "ANDROID", "IOS", "WEB", "android", " IOS " };
    static const char *const countries[] = { "FR", "US", "DE", "JP", "" };
    if (rng_percent(r, 8)) {
        put_random_value(r, b, 1);
        return;
    }
    switch (field) {
    case 0: lc_buf_putc(b, '"'); put_hex(r, b, 32); lc_buf_putc(b, '"'); break;
    case 1: lc_buf_printf(b, rng_percent(r, 70) ? "\"%zu\"" : "%zu", rng_below(r, 5000)); break;
    case 2: lc_buf_printf(b, "\"%s\"", PICK(r, event_types)); break;
    case 3: lc_buf_printf(b, "\"%s\"", PICK(r, devices)); break;
    case 4: lc_buf_printf(b, "\"%s\"", PICK(r, countries)); break;
    default:
        lc_buf_printf(b, rng_percent(r, 70) ? "\"%zu\"" : "%zu",
                      1600000000 + rng_below(r, 100000000));
    }
}

/* A default-shaped record: the six default fields in order, extra members between them,
 * now and then a repeated name (maybe escaped), deep nesting, or a top level that is no
 * object at all. */
static void put_random_record(rng_t *r, lc_buf_t *b)
{
    static const char *const fields[] = { "event_id", "account_id", "event_type", "device",
                                          "location_country", "event_timestamp" };
    if (rng_percent(r, 3)) {
        put_random_value(r, b, 0);
        return;
    }
    bool deep = rng_percent(r, 1), repeat = rng_percent(r, 8);
    size_t repeat_at = rng_below(r, 6), deep_at = rng_below(r, 6);
    put_ws(r, b);
    lc_buf_putc(b, '{');
    for (size_t i = 0; i < 6; i++) {
        if (i)
            lc_buf_putc(b, ',');
        put_ws(r, b);
        put_name(r, b, fields[i], rng_percent(r, 3));
        lc_buf_putc(b, ':');
        put_ws(r, b);
        put_default_field_value(r, b, i);
        if (rng_percent(r, 12)) {
            lc_buf_putc(b, ',');
            put_random_string(r, b, 8);
            lc_buf_putc(b, ':');
            put_random_value(r, b, 1);
        }
        if (deep && i == deep_at) {
            lc_buf_puts(b, ",\"deep\":");
            put_deep_nesting(r, b, 1);
        }
        if (repeat && i == repeat_at) {
            lc_buf_putc(b, ',');
            put_name(r, b, fields[rng_below(r, i + 1)], rng_percent(r, 50));
            lc_buf_puts(b, ":\"again\"");
        }
    }
    put_ws(r, b);
    lc_buf_putc(b, '}');
    put_ws(r, b);
}

/* One byte-level mutation: flip, overwrite, insert, delete, truncate or repeat a slice. */
static void mutate(rng_t *r, lc_buf_t *b)
{
    static const char interesting[] = "{}[]\",:\\ 0123456789eE.-+tfnu/\t\n\r\x7f"
                                      "\x80\xbf\xc0\xc3\xe2\xed\xf0\xf4\xf5\xff";
    if (b->len == 0) {
        lc_buf_putc(b, interesting[rng_below(r, sizeof(interesting) - 1)]);
        return;
    }
    size_t at = rng_below(r, b->len);
    char byte = rng_percent(r, 70) ? interesting[rng_below(r, sizeof(interesting))]
                                   : (char)rng_below(r, 256);   /* sizeof: NUL included */
    switch (rng_below(r, 6)) {
    case 0:
        b->data[at] ^= (char)(1u << rng_below(r, 8));
        break;
    case 1:
        b->data[at] = byte;
        break;
    case 2:
        lc_buf_putc(b, 0);
        memmove(b->data + at + 1, b->data + at, b->len - 1 - at);
        b->data[at] = byte;
        break;
    case 3:
        memmove(b->data + at, b->data + at + 1, b->len - at - 1);
        b->len--;
        break;
    case 4:
        b->len = at;
        break;
    default: {
        size_t n = 1 + rng_below(r, 16);
        if (n > b->len - at)
            n = b->len - at;
        lc_buf_reserve(b, n);
        memmove(b->data + at + n, b->data + at, b->len - at);
        b->len += n;
    }
    }
}

/* ---- the tests ------------------------------------------------------------------------- */

static void print_summary(const diff_stats_t *st)
{
    printf("json diff vs jansson %s: %lu inputs compared (%lu corpus, %lu random): "
           "%lu valid (%lu objects, %lu other), %lu duplicate-name, %lu invalid; "
           "exceptions skipped: %lu big numbers, %lu NUL in name, %lu deeper than %d, "
           "%lu NUL after a token\n",
           JANSSON_VERSION, st->corpus + st->random, st->corpus, st->random,
           st->valid_objects + st->valid_other, st->valid_objects, st->valid_other,
           st->duplicates, st->invalid, st->skipped_big_number, st->skipped_nul_in_name,
           st->skipped_depth, LC_JSON_MAX_DEPTH, st->skipped_nul_after_token);
}

/* One context for the whole group, so that the summary covers corpus and random inputs. */
static int group_setup(void **state)
{
    diff_ctx_t *c = calloc(1, sizeof(*c));
    if (!c)
        return -1;
    c->scanner = lc_json_scanner_new();
    c->general = lc_json_scanner_general();
    *state = c;
    return c->scanner && c->general ? 0 : -1;
}

static int group_teardown(void **state)
{
    diff_ctx_t *c = *state;
    print_summary(&c->stats);
    lc_json_scanner_free(c->scanner);
    lc_json_scanner_free(c->general);
    free(c->decoded);
    free(c);
    return 0;
}

static bool read_file(const char *path, lc_buf_t *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char chunk[4096];
    size_t n;
    lc_buf_reset(b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        lc_buf_append(b, chunk, n);
    bool ok = !ferror(f);
    fclose(f);
    return ok;
}

static void test_corpus_agrees(void **state)
{
    diff_ctx_t *c = *state;
    const char *dir = getenv("LC_JSON_CORPUS") ? getenv("LC_JSON_CORPUS") : "tests/fuzz/corpus";
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open corpus %s (run from the repository root)", dir);
    lc_buf_t buf = { 0 };
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (!read_file(path, &buf))
            fail_msg("cannot read %s", path);
        compare_one(c, path, buf.data ? buf.data : "", buf.len);
        c->stats.corpus++;
    }
    closedir(d);
    lc_buf_free(&buf);
    assert_true(c->stats.corpus >= 20);
}

static void test_random_records_agree(void **state)
{
    diff_ctx_t *c = *state;
    rng_t r = { RANDOM_SEED };
    lc_buf_t buf = { 0 };
    for (unsigned long i = 0; i < RANDOM_RECORDS; i++) {
        lc_buf_reset(&buf);
        put_random_record(&r, &buf);
        if (rng_percent(&r, 50))
            for (size_t k = 1 + rng_below(&r, 3); k > 0; k--)
                mutate(&r, &buf);
        char origin[48];
        snprintf(origin, sizeof(origin), "random record #%lu", i);
        compare_one(c, origin, buf.data, buf.len);
        c->stats.random++;
    }
    lc_buf_free(&buf);
    /* the generator must keep exercising every outcome */
    assert_true(c->stats.valid_objects > RANDOM_RECORDS / 5);
    assert_true(c->stats.invalid > RANDOM_RECORDS / 5);
    assert_true(c->stats.duplicates > RANDOM_RECORDS / 100);
    assert_true(c->stats.valid_other > 100);
    assert_true(c->stats.skipped_big_number > 100);
    assert_true(c->stats.skipped_depth > 10);
}

/* What the comparison above relies on, pinned down: jansson 2.14 finds duplicate names at
 * every depth and inside arrays, after decoding; it refuses NUL in names and big numbers. */
static void test_reference_rejects_duplicates_everywhere(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        int code;                        /* json_error_code, or -1: valid */
    } cases[] = {
        { "{\"a\":1,\"a\":2}", json_error_duplicate_key },
        { "{\"x\":{\"y\":{\"a\":1,\"a\":2}}}", json_error_duplicate_key },
        { "{\"x\":[0,{\"a\":1,\"a\":2}]}", json_error_duplicate_key },
        { "[{\"a\":1,\"a\":2}]", json_error_duplicate_key },
        { "{\"a\":1,\"\\u0061\":2}", json_error_duplicate_key },
        { "{\"x\":{\"a\":1},\"y\":{\"a\":1}}", -1 },
        { "{\"a\\u0000\":1}", json_error_null_byte_in_key },
        { "{\"a\":\"\\u0000\"}", -1 },
        { "{\"n\":123456789012345678901234567890}", json_error_numeric_overflow },
        { "{\"n\":1e400}", json_error_numeric_overflow },
        { "{\"s\":\"\\ud800\"}", json_error_invalid_syntax },
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(cases); i++) {
        json_error_t err;
        json_t *j = json_loads(cases[i].doc, JANSSON_FLAGS, &err);
        int code = j ? -1 : (int)json_error_code(&err);
        if (code != cases[i].code)
            fail_msg("jansson on %s: code %d, expected %d (%s)", cases[i].doc, code,
                     cases[i].code, j ? "" : err.text);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_rejects_duplicates_everywhere),
        cmocka_unit_test(test_corpus_agrees),
        cmocka_unit_test(test_random_records_agree),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
