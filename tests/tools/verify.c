/*
 * verify.c - the integration tests' judge. Reads the whole input topic and the output topic
 * (read_committed), matches every output record to its input through the `source` header,
 * and checks what CONTRACT §4 promises: one output per input (at least one, or exactly one with
 * --exactly-once), key and timestamp kept, `status` header equal to the value's status, the
 * value being the input's own text with the two members added, valid JSON, and order: the
 * first outputs of the records with one key, read in output order from one output partition,
 * name input offsets that increase (per input partition). With --truth it compares the
 * counts per label and per reason with loggen's truth file.
 *
 * Prints one line: fault=NAME injected=N in=N out=N lost=N duplicated=N mismatched=N
 * misordered=N
 * and exits 0 when everything holds. Independent of the service's code on purpose: it uses
 * only librdkafka and jansson.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct input_rec {
    char *value;          /* NULL for a tombstone */
    size_t len;
    char *key;
    size_t key_len;
    int64_t ts;
    int outputs;          /* output records seen for this input */
} input_rec_t;

typedef struct part_recs {
    input_rec_t *recs;    /* indexed by offset - base */
    int64_t base, count;
} part_recs_t;

static struct {
    const char *brokers, *input, *output, *truth, *fault;
    int injected, timeout_s, max_print;
    bool exactly_once;
    long expect;
} opt = {.brokers = "127.0.0.1:9092", .input = "server-logs", .output = "server-logs-status",
         .fault = "none", .timeout_s = 120, .max_print = 5, .expect = -1};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *msg, const char *detail)
{
    fprintf(stderr, "verify: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static rd_kafka_t *make_consumer(void)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char group[64];
    snprintf(group, sizeof(group), "verify-%ld-%d", (long)time(NULL), rand());
    if (rd_kafka_conf_set(c, "bootstrap.servers", opt.brokers, err, sizeof(err)) ||
        rd_kafka_conf_set(c, "group.id", group, err, sizeof(err)) ||
        rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "isolation.level", "read_committed", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "enable.partition.eof", "true", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "fetch.message.max.bytes", "8388608", err, sizeof(err)))
        die("conf", err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
    if (!rk)
        die("consumer", err);
    return rk;
}

static int partition_count(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, t, &md, 10000))
        die("metadata", topic);
    int n = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return n;
}

/* Assigns every partition of topic from the beginning; returns the partition count. */
static int assign_all(rd_kafka_t *rk, const char *topic)
{
    int n = partition_count(rk, topic);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return n;
}

static char *dup_bytes(const void *p, size_t n)
{
    char *d = malloc(n + 1);
    if (n)
        memcpy(d, p, n);
    d[n] = 0;
    return d;
}

static part_recs_t *read_inputs(int *nparts, long *total)
{
    rd_kafka_t *rk = make_consumer();
    int n = assign_all(rk, opt.input);
    part_recs_t *parts = calloc((size_t)n, sizeof(*parts));
    for (int p = 0; p < n; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, opt.input, p, &lo, &hi, 10000))
            die("watermarks", opt.input);
        parts[p].base = lo;
        parts[p].count = hi - lo;
        parts[p].recs = calloc((size_t)(hi - lo) + 1, sizeof(input_rec_t));
    }
    int eofs = 0;
    long got = 0;
    int64_t deadline = now_ms() + opt.timeout_s * 1000;
    while (eofs < n && now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else if (!m->err) {
            part_recs_t *pr = &parts[m->partition];
            int64_t i = m->offset - pr->base;
            if (i >= 0 && i < pr->count) {
                input_rec_t *r = &pr->recs[i];
                r->value = m->payload ? dup_bytes(m->payload, m->len) : NULL;
                r->len = m->len;
                r->key = m->key ? dup_bytes(m->key, m->key_len) : NULL;
                r->key_len = m->key_len;
                r->ts = rd_kafka_message_timestamp(m, NULL);
                got++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    *nparts = n;
    *total = got;
    return parts;
}

/* A first output of a keyed input, for the order check. */
typedef struct seen {
    const input_rec_t *in;
    int32_t in_partition, out_partition;
    int64_t in_offset, out_offset;
} seen_t;

typedef struct tally {
    json_t *labels;    /* status -> count (first output per input) */
    json_t *reasons;   /* reason -> count */
    long out, lost, duplicated, mismatched, misordered;
    seen_t *seen;
    size_t nseen, seen_cap;
} tally_t;

static void bump(json_t *obj, const char *k)
{
    json_t *v = json_object_get(obj, k);
    json_object_set_new(obj, k, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static void mismatch(tally_t *t, const char *what, const char *source)
{
    if (t->mismatched++ < opt.max_print)
        fprintf(stderr, "verify: mismatch at %s: %s\n", source, what);
}

static bool header(const rd_kafka_message_t *m, const char *name, char *out, size_t cap)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t n;
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &n) || n >= cap)
        return false;
    memcpy(out, v, n);
    out[n] = 0;
    return true;
}

/* The input's text without surrounding white space (JSON white space only). */
static void trim(const char **s, size_t *n)
{
    while (*n && strchr(" \t\r\n", (*s)[0])) { (*s)++; (*n)--; }
    while (*n && strchr(" \t\r\n", (*s)[*n - 1])) (*n)--;
}

/* For an input object: the output must be the input's bytes up to its last '}', then the
 * status and reasons members. Inputs that already had a member named status/reasons are
 * checked only for validity (their key was renamed). */
static void check_splice(tally_t *t, const input_rec_t *in, const char *out, size_t outlen,
                         const char *source)
{
    const char *s = in->value;
    size_t n = in->len;
    trim(&s, &n);
    if (n < 2 || s[0] != '{' || s[n - 1] != '}' || memmem(s, n, "\"status\"", 8) ||
        memmem(s, n, "\"reasons\"", 9))
        return;
    size_t body = n - 1;   /* up to, not including, the closing brace */
    while (body > 1 && strchr(" \t\r\n", s[body - 1]))
        body--;
    if (outlen < body || memcmp(out, s, body) != 0) {
        mismatch(t, "output does not start with the input's own text", source);
        return;
    }
    const char *rest = out + body;
    size_t restlen = outlen - body;
    const char *want = body == 1 ? "\"status\":\"" : ",\"status\":\"";
    /* white space kept before the brace may sit between; skip it */
    while (restlen && strchr(" \t\r\n", *rest)) { rest++; restlen--; }
    if (restlen < strlen(want) || memcmp(rest, want, strlen(want)) != 0)
        mismatch(t, "status is not the first added member", source);
}

static void check_output(tally_t *t, part_recs_t *parts, int nparts, const rd_kafka_message_t *m)
{
    char source[256], status_h[32];
    t->out++;
    if (!header(m, "source", source, sizeof(source))) {
        mismatch(t, "no source header", "?");
        return;
    }
    char topic[200];
    int p;
    long long off;
    if (sscanf(source, "%199[^/]/%d/%lld", topic, &p, &off) != 3 || strcmp(topic, opt.input) ||
        p < 0 || p >= nparts || off < parts[p].base || off >= parts[p].base + parts[p].count) {
        mismatch(t, "source names no input record", source);
        return;
    }
    input_rec_t *in = &parts[p].recs[off - parts[p].base];
    if (in->outputs++ > 0) {
        t->duplicated++;
        return;
    }
    if (in->key) {
        if (t->nseen == t->seen_cap) {
            t->seen_cap = t->seen_cap ? t->seen_cap * 2 : 4096;
            if (!(t->seen = realloc(t->seen, t->seen_cap * sizeof(*t->seen))))
                die("out of memory", NULL);
        }
        t->seen[t->nseen++] = (seen_t){.in = in, .in_partition = p, .in_offset = off,
                                       .out_partition = m->partition, .out_offset = m->offset};
    }
    json_error_t je;
    json_t *v = json_loadb(m->payload, m->len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &je);
    if (!v || !json_is_object(v)) {
        mismatch(t, "output is not a JSON object", source);
        json_decref(v);
        return;
    }
    const char *status = json_string_value(json_object_get(v, "status"));
    json_t *reasons = json_object_get(v, "reasons");
    if (!status || !json_is_array(reasons)) {
        mismatch(t, "no status/reasons members", source);
    } else {
        bump(t->labels, status);
        size_t i;
        json_t *r;
        json_array_foreach(reasons, i, r) bump(t->reasons, json_string_value(r) ? json_string_value(r) : "?");
        if (!header(m, "status", status_h, sizeof(status_h)) || strcmp(status_h, status))
            mismatch(t, "status header differs from the value's status", source);
    }
    if ((in->key_len != m->key_len) || (in->key_len && memcmp(in->key, m->key, m->key_len)))
        mismatch(t, "key not kept", source);
    if (in->ts > 0 && rd_kafka_message_timestamp(m, NULL) != in->ts)
        mismatch(t, "timestamp not kept", source);
    json_t *raw = json_object_get(v, "raw");
    if (raw) {
        /* refused whole: the input must come back as the raw string */
        if (!in->value ? json_string_length(raw) != 0
                       : json_string_length(raw) != in->len ||
                             memcmp(json_string_value(raw), in->value, in->len) != 0)
            mismatch(t, "raw is not the input", source);
    } else if (in->value && !json_object_get(v, "raw_base64") && !json_object_get(v, "raw_bytes")) {
        check_splice(t, in, m->payload, m->len, source);
    }
    json_decref(v);
}

static void read_outputs(tally_t *t, part_recs_t *parts, int nparts, long expected)
{
    rd_kafka_t *rk = make_consumer();
    int n = assign_all(rk, opt.output);
    int64_t deadline = now_ms() + opt.timeout_s * 1000;
    long matched = 0;
    int eofs = 0;
    /* Stop at the end of every partition once every input has an output, or at the deadline. */
    for (;;) {
        if (now_ms() > deadline)
            break;
        if (eofs >= n && matched >= expected)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else if (!m->err) {
            long before = t->duplicated;
            check_output(t, parts, nparts, m);
            if (t->duplicated == before)
                matched++;
            eofs = eofs > 0 ? eofs : 0;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* Orders first outputs by key, then by where they came out. */
static int cmp_seen(const void *a, const void *b)
{
    const seen_t *x = a, *y = b;
    size_t n = x->in->key_len < y->in->key_len ? x->in->key_len : y->in->key_len;
    int c = memcmp(x->in->key, y->in->key, n);
    if (c)
        return c;
    if (x->in->key_len != y->in->key_len)
        return x->in->key_len < y->in->key_len ? -1 : 1;
    if (x->out_partition != y->out_partition)
        return x->out_partition < y->out_partition ? -1 : 1;
    return (x->out_offset > y->out_offset) - (x->out_offset < y->out_offset);
}

/* CONTRACT §4 order: within one key and one output partition, the first outputs of records
 * from one input partition name increasing input offsets. */
static void check_order(tally_t *t)
{
    qsort(t->seen, t->nseen, sizeof(*t->seen), cmp_seen);
    for (size_t i = 1; i < t->nseen; i++) {
        const seen_t *a = &t->seen[i - 1], *b = &t->seen[i];
        if (a->in->key_len != b->in->key_len || memcmp(a->in->key, b->in->key, a->in->key_len) ||
            a->out_partition != b->out_partition || a->in_partition != b->in_partition)
            continue;
        if (b->in_offset < a->in_offset && t->misordered++ < opt.max_print)
            fprintf(stderr, "verify: out of order: %s/%d/%" PRId64 " came out after %s/%d/%" PRId64
                    " (same key, output partition %d)\n", opt.input, b->in_partition, b->in_offset,
                    opt.input, a->in_partition, a->in_offset, b->out_partition);
    }
}

static int compare_truth(const tally_t *t)
{
    json_error_t je;
    json_t *truth = json_load_file(opt.truth, 0, &je);
    if (!truth)
        die("truth file", je.text);
    int diffs = 0;
    const char *sections[] = {"labels", "reasons"};
    json_t *mine[] = {t->labels, t->reasons};
    for (int s = 0; s < 2; s++) {
        json_t *want = json_object_get(truth, sections[s]);
        const char *k;
        json_t *v;
        json_object_foreach(want, k, v) {
            json_int_t got = json_integer_value(json_object_get(mine[s], k));
            if (got != json_integer_value(v)) {
                fprintf(stderr, "verify: %s %s: expected %lld, got %lld\n", sections[s], k,
                        (long long)json_integer_value(v), (long long)got);
                diffs++;
            }
        }
        json_object_foreach(mine[s], k, v) {
            if (!json_object_get(want, k) && json_integer_value(v)) {
                fprintf(stderr, "verify: %s %s: expected 0, got %lld\n", sections[s], k,
                        (long long)json_integer_value(v));
                diffs++;
            }
        }
    }
    json_decref(truth);
    return diffs;
}

static void usage(void)
{
    fprintf(stderr, "usage: lc-verify [-b BROKERS] [--input T] [--output T] [--truth FILE]\n"
                    "       [--exactly-once] [--timeout S] [--fault NAME] [--injected N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"brokers", 1, 0, 'b'}, {"input", 1, 0, 'i'}, {"output", 1, 0, 'o'},
        {"truth", 1, 0, 't'}, {"exactly-once", 0, 0, 'e'}, {"timeout", 1, 0, 'T'},
        {"fault", 1, 0, 'f'}, {"injected", 1, 0, 'n'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "b:", lo, NULL)) != -1) {
        switch (c) {
        case 'b': opt.brokers = optarg; break;
        case 'i': opt.input = optarg; break;
        case 'o': opt.output = optarg; break;
        case 't': opt.truth = optarg; break;
        case 'e': opt.exactly_once = true; break;
        case 'T': opt.timeout_s = atoi(optarg); break;
        case 'f': opt.fault = optarg; break;
        case 'n': opt.injected = atoi(optarg); break;
        default: usage();
        }
    }
    srand((unsigned)now_ms());
    int nparts;
    long in_total;
    part_recs_t *parts = read_inputs(&nparts, &in_total);
    tally_t t = {.labels = json_object(), .reasons = json_object()};
    read_outputs(&t, parts, nparts, in_total);
    for (int p = 0; p < nparts; p++)
        for (int64_t i = 0; i < parts[p].count; i++)
            if (parts[p].recs[i].outputs == 0 && t.lost++ < opt.max_print)
                fprintf(stderr, "verify: lost %s/%d/%" PRId64 "\n", opt.input, p, parts[p].base + i);
    int truth_diffs = opt.truth ? compare_truth(&t) : 0;
    check_order(&t);
    printf("fault=%s injected=%d in=%ld out=%ld lost=%ld duplicated=%ld mismatched=%ld "
           "misordered=%ld\n", opt.fault, opt.injected, in_total, t.out, t.lost, t.duplicated,
           t.mismatched, t.misordered);
    char *labels = json_dumps(t.labels, JSON_SORT_KEYS | JSON_COMPACT);
    printf("labels %s\n", labels);
    free(labels);
    bool ok = t.lost == 0 && t.mismatched == 0 && t.misordered == 0 && truth_diffs == 0 &&
              (!opt.exactly_once || t.duplicated == 0) && in_total > 0;
    for (int p = 0; p < nparts; p++) {
        for (int64_t i = 0; i < parts[p].count; i++) {
            free(parts[p].recs[i].value);
            free(parts[p].recs[i].key);
        }
        free(parts[p].recs);
    }
    free(parts);
    free(t.seen);
    json_decref(t.labels);
    json_decref(t.reasons);
    return ok ? 0 : 1;
}
