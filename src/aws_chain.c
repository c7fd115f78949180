/* aws_chain.c - the standard AWS credential chain: environment, web identity, shared
 * credentials file, shared config file, ECS container credentials, EC2 instance metadata
 * (IMDSv2). */
#include "aws_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#define ECS_HOST "http://169.254.170.2"
#define IMDS_HOST "http://169.254.169.254"
#define IMDS_HOST_V6 "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL_S 21600

/* Outcome of one source: credentials, none here (try the next), or an error that stops
 * the chain (a source that is configured but broken: botocore stops there too). */
enum { FOUND = 0, NONE = 1, BROKEN = -1 };

typedef struct why {
    lc_buf_t text;   /* "source: reason; source: reason" for the final error */
} why_t;

static void note(why_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(why_t *w, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (w->text.len)
        lc_buf_puts(&w->text, "; ");
    lc_buf_puts(&w->text, line);
}

static const char *profile_name(const lc_aws_options_t *opt)
{
    if (opt->profile && opt->profile[0])
        return opt->profile;
    const char *p = aws_env("AWS_PROFILE");
    return p ? p : "default";
}

/* ---- 1. environment ---- */

static int from_env(lc_aws_credentials_t *out, why_t *w, char *errstr, size_t errlen)
{
    const char *id = aws_env("AWS_ACCESS_KEY_ID");
    const char *secret = aws_env("AWS_SECRET_ACCESS_KEY");
    if (!id && !secret) {
        note(w, "environment: AWS_ACCESS_KEY_ID not set");
        return NONE;
    }
    if (!id || !secret)
        return lc_err(errstr, errlen, "environment: %s is set but %s is not",
                      id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                      id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    const char *token = aws_env("AWS_SESSION_TOKEN");
    if (!token)
        token = aws_env("AWS_SECURITY_TOKEN");
    const char *exp = aws_env("AWS_CREDENTIAL_EXPIRATION");
    char why[128];
    if (aws_copy(out->access_key_id, sizeof(out->access_key_id), id, strlen(id),
                 "AWS_ACCESS_KEY_ID", why, sizeof(why)) ||
        aws_copy(out->secret_access_key, sizeof(out->secret_access_key), secret,
                 strlen(secret), "AWS_SECRET_ACCESS_KEY", why, sizeof(why)) ||
        (token && aws_copy(out->session_token, sizeof(out->session_token), token,
                           strlen(token), "AWS_SESSION_TOKEN", why, sizeof(why))))
        return lc_err(errstr, errlen, "environment: %s", why);
    if (exp && lc_aws_parse_time(exp, &out->expires_ms) != 0)
        return lc_err(errstr, errlen,
                      "environment: AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 UTC time");
    snprintf(out->source, sizeof(out->source), "environment");
    return FOUND;
}

/* ---- 2. web identity ---- */

static int from_web_identity(const lc_aws_options_t *opt, lc_aws_credentials_t *out, why_t *w,
                             char *errstr, size_t errlen)
{
    const char *file = aws_env("AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *role = aws_env("AWS_ROLE_ARN");
    if (!file || !role) {
        note(w, "web identity: %s not set", file ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
        return NONE;
    }
    char *token = NULL, why[512];
    int rc = lc_aws_read_file(file, &token, why, sizeof(why));
    if (rc != 0)
        return lc_err(errstr, errlen, "web identity: token file %s", rc == 1 ? "absent" : why);
    size_t n = strlen(token);
    while (n && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' '))
        token[--n] = '\0';
    char session[64];
    const char *name = aws_env("AWS_ROLE_SESSION_NAME");
    if (!name) {
        snprintf(session, sizeof(session), "logclassify-%lld", (long long)(lc_wall_ms() / 1000));
        name = session;
    }
    rc = lc_aws_sts_assume_role_web_identity(opt->region, opt->sts_endpoint, role, name, token,
                                             lc_wall_ms(), out, errstr, errlen);
    lc_aws_wipe(token, n);
    free(token);
    return rc == 0 ? FOUND : BROKEN;
}

/* ---- 3. and 4. the shared files ---- */

static void default_path(char *buf, size_t cap, const char *env, const char *file)
{
    const char *p = aws_env(env);
    if (p && p[0] == '~' && p[1] == '/' && aws_env("HOME"))
        snprintf(buf, cap, "%s%s", aws_env("HOME"), p + 1);
    else if (p)
        snprintf(buf, cap, "%s", p);
    else
        snprintf(buf, cap, "%s/.aws/%s", aws_env("HOME") ? aws_env("HOME") : "", file);
}

/* found_profile is set when the file has the profile's section at all. */
static int from_file(const char *path, bool config_file, const char *profile,
                     lc_aws_credentials_t *out, bool *found_profile, why_t *w, char *errstr,
                     size_t errlen)
{
    const char *what = config_file ? "config file" : "shared credentials file";
    char *text = NULL, why[256];
    int rc = lc_aws_read_file(path, &text, why, sizeof(why));
    if (rc == 1) {
        note(w, "%s %s: absent", what, path);
        return NONE;
    }
    if (rc != 0)
        return lc_err(errstr, errlen, "%s: %s", what, why);
    lc_aws_profile_t info;
    rc = lc_aws_profile_read(text, config_file, profile, &info, out, why, sizeof(why));
    lc_aws_wipe(text, strlen(text));
    free(text);
    if (rc != 0)
        return lc_err(errstr, errlen, "%s %s: %s", what, path, why);
    *found_profile = *found_profile || info.found;
    if (info.has_credentials) {
        snprintf(out->source, sizeof(out->source), "%s", what);
        return FOUND;
    }
    if (info.unsupported[0])
        return lc_err(errstr, errlen,
                      "%s %s: profile %s uses %s, which logclassify does not support (give "
                      "the role ARN in its own configuration, or use keys)",
                      what, path, profile, info.unsupported);
    note(w, "%s %s: %s", what, path, info.found ? "profile has no keys" : "no such profile");
    return NONE;
}

/* ---- 5. ECS container credentials ---- */

/* botocore's rule for AWS_CONTAINER_CREDENTIALS_FULL_URI: https to any host, http only to
 * the loopback or the ECS / EKS pod-identity link-local addresses. */
static bool full_uri_allowed(const char *uri)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = false;
    if (u && curl_url_set(u, CURLUPART_URL, uri, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (strcasecmp(scheme, "https") == 0)
            ok = true;
        else if (strcasecmp(scheme, "http") == 0)
            ok = strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0 ||
                 strcasecmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 ||
                 strcmp(host, "169.254.170.23") == 0 || strcasecmp(host, "[fd00:ec2::23]") == 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* The Authorization header for a full URI: the token file (read each time: EKS rotates
 * it) wins over the variable. 0 and an empty header when neither is set. */
static int ecs_auth_header(lc_buf_t *hdr, char *errstr, size_t errlen)
{
    const char *file = aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *value = aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char *text = NULL;
    if (file) {
        char why[256];
        int rc = lc_aws_read_file(file, &text, why, sizeof(why));
        if (rc != 0)
            return lc_err(errstr, errlen, "ECS container credentials: token file %s%s", rc == 1 ? file : why,
                          rc == 1 ? ": absent" : "");
        size_t n = strlen(text);
        while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
            text[--n] = '\0';
        value = text;
    }
    int rc = 0;
    if (value) {
        if (strpbrk(value, "\r\n"))
            rc = lc_err(errstr, errlen, "ECS container credentials: the authorization token "
                                        "has a line break");
        else
            lc_buf_printf(hdr, "Authorization: %s", value);
    }
    if (text) {
        lc_aws_wipe(text, strlen(text));
        free(text);
    }
    return rc;
}

static int from_ecs(const lc_aws_options_t *opt, lc_aws_credentials_t *out, why_t *w,
                    char *errstr, size_t errlen)
{
    const char *rel = aws_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = aws_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (!rel && !full) {
        note(w, "ECS: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI not set");
        return NONE;
    }
    lc_buf_t url = {0}, auth = {0};
    int rc = BROKEN;
    if (rel) {
        const char *base = opt->ecs_endpoint && opt->ecs_endpoint[0] ? opt->ecs_endpoint : ECS_HOST;
        lc_buf_printf(&url, "%s%s%s", base, rel[0] == '/' ? "" : "/", rel);
    } else {
        if (!full_uri_allowed(full)) {
            lc_err(errstr, errlen, "ECS container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI "
                                   "must be https, or http to a loopback or the container "
                                   "credentials address");
            goto out;
        }
        lc_buf_puts(&url, full);
        if (ecs_auth_header(&auth, errstr, errlen) != 0)
            goto out;
    }
    lc_buf_putc(&url, '\0');
    lc_buf_putc(&auth, '\0');
    const char *hdrs[2] = {"Accept: application/json", auth.data};
    aws_http_request_t req = {.method = "GET", .url = url.data, .headers = hdrs,
                              .n_headers = auth.data[0] ? 2 : 1, .connect_timeout_ms = 1000,
                              .timeout_ms = 2000, .direct = true};
    aws_http_response_t resp;
    char why[512] = "";
    for (int attempt = 0; attempt < 2; attempt++) {
        if (aws_http(&req, &resp, why, sizeof(why)) != 0)
            continue;
        if (resp.status == 200)
            break;
        snprintf(why, sizeof(why), "GET %s: HTTP %ld", url.data, resp.status);
        aws_http_response_free(&resp);
        if (resp.status < 500)
            break;
    }
    if (resp.status != 200) {
        lc_err(errstr, errlen, "ECS container credentials: %s", why);
        goto out;
    }
    rc = aws_json_credentials(resp.body.data, "ECS container credentials", out, errstr, errlen)
             ? BROKEN : FOUND;
    aws_http_response_free(&resp);
out:
    lc_buf_free(&url);
    lc_aws_buf_wipe_free(&auth);
    return rc;
}

/* ---- 6. EC2 instance metadata, IMDSv2 ---- */

static bool env_true(const char *name)
{
    const char *v = aws_env(name);
    return v && strcasecmp(v, "true") == 0;
}

static void imds_base(const lc_aws_options_t *opt, char *buf, size_t cap)
{
    const char *b = opt->imds_endpoint && opt->imds_endpoint[0] ? opt->imds_endpoint
                                                                 : aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!b) {
        const char *mode = aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        b = mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_HOST_V6 : IMDS_HOST;
    }
    size_t n = strlen(b);
    while (n && b[n - 1] == '/')
        n--;
    snprintf(buf, cap, "%.*s", (int)n, b);
}

/* GET base+path with the session token (when there is one); 200 answers only. */
static int imds_get(const char *base, const char *path, const char *token, lc_buf_t *body,
                    char *errstr, size_t errlen)
{
    char url[1024];
    lc_buf_t hdr = {0};
    if (token)
        lc_buf_printf(&hdr, "X-aws-ec2-metadata-token: %s", token);
    lc_buf_putc(&hdr, '\0');
    snprintf(url, sizeof(url), "%s%s", base, path);
    const char *hdrs[1] = {hdr.data};
    aws_http_request_t req = {.method = "GET", .url = url, .headers = hdrs,
                              .n_headers = token ? 1 : 0, .connect_timeout_ms = 1000,
                              .timeout_ms = 2000, .direct = true};
    aws_http_response_t resp;
    int rc = aws_http(&req, &resp, errstr, errlen);
    lc_aws_buf_wipe_free(&hdr);
    if (rc != 0)
        return -1;
    if (resp.status != 200) {
        aws_http_response_free(&resp);
        return lc_err(errstr, errlen, "GET %s: HTTP %ld%s", url, resp.status,
                      resp.status == 401 ? " (session token refused)" : "");
    }
    *body = resp.body;
    return 0;
}

static int from_imds(const lc_aws_options_t *opt, lc_aws_credentials_t *out, why_t *w,
                     char *errstr, size_t errlen)
{
    (void)errstr;
    (void)errlen;
    if (env_true("AWS_EC2_METADATA_DISABLED")) {
        note(w, "EC2 instance metadata: AWS_EC2_METADATA_DISABLED");
        return NONE;
    }
    char base[512], url[600], why[512];
    imds_base(opt, base, sizeof(base));

    /* the session token: PUT, with its lifetime in a header */
    snprintf(url, sizeof(url), "%s/latest/api/token", base);
    char ttl[64];
    snprintf(ttl, sizeof(ttl), "X-aws-ec2-metadata-token-ttl-seconds: %d", IMDS_TOKEN_TTL_S);
    const char *put_hdrs[1] = {ttl};
    aws_http_request_t put = {.method = "PUT", .url = url, .headers = put_hdrs, .n_headers = 1,
                              .connect_timeout_ms = 1000, .timeout_ms = 2000, .direct = true};
    aws_http_response_t resp;
    char *token = NULL;
    int rc = NONE;
    if (aws_http(&put, &resp, why, sizeof(why)) != 0) {
        if (resp.connect_failed || !resp.timed_out || env_true("AWS_EC2_METADATA_V1_DISABLED")) {
            note(w, "EC2 instance metadata: %s", why);
            return NONE;
        }
        /* an answer that never came: botocore goes on without a token (IMDSv1) */
    } else if (resp.status == 200 && resp.body.len > 0) {
        token = resp.body.data;     /* owned from here; wiped below */
        resp.body = (lc_buf_t){0};
    } else {
        long st = resp.status;
        aws_http_response_free(&resp);
        if (!(st == 403 || st == 404 || st == 405) || env_true("AWS_EC2_METADATA_V1_DISABLED")) {
            note(w, "EC2 instance metadata: PUT %s: HTTP %ld", url, st);
            return NONE;
        }
        /* no IMDSv2 here: botocore falls back to IMDSv1 unless told not to */
    }

    lc_buf_t role = {0}, body = {0};
    if (imds_get(base, "/latest/meta-data/iam/security-credentials/", token, &role, why,
                 sizeof(why)) != 0) {
        note(w, "EC2 instance metadata: %s", why);
        goto out;
    }
    size_t n = strcspn(role.data, "\r\n");
    role.data[n] = '\0';
    if (n == 0 || n > 128 || strpbrk(role.data, "/?#%")) {
        note(w, "EC2 instance metadata: no usable instance role name");
        goto out;
    }
    char path[256];
    snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", role.data);
    if (imds_get(base, path, token, &body, why, sizeof(why)) != 0) {
        note(w, "EC2 instance metadata: %s", why);
        goto out;
    }
    char source[64];
    snprintf(source, sizeof(source), "EC2 instance metadata (role %.30s)", role.data);
    if (aws_json_credentials(body.data, source, out, why, sizeof(why)) != 0) {
        note(w, "%s", why);
        goto out;
    }
    rc = FOUND;
out:
    if (token) {
        lc_aws_wipe(token, strlen(token));
        free(token);
    }
    lc_buf_free(&role);
    lc_aws_buf_wipe_free(&body);
    return rc;
}

int lc_aws_chain_resolve(const lc_aws_options_t *opt, lc_aws_credentials_t *out,
                         char *errstr, size_t errlen)
{
    lc_aws_credentials_wipe(out);
    why_t w = {{0}};
    const char *profile = profile_name(opt);
    bool explicit_profile = opt->profile && opt->profile[0];
    int rc = NONE;
    char path[1024];
    bool found_profile = false;

    /* an explicitly configured profile takes precedence over the environment's keys */
    if (explicit_profile)
        note(&w, "environment: skipped (profile %s configured)", profile);
    else
        rc = from_env(out, &w, errstr, errlen);
    if (rc == NONE)
        rc = from_web_identity(opt, out, &w, errstr, errlen);
    if (rc == NONE) {
        default_path(path, sizeof(path), "AWS_SHARED_CREDENTIALS_FILE", "credentials");
        rc = from_file(path, false, profile, out, &found_profile, &w, errstr, errlen);
    }
    if (rc == NONE) {
        default_path(path, sizeof(path), "AWS_CONFIG_FILE", "config");
        rc = from_file(path, true, profile, out, &found_profile, &w, errstr, errlen);
    }
    if (rc == NONE && !found_profile && strcmp(profile, "default") != 0) {
        /* botocore: a named profile that no file has is an error, not a fall-through */
        lc_err(errstr, errlen, "AWS profile %s not found in the shared credentials or config file",
               profile);
        rc = BROKEN;
    }
    if (rc == NONE)
        rc = from_ecs(opt, out, &w, errstr, errlen);
    if (rc == NONE)
        rc = from_imds(opt, out, &w, errstr, errlen);
    if (rc == NONE) {
        lc_buf_putc(&w.text, '\0');
        lc_err(errstr, errlen, "no AWS credentials found (%s)", w.text.data);
    }
    lc_buf_free(&w.text);
    if (rc != FOUND) {
        lc_aws_credentials_wipe(out);
        return -1;
    }
    return 0;
}
