/*
 * json.c - the hot-path JSON scanner (see lc_json.h for the contract).
 *
 * Design:
 *  - One pass, a state machine (value / member name / after value / close) written with
 *    gotos in one function, over an explicit container stack: deep nesting can never exhaust
 *    the C stack, and the hot loop keeps its cursor in a register.
 *  - Plain printable ASCII inside strings is skipped 16 bytes at a time (SSE2, baseline on
 *    x86-64) or 8 (portable SWAR); escapes and multi-byte UTF-8 are validated where they
 *    occur. Outside strings only ASCII is valid JSON, so a document that scans as valid is
 *    valid UTF-8 as a whole: only a failed scan runs the UTF-8 validator to fill *utf8_ok.
 *  - Member names of every open object sit on one key stack. A 64-bit filter per object
 *    over cheap name fingerprints says when two names could be equal; only then are the
 *    object's names compared as it closes: pairwise while it has few, else by sorting them
 *    (O(n log n) worst case; a hash table of attacker-chosen names could be flooded).
 *  - All arrays belong to the scanner and grow to the largest record seen; a steady stream of
 *    records of similar shape allocates nothing. Out of memory aborts (lc_common.h).
 */
#include "lc_json.h"

#include "lc_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Objects with more names than this are checked for duplicates by sorting. */
#define SMALL_OBJECT_KEYS 16

/* ---- character classes ------------------------------------------------------------------ */

enum string_byte_class {
    SB_PLAIN = 0,   /* printable ASCII other than '"' and '\\': copied through as is */
    SB_QUOTE,
    SB_BACKSLASH,
    SB_CONTROL,     /* < 0x20: never valid raw inside a string */
    SB_NON_ASCII,   /* >= 0x80: start (or stray continuation) of a UTF-8 sequence */
};

#define X4(v) v, v, v, v
#define X16(v) X4(v), X4(v), X4(v), X4(v)
static const uint8_t string_byte_class[256] = {
    X16(SB_CONTROL), X16(SB_CONTROL),                                    /* 0x00-0x1F */
    SB_PLAIN, SB_PLAIN, SB_QUOTE, SB_PLAIN, X4(SB_PLAIN), X4(SB_PLAIN), X4(SB_PLAIN),
    X16(SB_PLAIN), X16(SB_PLAIN),                                        /* 0x30-0x4F */
    X4(SB_PLAIN), X4(SB_PLAIN), X4(SB_PLAIN),                            /* 0x50-0x5B */
    SB_BACKSLASH, SB_PLAIN, SB_PLAIN, SB_PLAIN,                          /* 0x5C-0x5F */
    X16(SB_PLAIN), X16(SB_PLAIN),                                        /* 0x60-0x7F */
    X16(SB_NON_ASCII), X16(SB_NON_ASCII), X16(SB_NON_ASCII), X16(SB_NON_ASCII),
    X16(SB_NON_ASCII), X16(SB_NON_ASCII), X16(SB_NON_ASCII), X16(SB_NON_ASCII),
};
#undef X4
#undef X16

static inline bool is_digit(unsigned char c) { return (unsigned)(c - '0') < 10; }

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && *p <= ' ' && lc_json_is_space(*p))   /* one compare for the usual non-space */
        p++;
    return p;
}

static int hex_digit_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Value of the four hex digits at p, or -1. The caller guarantees four readable bytes. */
static long hex4_value(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit_value(p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

static inline bool is_high_surrogate(long cp) { return cp >= 0xD800 && cp <= 0xDBFF; }
static inline bool is_low_surrogate(long cp) { return cp >= 0xDC00 && cp <= 0xDFFF; }

/* ---- UTF-8 ----------------------------------------------------------------------------- */

static inline bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

/*
 * Length of the valid UTF-8 sequence starting with the non-ASCII byte at p, or 0 when it is
 * invalid: a stray continuation byte, an overlong form, a UTF-16 surrogate (U+D800-DFFF),
 * a code point above U+10FFFF, or a sequence cut short by `end` (RFC 3629 §4).
 */
static size_t utf8_sequence_length(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t avail = (size_t)(end - p);
    unsigned char lo = 0x80, hi = 0xBF;   /* allowed range of the second byte */
    size_t n;

    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;                   /* below: overlong */
        else if (c == 0xED)
            hi = 0x9F;                   /* above: surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;                   /* below: overlong */
        else if (c == 0xF4)
            hi = 0x8F;                   /* above: beyond U+10FFFF */
    } else {
        return 0;                        /* 0x80-0xC1 (continuation, overlong), 0xF5-0xFF */
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (!is_continuation(p[i]))
            return 0;
    return n;
}

static bool is_valid_utf8(const unsigned char *p, size_t len)
{
    const unsigned char *end = p + len;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_sequence_length(p, end);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

/* Appends the UTF-8 encoding of a code point (<= U+10FFFF, not a surrogate); returns bytes. */
static size_t utf8_encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- strings, numbers, literals --------------------------------------------------------- */

/*
 * Bit 7 of each byte of the result is set where x holds a byte that ends a plain run:
 * < 0x20, '"', '\\' or >= 0x80. Bits may also be set above the first such byte (borrows),
 * never below it, so the lowest set bit marks the first special byte.
 */
static inline uint64_t special_byte_mask(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t quote = x ^ (ones * '"');
    uint64_t backslash = x ^ (ones * '\\');
    uint64_t below_space = (x - ones * 0x20) & ~x;
    uint64_t is_quote = (quote - ones) & ~quote;
    uint64_t is_backslash = (backslash - ones) & ~backslash;
    return (below_space | is_quote | is_backslash | x) & high;
}

#ifdef __SSE2__
/* One bit per byte of the 16 at p that ends a plain run: '"', '\\', < 0x20, or >= 0x80 (the
 * signed compare sees those as negative). Inlined, the compiler keeps the three constants
 * in registers across a loop. */
static inline __attribute__((always_inline)) unsigned special_bytes16(const unsigned char *p)
{
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
                                                 _mm_cmpeq_epi8(x, backslash)),
                                   _mm_cmplt_epi8(x, space));
    return (unsigned)_mm_movemask_epi8(special);
}
#endif

/* First byte at or after p that is not plain string content (or end). */
static inline __attribute__((always_inline)) const unsigned char *
skip_plain_string_bytes(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
    while (end - p >= 16) {
        unsigned mask = special_bytes16(p);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t special = special_byte_mask(x);
        if (special)
            return p + (__builtin_ctzll(special) >> 3);
        p += 8;
    }
#endif
    while (p < end && string_byte_class[*p] == SB_PLAIN)
        p++;
    return p;
}

/*
 * Checks the escape at p (p[0] == '\\'); returns the byte after it, or NULL when invalid.
 * A \u escape of a UTF-16 surrogate must be a high surrogate followed directly by a \u
 * escape of a low surrogate: lone surrogates are refused, as jansson refuses them, because
 * they name no character and could not be decoded to UTF-8.
 */
static const unsigned char *scan_escape(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 2)
        return NULL;
    switch (p[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 2;
    case 'u':
        break;
    default:
        return NULL;
    }
    if (end - p < 6)
        return NULL;
    long cp = hex4_value(p + 2);
    if (cp < 0 || is_low_surrogate(cp))
        return NULL;
    if (!is_high_surrogate(cp))
        return p + 6;
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !is_low_surrogate(hex4_value(p + 8)))
        return NULL;
    return p + 12;
}

/*
 * Scans string contents starting just after the opening quote. Returns the byte after the
 * closing quote, or NULL when the string is invalid or unterminated. Sets *escaped when the
 * contents hold a backslash.
 */
static inline __attribute__((always_inline)) const unsigned char *
scan_string(const unsigned char *p, const unsigned char *end, bool *escaped)
{
    for (;;) {
        p = skip_plain_string_bytes(p, end);
        if (p == end)
            return NULL;
        if (*p == '"')                   /* the usual way out, before the general switch */
            return p + 1;
        switch (string_byte_class[*p]) {
        case SB_BACKSLASH:
            *escaped = true;
            p = scan_escape(p, end);
            if (!p)
                return NULL;
            break;
        case SB_NON_ASCII: {
            size_t n = utf8_sequence_length(p, end);
            if (n == 0)
                return NULL;
            p += n;
            break;
        }
        default:
            return NULL;                 /* raw control character */
        }
    }
}

/* scan_string, out of line: the rest of a string that holds an escape, a multi-byte
 * character or a control byte, or that ends within 16 bytes of the input's end. */
static __attribute__((noinline)) const unsigned char *
scan_string_rest(const unsigned char *p, const unsigned char *end, bool *escaped)
{
    return scan_string(p, end, escaped);
}

/*
 * scan_string for the short path: plain ASCII runs are skipped 16 bytes at a time inline,
 * anything else is scan_string_rest's. Kept small so that the SIMD constants stay in
 * registers across a whole record instead of being set up again for every string.
 */
static inline __attribute__((always_inline)) const unsigned char *
scan_string_fast(const unsigned char *p, const unsigned char *end, bool *escaped)
{
#ifdef __SSE2__
    while (end - p >= 16) {
        unsigned mask = special_bytes16(p);
        if (mask) {
            p += __builtin_ctz(mask);
            if (*p == '"')
                return p + 1;
            break;
        }
        p += 16;
    }
#endif
    return scan_string_rest(p, end, escaped);
}

static inline const unsigned char *skip_digits(const unsigned char *p, const unsigned char *end)
{
    while (p < end && is_digit(*p))
        p++;
    return p;
}

/* Scans an RFC 8259 number of any size starting at p; returns the byte after it or NULL. */
static const unsigned char *scan_number(const unsigned char *p, const unsigned char *end)
{
    if (*p == '-')
        p++;
    if (p == end)
        return NULL;
    if (*p == '0')
        p++;                             /* no leading zeros: "01" ends the number after 0 */
    else if (is_digit(*p))
        p = skip_digits(p + 1, end);
    else
        return NULL;
    if (p < end && *p == '.') {
        const unsigned char *frac = p + 1;
        p = skip_digits(frac, end);
        if (p == frac)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const unsigned char *exp = p;
        p = skip_digits(exp, end);
        if (p == exp)
            return NULL;
    }
    return p;
}

static inline const unsigned char *scan_literal(const unsigned char *p, const unsigned char *end,
                                                const char *word, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
        return NULL;
    return p + n;
}

/* Scans the number or true/false/null at p; returns the byte after it (NULL when invalid). */
static inline const unsigned char *scan_number_or_literal(const unsigned char *p,
                                                          const unsigned char *end,
                                                          lc_json_type_t *type)
{
    switch (*p) {
    case 't':
        *type = LC_JT_TRUE;
        return scan_literal(p, end, "true", 4);
    case 'f':
        *type = LC_JT_FALSE;
        return scan_literal(p, end, "false", 5);
    case 'n':
        *type = LC_JT_NULL;
        return scan_literal(p, end, "null", 4);
    default:
        *type = LC_JT_NUMBER;
        return *p == '-' || is_digit(*p) ? scan_number(p, end) : NULL;
    }
}

/* ---- escape decoding (shared by lc_json_unescape and key comparison) --------------------- */

/*
 * Decodes the escape at p (p[0] == '\\') into out (up to 4 bytes). Returns the number of
 * input bytes consumed and sets *out_len; never produces more bytes than it consumes.
 * Input that a scan would have refused is passed through defensively: an unknown escape as
 * its two bytes, a lone surrogate as U+FFFD.
 */
static size_t decode_escape(const unsigned char *p, const unsigned char *end,
                            unsigned char out[4], size_t *out_len)
{
    static const char simple_from[] = "\"\\/bfnrt";
    static const char simple_to[] = "\"\\/\b\f\n\r\t";

    if (end - p < 2) {
        out[0] = p[0];
        *out_len = 1;
        return 1;
    }
    const char *simple = p[1] ? strchr(simple_from, p[1]) : NULL;
    if (simple) {
        out[0] = (unsigned char)simple_to[simple - simple_from];
        *out_len = 1;
        return 2;
    }
    long cp = p[1] == 'u' && end - p >= 6 ? hex4_value(p + 2) : -1;
    if (cp < 0) {
        out[0] = p[0];
        out[1] = p[1];
        *out_len = 2;
        return 2;
    }
    if (is_high_surrogate(cp) && end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
        long low = hex4_value(p + 8);
        if (is_low_surrogate(low)) {
            uint32_t full = 0x10000 + ((uint32_t)(cp - 0xD800) << 10) + (uint32_t)(low - 0xDC00);
            *out_len = utf8_encode(full, out);
            return 12;
        }
    }
    if (is_high_surrogate(cp) || is_low_surrogate(cp))
        cp = 0xFFFD;
    *out_len = utf8_encode((uint32_t)cp, out);
    return 6;
}

size_t lc_json_unescape(const char *raw, size_t len, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)raw, *end = p + len;
    size_t n = 0;

    while (p < end) {
        const unsigned char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = (size_t)((bs ? bs : end) - p);
        if (run > cap - n)
            run = cap - n;
        if (run)
            memcpy(out + n, p, run);
        n += run;
        p += run;
        if (p != bs)
            break;                       /* end of input, or out is full */
        unsigned char dec[4];
        size_t dec_len;
        size_t used = decode_escape(p, end, dec, &dec_len);
        if (dec_len > cap - n)
            break;                       /* never write a partial character */
        memcpy(out + n, dec, dec_len);
        n += dec_len;
        p += used;
    }
    return n;
}

bool lc_json_key_equals(const char *raw, size_t len, bool escaped, const char *name, size_t name_len)
{
    if (!escaped)
        return len == name_len && (len == 0 || memcmp(raw, name, len) == 0);

    const unsigned char *p = (const unsigned char *)raw, *end = p + len;
    const unsigned char *q = (const unsigned char *)name, *qend = q + name_len;
    while (p < end) {
        if (*p != '\\') {
            if (q == qend || *q != *p)
                return false;
            p++;
            q++;
            continue;
        }
        unsigned char dec[4];
        size_t dec_len;
        p += decode_escape(p, end, dec, &dec_len);
        if ((size_t)(qend - q) < dec_len || memcmp(q, dec, dec_len) != 0)
            return false;
        q += dec_len;
    }
    return q == qend;
}

/* ---- the scanner ------------------------------------------------------------------------ */

/* A member name on the key stack: raw contents, or (after decode_keys_for_sort) decoded. */
typedef struct key_ref {
    const char *p;
    uint32_t len;
    bool escaped;
} key_ref_t;

typedef struct container_frame {
    uint64_t name_bloom;             /* objects: one bit per name fingerprint seen so far */
    uint32_t key_base;               /* objects: key stack size when the object opened */
    bool is_object;
    bool compare_names_at_close;     /* two names may be equal: compare them all at close */
} container_frame_t;

struct lc_json_scanner {
    lc_json_member_t *members;       /* top-level members of the last scan */
    size_t nmembers, members_cap;
    key_ref_t *keys;                 /* names of every open object, innermost last */
    size_t nkeys, keys_cap;
    char *scratch;                   /* decoded names, for comparing escaped names */
    size_t scratch_cap;
    bool duplicate_found;
    bool general_only;               /* lc_json_scanner_general: no scan_top_object */
    container_frame_t frames[LC_JSON_MAX_DEPTH];
};

lc_json_scanner_t *lc_json_scanner_new(void)
{
    lc_json_scanner_t *s = lc_xcalloc(1, sizeof(*s));
    s->members_cap = 16;
    s->keys_cap = 64;
    s->members = lc_xcalloc(s->members_cap, sizeof(*s->members));
    s->keys = lc_xcalloc(s->keys_cap, sizeof(*s->keys));
    return s;
}

lc_json_scanner_t *lc_json_scanner_general(void)
{
    lc_json_scanner_t *s = lc_json_scanner_new();
    s->general_only = true;
    return s;
}

void lc_json_scanner_free(lc_json_scanner_t *s)
{
    if (!s)
        return;
    free(s->members);
    free(s->keys);
    free(s->scratch);
    free(s);
}

static __attribute__((noinline)) void grow_members(lc_json_scanner_t *s)
{
    s->members_cap *= 2;
    s->members = lc_xrealloc(s->members, s->members_cap, sizeof(*s->members));
}

static __attribute__((noinline)) void grow_keys(lc_json_scanner_t *s)
{
    s->keys_cap *= 2;
    s->keys = lc_xrealloc(s->keys, s->keys_cap, sizeof(*s->keys));
}

static void reserve_scratch(lc_json_scanner_t *s, size_t n)
{
    if (n <= s->scratch_cap)
        return;
    size_t cap = s->scratch_cap ? s->scratch_cap : 256;
    while (cap < n)
        cap *= 2;
    s->scratch = lc_xrealloc(s->scratch, cap, 1);
    s->scratch_cap = cap;
}

/* ---- duplicate member names ------------------------------------------------------------- */

/*
 * Equal names have equal fingerprints (length, first and last byte). Each object keeps a
 * 64-bit Bloom filter of its names' fingerprints; only when a fingerprint repeats, or a name
 * is escaped (its decoded bytes differ from its raw ones), are the object's names compared
 * for real when it closes. A typical record's handful of names never gets there.
 */
static inline uint64_t name_fingerprint_bit(const char *name, uint32_t len)
{
    return 1ULL << lc_json_name_fp(name, len);
}

static inline void note_object_name(container_frame_t *f, const char *name, uint32_t len,
                                    bool escaped)
{
    uint64_t bit = name_fingerprint_bit(name, len);
    if (escaped || (f->name_bloom & bit))
        f->compare_names_at_close = true;
    f->name_bloom |= bit;
}

static bool escaped_key_refs_equal(lc_json_scanner_t *s, const key_ref_t *a, const key_ref_t *b)
{
    if (!a->escaped)
        return lc_json_key_equals(b->p, b->len, b->escaped, a->p, a->len);
    if (!b->escaped)
        return lc_json_key_equals(a->p, a->len, true, b->p, b->len);
    reserve_scratch(s, a->len);
    size_t n = lc_json_unescape(a->p, a->len, s->scratch, s->scratch_cap);
    return lc_json_key_equals(b->p, b->len, true, s->scratch, n);
}

static bool key_refs_equal(lc_json_scanner_t *s, const key_ref_t *a, const key_ref_t *b)
{
    if (!a->escaped && !b->escaped)
        return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
    return escaped_key_refs_equal(s, a, b);
}

static bool small_object_has_duplicate(lc_json_scanner_t *s, const key_ref_t *keys, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (key_refs_equal(s, &keys[i], &keys[j]))
                return true;
    return false;
}

/* Replaces every escaped name in keys[] by its decoded bytes in the scratch buffer. */
static void decode_keys_for_sort(lc_json_scanner_t *s, key_ref_t *keys, size_t n)
{
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        if (keys[i].escaped)
            need += keys[i].len;
    if (need == 0)
        return;
    reserve_scratch(s, need);        /* once: pointers into scratch must stay valid */
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keys[i].escaped)
            continue;
        size_t len = lc_json_unescape(keys[i].p, keys[i].len, s->scratch + used, need - used);
        keys[i].p = s->scratch + used;
        keys[i].len = (uint32_t)len;
        keys[i].escaped = false;
        used += len;
    }
}

static int compare_key_refs(const void *va, const void *vb)
{
    const key_ref_t *a = va, *b = vb;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return memcmp(a->p, b->p, a->len);
}

/* Sorts the names (the object is closing, so their order no longer matters). */
static bool large_object_has_duplicate(lc_json_scanner_t *s, key_ref_t *keys, size_t n)
{
    decode_keys_for_sort(s, keys, n);
    qsort(keys, n, sizeof(*keys), compare_key_refs);
    for (size_t i = 1; i < n; i++)
        if (compare_key_refs(&keys[i - 1], &keys[i]) == 0)
            return true;
    return false;
}

static bool keys_have_duplicate(lc_json_scanner_t *s, key_ref_t *keys, size_t n)
{
    return n <= SMALL_OBJECT_KEYS ? small_object_has_duplicate(s, keys, n)
                                  : large_object_has_duplicate(s, keys, n);
}

/* Called as an object closes: compares its names if need be, then pops them. */
static void close_object_names(lc_json_scanner_t *s, const container_frame_t *f)
{
    size_t n = s->nkeys - f->key_base;
    if (f->compare_names_at_close && !s->duplicate_found)
        s->duplicate_found = keys_have_duplicate(s, s->keys + f->key_base, n);
    s->nkeys = f->key_base;
}

/* ---- the pass --------------------------------------------------------------------------- */

static inline void push_key(lc_json_scanner_t *s, const char *name, uint32_t len, bool escaped)
{
    if (s->nkeys == s->keys_cap)
        grow_keys(s);
    s->keys[s->nkeys++] = (key_ref_t){ name, len, escaped };
}

static inline lc_json_member_t *push_member(lc_json_scanner_t *s, const char *name, uint32_t len,
                                            bool escaped)
{
    if (s->nmembers == s->members_cap)
        grow_members(s);
    lc_json_member_t *m = &s->members[s->nmembers++];
    m->key = name;                       /* type, val and val_len follow with the value */
    m->key_len = len;
    m->key_escaped = escaped;
    m->val_escaped = false;
    return m;
}

static inline void set_member_value(lc_json_member_t *m, lc_json_type_t type,
                                    const unsigned char *val, const unsigned char *stop)
{
    m->type = (uint8_t)type;
    m->val = (const char *)val;
    m->val_len = (uint32_t)(stop - val);
}

/*
 * The one pass: a state machine written with gotos (value, member_name, after_value,
 * close_container) over an explicit container stack. Returns the byte after the top-level
 * value, or NULL when the input is not one valid JSON value. Trailing white space is the
 * caller's. Fills s->members (when the top level is an object), s->duplicate_found.
 */
static const unsigned char *scan_document(lc_json_scanner_t *s, const unsigned char *p,
                                          const unsigned char *end, bool top_is_object,
                                          uint32_t max_depth)
{
    container_frame_t *frames = s->frames;
    uint32_t depth = 0;                  /* open containers; frames[depth - 1] is innermost */
    lc_json_member_t *member = NULL;     /* top-level member whose value comes next */

value:
    if (p == end)
        return NULL;
    switch (*p) {          /* white space is a case here: no separate skip before each value */
    case ' ':
    case '\t':
    case '\n':
    case '\r':
        p = skip_ws(p + 1, end);
        goto value;
    case '"': {
        bool escaped = false;
        const unsigned char *stop = scan_string(p + 1, end, &escaped);
        if (!stop)
            return NULL;
        if (member) {
            set_member_value(member, LC_JT_STRING, p + 1, stop - 1);
            member->val_escaped = escaped;
        }
        p = stop;
        goto after_value;
    }
    case '{':
    case '[': {
        if (depth == max_depth)
            return NULL;
        bool is_object = *p == '{';
        if (member) {
            member->type = is_object ? LC_JT_OBJECT : LC_JT_ARRAY;
            member->val = (const char *)p;   /* length set when it closes */
        }
        frames[depth++] = (container_frame_t){ .key_base = (uint32_t)s->nkeys,
                                               .is_object = is_object };
        p = skip_ws(p + 1, end);
        if (p < end && *p == (is_object ? '}' : ']'))
            goto close_container;   /* empty */
        if (is_object)
            goto member_name;
        member = NULL;
        goto value;
    }
    default: {
        lc_json_type_t type;
        const unsigned char *stop = scan_number_or_literal(p, end, &type);
        if (!stop)
            return NULL;
        if (member)
            set_member_value(member, type, p, stop);
        p = stop;
        goto after_value;
    }
    }

member_name: {
        p = skip_ws(p, end);
        if (p == end || *p != '"')
            return NULL;
        bool escaped = false;
        const unsigned char *stop = scan_string(p + 1, end, &escaped);
        if (!stop)
            return NULL;
        const char *name = (const char *)p + 1;
        uint32_t len = (uint32_t)(stop - 1 - (p + 1));
        note_object_name(&frames[depth - 1], name, len, escaped);
        push_key(s, name, len, escaped);
        member = NULL;
        if (depth == 1 && top_is_object) {
            member = push_member(s, name, len, escaped);
            member->name_fp = (uint8_t)lc_json_name_fp(name, len);
        }
        p = skip_ws(stop, end);
        if (p == end || *p != ':')
            return NULL;
        p++;
        goto value;
    }

after_value:
    member = NULL;
    if (depth == 0)
        return p;
    if (p == end)
        return NULL;
    switch (*p) {
    case ',':
        p++;
        if (frames[depth - 1].is_object)
            goto member_name;
        goto value;
    case '}':
    case ']':
        if (*p != (frames[depth - 1].is_object ? '}' : ']'))
            return NULL;
        goto close_container;
    case ' ':
    case '\t':
    case '\n':
    case '\r':
        p = skip_ws(p + 1, end);
        goto after_value;
    default:
        return NULL;
    }

close_container:
    if (frames[depth - 1].is_object)
        close_object_names(s, &frames[depth - 1]);
    depth--;
    p++;
    if (depth == 1 && top_is_object) {
        lc_json_member_t *m = &s->members[s->nmembers - 1];
        m->val_len = (uint32_t)((const char *)p - m->val);
    }
    goto after_value;
}

/* The top-level names as key references in s->keys (free once scan_top_object's nested
 * values are closed), for the general duplicate checks. */
static key_ref_t *top_names_as_keys(lc_json_scanner_t *s)
{
    while (s->keys_cap < s->nmembers)
        grow_keys(s);
    for (size_t i = 0; i < s->nmembers; i++)
        s->keys[i] = (key_ref_t){s->members[i].key, s->members[i].key_len,
                                 s->members[i].key_escaped};
    return s->keys;
}

/* Does a top-level name (none escaped) repeat? Only names of one fingerprint can be equal;
 * many names sharing few fingerprints fall back to sorting. */
static bool top_names_repeat(lc_json_scanner_t *s)
{
    size_t n = s->nmembers;
    if (n > 4 * SMALL_OBJECT_KEYS)
        return large_object_has_duplicate(s, top_names_as_keys(s), n);
    const lc_json_member_t *m = s->members;
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (m[i].name_fp == m[j].name_fp && m[i].key_len == m[j].key_len &&
                memcmp(m[i].key, m[j].key, m[i].key_len) == 0)
                return true;
    return false;
}

/*
 * The top-level object, on its own short path: the shape of nearly every record (one
 * object of members whose values are strings, numbers and literals). Member names go
 * straight into s->members (not onto the key stack as well), one Bloom filter word stays in
 * a register, and there is no container stack until a value is itself an object or an
 * array: such a value is scanned whole by scan_document, one level less deep. Accepts and
 * refuses exactly what scan_document(top_is_object) does, with the same members and the
 * same duplicate verdict (tests/unit/test_json.c compares the two). p is at the '{'.
 */
static const unsigned char *scan_top_object(lc_json_scanner_t *s, const unsigned char *p,
                                            const unsigned char *end)
{
    uint64_t bloom = 0;
    bool compare_names = false, any_escaped = false;

    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        /* the member's name */
        if (p == end || *p != '"')
            return NULL;
        bool escaped = false;
        const unsigned char *stop = scan_string_fast(p + 1, end, &escaped);
        if (!stop)
            return NULL;
        const char *name = (const char *)p + 1;
        uint32_t len = (uint32_t)(stop - 1 - (p + 1));
        unsigned fp = lc_json_name_fp(name, len);
        uint64_t bit = 1ULL << fp;
        compare_names |= bloom & bit;
        any_escaped |= escaped;
        bloom |= bit;
        lc_json_member_t *m = push_member(s, name, len, escaped);
        m->name_fp = (uint8_t)fp;
        p = stop;
        if (p == end)
            return NULL;
        if (*p != ':') {
            p = skip_ws(p, end);
            if (p == end || *p != ':')
                return NULL;
        }
        p++;
        /* its value */
        if (p < end && *p <= ' ')
            p = skip_ws(p, end);
        if (p == end)
            return NULL;
        switch (*p) {
        case '"': {
            bool val_escaped = false;
            stop = scan_string_fast(p + 1, end, &val_escaped);
            if (!stop)
                return NULL;
            set_member_value(m, LC_JT_STRING, p + 1, stop - 1);
            m->val_escaped = val_escaped;
            break;
        }
        case '{':
        case '[':
            stop = scan_document(s, p, end, false, LC_JSON_MAX_DEPTH - 1);
            if (!stop)
                return NULL;
            set_member_value(m, *p == '{' ? LC_JT_OBJECT : LC_JT_ARRAY, p, stop);
            break;
        default: {
            lc_json_type_t type;
            stop = scan_number_or_literal(p, end, &type);
            if (!stop)
                return NULL;
            set_member_value(m, type, p, stop);
            break;
        }
        }
        p = stop;
        /* a comma and the next name, or the end of the object */
        if (p < end && *p <= ' ')
            p = skip_ws(p, end);
        if (p == end)
            return NULL;
        if (*p == ',') {
            p++;
            if (p < end && *p <= ' ')
                p = skip_ws(p, end);
            continue;
        }
        if (*p != '}')
            return NULL;
        p++;
        break;
    }
    /* Two names may be equal. Without escapes, equal names have equal fingerprints: only
     * those pairs are compared. With one, the names are compared as close_object_names
     * would (unless a nested object has found a duplicate already). */
    if (compare_names && !any_escaped && !s->duplicate_found) {
        s->duplicate_found = top_names_repeat(s);
        return p;
    }
    if ((compare_names || any_escaped) && !s->duplicate_found)
        s->duplicate_found = keys_have_duplicate(s, top_names_as_keys(s), s->nmembers);
    return p;
}

lc_json_result_t lc_json_scan(lc_json_scanner_t *s, const char *data, size_t len,
                              bool *utf8_ok,
                              const lc_json_member_t **members, size_t *nmembers,
                              const char **obj_start, const char **obj_end)
{
    const unsigned char *begin = (const unsigned char *)data, *end = begin + len;
    const unsigned char *first = skip_ws(begin, end), *stop = NULL;
    bool top_is_object = first < end && *first == '{';
    lc_json_result_t result;

    s->nmembers = 0;
    s->nkeys = 0;
    s->duplicate_found = false;
    /* Spans hold 32-bit lengths: refuse what is far beyond any record the service accepts. */
    if (len <= UINT32_MAX)
        stop = top_is_object && !s->general_only ? scan_top_object(s, first, end)
                                                 : scan_document(s, first, end, top_is_object,
                                                                 LC_JSON_MAX_DEPTH);
    if (!stop || skip_ws(stop, end) != end)
        result = LC_JSON_INVALID;
    else if (!top_is_object)
        result = LC_JSON_NOT_OBJECT;     /* wins over duplicates: CONTRACT §2.1 table order */
    else if (s->duplicate_found)
        result = LC_JSON_DUPLICATE_KEY;
    else
        result = LC_JSON_OK;

    /* A document that scanned as valid is valid UTF-8: non-ASCII is only valid in strings,
     * and those were checked on the way. Only failures need the whole input checked. */
    if (utf8_ok)
        *utf8_ok = result != LC_JSON_INVALID || is_valid_utf8(begin, len);
    bool ok = result == LC_JSON_OK;
    if (members)
        *members = ok ? s->members : NULL;
    if (nmembers)
        *nmembers = ok ? s->nmembers : 0;
    if (obj_start)
        *obj_start = ok ? (const char *)first : NULL;
    if (obj_end)
        *obj_end = ok ? (const char *)stop : NULL;
    return result;
}
