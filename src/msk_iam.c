/* msk_iam.c - MSK IAM tokens and the librdkafka OAUTHBEARER token refresh callback. */
#include "lc_msk_iam.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_log.h"

struct lc_msk_iam {
    pthread_mutex_t lock;           /* the counters */
    lc_aws_provider_t *provider;
    char *region;
    char *user_agent;
    lc_msk_iam_stats_t stats;
};

bool lc_msk_iam_region_ok(const char *r)
{
    if (!r || !r[0] || strlen(r) > 64)
        return false;
    for (const char *s = r; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return false;
    return true;
}

int lc_msk_iam_token(const lc_aws_credentials_t *creds, const char *region, int64_t now_ms,
                     const char *user_agent, lc_buf_t *token, int64_t *lifetime_ms,
                     char *errstr, size_t errlen)
{
    if (!creds->access_key_id[0] || !creds->secret_access_key[0])
        return lc_err(errstr, errlen, "MSK IAM token: AWS credentials are empty");
    if (!lc_msk_iam_region_ok(region))
        return lc_err(errstr, errlen, "MSK IAM token: region \"%.64s\" is not like eu-west-1",
                      region ? region : "");
    char host[96];
    snprintf(host, sizeof(host), "kafka.%s.amazonaws.com", region);
    const lc_aws_param_t action[] = {{"Action", "kafka-cluster:Connect"}};
    int64_t now_s = now_ms / 1000;
    lc_aws_request_t r = {.method = "GET", .host = host, .path = "/", .query = action,
                          .n_query = 1, .region = region, .service = "kafka-cluster",
                          .time_s = now_s};
    lc_buf_t url = {0};
    lc_aws_presign_url(&url, &r, creds, LC_MSK_IAM_TOKEN_EXPIRES_S);
    /* appended after signing, as the Python signer does (urlencode: quote_plus) */
    const char *ua = user_agent ? user_agent : LC_MSK_IAM_USER_AGENT;
    lc_buf_puts(&url, "&User-Agent=");
    lc_aws_form_encode(&url, ua, strlen(ua));
    lc_aws_base64url(token, url.data, url.len);
    lc_aws_buf_wipe_free(&url);
    int64_t lifetime = (now_s + LC_MSK_IAM_TOKEN_EXPIRES_S) * 1000;
    if (creds->expires_ms && creds->expires_ms < lifetime)
        lifetime = creds->expires_ms;
    *lifetime_ms = lifetime;
    return 0;
}

/* ---- the handle ----------------------------------------------------------------------- */

lc_msk_iam_t *lc_msk_iam_new(const lc_aws_options_t *opt, const char *user_agent,
                             char *errstr, size_t errlen)
{
    if (!lc_msk_iam_region_ok(opt->region)) {
        lc_err(errstr, errlen, "MSK IAM: region \"%.64s\" is not like eu-west-1",
               opt->region ? opt->region : "");
        return NULL;
    }
    lc_aws_provider_t *prov = lc_aws_provider_new(opt, errstr, errlen);
    if (!prov)
        return NULL;
    lc_msk_iam_t *iam = calloc(1, sizeof(*iam));
    if (!iam)
        abort();
    pthread_mutex_init(&iam->lock, NULL);
    iam->provider = prov;
    iam->region = strdup(opt->region);
    iam->user_agent = strdup(user_agent ? user_agent : LC_MSK_IAM_USER_AGENT);
    if (!iam->region || !iam->user_agent)
        abort();
    return iam;
}

void lc_msk_iam_free(lc_msk_iam_t *iam)
{
    if (!iam)
        return;
    lc_aws_provider_free(iam->provider);
    free(iam->region);
    free(iam->user_agent);
    pthread_mutex_destroy(&iam->lock);
    free(iam);
}

void lc_msk_iam_stats(lc_msk_iam_t *iam, lc_msk_iam_stats_t *out)
{
    pthread_mutex_lock(&iam->lock);
    *out = iam->stats;
    pthread_mutex_unlock(&iam->lock);
    out->credential_fetches = lc_aws_provider_fetches(iam->provider);
}

int lc_msk_iam_refresh(lc_msk_iam_t *iam, rd_kafka_t *rk, int64_t now_ms)
{
    lc_aws_credentials_t creds;
    lc_buf_t token = {0};
    int64_t lifetime = 0;
    char why[1024], rkerr[512];
    int rc = lc_aws_provider_get(iam->provider, now_ms, &creds, why, sizeof(why));
    if (rc == 0)
        rc = lc_msk_iam_token(&creds, iam->region, now_ms, iam->user_agent, &token,
                              &lifetime, why, sizeof(why));
    if (rc == 0) {
        lc_buf_putc(&token, '\0');
        /* the principal name is only for librdkafka's own bookkeeping: the broker derives
         * the principal from the signature */
        rd_kafka_resp_err_t err = rd_kafka_oauthbearer_set_token(
            rk, token.data, lifetime, "msk-iam", NULL, 0, rkerr, sizeof(rkerr));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* librdkafka's reasons name the rule broken, not the token */
            snprintf(why, sizeof(why), "librdkafka refused the token: %s", rd_kafka_err2str(err));
            rc = -1;
        }
    }
    bool first = false;
    pthread_mutex_lock(&iam->lock);
    if (rc == 0) {
        char hash[65];
        lc_aws_sha256_hex(token.data, strlen(token.data), hash);
        first = iam->stats.refreshes++ == 0;
        iam->stats.last_lifetime_ms = lifetime;
        snprintf(iam->stats.fingerprint, sizeof(iam->stats.fingerprint), "%.16s", hash);
    } else {
        iam->stats.failures++;
    }
    pthread_mutex_unlock(&iam->lock);
    if (rc == 0) {
        LC_LOG(first ? LC_LOG_INFO : LC_LOG_DEBUG, "msk-iam",
               "new token from %s credentials, valid for %lld s", creds.source,
               (long long)((lifetime - now_ms) / 1000));
    } else {
        LC_ERROR("msk-iam", "no MSK IAM token: %s", why);
        rd_kafka_oauthbearer_set_token_failure(rk, why);
    }
    lc_aws_credentials_wipe(&creds);
    lc_aws_buf_wipe_free(&token);
    return rc;
}

void lc_msk_iam_opaque_refresh_cb(rd_kafka_t *rk, const char *oauthbearer_config, void *opaque)
{
    (void)oauthbearer_config;
    lc_msk_iam_refresh(opaque, rk, lc_wall_ms());
}

int lc_msk_iam_conf_set(rd_kafka_conf_t *conf, lc_msk_iam_refresh_cb_t *refresh_cb,
                        char *errstr, size_t errlen)
{
    char why[512];
    const char *props[][2] = {
        {"security.protocol", "SASL_SSL"},
        {"sasl.mechanism", "OAUTHBEARER"},
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(props); i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], why, sizeof(why)) !=
            RD_KAFKA_CONF_OK)
            return lc_err(errstr, errlen, "kafka property %s: %s", props[i][0], why);
    rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, refresh_cb);
    /* the callback's own queue, for lc_msk_iam_enable_background to hand to the
     * background thread (rd_kafka_poll no longer serves it) */
    rd_kafka_conf_enable_sasl_queue(conf, 1);
    return 0;
}

int lc_msk_iam_enable_background(rd_kafka_t *rk, char *errstr, size_t errlen)
{
    rd_kafka_error_t *e = rd_kafka_sasl_background_callbacks_enable(rk);
    if (!e)
        return 0;
    lc_err(errstr, errlen, "SASL background callbacks: %s", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return -1;
}
