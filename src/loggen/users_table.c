/* users_table.c - accounts 1..N, a primary device each, a second one for ~5%; CSV and SQL. */
#include "loggen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *const DEVICES[] = { "ANDROID", "IOS", "WEB", "WINDOWS", "MACOS", "LINUX" };
_Static_assert(LC_ARRAY_SIZE(DEVICES) == NDEVICES, "NDEVICES must be the number of DEVICES");
#define SECOND_DEVICE_PERCENT 5

void users_generate(users_table_t *u, uint64_t n, uint64_t seed)
{
    rng_t r;
    rng_init(&r, seed, STREAM_USERS);
    u->n = n;
    u->primary = lc_xmalloc(n);
    u->second = lc_xmalloc(n);
    for (uint64_t i = 0; i < n; i++) {
        int primary = (int)rng_below(&r, NDEVICES);
        u->primary[i] = (uint8_t)primary;
        u->second[i] = NO_DEVICE;
        if (rng_percent(&r, SECOND_DEVICE_PERCENT)) {
            int offset = 1 + (int)rng_below(&r, NDEVICES - 1);
            u->second[i] = (uint8_t)((primary + offset) % NDEVICES);
        }
    }
}

void users_free(users_table_t *u)
{
    free(u->primary);
    free(u->second);
}

bool users_has_device(const users_table_t *u, uint64_t account, int device)
{
    return u->primary[account - 1] == device || u->second[account - 1] == device;
}

int users_pick_device(const users_table_t *u, rng_t *r, uint64_t account)
{
    uint8_t second = u->second[account - 1];
    if (second != NO_DEVICE && rng_percent(r, 50))
        return second;
    return u->primary[account - 1];
}

/* A device as the users files write it: varied case, sometimes surrounding spaces, so that
 * logclassify's normalisation (CONTRACT §2.2) is exercised on the table side too. */
static void users_device_text(rng_t *r, int device, char *out, size_t cap)
{
    char cased[16];
    vary_case(r, DEVICES[device], cased, sizeof cased);
    unsigned pad = (unsigned)rng_below(r, 100);
    const char *lead = (pad >= 85 && pad < 90) || pad >= 95 ? " " : "";
    const char *trail = pad >= 90 ? " " : "";
    snprintf(out, cap, "%s%s%s", lead, cased, trail);
}

typedef void (*users_row_fn)(void *ctx, uint64_t account, const char *device_text);

/* Calls fn for every row in account order: the primary device, then the second one. */
static void users_for_each_row(const users_table_t *u, rng_t *r, users_row_fn fn, void *ctx)
{
    char text[32];
    for (uint64_t i = 0; i < u->n; i++) {
        users_device_text(r, u->primary[i], text, sizeof text);
        fn(ctx, i + 1, text);
        if (u->second[i] != NO_DEVICE) {
            users_device_text(r, u->second[i], text, sizeof text);
            fn(ctx, i + 1, text);
        }
    }
}

static void csv_row(void *ctx, uint64_t account, const char *device_text)
{
    fprintf((FILE *)ctx, "%" PRIu64 ",%s\n", account, device_text);
}

#define SQL_ROWS_PER_INSERT 1000

typedef struct sql_writer {
    FILE *f;
    uint64_t rows;
} sql_writer_t;

static void sql_row(void *ctx, uint64_t account, const char *device_text)
{
    sql_writer_t *w = ctx;
    if (w->rows % SQL_ROWS_PER_INSERT == 0)
        fputs(w->rows ? ";\nINSERT INTO users (account_no, user_device) VALUES\n"
                      : "INSERT INTO users (account_no, user_device) VALUES\n", w->f);
    else
        fputs(",\n", w->f);
    /* Device texts are letters and spaces only: nothing to escape in a SQL literal. */
    fprintf(w->f, "(%" PRIu64 ",'%s')", account, device_text);
    w->rows++;
}

static int close_checked(FILE *f, const char *path, char *errstr, size_t errlen)
{
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed)
        return lc_err(errstr, errlen, "%s: write failed", path);
    return 0;
}

int users_write_csv(const users_table_t *u, uint64_t seed, const char *path,
                    char *errstr, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return lc_err(errstr, errlen, "%s: %s", path, strerror(errno));
    rng_t r;
    rng_init(&r, seed, STREAM_USERS_CSV);
    users_for_each_row(u, &r, csv_row, f);
    return close_checked(f, path, errstr, errlen);
}

int users_write_sql(const users_table_t *u, uint64_t seed, const char *path,
                    char *errstr, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return lc_err(errstr, errlen, "%s: %s", path, strerror(errno));
    rng_t r;
    rng_init(&r, seed, STREAM_USERS_SQL);
    sql_writer_t w = { .f = f, .rows = 0 };
    fputs("DELETE FROM users;\n", f);
    users_for_each_row(u, &r, sql_row, &w);
    if (w.rows)
        fputs(";\n", f);
    return close_checked(f, path, errstr, errlen);
}
