/*
 * test_offsets.c - at_least_once bookkeeping (lc_offsets, CONTRACT §6): an offset becomes
 * committable only when every output record up to it is acknowledged, a failed delivery is
 * never committed past, partitions are independent, revoke drops a partition's state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lc_offsets.h"

static lc_offsets_t *fresh(void)
{
    lc_offsets_t *o = lc_offsets_new(NULL, "in", 0, NULL, NULL);
    assert_non_null(o);
    lc_offsets_assign(o, 0);
    lc_offsets_assign(o, 1);
    return o;
}

/* One batch of records [from, to] of a partition, its segments closed. */
static void batch(lc_offsets_t *o, int32_t partition, int64_t from, int64_t to, lc_segment_t **segs)
{
    for (int64_t off = from; off <= to; off++)
        segs[off - from] = lc_offsets_add(o, partition, off);
    lc_offsets_end_batch(o);
}

static void nothing_committable_until_every_report(void **state)
{
    (void)state;
    lc_offsets_t *o = fresh();
    lc_segment_t *s[3];
    batch(o, 0, 10, 12, s);
    assert_int_equal(lc_offsets_pop_finished(o, 0), -1);
    assert_false(lc_offsets_idle(o, NULL));
    lc_offsets_segment_done(s[0], true);
    lc_offsets_segment_done(s[2], true);
    assert_int_equal(lc_offsets_pop_finished(o, 0), -1);
    lc_offsets_segment_done(s[1], true);
    assert_int_equal(lc_offsets_pop_finished(o, 0), 13);
    assert_true(lc_offsets_idle(o, NULL));
    lc_offsets_free(o);
}

static void later_batch_waits_for_earlier(void **state)
{
    (void)state;
    lc_offsets_t *o = fresh();
    lc_segment_t *a[2], *b[2];
    batch(o, 0, 0, 1, a);
    batch(o, 0, 2, 3, b);
    lc_offsets_segment_done(b[0], true);
    lc_offsets_segment_done(b[1], true);
    assert_int_equal(lc_offsets_pop_finished(o, 0), -1);   /* batch 1 still out */
    lc_offsets_segment_done(a[0], true);
    lc_offsets_segment_done(a[1], true);
    assert_int_equal(lc_offsets_pop_finished(o, 0), 4);    /* both, at once */
    lc_offsets_free(o);
}

static void open_batch_is_never_committable(void **state)
{
    (void)state;
    lc_offsets_t *o = fresh();
    lc_segment_t *s = lc_offsets_add(o, 0, 5);
    lc_offsets_segment_done(s, true);              /* reported before the batch was fully produced */
    assert_int_equal(lc_offsets_pop_finished(o, 0), -1);
    lc_segment_t *t = lc_offsets_add(o, 0, 6);
    assert_ptr_equal(s, t);                /* one segment per partition and batch */
    lc_offsets_end_batch(o);
    lc_offsets_segment_done(t, true);
    assert_int_equal(lc_offsets_pop_finished(o, 0), 7);
    lc_offsets_free(o);
}

static void failed_delivery_blocks_for_good(void **state)
{
    (void)state;
    lc_offsets_t *o = fresh();
    lc_segment_t *a[2], *b[1];
    batch(o, 0, 0, 1, a);
    batch(o, 0, 2, 2, b);
    lc_offsets_segment_done(a[0], true);
    lc_offsets_segment_done(a[1], false);
    lc_offsets_segment_done(b[0], true);
    assert_int_equal(lc_offsets_pop_finished(o, 0), -1);
    assert_true(lc_offsets_idle(o, NULL));   /* idle, but never committable */
    lc_offsets_segment_done(NULL, false);           /* no segment (exactly_once): a no-op */
    lc_offsets_free(o);
}

static void partitions_are_independent(void **state)
{
    (void)state;
    lc_offsets_t *o = fresh();
    lc_segment_t *p0 = lc_offsets_add(o, 0, 100);
    lc_segment_t *p1 = lc_offsets_add(o, 1, 7);
    lc_segment_t *p5 = lc_offsets_add(o, 5, 1);   /* grows the table */
    lc_offsets_end_batch(o);
    lc_offsets_segment_done(p1, true);
    assert_int_equal(lc_offsets_pop_finished(o, 0), -1);
    assert_int_equal(lc_offsets_pop_finished(o, 1), 8);
    rd_kafka_topic_partition_list_t *only0 = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(only0, "in", 0);
    rd_kafka_topic_partition_list_t *only1 = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(only1, "in", 1);
    assert_false(lc_offsets_idle(o, only0));
    assert_true(lc_offsets_idle(o, only1));
    lc_offsets_segment_done(p0, true);
    lc_offsets_segment_done(p5, true);
    assert_true(lc_offsets_idle(o, only0));
    assert_int_equal(lc_offsets_pop_finished(o, 0), 101);
    assert_int_equal(lc_offsets_pop_finished(o, 5), 2);
    assert_int_equal(lc_offsets_pop_finished(o, 9), -1);   /* never seen */
    rd_kafka_topic_partition_list_destroy(only0);
    rd_kafka_topic_partition_list_destroy(only1);
    lc_offsets_free(o);
}

static void forget_and_reassign_start_empty(void **state)
{
    (void)state;
    lc_offsets_t *o = fresh();
    lc_segment_t *s[2];
    batch(o, 0, 0, 1, s);
    lc_offsets_segment_done(s[0], true);
    lc_offsets_segment_done(s[1], true);
    assert_int_equal(lc_offsets_pop_finished(o, 0), 2);
    lc_offsets_forget(o, 0);
    assert_int_equal(lc_offsets_pop_finished(o, 0), -1);
    assert_int_equal(lc_offsets_committed(o, 0), -1);
    lc_offsets_forget(o, 42);               /* unknown: harmless */
    lc_offsets_assign(o, 0);
    batch(o, 0, 50, 50, s);
    lc_offsets_segment_done(s[0], true);
    assert_int_equal(lc_offsets_pop_finished(o, 0), 51);
    /* bookkeeping only: nothing is sent, nothing is pending acknowledgement afterwards */
    lc_offsets_commit(o, NULL, false);
    assert_false(lc_offsets_commit_inflight(o));
    assert_int_equal(lc_offsets_committed(o, 0), -1);
    assert_true(lc_offsets_commit_pending(o, NULL));
    lc_offsets_free(o);
}

/* 200,000 records in batches of 37 over 4 partitions, reports in a shuffled order: the
 * committable offset never passes an unacknowledged record. */
static void shuffled_reports_never_overtake(void **state)
{
    (void)state;
    enum { N = 200000, PARTS = 4, BATCH = 37 };
    lc_offsets_t *o = lc_offsets_new(NULL, "in", 0, NULL, NULL);
    for (int p = 0; p < PARTS; p++)
        lc_offsets_assign(o, p);
    lc_segment_t **segs = malloc(N * sizeof(*segs));
    int32_t *part = malloc(N * sizeof(*part));
    int64_t *off = malloc(N * sizeof(*off));
    int64_t next[PARTS] = {0};
    for (int i = 0; i < N; i++) {
        part[i] = (int32_t)((unsigned)i * 2654435761u % PARTS);
        off[i] = next[part[i]]++;
        segs[i] = lc_offsets_add(o, part[i], off[i]);
        if (i % BATCH == BATCH - 1)
            lc_offsets_end_batch(o);
    }
    lc_offsets_end_batch(o);
    int *order = malloc(N * sizeof(*order));
    for (int i = 0; i < N; i++)
        order[i] = i;
    uint64_t x = 88172645463325252ull;
    for (int i = N - 1; i > 0; i--) {   /* Fisher-Yates with xorshift64 */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int j = (int)(x % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    /* lowest unacknowledged offset per partition, kept with a per-partition bitmap */
    char *acked = calloc(N, 1);
    int64_t low[PARTS] = {0};
    int64_t *index_of = malloc(N * sizeof(*index_of) * PARTS);
    for (int i = 0; i < N; i++)
        index_of[(int64_t)part[i] * N + off[i]] = i;
    for (int k = 0; k < N; k++) {
        int i = order[k];
        lc_offsets_segment_done(segs[i], true);
        acked[i] = 1;
        int32_t p = part[i];
        while (low[p] < next[p] && acked[index_of[(int64_t)p * N + low[p]]])
            low[p]++;
        if (k % 101 == 0 || k == N - 1) {
            int64_t c = lc_offsets_pop_finished(o, p);
            assert_true(c <= low[p]);
        }
    }
    for (int p = 0; p < PARTS; p++)
        assert_int_equal(lc_offsets_pop_finished(o, p), next[p]);
    free(index_of);
    free(acked);
    free(order);
    free(off);
    free(part);
    free(segs);
    lc_offsets_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_committable_until_every_report),
        cmocka_unit_test(later_batch_waits_for_earlier),
        cmocka_unit_test(open_batch_is_never_committable),
        cmocka_unit_test(failed_delivery_blocks_for_good),
        cmocka_unit_test(partitions_are_independent),
        cmocka_unit_test(forget_and_reassign_start_empty),
        cmocka_unit_test(shuffled_reports_never_overtake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
