/* pacing.c - loggen's pacing to --rate (a token bucket) and its progress lines. */
#include "loggen.h"

#include <inttypes.h>
#include <time.h>

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void pacer_init(pacer_t *p, double rate)
{
    p->rate = rate;
    p->burst = rate / 20 > 1 ? rate / 20 : 1;   /* at most 50 ms worth of records at once */
    p->tokens = 1;
    p->last_us = now_us();
}

int64_t pacer_wait_us(pacer_t *p)
{
    if (p->rate <= 0)
        return 0;
    int64_t now = now_us();
    p->tokens += (double)(now - p->last_us) * p->rate / 1e6;
    if (p->tokens > p->burst)
        p->tokens = p->burst;
    p->last_us = now;
    if (p->tokens >= 1) {
        p->tokens -= 1;
        return 0;
    }
    return (int64_t)((1 - p->tokens) * 1e6 / p->rate) + 1;
}

void progress_init(progress_t *p)
{
    p->start_ms = p->last_ms = lc_now_ms();
    p->last_written = 0;
}

void progress_print(progress_t *p, const sink_t *s, uint64_t total, bool final)
{
    int64_t now = lc_now_ms();
    if (!final && now - p->last_ms < 1000)
        return;
    int64_t since = final ? p->start_ms : p->last_ms;
    uint64_t records = final ? s->written : s->written - p->last_written;
    double seconds = (double)(now - since > 0 ? now - since : 1) / 1000.0;
    double rate = (double)records / seconds;
    fprintf(stderr, "loggen: produced %" PRIu64 "/%" PRIu64 "%s (%.0f/s), delivered %" PRIu64
                    ", errors %" PRIu64 "\n",
            s->written, total, final ? " in total" : "", rate, s->delivered, s->failed);
    p->last_ms = now;
    p->last_written = s->written;
}
