/*
 * rebalance.c - how long records stop flowing when an instance joins or leaves the group,
 * and how many come out twice.
 *
 *   rebalance -b BROKERS -t OUTPUT_TOPIC --marks FILE [--seconds S]
 *
 * Assigns every partition of the output topic at its current high watermark, prints
 * "ready", then notes the arrival time (CLOCK_REALTIME, µs) of every output record together
 * with the input partition and offset its `source` header names (<topic>/<partition>/<offset>).
 * It stops on SIGTERM/SIGINT or after S seconds (default 600), then reads FILE: one line per
 * event, "<name> <epoch µs>" (e.g. "join 1764860000000000"), written by the harness when it
 * started or stopped the second instance.
 *
 * For each event, among the arrivals from the event up to the next event (or the end), the
 * longest gap between two consecutive outputs of one input partition (a partition's first
 * gap runs from the event, or from its last output when that came later): `pause_ms`, how
 * long records of that partition stopped flowing, and `resumed_ms`, the time from the event
 * to the end of that gap, when the partition that waited longest flowed again. A partition
 * that flowed before the event and not at all between it and the next event has a gap open
 * until that event (`open`: true; pause_ms is then a lower bound): the harness marks the end
 * of its input ("end") so that a partition still waiting when the input stops is seen. `steady_gap_ms`,
 * the longest gap of any partition before the first event, is what an ordinary moment looks
 * like at the input rate used. `duplicated` counts output records whose input (partition,
 * offset) came out before.
 *
 * Prints one JSON line:
 *   {"received":..,"duplicated":..,"steady_gap_ms":..,
 *    "events":[{"event":"join","pause_ms":..,"resumed_ms":..,"partition":..,"open":false},..]}
 * Exit status: 0, 1 when no record arrived, 2 on usage or Kafka errors.
 */
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
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

/* One output record: when it arrived and which input record it stands for. */
typedef struct arrival {
    int64_t rx_us;
    int32_t partition;
    int64_t offset;
} arrival_t;

typedef struct event {
    char name[32];
    int64_t at_us;
} event_t;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "rebalance: out of memory\n");
        exit(2);
    }
    return p;
}

/* Parses "<topic>/<partition>/<offset>" from the `source` header; 0 on success. */
static int source_of(const rd_kafka_message_t *m, int32_t *partition, int64_t *offset)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;
    char buf[512];
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, "source", &v, &len) ||
        len >= sizeof(buf))
        return -1;
    memcpy(buf, v, len);
    buf[len] = 0;
    char *off = strrchr(buf, '/');
    if (!off)
        return -1;
    *off++ = 0;
    char *part = strrchr(buf, '/');
    if (!part)
        return -1;
    *partition = (int32_t)atoi(part + 1);
    *offset = atoll(off);
    return 0;
}

static int assign_from_end(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) || md->topic_cnt != 1 || md->topics[0].err ||
        md->topics[0].partition_cnt <= 0) {
        fprintf(stderr, "rebalance: no metadata for topic %s\n", topic);
        return -1;
    }
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t err;
        /* a topic created a moment ago may not have its leaders yet */
        for (int tries = 0;; tries++) {
            err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
            if (tries == 50 || (err != RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION &&
                                err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
                                err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART))
                break;
            nanosleep(&(struct timespec){.tv_nsec = 200 * 1000 * 1000}, NULL);
        }
        if (err) {
            fprintf(stderr, "rebalance: watermarks of %s [%d]: %s\n", topic, p, rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = hi;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return err ? -1 : 0;
}

static size_t read_events(const char *path, event_t **out)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    event_t *ev = NULL;
    char line[128];
    while (f && fgets(line, sizeof(line), f)) {
        event_t e;
        if (sscanf(line, "%31s %" SCNd64, e.name, &e.at_us) != 2)
            continue;
        ev = xrealloc(ev, (n + 1) * sizeof(*ev));
        ev[n++] = e;
    }
    if (f)
        fclose(f);
    *out = ev;
    return n;
}

static int by_partition_then_time(const void *a, const void *b)
{
    const arrival_t *x = a, *y = b;
    if (x->partition != y->partition)
        return (x->partition > y->partition) - (x->partition < y->partition);
    return (x->rx_us > y->rx_us) - (x->rx_us < y->rx_us);
}

static int by_source(const void *a, const void *b)
{
    const arrival_t *x = a, *y = b;
    if (x->partition != y->partition)
        return (x->partition > y->partition) - (x->partition < y->partition);
    return (x->offset > y->offset) - (x->offset < y->offset);
}

/* The partition's longest gap that ends in (from, to], a gap starting no earlier than
 * from; its end and length via the pointers (length -1 when no arrival is in the window).
 * closed: `to` is a next event, and a partition that flowed before `from` and has no
 * arrival in the window has a gap from `from` to `to` (*open set). a[0..n) are the
 * partition's arrivals in time order. */
static void longest_gap(const arrival_t *a, size_t n, int64_t from, int64_t to, bool closed,
                        int64_t *end, int64_t *len, bool *open)
{
    *end = 0;
    *len = -1;
    *open = false;
    for (size_t i = 0; i < n; i++) {
        if (a[i].rx_us <= from || a[i].rx_us > to)
            continue;
        int64_t start = i > 0 && a[i - 1].rx_us > from ? a[i - 1].rx_us : from;
        if (a[i].rx_us - start > *len) {
            *len = a[i].rx_us - start;
            *end = a[i].rx_us;
        }
    }
    /* a partition that was flowing before the event and has not come back by `to` */
    if (closed && *len < 0 && n > 0 && a[0].rx_us <= from) {
        *len = to - from;
        *end = to;
        *open = true;
    }
}

static void report(arrival_t *a, size_t n, const event_t *ev, size_t nev, int64_t end_us)
{
    qsort(a, n, sizeof(*a), by_source);
    long long dup = 0;
    for (size_t i = 1; i < n; i++)
        dup += a[i].partition == a[i - 1].partition && a[i].offset == a[i - 1].offset;

    qsort(a, n, sizeof(*a), by_partition_then_time);
    int64_t first_event = nev ? ev[0].at_us : end_us, steady = 0;
    for (size_t i = 1; i < n; i++)
        if (a[i].partition == a[i - 1].partition && a[i].rx_us < first_event &&
            a[i].rx_us - a[i - 1].rx_us > steady)
            steady = a[i].rx_us - a[i - 1].rx_us;

    printf("{\"received\":%zu,\"duplicated\":%lld,\"steady_gap_ms\":%.1f,\"events\":[", n, dup,
           (double)steady / 1000.0);
    for (size_t e = 0; e < nev; e++) {
        int64_t from = ev[e].at_us, to = e + 1 < nev ? ev[e + 1].at_us : end_us;
        int64_t worst_end = from, worst_len = -1;
        int32_t worst = -1;
        bool worst_open = false;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && a[j].partition == a[i].partition)
                j++;
            int64_t gap_end, gap_len;
            bool open;
            longest_gap(a + i, j - i, from, to, e + 1 < nev, &gap_end, &gap_len, &open);
            if (gap_len > worst_len) {
                worst_len = gap_len;
                worst_end = gap_end;
                worst = a[i].partition;
                worst_open = open;
            }
            i = j;
        }
        printf("%s{\"event\":\"%s\",\"pause_ms\":%.1f,\"resumed_ms\":%.1f,\"partition\":%d,"
               "\"open\":%s}",
               e ? "," : "", ev[e].name, (double)(worst_len > 0 ? worst_len : 0) / 1000.0,
               (double)(worst_end - from) / 1000.0, (int)worst, worst_open ? "true" : "false");
    }
    printf("]}\n");
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"marks", required_argument, NULL, 'm'},
        {"seconds", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *brokers = "127.0.0.1:9092", *topic = NULL, *marks = NULL;
    double seconds = 600;
    int ch;
    while ((ch = getopt_long(argc, argv, "b:t:", lo, NULL)) != -1) {
        switch (ch) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'm': marks = optarg; break;
        case 's': seconds = atof(optarg); break;
        default: return 2;
        }
    }
    if (!topic || !marks) {
        fprintf(stderr, "usage: rebalance -b BROKERS -t OUTPUT_TOPIC --marks FILE [--seconds S]\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof(err)) ||
        rd_kafka_conf_set(c, "group.id", "lc-bench-rebalance", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "fetch.wait.max.ms", "10", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "isolation.level", "read_committed", err, sizeof(err))) {
        fprintf(stderr, "rebalance: %s\n", err);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "rebalance: %s\n", err);
        return 2;
    }
    if (assign_from_end(rk, topic))
        return 2;
    printf("ready\n");
    fflush(stdout);

    size_t n = 0, cap = 0;
    arrival_t *a = NULL;
    int64_t deadline = wall_us() + (int64_t)(seconds * 1e6);
    while (!stop && wall_us() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        int64_t rx = wall_us();
        arrival_t r = {.rx_us = rx};
        if (!m->err && source_of(m, &r.partition, &r.offset) == 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 65536;
                a = xrealloc(a, cap * sizeof(*a));
            }
            a[n++] = r;
        }
        rd_kafka_message_destroy(m);
    }
    int64_t end = wall_us();
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);

    event_t *ev;
    size_t nev = read_events(marks, &ev);
    report(a, n, ev, nev, end);
    free(ev);
    free(a);
    return n ? 0 : 1;
}
