/*
 * passthrough.c - the throughput ceiling: logclassify's Kafka path with zero work.
 *
 *   passthrough -c CONFIG
 *
 * The pipeline itself (lc_pipeline_run, the same loop, clients, delivery mode and commits
 * as logclassify's, from the same configuration file) with a transform that does nothing:
 * each output value is the input value unchanged (empty for a value longer than
 * input.max_record_bytes, which logclassify does not copy either) and every record is
 * `good`. The only thing left out is lc_classify() and the users snapshot.
 *
 * SIGTERM/SIGINT: as logclassify (finish the batch in hand, drain, commit, exit 0).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_config.h"
#include "lc_log.h"
#include "lc_pipeline.h"

static atomic_int stop;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store_explicit(&stop, 1, memory_order_relaxed);
}

/* The no-op classifier: the value as it came, labelled good with no reason. */
static const char *forward(void *ctx, const char *data, size_t len, bool present,
                           lc_verdict_t *v, lc_buf_t *scratch, size_t *out_len)
{
    (void)present, (void)scratch;
    const size_t *max_record_bytes = ctx;
    v->status = LC_STATUS_GOOD;
    v->nreasons = 0;
    v->reasons = NULL;
    /* like logclassify, never forward a too_large value (the output topic would refuse
     * it); every other value goes out unchanged */
    *out_len = len > *max_record_bytes ? 0 : len;
    return data;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: passthrough -c CONFIG\n");
        return 2;
    }
    char err[1024];
    lc_config_t *cfg = lc_config_load(argv[2], err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "passthrough: %s\n", err);
        return 2;
    }
    lc_log_set_level(cfg->log_level);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    lc_metrics_t *m = lc_metrics_new(cfg->schema, 0);
    lc_transform_t noop = {.apply = forward, .ctx = &cfg->classify.max_record_bytes};
    int rc = lc_pipeline_run(&cfg->pipeline, &cfg->kafka, &noop, m, NULL, &stop, err,
                             sizeof(err));
    if (rc != 0)
        fprintf(stderr, "passthrough: %s\n", err);
    lc_metrics_counts_t c;
    lc_metrics_read(m, &c);
    LC_INFO("passthrough", "stopping: %" PRIu64 " records%s", c.records[LC_STATUS_GOOD],
            rc ? " (fatal error)" : "");
    lc_metrics_free(m);
    lc_config_free(cfg);
    return rc;
}
