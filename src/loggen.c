/*
 * loggen.c - load generator and test oracle for logclassify.
 *
 * Writes JSON server-log records to Kafka (or to standard output, one per line) and knows,
 * for every record, the label and the reason logclassify must give it under the DEFAULT
 * configuration (SPEC §1-§3): the default schema, users.unknown_account = suspicious,
 * case-insensitive devices, and input.max_record_bytes = --max-record-bytes. It also writes
 * the users table those labels assume (--users-csv, --users-sql) and the expected counts
 * (--truth), which the integration tests compare with logclassify's counts exactly.
 *
 * Why the truth is exact and not statistical: every bad record is broken in exactly one way
 * (one document-level defect, or one schema field), so it has exactly one reason; every
 * other record is built from a known account and a device chosen against the users table.
 * The shares are exact too: the label of each record is drawn by selection sampling, so
 * round(count * share) records get it, at random places.
 *
 * Everything random comes from xoshiro256** generators seeded from --seed, one stream per
 * purpose, so the same seed and arguments give byte-identical records, keys and files.
 *
 * Sections: PRNG · reasons and truth · users table · drafting a record · one function per
 * kind of record · the generator · sinks (stdout, Kafka) · pacing and progress · command
 * line · main.
 *
 * Depends only on lc_common.h (lc_buf_t) and librdkafka, so it builds while the service's
 * modules are being written.
 */
#include "lc_common.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded with splitmix64 (never rand(): output must be reproducible).  */
/* ------------------------------------------------------------------------------------ */

typedef struct rng {
    uint64_t s[4];
} rng_t;

/* Independent streams, so that e.g. the users table does not change when --count does. */
enum rng_stream { STREAM_USERS = 1, STREAM_USERS_CSV, STREAM_USERS_SQL, STREAM_RECORDS };

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void rng_init(rng_t *r, uint64_t seed, enum rng_stream stream)
{
    uint64_t x = seed ^ ((uint64_t)stream * 0xD1B54A32D192ED03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n), n > 0. Rejection keeps it unbiased for any n. */
static uint64_t rng_below(rng_t *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = rng_next(r);
    while (x >= limit);
    return x % n;
}

static bool rng_percent(rng_t *r, unsigned percent)
{
    return rng_below(r, 100) < percent;
}

#define RNG_PICK(r, array) ((array)[rng_below((r), LC_ARRAY_SIZE(array))])

/* ------------------------------------------------------------------------------------ */
/* Reasons and truth                                                                      */
/* ------------------------------------------------------------------------------------ */

/* The default schema (SPEC §3), in schema order. */
enum field { F_EVENT_ID, F_ACCOUNT_ID, F_EVENT_TYPE, F_DEVICE, F_COUNTRY, F_TIMESTAMP, NFIELDS };

static const char *const FIELD_NAMES[NFIELDS] = {
    "event_id", "account_id", "event_type", "device", "location_country", "event_timestamp",
};
/* The same names as JSON text, ready to be a member name. */
static const char *const FIELD_NAMES_JSON[NFIELDS] = {
    "\"event_id\"", "\"account_id\"", "\"event_type\"",
    "\"device\"", "\"location_country\"", "\"event_timestamp\"",
};

static bool field_is_string(int field)
{
    return field != F_ACCOUNT_ID && field != F_TIMESTAMP;
}

/* Field checks a default schema can fail (no max_length, enum or pattern there). */
enum check { C_MISSING, C_NULL, C_TYPE, C_EMPTY, NCHECKS };
static const char *const CHECK_NAMES[NCHECKS] = { "missing", "null", "type", "empty" };

enum reason {
    R_NONE = -1,
    R_TOO_LARGE,
    R_INVALID_JSON,
    R_NOT_OBJECT,
    R_DUPLICATE_KEY,
    R_UNKNOWN_ACCOUNT,
    R_DEVICE_MISMATCH,
    R_FIRST_FIELD,                                   /* then NCHECKS per field */
    NREASONS = R_FIRST_FIELD + NFIELDS * NCHECKS
};
static const char *const DOCUMENT_REASON_NAMES[R_FIRST_FIELD] = {
    "too_large", "invalid_json", "not_object", "duplicate_key", "unknown_account",
    "device_mismatch",
};

static int field_reason(int field, int check)
{
    return R_FIRST_FIELD + field * NCHECKS + check;
}

/* The reason code exactly as SPEC names it: "invalid_json", "missing:device", ... */
static void reason_name(int reason, char *out, size_t cap)
{
    if (reason < R_FIRST_FIELD) {
        snprintf(out, cap, "%s", DOCUMENT_REASON_NAMES[reason]);
        return;
    }
    int index = reason - R_FIRST_FIELD;
    snprintf(out, cap, "%s:%s", CHECK_NAMES[index % NCHECKS], FIELD_NAMES[index / NCHECKS]);
}

enum label { L_GOOD, L_BAD, L_SUSPICIOUS, NLABELS };
static const char *const LABEL_NAMES[NLABELS] = { "good", "bad", "suspicious" };

typedef struct truth {
    uint64_t count;
    uint64_t labels[NLABELS];
    uint64_t reasons[NREASONS];
} truth_t;

static void truth_add(truth_t *t, int label, int reason)
{
    t->count++;
    t->labels[label]++;
    if (reason != R_NONE)
        t->reasons[reason]++;
}

typedef struct named_count {
    char name[48];
    uint64_t count;
} named_count_t;

static int named_count_cmp(const void *a, const void *b)
{
    return strcmp(((const named_count_t *)a)->name, ((const named_count_t *)b)->name);
}

/* The reasons that occurred, sorted by name. Returns how many. */
static size_t truth_sorted_reasons(const truth_t *t, named_count_t out[NREASONS])
{
    size_t n = 0;
    for (int r = 0; r < NREASONS; r++) {
        if (!t->reasons[r])
            continue;
        reason_name(r, out[n].name, sizeof out[n].name);
        out[n].count = t->reasons[r];
        n++;
    }
    qsort(out, n, sizeof *out, named_count_cmp);
    return n;
}

static void truth_print(const truth_t *t, FILE *f)
{
    named_count_t sorted[NREASONS];
    size_t n = truth_sorted_reasons(t, sorted);
    fprintf(f, "loggen: %" PRIu64 " records: good=%" PRIu64 " bad=%" PRIu64
               " suspicious=%" PRIu64 "\n",
            t->count, t->labels[L_GOOD], t->labels[L_BAD], t->labels[L_SUSPICIOUS]);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  reason %s %" PRIu64 "\n", sorted[i].name, sorted[i].count);
}

/* {"count":N,"labels":{...},"reasons":{...}}: only reasons that occurred, sorted. */
static int truth_write_json(const truth_t *t, const char *path, char *errstr, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return lc_err(errstr, errlen, "%s: %s", path, strerror(errno));
    named_count_t sorted[NREASONS];
    size_t n = truth_sorted_reasons(t, sorted);
    fprintf(f, "{\"count\":%" PRIu64 ",\"labels\":{", t->count);
    for (int l = 0; l < NLABELS; l++)
        fprintf(f, "%s\"%s\":%" PRIu64, l ? "," : "", LABEL_NAMES[l], t->labels[l]);
    fputs("},\"reasons\":{", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", sorted[i].name, sorted[i].count);
    fputs("}}\n", f);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed)
        return lc_err(errstr, errlen, "%s: write failed", path);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Users table: accounts 1..N, a primary device each, a second one for ~5%.              */
/* ------------------------------------------------------------------------------------ */

static const char *const DEVICES[] = { "ANDROID", "IOS", "WEB", "WINDOWS", "MACOS", "LINUX" };
#define NDEVICES ((int)LC_ARRAY_SIZE(DEVICES))
/* Devices that no users row ever has, for device_mismatch. */
static const char *const FOREIGN_DEVICES[] = {
    "TABLET", "SMART_TV", "PLAYSTATION", "ANDROID_TV", "CHROMEOS", "IPADOS",
};
#define NO_DEVICE 0xFF
#define SECOND_DEVICE_PERCENT 5

typedef struct users_table {
    uint64_t n;
    uint8_t *primary;  /* [n]: device index of account i+1 */
    uint8_t *second;   /* [n]: another device index, or NO_DEVICE */
} users_table_t;

static int users_generate(users_table_t *u, uint64_t n, uint64_t seed,
                          char *errstr, size_t errlen)
{
    rng_t r;
    rng_init(&r, seed, STREAM_USERS);
    u->n = n;
    u->primary = malloc(n ? n : 1);
    u->second = malloc(n ? n : 1);
    if (!u->primary || !u->second)
        return lc_err(errstr, errlen, "out of memory for %" PRIu64 " users", n);
    for (uint64_t i = 0; i < n; i++) {
        int primary = (int)rng_below(&r, NDEVICES);
        u->primary[i] = (uint8_t)primary;
        u->second[i] = NO_DEVICE;
        if (rng_percent(&r, SECOND_DEVICE_PERCENT)) {
            int offset = 1 + (int)rng_below(&r, NDEVICES - 1);
            u->second[i] = (uint8_t)((primary + offset) % NDEVICES);
        }
    }
    return 0;
}

static void users_free(users_table_t *u)
{
    free(u->primary);
    free(u->second);
}

static bool users_has_device(const users_table_t *u, uint64_t account, int device)
{
    return u->primary[account - 1] == device || u->second[account - 1] == device;
}

/* One of the account's devices (primary or second). */
static int users_pick_device(const users_table_t *u, rng_t *r, uint64_t account)
{
    uint8_t second = u->second[account - 1];
    if (second != NO_DEVICE && rng_percent(r, 50))
        return second;
    return u->primary[account - 1];
}

/* `name` in a random mix of ASCII case: as is (upper), lower, Capitalised, or per letter. */
static void vary_case(rng_t *r, const char *name, char *out, size_t cap)
{
    unsigned style = (unsigned)rng_below(r, 100);
    size_t i = 0;
    for (; name[i] && i + 1 < cap; i++) {
        char c = name[i];
        bool lower;
        if (style < 50)
            lower = false;
        else if (style < 70)
            lower = true;
        else if (style < 85)
            lower = i > 0;
        else
            lower = rng_percent(r, 50);
        out[i] = (lower && c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[i] = '\0';
}

/* A device as the users files write it: varied case, sometimes surrounding spaces, so that
 * logclassify's normalisation (SPEC §2.2) is exercised on the table side too. */
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

/* Pipe mode's users CSV (SPEC §7): `account,device` per line, no header. */
static int users_write_csv(const users_table_t *u, uint64_t seed, const char *path,
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

/* SQL for MySQL: empties `users`, then multi-row INSERTs of SQL_ROWS_PER_INSERT rows. */
static int users_write_sql(const users_table_t *u, uint64_t seed, const char *path,
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

/* ------------------------------------------------------------------------------------ */
/* Drafting a record: field values and members as JSON text, then rendering.             */
/* ------------------------------------------------------------------------------------ */

#define TEXT_CAP 160
#define MAX_MEMBERS 24

/* A member as JSON text: `name` usually includes its quotes, `value` is any text at all
 * (the bad-record recipes put broken JSON there on purpose). */
typedef struct member {
    const char *name;
    const char *value;
} member_t;

typedef struct draft {
    char field_text[NFIELDS][TEXT_CAP];
    bool field_present[NFIELDS];
    char scratch_name[TEXT_CAP];    /* storage for one computed member name */
    char scratch_value[TEXT_CAP];   /* storage for one computed member value */
    member_t members[MAX_MEMBERS];
    size_t nmembers;
    char key[32];                   /* message key; empty: no key */
} draft_t;

static const char *const EVENT_TYPES[] = { "login", "logout", "purchase", "view", "other" };
static const char *const COUNTRIES[] = {
    "FR", "DE", "US", "GB", "IN", "BR", "JP", "CN", "ES", "IT",
    "NL", "SE", "PL", "CA", "AU", "MX", "ZA", "NG", "KR", "AR",
};

/* Members outside the schema: allowed, ignored by the checks, kept verbatim (SPEC §2.1, §4).
 * "status" and "reasons" exercise the original_<name> renaming of SPEC §4. */
static const member_t EXTRA_MEMBERS[] = {
    { "\"big\"", "123456789012345678901234567890" },
    { "\"ratio\"", "-1.25e-300" },
    { "\"meta\"", "{\"ua\":\"Mozilla/5.0 (X11; Linux x86_64)\",\"tags\":[\"a\",\"b\","
                  "{\"k\":[1,2,3]}],\"ok\":true,\"none\":null}" },
    { "\"note\"", "\"naïve café ✓ 日本語 😀\"" },
    { "\"escaped\"", "\"nul\\u0000byte \\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/\"" },
    { "\"status\"", "\"pending\"" },
    { "\"reasons\"", "[\"preexisting\"]" },
    { "\"\"", "\"empty member name\"" },
    { "\"session\"", "{\"id\":\"s-1\",\"deep\":[[[{}]]],\"n\":0,\"x\":-0.0}" },
};

#define EXTRA_PERCENT 15
#define SHUFFLE_PERCENT 10
#define OUTER_SPACE_PERCENT 3

static void draft_reset(draft_t *d)
{
    for (int f = 0; f < NFIELDS; f++)
        d->field_present[f] = true;
    d->nmembers = 0;
    d->key[0] = '\0';
}

static void draft_setf(draft_t *d, int field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void draft_setf(draft_t *d, int field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->field_text[field], TEXT_CAP, fmt, ap);
    va_end(ap);
}

static void draft_add_member(draft_t *d, const char *name, const char *value)
{
    if (d->nmembers < MAX_MEMBERS)
        d->members[d->nmembers++] = (member_t){ name, value };
}

/* Appends to a NUL-terminated char array of capacity cap (truncating, never overflowing). */
static void text_append(char *out, size_t cap, const char *s)
{
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "%s", s);
}

static int decimal_digits(int64_t v)
{
    int digits = 1;
    for (; v >= 10; v /= 10)
        digits++;
    return digits;
}

/* A valid account_id (SPEC §3 integer): mostly a string, sometimes a JSON number, leading
 * zeros (still at most 19 digits) or a \u escape; all name the same account. */
static void draft_set_account(rng_t *r, draft_t *d, int64_t account)
{
    unsigned form = (unsigned)rng_below(r, 100);
    if (form < 70 || (account < 0 && form >= 85)) {
        draft_setf(d, F_ACCOUNT_ID, "\"%" PRId64 "\"", account);
    } else if (form < 85) {
        draft_setf(d, F_ACCOUNT_ID, "%" PRId64, account);
    } else if (form < 97) {
        int digits = decimal_digits(account);
        int zeros = 1 + (int)rng_below(r, 3);
        if (digits + zeros > 19)
            zeros = 19 - digits;
        draft_setf(d, F_ACCOUNT_ID, "\"%0*" PRId64 "\"", digits + zeros, account);
    } else {
        char digits[24];
        snprintf(digits, sizeof digits, "%" PRId64, account);
        draft_setf(d, F_ACCOUNT_ID, "\"\\u00%02x%s\"", (unsigned char)digits[0], digits + 1);
    }
    snprintf(d->key, sizeof d->key, "%" PRId64, account);
}

/* A device as a record carries it: any case, sometimes surrounding white space (as JSON
 * escapes too) or a letter written as \u00XX. Normalised, it equals `name`. */
static void device_json(rng_t *r, const char *name, char *out, size_t cap)
{
    static const char *const pads[] = { " ", "  ", "\\t", "\\u0020", " \\t" };
    char cased[32];
    vary_case(r, name, cased, sizeof cased);
    const char *lead = rng_percent(r, 10) ? RNG_PICK(r, pads) : "";
    const char *trail = rng_percent(r, 10) ? RNG_PICK(r, pads) : "";
    size_t escape_at = rng_percent(r, 5) ? rng_below(r, strlen(cased)) : SIZE_MAX;

    snprintf(out, cap, "\"%s", lead);
    for (size_t i = 0; cased[i]; i++) {
        char one[8];
        if (i == escape_at)
            snprintf(one, sizeof one, "\\u%04x", (unsigned char)cased[i]);
        else
            snprintf(one, sizeof one, "%c", cased[i]);
        text_append(out, cap, one);
    }
    text_append(out, cap, trail);
    text_append(out, cap, "\"");
}

/* Epoch seconds of the generated events: 2020-01-01 .. 2025-01-01. */
#define TS_FIRST 1577836800
#define TS_SPAN (5 * 365 * 86400)
#define TS_LAST_VALID INT64_C(253402300799)

/* A valid RFC 3339 date-time for epoch t: 'T' or 't', optional fraction, Z/z or an offset. */
static void format_rfc3339(rng_t *r, int64_t t, char *out, size_t cap)
{
    static const char *const zones[] = { "Z", "Z", "Z", "z", "+00:00", "+02:00", "-05:30",
                                         "+14:00", "-12:00" };
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char fraction[12] = "";
    if (rng_percent(r, 40)) {
        int digits = 1 + (int)rng_below(r, 9);
        fraction[0] = '.';
        for (int i = 1; i <= digits; i++)
            fraction[i] = (char)('0' + rng_below(r, 10));
        fraction[digits + 1] = '\0';
    }
    char separator = rng_percent(r, 90) ? 'T' : 't';
    const char *zone = RNG_PICK(r, zones);
    snprintf(out, cap, "\"%04d-%02d-%02d%c%02d:%02d:%02d%s%s\"", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, separator, tm.tm_hour, tm.tm_min, tm.tm_sec,
             fraction, zone);
}

/* A valid event_timestamp (SPEC §3): mostly a string of epoch digits, sometimes a JSON
 * integer, an RFC 3339 string, or the edges of the accepted range. */
static void draft_set_timestamp(rng_t *r, draft_t *d)
{
    int64_t t = TS_FIRST + (int64_t)rng_below(r, TS_SPAN);
    unsigned form = (unsigned)rng_below(r, 100);
    if (form < 70)
        draft_setf(d, F_TIMESTAMP, "\"%" PRId64 "\"", t);
    else if (form < 82)
        draft_setf(d, F_TIMESTAMP, "%" PRId64, t);
    else if (form < 97)
        format_rfc3339(r, t, d->field_text[F_TIMESTAMP], TEXT_CAP);
    else if (form < 98)
        draft_setf(d, F_TIMESTAMP, "\"2024-02-29T12:00:00Z\"");   /* a leap day */
    else if (form < 99)
        draft_setf(d, F_TIMESTAMP, "%s", rng_percent(r, 50) ? "0" : "\"0\"");
    else
        draft_setf(d, F_TIMESTAMP, rng_percent(r, 50) ? "%" PRId64 : "\"%" PRId64 "\"",
                   TS_LAST_VALID);
}

static void draft_set_country(rng_t *r, draft_t *d)
{
    const char *country = RNG_PICK(r, COUNTRIES);
    unsigned form = (unsigned)rng_below(r, 100);
    if (form < 97) {
        draft_setf(d, F_COUNTRY, "\"%s\"", country);
    } else {
        /* Not the device: case and spaces are kept as they are, and still not empty. */
        draft_setf(d, F_COUNTRY, "\" %c%c\"", country[0] - 'A' + 'a', country[1] - 'A' + 'a');
    }
}

/* Every field valid, for `account` and device `device_name`. */
static void draft_fill_fields(rng_t *r, draft_t *d, int64_t account, const char *device_name)
{
    uint64_t id_high = rng_next(r);
    uint64_t id_low = rng_next(r);
    draft_setf(d, F_EVENT_ID, "\"%016" PRIx64 "%016" PRIx64 "\"", id_high, id_low);
    draft_set_account(r, d, account);
    draft_setf(d, F_EVENT_TYPE, "\"%s\"", RNG_PICK(r, EVENT_TYPES));
    device_json(r, device_name, d->field_text[F_DEVICE], TEXT_CAP);
    draft_set_country(r, d);
    draft_set_timestamp(r, d);
}

/* Turns the present fields into members, in schema order. */
static void draft_collect_fields(draft_t *d)
{
    for (int f = 0; f < NFIELDS; f++)
        if (d->field_present[f])
            draft_add_member(d, FIELD_NAMES_JSON[f], d->field_text[f]);
}

/* Sometimes one to three distinct members outside the schema. */
static void draft_add_extras(rng_t *r, draft_t *d)
{
    if (!rng_percent(r, EXTRA_PERCENT))
        return;
    int wanted = 1 + (int)rng_below(r, 3);
    unsigned used = 0;
    for (int i = 0; i < wanted; i++) {
        size_t pick = rng_below(r, LC_ARRAY_SIZE(EXTRA_MEMBERS));
        if (used & (1u << pick))
            continue;
        used |= 1u << pick;
        draft_add_member(d, EXTRA_MEMBERS[pick].name, EXTRA_MEMBERS[pick].value);
    }
}

/* Member order carries no meaning; sometimes shuffle it (Fisher-Yates). */
static void draft_maybe_shuffle(rng_t *r, draft_t *d)
{
    if (!rng_percent(r, SHUFFLE_PERCENT))
        return;
    for (size_t i = d->nmembers; i > 1; i--) {
        size_t j = rng_below(r, i);
        member_t tmp = d->members[i - 1];
        d->members[i - 1] = d->members[j];
        d->members[j] = tmp;
    }
}

/* Valid JSON white space between tokens: none, after separators, or around everything. */
enum style { STYLE_COMPACT, STYLE_SPACED, STYLE_LOOSE };

static enum style pick_style(rng_t *r)
{
    unsigned x = (unsigned)rng_below(r, 100);
    return x < 80 ? STYLE_COMPACT : x < 90 ? STYLE_SPACED : STYLE_LOOSE;
}

/* Renders the members as an object into out (reset first). Never writes a raw newline. */
static void draft_render(const draft_t *d, enum style style, lc_buf_t *out)
{
    static const char *const open[] = { "{", "{", "{ " };
    static const char *const colon[] = { ":", ": ", " : " };
    static const char *const comma[] = { ",", ", ", " , " };
    static const char *const close[] = { "}", "}", " }" };
    lc_buf_reset(out);
    lc_buf_puts(out, open[style]);
    for (size_t i = 0; i < d->nmembers; i++) {
        if (i)
            lc_buf_puts(out, comma[style]);
        lc_buf_puts(out, d->members[i].name);
        lc_buf_puts(out, colon[style]);
        lc_buf_puts(out, d->members[i].value);
    }
    lc_buf_puts(out, close[style]);
}

/* ------------------------------------------------------------------------------------ */
/* The generator: one function per kind of record.                                        */
/* ------------------------------------------------------------------------------------ */

typedef struct options {
    const char *brokers;
    const char *topic;
    uint64_t count;
    double rate;
    uint64_t seed;
    uint64_t users;
    double bad_share;
    double suspicious_share;
    uint64_t max_record_bytes;
    int64_t too_large;              /* -1: the default (1 per 100,000) */
    const char *users_csv;
    const char *users_sql;
    const char *truth_path;
    bool to_stdout;
    const char **properties;        /* -X key=value, in command-line order */
    size_t nproperties;
} options_t;

typedef struct record {
    lc_buf_t value;
    bool tombstone;                 /* no value at all (Kafka only) */
    char key[32];                   /* empty: no key */
    int label;
    int reason;
} record_t;

typedef struct generator {
    const options_t *opt;
    const users_table_t *users;
    rng_t rng;
    /* What is still to come; selection sampling draws from these, so the totals are exact. */
    uint64_t records_left;
    uint64_t bad_left;
    uint64_t too_large_left;
    uint64_t suspicious_left;
    uint64_t mismatch_left;
    /* Bad reasons other than too_large, taken in turn so that every one of them occurs. */
    int bad_cycle[NREASONS];
    size_t bad_cycle_len;
    size_t bad_cycle_pos;
    draft_t draft;
    lc_buf_t scratch;
} generator_t;

/* What a record is meant to be; the final size check may still turn it into too_large. */
typedef struct plan {
    int label;
    int reason;
} plan_t;

static uint64_t share_of(uint64_t count, double share)
{
    return (uint64_t)((double)count * share + 0.5);
}

/* The default number of too_large records: 1 per 100,000, at least 1 when there are bad
 * records and count >= 1000, never more than the bad records. */
static uint64_t default_too_large(uint64_t count, uint64_t bad_total)
{
    uint64_t n = count / 100000;
    if (n == 0 && count >= 1000 && bad_total > 0)
        n = 1;
    return n < bad_total ? n : bad_total;
}

static void generator_init(generator_t *g, const options_t *opt, const users_table_t *users)
{
    memset(g, 0, sizeof *g);
    g->opt = opt;
    g->users = users;
    rng_init(&g->rng, opt->seed, STREAM_RECORDS);

    uint64_t bad = share_of(opt->count, opt->bad_share);
    uint64_t too_large = opt->too_large >= 0 ? (uint64_t)opt->too_large
                                             : default_too_large(opt->count, bad);
    if (too_large > bad)
        bad = too_large;               /* an explicit --too-large wins over the share */
    uint64_t suspicious = share_of(opt->count, opt->suspicious_share);
    if (bad + suspicious > opt->count)
        suspicious = opt->count - bad;
    g->records_left = opt->count;
    g->bad_left = bad;
    g->too_large_left = too_large;
    g->suspicious_left = suspicious;
    g->mismatch_left = (suspicious + 1) / 2;

    g->bad_cycle[g->bad_cycle_len++] = R_INVALID_JSON;
    g->bad_cycle[g->bad_cycle_len++] = R_NOT_OBJECT;
    g->bad_cycle[g->bad_cycle_len++] = R_DUPLICATE_KEY;
    for (int f = 0; f < NFIELDS; f++)
        for (int c = 0; c < NCHECKS; c++)
            if (c != C_EMPTY || field_is_string(f))
                g->bad_cycle[g->bad_cycle_len++] = field_reason(f, c);
    g->bad_cycle_pos = rng_below(&g->rng, g->bad_cycle_len);
}

static void generator_free(generator_t *g)
{
    lc_buf_free(&g->scratch);
}

static plan_t plan_next(generator_t *g)
{
    rng_t *r = &g->rng;
    uint64_t draw = rng_below(r, g->records_left);
    g->records_left--;
    if (draw < g->bad_left) {
        bool too_large = rng_below(r, g->bad_left) < g->too_large_left;
        g->bad_left--;
        if (too_large) {
            g->too_large_left--;
            return (plan_t){ L_BAD, R_TOO_LARGE };
        }
        int reason = g->bad_cycle[g->bad_cycle_pos];
        g->bad_cycle_pos = (g->bad_cycle_pos + 1) % g->bad_cycle_len;
        return (plan_t){ L_BAD, reason };
    }
    if (draw < g->bad_left + g->suspicious_left) {
        bool mismatch = rng_below(r, g->suspicious_left) < g->mismatch_left;
        g->suspicious_left--;
        if (mismatch) {
            g->mismatch_left--;
            return (plan_t){ L_SUSPICIOUS, R_DEVICE_MISMATCH };
        }
        return (plan_t){ L_SUSPICIOUS, R_UNKNOWN_ACCOUNT };
    }
    return (plan_t){ L_GOOD, R_NONE };
}

/* An account no users row has: above N mostly, sometimes 0, negative or INT64_MAX. */
static int64_t unknown_account_id(rng_t *r, uint64_t n)
{
    unsigned form = (unsigned)rng_below(r, 100);
    if (form < 90)
        return (int64_t)(n + 1 + rng_below(r, 1000000));
    if (form < 94)
        return 0;
    if (form < 98)
        return -1 - (int64_t)rng_below(r, 1000);
    return INT64_MAX;
}

/* A device name that none of the account's rows has. */
static const char *mismatching_device(rng_t *r, const users_table_t *u, uint64_t account)
{
    if (rng_percent(r, 30))
        return RNG_PICK(r, FOREIGN_DEVICES);
    int candidates[NDEVICES];
    int n = 0;
    for (int dev = 0; dev < NDEVICES; dev++)
        if (!users_has_device(u, account, dev))
            candidates[n++] = dev;
    return DEVICES[candidates[rng_below(r, (uint64_t)n)]];
}

/* Fills every field validly for the plan: a known account with one of its devices, except
 * for the two users reasons. With an empty users table every account is unknown. */
static void draft_fill_for_plan(generator_t *g, plan_t *plan)
{
    rng_t *r = &g->rng;
    const users_table_t *u = g->users;
    if (u->n == 0 && (plan->label == L_GOOD || plan->reason == R_DEVICE_MISMATCH))
        *plan = (plan_t){ L_SUSPICIOUS, R_UNKNOWN_ACCOUNT };

    if (plan->reason == R_UNKNOWN_ACCOUNT) {
        int64_t account = unknown_account_id(r, u->n);
        const char *device = RNG_PICK(r, DEVICES);
        draft_fill_fields(r, &g->draft, account, device);
        return;
    }
    uint64_t account = u->n ? 1 + rng_below(r, u->n) : 1;
    const char *device;
    if (plan->reason == R_DEVICE_MISMATCH)
        device = mismatching_device(r, u, account);
    else
        device = u->n ? DEVICES[users_pick_device(u, r, account)] : DEVICES[0];
    draft_fill_fields(r, &g->draft, (int64_t)account, device);
}

/* --- field-level defects: exactly one field broken ---------------------------------- */

/* Values that fail type:F for a string field: any JSON type but a string. */
static const char *const NOT_STRINGS[] = {
    "123", "-0", "1.5", "true", "false", "[\"a\"]", "{\"v\":\"x\"}", "[]",
};

/* Values that fail type:account_id (SPEC §3 integer), with the key the message gets. */
static const struct {
    const char *json;
    const char *key;
} BAD_ACCOUNTS[] = {
    { "\"12a\"", "12a" },
    { "true", NULL },
    { "12.5", NULL },
    { "684.0", NULL },
    { "1e3", NULL },
    { "\"99999999999999999999\"", "99999999999999999999" },     /* 20 digits */
    { "\"9223372036854775808\"", "9223372036854775808" },       /* INT64_MAX + 1 */
    { "9223372036854775808", NULL },
    { "-9223372036854775809", NULL },
    { "\"+684\"", "+684" },
    { "\" 684\"", " 684" },
    { "\"684 \"", "684 " },
    { "\"-\"", "-" },
    { "\"\"", NULL },                                          /* no empty:F for integers */
    { "\"0x2AC\"", "0x2AC" },
    { "[684]", NULL },
    { "{\"id\":684}", NULL },
};

/* Values that fail type:event_timestamp (SPEC §3 timestamp). */
static const char *const BAD_TIMESTAMPS[] = {
    "\"-5\"",
    "-5",
    "\"2021-02-30T00:00:00Z\"",       /* no such day */
    "\"2023-02-29T00:00:00Z\"",       /* not a leap year */
    "\"2021-13-01T00:00:00Z\"",
    "\"2021-04-29T24:00:00Z\"",
    "\"2021-04-29T19:60:00Z\"",
    "\"2021-04-29 19:28:30Z\"",       /* a space instead of T is refused */
    "\"2021-04-29T19:28:30\"",        /* no offset */
    "\"2021-04-29\"",
    "\"253402300800\"",               /* one past the last accepted second */
    "253402300800",
    "\"1619724510.5\"",
    "1619724510.5",
    "\" 1619724510\"",
    "\"yesterday\"",
    "\"\"",
    "true",
    "[1619724510]",
};

/* Values that fail empty:F: empty or only ASCII white space, here also as escapes. */
static const char *const EMPTY_STRINGS[] = {
    "\"\"", "\" \"", "\"  \\t\"", "\"\\t\\n\\r\\f\\u000b \"", "\"\\u0020\"",
};

static void break_field_type(generator_t *g, int field)
{
    draft_t *d = &g->draft;
    rng_t *r = &g->rng;
    if (field == F_ACCOUNT_ID) {
        size_t pick = rng_below(r, LC_ARRAY_SIZE(BAD_ACCOUNTS));
        draft_setf(d, field, "%s", BAD_ACCOUNTS[pick].json);
        snprintf(d->key, sizeof d->key, "%s", BAD_ACCOUNTS[pick].key ? BAD_ACCOUNTS[pick].key : "");
    } else if (field == F_TIMESTAMP) {
        draft_setf(d, field, "%s", RNG_PICK(r, BAD_TIMESTAMPS));
    } else {
        draft_setf(d, field, "%s", RNG_PICK(r, NOT_STRINGS));
    }
}

static void break_field(generator_t *g, int reason)
{
    draft_t *d = &g->draft;
    int field = (reason - R_FIRST_FIELD) / NCHECKS;
    int check = (reason - R_FIRST_FIELD) % NCHECKS;
    switch (check) {
    case C_MISSING:
        d->field_present[field] = false;
        break;
    case C_NULL:
        draft_setf(d, field, "null");
        break;
    case C_TYPE:
        break_field_type(g, field);
        break;
    default:
        draft_setf(d, field, "%s", RNG_PICK(&g->rng, EMPTY_STRINGS));
        break;
    }
    if (field == F_ACCOUNT_ID && check != C_TYPE)
        d->key[0] = '\0';
}

/* A record that is good, suspicious, or bad in one field: the only kinds whose value may
 * have white space around it (document-level recipes cut and wrap the text). */
static void make_object_record(generator_t *g, const plan_t *plan, record_t *rec)
{
    rng_t *r = &g->rng;
    draft_t *d = &g->draft;
    if (plan->reason >= R_FIRST_FIELD)
        break_field(g, plan->reason);
    draft_collect_fields(d);
    draft_add_extras(r, d);
    draft_maybe_shuffle(r, d);
    enum style style = pick_style(r);
    bool lead = rng_percent(r, OUTER_SPACE_PERCENT);
    bool trail = rng_percent(r, OUTER_SPACE_PERCENT);
    draft_render(d, style, &g->scratch);
    lc_buf_reset(&rec->value);
    if (lead)
        lc_buf_putc(&rec->value, ' ');
    lc_buf_append(&rec->value, g->scratch.data, g->scratch.len);
    if (trail)
        lc_buf_putc(&rec->value, ' ');
}

/* --- invalid_json -------------------------------------------------------------------- */

enum invalid_flavour {
    IJ_TRUNCATED,
    IJ_TRAILING_COMMA,
    IJ_SINGLE_QUOTES,
    IJ_MISSING_VALUE,
    IJ_BAD_UTF8,
    IJ_UNTERMINATED_STRING,
    IJ_LEADING_ZERO,
    IJ_TRAILING_GARBAGE,
    IJ_RAW_CONTROL,
    IJ_UNQUOTED_NAME,
    IJ_BARE_WORD,
    IJ_BAD_ESCAPE,
    IJ_EMPTY_VALUE,        /* Kafka only: a zero-length message value */
    IJ_BLANK_VALUE,        /* Kafka only: white space only */
    IJ_TOMBSTONE,          /* Kafka only: no value at all */
    IJ_COUNT
};

static const char *const BAD_UTF8[] = {
    "caf\xC3",             /* a lead byte followed by '"' */
    "\xFF",
    "\xC0\xAF",            /* overlong '/' */
    "\xED\xA0\x80",        /* an encoded surrogate */
    "\xF5\x80\x80\x80",    /* beyond U+10FFFF */
    "ok\x80",              /* a stray continuation byte */
};
static const char *const RAW_CONTROLS[] = { "\"log\tin\"", "\"view\x01\"", "\"a\037b\"" };
static const char *const BARE_WORDS[] = { "NaN", "Infinity", "-Infinity", "undefined", "True" };
static const char *const BAD_ESCAPES[] = { "\"AND\\xROID\"", "\"\\u12G4\"", "\"it\\'s\"",
                                           "\"\\U0041\"" };
static const char *const TRAILING_GARBAGE[] = { " x", "}", "{}", ",", " null", "]" };
static const int STRING_FIELDS[] = { F_EVENT_ID, F_EVENT_TYPE, F_DEVICE, F_COUNTRY };

/* Changes the draft before rendering, for the flavours that break a value or a name. */
static void invalid_json_prepare(generator_t *g, enum invalid_flavour flavour)
{
    draft_t *d = &g->draft;
    rng_t *r = &g->rng;
    int field = RNG_PICK(r, STRING_FIELDS);
    switch (flavour) {
    case IJ_SINGLE_QUOTES: {
        char *text = d->field_text[field];
        text[0] = '\'';
        text[strlen(text) - 1] = '\'';
        break;
    }
    case IJ_MISSING_VALUE:
        d->field_text[field][0] = '\0';
        break;
    case IJ_LEADING_ZERO:
        draft_setf(d, F_ACCOUNT_ID, "0%s", d->key);
        break;
    case IJ_RAW_CONTROL:
        draft_setf(d, F_EVENT_TYPE, "%s", RNG_PICK(r, RAW_CONTROLS));
        break;
    case IJ_BARE_WORD:
        draft_setf(d, F_TIMESTAMP, "%s", RNG_PICK(r, BARE_WORDS));
        break;
    case IJ_BAD_ESCAPE:
        draft_setf(d, F_DEVICE, "%s", RNG_PICK(r, BAD_ESCAPES));
        break;
    default:
        break;
    }
    draft_collect_fields(d);
    if (flavour == IJ_BAD_UTF8) {
        snprintf(d->scratch_value, TEXT_CAP, "\"%s\"", RNG_PICK(r, BAD_UTF8));
        draft_add_member(d, "\"bytes\"", d->scratch_value);
    } else if (flavour == IJ_UNQUOTED_NAME) {
        d->members[field].name = FIELD_NAMES[field];   /* all fields present: index = field */
    }
}

/* Changes the rendered text, for the flavours that break the document's structure. */
static void invalid_json_finish(generator_t *g, enum invalid_flavour flavour, record_t *rec)
{
    lc_buf_t *v = &rec->value;
    rng_t *r = &g->rng;
    switch (flavour) {
    case IJ_TRUNCATED:
        v->len = 1 + rng_below(r, v->len - 1);   /* never empty: "{" at least */
        break;
    case IJ_TRAILING_COMMA:
        v->len--;                                /* drop the '}' */
        lc_buf_puts(v, ",}");
        break;
    case IJ_UNTERMINATED_STRING:
        v->len--;
        lc_buf_puts(v, ",\"comment\":\"never closed");
        break;
    case IJ_TRAILING_GARBAGE:
        lc_buf_puts(v, RNG_PICK(r, TRAILING_GARBAGE));
        break;
    case IJ_EMPTY_VALUE:
        v->len = 0;
        break;
    case IJ_BLANK_VALUE:
        lc_buf_reset(v);
        lc_buf_puts(v, " \t ");
        break;
    case IJ_TOMBSTONE:
        v->len = 0;
        rec->tombstone = true;
        break;
    default:
        break;
    }
}

static void make_invalid_json(generator_t *g, record_t *rec)
{
    enum invalid_flavour flavour = (enum invalid_flavour)rng_below(&g->rng, IJ_COUNT);
    /* A line can be neither empty nor absent, and a blank one is skipped by pipe mode
     * (SPEC §7): on standard output these become a member without a value. */
    if (g->opt->to_stdout && flavour >= IJ_EMPTY_VALUE)
        flavour = IJ_MISSING_VALUE;
    invalid_json_prepare(g, flavour);
    draft_render(&g->draft, STYLE_COMPACT, &rec->value);
    invalid_json_finish(g, flavour, rec);
}

/* --- not_object ---------------------------------------------------------------------- */

static const char *const NOT_OBJECTS[] = {
    "\"server log: login from FR\"", "42", "-1.5e10", "123456789012345678901234567890",
    "null", "true", "false", "[]", "[1,\"two\",{\"three\":3}]",
};

static void make_not_object(generator_t *g, record_t *rec)
{
    draft_t *d = &g->draft;
    rng_t *r = &g->rng;
    unsigned form = (unsigned)rng_below(r, 3);
    draft_collect_fields(d);
    draft_render(d, STYLE_COMPACT, &g->scratch);
    lc_buf_reset(&rec->value);
    if (form == 0) {                             /* the record inside an array */
        lc_buf_putc(&rec->value, '[');
        lc_buf_append(&rec->value, g->scratch.data, g->scratch.len);
        lc_buf_putc(&rec->value, ']');
    } else if (form == 1) {                      /* the record as a JSON string */
        lc_buf_json_string(&rec->value, g->scratch.data, g->scratch.len);
    } else {
        lc_buf_puts(&rec->value, RNG_PICK(r, NOT_OBJECTS));
        d->key[0] = '\0';
    }
}

/* --- duplicate_key ------------------------------------------------------------------- */

static const member_t NESTED_DUPLICATES[] = {
    { "\"ctx\"", "{\"a\":1,\"b\":{\"c\":true,\"c\":false}}" },
    { "\"list\"", "[1,{\"k\":\"v\",\"k\":\"v\"}]" },
    { "\"ctx\"", "{\"k\\u0065y\":1,\"key\":2}" },  /* names compare after unescaping */
    { "\"deep\"", "[[[{\"x\":{\"y\":null,\"y\":null}}]]]" },
};

/* `name` (a field name) with its last letter written as a \u escape, as JSON text. */
static void escaped_name(const char *name, char *out, size_t cap)
{
    size_t len = strlen(name);
    snprintf(out, cap, "\"%.*s\\u%04x\"", (int)(len - 1), name, (unsigned char)name[len - 1]);
}

static void make_duplicate_key(generator_t *g, record_t *rec)
{
    draft_t *d = &g->draft;
    rng_t *r = &g->rng;
    unsigned form = (unsigned)rng_below(r, 4);
    int field = (int)rng_below(r, NFIELDS);
    draft_collect_fields(d);
    if (form == 0) {                             /* a field twice, the same value */
        draft_add_member(d, FIELD_NAMES_JSON[field], d->field_text[field]);
    } else if (form == 1) {                      /* a field twice, once spelt with \u */
        escaped_name(FIELD_NAMES[field], d->scratch_name, TEXT_CAP);
        draft_add_member(d, d->scratch_name, d->field_text[field]);
    } else if (form == 2) {                      /* a member outside the schema twice */
        draft_add_member(d, "\"x\"", "1");
        draft_add_member(d, "\"x\"", "2");
    } else {                                     /* deeper down */
        member_t nested = RNG_PICK(r, NESTED_DUPLICATES);
        draft_add_member(d, nested.name, nested.value);
    }
    draft_maybe_shuffle(r, d);
    draft_render(d, pick_style(r), &rec->value);
}

/* --- too_large ----------------------------------------------------------------------- */

/* A record that would be good, padded to max_record_bytes + 1..100 bytes. The padding is
 * repetitive on purpose: compressed, the message stays far below the broker's limit. */
static void make_too_large(generator_t *g, record_t *rec)
{
    static const char pattern[] = "lorem ipsum dolor sit amet ";
    static const char opening[] = ",\"padding\":\"";
    draft_t *d = &g->draft;
    uint64_t target = g->opt->max_record_bytes + 1 + rng_below(&g->rng, 100);
    draft_collect_fields(d);
    draft_render(d, STYLE_COMPACT, &rec->value);
    /* Replace the closing '}' by the padding member: opening + padding + '"' + '}'. */
    size_t fixed = rec->value.len - 1 + (sizeof opening - 1) + 2;
    size_t padding = target > fixed ? (size_t)(target - fixed) : 0;
    rec->value.len--;
    lc_buf_puts(&rec->value, opening);
    lc_buf_reserve(&rec->value, padding + 2);
    for (size_t i = 0; i < padding; i++)
        rec->value.data[rec->value.len++] = pattern[i % (sizeof pattern - 1)];
    lc_buf_puts(&rec->value, "\"}");
}

/* The next record and the label and reason logclassify must give it. */
static void generator_next(generator_t *g, record_t *rec)
{
    plan_t plan = plan_next(g);
    draft_reset(&g->draft);
    rec->tombstone = false;
    draft_fill_for_plan(g, &plan);
    switch (plan.reason) {
    case R_TOO_LARGE:
        make_too_large(g, rec);
        break;
    case R_INVALID_JSON:
        make_invalid_json(g, rec);
        break;
    case R_NOT_OBJECT:
        make_not_object(g, rec);
        break;
    case R_DUPLICATE_KEY:
        make_duplicate_key(g, rec);
        break;
    default:
        make_object_record(g, &plan, rec);
        break;
    }
    /* Size is checked before anything else (SPEC §2.1): with a small --max-record-bytes an
     * ordinary record is too_large as well, and the truth must say so. */
    if (!rec->tombstone && rec->value.len > g->opt->max_record_bytes)
        plan = (plan_t){ L_BAD, R_TOO_LARGE };
    snprintf(rec->key, sizeof rec->key, "%s", g->draft.key);
    rec->label = plan.label;
    rec->reason = plan.reason;
}

/* ------------------------------------------------------------------------------------ */
/* Sinks: standard output or Kafka.                                                       */
/* ------------------------------------------------------------------------------------ */

#define MAX_ERRORS_SHOWN 5

typedef struct sink {
    const options_t *opt;
    FILE *out;                      /* --stdout */
    rd_kafka_t *rk;                 /* otherwise */
    uint64_t written;               /* handed over: written, or queued in librdkafka */
    uint64_t delivered;             /* written, or acknowledged by the broker */
    uint64_t failed;
    char first_error[256];
} sink_t;

static void sink_note_failure(sink_t *s, const char *what)
{
    if (s->failed == 0)
        snprintf(s->first_error, sizeof s->first_error, "%s", what);
    if (s->failed < MAX_ERRORS_SHOWN)
        fprintf(stderr, "loggen: delivery failed: %s\n", what);
    s->failed++;
}

/* librdkafka calls this from rd_kafka_poll/flush, on this thread: no locking needed. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    sink_t *s = opaque;
    if (msg->err)
        sink_note_failure(s, rd_kafka_err2str(msg->err));
    else
        s->delivered++;
}

static int kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                     char *errstr, size_t errlen)
{
    char why[256];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK)
        return lc_err(errstr, errlen, "%s=%s: %s", name, value, why);
    return 0;
}

/* loggen's producer settings, then every -X (which may override them). */
static int kafka_configure(rd_kafka_conf_t *conf, const options_t *opt,
                           char *errstr, size_t errlen)
{
    char max_bytes[32];
    uint64_t needed = opt->max_record_bytes + 1024;  /* the largest too_large record fits */
    snprintf(max_bytes, sizeof max_bytes, "%" PRIu64, needed > 1000000 ? needed : 1000000);
    const char *defaults[][2] = {
        { "bootstrap.servers", opt->brokers },
        { "client.id", "loggen" },
        { "acks", "all" },
        { "enable.idempotence", "true" },
        { "linger.ms", "5" },
        { "message.max.bytes", max_bytes },
        /* too_large records are mostly padding: compressed, they pass a broker with the
         * default message.max.bytes (~1 MB) without a topic override. */
        { "compression.type", "lz4" },
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(defaults); i++)
        if (kafka_set(conf, defaults[i][0], defaults[i][1], errstr, errlen) < 0)
            return -1;
    for (size_t i = 0; i < opt->nproperties; i++) {
        char name[256];
        const char *property = opt->properties[i];
        const char *eq = strchr(property, '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - property), property);
        if (kafka_set(conf, name, eq + 1, errstr, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Fails when no broker answers, or the topic does not exist (the local broker does not
 * create topics on first use): better said now than after message.timeout.ms. */
static int kafka_check_topic(rd_kafka_t *rk, const char *topic, char *errstr, size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt)
        return lc_err(errstr, errlen, "topic %s: %s", topic,
                      rd_kafka_err2str(rd_kafka_last_error()));
    int rc = -1;
    /* Right after the topic was created, metadata may not know it yet: ask a few times. */
    for (int attempt = 0; attempt < 10; attempt++) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (err) {
            lc_err(errstr, errlen, "no answer from the brokers: %s", rd_kafka_err2str(err));
            break;
        }
        err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_NO_ERROR;
        rd_kafka_metadata_destroy(md);
        if (err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            rc = 0;
            break;
        }
        lc_err(errstr, errlen, "topic %s does not exist", topic);
        struct timespec pause = { 1, 0 };
        nanosleep(&pause, NULL);
    }
    rd_kafka_topic_destroy(rkt);
    return rc;
}

/* Returns 0; -1 for a bad -X property (usage); -2 when Kafka cannot be reached. */
static int sink_open(sink_t *s, const options_t *opt, char *errstr, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->opt = opt;
    if (opt->to_stdout) {
        s->out = stdout;
        static char buffer[1 << 20];
        setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
        return 0;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (kafka_configure(conf, opt, errstr, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, s);
    char why[512];
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!s->rk) {
        rd_kafka_conf_destroy(conf);
        lc_err(errstr, errlen, "cannot create the producer: %s", why);
        return -1;
    }
    if (kafka_check_topic(s->rk, opt->topic, errstr, errlen) < 0)
        return -2;
    return 0;
}

static int sink_write(sink_t *s, const record_t *rec)
{
    if (s->out) {
        fwrite(rec->value.data, 1, rec->value.len, s->out);
        fputc('\n', s->out);
        s->written++;
        s->delivered++;
        return 0;
    }
    static const char empty[1] = "";
    /* A zero-length value is not a tombstone: hand librdkafka a non-NULL pointer. */
    const char *value = rec->tombstone ? NULL : rec->value.len ? rec->value.data : empty;
    size_t key_len = strlen(rec->key);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            s->rk, RD_KAFKA_V_TOPIC(s->opt->topic),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)value, rec->tombstone ? 0 : rec->value.len),
            RD_KAFKA_V_KEY(key_len ? rec->key : NULL, key_len),
            RD_KAFKA_V_END);
        if (!err) {
            s->written++;
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            s->written++;
            sink_note_failure(s, rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_poll(s->rk, 100);   /* the queue is full: let deliveries drain it */
    }
}

/* Waits up to ms milliseconds, serving delivery reports meanwhile. */
static void sink_idle(sink_t *s, int ms)
{
    if (s->rk) {
        rd_kafka_poll(s->rk, ms);
    } else if (ms > 0) {
        struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&pause, NULL);
    }
}

static uint64_t sink_in_flight(const sink_t *s)
{
    return s->rk ? (uint64_t)rd_kafka_outq_len(s->rk) : 0;
}

static void sink_close(sink_t *s)
{
    if (s->rk)
        rd_kafka_destroy(s->rk);
    s->rk = NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Pacing (token bucket) and progress.                                                    */
/* ------------------------------------------------------------------------------------ */

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct pacer {
    double rate;        /* tokens (records) per second; 0: no pacing */
    double burst;       /* bucket size */
    double tokens;
    int64_t last_us;
} pacer_t;

static void pacer_init(pacer_t *p, double rate)
{
    p->rate = rate;
    p->burst = rate / 20 > 1 ? rate / 20 : 1;   /* at most 50 ms worth of records at once */
    p->tokens = 1;
    p->last_us = now_us();
}

/* Microseconds to wait before the next record may go; 0 takes a token and lets it go. */
static int64_t pacer_wait_us(pacer_t *p)
{
    if (p->rate <= 0)
        return 0;
    int64_t now = now_us();
    p->tokens += (double)(now - p->last_us) * p->rate / 1e6;
    if (p->tokens > p->burst)
        p->tokens = p->burst;
    p->last_us = now;
    if (p->tokens >= 1) {
        p->tokens -= 1;
        return 0;
    }
    return (int64_t)((1 - p->tokens) * 1e6 / p->rate) + 1;
}

typedef struct progress {
    int64_t start_ms;
    int64_t last_ms;
    uint64_t last_written;
} progress_t;

static void progress_init(progress_t *p)
{
    p->start_ms = p->last_ms = lc_now_ms();
    p->last_written = 0;
}

/* Once a second: the rate over the last second. At the end (final): the average rate. */
static void progress_print(progress_t *p, const sink_t *s, uint64_t total, bool final)
{
    int64_t now = lc_now_ms();
    if (!final && now - p->last_ms < 1000)
        return;
    int64_t since = final ? p->start_ms : p->last_ms;
    uint64_t records = final ? s->written : s->written - p->last_written;
    double seconds = (double)(now - since > 0 ? now - since : 1) / 1000.0;
    double rate = (double)records / seconds;
    fprintf(stderr, "loggen: produced %" PRIu64 "/%" PRIu64 "%s (%.0f/s), delivered %" PRIu64
                    ", errors %" PRIu64 "\n",
            s->written, total, final ? " in total" : "", rate, s->delivered, s->failed);
    p->last_ms = now;
    p->last_written = s->written;
}

/* ------------------------------------------------------------------------------------ */
/* Command line.                                                                          */
/* ------------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fputs(
"Usage: loggen [OPTIONS]\n"
"Writes JSON server-log records for logclassify and knows the label and reason each must\n"
"get under the default configuration (the test oracle).\n"
"\n"
"Output:\n"
"  -b, --brokers LIST        Kafka bootstrap servers (default 127.0.0.1:9092)\n"
"  -t, --topic NAME          topic to produce to (default server-logs)\n"
"  -X, --property KEY=VALUE  librdkafka producer property, repeatable; overrides loggen's\n"
"                            own (acks=all, enable.idempotence=true, linger.ms=5,\n"
"                            compression.type=lz4, message.max.bytes to fit too_large)\n"
"      --stdout              write records as lines to standard output instead of Kafka\n"
"Records:\n"
"  -n, --count N             records to write (default 1000)\n"
"  -r, --rate R              records per second, 0 = as fast as possible (default 0)\n"
"      --seed N              seed; the same seed and arguments give the same bytes\n"
"                            (records, keys, users files) (default 1)\n"
"      --bad SHARE           share of bad records, 0..1 (default 0.10); they take every\n"
"                            bad reason of the default schema in turn\n"
"      --suspicious SHARE    share of suspicious records, 0..1 (default 0.10), half\n"
"                            device_mismatch, half unknown_account\n"
"      --max-record-bytes N  logclassify's input.max_record_bytes (default 1048576)\n"
"      --too-large N         too_large records (max-record-bytes + 1..100 bytes), counted\n"
"                            in the bad share (default 1 per 100,000 records, at least 1\n"
"                            when --bad > 0 and count >= 1000)\n"
"Users table (accounts 1..N, a device each, a second one for ~5%):\n"
"      --users N             accounts (default 10000)\n"
"      --users-csv FILE      write it as `account,device` lines (pipe mode's --users)\n"
"      --users-sql FILE      write it as SQL: DELETE FROM users, then INSERTs\n"
"Truth:\n"
"      --truth FILE          write the expected counts as JSON:\n"
"                            {\"count\":N,\"labels\":{...},\"reasons\":{...}}\n"
"  -h, --help                this text\n"
"\n"
"The truth is also printed on standard error at the end, with a progress line every second.\n"
"Exit status: 0 every record delivered; 1 a delivery or write failed, or interrupted;\n"
"2 bad usage; 3 Kafka unreachable or the topic missing at start.\n", f);
}

enum long_only {
    OPT_SEED = 256, OPT_USERS, OPT_BAD, OPT_SUSPICIOUS, OPT_MAX_RECORD_BYTES, OPT_TOO_LARGE,
    OPT_USERS_CSV, OPT_USERS_SQL, OPT_STDOUT, OPT_TRUTH,
};

static const struct option LONG_OPTIONS[] = {
    { "brokers", required_argument, NULL, 'b' },
    { "topic", required_argument, NULL, 't' },
    { "count", required_argument, NULL, 'n' },
    { "rate", required_argument, NULL, 'r' },
    { "property", required_argument, NULL, 'X' },
    { "help", no_argument, NULL, 'h' },
    { "seed", required_argument, NULL, OPT_SEED },
    { "users", required_argument, NULL, OPT_USERS },
    { "bad", required_argument, NULL, OPT_BAD },
    { "suspicious", required_argument, NULL, OPT_SUSPICIOUS },
    { "max-record-bytes", required_argument, NULL, OPT_MAX_RECORD_BYTES },
    { "too-large", required_argument, NULL, OPT_TOO_LARGE },
    { "users-csv", required_argument, NULL, OPT_USERS_CSV },
    { "users-sql", required_argument, NULL, OPT_USERS_SQL },
    { "stdout", no_argument, NULL, OPT_STDOUT },
    { "truth", required_argument, NULL, OPT_TRUTH },
    { NULL, 0, NULL, 0 },
};

static int parse_u64(const char *text, uint64_t *out)
{
    char *end;
    if (!*text || *text == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

#define MAX_RECORD_BYTES_LIMIT 999000000ULL   /* librdkafka's message.max.bytes is 1e9 */

/* Checks that need every option. */
static int options_check(const options_t *o, char *errstr, size_t errlen)
{
    if (o->bad_share + o->suspicious_share > 1.0 + 1e-9)
        return lc_err(errstr, errlen, "--bad + --suspicious must not exceed 1");
    if (o->max_record_bytes < 1 || o->max_record_bytes > MAX_RECORD_BYTES_LIMIT)
        return lc_err(errstr, errlen, "--max-record-bytes must be 1..%llu",
                      MAX_RECORD_BYTES_LIMIT);
    if (o->too_large > 0 && (uint64_t)o->too_large > o->count)
        return lc_err(errstr, errlen, "--too-large must not exceed --count");
    if (o->users > UINT64_C(1000000000))
        return lc_err(errstr, errlen, "--users must be at most 1000000000");
    return 0;
}

/* Fills o from argv. Returns 0, 1 after --help, or -1 (errstr says why). */
static int options_parse(options_t *o, int argc, char **argv, char *errstr, size_t errlen)
{
    *o = (options_t){
        .brokers = "127.0.0.1:9092", .topic = "server-logs", .count = 1000, .seed = 1,
        .users = 10000, .bad_share = 0.10, .suspicious_share = 0.10,
        .max_record_bytes = 1048576, .too_large = -1,
    };
    o->properties = calloc((size_t)argc, sizeof *o->properties);
    if (!o->properties)
        return lc_err(errstr, errlen, "out of memory");
    int c;
    uint64_t u;
    while ((c = getopt_long(argc, argv, "b:t:n:r:X:h", LONG_OPTIONS, NULL)) != -1) {
        switch (c) {
        case 'b': o->brokers = optarg; break;
        case 't': o->topic = optarg; break;
        case 'h': usage(stdout); return 1;
        case OPT_USERS_CSV: o->users_csv = optarg; break;
        case OPT_USERS_SQL: o->users_sql = optarg; break;
        case OPT_TRUTH: o->truth_path = optarg; break;
        case OPT_STDOUT: o->to_stdout = true; break;
        case 'n':
            if (parse_u64(optarg, &o->count) < 0)
                return lc_err(errstr, errlen, "--count: not a count: %s", optarg);
            break;
        case 'r':
            if (parse_double(optarg, 0, 1e9, &o->rate) < 0)
                return lc_err(errstr, errlen, "--rate: not a rate: %s", optarg);
            break;
        case 'X':
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return lc_err(errstr, errlen, "-X: expected key=value: %s", optarg);
            o->properties[o->nproperties++] = optarg;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, &o->seed) < 0)
                return lc_err(errstr, errlen, "--seed: not a number: %s", optarg);
            break;
        case OPT_USERS:
            if (parse_u64(optarg, &o->users) < 0)
                return lc_err(errstr, errlen, "--users: not a count: %s", optarg);
            break;
        case OPT_BAD:
            if (parse_double(optarg, 0, 1, &o->bad_share) < 0)
                return lc_err(errstr, errlen, "--bad: not a share 0..1: %s", optarg);
            break;
        case OPT_SUSPICIOUS:
            if (parse_double(optarg, 0, 1, &o->suspicious_share) < 0)
                return lc_err(errstr, errlen, "--suspicious: not a share 0..1: %s", optarg);
            break;
        case OPT_MAX_RECORD_BYTES:
            if (parse_u64(optarg, &o->max_record_bytes) < 0)
                return lc_err(errstr, errlen, "--max-record-bytes: not a size: %s", optarg);
            break;
        case OPT_TOO_LARGE:
            if (parse_u64(optarg, &u) < 0 || u > INT64_MAX)
                return lc_err(errstr, errlen, "--too-large: not a count: %s", optarg);
            o->too_large = (int64_t)u;
            break;
        default:
            return lc_err(errstr, errlen, "see loggen --help");
        }
    }
    if (optind < argc)
        return lc_err(errstr, errlen, "unexpected argument: %s", argv[optind]);
    return options_check(o, errstr, errlen);
}

/* ------------------------------------------------------------------------------------ */
/* main                                                                                   */
/* ------------------------------------------------------------------------------------ */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Generates and writes every record, pacing to --rate; the truth counts what was written. */
static void produce_all(const options_t *opt, generator_t *g, sink_t *s, truth_t *truth)
{
    record_t rec = { 0 };
    pacer_t pacer;
    progress_t progress;
    progress_init(&progress);
    pacer_init(&pacer, opt->rate);
    for (uint64_t i = 0; i < opt->count && !stop_requested; i++) {
        int64_t wait;
        while ((wait = pacer_wait_us(&pacer)) > 0 && !stop_requested)
            sink_idle(s, (int)((wait + 999) / 1000));
        if (stop_requested)
            break;
        generator_next(g, &rec);
        truth_add(truth, rec.label, rec.reason);
        sink_write(s, &rec);
        sink_idle(s, 0);
        progress_print(&progress, s, opt->count, false);
    }
    /* Every record handed over must be acknowledged (or fail) before the verdict. */
    while (sink_in_flight(s) > 0) {
        sink_idle(s, 200);
        progress_print(&progress, s, opt->count, false);
    }
    if (s->out && fflush(s->out) != 0)
        sink_note_failure(s, strerror(errno));
    progress_print(&progress, s, opt->count, true);
    lc_buf_free(&rec.value);
}

static int write_users_files(const options_t *opt, const users_table_t *users,
                             char *errstr, size_t errlen)
{
    if (opt->users_csv && users_write_csv(users, opt->seed, opt->users_csv, errstr, errlen) < 0)
        return -1;
    if (opt->users_sql && users_write_sql(users, opt->seed, opt->users_sql, errstr, errlen) < 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    char errstr[512];
    options_t opt;
    int rc = options_parse(&opt, argc, argv, errstr, sizeof errstr);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "loggen: %s\n", errstr);
        free(opt.properties);
        return rc > 0 ? 0 : 2;
    }

    users_table_t users = { 0 };
    sink_t sink;
    int exit_code = 1;
    if (users_generate(&users, opt.users, opt.seed, errstr, sizeof errstr) < 0 ||
        write_users_files(&opt, &users, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "loggen: %s\n", errstr);
        goto out;
    }
    rc = sink_open(&sink, &opt, errstr, sizeof errstr);
    if (rc < 0) {
        fprintf(stderr, "loggen: %s\n", errstr);
        exit_code = rc == -2 ? 3 : 2;
        sink_close(&sink);
        goto out;
    }

    install_signal_handlers();
    generator_t gen;
    truth_t truth = { 0 };
    generator_init(&gen, &opt, &users);
    produce_all(&opt, &gen, &sink, &truth);
    generator_free(&gen);

    truth_print(&truth, stderr);
    if (!opt.to_stdout)
        fprintf(stderr, "loggen: delivered %" PRIu64 " of %" PRIu64 ", failed %" PRIu64 "\n",
                sink.delivered, truth.count, sink.failed);
    if (sink.failed)
        fprintf(stderr, "loggen: %" PRIu64 " deliveries failed, the first: %s\n", sink.failed,
                sink.first_error);
    if (stop_requested)
        fprintf(stderr, "loggen: interrupted after %" PRIu64 " records\n", truth.count);
    exit_code = !stop_requested && sink.failed == 0 && sink.delivered == opt.count ? 0 : 1;
    if (opt.truth_path && truth_write_json(&truth, opt.truth_path, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "loggen: %s\n", errstr);
        exit_code = 1;
    }
    sink_close(&sink);
out:
    users_free(&users);
    free(opt.properties);
    return exit_code;
}
