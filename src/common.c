/* common.c - error helper, allocation wrappers, growable buffer, clocks. */
#include "lc_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int lc_err(char *errstr, size_t errlen, const char *fmt, ...)
{
    if (errstr && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- memory ------------------------------------------------------------------------- */

void lc_oom(void)
{
    fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
    abort();
}

void *lc_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        lc_oom();
    return p;
}

void *lc_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        lc_oom();
    return p;
}

void *lc_xrealloc(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        lc_oom();
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        lc_oom();
    return q;
}

char *lc_xmemdup(const void *p, size_t n)
{
    char *q = lc_xmalloc(n + 1);
    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

char *lc_xstrdup(const char *s)
{
    return lc_xmemdup(s, strlen(s));
}

/* ---- buffers ------------------------------------------------------------------------ */

void lc_buf_reserve(lc_buf_t *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    b->data = lc_xrealloc(b->data, cap, 1);
    b->cap = cap;
}

void lc_buf_append(lc_buf_t *b, const void *p, size_t n)
{
    lc_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void lc_buf_putc(lc_buf_t *b, char c)
{
    lc_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

void lc_buf_puts(lc_buf_t *b, const char *s)
{
    lc_buf_append(b, s, strlen(s));
}

void lc_buf_printf(lc_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    lc_buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void lc_buf_json_string(lc_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX. */
    lc_buf_reserve(b, n * 6 + 2);
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':  *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        default:
            if (c < 0x20) {
                *o++ = '\\'; *o++ = 'u'; *o++ = '0'; *o++ = '0';
                *o++ = hex[c >> 4]; *o++ = hex[c & 15];
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

void lc_buf_base64(lc_buf_t *b, const void *p, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    lc_buf_reserve(b, (n + 2) / 3 * 4);
    char *o = b->data + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = tbl[v >> 18]; *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63]; *o++ = tbl[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = tbl[v >> 18]; *o++ = tbl[(v >> 12) & 63]; *o++ = '='; *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = tbl[v >> 18]; *o++ = tbl[(v >> 12) & 63]; *o++ = tbl[(v >> 6) & 63]; *o++ = '=';
    }
    b->len = (size_t)(o - b->data);
}

void lc_buf_free(lc_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int64_t lc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
