/*
 * latency.c - end-to-end latency consumer.
 *
 *   latency -b BROKERS -t OUTPUT_TOPIC --count N [--warmup-s S] [--timeout S]
 *           [--idle-s S] [--raw FILE]
 *
 * Assigns every partition of the output topic at its current high watermark (so it must
 * be started before the records it measures are produced), prints "ready" on standard
 * output, then for each output record computes
 *
 *     latency = wall clock at receipt (CLOCK_REALTIME, µs) - the record's Kafka timestamp
 *
 * logclassify keeps the input record's timestamp on its output (SPEC §4), and the input's
 * timestamp is its CreateTime, stamped by the upstream producer (loggen) when it called
 * produce(). So this is "upstream produce() → logclassify output visible to a consumer",
 * including the upstream producer's own batching (linger.ms) and both broker hops. Kafka
 * timestamps are whole milliseconds: every figure carries up to +1 ms of truncation
 * (+0.5 ms on average); all processes share this machine's clock.
 *
 * Records whose timestamp is within --warmup-s of the first record's are left out (start-up
 * transients). Stops after N records, when none came for --idle-s (default 10) after the
 * first, or at --timeout. Prints one JSON line (milliseconds):
 *   {"received":..,"measured":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,"p999_ms":..,
 *    "max_ms":..,"mean_ms":..,"span_s":..,"rate":..}
 * Exit status: 0 when N records arrived, 1 otherwise, 2 on usage or Kafka errors.
 */
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return (double)v[rank - 1] / 1000.0;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"count", required_argument, NULL, 'n'},
        {"warmup-s", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 'T'},
        {"idle-s", required_argument, NULL, 'i'},
        {"raw", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *brokers = "127.0.0.1:9092", *topic = NULL, *raw = NULL;
    long long count = -1;
    double warmup_s = 0, timeout_s = 600, idle_s = 10;
    int ch;
    while ((ch = getopt_long(argc, argv, "b:t:n:", lo, NULL)) != -1) {
        switch (ch) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'n': count = atoll(optarg); break;
        case 'w': warmup_s = atof(optarg); break;
        case 'T': timeout_s = atof(optarg); break;
        case 'i': idle_s = atof(optarg); break;
        case 'r': raw = optarg; break;
        default: return 2;
        }
    }
    if (!topic || count <= 0) {
        fprintf(stderr, "usage: latency -b BROKERS -t TOPIC --count N [--warmup-s S] [--timeout S] [--idle-s S] [--raw FILE]\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof(err)) ||
        rd_kafka_conf_set(c, "group.id", "lc-bench-latency", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "socket.nagle.disable", "true", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "fetch.wait.max.ms", "100", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "isolation.level", "read_uncommitted", err, sizeof(err))) {
        fprintf(stderr, "latency: %s\n", err);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "latency: %s\n", err);
        return 2;
    }
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) || md->topic_cnt != 1 ||
        md->topics[0].err || md->topics[0].partition_cnt <= 0) {
        fprintf(stderr, "latency: no metadata for topic %s\n", topic);
        return 2;
    }
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++) {
        int64_t lo_off, hi_off;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo_off, &hi_off, 10000)) {
            fprintf(stderr, "latency: cannot read watermarks of %s [%d]\n", topic, p);
            return 2;
        }
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = hi_off;
    }
    if (rd_kafka_assign(rk, l)) {
        fprintf(stderr, "latency: assign failed\n");
        return 2;
    }
    rd_kafka_topic_partition_list_destroy(l);
    printf("ready\n");
    fflush(stdout);

    size_t cap = (size_t)count, n = 0;
    int64_t *lat = malloc(cap * sizeof(*lat));
    int64_t *tss = malloc(cap * sizeof(*tss));
    if (!lat || !tss) {
        fprintf(stderr, "latency: out of memory\n");
        return 2;
    }
    int64_t start = wall_us(), last_rx = 0, first_ts = -1, last_ts = 0;
    long long received = 0, bad_ts = 0;
    while (!stop && received < count) {
        int64_t now = wall_us();
        if ((double)(now - start) > timeout_s * 1e6)
            break;
        if (last_rx && (double)(now - last_rx) > idle_s * 1e6)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        int64_t rx = wall_us();
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "latency: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        rd_kafka_timestamp_type_t tt;
        int64_t ts = rd_kafka_message_timestamp(m, &tt);
        rd_kafka_message_destroy(m);
        last_rx = rx;
        if (ts <= 0 || tt != RD_KAFKA_TIMESTAMP_CREATE_TIME) {
            bad_ts++;
            received++;
            continue;
        }
        if (first_ts < 0)
            first_ts = ts;
        if (ts > last_ts)
            last_ts = ts;
        lat[n] = rx - ts * 1000;
        tss[n] = ts;
        n++;
        received++;
    }
    /* Leave out the warm-up: records stamped within warmup_s of the first one. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if ((double)(tss[i] - first_ts) >= warmup_s * 1000.0)
            lat[m++] = lat[i];
    if (raw) {
        FILE *f = fopen(raw, "w");
        if (f) {
            for (size_t i = 0; i < m; i++)
                fprintf(f, "%" PRId64 "\n", lat[i]);
            fclose(f);
        }
    }
    qsort(lat, m, sizeof(*lat), cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < m; i++)
        sum += (double)lat[i];
    double span = n ? (double)(last_ts - first_ts) / 1000.0 : 0;
    printf("{\"received\":%lld,\"measured\":%zu,\"no_create_time\":%lld", received, m, bad_ts);
    if (m > 0)
        printf(",\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
               "\"max_ms\":%.3f,\"mean_ms\":%.3f",
               pct(lat, m, 50), pct(lat, m, 90), pct(lat, m, 99), pct(lat, m, 99.9),
               (double)lat[m - 1] / 1000.0, sum / (double)m / 1000.0);
    printf(",\"span_s\":%.3f,\"rate\":%.1f}\n", span, span > 0 ? (double)n / span : 0.0);
    free(lat);
    free(tss);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return received >= count ? 0 : 1;
}
