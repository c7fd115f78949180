/*
 * test_mock_faults.c - the delivery promises of CONTRACT §6 under faults a real broker will not
 * produce on demand, injected with librdkafka's mock cluster (rdkafka_mock.h). This is the
 * MOCK cluster, an addition to the real-broker fault suite in tests/integration/, not a
 * replacement. The real pipeline (lc_pipeline_run) runs in a thread against it.
 *
 *  - a produce error that will not heal (TOPIC_AUTHORIZATION_FAILED): exit 1, and no input
 *    offset is committed past the failed record; a restart then delivers everything;
 *  - offset commit failures (at_least_once): the service keeps going, and a later commit
 *    covers the failed one;
 *  - transaction coordinator errors (exactly_once): retriable and abortable errors on
 *    EndTxn / AddPartitionsToTxn are survived; a fenced producer exits 1.
 *
 * The mock cluster acknowledges transactional offset commits without storing them (the
 * pinned librdkafka 2.15.1's as 2.0.2's; 2.0.2's also hands aborted records to
 * read_committed readers, 2.15.1's filters them), so exactly-once exactness across restarts
 * is judged against the real broker (tests/integration/test_fault_*_eos.sh); here the
 * exactly_once tests check that errors are survived or fatal as promised, that only
 * committed transactions are counted, and that a read_committed reader sees each record once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_config.h"
#include "lc_log.h"
#include "lc_pipeline.h"
#include "lc_users_source.h"

/* Kafka protocol API keys (public protocol numbers; librdkafka keeps its names internal). */
enum { API_PRODUCE = 0, API_OFFSET_COMMIT = 8, API_ADD_PARTITIONS_TO_TXN = 24, API_END_TXN = 26 };

#define NRECORDS 400
static const char *IN = "in", *OUT = "out";

typedef struct fixture {
    rd_kafka_t *admin;             /* owns the mock cluster */
    rd_kafka_mock_cluster_t *mc;
    char brokers[256];
    lc_config_t *cfg;
    lc_metrics_t *metrics;
    lc_users_source_t *users;
    lc_transform_t *classify;
    atomic_int stop;
    atomic_int exit_code;   /* written by the pipeline thread, read by the test */
    char err[512];
    pthread_t thread;
} fixture_t;

static lc_users_t *fake_users(void *ctx, char *errstr, size_t errlen)
{
    (void)ctx; (void)errstr; (void)errlen;
    lc_users_builder_t *b = lc_users_builder_new(true, true, 4);
    lc_users_builder_add(b, "1", 1, "ANDROID", 7);
    return lc_users_builder_finish(b, lc_wall_ms());
}

static void produce_inputs(fixture_t *f)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", f->brokers, err, sizeof(err));
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
    for (int i = 0; i < NRECORDS; i++) {
        char v[200];
        int n = snprintf(v, sizeof(v),
                         "{\"event_id\":\"e%d\",\"account_id\":\"1\",\"event_type\":\"x\","
                         "\"device\":\"%s\",\"location_country\":\"FR\",\"event_timestamp\":\"1\"}",
                         i, i % 2 ? "ANDROID" : "IOS");
        rd_kafka_producev(p, RD_KAFKA_V_TOPIC(IN), RD_KAFKA_V_PARTITION(i % 2),
                          RD_KAFKA_V_VALUE(v, (size_t)n), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END);
    }
    assert_int_equal(rd_kafka_flush(p, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(p);
}

/* batch.commit_interval_ms for the next fixture_setup (0: commit after every batch). */
static int commit_interval_ms;
/* The producer's queue.buffering.max.messages for the next fixture_setup (0: default). */
static int producer_queue_max;

static void fixture_setup(fixture_t *f, const char *delivery)
{
    memset(f, 0, sizeof(*f));
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "test.mock.num.brokers", "1", err, sizeof(err));
    f->admin = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
    assert_non_null(f->admin);
    f->mc = rd_kafka_handle_mock_cluster(f->admin);
    assert_non_null(f->mc);
    snprintf(f->brokers, sizeof(f->brokers), "%s", rd_kafka_mock_cluster_bootstraps(f->mc));
    assert_int_equal(rd_kafka_mock_topic_create(f->mc, IN, 2, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(f->mc, OUT, 2, 1), 0);
    produce_inputs(f);

    char queue_max[64] = "";
    if (producer_queue_max > 0)
        snprintf(queue_max, sizeof(queue_max), "    queue.buffering.max.messages: \"%d\"\n",
                 producer_queue_max);
    char yaml[1024];
    snprintf(yaml, sizeof(yaml),
             "kafka:\n  brokers: \"%s\"\n  group_id: g\n  input_topic: %s\n  output_topic: %s\n"
             "  transactional_id: tx1\n  startup_timeout_s: 10\n"
             "  producer:\n    message.timeout.ms: \"5000\"\n    retry.backoff.ms: \"50\"\n%s"
             "  consumer:\n    session.timeout.ms: \"6000\"\n    heartbeat.interval.ms: \"500\"\n"
             "delivery: %s\nbatch:\n  max_records: 50\n  max_wait_ms: 20\n"
             "  commit_interval_ms: %d\n"
             "metrics:\n  listen: \"\"\nlog:\n  level: info\n  stats_interval_s: 0\n",
             f->brokers, IN, OUT, queue_max, delivery, commit_interval_ms);
    f->cfg = lc_config_load_string(yaml, "mock.yaml", err, sizeof(err));
    if (!f->cfg)
        fail_msg("config: %s", err);
    f->metrics = lc_metrics_new(f->cfg->schema, 0);
    lc_users_source_opts_t ro = {.refresh_interval_s = 3600, .startup_timeout_s = 1,
                                 .int_keys = true, .case_insensitive = true};
    f->users = lc_users_source_start(&ro, fake_users, NULL, f->metrics, NULL, err, sizeof(err));
    assert_non_null(f->users);
    f->classify = lc_transform_classify_new(&f->cfg->classify, f->users);
}

static void fixture_teardown(fixture_t *f)
{
    lc_transform_classify_free(f->classify);
    lc_users_source_stop(f->users);
    lc_metrics_free(f->metrics);
    lc_config_free(f->cfg);
    rd_kafka_destroy(f->admin);
}

static void *pipeline_thread(void *arg)
{
    fixture_t *f = arg;
    f->exit_code = lc_pipeline_run(&f->cfg->pipeline, &f->cfg->kafka, f->classify, f->metrics,
                                   NULL, &f->stop, f->err, sizeof(f->err));
    return NULL;
}

static void pipeline_start(fixture_t *f)
{
    atomic_store(&f->stop, 0);
    f->exit_code = -1;
    assert_int_equal(pthread_create(&f->thread, NULL, pipeline_thread, f), 0);
}

static lc_metrics_counts_t counts(fixture_t *f)
{
    lc_metrics_counts_t c;
    lc_metrics_read(f->metrics, &c);
    return c;
}

static uint64_t records_done(fixture_t *f)
{
    lc_metrics_counts_t c = counts(f);
    uint64_t n = 0;
    for (int s = 0; s < LC_STATUS__COUNT; s++)
        n += c.records[s];
    return n;
}

/* Waits until `n` records were classified or the pipeline ended; then stops it. */
static int pipeline_finish(fixture_t *f, uint64_t n, int timeout_s)
{
    for (int i = 0; i < timeout_s * 20 && records_done(f) < n && f->exit_code == -1; i++)
        usleep(50000);
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    return f->exit_code;
}

/* Committed offsets of group g for IN's two partitions. */
static void committed(fixture_t *f, int64_t out[2])
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", f->brokers, err, sizeof(err));
    rd_kafka_conf_set(c, "group.id", "g", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(l, IN, 0);
    rd_kafka_topic_partition_list_add(l, IN, 1);
    assert_int_equal(rd_kafka_committed(rk, l, 10000), 0);
    out[0] = l->elems[0].offset;
    out[1] = l->elems[1].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
}

/* For each input record, how many outputs name it in their source header. */
static void count_outputs(fixture_t *f, bool read_committed, int counts[2][NRECORDS])
{
    memset(counts, 0, sizeof(int) * 2 * NRECORDS);
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", f->brokers, err, sizeof(err));
    rd_kafka_conf_set(c, "group.id", "checker", err, sizeof(err));
    rd_kafka_conf_set(c, "enable.partition.eof", "true", err, sizeof(err));
    rd_kafka_conf_set(c, "isolation.level", read_committed ? "read_committed" : "read_uncommitted",
                      err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(l, OUT, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_topic_partition_list_add(l, OUT, 1)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    bool eof[2] = {false, false};
    int64_t deadline = lc_now_ms() + 20000;
    while (!(eof[0] && eof[1]) && lc_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eof[m->partition & 1] = true;
        } else if (!m->err) {
            rd_kafka_headers_t *h;
            const void *v;
            size_t n;
            char src[64] = "";
            if (!rd_kafka_message_headers(m, &h) && !rd_kafka_header_get_last(h, "source", &v, &n) &&
                n < sizeof(src))
                memcpy(src, v, n);
            int p;
            long long off;
            if (sscanf(src, "in/%d/%lld", &p, &off) == 2 && p >= 0 && p < 2 && off >= 0 &&
                off < NRECORDS)
                counts[p][off]++;
        }
        rd_kafka_message_destroy(m);
    }
    if (getenv("LC_TEST_DEBUG")) {
        int tot[2] = {0, 0};
        for (int p = 0; p < 2; p++) for (int o = 0; o < NRECORDS; o++) tot[p] += counts[p][o];
        fprintf(stderr, "count_outputs: from input 0: %d, from input 1: %d, eof %d %d\n", tot[0], tot[1], eof[0], eof[1]);
    }
    rd_kafka_destroy(rk);
}

static int count_missing(int counts[2][NRECORDS], int per_partition, int *dups)
{
    int missing = 0;
    *dups = 0;
    for (int p = 0; p < 2; p++)
        for (int o = 0; o < per_partition; o++) {
            missing += counts[p][o] == 0;
            *dups += counts[p][o] > 1 ? counts[p][o] - 1 : 0;
        }
    return missing;
}

static void test_unhealable_produce_error_exits_1_without_committing_past_it(void **state)
{
    (void)state;
    fixture_t f;
    fixture_setup(&f, "at_least_once");
    /* Every produce request fails with an error retrying cannot heal. */
    /* The count is the number of errors given: the variadic form with a count of 1000 and
     * one error read 999 more off the stack (some were 0, so some requests succeeded). */
    static rd_kafka_resp_err_t refused[1000];
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        refused[i] = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
    rd_kafka_mock_push_request_errors_array(f.mc, API_PRODUCE, sizeof(refused) / sizeof(refused[0]),
                                            refused);
    pipeline_start(&f);
    int rc = pipeline_finish(&f, NRECORDS * 10, 30);
    assert_int_equal(rc, LC_EXIT_FAILURE);
    /* The cause is named, whether the producer refused the record at once (topic metadata
     * already carries the error) or its delivery report did. */
    assert_non_null(strstr(f.err, "Topic authorization failed"));
    assert_true(counts(&f).produce_errors > 0);
    int64_t c[2];
    committed(&f, c);
    /* Nothing was delivered, so nothing may be committed. */
    assert_true(c[0] < 0 || c[0] == 0);
    assert_true(c[1] < 0 || c[1] == 0);

    /* The cause goes away (errors drained); a restart delivers every record. */
    rd_kafka_mock_clear_request_errors(f.mc, API_PRODUCE);
    pipeline_start(&f);
    rc = pipeline_finish(&f, records_done(&f) + NRECORDS, 60);
    assert_int_equal(rc, LC_EXIT_OK);
    int counts[2][NRECORDS], dups;
    count_outputs(&f, false, counts);
    assert_int_equal(count_missing(counts, NRECORDS / 2, &dups), 0);
    fixture_teardown(&f);
}

static void test_commit_failures_are_covered_by_later_commits(void **state)
{
    (void)state;
    fixture_t f;
    fixture_setup(&f, "at_least_once");
    rd_kafka_mock_push_request_errors(f.mc, API_OFFSET_COMMIT, 3,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    pipeline_start(&f);
    assert_int_equal(pipeline_finish(&f, NRECORDS, 30), LC_EXIT_OK);
    int64_t c[2];
    committed(&f, c);
    assert_int_equal(c[0], NRECORDS / 2);
    assert_int_equal(c[1], NRECORDS / 2);
    int counts[2][NRECORDS], dups;
    count_outputs(&f, false, counts);
    assert_int_equal(count_missing(counts, NRECORDS / 2, &dups), 0);
    fixture_teardown(&f);
}

/* batch.commit_interval_ms bounds how often offsets are committed while running; stopping
 * still commits everything delivered. With 0, the 8+ batches commit as they finish. */
static void test_commit_interval_limits_commits_and_stop_commits_all(void **state)
{
    (void)state;
    const int intervals[] = {0, 60000};
    for (int k = 0; k < 2; k++) {
        fixture_t f;
        commit_interval_ms = intervals[k];
        fixture_setup(&f, "at_least_once");
        commit_interval_ms = 0;
        pipeline_start(&f);
        for (int i = 0; i < 600 && records_done(&f) < NRECORDS; i++)
            usleep(50000);
        assert_int_equal(records_done(&f), NRECORDS);
        usleep(500000);   /* deliveries and any due commit come back */
        uint64_t while_running = counts(&f).commits;
        if (intervals[k] == 0)
            assert_true(while_running >= 1);
        else
            assert_int_equal(while_running, 0);   /* the first one would be due in 60 s */
        assert_int_equal(pipeline_finish(&f, NRECORDS, 1), LC_EXIT_OK);
        int64_t c[2];
        committed(&f, c);
        assert_int_equal(c[0], NRECORDS / 2);
        assert_int_equal(c[1], NRECORDS / 2);
        fixture_teardown(&f);
    }
}

static void transaction_errors_are_survived(int queue_max)
{
    fixture_t f;
    producer_queue_max = queue_max;
    fixture_setup(&f, "exactly_once");
    producer_queue_max = 0;
    /* Retriable, then abortable errors on the transaction path. */
    rd_kafka_mock_push_request_errors(f.mc, API_END_TXN, 2,
                                      RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                      RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
    rd_kafka_mock_push_request_errors(f.mc, API_ADD_PARTITIONS_TO_TXN, 1,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    pipeline_start(&f);
    /* Run past the point where every record is done, so a batch counted twice would show. */
    for (int i = 0; i < 600 && records_done(&f) < NRECORDS; i++)
        usleep(50000);
    sleep(1);
    assert_int_equal(pipeline_finish(&f, 0, 1), LC_EXIT_OK);
    assert_true(counts(&f).transactions_aborted >= 1);
    /* Metrics count committed transactions only: every record once, none twice. */
    assert_int_equal(records_done(&f), NRECORDS);
    int counts[2][NRECORDS], dups;
    count_outputs(&f, true, counts);
    assert_int_equal(count_missing(counts, NRECORDS / 2, &dups), 0);
    assert_int_equal(dups, 0);
    fixture_teardown(&f);
}

static void test_transaction_coordinator_errors_are_survived_exactly_once(void **state)
{
    (void)state;
    transaction_errors_are_survived(0);
}

/* A producer queue of 5 messages makes every batch of 50 wait for delivery reports while it
 * is produced; the refused AddPartitionsToTxn comes back during that wait, so produce() fails
 * with _STATE mid-batch: abortable, not fatal (CI once saw exit 1 there). With
 * LC_TEST_LOG=warn the log shows "transaction failed while producing". */
static void test_transaction_failing_mid_batch_is_aborted_exactly_once(void **state)
{
    (void)state;
    transaction_errors_are_survived(5);
}

static void test_fenced_producer_exits_1(void **state)
{
    (void)state;
    fixture_t f;
    fixture_setup(&f, "exactly_once");
    rd_kafka_mock_push_request_errors(f.mc, API_END_TXN, 1, RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
    pipeline_start(&f);
    int rc = pipeline_finish(&f, NRECORDS * 10, 30);
    assert_int_equal(rc, LC_EXIT_FAILURE);
    assert_non_null(strstr(f.err, "fenced"));
    /* The fenced batch was never counted as done. */
    assert_true(records_done(&f) < NRECORDS);
    fixture_teardown(&f);
}

int main(void)
{
    lc_log_level_t level = LC_LOG_ERROR;
    if (getenv("LC_TEST_LOG"))
        lc_log_parse_level(getenv("LC_TEST_LOG"), &level);
    lc_log_set_level(level);
    if (getenv("LC_TEST_FILTER"))   /* e.g. LC_TEST_FILTER='*unhealable*' */
        cmocka_set_test_filter(getenv("LC_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unhealable_produce_error_exits_1_without_committing_past_it),
        cmocka_unit_test(test_commit_failures_are_covered_by_later_commits),
        cmocka_unit_test(test_commit_interval_limits_commits_and_stop_commits_all),
        cmocka_unit_test(test_transaction_coordinator_errors_are_survived_exactly_once),
        cmocka_unit_test(test_transaction_failing_mid_batch_is_aborted_exactly_once),
        cmocka_unit_test(test_fenced_producer_exits_1),
    };
    return cmocka_run_group_tests_name("mock cluster faults (librdkafka mock, not a real broker)",
                                       tests, NULL, NULL);
}
