/*
 * test_aws_sigv4.c - Signature Version 4 (src/aws_sigv4.c) against the worked examples in
 * AWS's documentation (IAM's "create a signed request" GET ListUsers, the signing-key
 * derivation example, S3's header-signed GET Object and its presigned-URL example), and the
 * pieces: URI and form encoding, the canonical query's order, header value folding,
 * base64url (RFC 4648 §10 vectors), expiry times and the expiry arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lc_aws.h"

static const char *str(lc_buf_t *b)
{
    lc_buf_putc(b, '\0');
    b->len--;
    return b->data;
}

static int64_t epoch(const char *iso)
{
    int64_t ms;
    assert_int_equal(lc_aws_parse_time(iso, &ms), 0);
    return ms / 1000;
}

static void signing_key_example(void **state)
{
    (void)state;
    /* IAM User Guide, "derive a signing key" example */
    unsigned char k[32];
    char hex[65];
    lc_aws_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1",
                       "iam", k);
    lc_aws_hex(k, 32, hex);
    assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

/* IAM User Guide, "create a signed AWS API request": GET ListUsers, 2015-08-30 12:36:00 */
static void iam_list_users_example(void **state)
{
    (void)state;
    const lc_aws_param_t q[] = {{"Version", "2010-05-08"}, {"Action", "ListUsers"}};
    const lc_aws_param_t h[] = {
        {"x-amz-date", "20150830T123600Z"},
        {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
    };
    lc_aws_request_t r = {.method = "GET", .host = "iam.amazonaws.com", .path = "/",
                          .query = q, .n_query = 2, .headers = h, .n_headers = 2,
                          .region = "us-east-1", .service = "iam",
                          .time_s = epoch("2015-08-30T12:36:00Z")};
    lc_buf_t cr = {0};
    lc_aws_canonical_request(&cr, &r);
    assert_string_equal(str(&cr),
                        "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
                        "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
                        "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                        "content-type;host;x-amz-date\n"
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    char hash[65];
    lc_aws_sha256_hex(cr.data, cr.len, hash);
    assert_string_equal(hash, "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    lc_buf_free(&cr);

    lc_buf_t sts = {0};
    lc_aws_string_to_sign(&sts, &r);
    assert_string_equal(str(&sts),
                        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
                        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    lc_buf_free(&sts);

    char sig[65];
    lc_aws_signature(&r, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sig);
    assert_string_equal(sig, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");

    lc_buf_t auth = {0};
    lc_aws_authorization(&auth, &r, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    assert_string_equal(str(&auth),
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                        "SignedHeaders=content-type;host;x-amz-date, "
                        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    lc_buf_free(&auth);
}

/* S3 API Reference, "signature calculations for the Authorization header": GET Object */
static void s3_get_object_example(void **state)
{
    (void)state;
    const lc_aws_param_t h[] = {
        {"range", "bytes=0-9"},
        {"x-amz-date", "20130524T000000Z"},
        {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    };
    lc_aws_request_t r = {.method = "GET", .host = "examplebucket.s3.amazonaws.com",
                          .path = "/test.txt", .headers = h, .n_headers = 3,
                          .region = "us-east-1", .service = "s3",
                          .time_s = epoch("2013-05-24T00:00:00Z")};
    lc_buf_t sts = {0};
    lc_aws_string_to_sign(&sts, &r);
    assert_string_equal(str(&sts),
                        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    lc_buf_free(&sts);
    char sig[65];
    lc_aws_signature(&r, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sig);
    assert_string_equal(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

/* S3 API Reference, "authenticating requests: using query parameters": the example URL */
static void s3_presigned_url_example(void **state)
{
    (void)state;
    lc_aws_credentials_t c = {.access_key_id = "AKIAIOSFODNN7EXAMPLE",
                              .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
    lc_aws_request_t r = {.method = "GET", .host = "examplebucket.s3.amazonaws.com",
                          .path = "/test.txt", .payload_sha256 = "UNSIGNED-PAYLOAD",
                          .region = "us-east-1", .service = "s3",
                          .time_s = epoch("2013-05-24T00:00:00Z")};
    lc_buf_t url = {0};
    lc_aws_presign_url(&url, &r, &c, 86400);
    assert_string_equal(str(&url),
                        "https://examplebucket.s3.amazonaws.com/test.txt"
                        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    lc_buf_free(&url);
}

/* With a session token: it is in the URL (after SignedHeaders, as botocore lays it out)
 * and signed (the canonical query sorts Security-Token before SignedHeaders), so the
 * signature changes with it. */
static void presign_with_session_token(void **state)
{
    (void)state;
    lc_aws_credentials_t c = {.access_key_id = "AKID", .secret_access_key = "secret",
                              .session_token = "tok/en+=="};
    const lc_aws_param_t q[] = {{"Action", "kafka-cluster:Connect"}};
    lc_aws_request_t r = {.method = "GET", .host = "kafka.eu-west-1.amazonaws.com",
                          .path = "/", .query = q, .n_query = 1, .region = "eu-west-1",
                          .service = "kafka-cluster", .time_s = 1700000000};
    lc_buf_t a = {0}, b = {0};
    lc_aws_presign_url(&a, &r, &c, 900);
    const char *u = str(&a);
    const char *st = strstr(u, "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=tok%2Fen%2B%3D%3D&X-Amz-Signature=");
    assert_non_null(st);
    assert_non_null(strstr(u, "https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm="));
    c.session_token[0] = 'T';
    lc_aws_presign_url(&b, &r, &c, 900);
    assert_string_not_equal(strstr(u, "X-Amz-Signature="), strstr(str(&b), "X-Amz-Signature="));

    /* the signature is that of the canonical query with the token sorted in */
    const lc_aws_param_t all[] = {
        {"Action", "kafka-cluster:Connect"}, {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
        {"X-Amz-Credential", "AKID/20231114/eu-west-1/kafka-cluster/aws4_request"},
        {"X-Amz-Date", "20231114T221320Z"}, {"X-Amz-Expires", "900"},
        {"X-Amz-SignedHeaders", "host"}, {"X-Amz-Security-Token", "tok/en+=="},
    };
    lc_aws_request_t full = r;
    full.query = all;
    full.n_query = 7;
    char sig[65], want[96];
    lc_aws_signature(&full, "secret", sig);
    snprintf(want, sizeof(want), "X-Amz-Signature=%s", sig);
    assert_string_equal(strstr(u, "X-Amz-Signature="), want);
    lc_buf_t cq = {0};
    lc_aws_canonical_query(&cq, all, 7);
    assert_non_null(strstr(str(&cq), "&X-Amz-Security-Token=tok%2Fen%2B%3D%3D&X-Amz-SignedHeaders=host"));
    lc_buf_free(&cq);
    lc_buf_free(&a);
    lc_buf_free(&b);
}

static void uri_encoding(void **state)
{
    (void)state;
    lc_buf_t b = {0};
    const char in[] = "AZaz09-_.~ /+=:*!'()&%\xc3\xa9";
    lc_aws_uri_encode(&b, in, strlen(in), false);
    assert_string_equal(str(&b), "AZaz09-_.~%20%2F%2B%3D%3A%2A%21%27%28%29%26%25%C3%A9");
    lc_buf_reset(&b);
    lc_aws_uri_encode(&b, "/a b/c", 6, true);
    assert_string_equal(str(&b), "/a%20b/c");
    lc_buf_reset(&b);
    lc_aws_form_encode(&b, "lib/1.0 (x; y) a+b", 18);
    assert_string_equal(str(&b), "lib%2F1.0+%28x%3B+y%29+a%2Bb");
    lc_buf_reset(&b);
    lc_aws_form_encode(&b, " ", 1);
    assert_string_equal(str(&b), "+");
    lc_buf_free(&b);
}

static void canonical_query_order(void **state)
{
    (void)state;
    /* sorted by the encoded name, byte order (upper case first), then by value */
    const lc_aws_param_t q[] = {{"b", "2"}, {"a", "z"}, {"B", "1"}, {"a", "y"},
                                {"a b", "x y"}, {"a-c", ""}, {"~", "~"}};
    lc_buf_t b = {0};
    lc_aws_canonical_query(&b, q, LC_ARRAY_SIZE(q));
    assert_string_equal(str(&b), "B=1&a=y&a=z&a%20b=x%20y&a-c=&b=2&~=~");
    lc_buf_reset(&b);
    lc_aws_canonical_query(&b, NULL, 0);
    assert_int_equal(b.len, 0);
    lc_buf_free(&b);
}

static void header_values_folded(void **state)
{
    (void)state;
    const lc_aws_param_t h[] = {{"x-b", "  a   b\t c  "}, {"x-a", "v"}};
    lc_aws_request_t r = {.method = "POST", .host = "h", .path = "/p", .headers = h,
                          .n_headers = 2, .payload_sha256 = "abc", .region = "r",
                          .service = "s"};
    lc_buf_t b = {0};
    lc_aws_canonical_request(&b, &r);
    assert_string_equal(str(&b), "POST\n/p\n\nhost:h\nx-a:v\nx-b:a b c\n\nhost;x-a;x-b\nabc");
    lc_buf_free(&b);
}

static void base64url_vectors(void **state)
{
    (void)state;
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    lc_buf_t b = {0};
    for (size_t i = 0; i < LC_ARRAY_SIZE(in); i++) {
        lc_buf_reset(&b);
        lc_aws_base64url(&b, in[i], strlen(in[i]));
        assert_string_equal(str(&b), out[i]);
    }
    lc_buf_reset(&b);
    lc_aws_base64url(&b, "\xfb\xff\xbf", 3);        /* the two URL-safe letters */
    assert_string_equal(str(&b), "-_-_");
    lc_buf_free(&b);
}

static void time_parsing(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(lc_aws_parse_time("2024-05-01T12:34:56Z", &ms), 0);
    assert_int_equal(ms, 1714566896000LL);
    assert_int_equal(lc_aws_parse_time("2024-05-01T12:34:56.789Z", &ms), 0);
    assert_int_equal(ms, 1714566896789LL);
    assert_int_equal(lc_aws_parse_time("2024-05-01T12:34:56+00:00", &ms), 0);
    assert_int_equal(ms, 1714566896000LL);
    assert_int_equal(lc_aws_parse_time("2024-02-29T00:00:00Z", &ms), 0);
    static const char *bad[] = {"", "2024-05-01", "2024-05-01 12:34:56Z", "2024-13-01T00:00:00Z",
                                "2024-05-01T12:34:56", "2024-05-01T12:34:56+02:00",
                                "2024-05-01T12:34:56Zjunk", "2024-05-01T24:00:00Z",
                                "2024-05-01T12:34:56.Z", "1969-12-31T23:59:59Z"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(bad); i++)
        if (lc_aws_parse_time(bad[i], &ms) == 0)
            fail_msg("accepted %s", bad[i]);
    char d[17];
    lc_aws_amz_date(1714566896, d);
    assert_string_equal(d, "20240501T123456Z");
}

static void expiry_arithmetic(void **state)
{
    (void)state;
    lc_aws_credentials_t c = {0};
    assert_true(lc_aws_credentials_fresh(&c, 1, 300));                 /* never expires */
    c.expires_ms = 1000000;
    assert_true(lc_aws_credentials_fresh(&c, 1000000 - 300001, 300));  /* 300.001 s left */
    assert_false(lc_aws_credentials_fresh(&c, 1000000 - 300000, 300)); /* exactly the margin */
    assert_false(lc_aws_credentials_fresh(&c, 1000000 - 1000, 300));
    assert_false(lc_aws_credentials_fresh(&c, 2000000, 300));          /* expired */
    assert_true(lc_aws_credentials_fresh(&c, 999999, 0));
    assert_false(lc_aws_credentials_fresh(&c, 1000000, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signing_key_example),
        cmocka_unit_test(iam_list_users_example),
        cmocka_unit_test(s3_get_object_example),
        cmocka_unit_test(s3_presigned_url_example),
        cmocka_unit_test(presign_with_session_token),
        cmocka_unit_test(uri_encoding),
        cmocka_unit_test(canonical_query_order),
        cmocka_unit_test(header_values_folded),
        cmocka_unit_test(base64url_vectors),
        cmocka_unit_test(time_parsing),
        cmocka_unit_test(expiry_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
