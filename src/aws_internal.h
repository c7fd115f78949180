/*
 * aws_internal.h - what the aws_*.c files share and nobody else uses: one HTTP exchange
 * through libcurl, and JSON credentials as ECS and IMDS serve them.
 */
#ifndef LC_AWS_INTERNAL_H
#define LC_AWS_INTERNAL_H

#include "lc_aws.h"

typedef struct aws_http_request {
    const char *method;             /* "GET", "PUT", "POST" */
    const char *url;
    const char *const *headers;     /* "Name: value" lines */
    size_t n_headers;
    const char *body;               /* NULL: none */
    size_t body_len;
    long connect_timeout_ms;
    long timeout_ms;                /* the whole exchange */
    bool direct;                    /* never through a proxy (link-local metadata services) */
} aws_http_request_t;

typedef struct aws_http_response {
    long status;
    lc_buf_t body;                  /* NUL-terminated; the caller wipes and frees it */
    bool connect_failed;            /* nothing answered (vs. an answer that timed out) */
    bool timed_out;
} aws_http_response_t;

/* One request. 0 when an HTTP answer came (any status), -1 with errstr when none did
 * (the message names the URL, never a header or the body). Bodies over 1 MiB are an error. */
int aws_http(const aws_http_request_t *req, aws_http_response_t *resp, char *errstr,
             size_t errlen);

void aws_http_response_free(aws_http_response_t *resp);

/* Fills *out from a JSON object with AccessKeyId, SecretAccessKey, Token and Expiration
 * (ECS and IMDS serve this). -1 with errstr naming the missing or malformed member, never
 * the text. */
int aws_json_credentials(const char *text, const char *source, lc_aws_credentials_t *out,
                         char *errstr, size_t errlen);

/* Copies a secret into a fixed buffer; -1 with errstr naming `what` when it does not fit
 * or is empty. */
int aws_copy(char *dst, size_t cap, const char *src, size_t n, const char *what, char *errstr,
             size_t errlen);

/* getenv that treats "" as unset. */
const char *aws_env(const char *name);

#endif
