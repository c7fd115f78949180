/* main.c - loggen's command line, signal handling and main loop. */
#include "loggen.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs(
"Usage: loggen [OPTIONS]\n"
"Writes JSON server-log records for logclassify and knows the label and reason each must\n"
"get under the default configuration (the test oracle).\n"
"\n"
"Output:\n"
"  -b, --brokers LIST        Kafka bootstrap servers (default 127.0.0.1:9092)\n"
"  -t, --topic NAME          topic to produce to (default server-logs)\n"
"  -X, --property KEY=VALUE  librdkafka producer property, repeatable; overrides loggen's\n"
"                            own (acks=all, enable.idempotence=true, linger.ms=5,\n"
"                            compression.type=lz4, message.max.bytes to fit too_large)\n"
"      --stdout              write records as lines to standard output instead of Kafka\n"
"Records:\n"
"  -n, --count N             records to write (default 1000)\n"
"  -r, --rate R              records per second, 0 = as fast as possible (default 0)\n"
"      --seed N              seed; the same seed and arguments give the same bytes\n"
"                            (records, keys, users files) (default 1)\n"
"      --bad SHARE           share of bad records, 0..1 (default 0.10); they take every\n"
"                            bad reason of the default schema in turn\n"
"      --suspicious SHARE    share of suspicious records, 0..1 (default 0.10), half\n"
"                            device_mismatch, half unknown_account\n"
"      --max-record-bytes N  logclassify's input.max_record_bytes (default 1048576)\n"
"      --too-large N         too_large records (max-record-bytes + 1..100 bytes), counted\n"
"                            in the bad share (default 1 per 100,000 records, at least 1\n"
"                            when --bad > 0 and count >= 1000)\n"
"Users table (accounts 1..N, a device each, a second one for ~5%):\n"
"      --users N             accounts (default 10000)\n"
"      --users-csv FILE      write it as `account,device` lines (pipe mode's --users)\n"
"      --users-sql FILE      write it as SQL: DELETE FROM users, then INSERTs\n"
"Truth:\n"
"      --truth FILE          write the expected counts as JSON:\n"
"                            {\"count\":N,\"labels\":{...},\"reasons\":{...}}\n"
"  -h, --help                this text\n"
"\n"
"The truth is also printed on standard error at the end, with a progress line every second.\n"
"Exit status: 0 every record delivered; 1 a delivery or write failed, or interrupted;\n"
"2 bad usage; 3 Kafka unreachable or the topic missing at start.\n", f);
}

enum long_only {
    OPT_SEED = 256, OPT_USERS, OPT_BAD, OPT_SUSPICIOUS, OPT_MAX_RECORD_BYTES, OPT_TOO_LARGE,
    OPT_USERS_CSV, OPT_USERS_SQL, OPT_STDOUT, OPT_TRUTH,
};

static const struct option LONG_OPTIONS[] = {
    { "brokers", required_argument, NULL, 'b' },
    { "topic", required_argument, NULL, 't' },
    { "count", required_argument, NULL, 'n' },
    { "rate", required_argument, NULL, 'r' },
    { "property", required_argument, NULL, 'X' },
    { "help", no_argument, NULL, 'h' },
    { "seed", required_argument, NULL, OPT_SEED },
    { "users", required_argument, NULL, OPT_USERS },
    { "bad", required_argument, NULL, OPT_BAD },
    { "suspicious", required_argument, NULL, OPT_SUSPICIOUS },
    { "max-record-bytes", required_argument, NULL, OPT_MAX_RECORD_BYTES },
    { "too-large", required_argument, NULL, OPT_TOO_LARGE },
    { "users-csv", required_argument, NULL, OPT_USERS_CSV },
    { "users-sql", required_argument, NULL, OPT_USERS_SQL },
    { "stdout", no_argument, NULL, OPT_STDOUT },
    { "truth", required_argument, NULL, OPT_TRUTH },
    { NULL, 0, NULL, 0 },
};

static int parse_u64(const char *text, uint64_t *out)
{
    char *end;
    if (!*text || *text == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

#define MAX_RECORD_BYTES_LIMIT 999000000ULL   /* librdkafka's message.max.bytes is 1e9 */

/* Checks that need every option. */
static int options_check(const options_t *o, char *errstr, size_t errlen)
{
    if (o->bad_share + o->suspicious_share > 1.0 + 1e-9)
        return lc_err(errstr, errlen, "--bad + --suspicious must not exceed 1");
    if (o->max_record_bytes < 1 || o->max_record_bytes > MAX_RECORD_BYTES_LIMIT)
        return lc_err(errstr, errlen, "--max-record-bytes must be 1..%llu",
                      MAX_RECORD_BYTES_LIMIT);
    if (o->too_large > 0 && (uint64_t)o->too_large > o->count)
        return lc_err(errstr, errlen, "--too-large must not exceed --count");
    if (o->users > UINT64_C(1000000000))
        return lc_err(errstr, errlen, "--users must be at most 1000000000");
    return 0;
}

/* Fills o from argv. Returns 0, 1 after --help, or -1 (errstr says why). */
static int options_parse(options_t *o, int argc, char **argv, char *errstr, size_t errlen)
{
    *o = (options_t){
        .brokers = "127.0.0.1:9092", .topic = "server-logs", .count = 1000, .seed = 1,
        .users = 10000, .bad_share = 0.10, .suspicious_share = 0.10,
        .max_record_bytes = 1048576, .too_large = -1,
    };
    o->properties = lc_xcalloc((size_t)argc, sizeof *o->properties);
    int c;
    uint64_t u;
    while ((c = getopt_long(argc, argv, "b:t:n:r:X:h", LONG_OPTIONS, NULL)) != -1) {
        switch (c) {
        case 'b': o->brokers = optarg; break;
        case 't': o->topic = optarg; break;
        case 'h': usage(stdout); return 1;
        case OPT_USERS_CSV: o->users_csv = optarg; break;
        case OPT_USERS_SQL: o->users_sql = optarg; break;
        case OPT_TRUTH: o->truth_path = optarg; break;
        case OPT_STDOUT: o->to_stdout = true; break;
        case 'n':
            if (parse_u64(optarg, &o->count) < 0)
                return lc_err(errstr, errlen, "--count: not a count: %s", optarg);
            break;
        case 'r':
            if (parse_double(optarg, 0, 1e9, &o->rate) < 0)
                return lc_err(errstr, errlen, "--rate: not a rate: %s", optarg);
            break;
        case 'X':
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return lc_err(errstr, errlen, "-X: expected key=value: %s", optarg);
            o->properties[o->nproperties++] = optarg;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, &o->seed) < 0)
                return lc_err(errstr, errlen, "--seed: not a number: %s", optarg);
            break;
        case OPT_USERS:
            if (parse_u64(optarg, &o->users) < 0)
                return lc_err(errstr, errlen, "--users: not a count: %s", optarg);
            break;
        case OPT_BAD:
            if (parse_double(optarg, 0, 1, &o->bad_share) < 0)
                return lc_err(errstr, errlen, "--bad: not a share 0..1: %s", optarg);
            break;
        case OPT_SUSPICIOUS:
            if (parse_double(optarg, 0, 1, &o->suspicious_share) < 0)
                return lc_err(errstr, errlen, "--suspicious: not a share 0..1: %s", optarg);
            break;
        case OPT_MAX_RECORD_BYTES:
            if (parse_u64(optarg, &o->max_record_bytes) < 0)
                return lc_err(errstr, errlen, "--max-record-bytes: not a size: %s", optarg);
            break;
        case OPT_TOO_LARGE:
            if (parse_u64(optarg, &u) < 0 || u > INT64_MAX)
                return lc_err(errstr, errlen, "--too-large: not a count: %s", optarg);
            o->too_large = (int64_t)u;
            break;
        default:
            return lc_err(errstr, errlen, "see loggen --help");
        }
    }
    if (optind < argc)
        return lc_err(errstr, errlen, "unexpected argument: %s", argv[optind]);
    return options_check(o, errstr, errlen);
}

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Generates and writes every record, pacing to --rate; the truth counts what was written. */
static void produce_all(const options_t *opt, generator_t *g, sink_t *s, truth_t *truth)
{
    record_t rec = { 0 };
    pacer_t pacer;
    progress_t progress;
    progress_init(&progress);
    pacer_init(&pacer, opt->rate);
    for (uint64_t i = 0; i < opt->count && !stop_requested; i++) {
        int64_t wait;
        while ((wait = pacer_wait_us(&pacer)) > 0 && !stop_requested)
            sink_idle(s, (int)((wait + 999) / 1000));
        if (stop_requested)
            break;
        generator_next(g, &rec);
        truth_add(truth, rec.label, rec.reason);
        sink_write(s, &rec);
        sink_idle(s, 0);
        progress_print(&progress, s, opt->count, false);
    }
    /* Every record handed over must be acknowledged (or fail) before the verdict. */
    while (sink_in_flight(s) > 0) {
        sink_idle(s, 200);
        progress_print(&progress, s, opt->count, false);
    }
    if (s->out && fflush(s->out) != 0)
        sink_note_failure(s, strerror(errno));
    progress_print(&progress, s, opt->count, true);
    lc_buf_free(&rec.value);
}

static int write_users_files(const options_t *opt, const users_table_t *users,
                             char *errstr, size_t errlen)
{
    if (opt->users_csv && users_write_csv(users, opt->seed, opt->users_csv, errstr, errlen) < 0)
        return -1;
    if (opt->users_sql && users_write_sql(users, opt->seed, opt->users_sql, errstr, errlen) < 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    char errstr[512];
    options_t opt;
    int rc = options_parse(&opt, argc, argv, errstr, sizeof errstr);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "loggen: %s\n", errstr);
        free(opt.properties);
        return rc > 0 ? 0 : 2;
    }

    users_table_t users = { 0 };
    sink_t sink;
    int exit_code = 1;
    users_generate(&users, opt.users, opt.seed);
    if (write_users_files(&opt, &users, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "loggen: %s\n", errstr);
        goto out;
    }
    rc = sink_open(&sink, &opt, errstr, sizeof errstr);
    if (rc < 0) {
        fprintf(stderr, "loggen: %s\n", errstr);
        exit_code = rc == -2 ? 3 : 2;
        sink_close(&sink);
        goto out;
    }

    install_signal_handlers();
    generator_t gen;
    truth_t truth = { 0 };
    generator_init(&gen, &opt, &users);
    produce_all(&opt, &gen, &sink, &truth);
    generator_free(&gen);

    truth_print(&truth, stderr);
    if (!opt.to_stdout)
        fprintf(stderr, "loggen: delivered %" PRIu64 " of %" PRIu64 ", failed %" PRIu64 "\n",
                sink.delivered, truth.count, sink.failed);
    if (sink.failed)
        fprintf(stderr, "loggen: %" PRIu64 " deliveries failed, the first: %s\n", sink.failed,
                sink.first_error);
    if (stop_requested)
        fprintf(stderr, "loggen: interrupted after %" PRIu64 " records\n", truth.count);
    exit_code = !stop_requested && sink.failed == 0 && sink.delivered == opt.count ? 0 : 1;
    if (opt.truth_path && truth_write_json(&truth, opt.truth_path, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "loggen: %s\n", errstr);
        exit_code = 1;
    }
    sink_close(&sink);
out:
    users_free(&users);
    free(opt.properties);
    return exit_code;
}
