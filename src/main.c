/*
 * main.c - logclassify's command line: the service, --check-config, pipe mode.
 * Exit statuses (CONTRACT §7): 0 clean stop, 1 failure while running, 2 bad usage or
 * configuration, 3 a dependency (Kafka or MySQL) unreachable at start.
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "lc_config.h"
#include "lc_http.h"
#include "lc_log.h"
#include "lc_metrics.h"
#include "lc_mysql.h"
#include "lc_notify.h"
#include "lc_pipe.h"
#include "lc_pipeline.h"
#include "lc_users_source.h"

/* Set by the signal handler, read by the main loop and the start-up retries: a lock-free
 * atomic is as safe in a handler as a volatile sig_atomic_t, and is ordered across threads. */
static atomic_int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store_explicit(&stop_requested, 1, memory_order_relaxed);
}

typedef struct options {
    const char *config_path;
    const char *users_csv;
    bool check_config;
    bool stdin_mode;
} options_t;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: logclassify -c FILE [--check-config | --stdin [--users FILE.csv]]\n"
            "       logclassify --version | --help\n"
            "\n"
            "Labels server-log records from Kafka topic server-logs as good, bad or suspicious\n"
            "and produces them, tagged, to server-logs-status.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE    the YAML configuration file (required)\n"
            "      --check-config   validate FILE, print the effective configuration (secrets\n"
            "                       masked), exit 0 when valid, 2 when not\n"
            "      --stdin          classify JSON lines from standard input to standard output\n"
            "      --users FILE     with --stdin: users from a CSV file (account,device per line)\n"
            "                       instead of MySQL\n"
            "      --config-reference  print the configuration keys as a Markdown table\n"
            "  -V, --version        print the version\n"
            "  -h, --help           print this help\n"
            "\n"
            "Exit status: 0 clean stop, 1 failure while running, 2 bad usage or configuration,\n"
            "3 Kafka or MySQL unreachable at start. SIGTERM/SIGINT: finish the batch in hand,\n"
            "flush, commit, exit 0.\n"
            "\n"
            "Configuration keys (YAML nesting = dots; values may be ${NAME} or ${NAME:-default}):\n");
    lc_config_describe(out, false);
}

static int parse_args(int argc, char **argv, options_t *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"stdin", no_argument, NULL, 's'},
        {"users", required_argument, NULL, 'u'},
        {"config-reference", no_argument, NULL, 'R'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->config_path = optarg; break;
        case 'k': o->check_config = true; break;
        case 's': o->stdin_mode = true; break;
        case 'u': o->users_csv = optarg; break;
        case 'R':
            lc_config_describe(stdout, true);
            exit(LC_EXIT_OK);
        case 'V':
            printf("logclassify %s (librdkafka %s)\n", LC_VERSION, rd_kafka_version_str());
            exit(LC_EXIT_OK);
        case 'h':
            usage(stdout);
            exit(LC_EXIT_OK);
        default:
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "logclassify: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!o->config_path) {
        fprintf(stderr, "logclassify: -c FILE is required\n");
        return -1;
    }
    if (o->users_csv && !o->stdin_mode) {
        fprintf(stderr, "logclassify: --users goes with --stdin\n");
        return -1;
    }
    if (o->check_config && o->stdin_mode) {
        fprintf(stderr, "logclassify: --check-config and --stdin exclude each other\n");
        return -1;
    }
    return 0;
}

static lc_users_t *mysql_loader(void *ctx, char *errstr, size_t errlen)
{
    return lc_mysql_load_users(ctx, errstr, errlen);
}

static lc_users_source_t *start_users(const lc_config_t *cfg, lc_metrics_t *m, int *exit_code)
{
    char err[1024];
    lc_users_source_t *src = lc_users_source_start(&cfg->users, mysql_loader, (void *)&cfg->mysql,
                                                   m, &stop_requested, err,
                                                   sizeof(err));
    if (!src) {
        fprintf(stderr, "logclassify: %s\n", err);
        *exit_code = atomic_load(&stop_requested) ? LC_EXIT_OK : LC_EXIT_UNAVAILABLE;
    }
    return src;
}

static int run_pipe_mode(const lc_config_t *cfg, const options_t *o)
{
    char err[1024];
    lc_users_t *users = NULL;
    lc_users_source_t *src = NULL;
    int code = LC_EXIT_OK;
    if (o->users_csv) {
        users = lc_users_load_csv(o->users_csv, cfg->users.int_keys, cfg->users.case_insensitive,
                                  err, sizeof(err));
        if (!users) {
            fprintf(stderr, "logclassify: %s\n", err);
            return LC_EXIT_USAGE;
        }
    } else {
        if (!(src = start_users(cfg, NULL, &code)))   /* pipe mode serves no metrics */
            return code;
        users = lc_users_source_acquire(src);
    }
    if (lc_pipe_run(&cfg->classify, users, stdin, stdout, err, sizeof(err)) != 0) {
        fprintf(stderr, "logclassify: %s\n", err);
        code = LC_EXIT_FAILURE;
    }
    lc_users_unref(users);
    lc_users_source_stop(src);
    return code;
}

static void install_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int run_service(const lc_config_t *cfg)
{
    lc_metrics_t *m = lc_metrics_new(cfg->schema, cfg->stats_interval_s);
    lc_notify_t notify;
    lc_notify_init(&notify);
    lc_http_t *http = NULL;
    char err[1024];
    if (cfg->metrics_listen[0]) {
        http = lc_http_start(m, cfg->metrics_listen, err, sizeof(err));
        if (!http) {
            fprintf(stderr, "logclassify: %s\n", err);
            lc_metrics_free(m);
            return LC_EXIT_FAILURE;
        }
        LC_INFO("metrics", "serving /metrics and /healthz on http://%s", cfg->metrics_listen);
    }
    lc_notify_status("loading the users snapshot");
    int code = LC_EXIT_OK;
    lc_users_source_t *src = start_users(cfg, m, &code);
    if (src) {
        lc_notify_status("connecting to kafka");
        lc_pipeline_hooks_t hooks;
        lc_notify_hooks(&notify, &hooks);
        lc_transform_t *classify = lc_transform_classify_new(&cfg->classify, src);
        code = lc_pipeline_run(&cfg->pipeline, &cfg->kafka, classify, m, &hooks,
                               &stop_requested, err, sizeof(err));
        if (code != LC_EXIT_OK)
            fprintf(stderr, "logclassify: %s\n", err);
        lc_transform_classify_free(classify);
        lc_users_source_stop(src);
    }
    lc_http_stop(http);
    lc_metrics_free(m);
    LC_INFO("main", "exit %d", code);
    return code;
}

int main(int argc, char **argv)
{
    options_t o = {0};
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "Try 'logclassify --help'.\n");
        return LC_EXIT_USAGE;
    }
    char err[1024];
    lc_config_t *cfg = lc_config_load(o.config_path, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "logclassify: %s\n", err);
        return LC_EXIT_USAGE;
    }
    if (o.check_config) {
        printf("# %s: configuration is valid; effective values (secrets masked):\n", o.config_path);
        lc_config_dump(cfg, stdout);
        lc_config_free(cfg);
        return LC_EXIT_OK;
    }
    lc_log_set_level(cfg->log_level);
    install_signals();

    int code = o.stdin_mode ? run_pipe_mode(cfg, &o) : run_service(cfg);
    lc_config_free(cfg);
    return code;
}
