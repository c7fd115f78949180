/* aws_provider.c - credentials cached in front of the chain and the optional AssumeRole,
 * renewed `refresh_margin_s` before they expire. One mutex: a renewal (HTTP) happens once,
 * whichever thread asks. */
#include "lc_aws.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lc_log.h"

struct lc_aws_provider {
    pthread_mutex_t lock;
    lc_aws_options_t opt;           /* strings below are the provider's own copies */
    char *strings[7];
    int margin_s;
    bool have;                      /* `creds` holds the last good credentials */
    lc_aws_credentials_t creds;     /* what callers get (the role's, with a role) */
    bool have_source;
    lc_aws_credentials_t source;    /* the chain's, with a role */
    atomic_uint fetches;            /* read without the lock, which a renewal holds for
                                     * the length of its HTTP calls */
};

static const char *keep(lc_aws_provider_t *p, int i, const char *s)
{
    if (!s || !s[0])
        return NULL;
    p->strings[i] = strdup(s);
    if (!p->strings[i])
        abort();
    return p->strings[i];
}

lc_aws_provider_t *lc_aws_provider_new(const lc_aws_options_t *opt, char *errstr, size_t errlen)
{
    if (opt->role_arn && opt->role_arn[0] && (!opt->region || !opt->region[0])) {
        lc_err(errstr, errlen, "aws: a role needs a region (for STS)");
        return NULL;
    }
    if (opt->refresh_margin_s < 0) {
        lc_err(errstr, errlen, "aws: refresh margin must not be negative");
        return NULL;
    }
    lc_aws_provider_t *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    pthread_mutex_init(&p->lock, NULL);
    p->opt.region = keep(p, 0, opt->region);
    p->opt.profile = keep(p, 1, opt->profile);
    p->opt.role_arn = keep(p, 2, opt->role_arn);
    p->opt.role_session_name = keep(p, 3, opt->role_session_name ? opt->role_session_name
                                                                  : "logclassify");
    p->opt.sts_endpoint = keep(p, 4, opt->sts_endpoint);
    p->opt.ecs_endpoint = keep(p, 5, opt->ecs_endpoint);
    p->opt.imds_endpoint = keep(p, 6, opt->imds_endpoint);
    p->margin_s = opt->refresh_margin_s ? opt->refresh_margin_s : LC_AWS_REFRESH_MARGIN_S;
    p->opt.refresh_margin_s = p->margin_s;
    return p;
}

static void log_fetch(const lc_aws_credentials_t *c, int64_t now_ms)
{
    if (c->expires_ms)
        LC_INFO("aws", "credentials from %s, valid for %lld s", c->source,
                (long long)((c->expires_ms - now_ms) / 1000));
    else
        LC_INFO("aws", "credentials from %s", c->source);
}

/* New credentials into p->creds (and p->source). Called with the lock held. */
static int fetch(lc_aws_provider_t *p, int64_t now_ms, char *errstr, size_t errlen)
{
    lc_aws_credentials_t got;
    int rc;
    if (!p->opt.role_arn) {
        rc = lc_aws_chain_resolve(&p->opt, &got, errstr, errlen);
    } else {
        if (!p->have_source || !lc_aws_credentials_fresh(&p->source, now_ms, p->margin_s)) {
            if (lc_aws_chain_resolve(&p->opt, &got, errstr, errlen) != 0) {
                lc_aws_credentials_wipe(&got);
                return -1;
            }
            log_fetch(&got, now_ms);
            p->source = got;
            p->have_source = true;
        }
        rc = lc_aws_sts_assume_role(&p->source, p->opt.region, p->opt.sts_endpoint,
                                    p->opt.role_arn, p->opt.role_session_name, now_ms, &got,
                                    errstr, errlen);
    }
    if (rc == 0) {
        log_fetch(&got, now_ms);
        p->creds = got;
        p->have = true;
        atomic_fetch_add(&p->fetches, 1);
    }
    lc_aws_credentials_wipe(&got);
    return rc;
}

int lc_aws_provider_get(lc_aws_provider_t *p, int64_t now_ms, lc_aws_credentials_t *out,
                        char *errstr, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    if (!p->have || !lc_aws_credentials_fresh(&p->creds, now_ms, p->margin_s)) {
        char why[1024];
        if (fetch(p, now_ms, why, sizeof(why)) != 0) {
            if (p->have && lc_aws_credentials_fresh(&p->creds, now_ms, 0)) {
                /* renewal failed early: the old ones still work for a while */
                LC_WARN("aws", "renewing credentials failed, using those from %s for up to "
                        "%lld s more: %s", p->creds.source,
                        (long long)((p->creds.expires_ms - now_ms) / 1000), why);
            } else {
                rc = lc_err(errstr, errlen, "%s", why);
            }
        }
    }
    if (rc == 0)
        *out = p->creds;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

unsigned lc_aws_provider_fetches(lc_aws_provider_t *p)
{
    return atomic_load(&p->fetches);
}

void lc_aws_provider_free(lc_aws_provider_t *p)
{
    if (!p)
        return;
    lc_aws_credentials_wipe(&p->creds);
    lc_aws_credentials_wipe(&p->source);
    for (size_t i = 0; i < LC_ARRAY_SIZE(p->strings); i++)
        free(p->strings[i]);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
