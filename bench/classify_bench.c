/*
 * classify_bench.c - the classifier alone, in-process, over records in memory.
 *
 *   classify_bench -c CONFIG -r RECORDS.jsonl [-u USERS.csv] [--runs R] [--min-time S]
 *                  [--label NAME]
 *
 * Loads RECORDS (loggen --stdout output: one record per line) into one buffer, the users
 * snapshot from the CSV (lc_users_load_csv, as pipe mode does), builds one classifier from
 * CONFIG's classifier options, and classifies the records in a loop on one
 * thread exactly as the pipeline does per record (lc_buf_reset + lc_classify into a reused
 * output buffer). One untimed pass first (warm caches, grown scratch buffers, and the
 * label counts printed for checking against loggen's truth), then R timed runs, each as
 * many whole passes as fit in --min-time seconds (default 1).
 *
 * Per core: records per second of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so
 * time the thread spends descheduled on a shared machine does not count; the wall-clock
 * rate is printed too. Output, one JSON object a line:
 *   {"label":..,"records":..,"bytes":..,"labels":{"good":..,"bad":..,"suspicious":..},
 *    "reasons":{...}}
 *   {"run":1,"records":..,"cpu_s":..,"wall_s":..,"rps_cpu":..,"rps_wall":..,"ns_per_record":..}
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lc_classify.h"
#include "lc_config.h"
#include "lc_users.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct rec {
    const char *data;
    size_t len;
} rec_t;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"config", required_argument, NULL, 'c'},
        {"records", required_argument, NULL, 'r'},
        {"users", required_argument, NULL, 'u'},
        {"runs", required_argument, NULL, 'R'},
        {"min-time", required_argument, NULL, 'm'},
        {"label", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *cfg_path = NULL, *rec_path = NULL, *users_path = NULL, *label = "records";
    int runs = 3, ch;
    double min_time = 1.0;
    while ((ch = getopt_long(argc, argv, "c:r:u:", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': cfg_path = optarg; break;
        case 'r': rec_path = optarg; break;
        case 'u': users_path = optarg; break;
        case 'R': runs = atoi(optarg); break;
        case 'm': min_time = atof(optarg); break;
        case 'l': label = optarg; break;
        default: return 2;
        }
    }
    if (!cfg_path || !rec_path || runs < 1) {
        fprintf(stderr, "usage: classify_bench -c CONFIG -r RECORDS.jsonl [-u USERS.csv] [--runs R] [--min-time S]\n");
        return 2;
    }
    char err[1024];
    lc_config_t *cfg = lc_config_load(cfg_path, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "classify_bench: %s\n", err);
        return 2;
    }
    bool int_keys = cfg->users.int_keys;
    lc_users_t *users = NULL;
    if (users_path) {
        users = lc_users_load_csv(users_path, int_keys, cfg->users.case_insensitive, err, sizeof(err));
        if (!users) {
            fprintf(stderr, "classify_bench: %s\n", err);
            return 2;
        }
    } else {
        users = lc_users_builder_finish(lc_users_builder_new(int_keys, cfg->users.case_insensitive, 0), 0);
    }
    size_t total = 0;
    char *buf = slurp(rec_path, &total);
    if (!buf) {
        fprintf(stderr, "classify_bench: cannot read %s\n", rec_path);
        return 2;
    }
    size_t nrec = 0, cap = 1024;
    rec_t *recs = malloc(cap * sizeof(*recs));
    for (size_t i = 0; i < total;) {
        char *nl = memchr(buf + i, '\n', total - i);
        size_t end = nl ? (size_t)(nl - buf) : total;
        if (end > i) {   /* pipe mode skips blank lines too */
            if (nrec == cap)
                recs = realloc(recs, (cap *= 2) * sizeof(*recs));
            recs[nrec].data = buf + i;
            recs[nrec].len = end - i;
            nrec++;
        }
        i = end + 1;
    }
    if (nrec == 0) {
        fprintf(stderr, "classify_bench: no records in %s\n", rec_path);
        return 2;
    }

    lc_classifier_t *c = lc_classifier_new(&cfg->classify);
    lc_buf_t out = {0};
    lc_verdict_t v;
    size_t nreasons = lc_schema_nreasons(cfg->schema);
    unsigned long long status[LC_STATUS__COUNT] = {0};
    unsigned long long *reasons = calloc(nreasons + 1, sizeof(*reasons));
    size_t out_bytes = 0;
    for (size_t i = 0; i < nrec; i++) {
        lc_buf_reset(&out);
        lc_classify(c, users, recs[i].data, recs[i].len, true, &v, &out);
        out_bytes += out.len;
        status[v.status]++;
        for (size_t r = 0; r < v.nreasons; r++)
            reasons[v.reasons[r]]++;
    }
    printf("{\"label\":\"%s\",\"records\":%zu,\"bytes\":%zu,\"out_bytes\":%zu,\"labels\":{", label,
           nrec, total, out_bytes);
    for (int s = 0; s < LC_STATUS__COUNT; s++)
        printf("%s\"%s\":%llu", s ? "," : "", lc_status_name((lc_status_t)s), status[s]);
    printf("},\"reasons\":{");
    bool first = true;
    for (size_t r = 0; r < nreasons; r++) {
        if (!reasons[r])
            continue;
        printf("%s\"%s\":%llu", first ? "" : ",", lc_schema_reason_name(cfg->schema, r), reasons[r]);
        first = false;
    }
    printf("}}\n");
    fflush(stdout);

    volatile size_t sink = 0;
    for (int run = 1; run <= runs; run++) {
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
        size_t done = 0;
        double cpu;
        do {
            for (size_t i = 0; i < nrec; i++) {
                lc_buf_reset(&out);
                lc_classify(c, users, recs[i].data, recs[i].len, true, &v, &out);
                sink += out.len + v.status;
            }
            done += nrec;
            cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        } while (cpu < min_time);
        double wall = clock_s(CLOCK_MONOTONIC) - w0;
        printf("{\"run\":%d,\"records\":%zu,\"cpu_s\":%.4f,\"wall_s\":%.4f,\"rps_cpu\":%.0f,"
               "\"rps_wall\":%.0f,\"ns_per_record\":%.1f}\n",
               run, done, cpu, wall, (double)done / cpu, (double)done / wall, cpu * 1e9 / (double)done);
        fflush(stdout);
    }
    (void)sink;
    lc_buf_free(&out);
    lc_classifier_free(c);
    lc_users_unref(users);
    free(reasons);
    free(recs);
    free(buf);
    lc_config_free(cfg);
    return 0;
}
