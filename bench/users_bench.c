/*
 * users_bench.c - the users snapshot: load time and memory per user, from MySQL/MariaDB.
 *
 *   users_bench -c CONFIG [--table NAME] [--warm-table NAME]
 *
 * Loads the users table with lc_mysql_load_users (the service's own loader and snapshot,
 * mysql.* and users.* from CONFIG; --table overrides users.table) and prints one JSON line:
 *   {"table":..,"accounts":..,"rows":..,"skipped":..,"load_s":..,"memory_bytes":..,
 *    "rss_before_kb":..,"rss_after_kb":..,"hwm_kb":..,"rss_per_user":..,"mem_per_user":..,
 *    "peak_per_user":..,"thp_kb":..}
 * rss_per_user = (VmRSS after - VmRSS before) / accounts, from /proc/self/status, with the
 * snapshot still held; mem_per_user = lc_users_memory_bytes / accounts; peak_per_user =
 * (VmHWM after - VmRSS before) / accounts, the load's transient high-water mark; thp_kb:
 * how much of the process's memory sits in transparent huge pages.
 * --warm-table first loads (and drops) another, small table so that the client library's
 * one-time set-up (TLS context, character sets) is not counted as users' memory.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lc_config.h"
#include "lc_log.h"
#include "lc_mysql.h"
#include "lc_users.h"

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            kb = atol(line + n + 1);
            break;
        }
    fclose(f);
    return kb;
}

/* Anonymous memory in transparent huge pages (kB), from /proc/self/smaps_rollup. */
static long thp_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "AnonHugePages:", 14) == 0) {
            kb = atol(line + 14);
            break;
        }
    fclose(f);
    return kb;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"config", required_argument, NULL, 'c'},
        {"table", required_argument, NULL, 't'},
        {"warm-table", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    const char *cfg_path = NULL, *table = NULL, *warm = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:t:", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': cfg_path = optarg; break;
        case 't': table = optarg; break;
        case 'w': warm = optarg; break;
        default: return 2;
        }
    }
    if (!cfg_path) {
        fprintf(stderr, "usage: users_bench -c CONFIG [--table NAME] [--warm-table NAME]\n");
        return 2;
    }
    char err[1024];
    lc_config_t *cfg = lc_config_load(cfg_path, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "users_bench: %s\n", err);
        return 2;
    }
    lc_log_set_level(LC_LOG_WARN);
    lc_mysql_opts_t mo = cfg->mysql;   /* the configuration's, with --table / --warm-table */
    if (warm) {
        mo.table = warm;
        lc_users_t *u = lc_mysql_load_users(&mo, err, sizeof(err));
        if (!u) {
            fprintf(stderr, "users_bench: warm-up load of %s: %s\n", warm, err);
            return 1;
        }
        lc_users_unref(u);
    }
    mo.table = table ? table : cfg->mysql.table;
    malloc_trim(0);
    long before = status_kb("VmRSS");
    double t0 = now_s();
    lc_users_t *u = lc_mysql_load_users(&mo, err, sizeof(err));
    double secs = now_s() - t0;
    if (!u) {
        fprintf(stderr, "users_bench: load of %s: %s\n", mo.table, err);
        return 1;
    }
    long after = status_kb("VmRSS"), hwm = status_kb("VmHWM");
    size_t accounts = lc_users_accounts(u), mem = lc_users_memory_bytes(u);
    double per = accounts ? 1.0 / (double)accounts : 0;
    printf("{\"table\":\"%s\",\"accounts\":%zu,\"rows\":%zu,\"skipped\":%zu,\"load_s\":%.3f,"
           "\"memory_bytes\":%zu,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,\"hwm_kb\":%ld,"
           "\"rss_per_user\":%.2f,\"mem_per_user\":%.2f,\"peak_per_user\":%.2f,\"thp_kb\":%ld}\n",
           mo.table, accounts, lc_users_rows(u), lc_users_skipped(u), secs, mem, before,
           after, hwm, (double)(after - before) * 1024.0 * per, (double)mem * per,
           (double)(hwm - before) * 1024.0 * per, thp_kb());
    lc_users_unref(u);
    lc_config_free(cfg);
    return 0;
}
