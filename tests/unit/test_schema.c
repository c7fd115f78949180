/*
 * test_schema.c - the type rules of CONTRACT §3, the constraint order of CONTRACT §2.1, reason ids
 * and names, and schema construction errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lc_json.h"
#include "lc_schema.h"
#include "lc_text.h"

/* ---- helpers ------------------------------------------------------------------------ */

static lc_schema_t *one_field(lc_field_type_t type)
{
    lc_field_def_t def = {.name = "f", .type = type, .required = true, .max_length = -1};
    char err[256];
    lc_schema_t *s = lc_schema_new(&def, 1, NULL, err, sizeof(err));
    assert_non_null(s);
    return s;
}

static lc_schema_t *one_field_def(lc_field_def_t def)
{
    char err[256] = "";
    lc_schema_t *s = lc_schema_new(&def, 1, NULL, err, sizeof(err));
    if (!s)
        fail_msg("lc_schema_new: %s", err);
    return s;
}

/* Result of checking `text` (NUL-terminated, so no embedded NULs) in field 0. */
static int check(const lc_schema_t *s, int jtype, const char *text)
{
    return lc_schema_check_value(s, 0, jtype, text, strlen(text), NULL);
}

#define OK (-1)

static bool int_str(const char *s, int64_t *out)
{
    return lc_text_parse_int64(s, strlen(s), false, out);
}

static bool int_tok(const char *s, int64_t *out)
{
    return lc_text_parse_int64(s, strlen(s), true, out);
}

static bool dec(const char *s)
{
    return lc_schema_valid_decimal(s, strlen(s));
}

static bool ts(const char *s)
{
    return lc_schema_valid_timestamp(s, strlen(s));
}

/* ---- integer ------------------------------------------------------------------------ */

static void test_int64_bounds(void **state)
{
    (void)state;
    int64_t v = 1;
    assert_true(int_str("9223372036854775807", &v));
    assert_true(v == INT64_MAX);
    assert_false(int_str("9223372036854775808", &v));
    assert_true(int_str("-9223372036854775808", &v));
    assert_true(v == INT64_MIN);
    assert_false(int_str("-9223372036854775809", &v));
    assert_false(int_str("99999999999999999999", &v));   /* 20 digits */
    assert_true(int_tok("9223372036854775807", &v));
    assert_true(v == INT64_MAX);
    assert_false(int_tok("9223372036854775808", &v));
    assert_true(int_tok("-9223372036854775808", &v));
    assert_true(v == INT64_MIN);
    assert_false(int_tok("-9223372036854775809", &v));
}

static void test_int64_string_form(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_true(int_str("0", &v));
    assert_int_equal(v, 0);
    assert_true(int_str("-0", &v));
    assert_int_equal(v, 0);
    assert_true(int_str("684", &v));
    assert_int_equal(v, 684);
    assert_true(int_str("0684", &v));
    assert_int_equal(v, 684);
    assert_true(int_str("-42", &v));
    assert_int_equal(v, -42);
    /* 19 digits with leading zeros: fine; 20 digits: refused even though the value is small */
    assert_true(int_str("0000000000000000684", &v));
    assert_int_equal(v, 684);
    assert_false(int_str("00000000000000000684", &v));
    assert_false(int_str("", &v));
    assert_false(int_str("-", &v));
    assert_false(int_str("+1", &v));
    assert_false(int_str(" 1", &v));
    assert_false(int_str("1 ", &v));
    assert_false(int_str("1.0", &v));
    assert_false(int_str("1e2", &v));
    assert_false(int_str("--1", &v));
    assert_false(int_str("0x10", &v));
    assert_false(int_str("١", &v));   /* Arabic-Indic digit one: not ASCII */
    assert_false(lc_text_parse_int64("1\0002", 3, false, &v));
    /* out may be NULL */
    assert_true(lc_text_parse_int64("12", 2, false, NULL));
}

static void test_int64_token_form(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_true(int_tok("-0", &v));
    assert_int_equal(v, 0);
    assert_true(int_tok("684", &v));
    assert_int_equal(v, 684);
    assert_false(int_tok("0684", &v));   /* not a JSON number */
    assert_false(int_tok("1.0", &v));
    assert_false(int_tok("1e2", &v));
    assert_false(int_tok("1E2", &v));
}

static void test_integer_field(void **state)
{
    (void)state;
    lc_schema_t *s = one_field(LC_FT_INTEGER);
    int64_t v = 0;
    assert_int_equal(lc_schema_check_value(s, 0, LC_JT_NUMBER, "684", 3, &v), OK);
    assert_int_equal(v, 684);
    assert_int_equal(lc_schema_check_value(s, 0, LC_JT_STRING, "0684", 4, &v), OK);
    assert_int_equal(v, 684);
    assert_int_equal(lc_schema_check_value(s, 0, LC_JT_NUMBER, "-9223372036854775808", 20, &v),
                     OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(check(s, LC_JT_NUMBER, "-0"), OK);
    assert_int_equal(check(s, LC_JT_NUMBER, "1.0"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "1e2"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "9223372036854775808"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "123456789012345678901234567890"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "9223372036854775807"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "9223372036854775808"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "+684"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, " 684"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, ""), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "1.0"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_TRUE, "true"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_OBJECT, "{}"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_ARRAY, "[1]"), LC_R_TYPE);
    lc_schema_free(s);
}

/* ---- number ------------------------------------------------------------------------- */

static void test_decimal_strings_accepted(void **state)
{
    (void)state;
    const char *ok[] = {
        "0", "-0", "+0", "1", "-1", "+1", "00012", "1.5", "-1.5", "+1.5", "0.000001",
        ".5", "-.5", "5.", "-5.", "1e10", "1E10", "1e+3", "1e-3", "1.5e3", ".5e1", "5.e1",
        "123456789012345678901234567890", "1e308", "1.7976931348623157e308",
        "1.7976931348623158e308",   /* still rounds down to DBL_MAX */
        "0.000001e314",             /* = 1e308 */
        "1e-999",                   /* underflows to 0: finite */
        "0e999999999999999999999",  /* zero, whatever the exponent */
        "-1.7976931348623157e308",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!dec(ok[i]))
            fail_msg("refused decimal \"%s\"", ok[i]);
}

static void test_decimal_strings_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "", ".", "-", "+", "-.", "e5", ".e5", "1e", "1e+", "1e-", "1.5.2", "1..5", "--1",
        "+-1", "NaN", "nan", "Infinity", "-Infinity", "inf", "0x10", "0x1p3", " 1", "1 ",
        "1_000", "1,5", "1 000", "1e5.5", "1f", "١",
        "1e999", "1e309", "-1e309", "100000e304", "1.7976931348623159e308",
        "1e99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (dec(bad[i]))
            fail_msg("accepted decimal \"%s\"", bad[i]);
    assert_false(lc_schema_valid_decimal("1\0", 2));
}

static void test_number_field(void **state)
{
    (void)state;
    lc_schema_t *s = one_field(LC_FT_NUMBER);
    /* any JSON number: size and precision do not matter */
    assert_int_equal(check(s, LC_JT_NUMBER, "1e999999"), OK);
    assert_int_equal(check(s, LC_JT_NUMBER, "123456789012345678901234567890"), OK);
    assert_int_equal(check(s, LC_JT_NUMBER, "-0.5"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "12.5"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "1e999"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "NaN"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, ""), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_TRUE, "true"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_ARRAY, "[]"), LC_R_TYPE);
    lc_schema_free(s);
}

/* ---- boolean ------------------------------------------------------------------------ */

static void test_boolean_field(void **state)
{
    (void)state;
    lc_schema_t *s = one_field(LC_FT_BOOLEAN);
    assert_int_equal(check(s, LC_JT_TRUE, "true"), OK);
    assert_int_equal(check(s, LC_JT_FALSE, "false"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "true"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "1"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "0"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_OBJECT, "{}"), LC_R_TYPE);
    lc_schema_free(s);
}

/* ---- timestamp ---------------------------------------------------------------------- */

static void test_timestamp_epoch(void **state)
{
    (void)state;
    lc_schema_t *s = one_field(LC_FT_TIMESTAMP);
    assert_int_equal(check(s, LC_JT_NUMBER, "0"), OK);
    assert_int_equal(check(s, LC_JT_NUMBER, "1619724510"), OK);
    assert_int_equal(check(s, LC_JT_NUMBER, "253402300799"), OK);
    assert_int_equal(check(s, LC_JT_NUMBER, "253402300800"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "99999999999999999999999999"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "-1"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "-0"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "1619724510.0"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_NUMBER, "1.6e9"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "0"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "1619724510"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "0001619724510"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "253402300799"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "253402300800"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "000000000000000000000253402300800"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, ""), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "-1"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "+1"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, " 1619724510"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "1619724510.5"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_TRUE, "true"), LC_R_TYPE);
    lc_schema_free(s);
}

/* Epoch seconds as a string of 1 to 13 bytes with any byte at any position: accepted
 * exactly when every byte is a digit and the value is at most 253402300799 (the check
 * reads 8 bytes at a time from 8 digits on; the reference here goes byte by byte). */
static void test_timestamp_epoch_every_byte(void **state)
{
    (void)state;
    char buf[16];
    const char *digits = "2534023007991";
    for (size_t len = 1; len <= 13; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (int b = 0; b < 256; b++) {
                memcpy(buf, digits, len);
                buf[pos] = (char)b;
                bool all = true;
                unsigned long long v = 0;
                for (size_t i = 0; i < len; i++) {
                    if (buf[i] < '0' || buf[i] > '9') {
                        all = false;
                        break;
                    }
                    v = v * 10 + (unsigned long long)(buf[i] - '0');
                }
                /* a leading '-' at position 4 of a 20+ byte string is RFC 3339's: not here */
                bool want = all && v <= 253402300799ULL;
                if (lc_schema_valid_timestamp(buf, len) != want)
                    fail_msg("len %zu, byte 0x%02x at %zu: expected %d", len, b, pos, want);
            }
        }
    }
    /* two bytes out of range at once (a borrow and a carry in one word) */
    for (size_t i = 0; i < 10; i++)
        for (size_t j = 0; j < 10; j++) {
            memcpy(buf, "1619724510", 10);
            buf[i] = '/';
            buf[j] = ':';
            assert_false(lc_schema_valid_timestamp(buf, 10));
            buf[i] = (char)0x80;
            buf[j] = (char)0xff;
            assert_false(lc_schema_valid_timestamp(buf, 10));
        }
}

static void test_timestamp_rfc3339_accepted(void **state)
{
    (void)state;
    const char *ok[] = {
        "2021-04-29T19:28:30Z",
        "2021-04-29t19:28:30z",
        "2021-04-29T19:28:30z",
        "2021-04-29t19:28:30Z",
        "2021-04-29T19:28:30.5Z",
        "2021-04-29T19:28:30.123456789Z",
        "2021-04-29T19:28:30+02:00",
        "2021-04-29T19:28:30-05:30",
        "2021-04-29T19:28:30.25+23:59",
        "2021-04-29T19:28:30-00:00",
        "2020-02-29T00:00:00Z",     /* leap year */
        "2000-02-29T00:00:00Z",     /* divisible by 400 */
        "2021-12-31T23:59:60Z",     /* leap second */
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2021-04-30T00:00:00Z",
        "2021-01-31T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!ts(ok[i]))
            fail_msg("refused timestamp \"%s\"", ok[i]);
}

static void test_timestamp_rfc3339_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "2021-04-29 19:28:30Z",     /* space instead of T */
        "2021-04-29T19:28:30",      /* no offset */
        "2021-04-29",
        "2021-04-29T19:28Z",
        "2021-04-29T19:28:30.Z",    /* fraction without digits */
        "2021-04-29T19:28:30,5Z",
        "2021-04-29T19:28:30+0200",
        "2021-04-29T19:28:30+02",
        "2021-04-29T19:28:30+24:00",
        "2021-04-29T19:28:30+02:60",
        "2021-04-29T19:28:30Zx",
        "2021-04-29T19:28:30Z ",
        " 2021-04-29T19:28:30Z",
        "2021-02-29T00:00:00Z",     /* not a leap year */
        "1900-02-29T00:00:00Z",     /* divisible by 100, not by 400 */
        "2021-04-31T00:00:00Z",
        "2021-13-01T00:00:00Z",
        "2021-00-01T00:00:00Z",
        "2021-01-00T00:00:00Z",
        "2021-01-32T00:00:00Z",
        "2021-04-29T24:00:00Z",
        "2021-04-29T23:60:00Z",
        "2021-04-29T23:59:61Z",
        "21-04-29T19:28:30Z",
        "2021-4-29T19:28:30Z",
        "2021/04/29T19:28:30Z",
        "2021-04-29X19:28:30Z",
        "+2021-04-29T19:28:30Z",
        "2021-04-29T19:28:30UTC",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ts(bad[i]))
            fail_msg("accepted timestamp \"%s\"", bad[i]);
}

static void test_timestamp_field_strings(void **state)
{
    (void)state;
    lc_schema_t *s = one_field(LC_FT_TIMESTAMP);
    assert_int_equal(check(s, LC_JT_STRING, "2021-04-29T19:28:30Z"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "2021-04-29 19:28:30Z"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "2021-02-29T19:28:30Z"), LC_R_TYPE);
    lc_schema_free(s);
}

/* ---- string: empty, length, enum, pattern -------------------------------------------- */

static void test_string_type_and_empty(void **state)
{
    (void)state;
    lc_schema_t *s = one_field(LC_FT_STRING);
    assert_int_equal(check(s, LC_JT_STRING, "x"), OK);
    assert_int_equal(check(s, LC_JT_STRING, " x "), OK);
    assert_int_equal(check(s, LC_JT_NUMBER, "684"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_TRUE, "true"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_OBJECT, "{}"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, ""), LC_R_EMPTY);
    assert_int_equal(check(s, LC_JT_STRING, " "), LC_R_EMPTY);
    assert_int_equal(check(s, LC_JT_STRING, "\t"), LC_R_EMPTY);
    assert_int_equal(check(s, LC_JT_STRING, "\r"), LC_R_EMPTY);
    assert_int_equal(check(s, LC_JT_STRING, "\n"), LC_R_EMPTY);
    assert_int_equal(check(s, LC_JT_STRING, "\f"), LC_R_EMPTY);
    assert_int_equal(check(s, LC_JT_STRING, "\v"), LC_R_EMPTY);
    assert_int_equal(check(s, LC_JT_STRING, " \t\r\n\f\v "), LC_R_EMPTY);
    /* non-ASCII white space (NBSP, U+2003) is content, and so is a NUL byte */
    assert_int_equal(check(s, LC_JT_STRING, "\xc2\xa0"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "\xe2\x80\x83"), OK);
    assert_int_equal(lc_schema_check_value(s, 0, LC_JT_STRING, "\0", 1, NULL), OK);
    lc_schema_free(s);
}

static void test_length_counts_code_points(void **state)
{
    (void)state;
    lc_schema_t *s = one_field_def((lc_field_def_t){
        .name = "f", .type = LC_FT_STRING, .required = true, .max_length = 3});
    assert_int_equal(check(s, LC_JT_STRING, "abc"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "abcd"), LC_R_LENGTH);
    assert_int_equal(check(s, LC_JT_STRING, "\xc3\xa9\xc3\xa8\xc3\xa0"), OK);      /* éèà: 6 bytes */
    assert_int_equal(check(s, LC_JT_STRING, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"), OK); /* 日本語 */
    assert_int_equal(check(s, LC_JT_STRING, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9ex"),
                     LC_R_LENGTH);
    assert_int_equal(check(s, LC_JT_STRING, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"),
                     OK);                                                          /* 3 emoji */
    assert_int_equal(check(s, LC_JT_STRING,
                           "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"),
                     LC_R_LENGTH);
    assert_int_equal(lc_schema_check_value(s, 0, LC_JT_STRING, "a\0b\0", 4, NULL), LC_R_LENGTH);
    lc_schema_free(s);

    s = one_field_def((lc_field_def_t){
        .name = "f", .type = LC_FT_STRING, .required = true, .max_length = 0});
    assert_int_equal(check(s, LC_JT_STRING, "a"), LC_R_LENGTH);
    assert_int_equal(check(s, LC_JT_STRING, ""), LC_R_EMPTY);   /* empty comes first */
    lc_schema_free(s);
}

static void test_enum_exact(void **state)
{
    (void)state;
    const char *const values[] = {"ANDROID", "IOS", "WEB"};
    lc_schema_t *s = one_field_def((lc_field_def_t){
        .name = "device", .type = LC_FT_STRING, .required = true, .max_length = -1,
        .enum_values = values, .n_enum = 3});
    assert_int_equal(check(s, LC_JT_STRING, "ANDROID"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "WEB"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "android"), LC_R_ENUM);
    assert_int_equal(check(s, LC_JT_STRING, "ANDROID "), LC_R_ENUM);
    assert_int_equal(check(s, LC_JT_STRING, "ANDROI"), LC_R_ENUM);
    assert_int_equal(check(s, LC_JT_STRING, "ANDROIDX"), LC_R_ENUM);
    assert_int_equal(lc_schema_check_value(s, 0, LC_JT_STRING, "IOS\0", 4, NULL), LC_R_ENUM);
    lc_schema_free(s);
}

static void test_pattern_whole_match(void **state)
{
    (void)state;
    lc_schema_t *s = one_field_def((lc_field_def_t){
        .name = "country", .type = LC_FT_STRING, .required = true, .max_length = -1,
        .pattern = "[A-Z]{2}"});
    assert_int_equal(check(s, LC_JT_STRING, "FR"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "FRA"), LC_R_PATTERN);   /* partial match */
    assert_int_equal(check(s, LC_JT_STRING, "xFR"), LC_R_PATTERN);
    assert_int_equal(check(s, LC_JT_STRING, "F"), LC_R_PATTERN);
    assert_int_equal(check(s, LC_JT_STRING, "fr"), LC_R_PATTERN);
    /* REG_STARTEND: the NUL is part of the value, not its end */
    assert_int_equal(lc_schema_check_value(s, 0, LC_JT_STRING, "FR\0X", 4, NULL), LC_R_PATTERN);
    /* values are spans inside a message: no NUL after them (ASan flags any read past) */
    char *span = malloc(2);
    memcpy(span, "FR", 2);
    assert_int_equal(lc_schema_check_value(s, 0, LC_JT_STRING, span, 2, NULL), OK);
    lc_schema_matcher_t *m = lc_schema_matcher_new(s);
    assert_non_null(m);
    assert_int_equal(lc_schema_check_value_with(s, m, 0, LC_JT_STRING, span, 2, NULL), OK);
    assert_int_equal(lc_schema_check_value_with(s, m, 0, LC_JT_STRING, span, 1, NULL),
                     LC_R_PATTERN);
    lc_schema_matcher_free(m);
    free(span);
    lc_schema_free(s);

    /* the alternation is grouped: ^(a|bc)$, not ^a|bc$ */
    s = one_field_def((lc_field_def_t){
        .name = "f", .type = LC_FT_STRING, .required = true, .max_length = -1,
        .pattern = "a|bc"});
    assert_int_equal(check(s, LC_JT_STRING, "a"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "bc"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "abc"), LC_R_PATTERN);
    assert_int_equal(check(s, LC_JT_STRING, "ax"), LC_R_PATTERN);
    assert_int_equal(check(s, LC_JT_STRING, "xbc"), LC_R_PATTERN);
    lc_schema_free(s);

    /* parentheses inside brackets and escaped ones are fine */
    s = one_field_def((lc_field_def_t){
        .name = "f", .type = LC_FT_STRING, .required = true, .max_length = -1,
        .pattern = "[)(]\\)[[:alpha:]]+"});
    assert_int_equal(check(s, LC_JT_STRING, "()ab"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "))ab"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "()a1"), LC_R_PATTERN);
    lc_schema_free(s);
}

static void test_pattern_with_matcher(void **state)
{
    (void)state;
    lc_schema_t *s = one_field_def((lc_field_def_t){
        .name = "f", .type = LC_FT_STRING, .required = true, .max_length = -1,
        .pattern = "[0-9a-f]{4}"});
    lc_schema_matcher_t *m = lc_schema_matcher_new(s);
    assert_non_null(m);
    assert_int_equal(lc_schema_check_value_with(s, m, 0, LC_JT_STRING, "beef", 4, NULL), OK);
    assert_int_equal(lc_schema_check_value_with(s, m, 0, LC_JT_STRING, "beefy", 5, NULL),
                     LC_R_PATTERN);
    assert_int_equal(lc_schema_check_value_with(s, NULL, 0, LC_JT_STRING, "beefy", 5, NULL),
                     LC_R_PATTERN);
    lc_schema_matcher_free(m);
    lc_schema_free(s);
}

/* For non-string types, enum and pattern see the value's text as given. */
static void test_constraints_on_non_strings(void **state)
{
    (void)state;
    const char *const values[] = {"1", "2"};
    lc_schema_t *s = one_field_def((lc_field_def_t){
        .name = "level", .type = LC_FT_INTEGER, .required = true, .max_length = -1,
        .enum_values = values, .n_enum = 2});
    assert_int_equal(check(s, LC_JT_NUMBER, "1"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "2"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "01"), LC_R_ENUM);   /* the text, not the value */
    assert_int_equal(check(s, LC_JT_NUMBER, "3"), LC_R_ENUM);
    assert_int_equal(check(s, LC_JT_NUMBER, "1.0"), LC_R_TYPE);  /* type comes first */
    lc_schema_free(s);

    s = one_field_def((lc_field_def_t){
        .name = "price", .type = LC_FT_NUMBER, .required = true, .max_length = 4,
        .pattern = "[0-9]+\\.[0-9]{2}"});
    assert_int_equal(check(s, LC_JT_NUMBER, "1.50"), OK);
    assert_int_equal(check(s, LC_JT_STRING, "2.00"), OK);
    assert_int_equal(check(s, LC_JT_NUMBER, "1.5"), LC_R_PATTERN);
    assert_int_equal(check(s, LC_JT_NUMBER, "10.50"), LC_R_LENGTH);
    lc_schema_free(s);

    s = one_field_def((lc_field_def_t){
        .name = "flag", .type = LC_FT_BOOLEAN, .required = true, .max_length = -1,
        .pattern = "true"});
    assert_int_equal(check(s, LC_JT_TRUE, "true"), OK);
    assert_int_equal(check(s, LC_JT_FALSE, "false"), LC_R_PATTERN);
    lc_schema_free(s);
}

/* CONTRACT §2.1: type, empty, length, enum, pattern - the first failure is the reason. */
static void test_check_order(void **state)
{
    (void)state;
    const char *const values[] = {"ab", "   "};
    lc_schema_t *s = one_field_def((lc_field_def_t){
        .name = "f", .type = LC_FT_STRING, .required = true, .max_length = 2,
        .enum_values = values, .n_enum = 2, .pattern = "a+"});
    assert_int_equal(check(s, LC_JT_NUMBER, "1"), LC_R_TYPE);
    assert_int_equal(check(s, LC_JT_STRING, "   "), LC_R_EMPTY);   /* in enum, but empty */
    assert_int_equal(check(s, LC_JT_STRING, "xyz"), LC_R_LENGTH);  /* not in enum either */
    assert_int_equal(check(s, LC_JT_STRING, "xy"), LC_R_ENUM);     /* nor matches */
    assert_int_equal(check(s, LC_JT_STRING, "ab"), LC_R_PATTERN);
    lc_schema_free(s);
}

/* ---- schema construction, names and ids -------------------------------------------- */

static const lc_field_def_t default_defs[] = {
    {.name = "event_id", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "account_id", .type = LC_FT_INTEGER, .required = true, .max_length = -1},
    {.name = "event_type", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "device", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "location_country", .type = LC_FT_STRING, .required = true, .max_length = -1},
    {.name = "event_timestamp", .type = LC_FT_TIMESTAMP, .required = false, .max_length = -1},
};

static void test_reason_ids_and_names(void **state)
{
    (void)state;
    char err[128];
    lc_schema_t *s = lc_schema_new(default_defs, 6, NULL, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(lc_schema_nfields(s), 6);
    assert_int_equal(lc_schema_nreasons(s), 6 + 7 * 6);

    static const struct {
        lc_reason_kind_t kind;
        const char *name;
    } fixed[] = {
        {LC_R_TOO_LARGE, "too_large"},         {LC_R_INVALID_JSON, "invalid_json"},
        {LC_R_NOT_OBJECT, "not_object"},       {LC_R_DUPLICATE_KEY, "duplicate_key"},
        {LC_R_UNKNOWN_ACCOUNT, "unknown_account"}, {LC_R_DEVICE_MISMATCH, "device_mismatch"},
    };
    for (size_t i = 0; i < 6; i++) {
        size_t id = lc_schema_reason_id(s, fixed[i].kind, 0);
        assert_int_equal(id, i);
        assert_string_equal(lc_schema_reason_name(s, id), fixed[i].name);
    }
    assert_string_equal(lc_schema_reason_name(s, lc_schema_reason_id(s, LC_R_MISSING, 0)),
                        "missing:event_id");
    assert_string_equal(lc_schema_reason_name(s, lc_schema_reason_id(s, LC_R_NULL, 1)),
                        "null:account_id");
    assert_string_equal(lc_schema_reason_name(s, lc_schema_reason_id(s, LC_R_TYPE, 1)),
                        "type:account_id");
    assert_string_equal(lc_schema_reason_name(s, lc_schema_reason_id(s, LC_R_EMPTY, 3)),
                        "empty:device");
    assert_string_equal(lc_schema_reason_name(s, lc_schema_reason_id(s, LC_R_LENGTH, 2)),
                        "length:event_type");
    assert_string_equal(lc_schema_reason_name(s, lc_schema_reason_id(s, LC_R_ENUM, 4)),
                        "enum:location_country");
    assert_int_equal(lc_schema_reason_id(s, LC_R_PATTERN, 5), 47);
    assert_string_equal(lc_schema_reason_name(s, 47), "pattern:event_timestamp");
    assert_null(lc_schema_reason_name(s, 48));
    assert_true(lc_schema_reason_id(s, LC_R_MISSING, 6) == SIZE_MAX);

    /* ids are dense and names unique */
    for (size_t a = 0; a < lc_schema_nreasons(s); a++) {
        assert_non_null(lc_schema_reason_name(s, a));
        for (size_t b = a + 1; b < lc_schema_nreasons(s); b++)
            assert_string_not_equal(lc_schema_reason_name(s, a), lc_schema_reason_name(s, b));
    }
    lc_schema_free(s);
}

static void test_accessors(void **state)
{
    (void)state;
    char err[128];
    lc_schema_t *s = lc_schema_new(default_defs, 6, NULL, err, sizeof(err));
    assert_non_null(s);
    assert_string_equal(lc_schema_field_name(s, 3), "device");
    assert_int_equal(lc_schema_field_type(s, 1), LC_FT_INTEGER);
    assert_int_equal(lc_schema_field_index(s, "device"), 3);
    assert_int_equal(lc_schema_field_index(s, "nope"), -1);
    assert_true(lc_schema_field_required(s, 0));
    assert_false(lc_schema_field_required(s, 5));
    lc_schema_free(s);

    const char *names[] = {"string", "integer", "number", "boolean", "timestamp"};
    for (size_t i = 0; i < 5; i++) {
        lc_field_type_t t;
        assert_int_equal(lc_schema_type_parse(names[i], &t), 0);
        assert_int_equal(t, (lc_field_type_t)i);
        assert_string_equal(lc_schema_type_name(t), names[i]);
    }
    lc_field_type_t t;
    assert_int_equal(lc_schema_type_parse("String", &t), -1);
    assert_int_equal(lc_schema_type_parse("float", &t), -1);
}

static void test_schema_new_errors(void **state)
{
    (void)state;
    char err[256];
    lc_field_def_t dup[] = {
        {.name = "a", .type = LC_FT_STRING, .required = true, .max_length = -1, .line = 3},
        {.name = "a", .type = LC_FT_INTEGER, .required = true, .max_length = -1, .line = 5},
    };
    size_t bad = 99;
    assert_null(lc_schema_new(dup, 2, &bad, err, sizeof(err)));
    assert_non_null(strstr(err, "'a'"));
    assert_int_equal(dup[bad].line, 5);       /* the error is the field of line 5 */
    assert_non_null(strstr(err, "first on line 3"));

    lc_field_def_t empty = {.name = "", .type = LC_FT_STRING, .max_length = -1, .line = 7};
    bad = 99;
    assert_null(lc_schema_new(&empty, 1, &bad, err, sizeof(err)));
    assert_int_equal(bad, 0);                 /* the field of line 7 */

    const char *bad_patterns[] = {"(", "[a-", "a{2,1}", "a)|(b", "a)", "abc\\"};
    for (size_t i = 0; i < sizeof(bad_patterns) / sizeof(bad_patterns[0]); i++) {
        lc_field_def_t d = {.name = "country", .type = LC_FT_STRING, .max_length = -1,
                            .pattern = bad_patterns[i], .line = 9};
        err[0] = '\0';
        size_t bad_field = 99;
        lc_schema_t *s = lc_schema_new(&d, 1, &bad_field, err, sizeof(err));
        if (s)
            fail_msg("pattern \"%s\" was accepted", bad_patterns[i]);
        assert_non_null(strstr(err, "country"));
        assert_int_equal(bad_field, 0);       /* the field of line 9 */
    }

    /* an empty schema is allowed: every object is good */
    lc_schema_t *s = lc_schema_new(NULL, 0, NULL, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(lc_schema_nreasons(s), 6);
    lc_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64_bounds),
        cmocka_unit_test(test_int64_string_form),
        cmocka_unit_test(test_int64_token_form),
        cmocka_unit_test(test_integer_field),
        cmocka_unit_test(test_decimal_strings_accepted),
        cmocka_unit_test(test_decimal_strings_refused),
        cmocka_unit_test(test_number_field),
        cmocka_unit_test(test_boolean_field),
        cmocka_unit_test(test_timestamp_epoch),
        cmocka_unit_test(test_timestamp_epoch_every_byte),
        cmocka_unit_test(test_timestamp_rfc3339_accepted),
        cmocka_unit_test(test_timestamp_rfc3339_refused),
        cmocka_unit_test(test_timestamp_field_strings),
        cmocka_unit_test(test_string_type_and_empty),
        cmocka_unit_test(test_length_counts_code_points),
        cmocka_unit_test(test_enum_exact),
        cmocka_unit_test(test_pattern_whole_match),
        cmocka_unit_test(test_pattern_with_matcher),
        cmocka_unit_test(test_constraints_on_non_strings),
        cmocka_unit_test(test_check_order),
        cmocka_unit_test(test_reason_ids_and_names),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_schema_new_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
