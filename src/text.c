/* text.c - the contract's text rules (see lc_text.h). */
#include "lc_text.h"

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool lc_text_parse_int64(const char *s, size_t len, bool json_number, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (len > 0 && s[0] == '-') {
        neg = true;
        i = 1;
    }
    size_t ndigits = len - i;
    if (ndigits < 1 || ndigits > 19)
        return false;
    if (json_number && ndigits > 1 && s[i] == '0')
        return false;
    /* 19 digits always fit in a uint64_t (10^19 - 1 < 2^64). */
    uint64_t acc = 0;
    for (; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        acc = acc * 10 + (uint64_t)(s[i] - '0');
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (acc > limit)
        return false;
    if (out) {
        if (!neg)
            *out = (int64_t)acc;
        else if (acc == (uint64_t)INT64_MAX + 1)
            *out = INT64_MIN;
        else
            *out = -(int64_t)acc;
    }
    return true;
}

bool lc_text_is_identifier(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
        if (!ok)
            return false;
    }
    return true;
}
