/*
 * latency.c - end-to-end latency consumer.
 *
 *   latency -b BROKERS -t OUTPUT_TOPIC --count N [--input INPUT_TOPIC] [--warmup-s S]
 *           [--timeout S] [--idle-s S] [--raw FILE]
 *
 * Assigns every partition of the output topic at its current high watermark (so it must
 * be started before the records it measures are produced), prints "ready" on standard
 * output, then for each output record computes
 *
 *     latency = wall clock at receipt (CLOCK_REALTIME, µs) - the record's Kafka timestamp
 *
 * logclassify keeps the input record's timestamp on its output (CONTRACT §4), and the input's
 * timestamp is its CreateTime, stamped by the upstream producer (loggen) when it called
 * produce(). So this is "upstream produce() → logclassify output visible to a consumer",
 * including the upstream producer's own batching (linger.ms) and both broker hops. Kafka
 * timestamps are whole milliseconds: every figure carries up to +1 ms of truncation
 * (+0.5 ms on average); all processes share this machine's clock.
 *
 * With --input, the same consumer also reads the input topic, notes when each input record
 * arrived, and matches every output record to its input through the `source` header
 * (topic/partition/offset), which splits the latency in two: upstream (input record's
 * timestamp -> input visible to a consumer: the upstream producer and the broker, nothing
 * of logclassify's) and hop (input visible -> output visible: logclassify's consume,
 * batching, classification, produce and acks, plus the broker's second write).
 *
 * Records whose timestamp is within --warmup-s of the first record's are left out (start-up
 * transients). Stops after N records, when none came for --idle-s (default 10) after the
 * first, or at --timeout. Prints one JSON line (milliseconds):
 *   {"received":..,"measured":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,"p999_ms":..,
 *    "max_ms":..,"mean_ms":..,"span_s":..,"rate":..}
 * and with --input also "hop_p50_ms", "hop_p99_ms", "hop_p999_ms", "up_p50_ms", "up_p99_ms",
 * "up_p999_ms" (hop: input arrival -> output arrival; up: input timestamp -> input arrival).
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

/* A topic read by this consumer: partitions assigned from their high watermark on. For the
 * input topic, the arrival time of every record by (partition, offset - base). */
typedef struct topic {
    const char *name;
    int nparts;
    int64_t *base;
    int64_t **rx;
    size_t *cap;
} topic_t;

static int add_topic(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l, topic_t *tp)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, tp->name, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) || md->topic_cnt != 1 ||
        md->topics[0].err || md->topics[0].partition_cnt <= 0) {
        fprintf(stderr, "latency: no metadata for topic %s\n", tp->name);
        return -1;
    }
    tp->nparts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    tp->base = calloc((size_t)tp->nparts, sizeof(*tp->base));
    tp->rx = calloc((size_t)tp->nparts, sizeof(*tp->rx));
    tp->cap = calloc((size_t)tp->nparts, sizeof(*tp->cap));
    for (int p = 0; p < tp->nparts; p++) {
        int64_t lo_off, hi_off;
        rd_kafka_resp_err_t err;
        /* a topic just created may not answer ListOffsets yet: retry for a while */
        for (int i = 0; (err = rd_kafka_query_watermark_offsets(rk, tp->name, p, &lo_off, &hi_off,
                                                                 5000)) && i < 100; i++)
            nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
        if (err) {
            fprintf(stderr, "latency: cannot read watermarks of %s [%d]: %s\n", tp->name, p,
                    rd_kafka_err2str(err));
            return -1;
        }
        tp->base[p] = hi_off;
        rd_kafka_topic_partition_list_add(l, tp->name, p)->offset = hi_off;
    }
    return 0;
}

static void arrival_set(topic_t *tp, int32_t p, int64_t off, int64_t rx)
{
    if (p < 0 || p >= tp->nparts || off < tp->base[p])
        return;
    size_t i = (size_t)(off - tp->base[p]);
    if (i >= tp->cap[p]) {
        size_t nc = tp->cap[p] ? tp->cap[p] : 65536;
        while (nc <= i)
            nc *= 2;
        int64_t *r = realloc(tp->rx[p], nc * sizeof(*r));
        if (!r)
            abort();
        memset(r + tp->cap[p], 0, (nc - tp->cap[p]) * sizeof(*r));
        tp->rx[p] = r;
        tp->cap[p] = nc;
    }
    tp->rx[p][i] = rx;
}

/* Arrival time of the input record named by the output record's `source` header
 * (<topic>/<partition>/<offset>), 0 when unknown. */
static int64_t source_arrival(const topic_t *tp, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, "source", &v, &len))
        return 0;
    char buf[512];
    if (len >= sizeof(buf))
        return 0;
    memcpy(buf, v, len);
    buf[len] = 0;
    char *slash2 = strrchr(buf, '/');
    if (!slash2)
        return 0;
    *slash2 = 0;
    char *slash1 = strrchr(buf, '/');
    if (!slash1 || strcmp(buf, "") == 0)
        return 0;
    *slash1 = 0;
    if (strcmp(buf, tp->name) != 0)
        return 0;
    int p = atoi(slash1 + 1);
    int64_t off = atoll(slash2 + 1);
    if (p < 0 || p >= tp->nparts || off < tp->base[p])
        return 0;
    size_t i = (size_t)(off - tp->base[p]);
    return i < tp->cap[p] ? tp->rx[p][i] : 0;
}

/* Keeps the values whose timestamp is at least warmup_s after first_ts; returns how many. */
static size_t keep_after(int64_t *v, const int64_t *ts, size_t n, int64_t first_ts, double warmup_s)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if ((double)(ts[i] - first_ts) >= warmup_s * 1000.0)
            v[m++] = v[i];
    return m;
}

/* Sorts v and prints ,"<prefix>p50_ms":.. (p90, p99, p999, max, mean); nothing when n == 0. */
static void print_pcts(const char *prefix, int64_t *v, size_t n)
{
    if (n == 0)
        return;
    qsort(v, n, sizeof(*v), cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i];
    printf(",\"%sp50_ms\":%.3f,\"%sp90_ms\":%.3f,\"%sp99_ms\":%.3f,\"%sp999_ms\":%.3f,"
           "\"%smax_ms\":%.3f,\"%smean_ms\":%.3f",
           prefix, pct(v, n, 50), prefix, pct(v, n, 90), prefix, pct(v, n, 99), prefix,
           pct(v, n, 99.9), prefix, (double)v[n - 1] / 1000.0, prefix, sum / (double)n / 1000.0);
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
        {"input", required_argument, NULL, 'I'},
        {NULL, 0, NULL, 0},
    };
    const char *brokers = "127.0.0.1:9092", *topic = NULL, *raw = NULL, *input = NULL;
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
        case 'I': input = optarg; break;
        default: return 2;
        }
    }
    if (!topic || count <= 0) {
        fprintf(stderr, "usage: latency -b BROKERS -t TOPIC --count N [--input TOPIC] [--warmup-s S] [--timeout S] [--idle-s S] [--raw FILE]\n");
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
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    topic_t out_t = {.name = topic}, in_t = {.name = input};
    if (add_topic(rk, l, &out_t) || (input && add_topic(rk, l, &in_t)))
        return 2;
    if (rd_kafka_assign(rk, l)) {
        fprintf(stderr, "latency: assign failed\n");
        return 2;
    }
    rd_kafka_topic_partition_list_destroy(l);
    printf("ready\n");
    fflush(stdout);

    size_t cap = (size_t)count, n = 0, nh = 0;
    int64_t *lat = malloc(cap * sizeof(*lat));
    int64_t *tss = malloc(cap * sizeof(*tss));
    int64_t *hop = input ? malloc(cap * sizeof(*hop)) : NULL;
    int64_t *up = input ? malloc(cap * sizeof(*up)) : NULL;
    int64_t *hts = input ? malloc(cap * sizeof(*hts)) : NULL;
    if (!lat || !tss || (input && (!hop || !up || !hts))) {
        fprintf(stderr, "latency: out of memory\n");
        return 2;
    }
    int64_t start = wall_us(), last_rx = 0, first_ts = -1, last_ts = 0;
    long long received = 0, bad_ts = 0, unmatched = 0;
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
        if (input && strcmp(rd_kafka_topic_name(m->rkt), input) == 0) {
            arrival_set(&in_t, m->partition, m->offset, rx);
            rd_kafka_message_destroy(m);
            continue;
        }
        rd_kafka_timestamp_type_t tt;
        int64_t ts = rd_kafka_message_timestamp(m, &tt);
        int64_t in_rx = input ? source_arrival(&in_t, m) : 0;
        rd_kafka_message_destroy(m);
        last_rx = rx;
        received++;
        if (ts <= 0 || tt != RD_KAFKA_TIMESTAMP_CREATE_TIME) {
            bad_ts++;
            continue;
        }
        if (first_ts < 0)
            first_ts = ts;
        if (ts > last_ts)
            last_ts = ts;
        lat[n] = rx - ts * 1000;
        tss[n] = ts;
        n++;
        if (input) {
            if (in_rx > 0) {
                hop[nh] = rx - in_rx;
                up[nh] = in_rx - ts * 1000;
                hts[nh] = ts;
                nh++;
            } else {
                unmatched++;
            }
        }
    }
    /* Leave out the warm-up: records stamped within warmup_s of the first one. */
    size_t m = keep_after(lat, tss, n, first_ts, warmup_s);
    size_t mh = input ? keep_after(hop, hts, nh, first_ts, warmup_s) : 0;
    if (input)
        keep_after(up, hts, nh, first_ts, warmup_s);
    if (raw) {
        FILE *f = fopen(raw, "w");
        if (f) {
            for (size_t i = 0; i < m; i++)
                fprintf(f, "%" PRId64 "\n", lat[i]);
            fclose(f);
        }
    }
    double span = n ? (double)(last_ts - first_ts) / 1000.0 : 0;
    printf("{\"received\":%lld,\"measured\":%zu,\"no_create_time\":%lld", received, m, bad_ts);
    print_pcts("", lat, m);
    if (input) {
        printf(",\"matched\":%zu,\"unmatched\":%lld", mh, unmatched);
        print_pcts("hop_", hop, mh);
        print_pcts("up_", up, mh);
    }
    printf(",\"span_s\":%.3f,\"rate\":%.1f}\n", span, span > 0 ? (double)n / span : 0.0);
    free(lat);
    free(tss);
    free(hop);
    free(up);
    free(hts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return received >= count ? 0 : 1;
}
