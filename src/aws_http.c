/* aws_http.c - one HTTP exchange with libcurl for the AWS credential sources: timeouts on
 * every call, no redirects, http and https only, bodies capped at 1 MiB. */
#include "aws_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#define MAX_BODY (1u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *aws_env(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

int aws_copy(char *dst, size_t cap, const char *src, size_t n, const char *what, char *errstr,
             size_t errlen)
{
    if (n == 0)
        return lc_err(errstr, errlen, "%s is empty", what);
    if (n >= cap)
        return lc_err(errstr, errlen, "%s is too long (%zu bytes)", what, n);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

typedef struct sink {
    lc_buf_t *body;
    bool too_big;
} sink_t;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
    sink_t *s = ctx;
    size_t n = size * nmemb;
    if (s->body->len + n > MAX_BODY) {
        s->too_big = true;
        return 0;
    }
    lc_buf_append(s->body, p, n);
    return n;
}

void aws_http_response_free(aws_http_response_t *resp)
{
    lc_aws_buf_wipe_free(&resp->body);
}

int aws_http(const aws_http_request_t *req, aws_http_response_t *resp, char *errstr,
             size_t errlen)
{
    memset(resp, 0, sizeof(*resp));
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return lc_err(errstr, errlen, "libcurl: %s", curl_easy_strerror(curl_init_rc));
    CURL *h = curl_easy_init();
    if (!h)
        return lc_err(errstr, errlen, "libcurl: cannot create a handle");
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; i < req->n_headers; i++)
        hdrs = curl_slist_append(hdrs, req->headers[i]);
    /* curl adds "Expect: 100-continue" to some POSTs, and a default Content-Type */
    hdrs = curl_slist_append(hdrs, "Expect:");
    sink_t sink = {.body = &resp->body};
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "logclassify");
    if (req->direct)
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    if (strcmp(req->method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body || strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(req->body ? req->body_len : 0));
    }
    CURLcode rc = curl_easy_perform(h);
    int ret = 0;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        lc_buf_putc(&resp->body, '\0');
        resp->body.len--;
    } else if (sink.too_big) {
        ret = lc_err(errstr, errlen, "%s %s: answer larger than 1 MiB", req->method, req->url);
    } else {
        resp->connect_failed = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                               rc == CURLE_COULDNT_RESOLVE_PROXY;
        curl_off_t connected = 0;
        curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
        resp->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        if (resp->timed_out && connected == 0)
            resp->connect_failed = true;
        ret = lc_err(errstr, errlen, "%s %s: %s", req->method, req->url,
                     curl_err[0] ? curl_err : curl_easy_strerror(rc));
    }
    curl_slist_free_all(hdrs);      /* header lines may hold tokens: libcurl copied them */
    curl_easy_cleanup(h);
    if (ret != 0)
        lc_aws_buf_wipe_free(&resp->body);
    return ret;
}

static int member(json_t *obj, const char *name, bool required, const char **out,
                  size_t *len, const char *source, char *errstr, size_t errlen)
{
    json_t *v = json_object_get(obj, name);
    *out = NULL;
    *len = 0;
    if (!v || json_is_null(v)) {
        if (required)
            return lc_err(errstr, errlen, "%s: the answer has no %s", source, name);
        return 0;
    }
    if (!json_is_string(v))
        return lc_err(errstr, errlen, "%s: %s is not a string", source, name);
    *out = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

int aws_json_credentials(const char *text, const char *source, lc_aws_credentials_t *out,
                         char *errstr, size_t errlen)
{
    lc_aws_credentials_wipe(out);
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    lc_aws_wipe(&jerr, sizeof(jerr));   /* jansson quotes the text near the error */
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return lc_err(errstr, errlen, "%s: the answer is not a JSON object", source);
    }
    const char *id = NULL, *secret = NULL, *token = NULL, *expiration = NULL, *code = NULL;
    size_t nid = 0, nsecret = 0, ntoken = 0, nexp = 0, ncode = 0;
    int rc = -1;
    char why[128];
    if (member(root, "Code", false, &code, &ncode, source, errstr, errlen) ||
        member(root, "AccessKeyId", true, &id, &nid, source, errstr, errlen) ||
        member(root, "SecretAccessKey", true, &secret, &nsecret, source, errstr, errlen) ||
        member(root, "Token", false, &token, &ntoken, source, errstr, errlen) ||
        member(root, "Expiration", false, &expiration, &nexp, source, errstr, errlen))
        goto done;
    if (code && strcmp(code, "Success") != 0) {
        /* IMDS's status word (e.g. "Expired"): short, not a secret */
        lc_err(errstr, errlen, "%s: Code is \"%.40s\", not Success", source, code);
        goto done;
    }
    if (aws_copy(out->access_key_id, sizeof(out->access_key_id), id, nid, "AccessKeyId", why,
                 sizeof(why)) ||
        aws_copy(out->secret_access_key, sizeof(out->secret_access_key), secret, nsecret,
                 "SecretAccessKey", why, sizeof(why)) ||
        (token && aws_copy(out->session_token, sizeof(out->session_token), token, ntoken,
                           "Token", why, sizeof(why)))) {
        lc_err(errstr, errlen, "%s: %s", source, why);
        goto done;
    }
    if (expiration && lc_aws_parse_time(expiration, &out->expires_ms) != 0) {
        lc_err(errstr, errlen, "%s: Expiration is not an ISO 8601 UTC time", source);
        goto done;
    }
    snprintf(out->source, sizeof(out->source), "%s", source);
    rc = 0;
done:
    /* jansson's copies of the strings: overwrite before they are freed */
    if (secret)
        lc_aws_wipe((char *)secret, nsecret);
    if (token)
        lc_aws_wipe((char *)token, ntoken);
    json_decref(root);
    if (rc != 0)
        lc_aws_credentials_wipe(out);
    return rc;
}
