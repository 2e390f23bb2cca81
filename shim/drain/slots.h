/* SPDX-License-Identifier: MIT */
/* The drain thread's lingering sockets: one slot each, and intrusive
 * lists that keep the deadlines ordered for free. "by_start" is in
 * hand-off order (total timeout), "by_activity" in order of last data
 * (idle timeout), "by_fin" in hand-off order too, for the sockets whose FIN
 * is held back (LINGERCLOSE_PEER_FIN_WAIT), so the next deadline is always
 * at one of the three heads. A slot is in by_start, and in by_fin while its
 * FIN is held back, in by_activity after: the idle timeout counts from the
 * FIN, since a peer that waits for it sends nothing until then.
 *
 * Pure bookkeeping over memory the table maps itself: no socket, no
 * configuration, no lock (the drain thread is the only user). */
#ifndef LINGERCLOSE_DRAIN_SLOTS_H
#define LINGERCLOSE_DRAIN_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LC_SLOT_NONE (-1)

/* A slot's times: the low 32 bits of the monotonic clock in milliseconds.
 * Only differences are taken, modulo 2^32, so they are right for any span
 * under 49 days; a slot lives at most LINGERCLOSE_TIMEOUT (an hour at the
 * most). Four bytes a stamp instead of eight keep a slot, with its three
 * stamps, within the bound on memory per lingering socket. */
typedef uint32_t lc_slot_ms;

static inline lc_slot_ms lc_slot_stamp(int64_t now)
{
    return (lc_slot_ms)now;
}

/* Milliseconds from `since` to `now`. */
static inline int64_t lc_slot_elapsed(lc_slot_ms since, int64_t now)
{
    return (lc_slot_ms)((lc_slot_ms)now - since);
}

/* One lingering socket.
 *
 * A socket handed over with output not yet acknowledged ("queued", as
 * counted against LINGERCLOSE_MAX_QUEUED) is also asked, at most once per
 * idle timeout and only when the thread is awake for it anyway, whether the
 * peer has read anything since the last look: whether it acknowledged
 * beyond "window_edge", the right edge of the window it advertised then
 * (at "output_checked_ms"). A peer does not move that edge until its
 * program reads; what was in flight, or fitted in its window, it
 * acknowledges all the same. */
struct lc_slot {
    int fd; /* LC_SLOT_NONE: free, and next_start links the free list */
    int32_t prev_start, next_start;
    int32_t prev_activity, next_activity; /* or by_fin's links, while fin_deferred */
    lc_slot_ms start_ms, last_ms, output_checked_ms;
    uint32_t queued : 29; /* at most LC_SLOT_QUEUED_MAX */
    uint32_t reset_if_stalled : 1;
    uint32_t fin_deferred : 1; /* no FIN sent yet: waiting for the peer's */
    uint32_t window_edge_known : 1; /* a look at it has succeeded */
    /* The edge's low 32 bits: from one look to the next it moves by less
     * than 2^31 (what was queued at the close, under 2^29, plus a change
     * of window, under 2^30), so they tell forward from back. */
    uint32_t window_edge;
    uint64_t bytes;
};

/* Unacknowledged output a lingering socket may carry: more is a plain
 * close (reason queue-cap), whatever LINGERCLOSE_MAX_QUEUED allows. */
#define LC_SLOT_QUEUED_MAX ((UINT32_C(1) << 29) - 1)

struct lc_slot_list {
    int32_t head, tail;
};

/* Room for `capacity` slots is reserved at the first lc_slots_take and
 * backed only as far as it has ever been used: memory follows the peak of
 * lingering sockets, one slot each, with nothing to copy as it grows. */
struct lc_slots {
    struct lc_slot *slot;
    size_t mapped_bytes;
    uint32_t used; /* slots handed out at least once: 0..used-1 */
    int32_t free_head;
    struct lc_slot_list by_start, by_activity, by_fin;
};

#define LC_SLOTS_EMPTY                                                                             \
    {                                                                                              \
        .slot = NULL, .mapped_bytes = 0, .used = 0, .free_head = LC_SLOT_NONE,                     \
        .by_start = { LC_SLOT_NONE, LC_SLOT_NONE }, .by_activity = { LC_SLOT_NONE, LC_SLOT_NONE }, \
        .by_fin = { LC_SLOT_NONE, LC_SLOT_NONE }                                                   \
    }

/* A free slot, in neither list; LC_SLOT_NONE when `capacity` are in use or
 * the room cannot be mapped. */
int32_t lc_slots_take(struct lc_slots *t, uint32_t capacity);
/* Back to the free list; the slot must be in neither list. */
void lc_slots_give_back(struct lc_slots *t, int32_t index);

/* The slot, its fd, start_ms, last_ms and fin_deferred set, goes to the tail
 * of by_start and of by_fin (fin_deferred) or by_activity. */
void lc_slots_link(struct lc_slots *t, int32_t index);
void lc_slots_unlink(struct lc_slots *t, int32_t index);
/* Input arrived at `now`: the slot's idle deadline moves on (to the tail
 * of by_activity, once per distinct time). A slot whose FIN is held has no
 * idle deadline yet: only last_ms changes. */
void lc_slots_touch(struct lc_slots *t, int32_t index, int64_t now);
/* The held FIN went out at `now`: from by_fin to the tail of by_activity,
 * the idle timeout counting from now. */
void lc_slots_fin_sent(struct lc_slots *t, int32_t index, int64_t now);

/* The oldest slot whose total (by_start) or idle (by_activity) deadline
 * has come at `now`, or LC_SLOT_NONE. */
int32_t lc_slots_past_total(const struct lc_slots *t, int64_t now, uint32_t total_timeout_ms);
int32_t lc_slots_past_idle(const struct lc_slots *t, int64_t now, uint32_t idle_timeout_ms);
/* The oldest slot whose FIN has been held for fin_wait_ms at `now`, or
 * LC_SLOT_NONE. */
int32_t lc_slots_past_fin(const struct lc_slots *t, int64_t now, uint32_t fin_wait_ms);

/* The three timeouts the deadlines are measured with. */
struct lc_slot_timeouts {
    uint32_t total_ms, idle_ms, fin_wait_ms;
};
/* Milliseconds until the next deadline (0 if one has passed), or -1 with
 * no slot in use: an epoll_wait timeout. */
int lc_slots_wait_ms(const struct lc_slots *t, int64_t now, struct lc_slot_timeouts timeouts);

/* Forgets every slot and gives the room back (a fork() child, whose
 * sockets are the parent's). */
void lc_slots_release_all(struct lc_slots *t);

#endif
