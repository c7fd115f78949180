/*
 * lc_aws.h - AWS credentials and request signing, for MSK IAM access control (lc_msk_iam.h).
 *
 * Credentials come from the standard provider chain, in the order AWS's SDKs use:
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (skipped when
 *      a profile is named in the options, as botocore skips it for an explicit profile);
 *   2. web identity (EKS IAM roles for service accounts): AWS_WEB_IDENTITY_TOKEN_FILE and
 *      AWS_ROLE_ARN (AWS_ROLE_SESSION_NAME) through STS AssumeRoleWithWebIdentity;
 *   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials),
 *      section [PROFILE];
 *   4. the shared config file (AWS_CONFIG_FILE, else ~/.aws/config), section [profile PROFILE]
 *      ([default] for the default profile);
 *   5. ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on 169.254.170.2, or
 *      AWS_CONTAINER_CREDENTIALS_FULL_URI with the Authorization header from
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN (also EKS
 *      Pod Identity);
 *   6. EC2 instance metadata, IMDSv2 (a PUT for a session token, then the role and its
 *      credentials), at AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254; off with
 *      AWS_EC2_METADATA_DISABLED=true.
 * A source that is configured but fails (a broken file, an ECS endpoint that errs, a refused
 * web identity) stops the chain with its error, as in botocore; IMDS failing means "none".
 * PROFILE is the options' profile, else AWS_PROFILE, else "default". With a role ARN in the
 * options, the chain's credentials sign an STS AssumeRole call and the role's credentials
 * are used. Credentials that expire are fetched again `refresh_margin_s` before they do.
 *
 * Secrets (secret access key, session token, and anything signed with them) never reach a
 * log line or an error string; the access key id is not logged either.
 */
#ifndef LC_AWS_H
#define LC_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lc_common.h"

/* What the caller configures. Strings are borrowed for the call that takes them (the
 * provider copies what it keeps); NULL or "" means "not set". */
typedef struct lc_aws_options {
    const char *region;             /* e.g. "eu-west-1"; STS's regional endpoint uses it */
    const char *profile;            /* shared-file profile; NULL: $AWS_PROFILE, else "default" */
    const char *role_arn;           /* assume this role with the chain's credentials */
    const char *role_session_name;  /* NULL: "logclassify" */
    /* Endpoint overrides, for tests: */
    const char *sts_endpoint;       /* NULL: https://sts.<region>.amazonaws.com */
    const char *ecs_endpoint;       /* base of the relative URI; NULL: http://169.254.170.2 */
    const char *imds_endpoint;      /* NULL: $AWS_EC2_METADATA_SERVICE_ENDPOINT, else
                                     * http://169.254.169.254 */
    int refresh_margin_s;           /* renew this long before expiry; 0: 300 (5 minutes) */
} lc_aws_options_t;

#define LC_AWS_REFRESH_MARGIN_S 300
#define LC_AWS_KEY_MAX 256          /* access key id and secret access key, with the NUL */
#define LC_AWS_SESSION_TOKEN_MAX 8192

/* One set of credentials. Plain data the caller owns; lc_aws_credentials_wipe clears the
 * secrets before the memory goes. */
typedef struct lc_aws_credentials {
    char access_key_id[LC_AWS_KEY_MAX];
    char secret_access_key[LC_AWS_KEY_MAX];
    char session_token[LC_AWS_SESSION_TOKEN_MAX];   /* "" when there is none */
    int64_t expires_ms;     /* wall clock, ms since the epoch; 0: does not expire */
    char source[64];        /* where they came from, e.g. "environment"; never secret */
} lc_aws_credentials_t;

void lc_aws_credentials_wipe(lc_aws_credentials_t *c);

/* True when `c` can still be used at now_ms: it does not expire, or it expires more than
 * margin_s seconds after now_ms. */
bool lc_aws_credentials_fresh(const lc_aws_credentials_t *c, int64_t now_ms, int margin_s);

/*
 * Runs the chain once (no cache, no role): fills *out from the first source that has
 * credentials. -1 with errstr naming each source and why it had none (no secret in it).
 */
int lc_aws_chain_resolve(const lc_aws_options_t *opt, lc_aws_credentials_t *out,
                         char *errstr, size_t errlen);

/* A credential cache in front of the chain (and of AssumeRole when a role is set).
 * Thread-safe: lc_aws_provider_get may be called from any thread. */
typedef struct lc_aws_provider lc_aws_provider_t;

/* NULL with errstr on bad options. Nothing is fetched yet. The caller owns the result and
 * frees it with lc_aws_provider_free. */
lc_aws_provider_t *lc_aws_provider_new(const lc_aws_options_t *opt, char *errstr, size_t errlen);

/* Copies current credentials into *out: the cached ones while lc_aws_credentials_fresh at
 * now_ms, else new ones (the chain again, then AssumeRole when a role is set). now_ms is
 * the wall clock (lc_wall_ms()); tests pass their own. -1 with errstr when none can be had;
 * the cache is then left as it was. */
int lc_aws_provider_get(lc_aws_provider_t *p, int64_t now_ms, lc_aws_credentials_t *out,
                        char *errstr, size_t errlen);

/* How many times the provider fetched credentials (for tests and logs). */
unsigned lc_aws_provider_fetches(lc_aws_provider_t *p);

void lc_aws_provider_free(lc_aws_provider_t *p);

/*
 * STS AssumeRole: a SigV4-signed POST to `endpoint` (https://sts.<region>.amazonaws.com when
 * NULL) with `source` credentials, for at most 3600 s. Fills *out (expiry from the answer).
 */
int lc_aws_sts_assume_role(const lc_aws_credentials_t *source, const char *region,
                           const char *endpoint, const char *role_arn,
                           const char *session_name, int64_t now_ms,
                           lc_aws_credentials_t *out, char *errstr, size_t errlen);

/* STS AssumeRoleWithWebIdentity (EKS IAM roles for service accounts): the same, unsigned,
 * with the OIDC token read from AWS_WEB_IDENTITY_TOKEN_FILE as the proof. */
int lc_aws_sts_assume_role_web_identity(const char *region, const char *endpoint,
                                        const char *role_arn, const char *session_name,
                                        const char *web_identity_token, int64_t now_ms,
                                        lc_aws_credentials_t *out, char *errstr,
                                        size_t errlen);

/* ---- the shared files ------------------------------------------------------------------ */

/* Called for each key = value of an INI text, in order; key is lower case, value trimmed
 * (continuation lines joined with '\n'). A non-zero return stops the walk and is returned. */
typedef int (*lc_aws_ini_cb)(void *ctx, const char *section, const char *key,
                             const char *value);

/* Walks INI text as Python's configparser reads it (botocore does): [section] lines, key =
 * value or key: value, full-line comments starting with # or ;, blank lines, indented
 * continuation lines. -1 with errstr naming the line number (never its text) on a line that
 * is none of these, or a key before the first section. */
int lc_aws_ini_parse(const char *text, lc_aws_ini_cb cb, void *ctx, char *errstr, size_t errlen);

/* What one file says about one profile. */
typedef struct lc_aws_profile {
    bool found;             /* the file has the profile's section */
    bool has_credentials;   /* with aws_access_key_id and aws_secret_access_key */
    char unsupported[48];   /* a key for a source this chain does not do (role_arn,
                             * credential_process, sso_session...), "" when none */
} lc_aws_profile_t;

/*
 * Reads `profile` from a shared file's text: a credentials file names the section after the
 * profile, a config file uses [profile NAME], or [default]. Fills *info, and *creds when
 * the profile has keys (aws_session_token, or the older aws_security_token, when present).
 * -1 with errstr on a malformed file or only one of the two keys.
 */
int lc_aws_profile_read(const char *text, bool config_file, const char *profile,
                        lc_aws_profile_t *info, lc_aws_credentials_t *creds, char *errstr,
                        size_t errlen);

/* Reads a whole file (at most 1 MiB) into *text (NUL-terminated; the caller wipes and frees
 * it). 1 when the file does not exist, -1 with errstr on other errors. */
int lc_aws_read_file(const char *path, char **text, char *errstr, size_t errlen);

/* ---- Signature Version 4 ---------------------------------------------------------------- */

typedef struct lc_aws_param {
    const char *name;
    const char *value;
} lc_aws_param_t;

/* A request to sign. Query names and values are raw (encoded here); header names are
 * lower case, without host (always signed, from `host`). */
typedef struct lc_aws_request {
    const char *method;             /* "GET", "POST" */
    const char *host;               /* "kafka.eu-west-1.amazonaws.com" */
    const char *path;               /* canonical URI, already encoded: "/" */
    const lc_aws_param_t *query;
    size_t n_query;
    const lc_aws_param_t *headers;
    size_t n_headers;
    const char *payload_sha256;     /* hex; NULL: the hash of an empty payload */
    const char *region;
    const char *service;            /* "kafka-cluster", "sts" */
    int64_t time_s;                 /* signing time, seconds since the epoch */
} lc_aws_request_t;

/* Appends the URI encoding of n bytes (RFC 3986 unreserved A-Z a-z 0-9 - _ . ~ kept, every
 * other byte %XX in upper-case hex; '/' kept only when keep_slash). */
void lc_aws_uri_encode(lc_buf_t *b, const char *s, size_t n, bool keep_slash);

/* Appends form encoding as Python's urlencode does it (quote_plus): unreserved bytes kept,
 * space as '+', every other byte %XX. */
void lc_aws_form_encode(lc_buf_t *b, const char *s, size_t n);

/* Appends the canonical query string: each name=value URI-encoded, sorted by encoded name,
 * then encoded value, joined with '&'. */
void lc_aws_canonical_query(lc_buf_t *b, const lc_aws_param_t *p, size_t n);

/* Appends the canonical request: method, path, canonical query, canonical headers (host and
 * the request's, sorted, values trimmed and inner runs of spaces folded), signed headers,
 * payload hash; one per line. */
void lc_aws_canonical_request(lc_buf_t *b, const lc_aws_request_t *r);

/* Appends the signed-header list: "host" and the request's header names, sorted, ';'. */
void lc_aws_signed_headers(lc_buf_t *b, const lc_aws_request_t *r);

/* "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical request>" */
void lc_aws_string_to_sign(lc_buf_t *b, const lc_aws_request_t *r);

/* kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request". */
void lc_aws_signing_key(const char *secret, const char *date8, const char *region,
                        const char *service, unsigned char out[32]);

/* The request's signature, 64 lower-case hex digits and a NUL. */
void lc_aws_signature(const lc_aws_request_t *r, const char *secret, char out[65]);

/* The Authorization header value for a header-signed request. */
void lc_aws_authorization(lc_buf_t *b, const lc_aws_request_t *r, const char *access_key_id,
                          const char *secret);

/*
 * A presigned URL, laid out as botocore's SigV4QueryAuth does: https://host path ?
 * the request's query (in the given order) & X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
 * X-Amz-Expires, X-Amz-SignedHeaders [, X-Amz-Security-Token] & X-Amz-Signature. The request's
 * headers must be empty (host alone is signed). Appends to *url (the caller owns and wipes it).
 */
void lc_aws_presign_url(lc_buf_t *url, const lc_aws_request_t *r,
                        const lc_aws_credentials_t *c, int expires_s);

/* ---- small helpers ---------------------------------------------------------------------- */

void lc_aws_sha256_hex(const void *p, size_t n, char out[65]);
void lc_aws_hex(const unsigned char *p, size_t n, char *out);   /* 2n digits and a NUL */

/* Appends base64url (RFC 4648 §5) of n bytes, without padding. */
void lc_aws_base64url(lc_buf_t *b, const void *p, size_t n);

/* "YYYYMMDDTHHMMSSZ" for epoch seconds (UTC). */
void lc_aws_amz_date(int64_t epoch_s, char out[17]);

/* Parses an ISO 8601 UTC time as AWS sends expirations: "2024-05-01T12:34:56Z", optional
 * fraction, "Z" or "+00:00". -1 when it is not one. */
int lc_aws_parse_time(const char *s, int64_t *epoch_ms);

/* Wipes n bytes so the compiler cannot drop it (OPENSSL_cleanse). */
void lc_aws_wipe(void *p, size_t n);

/* Wipes a buffer's bytes, then frees it. */
void lc_aws_buf_wipe_free(lc_buf_t *b);

#endif
