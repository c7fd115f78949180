/* aws_sigv4.c - AWS Signature Version 4: encodings, canonical request, signing key,
 * signature, Authorization header and presigned URL; hashes and HMAC from OpenSSL. */
#include "lc_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ALGORITHM "AWS4-HMAC-SHA256"

void lc_aws_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

void lc_aws_buf_wipe_free(lc_buf_t *b)
{
    lc_aws_wipe(b->data, b->cap);
    lc_buf_free(b);
}

void lc_aws_credentials_wipe(lc_aws_credentials_t *c)
{
    lc_aws_wipe(c, sizeof(*c));
}

bool lc_aws_credentials_fresh(const lc_aws_credentials_t *c, int64_t now_ms, int margin_s)
{
    if (c->expires_ms == 0)
        return true;
    return c->expires_ms - now_ms > (int64_t)margin_s * 1000;
}

void lc_aws_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void lc_aws_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(p, n, md);
    lc_aws_hex(md, sizeof(md), out);
}

static void hmac(const unsigned char *key, size_t klen, const char *msg, size_t n,
                 unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, n, out, &len);
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

void lc_aws_uri_encode(lc_buf_t *b, const char *s, size_t n, bool keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            lc_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};
            lc_buf_append(b, e, 3);
        }
    }
}

void lc_aws_form_encode(lc_buf_t *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ' ') {
            lc_aws_uri_encode(b, s + start, i - start, false);
            if (i < n)
                lc_buf_putc(b, '+');
            start = i + 1;
        }
    }
}

typedef struct pair {
    char *name;     /* encoded, or a lower-case header name */
    char *value;
} pair_t;

static int pair_cmp(const void *a, const void *b)
{
    const pair_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s)
{
    lc_buf_t b = {0};
    lc_aws_uri_encode(&b, s, strlen(s), false);
    lc_buf_putc(&b, '\0');
    return b.data;
}

void lc_aws_canonical_query(lc_buf_t *b, const lc_aws_param_t *p, size_t n)
{
    if (n == 0)
        return;
    pair_t *v = calloc(n, sizeof(*v));
    if (!v)
        abort();
    for (size_t i = 0; i < n; i++) {
        v[i].name = encoded(p[i].name);
        v[i].value = encoded(p[i].value);
    }
    qsort(v, n, sizeof(*v), pair_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            lc_buf_putc(b, '&');
        lc_buf_printf(b, "%s=%s", v[i].name, v[i].value);
        lc_aws_wipe(v[i].value, strlen(v[i].value));    /* may hold a session token */
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

/* The request's headers with host, sorted by name. The caller frees the array (the
 * strings are borrowed). */
static pair_t *sorted_headers(const lc_aws_request_t *r, size_t *count)
{
    size_t n = r->n_headers + 1;
    pair_t *v = calloc(n, sizeof(*v));
    if (!v)
        abort();
    v[0].name = (char *)"host";
    v[0].value = (char *)r->host;
    for (size_t i = 0; i < r->n_headers; i++) {
        v[i + 1].name = (char *)r->headers[i].name;
        v[i + 1].value = (char *)r->headers[i].value;
    }
    qsort(v, n, sizeof(*v), pair_cmp);
    *count = n;
    return v;
}

/* A header value trimmed, with each run of white space inside folded to one space. */
static void put_header_value(lc_buf_t *b, const char *s)
{
    bool pending_space = false, any = false;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f') {
            pending_space = any;
            continue;
        }
        if (pending_space)
            lc_buf_putc(b, ' ');
        pending_space = false;
        any = true;
        lc_buf_putc(b, *s);
    }
}

void lc_aws_signed_headers(lc_buf_t *b, const lc_aws_request_t *r)
{
    size_t n;
    pair_t *h = sorted_headers(r, &n);
    for (size_t i = 0; i < n; i++) {
        if (i)
            lc_buf_putc(b, ';');
        lc_buf_puts(b, h[i].name);
    }
    free(h);
}

void lc_aws_canonical_request(lc_buf_t *b, const lc_aws_request_t *r)
{
    lc_buf_printf(b, "%s\n%s\n", r->method, r->path && r->path[0] ? r->path : "/");
    lc_aws_canonical_query(b, r->query, r->n_query);
    lc_buf_putc(b, '\n');
    size_t n;
    pair_t *h = sorted_headers(r, &n);
    for (size_t i = 0; i < n; i++) {
        lc_buf_printf(b, "%s:", h[i].name);
        put_header_value(b, h[i].value);
        lc_buf_putc(b, '\n');
    }
    free(h);
    lc_buf_putc(b, '\n');
    lc_aws_signed_headers(b, r);
    lc_buf_putc(b, '\n');
    lc_buf_puts(b, r->payload_sha256 ? r->payload_sha256 : EMPTY_SHA256);
}

void lc_aws_amz_date(int64_t epoch_s, char out[17])
{
    time_t t = (time_t)epoch_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static void put_scope(lc_buf_t *b, const lc_aws_request_t *r, const char *amz_date)
{
    lc_buf_append(b, amz_date, 8);
    lc_buf_printf(b, "/%s/%s/aws4_request", r->region, r->service);
}

void lc_aws_string_to_sign(lc_buf_t *b, const lc_aws_request_t *r)
{
    char date[17], hash[65];
    lc_aws_amz_date(r->time_s, date);
    lc_buf_t cr = {0};
    lc_aws_canonical_request(&cr, r);
    lc_aws_sha256_hex(cr.data, cr.len, hash);
    lc_aws_buf_wipe_free(&cr);
    lc_buf_printf(b, ALGORITHM "\n%s\n", date);
    put_scope(b, r, date);
    lc_buf_printf(b, "\n%s", hash);
}

void lc_aws_signing_key(const char *secret, const char *date8, const char *region,
                        const char *service, unsigned char out[32])
{
    char k0[LC_AWS_KEY_MAX + 8];
    int klen = snprintf(k0, sizeof(k0), "AWS4%s", secret);
    if (klen < 0 || (size_t)klen >= sizeof(k0))
        klen = (int)sizeof(k0) - 1;   /* a longer secret is refused where it is read */
    unsigned char k[32];
    hmac((const unsigned char *)k0, (size_t)klen, date8, 8, k);
    hmac(k, 32, region, strlen(region), k);
    hmac(k, 32, service, strlen(service), k);
    hmac(k, 32, "aws4_request", 12, out);
    lc_aws_wipe(k0, sizeof(k0));
    lc_aws_wipe(k, sizeof(k));
}

void lc_aws_signature(const lc_aws_request_t *r, const char *secret, char out[65])
{
    char date[17];
    lc_aws_amz_date(r->time_s, date);
    unsigned char key[32], sig[32];
    lc_aws_signing_key(secret, date, r->region, r->service, key);
    lc_buf_t sts = {0};
    lc_aws_string_to_sign(&sts, r);
    hmac(key, 32, sts.data, sts.len, sig);
    lc_aws_hex(sig, 32, out);
    lc_aws_buf_wipe_free(&sts);
    lc_aws_wipe(key, sizeof(key));
}

void lc_aws_authorization(lc_buf_t *b, const lc_aws_request_t *r, const char *access_key_id,
                          const char *secret)
{
    char date[17], sig[65];
    lc_aws_amz_date(r->time_s, date);
    lc_aws_signature(r, secret, sig);
    lc_buf_printf(b, ALGORITHM " Credential=%s/", access_key_id);
    put_scope(b, r, date);
    lc_buf_puts(b, ", SignedHeaders=");
    lc_aws_signed_headers(b, r);
    lc_buf_printf(b, ", Signature=%s", sig);
}

static void put_param(lc_buf_t *b, const char *name, const char *value)
{
    lc_aws_uri_encode(b, name, strlen(name), false);
    lc_buf_putc(b, '=');
    lc_aws_uri_encode(b, value, strlen(value), false);
}

void lc_aws_presign_url(lc_buf_t *url, const lc_aws_request_t *r,
                        const lc_aws_credentials_t *c, int expires_s)
{
    char date[17], expires[16], sig[65];
    lc_aws_amz_date(r->time_s, date);
    snprintf(expires, sizeof(expires), "%d", expires_s);
    lc_buf_t credential = {0};
    lc_buf_printf(&credential, "%s/", c->access_key_id);
    put_scope(&credential, r, date);
    lc_buf_putc(&credential, '\0');

    /* the query as signed: the operation's parameters, then the authentication ones */
    bool token = c->session_token[0] != '\0';
    size_t n = r->n_query + 5 + (token ? 1 : 0);
    lc_aws_param_t *q = calloc(n, sizeof(*q));
    if (!q)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < r->n_query; i++)
        q[k++] = r->query[i];
    q[k++] = (lc_aws_param_t){"X-Amz-Algorithm", ALGORITHM};
    q[k++] = (lc_aws_param_t){"X-Amz-Credential", credential.data};
    q[k++] = (lc_aws_param_t){"X-Amz-Date", date};
    q[k++] = (lc_aws_param_t){"X-Amz-Expires", expires};
    q[k++] = (lc_aws_param_t){"X-Amz-SignedHeaders", "host"};
    if (token)
        q[k++] = (lc_aws_param_t){"X-Amz-Security-Token", c->session_token};

    lc_aws_request_t signed_req = *r;
    signed_req.query = q;
    signed_req.n_query = n;
    signed_req.headers = NULL;
    signed_req.n_headers = 0;
    lc_aws_signature(&signed_req, c->secret_access_key, sig);

    lc_buf_printf(url, "https://%s%s?", r->host, r->path && r->path[0] ? r->path : "/");
    for (size_t i = 0; i < n; i++) {
        if (i)
            lc_buf_putc(url, '&');
        put_param(url, q[i].name, q[i].value);
    }
    lc_buf_printf(url, "&X-Amz-Signature=%s", sig);
    free(q);
    lc_aws_buf_wipe_free(&credential);
}

void lc_aws_base64url(lc_buf_t *b, const void *p, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *s = p;
    lc_buf_reserve(b, (n + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        char o[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]};
        lc_buf_append(b, o, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        char o[2] = {tbl[v >> 18], tbl[(v >> 12) & 63]};
        lc_buf_append(b, o, 2);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        char o[3] = {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63]};
        lc_buf_append(b, o, 3);
    }
}

static int digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *s += n;
    *out = v;
    return 0;
}

int lc_aws_parse_time(const char *s, int64_t *epoch_ms)
{
    int y, mo, d, h, mi, sec, ms = 0;
    if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
        digits(&s, 2, &d) || (*s != 'T' && *s != 't') || !*s++ || digits(&s, 2, &h) ||
        *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' || digits(&s, 2, &sec))
        return -1;
    if (*s == '.') {
        s++;
        int scale = 100, nd = 0;
        while (*s >= '0' && *s <= '9') {
            if (scale) {
                ms += (*s - '0') * scale;
                scale /= 10;
            }
            s++;
            nd++;
        }
        if (nd == 0)
            return -1;
    }
    if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
        ;
    else if (strcmp(s, "+00:00") != 0 && strcmp(s, "-00:00") != 0)
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *epoch_ms = (int64_t)t * 1000 + ms;
    return 0;
}
