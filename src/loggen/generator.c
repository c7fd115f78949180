/* generator.c - the next record with its label and reason: one function per kind of record. */
#include "loggen.h"

#include <string.h>

/* Devices that no users row ever has, for device_mismatch. */
static const char *const FOREIGN_DEVICES[] = {
    "TABLET", "SMART_TV", "PLAYSTATION", "ANDROID_TV", "CHROMEOS", "IPADOS",
};

#define OUTER_SPACE_PERCENT 3

static bool field_is_string(int field)
{
    return field != F_ACCOUNT_ID && field != F_TIMESTAMP;
}

static int field_reason(int field, int check)
{
    return R_FIRST_FIELD + field * NCHECKS + check;
}

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

void generator_init(generator_t *g, const options_t *opt, const users_table_t *users)
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

void generator_free(generator_t *g)
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
        const char *device = DEVICES[rng_below(r, NDEVICES)];
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

/* Values that fail type:account_id (CONTRACT §3 integer), with the key the message gets. */
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

/* Values that fail type:event_timestamp (CONTRACT §3 timestamp). */
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
     * (CONTRACT §7): on standard output these become a member without a value. */
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

void generator_next(generator_t *g, record_t *rec)
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
    /* Size is checked before anything else (CONTRACT §2.1): with a small --max-record-bytes an
     * ordinary record is too_large as well, and the truth must say so. */
    if (!rec->tombstone && rec->value.len > g->opt->max_record_bytes)
        plan = (plan_t){ L_BAD, R_TOO_LARGE };
    snprintf(rec->key, sizeof rec->key, "%s", g->draft.key);
    rec->label = plan.label;
    rec->reason = plan.reason;
}
