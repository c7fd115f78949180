/*
 * test_classify.c - lc_classify end to end (CONTRACT §2, §4): every reason code, the order of
 * reasons, the users check, and the output record byte for byte. Every output is also parsed
 * with jansson, the reference JSON implementation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lc_classify.h"
#include "lc_config.h"
#include "lc_json.h"

/* ---- fixtures ----------------------------------------------------------------------- */

#define DEFAULT_RECORD                                                                     \
    "{\"event_id\":\"141b3ff2a92111ebbfae367ddad5b1fa\",\"account_id\":\"684\","            \
    "\"event_type\":\"other\",\"device\":\"ANDROID\",\"location_country\":\"FR\","           \
    "\"event_timestamp\":\"1619724510\"}"

/* DEFAULT_RECORD without its closing brace, to build expectations from. */
#define DEFAULT_BODY                                                                       \
    "{\"event_id\":\"141b3ff2a92111ebbfae367ddad5b1fa\",\"account_id\":\"684\","            \
    "\"event_type\":\"other\",\"device\":\"ANDROID\",\"location_country\":\"FR\","           \
    "\"event_timestamp\":\"1619724510\""

#define GOOD_TAIL ",\"status\":\"good\",\"reasons\":[]}"

static const lc_field_def_t default_defs[] = {
    {.name = "event_id", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "account_id", .type = LC_FT_INTEGER, .required = true, .max_length = -1},
    {.name = "event_type", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "device", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "location_country", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "event_timestamp", .type = LC_FT_TIMESTAMP, .required = true, .max_length = -1},
};

typedef struct fixture {
    lc_schema_t *schema;
    lc_users_t *users;
    lc_classifier_t *c;
    lc_verdict_t v;
    lc_buf_t out;
} fixture_t;

static lc_schema_t *make_schema(const lc_field_def_t *defs, size_t n)
{
    char err[256] = "";
    lc_schema_t *s = lc_schema_new(defs, n, NULL, err, sizeof(err));
    if (!s)
        fail_msg("lc_schema_new: %s", err);
    return s;
}

/* rows: "key", "device", "key", "device", ..., NULL */
static lc_users_t *make_users(bool int_keys, bool case_insensitive, const char *const *rows)
{
    lc_users_builder_t *b = lc_users_builder_new(int_keys, case_insensitive, 0);
    assert_non_null(b);
    for (size_t i = 0; rows[i]; i += 2)
        assert_int_equal(lc_users_builder_add(b, rows[i], strlen(rows[i]), rows[i + 1],
                                              strlen(rows[i + 1])), 0);
    lc_users_t *u = lc_users_builder_finish(b, 0);
    assert_non_null(u);
    return u;
}

static const char *const default_rows[] = {"684", "android", "684", "web", "7", "IOS", NULL};

static lc_classify_opts_t default_opts(const lc_schema_t *s)
{
    return (lc_classify_opts_t){
        .schema = s,
        .key_field = "account_id",
        .value_field = "device",
        .unknown_account_status = LC_STATUS_SUSPICIOUS,
        .max_record_bytes = 1 << 20,
        .status_field = "status",
        .reasons_field = "reasons",
    };
}

static lc_classifier_t *make_classifier(const lc_classify_opts_t *o)
{
    lc_classifier_t *c = lc_classifier_new(o);
    assert_non_null(c);
    return c;
}

static int setup_default(void **state)
{
    fixture_t *f = test_calloc(1, sizeof(*f));
    f->schema = make_schema(default_defs, LC_ARRAY_SIZE(default_defs));
    f->users = make_users(true, true, default_rows);
    lc_classify_opts_t o = default_opts(f->schema);
    f->c = make_classifier(&o);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    lc_classifier_free(f->c);
    lc_users_unref(f->users);
    lc_schema_free(f->schema);
    lc_buf_free(&f->out);
    test_free(f);
    return 0;
}

/* Replaces the fixture's classifier with one built from o. */
static void reopen(fixture_t *f, const lc_classify_opts_t *o)
{
    lc_classifier_free(f->c);
    f->c = make_classifier(o);
}

/* ---- helpers ------------------------------------------------------------------------ */

/* Asserts that jansson parses the output (NULs in strings allowed, big integers as reals)
 * and returns the parsed object. */
static json_t *parse_output(const lc_buf_t *out)
{
    json_error_t jerr;
    json_t *root = json_loadb(out->data, out->len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
                              &jerr);
    if (!root)
        fail_msg("output is not valid JSON (%s at %d): %.*s", jerr.text, jerr.position,
                 (int)out->len, out->data);
    assert_true(json_is_object(root));
    return root;
}

/* Classifies bytes; the output is NUL-terminated (not counted in out.len) for printing. */
static const char *run_bytes(fixture_t *f, const char *data, size_t len, bool present)
{
    lc_buf_reset(&f->out);
    lc_classify(f->c, f->users, data, len, present, &f->v, &f->out);
    lc_buf_reserve(&f->out, 1);
    f->out.data[f->out.len] = '\0';
    return f->out.data;
}

static const char *run(fixture_t *f, const char *json)
{
    return run_bytes(f, json, strlen(json), true);
}

/* Output equals `expected` byte for byte, and parses. */
static void expect_output(fixture_t *f, const char *input, const char *expected)
{
    run(f, input);
    if (f->out.len != strlen(expected) || memcmp(f->out.data, expected, f->out.len) != 0)
        fail_msg("output differs\n  input:    %s\n  expected: %s\n  got:      %.*s", input,
                 expected, (int)f->out.len, f->out.data);
    json_decref(parse_output(&f->out));
}

/* The verdict has `status` and exactly the reasons listed (names, in order, NULL-ended);
 * the output record carries the same, under the given member names. */
static void expect_verdict_named(fixture_t *f, const char *status_field,
                                 const char *reasons_field, lc_status_t status, ...)
{
    const char *names[16];
    size_t n = 0;
    va_list ap;
    va_start(ap, status);
    for (const char *r; (r = va_arg(ap, const char *));)
        names[n++] = r;
    va_end(ap);

    if (f->v.status != status || f->v.nreasons != n)
        fail_msg("verdict %s with %zu reasons, expected %s with %zu: %s",
                 lc_status_name(f->v.status), f->v.nreasons, lc_status_name(status), n,
                 f->out.data);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(lc_schema_reason_name(f->schema, f->v.reasons[i]), names[i]);

    json_t *root = parse_output(&f->out);
    assert_string_equal(json_string_value(json_object_get(root, status_field)),
                        lc_status_name(status));
    json_t *arr = json_object_get(root, reasons_field);
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(json_string_value(json_array_get(arr, i)), names[i]);
    json_decref(root);
}

#define expect_verdict(f, ...) expect_verdict_named((f), "status", "reasons", __VA_ARGS__)

/* ---- good records and the output of objects ---------------------------------------- */

static void test_default_record_good(void **state)
{
    fixture_t *f = *state;
    expect_output(f, DEFAULT_RECORD, DEFAULT_BODY GOOD_TAIL);
    expect_verdict(f, LC_STATUS_GOOD, NULL);
}

static void test_classifier_is_reusable(void **state)
{
    fixture_t *f = *state;
    /* alternate shapes so scratch buffers and the member hint are exercised */
    for (int i = 0; i < 50; i++) {
        expect_output(f, DEFAULT_RECORD, DEFAULT_BODY GOOD_TAIL);
        run(f, "{\"x\":1}");
        assert_int_equal(f->v.status, LC_STATUS_BAD);
        assert_int_equal(f->v.nreasons, 6);
        run(f, "[1]");
        expect_verdict(f, LC_STATUS_BAD, "not_object", NULL);
    }
}

static void test_member_order_kept(void **state)
{
    fixture_t *f = *state;
    const char *in =
        "{\"event_timestamp\":1619724510,\"location_country\":\"FR\",\"extra\":[1,{\"y\":2}],"
        "\"device\":\"ANDROID\",\"event_type\":\"other\",\"account_id\":684,"
        "\"event_id\":\"e1\"}";
    const char *want =
        "{\"event_timestamp\":1619724510,\"location_country\":\"FR\",\"extra\":[1,{\"y\":2}],"
        "\"device\":\"ANDROID\",\"event_type\":\"other\",\"account_id\":684,"
        "\"event_id\":\"e1\"" GOOD_TAIL;
    expect_output(f, in, want);
    expect_verdict(f, LC_STATUS_GOOD, NULL);
}

static void test_white_space(void **state)
{
    fixture_t *f = *state;
    /* inside: kept as is; leading and trailing: dropped; before the final '}': dropped */
    const char *in =
        " \n\t{ \"event_id\" : \"e1\" ,\n  \"account_id\":\t\"684\", \"event_type\":\"other\","
        "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":\"0\" \r\n}"
        " \n\r\t";
    const char *want =
        "{ \"event_id\" : \"e1\" ,\n  \"account_id\":\t\"684\", \"event_type\":\"other\","
        "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":\"0\"" GOOD_TAIL;
    expect_output(f, in, want);
}

static void test_empty_object(void **state)
{
    fixture_t *f = *state;
    lc_classify_opts_t o = default_opts(f->schema);
    lc_schema_t *empty = make_schema(NULL, 0);
    o.schema = empty;
    reopen(f, &o);
    lc_users_unref(f->users);   /* schema checks alone */
    f->users = NULL;
    expect_output(f, "{}", "{\"status\":\"good\",\"reasons\":[]}");
    expect_output(f, " { \n } ", "{\"status\":\"good\",\"reasons\":[]}");
    expect_output(f, "{\"a\":1}", "{\"a\":1" GOOD_TAIL);
    lc_classifier_free(f->c);
    f->c = NULL;
    lc_schema_free(empty);
}

static void test_huge_numbers_kept(void **state)
{
    fixture_t *f = *state;
    const char *in =
        "{\"big\":123456789012345678901234567890,\"event_id\":\"e1\",\"account_id\":\"684\","
        "\"event_type\":\"other\",\"device\":\"ANDROID\",\"location_country\":\"FR\","
        "\"event_timestamp\":\"1619724510\",\"precise\":0.1000000000000000000000000000001}";
    char want[1024];
    snprintf(want, sizeof(want), "%.*s" GOOD_TAIL, (int)strlen(in) - 1, in);
    expect_output(f, in, want);
    expect_verdict(f, LC_STATUS_GOOD, NULL);

    /* 1e999999 overflows every double: jansson refuses it, our scanner must not. The output
     * is checked byte for byte and re-scanned with lc_json_scan instead. */
    const char *huge =
        "{\"event_id\":\"e1\",\"account_id\":\"684\",\"event_type\":\"other\",\"x\":1e999999,"
        "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":\"1619724510\"}";
    snprintf(want, sizeof(want), "%.*s" GOOD_TAIL, (int)strlen(huge) - 1, huge);
    run(f, huge);
    assert_int_equal(f->v.status, LC_STATUS_GOOD);
    assert_string_equal(f->out.data, want);
    lc_json_scanner_t *sc = lc_json_scanner_new();
    bool utf8 = false;
    const lc_json_member_t *m;
    size_t n;
    const char *a, *b;
    assert_int_equal(lc_json_scan(sc, f->out.data, f->out.len, &utf8, &m, &n, &a, &b),
                     LC_JSON_OK);
    assert_int_equal(n, 9);
    lc_json_scanner_free(sc);
}

static void test_nul_in_string_member(void **state)
{
    fixture_t *f = *state;
    const char *in =
        "{\"note\":\"a\\u0000b\",\"event_id\":\"e\\u0000\",\"account_id\":\"684\","
        "\"event_type\":\"other\",\"device\":\"ANDROID\",\"location_country\":\"FR\","
        "\"event_timestamp\":\"1619724510\"}";
    char want[1024];
    snprintf(want, sizeof(want), "%.*s" GOOD_TAIL, (int)strlen(in) - 1, in);
    expect_output(f, in, want);
    json_t *root = parse_output(&f->out);
    size_t len = json_string_length(json_object_get(root, "note"));
    assert_int_equal(len, 3);
    assert_memory_equal(json_string_value(json_object_get(root, "note")), "a\0b", 3);
    json_decref(root);

    /* a NUL in the device is part of the device: it does not match "ANDROID" */
    run(f, "{\"event_id\":\"e\",\"account_id\":\"684\",\"event_type\":\"other\","
           "\"device\":\"ANDROID\\u0000\",\"location_country\":\"FR\",\"event_timestamp\":\"0\"}");
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "device_mismatch", NULL);
}

static void test_escaped_names_and_values(void **state)
{
    fixture_t *f = *state;
    /* names and values compare after unescaping; the output keeps the escapes */
    const char *in =
        "{\"event\\u005fid\":\"e\\\"1\",\"account_id\":\"\\u0036\\u00384\","
        "\"event_type\":\"other\",\"d\\u0065vice\":\"AN\\u0044ROID\","
        "\"location_country\":\"FR\",\"event_timestamp\":\"16197\\u00324510\"}";
    char want[1024];
    snprintf(want, sizeof(want), "%.*s" GOOD_TAIL, (int)strlen(in) - 1, in);
    expect_output(f, in, want);
    expect_verdict(f, LC_STATUS_GOOD, NULL);
    /* an escaped key for account 7 with an escaped device that does not match */
    run(f, "{\"event_id\":\"e\",\"account_id\":\"\\u0037\",\"event_type\":\"other\","
           "\"device\":\"AN\\u0044ROID\",\"location_country\":\"FR\",\"event_timestamp\":\"0\"}");
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "device_mismatch", NULL);
}

/* ---- renaming members that collide with output fields ------------------------------- */

static void test_rename_status_and_reasons(void **state)
{
    fixture_t *f = *state;
    const char *in =
        "{\"status\":\"ok\",\"event_id\":\"e1\",\"account_id\":\"684\",\"reasons\":[\"x\"],"
        "\"event_type\":\"other\",\"device\":\"ANDROID\",\"location_country\":\"FR\","
        "\"event_timestamp\":\"1619724510\"}";
    const char *want =
        "{\"original_status\":\"ok\",\"event_id\":\"e1\",\"account_id\":\"684\","
        "\"original_reasons\":[\"x\"],\"event_type\":\"other\",\"device\":\"ANDROID\","
        "\"location_country\":\"FR\",\"event_timestamp\":\"1619724510\"" GOOD_TAIL;
    expect_output(f, in, want);
    expect_verdict(f, LC_STATUS_GOOD, NULL);

    /* white space around the renamed key and an escaped name */
    expect_output(f, "{ \"st\\u0061tus\" : {\"status\":1} }",
                  "{ \"original_status\" : {\"status\":1},\"status\":\"bad\",\"reasons\":["
                  "\"missing:event_id\",\"missing:account_id\",\"missing:event_type\","
                  "\"missing:device\",\"missing:location_country\","
                  "\"missing:event_timestamp\"]}");
}

static void test_rename_double_prefix(void **state)
{
    fixture_t *f = *state;
    /* original_status is taken by an input member: prefix again; the taken one is kept */
    expect_output(f, "{\"original_status\":1,\"status\":2}",
                  "{\"original_status\":1,\"original_original_status\":2,\"status\":\"bad\","
                  "\"reasons\":[\"missing:event_id\",\"missing:account_id\","
                  "\"missing:event_type\",\"missing:device\",\"missing:location_country\","
                  "\"missing:event_timestamp\"]}");
    expect_output(f, "{\"status\":2,\"original_original_status\":3,\"original_status\":1}",
                  "{\"original_original_original_status\":2,\"original_original_status\":3,"
                  "\"original_status\":1,\"status\":\"bad\",\"reasons\":[\"missing:event_id\","
                  "\"missing:account_id\",\"missing:event_type\",\"missing:device\","
                  "\"missing:location_country\",\"missing:event_timestamp\"]}");
}

static void test_rename_avoids_other_output_field(void **state)
{
    fixture_t *f = *state;
    lc_schema_t *empty = make_schema(NULL, 0);
    lc_classify_opts_t o = default_opts(empty);
    o.status_field = "s";
    o.reasons_field = "original_s";
    reopen(f, &o);
    lc_users_unref(f->users);   /* schema checks alone */
    f->users = NULL;
    /* "s" cannot become "original_s" (the reasons field), so it becomes
     * "original_original_s"; then "original_s" must go one further */
    expect_output(f, "{\"s\":1,\"original_s\":2}",
                  "{\"original_original_s\":1,\"original_original_original_s\":2,"
                  "\"s\":\"good\",\"original_s\":[]}");
    lc_classifier_free(f->c);
    f->c = NULL;
    lc_schema_free(empty);
}

static void test_custom_output_fields(void **state)
{
    fixture_t *f = *state;
    lc_classify_opts_t o = default_opts(f->schema);
    o.status_field = "label";
    o.reasons_field = "why \"q\"";
    reopen(f, &o);
    const char *in =
        "{\"status\":\"ok\",\"label\":1,\"event_id\":\"e1\",\"account_id\":\"684\","
        "\"event_type\":\"other\",\"device\":\"ANDROID\",\"location_country\":\"FR\","
        "\"event_timestamp\":\"1619724510\"}";
    const char *want =
        "{\"status\":\"ok\",\"original_label\":1,\"event_id\":\"e1\",\"account_id\":\"684\","
        "\"event_type\":\"other\",\"device\":\"ANDROID\",\"location_country\":\"FR\","
        "\"event_timestamp\":\"1619724510\",\"label\":\"good\",\"why \\\"q\\\"\":[]}";
    expect_output(f, in, want);
    expect_verdict_named(f, "label", "why \"q\"", LC_STATUS_GOOD, NULL);

    expect_output(f, "[]",
                  "{\"raw\":\"[]\",\"label\":\"bad\",\"why \\\"q\\\"\":[\"not_object\"]}");
}

/* ---- records refused whole ----------------------------------------------------------- */

static void test_too_large(void **state)
{
    fixture_t *f = *state;
    lc_classify_opts_t o = default_opts(f->schema);
    o.max_record_bytes = 10;
    reopen(f, &o);
    expect_output(f, "{\"a\":\"xyz\"}",   /* 11 bytes */
                  "{\"raw_bytes\":11,\"status\":\"bad\",\"reasons\":[\"too_large\"]}");
    expect_verdict(f, LC_STATUS_BAD, "too_large", NULL);
    /* too_large is decided before parsing: not even valid JSON is needed */
    expect_output(f, "\xff\xfe not json",
                  "{\"raw_bytes\":11,\"status\":\"bad\",\"reasons\":[\"too_large\"]}");
    /* exactly the limit is not too large */
    run(f, "{\"a\":\"xy\"}");
    expect_verdict(f, LC_STATUS_BAD, "missing:event_id", "missing:account_id",
                   "missing:event_type", "missing:device", "missing:location_country",
                   "missing:event_timestamp", NULL);
}

static void test_invalid_json(void **state)
{
    fixture_t *f = *state;
    expect_output(f, "{\"a\":", "{\"raw\":\"{\\\"a\\\":\",\"status\":\"bad\","
                                "\"reasons\":[\"invalid_json\"]}");
    expect_verdict(f, LC_STATUS_BAD, "invalid_json", NULL);
    expect_output(f, "{'a':1}", "{\"raw\":\"{'a':1}\",\"status\":\"bad\","
                                "\"reasons\":[\"invalid_json\"]}");
    expect_output(f, "{\"a\":1}\n{\"b\":2}", "{\"raw\":\"{\\\"a\\\":1}\\n{\\\"b\\\":2}\","
                                             "\"status\":\"bad\",\"reasons\":[\"invalid_json\"]}");
    /* control bytes and NULs in the raw text are escaped */
    run_bytes(f, "{\"a\":\x01\0}", 8, true);
    assert_string_equal(f->out.data, "{\"raw\":\"{\\\"a\\\":\\u0001\\u0000}\",\"status\":\"bad\","
                                     "\"reasons\":[\"invalid_json\"]}");
    json_decref(parse_output(&f->out));
    /* leading/trailing white space kept in raw: it is the input as given */
    expect_output(f, " nope ", "{\"raw\":\" nope \",\"status\":\"bad\","
                               "\"reasons\":[\"invalid_json\"]}");
}

static void test_invalid_utf8_goes_base64(void **state)
{
    fixture_t *f = *state;
    /* "{\"a\":\"\xff\"}" -> base64 of its 9 bytes */
    expect_output(f, "{\"a\":\"\xff\"}",
                  "{\"raw_base64\":\"eyJhIjoi/yJ9\",\"status\":\"bad\","
                  "\"reasons\":[\"invalid_json\"]}");
    expect_verdict(f, LC_STATUS_BAD, "invalid_json", NULL);
    /* an encoded surrogate and an overlong form are not UTF-8 either */
    expect_output(f, "\"\xed\xa0\x80\"",
                  "{\"raw_base64\":\"Iu2ggCI=\",\"status\":\"bad\",\"reasons\":[\"invalid_json\"]}");
    expect_output(f, "\xc0\xaf",
                  "{\"raw_base64\":\"wK8=\",\"status\":\"bad\",\"reasons\":[\"invalid_json\"]}");
}

static void test_empty_and_tombstone(void **state)
{
    fixture_t *f = *state;
    static const char *want = "{\"raw\":\"\",\"status\":\"bad\",\"reasons\":[\"invalid_json\"]}";
    run_bytes(f, "", 0, true);
    assert_string_equal(f->out.data, want);
    expect_verdict(f, LC_STATUS_BAD, "invalid_json", NULL);
    run_bytes(f, NULL, 0, false);
    assert_string_equal(f->out.data, want);
    expect_verdict(f, LC_STATUS_BAD, "invalid_json", NULL);
    expect_output(f, "   ", "{\"raw\":\"   \",\"status\":\"bad\",\"reasons\":[\"invalid_json\"]}");
}

static void test_not_object(void **state)
{
    fixture_t *f = *state;
    expect_output(f, "[1,2]", "{\"raw\":\"[1,2]\",\"status\":\"bad\",\"reasons\":[\"not_object\"]}");
    expect_verdict(f, LC_STATUS_BAD, "not_object", NULL);
    expect_output(f, "\"x\"", "{\"raw\":\"\\\"x\\\"\",\"status\":\"bad\","
                              "\"reasons\":[\"not_object\"]}");
    expect_output(f, " 42 ", "{\"raw\":\" 42 \",\"status\":\"bad\",\"reasons\":[\"not_object\"]}");
    expect_output(f, "null", "{\"raw\":\"null\",\"status\":\"bad\",\"reasons\":[\"not_object\"]}");
}

static void test_duplicate_key(void **state)
{
    fixture_t *f = *state;
    expect_output(f, "{\"a\":1,\"a\":2}", "{\"raw\":\"{\\\"a\\\":1,\\\"a\\\":2}\","
                                          "\"status\":\"bad\",\"reasons\":[\"duplicate_key\"]}");
    expect_verdict(f, LC_STATUS_BAD, "duplicate_key", NULL);
    run(f, "{\"x\":{\"b\":1,\"b\":2}}");
    expect_verdict(f, LC_STATUS_BAD, "duplicate_key", NULL);
    run(f, "{\"a\":1,\"\\u0061\":2}");
    expect_verdict(f, LC_STATUS_BAD, "duplicate_key", NULL);
    /* a duplicate of a schema field in an otherwise good record: still the only reason */
    run(f, DEFAULT_BODY ",\"device\":\"IOS\"}");
    expect_verdict(f, LC_STATUS_BAD, "duplicate_key", NULL);
}

/* ---- field reasons ------------------------------------------------------------------- */

static void test_field_reasons_default_schema(void **state)
{
    fixture_t *f = *state;
    run(f, "{\"event_id\":\"e\",\"account_id\":\"684\",\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\"}");
    expect_verdict(f, LC_STATUS_BAD, "missing:event_timestamp", NULL);
    run(f, "{\"event_id\":null,\"account_id\":\"684\",\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_BAD, "null:event_id", NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":\"684x\",\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_BAD, "type:account_id", NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":684.0,\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_BAD, "type:account_id", NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":\"684\",\"event_type\":\"other\","
           "\"device\":\" \\t \",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_BAD, "empty:device", NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":\"684\",\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\","
           "\"event_timestamp\":\"2021-04-29 19:28:30Z\"}");
    expect_verdict(f, LC_STATUS_BAD, "type:event_timestamp", NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":\"684\",\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\","
           "\"event_timestamp\":\"2021-04-29T19:28:30Z\"}");
    expect_verdict(f, LC_STATUS_GOOD, NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":\"684\",\"event_type\":[\"other\"],"
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_BAD, "type:event_type", NULL);
}

static void test_reasons_in_schema_order(void **state)
{
    fixture_t *f = *state;
    /* input order is the reverse of the schema; reasons come in schema order */
    run(f, "{\"event_timestamp\":-1,\"location_country\":null,\"event_type\":\"\","
           "\"account_id\":\"abc\",\"event_id\":\"e\"}");
    expect_verdict(f, LC_STATUS_BAD, "type:account_id", "empty:event_type", "missing:device",
                   "null:location_country", "type:event_timestamp", NULL);
}

static void test_bad_wins_over_users(void **state)
{
    fixture_t *f = *state;
    /* unknown account and wrong device, but bad first: no users reason at all */
    run(f, "{\"event_id\":\"\",\"account_id\":\"999\",\"event_type\":\"other\","
           "\"device\":\"NOKIA\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_BAD, "empty:event_id", NULL);
}

static void test_length_enum_pattern(void **state)
{
    fixture_t *f = *state;
    const char *const types[] = {"other", "login"};
    const lc_field_def_t defs[] = {
        {.name = "event_id", .type = LC_FT_STRING, .required = true, .max_length = 4},
        {.name = "account_id", .type = LC_FT_INTEGER, .required = true, .max_length = -1},
        {.name = "event_type", .type = LC_FT_STRING, .required = true, .max_length = -1,
         .enum_values = types, .n_enum = 2},
        {.name = "device", .type = LC_FT_STRING, .required = true, .max_length = -1},
        {.name = "location_country", .type = LC_FT_STRING, .required = true,
         .max_length = -1, .pattern = "[A-Z]{2}"},
        {.name = "amount", .type = LC_FT_NUMBER, .required = false, .max_length = -1},
        {.name = "event_timestamp", .type = LC_FT_TIMESTAMP, .required = true,
         .max_length = -1},
    };
    lc_schema_free(f->schema);
    f->schema = make_schema(defs, LC_ARRAY_SIZE(defs));
    lc_classify_opts_t o = default_opts(f->schema);
    reopen(f, &o);

    run(f, "{\"event_id\":\"\\u00e9t\\u00e9!\",\"account_id\":684,\"event_type\":\"login\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_GOOD, NULL);   /* 4 code points, 6 bytes */
    run(f, "{\"event_id\":\"12345\",\"account_id\":684,\"event_type\":\"Login\","
           "\"device\":\"ANDROID\",\"location_country\":\"FRA\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_BAD, "length:event_id", "enum:event_type",
                   "pattern:location_country", NULL);
    /* optional field: absent is fine, present is checked, null is null */
    run(f, "{\"event_id\":\"e\",\"account_id\":684,\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0,"
           "\"amount\":\"1e999\"}");
    expect_verdict(f, LC_STATUS_BAD, "type:amount", NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":684,\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0,"
           "\"amount\":null}");
    expect_verdict(f, LC_STATUS_BAD, "null:amount", NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":684,\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0,"
           "\"amount\":\"-12.5\"}");
    expect_verdict(f, LC_STATUS_GOOD, NULL);
}

/* Reason names are JSON-escaped in the output: field names may hold quotes. */
static void test_reason_names_escaped(void **state)
{
    fixture_t *f = *state;
    const lc_field_def_t defs[] = {
        {.name = "we\"ird\\", .type = LC_FT_STRING, .required = true, .max_length = -1},
    };
    lc_schema_free(f->schema);
    f->schema = make_schema(defs, 1);
    lc_classify_opts_t o = default_opts(f->schema);
    reopen(f, &o);
    expect_output(f, "{}", "{\"status\":\"bad\",\"reasons\":[\"missing:we\\\"ird\\\\\"]}");
    expect_verdict(f, LC_STATUS_BAD, "missing:we\"ird\\", NULL);
    /* the field found under an escaped name */
    run(f, "{\"we\\\"ird\\\\\":\"x\",\"account_id\":\"684\",\"device\":\"android\"}");
    expect_verdict(f, LC_STATUS_GOOD, NULL);
}

/* ---- users ----------------------------------------------------------------------------- */

static void test_unknown_account_statuses(void **state)
{
    fixture_t *f = *state;
    const char *in =
        "{\"event_id\":\"e\",\"account_id\":\"999\",\"event_type\":\"other\","
        "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}";
    run(f, in);
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "unknown_account", NULL);

    lc_classify_opts_t o = default_opts(f->schema);
    o.unknown_account_status = LC_STATUS_GOOD;
    reopen(f, &o);
    run(f, in);
    expect_verdict(f, LC_STATUS_GOOD, "unknown_account", NULL);
    char want[512];
    snprintf(want, sizeof(want), "%.*s,\"status\":\"good\",\"reasons\":[\"unknown_account\"]}",
             (int)strlen(in) - 1, in);
    assert_string_equal(f->out.data, want);

    o.unknown_account_status = LC_STATUS_BAD;
    reopen(f, &o);
    run(f, in);
    expect_verdict(f, LC_STATUS_BAD, "unknown_account", NULL);
}

static void test_device_mismatch(void **state)
{
    fixture_t *f = *state;
    const char *in =
        "{\"event_id\":\"e\",\"account_id\":\"7\",\"event_type\":\"other\","
        "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}";
    run(f, in);
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "device_mismatch", NULL);
    char want[512];
    snprintf(want, sizeof(want),
             "%.*s,\"status\":\"suspicious\",\"reasons\":[\"device_mismatch\"]}",
             (int)strlen(in) - 1, in);
    assert_string_equal(f->out.data, want);
    /* 684 has two rows: either device matches */
    run(f, "{\"event_id\":\"e\",\"account_id\":\"684\",\"event_type\":\"other\","
           "\"device\":\"Web\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_GOOD, NULL);
}

static void test_integer_keys(void **state)
{
    fixture_t *f = *state;
    const char *keys[] = {"\"684\"", "\"0684\"", "684", "\"0000000000000000684\""};
    for (size_t i = 0; i < LC_ARRAY_SIZE(keys); i++) {
        char in[512];
        snprintf(in, sizeof(in),
                 "{\"event_id\":\"e\",\"account_id\":%s,\"event_type\":\"other\","
                 "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}",
                 keys[i]);
        run(f, in);
        expect_verdict(f, LC_STATUS_GOOD, NULL);
    }
    /* a users row written "0684" is account 684 too */
    lc_users_unref(f->users);
    static const char *const rows[] = {"0684", "ANDROID", NULL};
    f->users = make_users(true, true, rows);
    run(f, DEFAULT_RECORD);
    expect_verdict(f, LC_STATUS_GOOD, NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":-684,\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "unknown_account", NULL);
}

static void test_string_keys(void **state)
{
    fixture_t *f = *state;
    lc_field_def_t defs[LC_ARRAY_SIZE(default_defs)];
    memcpy(defs, default_defs, sizeof(defs));
    defs[1].type = LC_FT_STRING;
    lc_schema_free(f->schema);
    f->schema = make_schema(defs, LC_ARRAY_SIZE(defs));
    lc_users_unref(f->users);
    static const char *const rows[] = {"684", "ANDROID", "A-1", "IOS", NULL};
    f->users = make_users(false, true, rows);
    lc_classify_opts_t o = default_opts(f->schema);
    reopen(f, &o);

    run(f, DEFAULT_RECORD);
    expect_verdict(f, LC_STATUS_GOOD, NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":\"0684\",\"event_type\":\"other\","
           "\"device\":\"ANDROID\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "unknown_account", NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":\"A-1\",\"event_type\":\"other\","
           "\"device\":\"ios\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_GOOD, NULL);
    run(f, "{\"event_id\":\"e\",\"account_id\":\"a-1\",\"event_type\":\"other\","
           "\"device\":\"ios\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "unknown_account", NULL);
}

static void test_device_case_and_space(void **state)
{
    fixture_t *f = *state;
    static const char *const rows[] = {"684", " Android\t", NULL};
    const char *devices_ci_match[] = {"ANDROID", "android", " Android ", "\\tANDROID\\n"};
    const char *devices_cs_match[] = {"Android", "  Android\\r\\n"};
    const char *devices_cs_mismatch[] = {"ANDROID", "android"};
    const char *devices_never[] = {"Andr oid", "Android2", "\\u00a0Android"};

    for (int ci = 1; ci >= 0; ci--) {
        lc_users_unref(f->users);
        f->users = make_users(true, ci, rows);
        char in[512];
#define RECORD_WITH(dev)                                                                   \
    (snprintf(in, sizeof(in),                                                              \
              "{\"event_id\":\"e\",\"account_id\":684,\"event_type\":\"other\","           \
              "\"device\":\"%s\",\"location_country\":\"FR\",\"event_timestamp\":0}",     \
              (dev)),                                                                      \
     in)
        for (size_t i = 0; i < LC_ARRAY_SIZE(devices_cs_match); i++) {
            run(f, RECORD_WITH(devices_cs_match[i]));
            expect_verdict(f, LC_STATUS_GOOD, NULL);
        }
        for (size_t i = 0; ci && i < LC_ARRAY_SIZE(devices_ci_match); i++) {
            run(f, RECORD_WITH(devices_ci_match[i]));
            expect_verdict(f, LC_STATUS_GOOD, NULL);
        }
        for (size_t i = 0; !ci && i < LC_ARRAY_SIZE(devices_cs_mismatch); i++) {
            run(f, RECORD_WITH(devices_cs_mismatch[i]));
            expect_verdict(f, LC_STATUS_SUSPICIOUS, "device_mismatch", NULL);
        }
        for (size_t i = 0; i < LC_ARRAY_SIZE(devices_never); i++) {
            run(f, RECORD_WITH(devices_never[i]));
            expect_verdict(f, LC_STATUS_SUSPICIOUS, "device_mismatch", NULL);
        }
#undef RECORD_WITH
    }
}

static void test_no_users_means_good(void **state)
{
    fixture_t *f = *state;
    lc_users_unref(f->users);
    f->users = NULL;
    run(f, "{\"event_id\":\"e\",\"account_id\":\"999\",\"event_type\":\"other\","
           "\"device\":\"NOKIA\",\"location_country\":\"FR\",\"event_timestamp\":0}");
    expect_verdict(f, LC_STATUS_GOOD, NULL);
}

/* The key and value fields need not be schema fields: then they are read unchecked. */
static void test_users_fields_outside_schema(void **state)
{
    fixture_t *f = *state;
    lc_schema_t *empty = make_schema(NULL, 0);
    lc_classify_opts_t o = default_opts(empty);
    o.key_field = "user";
    o.value_field = "agent";
    reopen(f, &o);
    run(f, "{\"user\":\"0684\",\"agent\":\"web\"}");
    expect_verdict(f, LC_STATUS_GOOD, NULL);
    run(f, "{\"user\":684,\"agent\":\"ios\"}");
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "device_mismatch", NULL);
    run(f, "{\"user\":684}");   /* absent device compares as "" */
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "device_mismatch", NULL);
    run(f, "{\"user\":684,\"agent\":7}");   /* not a string: its raw text */
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "device_mismatch", NULL);
    run(f, "{\"agent\":\"web\"}");   /* no key: no account */
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "unknown_account", NULL);
    run(f, "{\"user\":\"x684\",\"agent\":\"web\"}");   /* does not convert */
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "unknown_account", NULL);
    run(f, "{\"user\":\"68\\u0034\",\"agent\":\"w\\u0065b\"}");   /* both decoded */
    expect_verdict(f, LC_STATUS_GOOD, NULL);
    lc_classifier_free(f->c);
    f->c = NULL;
    lc_schema_free(empty);
}

/* The classifier finds members through a table of the names it looks for (schema fields,
 * users fields, output fields), in one probe per member; names it cannot tell apart that
 * way, or too many of them, are compared one by one. Both ways give the same verdicts. */
/* Makes s the fixture's schema (for reason names; teardown frees it). */
static void use_schema(fixture_t *f, lc_schema_t *s)
{
    lc_classifier_free(f->c);
    f->c = NULL;
    lc_schema_free(f->schema);
    f->schema = s;
}

static void test_names_the_index_cannot_separate(void **state)
{
    fixture_t *f = *state;
    /* same length, first, middle and last byte: one slot for both */
    static const lc_field_def_t alike[] = {
        {.name = "axbxc", .type = LC_FT_STRING, .required = true, .max_length = -1},
        {.name = "aybyc", .type = LC_FT_INTEGER, .required = true, .max_length = -1},
        {.name = "account_id", .type = LC_FT_INTEGER, .required = true, .max_length = -1},
    };
    lc_schema_t *s = make_schema(alike, LC_ARRAY_SIZE(alike));
    use_schema(f, s);
    lc_classify_opts_t o = default_opts(s);
    reopen(f, &o);
    run(f, "{\"aybyc\":\"x\",\"axbxc\":\"\",\"account_id\":684,\"device\":\"web\"}");
    expect_verdict(f, LC_STATUS_BAD, "empty:axbxc", "type:aybyc", NULL);
    run(f, "{\"aybyc\":1,\"axbxc\":\"s\",\"account_id\":684,\"device\":\"web\"}");
    expect_verdict(f, LC_STATUS_GOOD, NULL);
    run(f, "{\"axbxc\":\"s\",\"account_id\":7,\"status\":1,\"device\":\"web\"}");
    expect_verdict(f, LC_STATUS_BAD, "missing:aybyc", NULL);
    assert_non_null(strstr(f->out.data, "\"original_status\":1"));
}

static void test_many_fields(void **state)
{
    fixture_t *f = *state;
    enum { NF = 300 };
    static char names[NF][8];
    static lc_field_def_t defs[NF];
    for (unsigned i = 0; i < NF; i++) {
        snprintf(names[i], sizeof(names[i]), "f%u", i % 1000u);
        defs[i] = (lc_field_def_t){.name = names[i], .type = LC_FT_INTEGER, .required = true,
                                   .max_length = -1};
    }
    lc_schema_t *s = make_schema(defs, NF);
    use_schema(f, s);
    lc_classify_opts_t o = default_opts(s);
    o.key_field = "f7";
    reopen(f, &o);
    lc_buf_t in = {0};
    lc_buf_putc(&in, '{');
    for (int i = NF - 1; i >= 0; i--) {     /* reversed, f150 a string, f299 absent */
        if (i == NF - 1)
            continue;
        lc_buf_printf(&in, "%s\"f%d\":%s", i == NF - 2 ? "" : ",", i, i == 150 ? "\"x\"" : "684");
    }
    lc_buf_append(&in, ",\"device\":\"web\"}", 16);
    run_bytes(f, in.data, in.len, true);
    expect_verdict(f, LC_STATUS_BAD, "type:f150", "missing:f299", NULL);
    lc_buf_free(&in);
}

/* A schema field may share its name with an output field or a users field: the member is
 * checked as a field, and renamed as the output field's name requires. */
static void test_field_named_like_an_output_field(void **state)
{
    fixture_t *f = *state;
    static const lc_field_def_t defs[] = {
        {.name = "status", .type = LC_FT_STRING, .required = true, .max_length = -1},
        {.name = "account_id", .type = LC_FT_INTEGER, .required = true, .max_length = -1},
    };
    lc_schema_t *s = make_schema(defs, LC_ARRAY_SIZE(defs));
    use_schema(f, s);
    lc_classify_opts_t o = default_opts(s);
    o.value_field = "status";
    reopen(f, &o);
    expect_output(f, "{\"status\":\"web\",\"account_id\":684}",
                  "{\"original_status\":\"web\",\"account_id\":684,\"status\":\"good\","
                  "\"reasons\":[]}");
    run(f, "{\"st\\u0061tus\":\"ios\",\"account_id\":684}");   /* escaped: found too */
    expect_verdict(f, LC_STATUS_SUSPICIOUS, "device_mismatch", NULL);
    run(f, "{\"status\":\"\",\"account_id\":684}");
    expect_verdict(f, LC_STATUS_BAD, "empty:status", NULL);
}

/* ---- construction ------------------------------------------------------------------------ */

/* The options a classifier refuses are the configuration's to refuse now, at load time with
 * the file's line (tests/unit/test_config.c: an output field equal to the other, empty, or
 * named like a refused record's payload). Here: the names it must never be given, and the
 * configuration's defaults giving the default output. */
static void test_classifier_options(void **state)
{
    fixture_t *f = *state;
    static const char *const refused[] = {"raw", "raw_base64", "raw_bytes"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(refused); i++)
        assert_string_equal(lc_classify_refused_names[i], refused[i]);
    assert_null(lc_classify_refused_names[LC_ARRAY_SIZE(refused)]);

    char err[256] = "";
    lc_config_t *cfg = lc_config_defaults(err, sizeof(err));
    if (!cfg)
        fail_msg("%s", err);
    reopen(f, &cfg->classify);
    expect_output(f, DEFAULT_RECORD, DEFAULT_BODY GOOD_TAIL);
    lc_classifier_free(f->c);
    f->c = NULL;
    lc_config_free(cfg);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(lc_status_name(LC_STATUS_GOOD), "good");
    assert_string_equal(lc_status_name(LC_STATUS_BAD), "bad");
    assert_string_equal(lc_status_name(LC_STATUS_SUSPICIOUS), "suspicious");
    lc_status_t s;
    assert_int_equal(lc_status_parse("suspicious", &s), 0);
    assert_int_equal(s, LC_STATUS_SUSPICIOUS);
    assert_int_equal(lc_status_parse("bad", &s), 0);
    assert_int_equal(s, LC_STATUS_BAD);
    assert_int_equal(lc_status_parse("Good", &s), -1);
    assert_int_equal(lc_status_parse("", &s), -1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_default, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_default_record_good),
        T(test_classifier_is_reusable),
        T(test_member_order_kept),
        T(test_white_space),
        T(test_empty_object),
        T(test_huge_numbers_kept),
        T(test_nul_in_string_member),
        T(test_escaped_names_and_values),
        T(test_rename_status_and_reasons),
        T(test_rename_double_prefix),
        T(test_rename_avoids_other_output_field),
        T(test_custom_output_fields),
        T(test_too_large),
        T(test_invalid_json),
        T(test_invalid_utf8_goes_base64),
        T(test_empty_and_tombstone),
        T(test_not_object),
        T(test_duplicate_key),
        T(test_field_reasons_default_schema),
        T(test_reasons_in_schema_order),
        T(test_bad_wins_over_users),
        T(test_length_enum_pattern),
        T(test_reason_names_escaped),
        T(test_unknown_account_statuses),
        T(test_device_mismatch),
        T(test_integer_keys),
        T(test_string_keys),
        T(test_device_case_and_space),
        T(test_no_users_means_good),
        T(test_users_fields_outside_schema),
        T(test_classifier_options),
        T(test_status_names),
        T(test_names_the_index_cannot_separate),
        T(test_many_fields),
        T(test_field_named_like_an_output_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
