/*
 * lc_notify.h - systemd's notify protocol (Type=notify) through libsystemd's sd_notify:
 * READY=1 once the first users snapshot is loaded and the group joined, WATCHDOG=1 from the
 * main loop at half the WatchdogSec interval, STOPPING=1 at shutdown. Harmless without
 * systemd (NOTIFY_SOCKET unset).
 */
#ifndef LC_NOTIFY_H
#define LC_NOTIFY_H

#include "lc_pipeline.h"

typedef struct lc_notify {
    uint64_t watchdog_usec;      /* 0: no watchdog requested */
    int64_t next_watchdog_ms;
} lc_notify_t;

void lc_notify_init(lc_notify_t *n);
void lc_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Hooks for lc_pipeline_run; ctx must be an lc_notify_t. */
void lc_notify_hooks(lc_notify_t *n, lc_pipeline_hooks_t *hooks);

#endif
