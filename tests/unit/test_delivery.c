/*
 * test_delivery.c - the two delivery modes behind lc_delivery.h, driven operation by
 * operation as the pipeline drives them, against librdkafka's mock cluster:
 *
 *  - at_least_once (offsets.c): offsets are committed up to the last record whose report
 *    came back, never past a failed or refused record; a revoke commits what is done (not
 *    when the partitions are lost); tick commits on its interval; drain commits the rest;
 *    a failed delivery is fatal;
 *  - exactly_once (txn.c): a produced batch commits its transaction, a refused one (_STATE)
 *    is aborted and rewound, a failed one is left to the fatal path; delivery reports never
 *    stop the service on their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "lc_delivery.h"
#include "lc_log.h"
#include "lc_offsets.h"
#include "lc_txn.h"

static const char *IN = "in";

typedef struct fixture {
    rd_kafka_t *admin;             /* owns the mock cluster */
    char brokers[256];
    rd_kafka_t *consumer, *producer;
    lc_metrics_t *metrics;
    const lc_delivery_ops_t *ops;
    void *d;
    rd_kafka_topic_partition_list_t *p0, *p1, *both;
} fixture_t;

static rd_kafka_t *client(fixture_t *f, rd_kafka_type_t type, const char *transactional_id)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", f->brokers, err, sizeof(err));
    if (type == RD_KAFKA_CONSUMER) {
        rd_kafka_conf_set(c, "group.id", "g", err, sizeof(err));
        rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err));
    }
    if (transactional_id)
        rd_kafka_conf_set(c, "transactional.id", transactional_id, err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));
    assert_non_null(rk);
    return rk;
}

static rd_kafka_topic_partition_list_t *parts(int a, int b)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    if (a >= 0)
        rd_kafka_topic_partition_list_add(l, IN, a);
    if (b >= 0)
        rd_kafka_topic_partition_list_add(l, IN, b);
    return l;
}

static void setup(fixture_t *f, lc_delivery_t mode, int commit_interval_ms)
{
    memset(f, 0, sizeof(*f));
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "test.mock.num.brokers", "1", err, sizeof(err));
    f->admin = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
    assert_non_null(f->admin);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(f->admin);
    snprintf(f->brokers, sizeof(f->brokers), "%s", rd_kafka_mock_cluster_bootstraps(mc));
    assert_int_equal(rd_kafka_mock_topic_create(mc, IN, 2, 1), 0);
    f->consumer = client(f, RD_KAFKA_CONSUMER, NULL);
    f->producer = client(f, RD_KAFKA_PRODUCER, mode == LC_DELIVERY_EXACTLY_ONCE ? "tx" : NULL);
    f->metrics = lc_metrics_new(NULL, 0);
    f->ops = lc_delivery_ops(mode);
    lc_delivery_env_t env = {.consumer = f->consumer, .producer = f->producer, .input_topic = IN,
                             .commit_interval_ms = commit_interval_ms, .metrics = f->metrics};
    f->d = f->ops->create(&env);
    assert_non_null(f->d);
    f->p0 = parts(0, -1);
    f->p1 = parts(1, -1);
    f->both = parts(0, 1);
    /* a manual assignment: commits and seeks need the partitions to be the consumer's */
    assert_int_equal(rd_kafka_assign(f->consumer, f->both), 0);
    f->ops->assign(f->d, f->both);
}

static void teardown(fixture_t *f)
{
    rd_kafka_assign(f->consumer, NULL);
    f->ops->destroy(f->d);
    rd_kafka_destroy(f->consumer);
    rd_kafka_destroy(f->producer);
    lc_metrics_free(f->metrics);
    rd_kafka_topic_partition_list_destroy(f->p0);
    rd_kafka_topic_partition_list_destroy(f->p1);
    rd_kafka_topic_partition_list_destroy(f->both);
    rd_kafka_destroy(f->admin);
}

/* The group's committed offsets of IN's two partitions (-1001 when none). */
static void committed(fixture_t *f, int64_t out[2])
{
    rd_kafka_topic_partition_list_t *l = parts(0, 1);
    assert_int_equal(rd_kafka_committed(f->consumer, l, 10000), 0);
    out[0] = l->elems[0].offset;
    out[1] = l->elems[1].offset;
    rd_kafka_topic_partition_list_destroy(l);
}

/* A record of the batch: only partition and offset matter to a delivery mode. */
static void *track(fixture_t *f, int32_t partition, int64_t offset)
{
    rd_kafka_message_t m = {.partition = partition, .offset = offset};
    return f->ops->track(f->d, &m);
}

static lc_metrics_counts_t counts(fixture_t *f)
{
    lc_metrics_counts_t c;
    lc_metrics_read(f->metrics, &c);
    return c;
}

/* ---- at_least_once ------------------------------------------------------------------------ */

static void test_at_least_once_commits_only_what_is_acknowledged(void **state)
{
    (void)state;
    fixture_t f;
    setup(&f, LC_DELIVERY_AT_LEAST_ONCE, 60000);
    char err[256];
    assert_string_equal(f.ops->name, "at_least_once");
    assert_int_equal(f.ops->start(f.d, 1000, err, sizeof(err)), 0);
    assert_int_equal(f.ops->begin_batch(f.d, err, sizeof(err)), 0);
    void *a0 = track(&f, 0, 0), *a1 = track(&f, 0, 1), *a2 = track(&f, 0, 2);
    void *b0 = track(&f, 1, 0), *b1 = track(&f, 1, 1);
    assert_int_equal(f.ops->end_batch(f.d, LC_BATCH_PRODUCED, err, sizeof(err)), 0);
    assert_false(f.ops->delivered(f.d, a0, true));
    assert_false(f.ops->delivered(f.d, a2, true));
    assert_false(f.ops->delivered(f.d, b0, true));
    assert_true(f.ops->delivered(f.d, b1, false));   /* a failed delivery is fatal */
    int64_t c[2];
    f.ops->drain(f.d, true);                         /* a1 is still out: nothing for p0 */
    committed(&f, c);
    assert_true(c[0] < 0);
    assert_true(c[1] < 0);                           /* b1 failed: never past it */
    assert_false(f.ops->delivered(f.d, a1, true));
    f.ops->drain(f.d, true);
    committed(&f, c);
    assert_int_equal(c[0], 3);
    assert_true(c[1] < 0);
    assert_true(counts(&f).commits >= 1);
    teardown(&f);
}

static void test_at_least_once_refused_record_is_never_committed_past(void **state)
{
    (void)state;
    fixture_t f;
    setup(&f, LC_DELIVERY_AT_LEAST_ONCE, 0);
    char err[256];
    assert_int_equal(f.ops->begin_batch(f.d, err, sizeof(err)), 0);
    void *a0 = track(&f, 0, 10);
    void *a1 = track(&f, 0, 11);
    /* produce() refused a1: the service stops (false: no rollback in at_least_once) */
    assert_false(f.ops->refused(f.d, a1, RD_KAFKA_RESP_ERR__STATE, "in/0/11"));
    assert_int_equal(f.ops->end_batch(f.d, LC_BATCH_FAILED, err, sizeof(err)), 0);
    f.ops->delivered(f.d, a0, true);
    f.ops->drain(f.d, true);
    int64_t c[2];
    committed(&f, c);
    assert_true(c[0] < 0);
    teardown(&f);
}

static void test_at_least_once_revoke_and_tick(void **state)
{
    (void)state;
    fixture_t f;
    setup(&f, LC_DELIVERY_AT_LEAST_ONCE, 0);   /* 0: a commit may go out at every tick */
    char err[256];
    assert_int_equal(f.ops->begin_batch(f.d, err, sizeof(err)), 0);
    void *a = track(&f, 0, 4), *b = track(&f, 1, 8);
    assert_int_equal(f.ops->end_batch(f.d, LC_BATCH_PRODUCED, err, sizeof(err)), 0);
    f.ops->delivered(f.d, a, true);
    f.ops->delivered(f.d, b, true);
    /* a lost partition commits nothing; a revoked one commits what is done */
    f.ops->revoke(f.d, f.p1, true);
    f.ops->revoke(f.d, f.p0, false);
    int64_t c[2];
    committed(&f, c);
    assert_int_equal(c[0], 5);
    assert_true(c[1] < 0);
    /* assigned again: a tick commits asynchronously, its result is served by a later tick */
    f.ops->assign(f.d, f.both);
    assert_int_equal(f.ops->begin_batch(f.d, err, sizeof(err)), 0);
    b = track(&f, 1, 20);
    f.ops->end_batch(f.d, LC_BATCH_PRODUCED, err, sizeof(err));
    f.ops->delivered(f.d, b, true);
    for (int i = 0; i < 50; i++) {
        f.ops->tick(f.d, lc_now_ms());
        committed(&f, c);
        if (c[1] == 21)
            break;
    }
    assert_int_equal(c[1], 21);
    teardown(&f);
}

/* ---- exactly_once ------------------------------------------------------------------------- */

static void test_exactly_once_commits_and_aborts(void **state)
{
    (void)state;
    fixture_t f;
    setup(&f, LC_DELIVERY_EXACTLY_ONCE, 0);
    char err[256] = "";
    assert_string_equal(f.ops->name, "exactly_once");
    if (f.ops->start(f.d, 10000, err, sizeof(err)) != 0)
        fail_msg("start: %s", err);
    /* a produced batch: one committed transaction */
    assert_int_equal(f.ops->begin_batch(f.d, err, sizeof(err)), 0);
    assert_null(track(&f, 0, 0));
    assert_null(track(&f, 1, 5));
    assert_null(track(&f, 0, 1));
    assert_int_equal(f.ops->end_batch(f.d, LC_BATCH_PRODUCED, err, sizeof(err)), 0);
    assert_int_equal(counts(&f).commits, 1);
    /* delivery reports never stop the service: a failure fails the transaction instead */
    assert_false(f.ops->delivered(f.d, NULL, false));
    /* a batch whose produce() failed with _STATE: aborted and rewound, not counted */
    assert_int_equal(f.ops->begin_batch(f.d, err, sizeof(err)), 0);
    track(&f, 0, 2);
    assert_true(f.ops->refused(f.d, NULL, RD_KAFKA_RESP_ERR__STATE, "in/0/2"));
    if (f.ops->end_batch(f.d, LC_BATCH_REFUSED, err, sizeof(err)) != 1)
        fail_msg("end_batch after a refused record: %s", err);
    assert_int_equal(counts(&f).transactions_aborted, 1);
    /* any other refusal is fatal, and a failed batch is left to the pipeline's fatal path */
    assert_false(f.ops->refused(f.d, NULL, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "in/0/3"));
    assert_int_equal(f.ops->begin_batch(f.d, err, sizeof(err)), 0);
    track(&f, 0, 3);
    err[0] = 'x';
    assert_int_equal(f.ops->end_batch(f.d, LC_BATCH_FAILED, err, sizeof(err)), -1);
    assert_string_equal(err, "");
    /* revoke and drain: every batch was its own transaction, nothing is pending */
    f.ops->revoke(f.d, f.both, false);
    f.ops->tick(f.d, lc_now_ms());
    f.ops->drain(f.d, false);
    assert_int_equal(counts(&f).commits, 1);
    teardown(&f);
}

static void test_modes_and_names(void **state)
{
    (void)state;
    assert_ptr_equal(lc_delivery_ops(LC_DELIVERY_AT_LEAST_ONCE), &lc_offsets_delivery);
    assert_ptr_equal(lc_delivery_ops(LC_DELIVERY_EXACTLY_ONCE), &lc_txn_delivery);
    assert_string_equal(lc_delivery_names[LC_DELIVERY_AT_LEAST_ONCE], lc_offsets_delivery.name);
    assert_string_equal(lc_delivery_names[LC_DELIVERY_EXACTLY_ONCE], lc_txn_delivery.name);
    assert_null(lc_delivery_names[2]);
}

int main(void)
{
    lc_log_level_t level = LC_LOG_ERROR;
    if (getenv("LC_TEST_LOG"))
        lc_log_parse_level(getenv("LC_TEST_LOG"), &level);
    lc_log_set_level(level);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes_and_names),
        cmocka_unit_test(test_at_least_once_commits_only_what_is_acknowledged),
        cmocka_unit_test(test_at_least_once_refused_record_is_never_committed_past),
        cmocka_unit_test(test_at_least_once_revoke_and_tick),
        cmocka_unit_test(test_exactly_once_commits_and_aborts),
    };
    return cmocka_run_group_tests_name("delivery modes (librdkafka mock cluster)", tests, NULL,
                                       NULL);
}
