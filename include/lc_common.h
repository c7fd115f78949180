/*
 * lc_common.h - small shared helpers: the error convention and a growable byte buffer.
 *
 * Error convention (everywhere in logclassify): functions return 0 on success and -1 on
 * failure, filling the caller's `errstr` buffer (always NUL-terminated, may be truncated).
 * Constructors return NULL on failure and fill `errstr` the same way.
 */
#ifndef LC_COMMON_H
#define LC_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The program's version: `--version`, and the user agent in MSK IAM tokens. */
#ifndef LC_VERSION
#define LC_VERSION "0.1.0"
#endif

/* printf-style write into errstr; safe with errstr == NULL or errlen == 0. Returns -1 so
 * that callers can write `return lc_err(errstr, errlen, "...")`. */
int lc_err(char *errstr, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Memory: the one out-of-memory convention. Every allocation goes through these wrappers,
 * which never return NULL: when the allocator fails they print "<program>: out of memory"
 * on standard error and abort, as Redis's zmalloc does. A service that cannot allocate a
 * few KiB cannot make progress, and a half-built structure or a half-written output record
 * must never be used; so no caller has an "out of memory" branch. The caller owns (and
 * frees with free()) what they return.
 */
void lc_oom(void) __attribute__((noreturn, cold));
void *lc_xmalloc(size_t n);                            /* n == 0 is fine */
void *lc_xcalloc(size_t n, size_t size);               /* zeroed; n == 0 is fine */
void *lc_xrealloc(void *p, size_t n, size_t size);     /* n * size bytes, overflow checked */
char *lc_xstrdup(const char *s);
char *lc_xmemdup(const void *p, size_t n);             /* n bytes and a NUL after them */

/* A growable byte buffer. Owned by whoever declared it; lc_buf_free releases the memory.
 * Appending never fails (memory as above). */
typedef struct lc_buf {
    char *data;
    size_t len;
    size_t cap;
} lc_buf_t;

void lc_buf_reserve(lc_buf_t *b, size_t extra);
void lc_buf_append(lc_buf_t *b, const void *p, size_t n);
void lc_buf_putc(lc_buf_t *b, char c);
void lc_buf_puts(lc_buf_t *b, const char *s);
void lc_buf_printf(lc_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` (n bytes, assumed valid UTF-8) as a JSON string literal with quotes. */
void lc_buf_json_string(lc_buf_t *b, const char *s, size_t n);
/* Appends standard base64 (RFC 4648, with padding) of n bytes. */
void lc_buf_base64(lc_buf_t *b, const void *p, size_t n);
static inline void lc_buf_reset(lc_buf_t *b) { b->len = 0; }
void lc_buf_free(lc_buf_t *b);

/* Monotonic and wall clocks. */
int64_t lc_now_ms(void);      /* CLOCK_MONOTONIC, milliseconds */
int64_t lc_wall_ms(void);     /* CLOCK_REALTIME, milliseconds since the epoch */

#endif
