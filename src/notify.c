/* notify.c - systemd notify protocol via sd_notify. */
#include "lc_notify.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "lc_log.h"

void lc_notify_init(lc_notify_t *n)
{
    n->watchdog_usec = 0;
    n->next_watchdog_ms = 0;
    if (sd_watchdog_enabled(0, &n->watchdog_usec) <= 0)
        n->watchdog_usec = 0;
}

void lc_notify_status(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sd_notifyf(0, "STATUS=%s", msg);
}

static void on_ready(void *ctx)
{
    (void)ctx;
    sd_notify(0, "READY=1\nSTATUS=consuming");
}

static void on_tick(void *ctx)
{
    lc_notify_t *n = ctx;
    if (!n->watchdog_usec)
        return;
    int64_t now = lc_now_ms();
    if (now < n->next_watchdog_ms)
        return;
    sd_notify(0, "WATCHDOG=1");
    n->next_watchdog_ms = now + (int64_t)(n->watchdog_usec / 2000);
}

static void on_stopping(void *ctx)
{
    (void)ctx;
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: finishing the batch in hand");
}

void lc_notify_hooks(lc_notify_t *n, lc_pipeline_hooks_t *hooks)
{
    hooks->ready = on_ready;
    hooks->tick = on_tick;
    hooks->stopping = on_stopping;
    hooks->ctx = n;
}
