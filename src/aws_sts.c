/* aws_sts.c - STS AssumeRole (a SigV4-signed form POST) and AssumeRoleWithWebIdentity
 * (unsigned; the web identity token is the proof), the role's credentials read from the
 * XML answer. */
#include "aws_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STS_VERSION "2011-06-15"
#define ROLE_DURATION_S 3600

/* The text of the first <tag>...</tag> after `from`, XML entities decoded, into dst.
 * -1 when absent or too long. */
static int xml_text(const char *from, const char *tag, char *dst, size_t cap)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *s = strstr(from, open);
    if (!s)
        return -1;
    s += strlen(open);
    const char *e = strstr(s, close);
    if (!e)
        return -1;
    static const struct { const char *ent; char c; } ents[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''},
    };
    size_t n = 0;
    while (s < e) {
        char c = *s;
        size_t step = 1;
        if (c == '&')
            for (size_t i = 0; i < LC_ARRAY_SIZE(ents); i++) {
                size_t len = strlen(ents[i].ent);
                if ((size_t)(e - s) >= len && strncmp(s, ents[i].ent, len) == 0) {
                    c = ents[i].c;
                    step = len;
                    break;
                }
            }
        if (n + 1 >= cap)
            return -1;
        dst[n++] = c;
        s += step;
    }
    dst[n] = '\0';
    return 0;
}

/* The host (with its port, as the Host header has it) and the path of a URL. */
static void split_url(const char *url, char *host, size_t hcap, char *path, size_t pcap)
{
    const char *s = strstr(url, "://");
    s = s ? s + 3 : url;
    size_t n = strcspn(s, "/?#");
    snprintf(host, hcap, "%.*s", (int)n, s);
    s += n;
    size_t m = strcspn(s, "?#");
    snprintf(path, pcap, "%.*s", (int)m, m ? s : "/");
}

/* One STS call: the form POSTed to `endpoint` (the regional one when NULL), SigV4-signed
 * with `signer` (NULL: unsigned, as AssumeRoleWithWebIdentity is), the <Credentials> of the
 * answer into *out. `what` names the call in messages. */
static int sts_call(const char *what, const lc_aws_param_t *form, size_t n_form,
                    const lc_aws_credentials_t *signer, const char *region,
                    const char *endpoint, const char *role_arn, int64_t now_ms,
                    lc_aws_credentials_t *out, char *errstr, size_t errlen)
{
    lc_aws_credentials_wipe(out);
    if (!region || !region[0])
        return lc_err(errstr, errlen, "%s: no region", what);
    char url[512], host[256], path[256];
    if (endpoint && endpoint[0])
        snprintf(url, sizeof(url), "%s", endpoint);
    else
        snprintf(url, sizeof(url), "https://sts.%s.amazonaws.com%s/", region,
                 strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    split_url(url, host, sizeof(host), path, sizeof(path));

    lc_buf_t body = {0}, auth = {0}, tok = {0};
    lc_aws_canonical_query(&body, form, n_form);   /* form encoding: the same rules */
    char body_hash[65], amz_date[17], date_hdr[40];
    lc_aws_sha256_hex(body.data, body.len, body_hash);
    int64_t now_s = now_ms / 1000;
    lc_aws_amz_date(now_s, amz_date);
    snprintf(date_hdr, sizeof(date_hdr), "X-Amz-Date: %s", amz_date);
    const char *hdrs[5] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                           "Accept: application/xml", date_hdr};
    size_t n_hdrs = 3;
    if (signer) {
        bool token = signer->session_token[0] != '\0';
        lc_aws_param_t headers[3] = {
            {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
            {"x-amz-date", amz_date},
            {"x-amz-security-token", signer->session_token},
        };
        lc_aws_request_t r = {.method = "POST", .host = host, .path = path,
                              .headers = headers, .n_headers = token ? 3 : 2,
                              .payload_sha256 = body_hash, .region = region,
                              .service = "sts", .time_s = now_s};
        lc_buf_puts(&auth, "Authorization: ");
        lc_aws_authorization(&auth, &r, signer->access_key_id, signer->secret_access_key);
        lc_buf_putc(&auth, '\0');
        hdrs[n_hdrs++] = auth.data;
        if (token) {
            lc_buf_printf(&tok, "X-Amz-Security-Token: %s", signer->session_token);
            lc_buf_putc(&tok, '\0');
            hdrs[n_hdrs++] = tok.data;
        }
    }
    aws_http_request_t req = {.method = "POST", .url = url, .headers = hdrs,
                              .n_headers = n_hdrs, .body = body.data, .body_len = body.len,
                              .connect_timeout_ms = 3000, .timeout_ms = 10000};
    aws_http_response_t resp;
    char why[512];
    int rc = aws_http(&req, &resp, why, sizeof(why));
    lc_aws_buf_wipe_free(&auth);
    lc_aws_buf_wipe_free(&tok);
    lc_aws_buf_wipe_free(&body);       /* a web identity token travels in the body */
    if (rc != 0)
        return lc_err(errstr, errlen, "%s: %s", what, why);
    rc = -1;
    if (resp.status != 200) {
        char code[64] = "", msg[256] = "";
        xml_text(resp.body.data, "Code", code, sizeof(code));
        xml_text(resp.body.data, "Message", msg, sizeof(msg));
        lc_err(errstr, errlen, "%s %s: HTTP %ld%s%s%s%s", what, role_arn, resp.status,
               code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
        goto out;
    }
    const char *creds = strstr(resp.body.data, "<Credentials>");
    char exp[64];
    if (!creds ||
        xml_text(creds, "AccessKeyId", out->access_key_id, sizeof(out->access_key_id)) ||
        xml_text(creds, "SecretAccessKey", out->secret_access_key,
                 sizeof(out->secret_access_key)) ||
        xml_text(creds, "SessionToken", out->session_token, sizeof(out->session_token)) ||
        xml_text(creds, "Expiration", exp, sizeof(exp)) ||
        lc_aws_parse_time(exp, &out->expires_ms) != 0 || !out->access_key_id[0] ||
        !out->secret_access_key[0]) {
        lc_aws_credentials_wipe(out);
        lc_err(errstr, errlen, "%s %s: the answer has no usable Credentials", what, role_arn);
        goto out;
    }
    snprintf(out->source, sizeof(out->source), "STS %s", what + 4);
    rc = 0;
out:
    aws_http_response_free(&resp);
    return rc;
}

int lc_aws_sts_assume_role(const lc_aws_credentials_t *source, const char *region,
                           const char *endpoint, const char *role_arn,
                           const char *session_name, int64_t now_ms,
                           lc_aws_credentials_t *out, char *errstr, size_t errlen)
{
    char duration[16];
    snprintf(duration, sizeof(duration), "%d", ROLE_DURATION_S);
    const lc_aws_param_t form[] = {
        {"Action", "AssumeRole"}, {"DurationSeconds", duration}, {"RoleArn", role_arn},
        {"RoleSessionName", session_name}, {"Version", STS_VERSION},
    };
    return sts_call("STS AssumeRole", form, LC_ARRAY_SIZE(form), source, region, endpoint,
                    role_arn, now_ms, out, errstr, errlen);
}

int lc_aws_sts_assume_role_web_identity(const char *region, const char *endpoint,
                                        const char *role_arn, const char *session_name,
                                        const char *web_identity_token, int64_t now_ms,
                                        lc_aws_credentials_t *out, char *errstr,
                                        size_t errlen)
{
    char duration[16];
    snprintf(duration, sizeof(duration), "%d", ROLE_DURATION_S);
    const lc_aws_param_t form[] = {
        {"Action", "AssumeRoleWithWebIdentity"}, {"DurationSeconds", duration},
        {"RoleArn", role_arn}, {"RoleSessionName", session_name},
        {"Version", STS_VERSION}, {"WebIdentityToken", web_identity_token},
    };
    return sts_call("STS AssumeRoleWithWebIdentity", form, LC_ARRAY_SIZE(form), NULL, region,
                    endpoint, role_arn, now_ms, out, errstr, errlen);
}
