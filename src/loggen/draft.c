/* draft.c - drafting a record: field values and members as JSON text, then rendering. */
#include "loggen.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static const char *const EVENT_TYPES[] = { "login", "logout", "purchase", "view", "other" };
static const char *const COUNTRIES[] = {
    "FR", "DE", "US", "GB", "IN", "BR", "JP", "CN", "ES", "IT",
    "NL", "SE", "PL", "CA", "AU", "MX", "ZA", "NG", "KR", "AR",
};

/* Members outside the schema: allowed, ignored by the checks, kept verbatim (CONTRACT §2.1, §4).
 * "status" and "reasons" exercise the original_<name> renaming of CONTRACT §4. */
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

void draft_reset(draft_t *d)
{
    for (int f = 0; f < NFIELDS; f++)
        d->field_present[f] = true;
    d->nmembers = 0;
    d->key[0] = '\0';
}

void draft_setf(draft_t *d, int field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->field_text[field], TEXT_CAP, fmt, ap);
    va_end(ap);
}

void draft_add_member(draft_t *d, const char *name, const char *value)
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

/* A valid account_id (CONTRACT §3 integer): mostly a string, sometimes a JSON number, leading
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

/* A valid event_timestamp (CONTRACT §3): mostly a string of epoch digits, sometimes a JSON
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

void draft_fill_fields(rng_t *r, draft_t *d, int64_t account, const char *device_name)
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

void draft_collect_fields(draft_t *d)
{
    for (int f = 0; f < NFIELDS; f++)
        if (d->field_present[f])
            draft_add_member(d, FIELD_NAMES_JSON[f], d->field_text[f]);
}

void draft_add_extras(rng_t *r, draft_t *d)
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

void draft_maybe_shuffle(rng_t *r, draft_t *d)
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

enum style pick_style(rng_t *r)
{
    unsigned x = (unsigned)rng_below(r, 100);
    return x < 80 ? STYLE_COMPACT : x < 90 ? STYLE_SPACED : STYLE_LOOSE;
}

void draft_render(const draft_t *d, enum style style, lc_buf_t *out)
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
