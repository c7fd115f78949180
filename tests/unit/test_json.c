/*
 * test_json.c - unit tests of the hot-path JSON scanner (lc_json.h): RFC 8259 syntax, UTF-8
 * validation, depth limit, duplicate names, member spans, unescaping and name comparison.
 * Every scanning test runs twice: with the scanner's short path for top-level objects
 * (lc_json_scanner_new) and through the general state machine (lc_json_scanner_general).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lc_common.h"
#include "lc_json.h"

#define DEFAULT_RECORD                                                                     \
    "{\"event_id\":\"141b3ff2a92111ebbfae367ddad5b1fa\",\"account_id\":\"684\","            \
    "\"event_type\":\"other\",\"device\":\"ANDROID\",\"location_country\":\"FR\","          \
    "\"event_timestamp\":\"1619724510\"}"

typedef struct scan_out {
    lc_json_result_t result;
    bool utf8_ok;
    const lc_json_member_t *members;
    size_t nmembers;
    const char *obj_start, *obj_end;
} scan_out_t;

static int setup(void **state)
{
    *state = lc_json_scanner_new();
    return *state ? 0 : -1;
}

/* The same tests through the general state machine, which the scanner's short path for
 * top-level objects must agree with (test_json_diff.c compares the two on every input). */
static int setup_general(void **state)
{
    *state = lc_json_scanner_general();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    lc_json_scanner_free(*state);
    return 0;
}

static scan_out_t scan_bytes(void **state, const char *data, size_t len)
{
    scan_out_t o;
    o.utf8_ok = !(len % 2);          /* garbage, so that a missing store is noticed */
    o.result = lc_json_scan(*state, data, len, &o.utf8_ok, &o.members, &o.nmembers,
                            &o.obj_start, &o.obj_end);
    return o;
}

static scan_out_t scan_str(void **state, const char *s)
{
    return scan_bytes(state, s, strlen(s));
}

/* Scans an exact-size heap copy, so that ASan catches any read past len; the members
 * would point into freed memory, so only the result and utf8_ok are returned. */
static lc_json_result_t scan_exact(void **state, const char *data, size_t len, bool *utf8_ok)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    lc_json_result_t r = lc_json_scan(*state, copy, len, utf8_ok, NULL, NULL, NULL, NULL);
    free(copy);
    return r;
}

static lc_json_result_t result_of(void **state, const char *s)
{
    return scan_str(state, s).result;
}

/* Asserts the result for every input of a NULL-terminated list, naming the failing one. */
static void expect_results(void **state, const char *const *inputs, lc_json_result_t want)
{
    for (size_t i = 0; inputs[i]; i++) {
        lc_json_result_t got = result_of(state, inputs[i]);
        if (got != want)
            fail_msg("input #%zu '%s': got %d, want %d", i, inputs[i], got, want);
    }
}

/* A buffer of n copies of open, then n copies of close; the caller frees it. */
static char *nested(const char *open, const char *inner, const char *close, size_t n,
                    size_t *len)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
    *len = n * (lo + lc) + li;
    char *buf = malloc(*len), *p = buf;
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (size_t i = 0; i < n; i++, p += lc)
        memcpy(p, close, lc);
    return buf;
}

/* ---- whole documents ------------------------------------------------------------------- */

static void test_default_record(void **state)
{
    const char *doc = DEFAULT_RECORD;
    scan_out_t o = scan_str(state, doc);
    assert_int_equal(o.result, LC_JSON_OK);
    assert_true(o.utf8_ok);
    assert_int_equal(o.nmembers, 6);
    assert_ptr_equal(o.obj_start, doc);
    assert_ptr_equal(o.obj_end, doc + strlen(doc));

    static const char *const names[] = { "event_id", "account_id", "event_type", "device",
                                         "location_country", "event_timestamp" };
    static const char *const values[] = { "141b3ff2a92111ebbfae367ddad5b1fa", "684", "other",
                                          "ANDROID", "FR", "1619724510" };
    for (size_t i = 0; i < 6; i++) {
        const lc_json_member_t *m = &o.members[i];
        assert_int_equal(m->key_len, strlen(names[i]));
        assert_memory_equal(m->key, names[i], m->key_len);
        assert_int_equal(m->key[-1], '"');
        assert_int_equal(m->type, LC_JT_STRING);
        assert_false(m->key_escaped);
        assert_false(m->val_escaped);
        assert_int_equal(m->val_len, strlen(values[i]));
        assert_memory_equal(m->val, values[i], m->val_len);
        assert_int_equal(m->val[-1], '"');
        assert_int_equal(m->val[m->val_len], '"');
    }
    assert_ptr_equal(o.members[0].key, doc + 2);
    assert_ptr_equal(o.members[0].val, doc + 13);
}

/* Every value type as a top-level member: exact pointers, lengths, types and flags. */
static void test_member_spans_exact(void **state)
{
    const char *doc = "{\"s\":\"x\\\"y\",\"n\":-12.5e+3,\"o\":{\"d\":[1,{}]},\"a\":[],"
                      "\"t\":true,\"f\":false,\"z\":null,\"k\\u0041\":\"\",\"e\":{}}";
    static const struct {
        const char *key;
        bool key_escaped;
        lc_json_type_t type;
        const char *val;                 /* as it appears in doc (strings: contents) */
        bool val_escaped;
    } want[] = {
        { "s", false, LC_JT_STRING, "x\\\"y", true },
        { "n", false, LC_JT_NUMBER, "-12.5e+3", false },
        { "o", false, LC_JT_OBJECT, "{\"d\":[1,{}]}", false },
        { "a", false, LC_JT_ARRAY, "[]", false },
        { "t", false, LC_JT_TRUE, "true", false },
        { "f", false, LC_JT_FALSE, "false", false },
        { "z", false, LC_JT_NULL, "null", false },
        { "k\\u0041", true, LC_JT_STRING, "", false },
        { "e", false, LC_JT_OBJECT, "{}", false },
    };
    scan_out_t o = scan_str(state, doc);
    assert_int_equal(o.result, LC_JSON_OK);
    assert_int_equal(o.nmembers, LC_ARRAY_SIZE(want));
    const char *cursor = doc;
    for (size_t i = 0; i < o.nmembers; i++) {
        const lc_json_member_t *m = &o.members[i];
        char quoted_key[32];
        snprintf(quoted_key, sizeof(quoted_key), "\"%s\":", want[i].key);
        const char *key_at = strstr(cursor, quoted_key);
        assert_non_null(key_at);
        assert_ptr_equal(m->key, key_at + 1);
        assert_int_equal(m->key_len, strlen(want[i].key));
        assert_int_equal(m->key_escaped, want[i].key_escaped);
        assert_int_equal(m->type, want[i].type);
        const char *val_at = key_at + strlen(quoted_key) + (want[i].type == LC_JT_STRING);
        assert_ptr_equal(m->val, val_at);
        assert_int_equal(m->val_len, strlen(want[i].val));
        assert_memory_equal(m->val, want[i].val, m->val_len);
        assert_int_equal(m->val_escaped, want[i].val_escaped);
        cursor = val_at;
    }
}

static void test_white_space_around_and_inside(void **state)
{
    const char *doc = " \t\r\n{ \"a\" :\t[ 1 , 2 ] ,\n\"b\"\r:\"c\" } \n\t\r ";
    scan_out_t o = scan_str(state, doc);
    assert_int_equal(o.result, LC_JSON_OK);
    assert_ptr_equal(o.obj_start, strchr(doc, '{'));
    assert_ptr_equal(o.obj_end, strrchr(doc, '}') + 1);
    assert_int_equal(o.nmembers, 2);
    assert_int_equal(o.members[0].type, LC_JT_ARRAY);
    assert_int_equal(o.members[0].val_len, strlen("[ 1 , 2 ]"));
    assert_memory_equal(o.members[0].val, "[ 1 , 2 ]", o.members[0].val_len);
    assert_int_equal(o.members[1].val_len, 1);
    assert_int_equal(o.members[1].val[0], 'c');
    /* form feed and vertical tab are not JSON white space */
    static const char *const not_ws[] = { "\f{}", "{}\f", "{\v}", "\v1", NULL };
    expect_results(state, not_ws, LC_JSON_INVALID);
}

static void test_empty_and_blank_input(void **state)
{
    scan_out_t o = scan_bytes(state, NULL, 0);
    assert_int_equal(o.result, LC_JSON_INVALID);
    assert_true(o.utf8_ok);
    assert_null(o.members);
    assert_int_equal(o.nmembers, 0);
    assert_null(o.obj_start);
    assert_null(o.obj_end);
    o = scan_bytes(state, "", 0);
    assert_int_equal(o.result, LC_JSON_INVALID);
    assert_true(o.utf8_ok);
    o = scan_str(state, " \t\r\n ");
    assert_int_equal(o.result, LC_JSON_INVALID);
    assert_true(o.utf8_ok);
}

static void test_top_level_not_object(void **state)
{
    static const char *const inputs[] = {
        "[]", "[1,2]", "\"s\"", "0", "-1.5e3", "true", "false", "null", " [ {} ] ",
        "\"\\u0000\"", NULL,
    };
    expect_results(state, inputs, LC_JSON_NOT_OBJECT);
    scan_out_t o = scan_str(state, "[1]");
    assert_true(o.utf8_ok);
    assert_null(o.members);
    assert_int_equal(o.nmembers, 0);
}

/* ---- syntax ---------------------------------------------------------------------------- */

static void test_syntax_valid(void **state)
{
    static const char *const inputs[] = {
        "{}", "{\"\":0}", "{\"a\":[]}", "{\"a\":[[],[{}]]}",
        "{\"n\":0}", "{\"n\":-0}", "{\"n\":1.5}", "{\"n\":-0.0e-0}", "{\"n\":1E5}",
        "{\"n\":1e+5}", "{\"n\":1e-5}", "{\"n\":10}", "{\"n\":123456789}",
        "{\"n\":123456789012345678901234567890123456789012345678901234567890}",
        "{\"n\":1e999999}", "{\"n\":-1.0000000000000000000000000000000001}",
        "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", "{\"s\":\"\\u0000\"}", "{\"s\":\"\\u00e9\\uABCD\"}",
        "{\"s\":\"\\uD83D\\uDE00\"}", "{\"s\":\"\\udbff\\udfff\"}", "{\"s\":\"\x7f\"}",
        "{\"s\":\"/*not a comment*/\"}", "{\"a\":true,\"b\":false,\"c\":null}", NULL,
    };
    expect_results(state, inputs, LC_JSON_OK);
}

static void test_syntax_invalid(void **state)
{
    static const char *const inputs[] = {
        /* structure */
        "{", "}", "{\"a\":1", "{\"a\":1,}", "[1,]", "[,1]", "{,}", "{\"a\":1,,\"b\":2}",
        "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{\"a\"::1}", "{:1}", "{a:1}", "{'a':1}",
        "{\"a\":'b'}", "{1:2}", "{\"a\":1]", "[1}", "{} {}", "{}{}", "{}x", "{},", "1 2",
        "{\"a\":1 \"b\":2}", "[1 2]", "{\"a\":[}", "{\"a\":{]}",
        /* numbers */
        "{\"n\":01}", "{\"n\":-01}", "{\"n\":00}", "{\"n\":1.}", "{\"n\":.1}", "{\"n\":1e}",
        "{\"n\":1e+}", "{\"n\":1E-}", "{\"n\":+1}", "{\"n\":-}", "{\"n\":--1}", "{\"n\":1.e5}",
        "{\"n\":0x10}", "{\"n\":1_000}", "{\"n\":NaN}", "{\"n\":Infinity}", "{\"n\":-Infinity}",
        "{\"n\":nan}", "{\"n\":inf}", "-", "01", "1.5.", "1e5e5",
        /* literals */
        "{\"a\":tru}", "{\"a\":truee}", "{\"a\":True}", "{\"a\":nul}", "{\"a\":NULL}",
        "{\"a\":fals}", "{\"a\":undefined}", "t", "nulll",
        /* comments */
        "/*c*/{}", "{}/*c*/", "{}//c", "{\"a\":1/*c*/}", "#{}",
        /* strings */
        "{\"a\":\"b}", "{\"a\":\"b\\\"}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\a\"}",
        "{\"a\":\"\\'\"}", "{\"a\":\"\\U0041\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12G4\"}",
        "{\"a\":\"\\u\"}", "{\"a\":\"\\\"}", "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}",
        "{\"a\":\"\x01\"}", "{\"a\":\"\x1f\"}", "{\"a\\\":1}", "\"",
        /* lone or misordered surrogates in \u escapes (jansson refuses them too) */
        "{\"a\":\"\\uD800\"}", "{\"a\":\"\\uDBFF\"}", "{\"a\":\"\\uDC00\"}", "{\"a\":\"\\uDFFF\"}",
        "{\"a\":\"\\uD800x\"}", "{\"a\":\"\\uD800\\u0041\"}", "{\"a\":\"\\uD800\\uD800\"}",
        "{\"a\":\"\\uDE00\\uD83D\"}", "{\"a\":\"\\uD800\\n\"}", "{\"\\uD800\":1}",
        NULL,
    };
    expect_results(state, inputs, LC_JSON_INVALID);
    /* a NUL byte outside strings, and raw inside one, is invalid */
    assert_int_equal(scan_bytes(state, "{}\0", 3).result, LC_JSON_INVALID);
    assert_int_equal(scan_bytes(state, "{\"a\":\"\0\"}", 9).result, LC_JSON_INVALID);
    assert_int_equal(scan_bytes(state, "{\"a\":\"x\"}", 9).result, LC_JSON_OK);
}

static void test_input_is_not_read_past_len(void **state)
{
    const char *doc = "{\"a\":12}";
    /* every proper prefix of a valid document is invalid: the scanner must stop at len */
    for (size_t n = 0; n < strlen(doc); n++)
        assert_int_equal(scan_exact(state, doc, n, NULL), LC_JSON_INVALID);
    /* the same for every kind of token cut short */
    static const char *const docs[] = {
        "{\"s\":\"0123456789abcdefghij\\u00e9\\ud83d\\ude00\xf0\x9f\x98\x80\"}",
        "{\"n\":-12.5e+30}", "{\"t\":true}", "{\"f\":false}", "{\"z\":null}",
        "{\"a\":[1,{\"b\":[]}]}",
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(docs); i++)
        for (size_t n = 0; n < strlen(docs[i]); n++)
            assert_int_equal(scan_exact(state, docs[i], n, NULL), LC_JSON_INVALID);
    assert_int_equal(scan_bytes(state, "{\"a\":12}", 7).result, LC_JSON_INVALID);
    assert_int_equal(scan_bytes(state, "123", 2).result, LC_JSON_NOT_OBJECT);
}

/* ---- UTF-8 ----------------------------------------------------------------------------- */

static void test_utf8_valid_boundaries(void **state)
{
    static const char *const inputs[] = {
        "{\"a\":\"\xc2\x80\"}",          /* U+0080 */
        "{\"a\":\"\xdf\xbf\"}",          /* U+07FF */
        "{\"a\":\"\xe0\xa0\x80\"}",      /* U+0800 */
        "{\"a\":\"\xed\x9f\xbf\"}",      /* U+D7FF */
        "{\"a\":\"\xee\x80\x80\"}",      /* U+E000 */
        "{\"a\":\"\xef\xbf\xbf\"}",      /* U+FFFF */
        "{\"a\":\"\xf0\x90\x80\x80\"}",  /* U+10000 */
        "{\"a\":\"\xf4\x8f\xbf\xbf\"}",  /* U+10FFFF */
        "{\"\xc3\xa9t\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80 long enough for the wide path\"}",
        NULL,
    };
    for (size_t i = 0; inputs[i]; i++) {
        scan_out_t o = scan_str(state, inputs[i]);
        assert_int_equal(o.result, LC_JSON_OK);
        assert_true(o.utf8_ok);
    }
}

static void test_utf8_error_classes(void **state)
{
    static const char *const inputs[] = {
        "\x80", "\xbf",                      /* stray continuation bytes */
        "\xc0\xaf", "\xc1\xbf",              /* overlong 2-byte forms */
        "\xe0\x80\xaf", "\xe0\x9f\xbf",      /* overlong 3-byte forms */
        "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf", /* overlong 4-byte forms */
        "\xed\xa0\x80", "\xed\xbf\xbf",      /* UTF-16 surrogates encoded in UTF-8 */
        "\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf", /* beyond U+10FFFF */
        "\xf5\x80\x80\x80", "\xf8", "\xfe", "\xff", /* bytes that never occur */
        "\xc3", "\xe2\x82", "\xf0\x9f\x98",  /* truncated sequences */
        "\xc3\x41", "\xe2\x41\x82", "\xf0\x9f\x41\x80", /* continuation missing */
        NULL,
    };
    for (size_t i = 0; inputs[i]; i++) {
        char doc[64];
        /* inside a string, long enough that the 16-byte path sees it too */
        int n = snprintf(doc, sizeof(doc), "{\"a\":\"0123456789abcdef%s0123456789abcdef\"}",
                         inputs[i]);
        scan_out_t o = scan_bytes(state, doc, (size_t)n);
        if (o.result != LC_JSON_INVALID || o.utf8_ok)
            fail_msg("case #%zu: result %d utf8_ok %d", i, o.result, o.utf8_ok);
        /* inside a short string, and in a member name */
        n = snprintf(doc, sizeof(doc), "{\"%s\":\"%s\"}", inputs[i], inputs[i]);
        o = scan_bytes(state, doc, (size_t)n);
        if (o.result != LC_JSON_INVALID || o.utf8_ok)
            fail_msg("case #%zu short: result %d utf8_ok %d", i, o.result, o.utf8_ok);
        /* cut off at the very end of the input (exact size: the scanner must not look
         * past it for the rest of a sequence) */
        n = snprintf(doc, sizeof(doc), "{\"a\":\"%s", inputs[i]);
        bool utf8_ok = true;
        assert_int_equal(scan_exact(state, doc, (size_t)n, &utf8_ok), LC_JSON_INVALID);
        assert_false(utf8_ok);
        utf8_ok = true;
        assert_int_equal(scan_exact(state, inputs[i], strlen(inputs[i]), &utf8_ok),
                         LC_JSON_INVALID);
        assert_false(utf8_ok);
    }
}

static void test_utf8_ok_is_about_the_whole_input(void **state)
{
    /* invalid UTF-8 after a syntax error is still reported */
    scan_out_t o = scan_str(state, "{\"a\":1}x\xff");
    assert_int_equal(o.result, LC_JSON_INVALID);
    assert_false(o.utf8_ok);
    o = scan_str(state, "{\"a\":01, \"b\":\"\xc0\xaf\"}");
    assert_int_equal(o.result, LC_JSON_INVALID);
    assert_false(o.utf8_ok);
    /* valid UTF-8 where JSON allows no such character: invalid JSON, but valid UTF-8 */
    o = scan_str(state, "{\"a\":1}\xc3\xa9");
    assert_int_equal(o.result, LC_JSON_INVALID);
    assert_true(o.utf8_ok);
    o = scan_str(state, "\xef\xbb\xbf{}");   /* a byte order mark is not JSON */
    assert_int_equal(o.result, LC_JSON_INVALID);
    assert_true(o.utf8_ok);
    /* valid documents of other kinds are valid UTF-8 */
    o = scan_str(state, "[\"\xc3\xa9\"]");
    assert_int_equal(o.result, LC_JSON_NOT_OBJECT);
    assert_true(o.utf8_ok);
    o = scan_str(state, "{\"\xc3\xa9\":1,\"\xc3\xa9\":2}");
    assert_int_equal(o.result, LC_JSON_DUPLICATE_KEY);
    assert_true(o.utf8_ok);
}

/* ---- depth ----------------------------------------------------------------------------- */

static void test_depth_limit_arrays(void **state)
{
    size_t len;
    char *doc = nested("[", "1", "]", LC_JSON_MAX_DEPTH, &len);
    assert_int_equal(scan_bytes(state, doc, len).result, LC_JSON_NOT_OBJECT);
    free(doc);
    doc = nested("[", "", "]", LC_JSON_MAX_DEPTH + 1, &len);
    scan_out_t o = scan_bytes(state, doc, len);
    assert_int_equal(o.result, LC_JSON_INVALID);
    assert_true(o.utf8_ok);
    free(doc);
}

static void test_depth_limit_objects(void **state)
{
    size_t len;
    char *doc = nested("{\"a\":", "{}", "}", LC_JSON_MAX_DEPTH - 1, &len);
    scan_out_t o = scan_bytes(state, doc, len);
    assert_int_equal(o.result, LC_JSON_OK);
    assert_int_equal(o.nmembers, 1);
    assert_int_equal(o.members[0].type, LC_JT_OBJECT);
    assert_int_equal(o.members[0].val_len, len - 6);
    free(doc);
    doc = nested("{\"a\":", "{}", "}", LC_JSON_MAX_DEPTH, &len);
    assert_int_equal(scan_bytes(state, doc, len).result, LC_JSON_INVALID);
    free(doc);
}

static void test_very_deep_input_does_not_crash(void **state)
{
    size_t len;
    char *doc = nested("[{\"k\":", "0", "}]", 200000, &len);
    assert_int_equal(scan_bytes(state, doc, len).result, LC_JSON_INVALID);
    free(doc);
    doc = nested("[", "", "", 1000000, &len);
    assert_int_equal(scan_bytes(state, doc, len).result, LC_JSON_INVALID);
    free(doc);
}

/* ---- duplicate member names ------------------------------------------------------------ */

static void test_duplicates_detected(void **state)
{
    static const char *const inputs[] = {
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"b\":2,\"a\":3}",
        "{\"\":1,\"\":2}",
        "{\"x\":{\"a\":1,\"a\":2}}",
        "{\"x\":{\"y\":{\"z\":{\"a\":1,\"b\":[],\"a\":2}}}}",
        "{\"x\":[1,{\"a\":1,\"a\":2}]}",
        "{\"x\":[{\"a\":1},{\"b\":1,\"b\":2}]}",
        "{\"a\":1,\"\\u0061\":2}",               /* escaped equivalents */
        "{\"\\u0061\":1,\"a\":2}",
        "{\"\\u0061\":1,\"\\u0061\":2}",
        "{\"\\u0061b\":1,\"a\\u0062\":2}",
        "{\"/\":1,\"\\/\":2}",
        "{\"\\n\":1,\"\\u000a\":2}",
        "{\"\xc3\xa9\":1,\"\\u00e9\":2}",
        "{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}",
        "{\"\\u0000\":1,\"\\u0000\":2}",
        "{\"event_id\":\"1\",\"account_id\":\"2\",\"event_id\":\"3\"}",
        NULL,
    };
    expect_results(state, inputs, LC_JSON_DUPLICATE_KEY);
    scan_out_t o = scan_str(state, "{\"a\":1,\"a\":2}");
    assert_null(o.members);
    assert_int_equal(o.nmembers, 0);
    assert_true(o.utf8_ok);
}

static void test_not_duplicates(void **state)
{
    static const char *const inputs[] = {
        "{\"a\":1,\"A\":2}",
        "{\"a\":1,\"\\u0041\":2}",
        "{\"a\":1,\"a \":2}",
        "{\"ab1b\":1,\"ab2b\":2,\"ab3b\":3}",    /* same length, first and last byte */
        "{\"a\":{\"a\":{\"a\":1}}}",               /* same name at different levels */
        "{\"x\":{\"a\":1},\"y\":{\"a\":1}}",       /* same name in sibling objects */
        "{\"x\":[{\"a\":1},{\"a\":2}]}",
        "{\"a\":{\"b\":1},\"b\":2}",               /* inner names are gone once it closes */
        "{\"ab1b\":{\"x\":1},\"x\":2,\"ab2b\":3}",   /* ... also when the outer ones are compared */
        "{\"k0\":{\"k1\":1},\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,"
        "\"k9\":9,\"k10\":0,\"k11\":1,\"k12\":2,\"k13\":3,\"k14\":4,\"k15\":5,\"k16\":6}",
        "{\"\\u0000\":1,\"\\u0000a\":2}",
        "{\"\\ud83d\\ude00\":1,\"\\ud83d\\ude01\":2}",
        "{\"\\\\u0061\":1,\"a\":2}",              /* "\\u0061" is six characters, not "a" */
        NULL,
    };
    expect_results(state, inputs, LC_JSON_OK);
}

static void test_duplicates_lose_to_other_errors(void **state)
{
    /* syntax errors win: the document is checked whole */
    assert_int_equal(result_of(state, "{\"a\":1,\"a\":2"), LC_JSON_INVALID);
    assert_int_equal(result_of(state, "{\"a\":1,\"a\":2}}"), LC_JSON_INVALID);
    assert_int_equal(result_of(state, "{\"a\":1,\"a\":2,\"b\":01}"), LC_JSON_INVALID);
    assert_int_equal(result_of(state, "{\"a\":1,\"a\":\"\xff\"}"), LC_JSON_INVALID);
    /* a top level that is not an object wins too (CONTRACT §2.1 table order) */
    assert_int_equal(result_of(state, "[{\"a\":1,\"a\":2}]"), LC_JSON_NOT_OBJECT);
}

/* An object of n members "k0".."k<n-1>", with member dup_of's name repeated at the end
 * when dup_of >= 0, written escaped when escape is set. */
static char *many_member_object(int n, int dup_of, bool escape)
{
    size_t cap = (size_t)n * 24 + 64, len = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    len += (size_t)snprintf(doc + len, cap - len, "{");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(doc + len, cap - len, "%s\"k%d\":%d", i ? "," : "", i, i);
    if (dup_of >= 0)
        len += (size_t)snprintf(doc + len, cap - len, escape ? ",\"\\u006b%d\":0" : ",\"k%d\":0",
                                dup_of);
    snprintf(doc + len, cap - len, "}");
    return doc;
}

static void test_duplicates_in_large_objects(void **state)
{
    static const int sizes[] = { 15, 16, 17, 40, 1000 };
    for (size_t i = 0; i < LC_ARRAY_SIZE(sizes); i++) {
        int n = sizes[i];
        char *doc = many_member_object(n, -1, false);
        scan_out_t o = scan_str(state, doc);
        assert_int_equal(o.result, LC_JSON_OK);
        assert_int_equal(o.nmembers, (size_t)n);
        assert_int_equal(o.members[n - 1].key_len, snprintf(NULL, 0, "k%d", n - 1));
        free(doc);
        static const int dup_positions[] = { 0, 7 };
        for (size_t d = 0; d < 2; d++)
            for (int escape = 0; escape < 2; escape++) {
                doc = many_member_object(n, dup_positions[d] % n, escape);
                if (result_of(state, doc) != LC_JSON_DUPLICATE_KEY)
                    fail_msg("n=%d dup_of=%d escape=%d not found", n, dup_positions[d], escape);
                free(doc);
            }
    }
    /* a large object nested inside an array inside the top object */
    char *inner = many_member_object(100, 42, true);
    size_t need = strlen(inner) + 32;
    char *doc = malloc(need);
    snprintf(doc, need, "{\"x\":[0,%s]}", inner);
    assert_int_equal(result_of(state, doc), LC_JSON_DUPLICATE_KEY);
    free(inner);
    free(doc);
}

/* ---- scanner reuse --------------------------------------------------------------------- */

static void test_scanner_is_reusable(void **state)
{
    char *big = many_member_object(300, -1, false);
    assert_int_equal(scan_str(state, big).nmembers, 300);
    scan_out_t o = scan_str(state, "{\"only\":1}");
    assert_int_equal(o.result, LC_JSON_OK);
    assert_int_equal(o.nmembers, 1);
    assert_int_equal(o.members[0].key_len, 4);
    /* a failed scan in between leaves nothing behind */
    assert_int_equal(result_of(state, "{\"a\":1,\"a\":2}"), LC_JSON_DUPLICATE_KEY);
    assert_int_equal(result_of(state, "{\"a\":{\"b\":1,"), LC_JSON_INVALID);
    assert_int_equal(result_of(state, "{\"b\":1}"), LC_JSON_OK);
    assert_int_equal(result_of(state, DEFAULT_RECORD), LC_JSON_OK);
    free(big);
}

static void test_null_out_pointers_allowed(void **state)
{
    assert_int_equal(lc_json_scan(*state, "{}", 2, NULL, NULL, NULL, NULL, NULL), LC_JSON_OK);
    assert_int_equal(lc_json_scan(*state, "{", 1, NULL, NULL, NULL, NULL, NULL),
                     LC_JSON_INVALID);
}

/* ---- unescape and key_equals ----------------------------------------------------------- */

static void test_unescape(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        const char *decoded;
        size_t decoded_len;
    } cases[] = {
        { "plain", "plain", 5 },
        { "", "", 0 },
        { "\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t", 8 },
        { "a\\u0000b", "a\0b", 3 },
        { "\\u0000", "\0", 1 },
        { "\\u0041\\u00e9\\u20AC", "A\xc3\xa9\xe2\x82\xac", 6 },
        { "\\ud83d\\ude00!", "\xf0\x9f\x98\x80!", 5 },
        { "\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf", 4 },
        { "x\xc3\xa9y", "x\xc3\xa9y", 4 },
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(cases); i++) {
        char out[64];
        memset(out, 'Z', sizeof(out));
        size_t n = lc_json_unescape(cases[i].raw, strlen(cases[i].raw), out, sizeof(out));
        assert_int_equal(n, cases[i].decoded_len);
        assert_memory_equal(out, cases[i].decoded, n);
        assert_int_equal(out[n], 'Z');
    }
}

static void test_unescape_respects_capacity(void **state)
{
    (void)state;
    char out[8];
    memset(out, 'Z', sizeof(out));
    assert_int_equal(lc_json_unescape("abcdef", 6, out, 3), 3);
    assert_memory_equal(out, "abcZ", 4);
    /* a character never gets cut: U+20AC needs 3 bytes, only 2 remain after "a" */
    memset(out, 'Z', sizeof(out));
    assert_int_equal(lc_json_unescape("a\\u20ac", 7, out, 3), 1);
    assert_memory_equal(out, "aZ", 2);
    assert_int_equal(lc_json_unescape("\\n", 2, out, 0), 0);
    /* the documented bound: len bytes always suffice */
    const char *raw = "\\ud83d\\ude00\\u0000x";
    assert_int_equal(lc_json_unescape(raw, strlen(raw), out, sizeof(out)), 6);
}

static void test_key_equals(void **state)
{
    (void)state;
    assert_true(lc_json_key_equals("device", 6, false, "device", 6));
    assert_false(lc_json_key_equals("device", 6, false, "devic", 5));
    assert_false(lc_json_key_equals("devic", 5, false, "device", 6));
    assert_false(lc_json_key_equals("Device", 6, false, "device", 6));
    assert_true(lc_json_key_equals("d\\u0065vice", 11, true, "device", 6));
    assert_true(lc_json_key_equals("\\u0064evice", 11, true, "device", 6));
    assert_false(lc_json_key_equals("d\\u0065vic", 10, true, "device", 6));
    assert_false(lc_json_key_equals("d\\u0065vicee", 12, true, "device", 6));
    assert_false(lc_json_key_equals("d\\u0045vice", 11, true, "device", 6));
    assert_true(lc_json_key_equals("a\\u0000b", 8, true, "a\0b", 3));
    assert_false(lc_json_key_equals("a\\u0000b", 8, true, "a", 1));
    assert_true(lc_json_key_equals("\\ud83d\\ude00", 12, true, "\xf0\x9f\x98\x80", 4));
    assert_true(lc_json_key_equals("", 0, false, "", 0));
    assert_true(lc_json_key_equals("\\/", 2, true, "/", 1));
}

/* Members found by a scan compare and unescape as the classifier will use them. */
static void test_members_with_escapes_decode(void **state)
{
    scan_out_t o = scan_str(state, "{\"dev\\u0069ce\":\"AND\\u0000ROID\\n\",\"k\":\"v\"}");
    assert_int_equal(o.result, LC_JSON_OK);
    const lc_json_member_t *m = &o.members[0];
    assert_true(m->key_escaped);
    assert_true(lc_json_key_equals(m->key, m->key_len, m->key_escaped, "device", 6));
    assert_true(m->val_escaped);
    char out[32];
    size_t n = lc_json_unescape(m->val, m->val_len, out, sizeof(out));
    assert_int_equal(n, 9);
    assert_memory_equal(out, "AND\0ROID\n", 9);
    assert_false(o.members[1].key_escaped);
    assert_false(o.members[1].val_escaped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_spans_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_white_space_around_and_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_blank_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_level_not_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_is_not_read_past_len, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_valid_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_error_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_ok_is_about_the_whole_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit_arrays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_very_deep_input_does_not_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_lose_to_other_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_in_large_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scanner_is_reusable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_out_pointers_allowed, setup, teardown),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_unescape_respects_capacity),
        cmocka_unit_test(test_key_equals),
        cmocka_unit_test_setup_teardown(test_members_with_escapes_decode, setup, teardown),
        /* again through lc_json_scanner_general */
        cmocka_unit_test_setup_teardown(test_default_record, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_member_spans_exact, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_white_space_around_and_inside, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_blank_input, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_top_level_not_object, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_valid, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_invalid, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_input_is_not_read_past_len, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_valid_boundaries, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_error_classes, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_ok_is_about_the_whole_input, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit_arrays, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit_objects, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_very_deep_input_does_not_crash, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_detected, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_not_duplicates, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_lose_to_other_errors, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_in_large_objects, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_scanner_is_reusable, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_null_out_pointers_allowed, setup_general, teardown),
        cmocka_unit_test_setup_teardown(test_members_with_escapes_decode, setup_general, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
