/* SPDX-License-Identifier: MIT */
/* The drain thread's slots and deadline lists (shim/drain/slots.c) on
 * their own: slot reuse, the order of both lists through links, touches
 * and removals, the deadlines read from their heads, and the invariants
 * LC_ASSERT checks (this test is built with them on). */
#include "config.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <signal.h>

#include "drain/slots.h"

#define NONE LC_SLOT_NONE
#define CAPACITY 8
#define TOTAL_MS 30000u
#define IDLE_MS 2000u
#define FIN_WAIT_MS 300u
#define TIMEOUTS ((struct lc_slot_timeouts){ TOTAL_MS, IDLE_MS, FIN_WAIT_MS })

TestSuite(drain_slots, .timeout = 30);

/* A slot taken and linked as the drain thread does when it adopts fd. */
static int32_t adopt(struct lc_slots *t, int fd, int64_t now)
{
    int32_t index = lc_slots_take(t, CAPACITY);
    cr_assert_neq(index, NONE, "no slot for fd %d", fd);
    t->slot[index] = (struct lc_slot){ .fd = fd, .start_ms = lc_slot_stamp(now),
                                       .last_ms = lc_slot_stamp(now) };
    lc_slots_link(t, index);
    return index;
}

/* As the drain thread adopts a socket whose FIN the close held back. */
static int32_t adopt_fin_deferred(struct lc_slots *t, int fd, int64_t now)
{
    int32_t index = lc_slots_take(t, CAPACITY);
    cr_assert_neq(index, NONE, "no slot for fd %d", fd);
    t->slot[index] = (struct lc_slot){ .fd = fd, .start_ms = lc_slot_stamp(now),
                                       .last_ms = lc_slot_stamp(now), .fin_deferred = true };
    lc_slots_link(t, index);
    return index;
}

/* As the drain thread finishes one. */
static void finish(struct lc_slots *t, int32_t index)
{
    lc_slots_unlink(t, index);
    lc_slots_give_back(t, index);
}

/* The fds along a list, head to tail, checking every back link on the
 * way; returns how many. */
static int walk_list(const struct lc_slots *t, const struct lc_slot_list *l, bool by_start,
                     int *fds)
{
    int count = 0;
    int32_t prev = NONE;
    for (int32_t i = l->head; i != NONE; count++) {
        cr_assert_lt(count, CAPACITY, "the list loops");
        const struct lc_slot *s = &t->slot[i];
        cr_assert_eq(by_start ? s->prev_start : s->prev_activity, prev, "back link of fd %d", s->fd);
        fds[count] = s->fd;
        prev = i;
        i = by_start ? s->next_start : s->next_activity;
    }
    cr_assert_eq(l->tail, prev, "the tail is not the last slot");
    return count;
}

static int walk(const struct lc_slots *t, bool by_start, int *fds)
{
    return walk_list(t, by_start ? &t->by_start : &t->by_activity, by_start, fds);
}

/* by_fin shares by_activity's links. */
static void expect_fin_order(const struct lc_slots *t, const int *want, int n)
{
    int got[CAPACITY];
    int count = walk_list(t, &t->by_fin, false, got);
    cr_assert_eq(count, n, "by_fin holds %d slots, not %d", count, n);
    for (int i = 0; i < n; i++)
        cr_expect_eq(got[i], want[i], "by_fin[%d] is fd %d, not %d", i, got[i], want[i]);
}

static void expect_order(const struct lc_slots *t, bool by_start, const int *want, int n)
{
    int got[CAPACITY];
    int count = walk(t, by_start, got);
    cr_assert_eq(count, n, "%s holds %d slots, not %d", by_start ? "by_start" : "by_activity",
                 count, n);
    for (int i = 0; i < n; i++)
        cr_expect_eq(got[i], want[i], "%s[%d] is fd %d, not %d", by_start ? "by_start" : "by_activity",
                     i, got[i], want[i]);
}

Test(drain_slots, slots_are_handed_out_in_order_up_to_the_capacity)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    for (int32_t i = 0; i < CAPACITY; i++)
        cr_expect_eq(lc_slots_take(&t, CAPACITY), i);
    cr_expect_eq(lc_slots_take(&t, CAPACITY), NONE, "a slot beyond the capacity");
    lc_slots_release_all(&t);
}

Test(drain_slots, a_slot_given_back_is_the_next_one_taken)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt(&t, 10, 0), b = adopt(&t, 11, 0), c = adopt(&t, 12, 0);
    finish(&t, b);
    finish(&t, a);
    cr_expect_eq(lc_slots_take(&t, CAPACITY), a, "the last given back comes first");
    cr_expect_eq(lc_slots_take(&t, CAPACITY), b);
    cr_expect_eq(lc_slots_take(&t, CAPACITY), c + 1, "then a slot never used");
    lc_slots_release_all(&t);
}

Test(drain_slots, both_lists_keep_hand_off_order)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    for (int fd = 10; fd < 15; fd++)
        adopt(&t, fd, fd);
    expect_order(&t, true, (int[]){ 10, 11, 12, 13, 14 }, 5);
    expect_order(&t, false, (int[]){ 10, 11, 12, 13, 14 }, 5);
    lc_slots_release_all(&t);
}

Test(drain_slots, removal_from_head_middle_and_tail_keeps_the_rest_in_order)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t index[5];
    for (int i = 0; i < 5; i++)
        index[i] = adopt(&t, 10 + i, i);
    finish(&t, index[2]);
    expect_order(&t, true, (int[]){ 10, 11, 13, 14 }, 4);
    finish(&t, index[0]);
    expect_order(&t, true, (int[]){ 11, 13, 14 }, 3);
    finish(&t, index[4]);
    expect_order(&t, true, (int[]){ 11, 13 }, 2);
    expect_order(&t, false, (int[]){ 11, 13 }, 2);
    finish(&t, index[1]);
    finish(&t, index[3]);
    expect_order(&t, true, NULL, 0);
    expect_order(&t, false, NULL, 0);
    cr_expect_eq(lc_slots_wait_ms(&t, 100, TIMEOUTS), -1, "an empty table has no deadline");
    lc_slots_release_all(&t);
}

Test(drain_slots, input_moves_a_slot_to_the_end_of_the_idle_list_only)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt(&t, 10, 0);
    adopt(&t, 11, 0);
    adopt(&t, 12, 0);
    lc_slots_touch(&t, a, 50);
    expect_order(&t, true, (int[]){ 10, 11, 12 }, 3);
    expect_order(&t, false, (int[]){ 11, 12, 10 }, 3);
    cr_expect_eq(t.slot[a].last_ms, lc_slot_stamp(50));
    lc_slots_release_all(&t);
}

/* The thread sees one time per wake-up: more input in the same one moves
 * nothing. */
Test(drain_slots, input_at_the_same_time_moves_nothing)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt(&t, 10, 0);
    int32_t b = adopt(&t, 11, 0);
    lc_slots_touch(&t, b, 0);
    expect_order(&t, false, (int[]){ 10, 11 }, 2);
    lc_slots_touch(&t, a, 0);
    expect_order(&t, false, (int[]){ 10, 11 }, 2);
    lc_slots_release_all(&t);
}

Test(drain_slots, the_total_deadline_comes_from_the_oldest_hand_off)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt(&t, 10, 1000);
    adopt(&t, 11, 2000);
    cr_expect_eq(lc_slots_past_total(&t, 1000 + TOTAL_MS - 1, TOTAL_MS), NONE, "a millisecond early");
    cr_expect_eq(lc_slots_past_total(&t, 1000 + TOTAL_MS, TOTAL_MS), a, "due at its deadline");
    /* Input does not extend the total timeout. */
    lc_slots_touch(&t, a, 1500);
    cr_expect_eq(lc_slots_past_total(&t, 1000 + TOTAL_MS, TOTAL_MS), a);
    lc_slots_release_all(&t);
}

Test(drain_slots, the_idle_deadline_follows_the_last_input)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt(&t, 10, 0);
    int32_t b = adopt(&t, 11, 100);
    cr_expect_eq(lc_slots_past_idle(&t, IDLE_MS, IDLE_MS), a);
    lc_slots_touch(&t, a, 500);
    cr_expect_eq(lc_slots_past_idle(&t, IDLE_MS, IDLE_MS), NONE, "input moved a's idle deadline");
    cr_expect_eq(lc_slots_past_idle(&t, 100 + IDLE_MS, IDLE_MS), b, "b is idle first now");
    finish(&t, b);
    cr_expect_eq(lc_slots_past_idle(&t, 100 + IDLE_MS, IDLE_MS), NONE);
    cr_expect_eq(lc_slots_past_idle(&t, 500 + IDLE_MS, IDLE_MS), a);
    lc_slots_release_all(&t);
}

Test(drain_slots, the_wait_is_until_the_nearer_of_the_two_deadlines)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt(&t, 10, 0);
    cr_expect_eq(lc_slots_wait_ms(&t, 0, TIMEOUTS), (int)IDLE_MS, "idle comes first");
    cr_expect_eq(lc_slots_wait_ms(&t, 0, (struct lc_slot_timeouts){ 500, IDLE_MS, FIN_WAIT_MS }),
                 500, "total comes first");
    lc_slots_touch(&t, a, 1000);
    cr_expect_eq(lc_slots_wait_ms(&t, 1200, TIMEOUTS), (int)(1000 + IDLE_MS - 1200));
    cr_expect_eq(lc_slots_wait_ms(&t, 1000 + IDLE_MS + 5, TIMEOUTS), 0, "already due");
    cr_expect_eq(lc_slots_wait_ms(&t, 1000 + IDLE_MS + 5,
                                  (struct lc_slot_timeouts){ UINT32_MAX, UINT32_MAX, UINT32_MAX }),
                 INT_MAX, "a wait beyond an int is cut to INT_MAX");
    lc_slots_release_all(&t);
}

/* A slot keeps only the clock's low 32 bits: deadlines still fall where
 * they should when the clock passes a multiple of 2^32 ms (every 49 days
 * of uptime) between the hand-off and the deadline, and after years. */
Test(drain_slots, deadlines_hold_where_the_32_bit_stamps_wrap)
{
    const int64_t clocks[] = { (INT64_C(1) << 32) - 100, (INT64_C(7) << 32) - 1,
                               INT64_C(1000000000000) };
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        int64_t t0 = clocks[i];
        struct lc_slots t = LC_SLOTS_EMPTY;
        int32_t a = adopt(&t, 10, t0);
        cr_expect_eq(lc_slots_past_total(&t, t0 + TOTAL_MS - 1, TOTAL_MS), NONE, "clock %lld",
                     (long long)t0);
        cr_expect_eq(lc_slots_past_total(&t, t0 + TOTAL_MS, TOTAL_MS), a, "clock %lld",
                     (long long)t0);
        cr_expect_eq(lc_slots_past_idle(&t, t0 + IDLE_MS - 1, IDLE_MS), NONE);
        cr_expect_eq(lc_slots_past_idle(&t, t0 + IDLE_MS, IDLE_MS), a);
        cr_expect_eq(lc_slots_wait_ms(&t, t0 + 150, TIMEOUTS), (int)(IDLE_MS - 150));
        lc_slots_touch(&t, a, t0 + 200);
        cr_expect_eq(lc_slots_past_idle(&t, t0 + 200 + IDLE_MS - 1, IDLE_MS), NONE);
        cr_expect_eq(lc_slots_past_idle(&t, t0 + 200 + IDLE_MS, IDLE_MS), a);
        lc_slots_release_all(&t);
    }
}

Test(drain_slots, a_fork_child_starts_from_an_empty_table)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    adopt(&t, 10, 0);
    adopt(&t, 11, 0);
    lc_slots_release_all(&t);
    cr_expect_null(t.slot);
    cr_expect_eq(t.used, 0);
    cr_expect_eq(lc_slots_wait_ms(&t, 0, TIMEOUTS), -1);
    cr_expect_eq(adopt(&t, 12, 0), 0, "slots are counted from the start again");
    lc_slots_release_all(&t);
}

/* Removing a slot twice would cut its neighbours out of the lists: the
 * invariant check stops it. */
Test(drain_slots, removing_a_slot_twice_is_caught, .signal = SIGABRT)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    adopt(&t, 10, 0);
    int32_t b = adopt(&t, 11, 0);
    adopt(&t, 12, 0);
    lc_slots_unlink(&t, b);
    lc_slots_unlink(&t, b);
}

Test(drain_slots, a_slot_given_back_is_no_longer_in_use, .signal = SIGABRT)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt(&t, 10, 0);
    finish(&t, a);
    lc_slots_touch(&t, a, 5);
}

/* ---- FINs held back for the peer's (LINGERCLOSE_PEER_FIN_WAIT) ----- */

Test(drain_slots, a_deferred_fin_slot_waits_in_by_fin_not_in_the_idle_list)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    adopt(&t, 10, 0);
    adopt_fin_deferred(&t, 11, 0);
    adopt(&t, 12, 0);
    adopt_fin_deferred(&t, 13, 5);
    expect_order(&t, true, (int[]){ 10, 11, 12, 13 }, 4);
    expect_order(&t, false, (int[]){ 10, 12 }, 2);
    expect_fin_order(&t, (int[]){ 11, 13 }, 2);
    lc_slots_release_all(&t);
}

Test(drain_slots, the_fin_deadline_comes_from_the_oldest_deferred_hand_off)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    adopt(&t, 10, 0);
    int32_t b = adopt_fin_deferred(&t, 11, 100);
    adopt_fin_deferred(&t, 12, 200);
    cr_expect_eq(lc_slots_past_fin(&t, 100 + FIN_WAIT_MS - 1, FIN_WAIT_MS), NONE,
                 "a millisecond early");
    cr_expect_eq(lc_slots_past_fin(&t, 100 + FIN_WAIT_MS, FIN_WAIT_MS), b, "due at its deadline");
    /* Input while the FIN waits moves no deadline: the wait is bounded
     * from the hand-off. */
    lc_slots_touch(&t, b, 150);
    cr_expect_eq(lc_slots_past_fin(&t, 100 + FIN_WAIT_MS, FIN_WAIT_MS), b);
    expect_fin_order(&t, (int[]){ 11, 12 }, 2);
    cr_expect_eq(t.slot[b].last_ms, lc_slot_stamp(150));
    lc_slots_release_all(&t);
}

Test(drain_slots, a_deferred_fin_slot_has_no_idle_deadline)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    adopt_fin_deferred(&t, 10, 0);
    cr_expect_eq(lc_slots_past_idle(&t, 10 * IDLE_MS, IDLE_MS), NONE,
                 "a peer waiting for our FIN sends nothing: that is no idleness");
    lc_slots_release_all(&t);
}

Test(drain_slots, once_the_fin_is_sent_the_idle_timeout_counts_from_it)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt(&t, 10, 0);
    int32_t b = adopt_fin_deferred(&t, 11, 0);
    lc_slots_fin_sent(&t, b, FIN_WAIT_MS);
    cr_expect_not(t.slot[b].fin_deferred);
    expect_fin_order(&t, NULL, 0);
    expect_order(&t, false, (int[]){ 10, 11 }, 2);
    expect_order(&t, true, (int[]){ 10, 11 }, 2);
    cr_expect_eq(lc_slots_past_fin(&t, TOTAL_MS, FIN_WAIT_MS), NONE);
    cr_expect_eq(lc_slots_past_idle(&t, IDLE_MS, IDLE_MS), a);
    finish(&t, a);
    cr_expect_eq(lc_slots_past_idle(&t, FIN_WAIT_MS + IDLE_MS - 1, IDLE_MS), NONE);
    cr_expect_eq(lc_slots_past_idle(&t, FIN_WAIT_MS + IDLE_MS, IDLE_MS), b);
    /* The total timeout still counts from the hand-off. */
    cr_expect_eq(lc_slots_past_total(&t, TOTAL_MS, TOTAL_MS), b);
    lc_slots_release_all(&t);
}

Test(drain_slots, a_deferred_fin_slot_is_removed_from_by_fin_when_it_ends)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt_fin_deferred(&t, 10, 0);
    adopt_fin_deferred(&t, 11, 0);
    int32_t c = adopt_fin_deferred(&t, 12, 0);
    finish(&t, a);
    finish(&t, c);
    expect_fin_order(&t, (int[]){ 11 }, 1);
    expect_order(&t, true, (int[]){ 11 }, 1);
    lc_slots_release_all(&t);
}

Test(drain_slots, the_wait_is_until_the_nearest_of_the_three_deadlines)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    adopt(&t, 10, 0);
    int32_t b = adopt_fin_deferred(&t, 11, 50);
    cr_expect_eq(lc_slots_wait_ms(&t, 50, TIMEOUTS), (int)FIN_WAIT_MS, "the FIN comes first");
    lc_slots_fin_sent(&t, b, 50 + FIN_WAIT_MS);
    cr_expect_eq(lc_slots_wait_ms(&t, 50 + FIN_WAIT_MS, TIMEOUTS),
                 (int)(IDLE_MS - 50 - FIN_WAIT_MS), "then fd 10's idle deadline");
    lc_slots_release_all(&t);

    struct lc_slots only_deferred = LC_SLOTS_EMPTY;
    adopt_fin_deferred(&only_deferred, 12, 0);
    cr_expect_eq(lc_slots_wait_ms(&only_deferred, 0, TIMEOUTS), (int)FIN_WAIT_MS,
                 "no slot in the idle list is no deadline of 0");
    cr_expect_eq(lc_slots_wait_ms(&only_deferred, 0,
                                  (struct lc_slot_timeouts){ 100, IDLE_MS, FIN_WAIT_MS }),
                 100, "a total timeout shorter than the wait ends it first");
    lc_slots_release_all(&only_deferred);
}

Test(drain_slots, sending_a_fin_that_was_not_deferred_is_caught, .signal = SIGABRT)
{
    struct lc_slots t = LC_SLOTS_EMPTY;
    int32_t a = adopt(&t, 10, 0);
    lc_slots_fin_sent(&t, a, 5);
}
