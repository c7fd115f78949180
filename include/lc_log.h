/*
 * lc_log.h - one event a line on standard error. The level is checked before anything is
 * formatted, so a disabled debug line costs one comparison.
 */
#ifndef LC_LOG_H
#define LC_LOG_H

#include <stdbool.h>

typedef enum lc_log_level {
    LC_LOG_ERROR = 0,
    LC_LOG_WARN,
    LC_LOG_INFO,
    LC_LOG_DEBUG,
} lc_log_level_t;

extern int lc_log_threshold;   /* the one process-wide setting: read-mostly */

/* "error", "warn", "info", "debug", NULL: indexed by lc_log_level_t. */
extern const char *const lc_log_level_names[];

/* One of lc_log_level_names (any case) or "warning" into *out: 0; else -1. */
int lc_log_parse_level(const char *name, lc_log_level_t *out);
void lc_log_set_level(lc_log_level_t level);

/* True when a setting or librdkafka property name marks a secret (password, secret,
 * sasl.oauthbearer.config, ssl.key.pem, ...): its value is never logged and is masked
 * wherever configuration is shown. */
bool lc_log_is_secret_name(const char *name);
void lc_log_write(lc_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LC_LOG(level, component, ...)                                   \
    do {                                                                \
        if ((int)(level) <= lc_log_threshold)                           \
            lc_log_write((level), (component), __VA_ARGS__);            \
    } while (0)

#define LC_ERROR(comp, ...) LC_LOG(LC_LOG_ERROR, comp, __VA_ARGS__)
#define LC_WARN(comp, ...)  LC_LOG(LC_LOG_WARN, comp, __VA_ARGS__)
#define LC_INFO(comp, ...)  LC_LOG(LC_LOG_INFO, comp, __VA_ARGS__)
#define LC_DEBUG(comp, ...) LC_LOG(LC_LOG_DEBUG, comp, __VA_ARGS__)

#endif
