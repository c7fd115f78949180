/*
 * lc_json.h - the hot-path JSON scanner.
 *
 * One pass over a record's bytes, no allocation in steady state (the scanner owns arrays
 * that grow to the largest record seen and are reused). It checks RFC 8259 syntax, UTF-8
 * validity of the whole input, duplicate member names in every object at any depth (names
 * compared after unescaping), and records the top-level object's members as spans into the
 * caller's buffer. It never copies or re-serialises values: the classifier splices output
 * from these spans.
 *
 * jansson is the reference implementation: tests/unit/test_json_diff.c asserts both agree on
 * validity, duplicates and field values for every input, except the documented differences:
 * numbers of any size or precision are valid here; a member name containing "\u0000" is
 * valid here (jansson refuses it even with JSON_ALLOW_NUL; in values both accept it);
 * nesting deeper than LC_JSON_MAX_DEPTH is invalid here (jansson allows 2048); a NUL byte
 * right after a number or literal is invalid here (jansson 2.14 skips it).
 * \u escapes of UTF-16 surrogates must form a high+low pair: a lone or reversed surrogate
 * is invalid, as in jansson.
 */
#ifndef LC_JSON_H
#define LC_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* JSON's white space (RFC 8259): space, tab, LF, CR. (The contract's ASCII white space,
 * which adds FF and VT, is lc_text_is_space.) */
static inline bool lc_json_is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Nesting deeper than this is refused as invalid JSON (CONTRACT §2.1 allows it). */
#define LC_JSON_MAX_DEPTH 512

typedef enum lc_json_type {
    LC_JT_STRING = 1,
    LC_JT_NUMBER,
    LC_JT_TRUE,
    LC_JT_FALSE,
    LC_JT_NULL,
    LC_JT_OBJECT,
    LC_JT_ARRAY,
} lc_json_type_t;

typedef enum lc_json_result {
    LC_JSON_OK = 0,            /* a valid JSON object, members recorded */
    LC_JSON_INVALID,           /* empty, bad syntax, too deep, or not valid UTF-8 */
    LC_JSON_NOT_OBJECT,        /* valid JSON whose top level is not an object */
    LC_JSON_DUPLICATE_KEY,     /* valid JSON, but some object names a member twice */
} lc_json_result_t;

/* A member of the top-level object. All pointers point into the scanned input. */
typedef struct lc_json_member {
    const char *key;       /* raw key bytes between the quotes (still escaped) */
    uint32_t key_len;
    bool key_escaped;      /* key contains a backslash: compare with lc_json_unescape */
    uint8_t type;          /* lc_json_type_t of the value */
    bool val_escaped;      /* for strings: contents contain a backslash */
    uint8_t name_fp;       /* lc_json_name_fp of the raw key bytes */
    const char *val;       /* for strings: raw contents between the quotes;
                              otherwise the whole value token/text (numbers, literals,
                              objects and arrays from first to last byte) */
    uint32_t val_len;
} lc_json_member_t;

/* A 6-bit hash of a name's length, first and last byte: equal names have equal ones. Reads
 * name[0] and name[len - 1] (for a member's raw key, the quotes around it when len is 0). */
static inline unsigned lc_json_name_fp(const char *name, size_t len)
{
    uint32_t first = (unsigned char)name[0], last = (unsigned char)name[(ptrdiff_t)len - 1];
    uint32_t packed = (uint32_t)len ^ first << 16 ^ last << 24;
    return (packed * 0x9E3779B1u) >> 26;
}

typedef struct lc_json_scanner lc_json_scanner_t;

/* A scanner, owned by the caller (lc_json_scanner_free; NULL is fine). Never NULL. */
lc_json_scanner_t *lc_json_scanner_new(void);
/* A scanner that takes every document through the general state machine, also a top-level
 * object (which lc_json_scanner_new's scanners take on a shorter path): the reference the
 * tests hold the short path to. Same results, members and ownership. */
lc_json_scanner_t *lc_json_scanner_general(void);
void lc_json_scanner_free(lc_json_scanner_t *s);

/*
 * Scans `len` bytes at `data` (not necessarily NUL-terminated). Leading and trailing JSON
 * white space is allowed. `*utf8_ok` is set to whether the whole input is valid UTF-8
 * (an input that is not is always LC_JSON_INVALID). Syntax errors take precedence over
 * duplicate keys (a document is first checked whole), and so does a top level that is not
 * an object (LC_JSON_NOT_OBJECT, the order of CONTRACT §2.1). Inputs of 4 GiB or more are
 * LC_JSON_INVALID. Every out-pointer may be NULL; on any result but LC_JSON_OK, *members and
 * the object bounds are set to NULL and *nmembers to 0. Out of memory aborts (lc_common.h).
 * On LC_JSON_OK, *members / *nmembers describe the top-level object's members in input
 * order, valid until the next scan with the same scanner; *obj_start / *obj_end point at
 * its '{' and just past its '}'.
 */
lc_json_result_t lc_json_scan(lc_json_scanner_t *s, const char *data, size_t len,
                              bool *utf8_ok,
                              const lc_json_member_t **members, size_t *nmembers,
                              const char **obj_start, const char **obj_end);

/*
 * Decodes the escapes of a JSON string's raw contents (as given in lc_json_member_t, already
 * known valid) into `out` (capacity `cap`, needs at most `len` bytes). Returns the decoded
 * length. "\u0000" decodes to a NUL byte. Surrogate pairs decode to one code point.
 * With cap < the decoded length, writes at most cap bytes, never part of a character, and
 * returns how many it wrote.
 */
size_t lc_json_unescape(const char *raw, size_t len, char *out, size_t cap);

/* True when `raw` (raw, maybe escaped JSON string contents) decodes to exactly name/name_len. */
bool lc_json_key_equals(const char *raw, size_t len, bool escaped, const char *name, size_t name_len);

#endif
