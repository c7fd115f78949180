/*
 * json.c - the hot-path JSON scanner (see lc_json.h for the contract).
 *
 * Design:
 *  - One pass, driven by a small state machine (expect value / expect member name / after
 *    value) over an explicit container stack, so deep nesting can never exhaust the C stack.
 *  - Strings are skipped eight bytes at a time while they hold only plain printable ASCII;
 *    escapes and multi-byte UTF-8 are validated where they occur. Outside strings only ASCII
 *    is valid JSON, so a document that scans as valid is valid UTF-8 as a whole. Only when a
 *    scan fails is the whole input run through the UTF-8 validator to fill *utf8_ok.
 *  - Member names of every open object sit on one key stack. When an object closes, its names
 *    are checked for duplicates: pairwise while the object has few names, else by sorting the
 *    names (O(n log n) worst case; a hash of attacker-chosen keys could be flooded).
 *  - All arrays belong to the scanner and grow to the largest record seen; a steady stream of
 *    records of similar shape allocates nothing. Out of memory aborts, as lc_buf does.
 */
#include "lc_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static inline bool is_json_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && is_json_ws(*p))
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

/* First byte at or after p that is not plain string content (or end). */
static inline const unsigned char *skip_plain_string_bytes(const unsigned char *p,
                                                           const unsigned char *end)
{
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
static inline const unsigned char *scan_string(const unsigned char *p, const unsigned char *end,
                                               bool *escaped)
{
    for (;;) {
        p = skip_plain_string_bytes(p, end);
        if (p == end)
            return NULL;
        switch (string_byte_class[*p]) {
        case SB_QUOTE:
            return p + 1;
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
        return len == name_len && memcmp(raw, name, len) == 0;

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
    bool is_object;
    uint32_t key_base;               /* key stack size when this object opened */
} container_frame_t;

struct lc_json_scanner {
    lc_json_member_t *members;       /* top-level members of the last scan */
    size_t nmembers, members_cap;
    key_ref_t *keys;                 /* names of every open object, innermost last */
    size_t nkeys, keys_cap;
    char *scratch;                   /* decoded names, for comparing escaped names */
    size_t scratch_cap;
    bool duplicate_found;
    container_frame_t frames[LC_JSON_MAX_DEPTH];
};

/* Out of memory: abort, as lc_buf does (a scan has no way to report it and go on). */
static void *realloc_or_abort(void *p, size_t n, size_t size)
{
    if (n > SIZE_MAX / size)
        abort();
    p = realloc(p, n * size);
    if (!p) {
        fputs("logclassify: out of memory\n", stderr);
        abort();
    }
    return p;
}

lc_json_scanner_t *lc_json_scanner_new(void)
{
    lc_json_scanner_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->members_cap = 16;
    s->keys_cap = 64;
    s->members = malloc(s->members_cap * sizeof(*s->members));
    s->keys = malloc(s->keys_cap * sizeof(*s->keys));
    if (!s->members || !s->keys) {
        lc_json_scanner_free(s);
        return NULL;
    }
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
    s->members = realloc_or_abort(s->members, s->members_cap, sizeof(*s->members));
}

static __attribute__((noinline)) void grow_keys(lc_json_scanner_t *s)
{
    s->keys_cap *= 2;
    s->keys = realloc_or_abort(s->keys, s->keys_cap, sizeof(*s->keys));
}

static void reserve_scratch(lc_json_scanner_t *s, size_t n)
{
    if (n <= s->scratch_cap)
        return;
    size_t cap = s->scratch_cap ? s->scratch_cap : 256;
    while (cap < n)
        cap *= 2;
    s->scratch = realloc_or_abort(s->scratch, cap, 1);
    s->scratch_cap = cap;
}

static bool key_refs_equal(lc_json_scanner_t *s, const key_ref_t *a, const key_ref_t *b)
{
    if (!a->escaped)
        return lc_json_key_equals(b->p, b->len, b->escaped, a->p, a->len);
    if (!b->escaped)
        return lc_json_key_equals(a->p, a->len, true, b->p, b->len);
    reserve_scratch(s, a->len);
    size_t n = lc_json_unescape(a->p, a->len, s->scratch, s->scratch_cap);
    return lc_json_key_equals(b->p, b->len, true, s->scratch, n);
}

static bool small_object_has_duplicate(lc_json_scanner_t *s, key_ref_t *keys, size_t n)
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

/* Called as an object closes: checks its names, then pops them off the key stack. */
static void check_and_pop_object_keys(lc_json_scanner_t *s, uint32_t base)
{
    size_t n = s->nkeys - base;
    if (!s->duplicate_found && n > 1) {
        key_ref_t *keys = s->keys + base;
        s->duplicate_found = n <= SMALL_OBJECT_KEYS ? small_object_has_duplicate(s, keys, n)
                                                    : large_object_has_duplicate(s, keys, n);
    }
    s->nkeys = base;
}

/* Where the one pass stands, and what it expects next. */
typedef enum scan_state {
    EXPECT_VALUE,
    EXPECT_MEMBER_NAME,
    AFTER_VALUE,
    SCAN_DONE,
    SCAN_FAILED,
} scan_state_t;

typedef struct scan_ctx {
    lc_json_scanner_t *s;
    const unsigned char *p, *end;
    uint32_t depth;                  /* open containers */
    bool top_is_object;
} scan_ctx_t;

/* The member whose value starts or ends here, when we are directly inside the top object. */
static inline lc_json_member_t *current_top_member(scan_ctx_t *c)
{
    return c->depth == 1 && c->top_is_object ? &c->s->members[c->s->nmembers - 1] : NULL;
}

static scan_state_t close_container(scan_ctx_t *c)
{
    container_frame_t *f = &c->s->frames[c->depth - 1];
    if (f->is_object)
        check_and_pop_object_keys(c->s, f->key_base);
    c->p++;
    c->depth--;
    lc_json_member_t *m = current_top_member(c);
    if (m)
        m->val_len = (uint32_t)((const char *)c->p - m->val);
    return AFTER_VALUE;
}

static scan_state_t open_container(scan_ctx_t *c, bool is_object)
{
    if (c->depth == LC_JSON_MAX_DEPTH)
        return SCAN_FAILED;
    lc_json_member_t *m = current_top_member(c);
    if (m) {
        m->type = is_object ? LC_JT_OBJECT : LC_JT_ARRAY;
        m->val = (const char *)c->p;
    }
    c->s->frames[c->depth].is_object = is_object;
    c->s->frames[c->depth].key_base = (uint32_t)c->s->nkeys;
    c->depth++;
    c->p = skip_ws(c->p + 1, c->end);
    if (c->p < c->end && *c->p == (is_object ? '}' : ']'))
        return close_container(c);
    return is_object ? EXPECT_MEMBER_NAME : EXPECT_VALUE;
}

static scan_state_t finish_scalar(scan_ctx_t *c, const unsigned char *start,
                                  const unsigned char *stop, lc_json_type_t type)
{
    if (!stop)
        return SCAN_FAILED;
    lc_json_member_t *m = current_top_member(c);
    if (m) {
        m->type = (uint8_t)type;
        m->val = (const char *)start;
        m->val_len = (uint32_t)(stop - start);
    }
    c->p = stop;
    return AFTER_VALUE;
}

static scan_state_t scan_value(scan_ctx_t *c)
{
    const unsigned char *p = skip_ws(c->p, c->end), *end = c->end;
    c->p = p;
    if (p == end)
        return SCAN_FAILED;
    switch (*p) {
    case '"': {
        bool escaped = false;
        const unsigned char *stop = scan_string(p + 1, end, &escaped);
        if (!stop)
            return SCAN_FAILED;
        lc_json_member_t *m = current_top_member(c);
        if (m) {
            m->type = LC_JT_STRING;
            m->val = (const char *)p + 1;
            m->val_len = (uint32_t)(stop - 1 - (p + 1));
            m->val_escaped = escaped;
        }
        c->p = stop;
        return AFTER_VALUE;
    }
    case '{':
        return open_container(c, true);
    case '[':
        return open_container(c, false);
    case 't':
        return finish_scalar(c, p, scan_literal(p, end, "true", 4), LC_JT_TRUE);
    case 'f':
        return finish_scalar(c, p, scan_literal(p, end, "false", 5), LC_JT_FALSE);
    case 'n':
        return finish_scalar(c, p, scan_literal(p, end, "null", 4), LC_JT_NULL);
    default:
        if (*p == '-' || is_digit(*p))
            return finish_scalar(c, p, scan_number(p, end), LC_JT_NUMBER);
        return SCAN_FAILED;
    }
}

static scan_state_t scan_member_name(scan_ctx_t *c)
{
    lc_json_scanner_t *s = c->s;
    const unsigned char *p = skip_ws(c->p, c->end), *end = c->end;
    if (p == end || *p != '"')
        return SCAN_FAILED;
    bool escaped = false;
    const unsigned char *stop = scan_string(p + 1, end, &escaped);
    if (!stop)
        return SCAN_FAILED;

    const char *name = (const char *)p + 1;
    uint32_t name_len = (uint32_t)(stop - 1 - (p + 1));
    if (s->nkeys == s->keys_cap)
        grow_keys(s);
    s->keys[s->nkeys++] = (key_ref_t){ name, name_len, escaped };
    if (c->depth == 1 && c->top_is_object) {
        if (s->nmembers == s->members_cap)
            grow_members(s);
        s->members[s->nmembers++] = (lc_json_member_t){
            .key = name, .key_len = name_len, .key_escaped = escaped,
        };
    }

    p = skip_ws(stop, end);
    if (p == end || *p != ':')
        return SCAN_FAILED;
    c->p = p + 1;
    return EXPECT_VALUE;
}

static scan_state_t scan_after_value(scan_ctx_t *c)
{
    if (c->depth == 0)
        return SCAN_DONE;
    const unsigned char *p = skip_ws(c->p, c->end);
    c->p = p;
    if (p == c->end)
        return SCAN_FAILED;
    bool in_object = c->s->frames[c->depth - 1].is_object;
    if (*p == ',') {
        c->p = p + 1;
        return in_object ? EXPECT_MEMBER_NAME : EXPECT_VALUE;
    }
    if (*p == (in_object ? '}' : ']'))
        return close_container(c);
    return SCAN_FAILED;
}

/* Runs the state machine over the whole input; true when it is one valid JSON text. */
static bool scan_document(scan_ctx_t *c)
{
    scan_state_t state = EXPECT_VALUE;
    for (;;) {
        switch (state) {
        case EXPECT_VALUE:
            state = scan_value(c);
            break;
        case EXPECT_MEMBER_NAME:
            state = scan_member_name(c);
            break;
        case AFTER_VALUE:
            state = scan_after_value(c);
            break;
        case SCAN_DONE:
            return skip_ws(c->p, c->end) == c->end;
        case SCAN_FAILED:
            return false;
        }
    }
}

lc_json_result_t lc_json_scan(lc_json_scanner_t *s, const char *data, size_t len,
                              bool *utf8_ok,
                              const lc_json_member_t **members, size_t *nmembers,
                              const char **obj_start, const char **obj_end)
{
    const unsigned char *begin = (const unsigned char *)data;
    scan_ctx_t c = { .s = s, .p = begin, .end = begin + len };
    lc_json_result_t result;

    s->nmembers = 0;
    s->nkeys = 0;
    s->duplicate_found = false;
    if (len > UINT32_MAX) {
        /* spans hold 32-bit lengths; far beyond any record size the service accepts */
        result = LC_JSON_INVALID;
    } else {
        const unsigned char *first = skip_ws(begin, c.end);
        c.top_is_object = first < c.end && *first == '{';
        if (!scan_document(&c))
            result = LC_JSON_INVALID;
        else if (!c.top_is_object)
            result = LC_JSON_NOT_OBJECT;   /* wins over duplicates: SPEC §2.1 table order */
        else if (s->duplicate_found)
            result = LC_JSON_DUPLICATE_KEY;
        else
            result = LC_JSON_OK;
    }

    if (utf8_ok)   /* a document that scanned as valid is valid UTF-8: non-ASCII only in strings */
        *utf8_ok = result != LC_JSON_INVALID || is_valid_utf8(begin, len);
    bool ok = result == LC_JSON_OK;
    if (members)
        *members = ok ? s->members : NULL;
    if (nmembers)
        *nmembers = ok ? s->nmembers : 0;
    if (obj_start)
        *obj_start = ok ? (const char *)skip_ws(begin, c.end) : NULL;
    if (obj_end)
        *obj_end = ok ? (const char *)c.p : NULL;
    return result;
}
