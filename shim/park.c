#include "config.h"

#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf.h"
#include "drain.h"
#include "fdtable.h"
#include "park.h"
#include "stats.h"

#define EMPTY (-1)

/* Slots are claimed with a compare-and-swap, so that a close in a signal
 * handler nested in another close finds a consistent table. */
static _Atomic int parked_fd[LC_PARKED_MAX] = { [0 ... LC_PARKED_MAX - 1] = EMPTY };
static _Atomic int64_t parked_since_ms[LC_PARKED_MAX];
static _Atomic int parked_count;

static void release_private(int fd)
{
    lc_fdtable_set(fd, 0);
    syscall(SYS_close, fd);
}

bool lc_park(int fd)
{
    if (atomic_load(&parked_count) >= LC_PARKED_MAX)
        return false;
    int moved = lc_drain_move_to_private(fd);
    if (moved < 0)
        return false;
    int64_t now = lc_now_ms();
    for (int i = 0; i < LC_PARKED_MAX; i++) {
        int expected = EMPTY;
        if (atomic_load(&parked_fd[i]) != EMPTY)
            continue;
        /* Written before the slot is taken, so that an expiry never reads
         * an old time for it; a rival that takes the slot first wrote the
         * same moment. */
        atomic_store(&parked_since_ms[i], now);
        if (atomic_compare_exchange_strong(&parked_fd[i], &expected, moved)) {
            atomic_fetch_add(&parked_count, 1);
            return true;
        }
    }
    release_private(moved);
    return false;
}

bool lc_park_any(void)
{
    return atomic_load_explicit(&parked_count, memory_order_relaxed) > 0;
}

/* Takes slot i's descriptor if it still holds `fd`. */
static bool unpark(int i, int fd)
{
    int expected = fd;
    if (!atomic_compare_exchange_strong(&parked_fd[i], &expected, EMPTY))
        return false;
    atomic_fetch_sub(&parked_count, 1);
    return true;
}

void lc_park_expire(int64_t now_ms)
{
    for (int i = 0; i < LC_PARKED_MAX; i++) {
        int fd = atomic_load(&parked_fd[i]);
        if (fd == EMPTY || now_ms - atomic_load(&parked_since_ms[i]) < lc_conf.total_timeout_ms)
            continue;
        if (unpark(i, fd)) {
            lc_count(&lc_stats.drain_ended[LC_END_TOTAL], 1);
            release_private(fd);
        }
    }
}

void lc_park_hand_to_drain(void)
{
    for (int i = 0; i < LC_PARKED_MAX && lc_park_any(); i++) {
        int fd = atomic_load(&parked_fd[i]);
        if (fd == EMPTY || !unpark(i, fd))
            continue;
        uint32_t queued = 0;
        bool handed = lc_drain_reserve();
        if (handed && !lc_drain_account_output(fd, &queued)) {
            lc_drain_unreserve();
            handed = false;
        } else if (handed && !lc_drain_submit(fd, queued)) {
            lc_drain_unaccount_output(queued);
            lc_drain_unreserve();
            handed = false;
        }
        if (!handed)
            lc_count(&lc_stats.drain_ended[LC_END_ERROR], 1);
        release_private(fd);
    }
}

int lc_park_take_all(int *fds, int max)
{
    int taken = 0;
    for (int i = 0; i < LC_PARKED_MAX && taken < max; i++) {
        int fd = atomic_load(&parked_fd[i]);
        if (fd != EMPTY && unpark(i, fd))
            fds[taken++] = fd;
    }
    return taken;
}

void lc_park_evict(int fd)
{
    for (int i = 0; i < LC_PARKED_MAX; i++) {
        if (atomic_load(&parked_fd[i]) != fd)
            continue;
        int moved = lc_drain_move_to_private(fd);
        if (moved >= 0) {
            atomic_store(&parked_fd[i], moved);
        } else if (unpark(i, fd)) {
            lc_count(&lc_stats.drain_ended[LC_END_ERROR], 1);
        }
        lc_fdtable_set(fd, 0);
        return;
    }
}

void lc_park_forget_in_child(void)
{
    for (int i = 0; i < LC_PARKED_MAX; i++) {
        int fd = atomic_exchange(&parked_fd[i], EMPTY);
        if (fd != EMPTY)
            release_private(fd);
    }
    atomic_store(&parked_count, 0);
}
