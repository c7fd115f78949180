/*
 * lc_msk_iam.h - Amazon MSK IAM access control for librdkafka: SASL/OAUTHBEARER with MSK's
 * token, a SigV4-presigned request for the kafka-cluster:Connect action made from AWS
 * credentials (lc_aws.h), refreshed by librdkafka's token refresh callback before it
 * expires.
 *
 * Use (librdkafka calls the token refresh callback with the client's opaque, which belongs to
 * the application: the callback finds its lc_msk_iam_t from there, so no table of handles
 * is kept):
 *     lc_msk_iam_t *iam = lc_msk_iam_new(&aws_options, NULL, errstr, sizeof(errstr));
 *     rd_kafka_conf_set_opaque(conf, app);                       // app leads to iam
 *     lc_msk_iam_conf_set(conf, app_refresh_cb, errstr, sizeof(errstr));
 *     rk = rd_kafka_new(type, conf, ...);
 *     lc_msk_iam_enable_background(rk, errstr, sizeof(errstr));  // refresh off the poll loop
 *     ...
 *     rd_kafka_destroy(rk);
 *     lc_msk_iam_free(iam);                                      // after every client
 * where app_refresh_cb(rk, config, opaque) calls lc_msk_iam_refresh(<iam of opaque>, rk,
 * lc_wall_ms()). A client whose opaque is the lc_msk_iam_t itself passes
 * lc_msk_iam_opaque_refresh_cb.
 *
 * Neither the token nor any credential is ever logged or put in an error string.
 */
#ifndef LC_MSK_IAM_H
#define LC_MSK_IAM_H

#include <librdkafka/rdkafka.h>

#include "lc_aws.h"

#define LC_MSK_IAM_TOKEN_EXPIRES_S 900      /* X-Amz-Expires of the signed request */
#define LC_MSK_IAM_USER_AGENT "logclassify/" LC_VERSION

/*
 * MSK's token for `region` at now_ms (wall clock): the presigned URL
 *   https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=...
 *   ...&X-Amz-Signature=<sig>&User-Agent=<user_agent, form-encoded>
 * (service kafka-cluster, X-Amz-Expires 900, signed header host, the session token when
 * there is one), base64url-encoded without padding: byte for byte what AWS's Python signer
 * (aws-msk-iam-sasl-signer-python) makes from the same inputs. Appends it to *token (the
 * caller wipes it: lc_aws_buf_wipe_free). *lifetime_ms is when it stops being usable, in
 * wall-clock ms since the epoch (what librdkafka wants): the signing time + 900 s, or the
 * credentials' expiry when that is earlier. -1 with errstr on empty keys or a bad region.
 */
int lc_msk_iam_token(const lc_aws_credentials_t *creds, const char *region, int64_t now_ms,
                     const char *user_agent, lc_buf_t *token, int64_t *lifetime_ms,
                     char *errstr, size_t errlen);

/* A token maker for librdkafka clients: options (region required), a credential provider,
 * counters. Thread-safe. */
typedef struct lc_msk_iam lc_msk_iam_t;

/* user_agent NULL: LC_MSK_IAM_USER_AGENT. NULL with errstr on bad options. The caller owns
 * the result; lc_msk_iam_free after the last client that uses it is destroyed. */
lc_msk_iam_t *lc_msk_iam_new(const lc_aws_options_t *opt, const char *user_agent,
                             char *errstr, size_t errlen);
void lc_msk_iam_free(lc_msk_iam_t *iam);

/* librdkafka's OAUTHBEARER token refresh callback (rd_kafka_conf_set_oauthbearer_token_refresh_cb):
 * opaque is the client's (rd_kafka_conf_set_opaque). */
typedef void lc_msk_iam_refresh_cb_t(rd_kafka_t *rk, const char *oauthbearer_config, void *opaque);

/*
 * Switches a client configuration to MSK IAM: security.protocol=SASL_SSL,
 * sasl.mechanism=OAUTHBEARER, and refresh_cb as the token refresh callback, on a SASL queue
 * of its own. refresh_cb finds the client's lc_msk_iam_t from its opaque and calls
 * lc_msk_iam_refresh. -1 with errstr when librdkafka refuses a property. The client made
 * from `conf` must then get lc_msk_iam_enable_background: nothing else serves that queue.
 */
int lc_msk_iam_conf_set(rd_kafka_conf_t *conf, lc_msk_iam_refresh_cb_t *refresh_cb,
                        char *errstr, size_t errlen);

/* The refresh callback for a client whose opaque is its lc_msk_iam_t (test tools). */
void lc_msk_iam_opaque_refresh_cb(rd_kafka_t *rk, const char *oauthbearer_config, void *opaque);

/* True when `region` looks like an AWS region name ("eu-west-1": lower-case letters, digits
 * and '-', at most 64 characters): what lc_msk_iam_new and lc_msk_iam_token accept. */
bool lc_msk_iam_region_ok(const char *region);

/*
 * Required after rd_kafka_new for a client configured by lc_msk_iam_conf_set: serves the
 * refresh callback on librdkafka's background thread
 * (rd_kafka_sasl_background_callbacks_enable, librdkafka >= 1.9), so that fetching
 * credentials (IMDS, ECS, STS: HTTP with timeouts of seconds) never holds up the poll loop,
 * and the first token is there before the application polls. Call right after rd_kafka_new.
 */
int lc_msk_iam_enable_background(rd_kafka_t *rk, char *errstr, size_t errlen);

/*
 * One refresh as the callback does it: credentials from the provider at now_ms, a token,
 * rd_kafka_oauthbearer_set_token (or _set_token_failure with the reason). 0 on success.
 */
int lc_msk_iam_refresh(lc_msk_iam_t *iam, rd_kafka_t *rk, int64_t now_ms);

/* Counters for tests and metrics; fingerprint is the first 16 hex digits of the last
 * token's SHA-256 ("" before the first), enough to tell tokens apart without showing one. */
typedef struct lc_msk_iam_stats {
    unsigned refreshes;         /* tokens handed to librdkafka */
    unsigned failures;          /* refreshes that failed */
    unsigned credential_fetches;
    int64_t last_lifetime_ms;
    char fingerprint[17];
} lc_msk_iam_stats_t;

void lc_msk_iam_stats(lc_msk_iam_t *iam, lc_msk_iam_stats_t *out);

#endif
