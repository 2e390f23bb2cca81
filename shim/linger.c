#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "decide.h"
#include "drain.h"
#include "fdtable.h"
#include "linger.h"
#include "log.h"
#include "real.h"
#include "snapshot.h"
#include "stats.h"

#define CAPACITY_WARNING_INTERVAL_S 60

static _Atomic int64_t last_capacity_warning_s = INT64_MIN / 2;

static void warn_capacity(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t last = atomic_load_explicit(&last_capacity_warning_s, memory_order_relaxed);
    if (ts.tv_sec - last < CAPACITY_WARNING_INTERVAL_S ||
        !atomic_compare_exchange_strong(&last_capacity_warning_s, &last, ts.tv_sec))
        return;
    lc_log(LC_LOG_WARN,
           "LINGERCLOSE_MAX_SOCKETS=%u sockets are lingering: closing plainly until one ends "
           "(%llu such closes so far)",
           lc_conf.max_sockets,
           (unsigned long long)atomic_load(&lc_stats.by_reason[LC_PLAIN_CAPACITY]) + 1);
}

/* Each registration lives as long as the socket, not the descriptor:
 * without this, the app's epoll set would keep reporting the socket we
 * drain under a number the app may already have reused. */
static void forget_epoll_registrations(int fd, const struct lc_fd_snapshot *entry)
{
    for (int i = 0; i < LC_FD_EPOLL_SLOTS; i++) {
        if (entry->epoll_fds[i] >= 0)
            lc_real_epoll_ctl(entry->epoll_fds[i], EPOLL_CTL_DEL, fd, NULL);
    }
}

/* On success the app's descriptor is closed, *close_result holds what the
 * real close returned and the drain owns the socket. Otherwise nothing has
 * happened to the socket and *plain_reason says why. */
static bool hand_off(int fd, const struct lc_fd_snapshot *entry, int *close_result,
                     enum lc_reason *plain_reason)
{
    *plain_reason = LC_PLAIN_UNAVAILABLE;
    if (!lc_drain_reserve()) {
        warn_capacity();
        *plain_reason = LC_PLAIN_CAPACITY;
        return false;
    }
    if (!lc_drain_start()) {
        lc_drain_unreserve();
        return false;
    }
    int private_fd = lc_drain_private_dup(fd);
    if (private_fd < 0) {
        lc_drain_unreserve();
        return false;
    }
    forget_epoll_registrations(fd, entry);
    if (lc_real_shutdown(private_fd, SHUT_WR) != 0 && errno != ENOTCONN) {
        lc_drain_discard(private_fd);
        return false;
    }
    *close_result = lc_real_close(fd);
    int close_errno = errno;
    if (!lc_drain_submit(private_fd))
        lc_drain_discard(private_fd);
    errno = close_errno;
    return true;
}

int lc_close(int fd)
{
    struct lc_fd_snapshot entry;
    if (!lc_fdtable_take(fd, &entry)) {
        if (entry.state & LC_FD_PRIVATE) {
            /* Ours, not the app's: to the app this number is not open. */
            errno = EBADF;
            return -1;
        }
        return lc_real_close(fd);
    }

    int saved_errno = errno;
    lc_count(&lc_stats.closes_seen, 1);
    struct lc_sockstate state;
    lc_snapshot_take(fd, entry.state, &state);
    enum lc_reason reason = lc_decide(&state, lc_conf.mode);

    if (lc_reason_lingers(reason)) {
        int result;
        enum lc_reason fallback;
        if (hand_off(fd, &entry, &result, &fallback)) {
            lc_count(&lc_stats.by_reason[reason], 1);
            lc_log(LC_LOG_DEBUG, "close(%d): lingering (%s, %u bytes unread)", fd,
                   lc_reason_name(reason), state.unread_bytes);
            if (result == 0)
                errno = saved_errno;
            return result;
        }
        reason = fallback;
    }

    lc_count(&lc_stats.by_reason[reason], 1);
    lc_log(LC_LOG_DEBUG, "close(%d): plain (%s)", fd, lc_reason_name(reason));
    errno = saved_errno;
    return lc_real_close(fd);
}
