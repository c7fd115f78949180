/* log.c - one event a line on standard error: time, level, component, message. */
#include "lc_log.h"

#include "lc_common.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int lc_log_threshold = LC_LOG_INFO;

const char *const lc_log_level_names[] = {"error", "warn", "info", "debug", NULL};

int lc_log_parse_level(const char *name, lc_log_level_t *out)
{
    for (size_t i = 0; lc_log_level_names[i]; i++) {
        if (strcasecmp(name, lc_log_level_names[i]) == 0) {
            *out = (lc_log_level_t)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = LC_LOG_WARN;
        return 0;
    }
    return -1;
}

bool lc_log_is_secret_name(const char *name)
{
    static const char *const marks[] = {"password", "secret", "sasl.oauthbearer.config",
                                        "ssl.key.pem", "ssl_key", "private"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(marks); i++)
        if (strcasestr(name, marks[i]))
            return true;
    return false;
}

void lc_log_set_level(lc_log_level_t level)
{
    lc_log_threshold = (int)level;
}

void lc_log_write(lc_log_level_t level, const char *component, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One event, one line: a message never breaks the line format. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

    /* A single fprintf per line keeps lines whole across threads (stdio locks the stream). */
    fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", when, ts.tv_nsec / 1000000,
            lc_log_level_names[level], component, msg);
}
