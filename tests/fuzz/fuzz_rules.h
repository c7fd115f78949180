/*
 * fuzz_rules.h - the rules of CONTRACT §2.1-§3 written out again, small and independent of
 * src/, for the oracles of fuzz_checks.h: integer, number and timestamp syntax, white space,
 * code points, UTF-8 validity, base64 and nesting depth. Static inline, no state.
 */
#ifndef FUZZ_RULES_H
#define FUZZ_RULES_H

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_common.h"

static inline bool fz_json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* CONTRACT §2.1 `empty` and §2.2 device trimming: space, tab, CR, LF, FF, VT. */
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

/* An optional '-' and 1-19 digits within int64 (CONTRACT §3 integer, and users keys). */
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

/* CONTRACT §3 number string: [+-]? (digits [. digits?]? | . digits) ([eE][+-]?digits)?, finite.
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

#endif
