/*
 * benchctl.c - the benchmark driver's Kafka helper (librdkafka only, no JVM start-up cost):
 *
 *   benchctl [-b BROKERS] create TOPIC PARTITIONS     create a topic (RF 1), wait for leaders
 *   benchctl [-b BROKERS] delete TOPIC...             delete topics (missing ones are fine)
 *   benchctl [-b BROKERS] count TOPIC                 print the sum of the high watermarks
 *   benchctl [-b BROKERS] committed GROUP TOPIC       print the sum of GROUP's committed offsets
 *   benchctl [-b BROKERS] run --output TOPIC --expect N [--group G --input TOPIC]
 *            [--timeout S] [--poll-ms MS] [--child-log FILE] -- COMMAND [ARGS...]
 *
 * `run` starts COMMAND and measures it from just before fork() until all N output records
 * exist, then stops it with SIGTERM (SIGKILL after 60 s) and prints one JSON line:
 *
 *   {"expect":N,"count":N,"wall_s":..,"first_output_s":..,"cpu_s":..,"cpu_user_s":..,
 *    "cpu_sys_s":..,"cpu_total_s":..,"cpu_main_s":..,"cpu_sched_s":..,"runnable_wait_s":..,
 *    "minflt":..,"maxrss_kb":..,"exit":0}
 *
 * "All N output records exist" is decided by polling every --poll-ms (default 20):
 *   - without --group: the sum over the output topic's partitions of the high watermark
 *     reaches N (at_least_once and the passthrough: the idempotent producer writes each
 *     record once, and the topic is fresh, so offsets count records);
 *   - with --group G --input T: the offsets group G has committed on input topic T sum to N
 *     (exactly_once: each transaction commits its input offsets together with its output
 *     records, so this is the moment the last transaction committed; high watermarks would
 *     also count the transaction markers).
 * cpu_s is utime+stime of the child (all its threads) from /proc/PID/stat at that moment;
 * cpu_main_s and cpu_sched_s the main thread's and all threads' run time from
 * /proc/PID/task/ * /schedstat (nanoseconds, the same moment), runnable_wait_s the time its
 * threads waited for a CPU (the machine's contention), minflt its minor page faults;
 * cpu_total_s comes from wait4() and includes the shutdown.
 * Exit status: 0 done, 1 timeout or child died early, 2 usage or Kafka error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *brokers = "127.0.0.1:9092";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "benchctl: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *group)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof(err)) ||
        rd_kafka_conf_set(c, "socket.nagle.disable", "true", err, sizeof(err)) ||
        rd_kafka_conf_set(c, "log_level", "3", err, sizeof(err)) ||
        (group && rd_kafka_conf_set(c, "group.id", group, err, sizeof(err))) ||
        (group && rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err))))
        die("conf: %s", err);
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));
    if (!rk)
        die("client: %s", err);
    return rk;
}

/* Partition count of topic, 0 when absent, -1 on error. */
static int partitions(rd_kafka_t *rk, const char *topic, bool want_leaders)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (rd_kafka_metadata(rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        n = 0;
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            n = md->topics[0].partition_cnt;
            for (int i = 0; want_leaders && i < md->topics[0].partition_cnt; i++)
                if (md->topics[0].partitions[i].leader < 0)
                    n = 0;
        }
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
    return n;
}

static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type)
{
    for (;;) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
        if (!ev)
            die("admin request timed out");
        if (rd_kafka_event_type(ev) == type)
            return ev;
        rd_kafka_event_destroy(ev);
    }
}

static int cmd_create(const char *topic, int nparts)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, NULL);
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, nparts, 1, err, sizeof(err));
    if (!nt)
        die("%s", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(o, 20000, err, sizeof(err));
    rd_kafka_CreateTopics(rk, &nt, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    if (rd_kafka_event_error(ev))
        die("create %s: %s", topic, rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            die("create %s: %s", topic, rd_kafka_topic_result_error_string(res[i]));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    double deadline = now_s() + 30;
    while (partitions(rk, topic, true) != nparts) {
        if (now_s() > deadline)
            die("topic %s not ready with %d partitions after 30 s", topic, nparts);
        usleep(100000);
    }
    rd_kafka_destroy(rk);
    return 0;
}

static int cmd_delete(char **topics, int n)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, NULL);
    rd_kafka_DeleteTopic_t **dt = calloc((size_t)n, sizeof(*dt));
    for (int i = 0; i < n; i++)
        dt[i] = rd_kafka_DeleteTopic_new(topics[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    char err[512];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(o, 20000, err, sizeof(err));
    rd_kafka_DeleteTopics(rk, dt, (size_t)n, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    int rc = 0;
    if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "benchctl: delete: %s\n", rd_kafka_event_error_string(ev));
        rc = 2;
    } else {
        size_t cnt;
        const rd_kafka_topic_result_t **res =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            if (e && e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                fprintf(stderr, "benchctl: delete %s: %s\n", rd_kafka_topic_result_name(res[i]),
                        rd_kafka_topic_result_error_string(res[i]));
                rc = 2;
            }
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteTopic_destroy_array(dt, (size_t)n);
    free(dt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

/* Sum of high watermarks, -1 on error. */
static int64_t hw_sum(rd_kafka_t *rk, const char *topic, int nparts)
{
    int64_t sum = 0;
    for (int p = 0; p < nparts; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
        sum += hi;
    }
    return sum;
}

/* Sum of the group's committed offsets on topic (partitions without a commit count 0). */
static int64_t committed_sum(rd_kafka_t *rk, const char *topic, int nparts)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p);
    int64_t sum = -1;
    if (rd_kafka_committed(rk, l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        sum = 0;
        for (int i = 0; i < l->cnt; i++)
            if (l->elems[i].offset > 0)
                sum += l->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return sum;
}

static int cmd_count(const char *topic)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, NULL);
    int n = partitions(rk, topic, false);
    if (n <= 0)
        die("topic %s: no metadata", topic);
    int64_t s = hw_sum(rk, topic, n);
    if (s < 0)
        die("topic %s: cannot read watermarks", topic);
    printf("%" PRId64 "\n", s);
    rd_kafka_destroy(rk);
    return 0;
}

static int cmd_committed(const char *group, const char *topic)
{
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, group);
    int n = partitions(rk, topic, false);
    if (n <= 0)
        die("topic %s: no metadata", topic);
    int64_t s = committed_sum(rk, topic, n);
    if (s < 0)
        die("group %s: cannot read committed offsets", group);
    printf("%" PRId64 "\n", s);
    rd_kafka_destroy(rk);
    return 0;
}

/* utime+stime of pid in seconds from /proc/PID/stat (all threads), -1 when unreadable. */
static double proc_cpu(pid_t pid, double *user, double *sys)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');   /* comm may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
     * cmajflt utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    *user = (double)ut / hz;
    *sys = (double)st / hz;
    return *user + *sys;
}

/* From /proc/PID/task/ * /schedstat (nanoseconds, user and system together): the CPU time
 * of the main thread (tid == pid) and of all threads, and the time threads were runnable but
 * waiting for a CPU (the machine's contention). 0 when unreadable. */
typedef struct sched_cpu {
    double main_s, all_s, wait_s;
    unsigned long long minflt;
} sched_cpu_t;

static sched_cpu_t proc_sched(pid_t pid)
{
    sched_cpu_t r = {0};
    char path[320];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return r;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        unsigned long long run = 0, wait = 0;
        if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
            r.all_s += (double)run / 1e9;
            r.wait_s += (double)wait / 1e9;
            if (atoi(e->d_name) == (int)pid)
                r.main_s = (double)run / 1e9;
        }
        fclose(f);
    }
    closedir(d);
    char buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (p)
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu", &r.minflt);
    }
    return r;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option lo[] = {
        {"output", required_argument, NULL, 'o'},
        {"expect", required_argument, NULL, 'n'},
        {"group", required_argument, NULL, 'g'},
        {"input", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 't'},
        {"poll-ms", required_argument, NULL, 'p'},
        {"child-log", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *out_topic = NULL, *group = NULL, *in_topic = NULL, *child_log = NULL;
    long long expect = -1;
    double timeout = 600;
    int poll_ms = 20, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
        switch (ch) {
        case 'o': out_topic = optarg; break;
        case 'n': expect = atoll(optarg); break;
        case 'g': group = optarg; break;
        case 'i': in_topic = optarg; break;
        case 't': timeout = atof(optarg); break;
        case 'p': poll_ms = atoi(optarg); break;
        case 'l': child_log = optarg; break;
        default: die("run: bad option");
        }
    }
    if (!out_topic || expect < 0 || optind >= argc || (group && !in_topic))
        die("usage: run --output TOPIC --expect N [--group G --input T] [--timeout S] -- CMD...");
    char **cmd = argv + optind;

    rd_kafka_t *rk = client(group ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, group);
    const char *watch = group ? in_topic : out_topic;
    int nparts = partitions(rk, watch, true);
    if (nparts <= 0)
        die("topic %s: no metadata", watch);
    if (!group) {
        int64_t have = -1;
        for (int i = 0; i < 100 && (have = hw_sum(rk, out_topic, nparts)) < 0; i++)
            usleep(100000);   /* a topic just created may not answer ListOffsets yet */
        if (have != 0)
            die("output topic %s is %s", out_topic, have < 0 ? "unreadable" : "not empty");
    }

    fflush(NULL);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        if (child_log) {
            int fd = open(child_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0)
                _exit(127);
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(cmd[0], cmd);
        fprintf(stderr, "benchctl: exec %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    double first = -1, done = -1, cpu = -1, cu = 0, cs = 0;
    sched_cpu_t sched = {0};
    int64_t count = 0;
    int status = 0;
    bool exited = false;
    while (now_s() - t0 < timeout) {
        int64_t c = group ? committed_sum(rk, in_topic, nparts) : hw_sum(rk, out_topic, nparts);
        double t = now_s();
        if (c > 0 && first < 0)
            first = t - t0;
        if (c >= 0)
            count = c;
        if (c >= expect) {
            done = t - t0;
            cpu = proc_cpu(pid, &cu, &cs);
            sched = proc_sched(pid);
            break;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            break;
        }
        usleep((useconds_t)poll_ms * 1000);
    }
    struct rusage ru = {0};
    if (!exited) {
        kill(pid, SIGTERM);
        double deadline = now_s() + 60;
        for (;;) {
            pid_t r = wait4(pid, &status, WNOHANG, &ru);
            if (r == pid)
                break;
            if (now_s() > deadline) {
                kill(pid, SIGKILL);
                wait4(pid, &status, 0, &ru);
                break;
            }
            usleep(20000);
        }
    } else {
        getrusage(RUSAGE_CHILDREN, &ru);
    }
    double total = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("{\"expect\":%lld,\"count\":%" PRId64 ",\"wall_s\":%.4f,\"first_output_s\":%.4f,"
           "\"cpu_s\":%.3f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"cpu_total_s\":%.3f,"
           "\"cpu_main_s\":%.4f,\"cpu_sched_s\":%.4f,\"runnable_wait_s\":%.4f,"
           "\"minflt\":%llu,\"maxrss_kb\":%ld,\"exit\":%d,\"done\":%s}\n",
           expect, count, done, first, cpu, cu, cs, total, sched.main_s, sched.all_s,
           sched.wait_s, sched.minflt, ru.ru_maxrss, code, done >= 0 ? "true" : "false");
    rd_kafka_destroy(rk);
    if (done < 0) {
        fprintf(stderr, "benchctl: %s after %.1f s with %" PRId64 " of %lld records\n",
                exited ? "child exited" : "timed out", now_s() - t0, count, expect);
        return 1;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: benchctl [-b BROKERS] create TOPIC PARTITIONS\n"
            "       benchctl [-b BROKERS] delete TOPIC...\n"
            "       benchctl [-b BROKERS] count TOPIC\n"
            "       benchctl [-b BROKERS] committed GROUP TOPIC\n"
            "       benchctl [-b BROKERS] run --output TOPIC --expect N [--group G --input TOPIC]\n"
            "                [--timeout S] [--poll-ms MS] [--child-log FILE] -- COMMAND [ARGS...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-b") == 0) {
        brokers = argv[i + 1];
        i += 2;
    }
    if (i >= argc)
        usage();
    const char *cmd = argv[i];
    if (strcmp(cmd, "create") == 0 && argc - i == 3)
        return cmd_create(argv[i + 1], atoi(argv[i + 2]));
    if (strcmp(cmd, "delete") == 0 && argc - i >= 2)
        return cmd_delete(argv + i + 1, argc - i - 1);
    if (strcmp(cmd, "count") == 0 && argc - i == 2)
        return cmd_count(argv[i + 1]);
    if (strcmp(cmd, "committed") == 0 && argc - i == 3)
        return cmd_committed(argv[i + 1], argv[i + 2]);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - i, argv + i);
    usage();
}
