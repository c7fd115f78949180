/*
 * test_fuzz_regressions.c - replays the fuzz corpus and every crash the fuzzers ever found
 * through the fuzz harnesses' own checks (tests/fuzz/fuzz_checks.h), so `make unit` (plain
 * and sanitizer builds) keeps them fixed without clang or libFuzzer.
 *
 * Each file of tests/fuzz/corpus/ and tests/fuzz/regressions/ (from the repository root, or
 * from $LC_SOURCE_DIR) is run
 *   - exactly as fuzz_classify runs it (header byte, configuration variant, expansion),
 *   - as a plain record under every configuration variant,
 *   - through pipe mode as fuzz_pipe runs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>

#include "../fuzz/fuzz_checks.h"

typedef struct replay_stats {
    size_t files, bytes;
} replay_stats_t;

static bool read_whole_file(const char *path, lc_buf_t *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char chunk[65536];
    size_t n;
    lc_buf_reset(b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        lc_buf_append(b, chunk, n);
    bool ok = !ferror(f);
    fclose(f);
    return ok;
}

/* tests/fuzz/<name>, under $LC_SOURCE_DIR when set. */
static void fuzz_dir(char *out, size_t cap, const char *name)
{
    const char *root = getenv("LC_SOURCE_DIR");
    snprintf(out, cap, "%s%stests/fuzz/%s", root ? root : "", root ? "/" : "", name);
}

static void replay_one(fz_env_t *e, const char *path, const lc_buf_t *b)
{
    const uint8_t *data = (const uint8_t *)(b->data ? b->data : "");
    const char *why = fz_run_input(e, data, b->len);
    if (!why)
        why = fz_run_all_variants(e, data, b->len);
    if (!why)
        why = fz_check_pipe(e, data, b->len);
    if (why)
        fail_msg("%s:\n%s", path, why);
}

/* Replays every file of tests/fuzz/<name> (dot files and README.md aside). */
static replay_stats_t replay_dir(fz_env_t *e, const char *name)
{
    char dir[4096];
    fuzz_dir(dir, sizeof(dir), name);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s (run from the repository root or set LC_SOURCE_DIR)", dir);
    replay_stats_t st = {0};
    lc_buf_t buf = {0};
    struct dirent *ent;
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.' || strcmp(ent->d_name, "README.md") == 0)
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
        if (!read_whole_file(path, &buf))
            fail_msg("cannot read %s", path);
        replay_one(e, path, &buf);
        st.files++;
        st.bytes += buf.len;
    }
    closedir(d);
    lc_buf_free(&buf);
    printf("fuzz replay: tests/fuzz/%s: %zu files, %zu bytes, all checks hold\n", name,
           st.files, st.bytes);
    return st;
}

static void test_corpus_replays(void **state)
{
    replay_stats_t st = replay_dir(*state, "corpus");
    assert_true(st.files >= 50);
}

static void test_regressions_replay(void **state)
{
    replay_dir(*state, "regressions");
}

/* The oracles' own rules, pinned down so that a wrong oracle cannot hide a wrong verdict. */
static void test_oracle_rules(void **state)
{
    (void)state;
    int64_t v;
    assert_true(fz_parse_int("-9223372036854775808", 20, &v) && v == INT64_MIN);
    assert_false(fz_parse_int("9223372036854775808", 19, &v));
    assert_false(fz_parse_int("00000000000000000684", 20, &v));
    assert_false(fz_parse_int("-", 1, &v));
    assert_int_equal(fz_decimal_string(".5", 2), 1);
    assert_int_equal(fz_decimal_string("5.", 2), 1);
    assert_int_equal(fz_decimal_string(".", 1), 0);
    assert_int_equal(fz_decimal_string("1e999", 5), 0);
    assert_int_equal(fz_decimal_string("1e-999", 6), 1);
    assert_int_equal(fz_decimal_string("nan", 3), 0);
    assert_true(fz_epoch_digits("000253402300799", 15));
    assert_false(fz_epoch_digits("253402300800", 12));
    assert_true(fz_rfc3339("2024-02-29t23:59:60.5z", 22));
    assert_true(fz_rfc3339("2021-04-29T19:28:30+23:59", 25));
    assert_false(fz_rfc3339("2023-02-29T00:00:00Z", 20));
    assert_false(fz_rfc3339("2021-04-29 19:28:30Z", 20));
    assert_false(fz_rfc3339("2021-04-29T19:28:30", 19));
}

/* Expansion hits exact lengths around the limit, and mirrored slices nest. */
static void test_expansion(void **state)
{
    fz_env_t *e = *state;
    const char rec[] = "{\"a\":\"xy\"}";
    for (unsigned t = 0; t < 3; t++) {
        const uint8_t hdr[3] = {6, 0, (uint8_t)(t << 4)};
        fz_expand(e, hdr, rec, sizeof(rec) - 1, 64);
        assert_int_equal(e->expanded.len, 63 + t);
    }
    const uint8_t nest[3] = {0, 1, 0x98};    /* "[" and "]" mirrored, 1026 bytes */
    fz_expand(e, nest, "[]", 2, 1 << 20);
    assert_int_equal(e->expanded.len, 1026);
    assert_int_equal(fz_depth(e->expanded.data, e->expanded.len), LC_JSON_MAX_DEPTH + 1);
}

static int group_setup(void **state)
{
    char err[2048] = "";
    fz_env_t *e = fz_env_new(err, sizeof(err));
    if (!e) {
        fprintf(stderr, "fuzz checks setup: %s\n", err);
        return -1;
    }
    *state = e;
    return 0;
}

static int group_teardown(void **state)
{
    fz_env_free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_rules),
        cmocka_unit_test(test_expansion),
        cmocka_unit_test(test_corpus_replays),
        cmocka_unit_test(test_regressions_replay),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
