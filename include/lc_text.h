/*
 * lc_text.h - the contract's text rules, each written once and used wherever they apply:
 *
 *  - ASCII white space and blank text: space, tab, CR, LF, FF and VT (CONTRACT §2.1, the
 *    `empty:F` rule). The same set trims users' devices (CONTRACT §2.2) and decides which
 *    pipe-mode lines and users-CSV lines are blank (CONTRACT §7). JSON's own white space
 *    (RFC 8259: space, tab, CR, LF) is another set: lc_json_is_space in lc_json.h.
 *  - Integers: an optional '-' and 1-19 ASCII digits within the signed 64-bit range
 *    (CONTRACT §3), as a string's contents or as a JSON number token.
 *  - Identifiers that may be put into SQL: [A-Za-z0-9_]+ (CONTRACT §5).
 *
 * No state, no allocation, no locale.
 */
#ifndef LC_TEXT_H
#define LC_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ASCII white space (CONTRACT §2.1): space, tab, LF, VT, FF, CR. */
static inline bool lc_text_is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* True when s[0..n) is empty or only ASCII white space. */
static inline bool lc_text_is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!lc_text_is_space(s[i]))
            return false;
    return true;
}

/*
 * An integer of CONTRACT §3: an optional '-' then 1-19 ASCII digits, within int64; no '+',
 * no spaces, no fraction or exponent. With json_number the text is a JSON number token
 * rather than string contents: the same grammar, except that RFC 8259 forbids leading zeros
 * ("0684" is fine as a string, never as a token; "-0" is fine as both). On success *out
 * (out may be NULL) receives the value.
 */
bool lc_text_parse_int64(const char *s, size_t len, bool json_number, int64_t *out);

/* True when s is a non-empty [A-Za-z0-9_]+ identifier. */
bool lc_text_is_identifier(const char *s);

#endif
