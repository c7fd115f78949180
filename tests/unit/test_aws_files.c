/*
 * test_aws_files.c - the shared credentials and config files (src/aws_files.c) and the
 * chain's file and environment sources (src/aws_chain.c), with temporary files and
 * environment variables: profiles, comments, white space, continuation lines, [profile X]
 * in the config file, partial keys, unsupported sources, the order environment > credentials
 * file > config file, an explicit profile skipping the environment, a named profile no file
 * has.
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

#include "lc_aws.h"

static int read_profile(const char *text, bool config, const char *profile,
                        lc_aws_profile_t *info, lc_aws_credentials_t *c, char *err)
{
    return lc_aws_profile_read(text, config, profile, info, c, err, 256);
}

static void credentials_file_profiles(void **state)
{
    (void)state;
    const char *text =
        "# a comment\n"
        "; another\n"
        "[default]\n"
        "aws_access_key_id = AKIDDEFAULT\n"
        "aws_secret_access_key=secret/default+1\n"
        "\n"
        "  [dev]  \n"
        "\taws_access_key_id   =   AKIDDEV   \r\n"
        "AWS_Secret_Access_Key: dev=secret:with=signs \n"
        "   # an indented comment\n"
        "aws_session_token = tok\n"
        "[other]\n"
        "region = eu-west-1\n";
    lc_aws_profile_t info;
    lc_aws_credentials_t c;
    char err[256];
    assert_int_equal(read_profile(text, false, "default", &info, &c, err), 0);
    assert_true(info.found && info.has_credentials);
    assert_string_equal(c.access_key_id, "AKIDDEFAULT");
    assert_string_equal(c.secret_access_key, "secret/default+1");
    assert_string_equal(c.session_token, "");

    assert_int_equal(read_profile(text, false, "dev", &info, &c, err), 0);
    assert_true(info.has_credentials);
    assert_string_equal(c.access_key_id, "AKIDDEV");
    assert_string_equal(c.secret_access_key, "dev=secret:with=signs");   /* first = or : splits */
    assert_string_equal(c.session_token, "tok");

    assert_int_equal(read_profile(text, false, "other", &info, &c, err), 0);
    assert_true(info.found);
    assert_false(info.has_credentials);
    assert_string_equal(c.access_key_id, "");

    assert_int_equal(read_profile(text, false, "missing", &info, &c, err), 0);
    assert_false(info.found);
    /* a credentials file names profiles directly: [profile dev] is another profile */
    assert_int_equal(read_profile("[profile dev]\naws_access_key_id=a\naws_secret_access_key=b\n",
                                  false, "dev", &info, &c, err), 0);
    assert_false(info.found);
}

static void config_file_sections(void **state)
{
    (void)state;
    const char *text =
        "[default]\nregion = us-east-1\naws_access_key_id = AKIDD\naws_secret_access_key = sd\n"
        "[profile   prod ]\naws_access_key_id = AKIDP\naws_secret_access_key = sp\n"
        "aws_security_token = legacy\n"
        "s3 =\n  max_concurrent_requests = 20\n  aws_access_key_id = nested-not-a-key\n"
        "[prod]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n"
        "[profilex]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n";
    lc_aws_profile_t info;
    lc_aws_credentials_t c;
    char err[256];
    assert_int_equal(read_profile(text, true, "prod", &info, &c, err), 0);
    assert_true(info.has_credentials);
    assert_string_equal(c.access_key_id, "AKIDP");
    assert_string_equal(c.session_token, "legacy");
    assert_int_equal(read_profile(text, true, "default", &info, &c, err), 0);
    assert_string_equal(c.access_key_id, "AKIDD");
    assert_int_equal(read_profile(text, true, "x", &info, &c, err), 0);
    assert_false(info.found);
}

static void malformed_and_partial(void **state)
{
    (void)state;
    lc_aws_profile_t info;
    lc_aws_credentials_t c;
    char err[256];
    /* the message names the line, never its text (which may be a secret) */
    assert_int_equal(read_profile("[default]\naws_access_key_id = a\nSECRETLINE\n", false,
                                  "default", &info, &c, err), -1);
    assert_non_null(strstr(err, "line 3"));
    assert_null(strstr(err, "SECRETLINE"));
    assert_int_equal(read_profile("aws_access_key_id = a\n[default]\n", false, "default",
                                  &info, &c, err), -1);
    assert_non_null(strstr(err, "line 1"));
    assert_int_equal(read_profile("[default]\n= value\n", false, "default", &info, &c, err), -1);
    assert_int_equal(read_profile("[]\n", false, "default", &info, &c, err), -1);
    /* one key without the other is an error, as in botocore */
    assert_int_equal(read_profile("[default]\naws_access_key_id = AKIDONLY\n", false,
                                  "default", &info, &c, err), -1);
    assert_non_null(strstr(err, "not aws_secret_access_key"));
    assert_string_equal(c.access_key_id, "");
    assert_int_equal(read_profile("[default]\naws_secret_access_key = S3CR3T\n", false,
                                  "default", &info, &c, err), -1);
    assert_null(strstr(err, "S3CR3T"));
    assert_int_equal(read_profile("[default]\naws_access_key_id =\naws_secret_access_key = s\n",
                                  false, "default", &info, &c, err), -1);
    /* a source this chain does not do is reported, not skipped silently */
    assert_int_equal(read_profile("[profile r]\nrole_arn = arn:aws:iam::1:role/x\n"
                                  "source_profile = default\n", true, "r", &info, &c, err), 0);
    assert_true(info.found);
    assert_false(info.has_credentials);
    assert_string_equal(info.unsupported, "role_arn");
    /* an empty file, only comments */
    assert_int_equal(read_profile("", false, "default", &info, &c, err), 0);
    assert_false(info.found);
    assert_int_equal(read_profile("# x\n\n;y\n", false, "default", &info, &c, err), 0);
}

/* ---- the chain's environment and file sources ---- */

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup_env(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/lc-aws-files.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    static const char *clear[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
        "AWS_PROFILE", "AWS_CREDENTIAL_EXPIRATION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(clear); i++)
        unsetenv(clear[i]);
    char path[128];
    snprintf(path, sizeof(path), "%s/credentials", dir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf(path, sizeof(path), "%s/config", dir);
    setenv("AWS_CONFIG_FILE", path, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);   /* never reach out from a unit test */
    return 0;
}

static int teardown_env(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void chain_order(void **state)
{
    (void)state;
    lc_aws_options_t opt = {.region = "eu-west-1"};
    lc_aws_credentials_t c;
    char err[1024];
    /* nothing anywhere: the message walks every source */
    assert_int_equal(lc_aws_chain_resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "environment: AWS_ACCESS_KEY_ID not set"));
    assert_non_null(strstr(err, "credentials: absent"));
    assert_non_null(strstr(err, "AWS_EC2_METADATA_DISABLED"));

    write_file("config", "[default]\naws_access_key_id = CFG\naws_secret_access_key = c\n"
                         "[profile p]\naws_access_key_id = CFGP\naws_secret_access_key = cp\n");
    assert_int_equal(lc_aws_chain_resolve(&opt, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "CFG");
    assert_string_equal(c.source, "config file");

    write_file("credentials", "[default]\naws_access_key_id = CRED\naws_secret_access_key = s\n");
    assert_int_equal(lc_aws_chain_resolve(&opt, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "CRED");
    assert_string_equal(c.source, "shared credentials file");
    assert_int_equal(c.expires_ms, 0);

    setenv("AWS_ACCESS_KEY_ID", "ENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z", 1);
    assert_int_equal(lc_aws_chain_resolve(&opt, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "ENV");
    assert_string_equal(c.session_token, "envtoken");
    assert_int_equal(c.expires_ms, 1893456000000LL);
    assert_string_equal(c.source, "environment");

    /* AWS_PROFILE picks the file profile but the environment's keys still win ... */
    setenv("AWS_PROFILE", "p", 1);
    assert_int_equal(lc_aws_chain_resolve(&opt, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "ENV");
    /* ... while a profile in the options skips the environment (botocore does the same) */
    opt.profile = "p";
    assert_int_equal(lc_aws_chain_resolve(&opt, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "CFGP");
    /* a named profile that no file has is an error, not a fall-through to IMDS */
    opt.profile = "nope";
    assert_int_equal(lc_aws_chain_resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "profile nope not found"));
    opt.profile = NULL;
    unsetenv("AWS_PROFILE");

    /* one environment key without the other stops the chain */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(lc_aws_chain_resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY is not"));
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_CREDENTIAL_EXPIRATION");

    /* a profile that asks for a role in the file: refused with the reason */
    write_file("credentials", "[default]\nrole_arn = arn:aws:iam::1:role/r\n");
    write_file("config", "");
    assert_int_equal(lc_aws_chain_resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "uses role_arn"));
    unlink(getenv("AWS_SHARED_CREDENTIALS_FILE"));
}

static void provider_caches_until_margin(void **state)
{
    (void)state;
    write_file("credentials", "[default]\naws_access_key_id = A1\naws_secret_access_key = s\n");
    lc_aws_options_t opt = {.region = "eu-west-1"};
    char err[1024];
    lc_aws_provider_t *p = lc_aws_provider_new(&opt, err, sizeof(err));
    assert_non_null(p);
    lc_aws_credentials_t c;
    assert_int_equal(lc_aws_provider_get(p, 1000, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "A1");
    /* credentials that do not expire are never fetched again */
    write_file("credentials", "[default]\naws_access_key_id = A2\naws_secret_access_key = s\n");
    assert_int_equal(lc_aws_provider_get(p, 1000000000, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "A1");
    assert_int_equal(lc_aws_provider_fetches(p), 1);
    lc_aws_provider_free(p);

    /* expiring ones are, once fewer than refresh_margin_s seconds are left */
    setenv("AWS_ACCESS_KEY_ID", "E1", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z", 1);
    const int64_t exp = 1893456000000LL;
    opt.refresh_margin_s = 60;
    p = lc_aws_provider_new(&opt, err, sizeof(err));
    assert_int_equal(lc_aws_provider_get(p, exp - 3600000, &c, err, sizeof(err)), 0);
    setenv("AWS_ACCESS_KEY_ID", "E2", 1);
    assert_int_equal(lc_aws_provider_get(p, exp - 60001, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "E1");                 /* 60.001 s left: kept */
    assert_int_equal(lc_aws_provider_get(p, exp - 60000, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "E2");                 /* the margin: renewed */
    assert_int_equal(lc_aws_provider_fetches(p), 2);

    /* a failed renewal keeps the old ones while they have not expired, then fails */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(lc_aws_provider_get(p, exp - 1000, &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "E2");
    assert_int_equal(lc_aws_provider_get(p, exp, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY is not"));
    lc_aws_provider_free(p);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_CREDENTIAL_EXPIRATION");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credentials_file_profiles),
        cmocka_unit_test(config_file_sections),
        cmocka_unit_test(malformed_and_partial),
        cmocka_unit_test(chain_order),
        cmocka_unit_test(provider_caches_until_margin),
    };
    return cmocka_run_group_tests(tests, setup_env, teardown_env);
}
