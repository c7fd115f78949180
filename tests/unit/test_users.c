/*
 * test_users.c - the users snapshot (CONTRACT §2.2, §5): integer and string keys, key
 * conversion, several devices per account, device normalisation, the snapshot file (round
 * trip, corruption, atomic write), pipe mode's users CSV, refcount, and memory per user.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_users.h"

/* ---- helpers ------------------------------------------------------------------------ */

#define M LC_USERS_MATCH
#define X LC_USERS_MISMATCH
#define U LC_USERS_UNKNOWN

static int add(lc_users_builder_t *b, const char *key, const char *device)
{
    return lc_users_builder_add(b, key, strlen(key), device, strlen(device));
}

/* Builds a snapshot from "key", "device" pairs ending with NULL. */
static lc_users_t *build(bool int_keys, bool ci, const char *const *pairs)
{
    lc_users_builder_t *b = lc_users_builder_new(int_keys, ci, 0);
    assert_non_null(b);
    for (size_t i = 0; pairs[i]; i += 2)
        assert_true(add(b, pairs[i], pairs[i + 1]) >= 0);
    lc_users_t *u = lc_users_builder_finish(b, 1619724510000);
    assert_non_null(u);
    return u;
}

static lc_users_match_t chk_s(const lc_users_t *u, const char *key, const char *device)
{
    return lc_users_check_str(u, key, strlen(key), device, strlen(device));
}

static lc_users_match_t chk_i(const lc_users_t *u, int64_t key, const char *device)
{
    return lc_users_check_int(u, key, device, strlen(device));
}

/* A fresh temporary directory, in buf. */
static void temp_dir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/test_users.XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static size_t dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void remove_dir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc(*len ? *len : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, *len, f), *len);
    fclose(f);
    return p;
}

/* An order-independent sum over every row, to compare two snapshots' contents. */
typedef struct row_digest {
    const lc_users_t *u;
    size_t rows;
    uint64_t sum;
} row_digest_t;

static int digest_row(void *ctx, int64_t int_key, const char *str_key, size_t str_key_len,
                      uint32_t device_id)
{
    row_digest_t *d = ctx;
    size_t dlen;
    const char *dev = lc_users_device_name(d->u, device_id, &dlen);
    assert_non_null(dev);
    uint64_t h = (uint64_t)int_key * 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < str_key_len; i++)
        h = (h ^ (unsigned char)str_key[i]) * 0x100000001b3u;
    h = (h ^ 0xff) * 0x100000001b3u;
    for (size_t i = 0; i < dlen; i++)
        h = (h ^ (unsigned char)dev[i]) * 0x100000001b3u;
    d->rows++;
    d->sum += h;
    return 0;
}

static row_digest_t digest(const lc_users_t *u)
{
    row_digest_t d = { u, 0, 0 };
    assert_int_equal(lc_users_foreach_row(u, digest_row, &d), 0);
    return d;
}

/* ---- keys --------------------------------------------------------------------------- */

static void int_keys_compare_as_integers(void **state)
{
    (void)state;
    const char *rows[] = { "684", "ANDROID", "0007", "IOS", NULL };
    lc_users_t *u = build(true, true, rows);
    assert_true(lc_users_int_keys(u));
    assert_int_equal(lc_users_accounts(u), 2);
    assert_int_equal(lc_users_rows(u), 2);
    assert_int_equal(chk_i(u, 684, "ANDROID"), M);
    assert_int_equal(chk_s(u, "684", "ANDROID"), M);
    assert_int_equal(chk_s(u, "0684", "ANDROID"), M);
    assert_int_equal(chk_s(u, "000000000000000684", "ANDROID"), M);
    assert_int_equal(chk_i(u, 7, "IOS"), M);
    assert_int_equal(chk_s(u, "7", "IOS"), M);
    assert_int_equal(chk_i(u, 684, "IOS"), X);
    assert_int_equal(chk_i(u, 685, "ANDROID"), U);
    assert_int_equal(chk_i(u, -684, "ANDROID"), U);
    assert_int_equal(chk_s(u, "+684", "ANDROID"), U);   /* does not convert */
    assert_int_equal(chk_s(u, " 684", "ANDROID"), U);
    assert_int_equal(chk_s(u, "684.0", "ANDROID"), U);
    lc_users_unref(u);
}

static void int_key_conversion_and_skips(void **state)
{
    (void)state;
    lc_users_builder_t *b = lc_users_builder_new(true, true, 0);
    assert_non_null(b);
    const char *bad[] = { "", "-", "abc", " 684", "684 ", "1.0", "+1", "1e3", "0x10", "--1",
                          "12345678901234567890", "9223372036854775808",
                          "-9223372036854775809", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(add(b, bad[i], "ANDROID"), 1);
    assert_int_equal(lc_users_builder_add(b, "6\0" "84", 4, "IOS", 3), 1);
    const char *good[] = { "9223372036854775807", "-9223372036854775808", "-0",
                           "0000000000000000001", "-42" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(add(b, good[i], "ANDROID"), 0);
    lc_users_builder_count_skipped(b, 3);   /* e.g. NULL columns */
    lc_users_t *u = lc_users_builder_finish(b, 0);
    assert_non_null(u);
    assert_int_equal(lc_users_skipped(u), 15 + 3);
    assert_int_equal(lc_users_accounts(u), 5);   /* "-0" is 0, "0..01" is 1 */
    assert_int_equal(chk_i(u, INT64_MAX, "android"), M);
    assert_int_equal(chk_i(u, INT64_MIN, "android"), M);
    assert_int_equal(chk_i(u, 0, "android"), M);
    assert_int_equal(chk_i(u, 1, "android"), M);
    assert_int_equal(chk_i(u, -42, "android"), M);
    assert_int_equal(chk_i(u, 42, "android"), U);
    lc_users_unref(u);
}

static void string_keys_are_exact_bytes(void **state)
{
    (void)state;
    lc_users_builder_t *b = lc_users_builder_new(false, true, 0);
    assert_non_null(b);
    assert_int_equal(add(b, "684", "ANDROID"), 0);
    assert_int_equal(add(b, "0684", "IOS"), 0);
    assert_int_equal(add(b, "", "WEB"), 0);
    assert_int_equal(add(b, "Alice", "IOS"), 0);
    assert_int_equal(lc_users_builder_add(b, "a\0b", 3, "TV", 2), 0);
    lc_users_t *u = lc_users_builder_finish(b, 5);
    assert_non_null(u);
    assert_false(lc_users_int_keys(u));
    assert_int_equal(lc_users_accounts(u), 5);
    assert_int_equal(lc_users_skipped(u), 0);
    assert_int_equal(chk_s(u, "684", "android"), M);
    assert_int_equal(chk_s(u, "684", "IOS"), X);
    assert_int_equal(chk_s(u, "0684", "IOS"), M);
    assert_int_equal(chk_s(u, "0684", "ANDROID"), X);
    assert_int_equal(chk_s(u, "", "web"), M);
    assert_int_equal(chk_s(u, "alice", "IOS"), U);   /* keys are case-sensitive */
    assert_int_equal(chk_s(u, " Alice", "IOS"), U);
    assert_int_equal(lc_users_check_str(u, "a\0b", 3, "tv", 2), M);
    assert_int_equal(chk_s(u, "a", "tv"), U);
    assert_int_equal(chk_i(u, 684, "ANDROID"), M);   /* its decimal text */
    lc_users_unref(u);
}

/* ---- devices ------------------------------------------------------------------------ */

static void several_devices_per_account(void **state)
{
    (void)state;
    const char *rows[] = { "1", "ANDROID", "1", "IOS", "1", "WEB", "2", "IOS", "3", "TV",
                           "3", "TV", NULL };
    lc_users_t *u = build(true, true, rows);
    assert_int_equal(lc_users_accounts(u), 3);
    assert_int_equal(lc_users_rows(u), 5);
    assert_int_equal(chk_i(u, 1, "ANDROID"), M);
    assert_int_equal(chk_i(u, 1, "ios"), M);
    assert_int_equal(chk_i(u, 1, " Web "), M);
    assert_int_equal(chk_i(u, 1, "TV"), X);
    assert_int_equal(chk_i(u, 1, ""), X);
    assert_int_equal(chk_i(u, 2, "IOS"), M);
    assert_int_equal(chk_i(u, 2, "ANDROID"), X);
    assert_int_equal(chk_i(u, 3, "tv"), M);
    assert_int_equal(chk_i(u, 4, "TV"), U);
    lc_users_unref(u);
}

static void devices_normalised_case_insensitive(void **state)
{
    (void)state;
    const char *rows[] = { "1", " Android\t", "2", "Smart TV", "3", "\r\n\f\vIOS \n", NULL };
    lc_users_t *u = build(true, true, rows);
    assert_true(lc_users_case_insensitive(u));
    assert_int_equal(chk_i(u, 1, "ANDROID"), M);
    assert_int_equal(chk_i(u, 1, "android"), M);
    assert_int_equal(chk_i(u, 1, "\r\n android \f\v"), M);
    assert_int_equal(chk_i(u, 1, "\tAnDrOiD\r"), M);
    assert_int_equal(chk_i(u, 1, "AND ROID"), X);
    assert_int_equal(chk_i(u, 1, "ANDROIDX"), X);
    assert_int_equal(chk_i(u, 1, "ANDROI"), X);
    assert_int_equal(chk_i(u, 2, "smart tv"), M);
    assert_int_equal(chk_i(u, 2, " SMART TV "), M);
    assert_int_equal(chk_i(u, 2, "SmartTV"), X);   /* inner white space is kept */
    assert_int_equal(chk_i(u, 2, "smart  tv"), X);
    assert_int_equal(chk_i(u, 2, "smart\ttv"), X);
    assert_int_equal(chk_i(u, 3, "ios"), M);
    /* Only ASCII white space and ASCII letters are normalised. */
    assert_int_equal(chk_i(u, 3, "\xc2\xa0IOS"), X);
    size_t len;
    const char *name = lc_users_device_name(u, 0, &len);
    assert_string_equal(name, "android");
    assert_int_equal(len, 7);
    assert_null(lc_users_device_name(u, lc_users_devices(u), &len));
    lc_users_unref(u);
}

static void devices_case_sensitive(void **state)
{
    (void)state;
    const char *rows[] = { "1", " Android\n", "2", "\xc3\x89" "CRAN", NULL };
    lc_users_t *u = build(true, false, rows);
    assert_false(lc_users_case_insensitive(u));
    assert_int_equal(chk_i(u, 1, "Android"), M);
    assert_int_equal(chk_i(u, 1, "\v Android\r\n"), M);
    assert_int_equal(chk_i(u, 1, "android"), X);
    assert_int_equal(chk_i(u, 1, "ANDROID"), X);
    assert_int_equal(chk_i(u, 2, "\xc3\x89" "CRAN"), M);
    lc_users_unref(u);
}

static void repeated_rows_count_once(void **state)
{
    (void)state;
    const char *rows[] = { "5", "ANDROID", "5", "ANDROID", "05", "android ", "5", "IOS",
                           "5", " ios", NULL };
    lc_users_t *ci = build(true, true, rows);
    assert_int_equal(lc_users_accounts(ci), 1);
    assert_int_equal(lc_users_rows(ci), 2);
    assert_int_equal(lc_users_devices(ci), 2);
    lc_users_unref(ci);
    lc_users_t *cs = build(true, false, rows);
    assert_int_equal(lc_users_accounts(cs), 1);
    assert_int_equal(lc_users_rows(cs), 4);   /* ANDROID, android, IOS, ios */
    assert_int_equal(chk_i(cs, 5, "android"), M);
    assert_int_equal(chk_i(cs, 5, "Android"), X);
    lc_users_unref(cs);
}

static void empty_snapshot(void **state)
{
    (void)state;
    const char *rows[] = { NULL };
    lc_users_t *u = build(true, true, rows);
    assert_int_equal(lc_users_accounts(u), 0);
    assert_int_equal(lc_users_rows(u), 0);
    assert_int_equal(lc_users_devices(u), 0);
    assert_int_equal(chk_i(u, 1, "ANDROID"), U);
    assert_int_equal(chk_s(u, "1", "ANDROID"), U);
    assert_true(lc_users_memory_bytes(u) > 0);
    assert_int_equal(lc_users_loaded_at_ms(u), 1619724510000);
    lc_users_unref(u);
    lc_users_t *s = build(false, true, rows);
    assert_int_equal(chk_s(s, "", ""), U);
    lc_users_unref(s);
}

/* Many distinct devices and many several-device accounts need wider values. */
static void many_devices_and_lists(void **state)
{
    (void)state;
    const size_t ndev = 40000, naccounts = 3000;
    lc_users_builder_t *b = lc_users_builder_new(true, true, 10);
    assert_non_null(b);
    char key[32], dev[32];
    for (size_t i = 0; i < ndev; i++) {
        snprintf(key, sizeof key, "%zu", i % naccounts);
        snprintf(dev, sizeof dev, "DEV%zu", i);
        assert_int_equal(add(b, key, dev), 0);
    }
    lc_users_t *u = lc_users_builder_finish(b, 0);
    assert_non_null(u);
    assert_int_equal(lc_users_accounts(u), naccounts);
    assert_int_equal(lc_users_rows(u), ndev);
    assert_int_equal(lc_users_devices(u), ndev);
    for (size_t i = 0; i < ndev; i += 7) {
        snprintf(dev, sizeof dev, "dev%zu", i);
        assert_int_equal(chk_i(u, (int64_t)(i % naccounts), dev), M);
        assert_int_equal(chk_i(u, (int64_t)((i + 1) % naccounts), dev), X);
    }
    assert_int_equal(chk_i(u, (int64_t)naccounts, "DEV0"), U);
    lc_users_unref(u);

    /* Few devices but more than 128 several-device accounts (pool past one byte). */
    b = lc_users_builder_new(true, false, 0);
    assert_non_null(b);
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "%d", i);
        assert_int_equal(add(b, key, "A"), 0);
        assert_int_equal(add(b, key, "B"), 0);
    }
    assert_int_equal(add(b, "1000", "C"), 0);
    u = lc_users_builder_finish(b, 0);
    assert_non_null(u);
    for (int i = 0; i < 500; i++) {
        assert_int_equal(chk_i(u, i, "A"), M);
        assert_int_equal(chk_i(u, i, "B"), M);
        assert_int_equal(chk_i(u, i, "C"), X);
    }
    assert_int_equal(chk_i(u, 1000, "C"), M);
    lc_users_unref(u);
}

/* A sizing hint far above the real count still gives a compact, correct snapshot. */
static void oversized_hint(void **state)
{
    (void)state;
    lc_users_builder_t *b = lc_users_builder_new(true, true, 1000000);
    assert_non_null(b);
    assert_int_equal(add(b, "1", "IOS"), 0);
    assert_int_equal(add(b, "2", "ANDROID"), 0);
    assert_int_equal(add(b, "2", "IOS"), 0);
    lc_users_t *u = lc_users_builder_finish(b, 0);
    assert_non_null(u);
    assert_true(lc_users_memory_bytes(u) < 4096);
    assert_int_equal(chk_i(u, 1, "ios"), M);
    assert_int_equal(chk_i(u, 2, "android"), M);
    assert_int_equal(chk_i(u, 2, "ios"), M);
    lc_users_unref(u);

    b = lc_users_builder_new(false, true, 1000000);
    assert_non_null(b);
    assert_int_equal(add(b, "x", "IOS"), 0);
    u = lc_users_builder_finish(b, 0);
    assert_non_null(u);
    assert_true(lc_users_memory_bytes(u) < 4096);
    assert_int_equal(chk_s(u, "x", "ios"), M);
    lc_users_unref(u);
}

static void abandoned_build_and_refcount(void **state)
{
    (void)state;
    lc_users_builder_t *b = lc_users_builder_new(false, true, 0);
    assert_non_null(b);
    assert_int_equal(add(b, "a", "IOS"), 0);
    assert_int_equal(add(b, "a", "WEB"), 0);
    lc_users_builder_free(b);   /* nothing leaks (ASan) */
    lc_users_builder_free(NULL);

    const char *rows[] = { "1", "IOS", NULL };
    lc_users_t *u = build(true, true, rows);
    lc_users_ref(u);
    lc_users_ref(u);
    lc_users_unref(u);
    lc_users_unref(u);
    assert_int_equal(chk_i(u, 1, "IOS"), M);   /* one reference left */
    lc_users_unref(u);
    lc_users_unref(NULL);
}

/* ---- snapshot file ------------------------------------------------------------------ */

static lc_users_t *mixed_int_snapshot(void)
{
    lc_users_builder_t *b = lc_users_builder_new(true, true, 0);
    assert_non_null(b);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "%d", i * 7 - 100);
        assert_int_equal(add(b, key, i % 3 ? "ANDROID" : "IOS"), 0);
        if (i % 10 == 0)
            assert_int_equal(add(b, key, " Smart TV "), 0);
    }
    assert_int_equal(add(b, "x1", "IOS"), 1);
    assert_int_equal(add(b, "9223372036854775807", "ios"), 0);
    assert_int_equal(add(b, "-9223372036854775808", "ios"), 0);
    lc_users_t *u = lc_users_builder_finish(b, 1700000000123);
    assert_non_null(u);
    return u;
}

static void assert_same_snapshot(const lc_users_t *a, const lc_users_t *b)
{
    assert_int_equal(lc_users_int_keys(a), lc_users_int_keys(b));
    assert_int_equal(lc_users_case_insensitive(a), lc_users_case_insensitive(b));
    assert_int_equal(lc_users_accounts(a), lc_users_accounts(b));
    assert_int_equal(lc_users_rows(a), lc_users_rows(b));
    assert_int_equal(lc_users_skipped(a), lc_users_skipped(b));
    assert_int_equal(lc_users_loaded_at_ms(a), lc_users_loaded_at_ms(b));
    row_digest_t da = digest(a), db = digest(b);
    assert_int_equal(da.rows, lc_users_rows(a));
    assert_int_equal(da.rows, db.rows);
    assert_true(da.sum == db.sum);
}

static void snapshot_file_round_trip_int(void **state)
{
    (void)state;
    char dir[64], path[128], err[512] = "";
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/users.snap", dir);
    lc_users_t *u = mixed_int_snapshot();
    assert_int_equal(lc_users_save(u, path, err, sizeof err), 0);
    lc_users_t *v = lc_users_load_file(path, true, true, err, sizeof err);
    if (!v)
        fail_msg("load: %s", err);
    assert_same_snapshot(u, v);
    assert_int_equal(lc_users_skipped(v), 1);
    assert_int_equal(chk_i(v, -100, "ios"), M);
    assert_int_equal(chk_i(v, -100, "smart tv"), M);
    assert_int_equal(chk_i(v, -93, "android"), M);
    assert_int_equal(chk_i(v, -93, "ios"), X);
    assert_int_equal(chk_i(v, INT64_MAX, "IOS"), M);
    assert_int_equal(chk_i(v, INT64_MIN, "IOS"), M);
    assert_int_equal(chk_i(v, -99, "ios"), U);
    /* Overwriting an existing file leaves just the file. */
    assert_int_equal(lc_users_save(v, path, err, sizeof err), 0);
    assert_int_equal(dir_entries(dir), 1);
    lc_users_unref(u);
    lc_users_unref(v);
    remove_dir(dir);
}

static void snapshot_file_round_trip_str(void **state)
{
    (void)state;
    char dir[64], path[128], err[512] = "";
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/users.snap", dir);
    lc_users_builder_t *b = lc_users_builder_new(false, false, 0);
    assert_non_null(b);
    assert_int_equal(add(b, "0684", "Android"), 0);
    assert_int_equal(add(b, "684", "IOS"), 0);
    assert_int_equal(add(b, "684", "ios"), 0);
    assert_int_equal(add(b, "", "WEB"), 0);
    assert_int_equal(add(b, "a,b", ""), 0);
    assert_int_equal(lc_users_builder_add(b, "n\0ul", 4, "TV", 2), 0);
    lc_users_t *u = lc_users_builder_finish(b, -5);
    assert_non_null(u);
    assert_int_equal(lc_users_save(u, path, err, sizeof err), 0);
    lc_users_t *v = lc_users_load_file(path, false, false, err, sizeof err);
    if (!v)
        fail_msg("load: %s", err);
    assert_same_snapshot(u, v);
    assert_int_equal(chk_s(v, "0684", "Android"), M);
    assert_int_equal(chk_s(v, "0684", "android"), X);
    assert_int_equal(chk_s(v, "684", "ios"), M);
    assert_int_equal(chk_s(v, "a,b", " "), M);
    assert_int_equal(lc_users_check_str(v, "n\0ul", 4, "TV", 2), M);
    lc_users_unref(u);
    lc_users_unref(v);

    /* An empty snapshot round-trips too. */
    const char *none[] = { NULL };
    u = build(false, true, none);
    assert_int_equal(lc_users_save(u, path, err, sizeof err), 0);
    v = lc_users_load_file(path, false, true, err, sizeof err);
    assert_non_null(v);
    assert_same_snapshot(u, v);
    lc_users_unref(u);
    lc_users_unref(v);
    remove_dir(dir);
}

static void expect_refused(const char *path, bool int_keys, bool ci, const char *needle)
{
    char err[512] = "";
    lc_users_t *u = lc_users_load_file(path, int_keys, ci, err, sizeof err);
    if (u) {
        lc_users_unref(u);
        fail_msg("%s was accepted (expected: %s)", path, needle);
    }
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
    assert_non_null(strstr(err, path));
    assert_null(strchr(err, '\n'));
}

static void snapshot_file_refuses_damage(void **state)
{
    (void)state;
    char dir[64], path[128], bad[160], err[512] = "";
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/users.snap", dir);
    snprintf(bad, sizeof bad, "%s/bad.snap", dir);
    lc_users_t *u = mixed_int_snapshot();
    assert_int_equal(lc_users_save(u, path, err, sizeof err), 0);
    lc_users_unref(u);
    size_t len;
    char *good = read_all(path, &len);

    /* Key kind and case mode must match what the caller asks. */
    expect_refused(path, false, true, "integer keys but string keys are expected");
    expect_refused(path, true, false, "case-insensitive");

    /* Torn: every kind of truncation. */
    size_t cuts[] = { 0, 1, 8, 55, 56, 63, 64, 100, len / 2, len - 9, len - 8, len - 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        write_text(bad, good, cuts[i]);
        expect_refused(bad, true, true, cuts[i] < 64 ? "truncated" : "corrupt or truncated");
    }
    /* One flipped bit anywhere after the header's magic. */
    size_t flips[] = { 9, 20, 60, len / 3, len / 2 + 1, len - 13, len - 1 };
    for (size_t i = 0; i < sizeof flips / sizeof *flips; i++) {
        good[flips[i]] ^= 0x10;
        write_text(bad, good, len);
        good[flips[i]] ^= 0x10;
        expect_refused(bad, true, true, flips[i] == 9 ? "version" : "corrupt or truncated");
    }
    /* Trailing garbage. */
    char *longer = malloc(len + 3);
    assert_non_null(longer);
    memcpy(longer, good, len);
    memcpy(longer + len, "xyz", 3);
    write_text(bad, longer, len + 3);
    expect_refused(bad, true, true, "corrupt or truncated");
    free(longer);
    /* Not a snapshot at all; absent. */
    char text[100];
    memset(text, 'x', sizeof text);
    write_text(bad, text, sizeof text);
    expect_refused(bad, true, true, "not a logclassify users snapshot");
    snprintf(bad, sizeof bad, "%s/absent.snap", dir);
    expect_refused(bad, true, true, "No such file");
    /* The good file is still fine. */
    u = lc_users_load_file(path, true, true, err, sizeof err);
    assert_non_null(u);
    lc_users_unref(u);
    free(good);
    remove_dir(dir);
}

static void snapshot_save_is_atomic(void **state)
{
    (void)state;
    char dir[64], path[160], err[512] = "";
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/users.snap", dir);
    const char *rows[] = { "1", "IOS", NULL };
    lc_users_t *u = build(true, true, rows);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lc_users_save(u, path, err, sizeof err), 0);
    assert_int_equal(dir_entries(dir), 1);   /* no temporary file left behind */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));

    /* A directory that does not exist: a clear error, nothing created. */
    snprintf(path, sizeof path, "%s/missing/users.snap", dir);
    assert_int_equal(lc_users_save(u, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing"));
    assert_int_equal(dir_entries(dir), 1);
    /* The target is a directory: rename fails and the temporary file is removed. */
    snprintf(path, sizeof path, "%s/adir", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(lc_users_save(u, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "rename"));
    assert_int_equal(dir_entries(dir), 2);
    lc_users_unref(u);
    remove_dir(dir);
}

/* ---- CSV ---------------------------------------------------------------------------- */

static lc_users_t *load_csv_text(const char *text, bool int_keys, bool ci, char *err,
                                 size_t errlen, char *dir, size_t dirlen)
{
    char path[160];
    temp_dir(dir, dirlen);
    snprintf(path, sizeof path, "%s/users.csv", dir);
    write_text(path, text, strlen(text));
    return lc_users_load_csv(path, int_keys, ci, err, errlen);
}

static void csv_parses_rows(void **state)
{
    (void)state;
    char dir[64], err[512] = "";
    const char *text = "684,ANDROID\r\n"
                       "\n"
                       "   \r\n"
                       "0684, ios \n"
                       "7,Smart, TV\n"
                       "abc,IOS\n"
                       "8,\n"
                       "9,WEB";   /* no final newline */
    lc_users_t *u = load_csv_text(text, true, true, err, sizeof err, dir, sizeof dir);
    if (!u)
        fail_msg("csv: %s", err);
    assert_int_equal(lc_users_accounts(u), 4);
    assert_int_equal(lc_users_rows(u), 5);
    assert_int_equal(lc_users_skipped(u), 1);
    assert_true(lc_users_loaded_at_ms(u) > 1600000000000);
    assert_int_equal(chk_i(u, 684, "android"), M);
    assert_int_equal(chk_i(u, 684, "IOS"), M);
    assert_int_equal(chk_i(u, 7, "smart, tv"), M);   /* everything after the first comma */
    assert_int_equal(chk_i(u, 7, "smart"), X);
    assert_int_equal(chk_i(u, 8, ""), M);
    assert_int_equal(chk_i(u, 9, "web"), M);
    lc_users_unref(u);
    remove_dir(dir);

    u = load_csv_text("abc,IOS\r\n684,ANDROID\n", false, false, err, sizeof err, dir,
                      sizeof dir);
    assert_non_null(u);
    assert_int_equal(lc_users_skipped(u), 0);
    assert_int_equal(chk_s(u, "abc", "IOS"), M);
    assert_int_equal(chk_s(u, "abc", "ios"), X);
    assert_int_equal(chk_s(u, "0684", "ANDROID"), U);
    lc_users_unref(u);
    remove_dir(dir);

    u = load_csv_text("", true, true, err, sizeof err, dir, sizeof dir);
    assert_non_null(u);
    assert_int_equal(lc_users_accounts(u), 0);
    lc_users_unref(u);
    remove_dir(dir);
}

static void csv_errors_name_the_line(void **state)
{
    (void)state;
    char dir[64], err[512] = "";
    lc_users_t *u = load_csv_text("684,ANDROID\n\n685,IOS\ngarbage\n686,IOS\n", true, true,
                                  err, sizeof err, dir, sizeof dir);
    assert_null(u);
    char expect[256];
    snprintf(expect, sizeof expect, "%s/users.csv:4: expected account,device", dir);
    assert_string_equal(err, expect);
    remove_dir(dir);

    u = load_csv_text("684;ANDROID\r\n", false, true, err, sizeof err, dir, sizeof dir);
    assert_null(u);
    snprintf(expect, sizeof expect, "%s/users.csv:1: expected account,device", dir);
    assert_string_equal(err, expect);
    remove_dir(dir);

    u = lc_users_load_csv("/nonexistent/users.csv", true, true, err, sizeof err);
    assert_null(u);
    assert_string_equal(err, "/nonexistent/users.csv: No such file or directory");
}

/* ---- scale -------------------------------------------------------------------------- */

static void million_rows_fit_in_24_bytes_each(void **state)
{
    (void)state;
    const size_t n = 1000000;
    lc_users_builder_t *b = lc_users_builder_new(true, true, 0);   /* no hint: growth */
    assert_non_null(b);
    static const char *const devices[] = { "ANDROID", "IOS", "WEB", "TV" };
    char key[32];
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, "%zu", 10000000 + i * 3);
        const char *dev = devices[i % 4];
        assert_int_equal(lc_users_builder_add(b, key, (size_t)len, dev, strlen(dev)), 0);
    }
    lc_users_t *u = lc_users_builder_finish(b, 0);
    assert_non_null(u);
    assert_int_equal(lc_users_rows(u), n);
    assert_int_equal(lc_users_accounts(u), n);
    double per_row = (double)lc_users_memory_bytes(u) / (double)lc_users_rows(u);
    print_message("      %zu rows: %zu bytes, %.2f bytes per row\n", n,
                  lc_users_memory_bytes(u), per_row);
    assert_true(per_row <= 24.0);
    for (size_t i = 0; i < n; i += 997) {
        int64_t k = (int64_t)(10000000 + i * 3);
        assert_int_equal(chk_i(u, k, devices[i % 4]), M);
        assert_int_equal(chk_i(u, k, devices[(i + 1) % 4]), X);
        assert_int_equal(chk_i(u, k + 1, devices[i % 4]), U);
    }
    lc_users_unref(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(int_keys_compare_as_integers),
        cmocka_unit_test(int_key_conversion_and_skips),
        cmocka_unit_test(string_keys_are_exact_bytes),
        cmocka_unit_test(several_devices_per_account),
        cmocka_unit_test(devices_normalised_case_insensitive),
        cmocka_unit_test(devices_case_sensitive),
        cmocka_unit_test(repeated_rows_count_once),
        cmocka_unit_test(empty_snapshot),
        cmocka_unit_test(many_devices_and_lists),
        cmocka_unit_test(oversized_hint),
        cmocka_unit_test(abandoned_build_and_refcount),
        cmocka_unit_test(snapshot_file_round_trip_int),
        cmocka_unit_test(snapshot_file_round_trip_str),
        cmocka_unit_test(snapshot_file_refuses_damage),
        cmocka_unit_test(snapshot_save_is_atomic),
        cmocka_unit_test(csv_parses_rows),
        cmocka_unit_test(csv_errors_name_the_line),
        cmocka_unit_test(million_rows_fit_in_24_bytes_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
