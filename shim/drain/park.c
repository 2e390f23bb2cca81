/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "conf/conf.h"
#include "drain/handoff.h"
#include "drain/park.h"
#include "holders/fdtable.h"
#include "log/stats.h"
#include "sys/clock.h"
#include "sys/raw.h"

#define EMPTY (-1)
/* Taken by a caller that is parking, closing or moving the slot's socket:
 * nobody else touches it meanwhile. */
#define BUSY (-2)

/* Slots are claimed with a compare-and-swap, so that a close in a signal
 * handler nested in another close, or another thread, finds a consistent
 * table. */
static _Atomic int parked_fd[LC_PARKED_MAX] = { [0 ... LC_PARKED_MAX - 1] = EMPTY };
static _Atomic int64_t parked_since_ms[LC_PARKED_MAX];
static _Atomic int parked_count;

static void release_private(int fd)
{
    lc_fdtable_set(fd, 0);
    lc_raw_close(fd);
}

bool lc_park(int fd)
{
    if (atomic_load(&parked_count) >= LC_PARKED_MAX)
        return false;
    for (int i = 0; i < LC_PARKED_MAX; i++) {
        int expected = EMPTY;
        if (!atomic_compare_exchange_strong(&parked_fd[i], &expected, BUSY))
            continue;
        int moved = lc_drain_move_to_private(fd);
        if (moved < 0) {
            atomic_store(&parked_fd[i], EMPTY);
            return false;
        }
        atomic_store(&parked_since_ms[i], lc_now_ms());
        atomic_fetch_add(&parked_count, 1);
        atomic_store(&parked_fd[i], moved);
        return true;
    }
    return false;
}

bool lc_park_any(void)
{
    return atomic_load_explicit(&parked_count, memory_order_relaxed) > 0;
}

/* Takes slot i if it still holds `fd`: the caller then owns fd and must
 * give the slot back with unpark_done(). */
static bool unpark(int i, int fd)
{
    int expected = fd;
    return fd >= 0 && atomic_compare_exchange_strong(&parked_fd[i], &expected, BUSY);
}

static void unpark_done(int i)
{
    atomic_fetch_sub(&parked_count, 1);
    atomic_store(&parked_fd[i], EMPTY);
}

void lc_park_expire(int64_t now_ms)
{
    for (int i = 0; i < LC_PARKED_MAX; i++) {
        int fd = atomic_load(&parked_fd[i]);
        if (fd < 0 || now_ms - atomic_load(&parked_since_ms[i]) < lc_conf.total_timeout_ms)
            continue;
        if (unpark(i, fd)) {
            lc_count(&lc_stats.drain_ended[LC_END_TOTAL], 1);
            release_private(fd);
            unpark_done(i);
        }
    }
}

void lc_park_hand_to_drain(void)
{
    for (int i = 0; i < LC_PARKED_MAX && lc_park_any(); i++) {
        int fd = atomic_load(&parked_fd[i]);
        if (!unpark(i, fd))
            continue;
        uint32_t queued;
        enum lc_reason refused;
        bool handed = lc_drain_take_place(fd, &queued, &refused);
        if (handed && !lc_drain_submit(fd, queued, false, false)) {
            lc_drain_give_back_place(queued);
            handed = false;
        }
        if (!handed)
            lc_count(&lc_stats.drain_ended[LC_END_ERROR], 1);
        release_private(fd);
        unpark_done(i);
    }
}

int lc_park_take_all(int *fds, int max)
{
    int taken = 0;
    for (int i = 0; i < LC_PARKED_MAX && taken < max; i++) {
        int fd = atomic_load(&parked_fd[i]);
        if (unpark(i, fd)) {
            fds[taken++] = fd;
            unpark_done(i);
        }
    }
    return taken;
}

/* The number must be free of the library's socket before the program's
 * dup2 takes it: if someone else is closing or handing it over right now,
 * wait until they have (a signal handler nested in this thread finishes
 * before this resumes, so the wait ends). */
void lc_park_evict(int fd)
{
    for (int i = 0; i < LC_PARKED_MAX; i++) {
        if (atomic_load(&parked_fd[i]) != fd)
            continue;
        if (!unpark(i, fd)) {
            while (atomic_load(&parked_fd[i]) == BUSY)
                sched_yield();
            return;
        }
        int moved = lc_drain_move_to_private(fd);
        lc_fdtable_set(fd, 0);
        if (moved >= 0) {
            atomic_store(&parked_fd[i], moved);
        } else {
            /* The dup2 about to happen closes it. */
            lc_count(&lc_stats.drain_ended[LC_END_ERROR], 1);
            unpark_done(i);
        }
        return;
    }
}

void lc_park_forget_in_child(void)
{
    /* Read before written, so that a child with nothing parked copies no page. */
    for (int i = 0; i < LC_PARKED_MAX; i++) {
        if (atomic_load(&parked_fd[i]) == EMPTY)
            continue;
        int fd = atomic_exchange(&parked_fd[i], EMPTY);
        if (fd >= 0)
            release_private(fd);
    }
    if (atomic_load(&parked_count))
        atomic_store(&parked_count, 0);
}
