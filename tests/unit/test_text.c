/*
 * test_text.c - the contract's text rules written once (lc_text.h): ASCII white space and
 * blank text (CONTRACT §2.1), identifiers (CONTRACT §5); and that every user of the white
 * space rule agrees with it: `empty:F`, the users' device trim and the users CSV's blank
 * lines. (Integers: tests/unit/test_schema.c, next to the other type rules.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lc_json.h"
#include "lc_schema.h"
#include "lc_text.h"
#include "lc_users.h"

/* Exactly space, tab, LF, VT, FF and CR, and nothing of the other 250 bytes. */
static void test_ascii_space_is_the_contract_set(void **state)
{
    (void)state;
    static const char set[] = " \t\n\v\f\r";
    for (int c = 0; c < 256; c++) {
        bool want = c != 0 && strchr(set, c) != NULL;
        if (lc_text_is_space((char)c) != want)
            fail_msg("byte 0x%02x: lc_text_is_space says %d", c, !want);
    }
    /* JSON's white space is the smaller RFC 8259 set */
    for (int c = 0; c < 256; c++) {
        bool want = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        assert_int_equal(lc_json_is_space((unsigned char)c), want);
    }
}

static void test_blank(void **state)
{
    (void)state;
    assert_true(lc_text_is_blank("", 0));
    assert_true(lc_text_is_blank(" \t\n\v\f\r", 6));
    assert_false(lc_text_is_blank(" x ", 3));
    assert_false(lc_text_is_blank("\0", 1));             /* NUL is not white space */
    assert_false(lc_text_is_blank("\xc2\xa0", 2));       /* nor is U+00A0 */
    assert_true(lc_text_is_blank("  x", 2));             /* only n bytes are looked at */
}

static void test_identifiers(void **state)
{
    (void)state;
    assert_true(lc_text_is_identifier("users"));
    assert_true(lc_text_is_identifier("Users_2"));
    assert_true(lc_text_is_identifier("_"));
    assert_true(lc_text_is_identifier("0"));
    assert_false(lc_text_is_identifier(""));
    assert_false(lc_text_is_identifier(NULL));
    assert_false(lc_text_is_identifier("dim.users"));
    assert_false(lc_text_is_identifier("account-no"));
    assert_false(lc_text_is_identifier("`x`"));
    assert_false(lc_text_is_identifier("users; DROP TABLE users"));
    assert_false(lc_text_is_identifier("\xc3\xa9"));
    for (int c = 1; c < 256; c++) {
        char s[2] = {(char)c, 0};
        bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_';
        assert_int_equal(lc_text_is_identifier(s), want);
    }
}

/* `empty:F` uses the same set. */
static void test_empty_field_uses_the_set(void **state)
{
    (void)state;
    lc_field_def_t def = {.name = "f", .type = LC_FT_STRING, .required = true, .max_length = -1};
    char err[128];
    lc_schema_t *s = lc_schema_new(&def, 1, NULL, err, sizeof(err));
    assert_non_null(s);
    for (int c = 1; c < 256; c++) {
        char v[3] = {' ', (char)c, ' '};
        int want = lc_text_is_space((char)c) ? LC_R_EMPTY : -1;
        if (c >= 0x80)
            continue;   /* a lone byte >= 0x80 is not a decoded string */
        assert_int_equal(lc_schema_check_value(s, 0, LC_JT_STRING, v, 3, NULL), want);
    }
    lc_schema_free(s);
}

/* The users CSV: lines of white space are blank, and devices are trimmed of the same set. */
static void test_users_csv_blank_lines_and_trim(void **state)
{
    (void)state;
    char path[] = "/tmp/lc_test_text_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char csv[] = "\f\n \v\t\n\r\n684, \fIOS\v\r\n  \n7,web\n";
    assert_int_equal(write(fd, csv, sizeof(csv) - 1), (ssize_t)(sizeof(csv) - 1));
    close(fd);
    char err[256] = "";
    lc_users_t *u = lc_users_load_csv(path, true, true, err, sizeof(err));
    unlink(path);
    if (!u)
        fail_msg("%s", err);
    assert_int_equal(lc_users_rows(u), 2);
    assert_int_equal(lc_users_check_int(u, 684, "\tios ", 5), LC_USERS_MATCH);
    assert_int_equal(lc_users_check_int(u, 7, "WEB", 3), LC_USERS_MATCH);
    lc_users_unref(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_space_is_the_contract_set),
        cmocka_unit_test(test_blank),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_empty_field_uses_the_set),
        cmocka_unit_test(test_users_csv_blank_lines_and_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
