/*
 * lc_log.h - one event a line on standard error. The level is checked before anything is
 * formatted, so a disabled debug line costs one comparison.
 */
#ifndef LC_LOG_H
#define LC_LOG_H

typedef enum lc_log_level {
    LC_LOG_ERROR = 0,
    LC_LOG_WARN,
    LC_LOG_INFO,
    LC_LOG_DEBUG,
} lc_log_level_t;

extern int lc_log_threshold;   /* the one process-wide setting: read-mostly */

int lc_log_parse_level(const char *name, lc_log_level_t *out);
void lc_log_set_level(lc_log_level_t level);
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
