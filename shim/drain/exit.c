/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "decide/linger.h"
#include "drain/discard.h"
#include "drain/exit.h"
#include "drain/handoff.h"
#include "drain/park.h"
#include "holders/fdtable.h"
#include "log/log.h"
#include "log/stats.h"
#include "sys/clock.h"
#include "sys/export.h"

/* Beyond this many, connections still left at exit close plainly. */
#define EXIT_SOCKETS_MAX 256

/* The connections lingering here, FIN sent, until their peers close. */
struct exit_set {
    struct pollfd fds[EXIT_SOCKETS_MAX];
    uint64_t bytes[EXIT_SOCKETS_MAX];
    int count;
};

static void add(struct exit_set *set, int fd)
{
    set->fds[set->count] = (struct pollfd){ .fd = fd, .events = POLLIN };
    set->bytes[set->count++] = 0;
}

static void drop(struct exit_set *set, int i)
{
    set->count--;
    set->fds[i] = set->fds[set->count];
    set->bytes[i] = set->bytes[set->count];
}

static bool exit_reserve(void *ctx, int fd, const struct lc_fd_entry *entry,
                         enum lc_reason *plain_reason)
{
    (void)fd;
    (void)entry;
    struct exit_set *set = ctx;
    *plain_reason = LC_PLAIN_CAPACITY;
    return set->count < EXIT_SOCKETS_MAX;
}

static void exit_unreserve(void *ctx)
{
    (void)ctx;
}

static bool exit_keep(void *ctx, int fd, bool input_unread, bool fin_deferred)
{
    (void)input_unread;
    (void)fin_deferred;
    add(ctx, fd);
    return true;
}

static void decide_at_exit(int fd, uint64_t state, void *keeper)
{
    if (!(state & LC_FD_PRIVATE))
        lc_close_prepare(fd, "close", keeper);
}

/* This runs once per process, maybe in a signal handler on a small
 * alternate stack: what it needs is static. */
static struct exit_set set;
static char scratch[64 * 1024];

static const struct lc_discarder discarder = {
    .receive = recv,
    .log = lc_log,
    .scratch = scratch,
    .scratch_size = sizeof scratch,
    .max_reads = 0,
    .after_read = NULL,
};

void lc_exit_linger(const char *how)
{
    static _Atomic bool done;
    if (!lc_ready() || lc_conf.exit_timeout_ms == 0)
        return;
    /* Nothing is written, and no clock read, before there is something to
     * linger on: a process that never recorded a socket, and each child it
     * forks, exits without copying a page of the library's. */
    if (!lc_fdtable_ever_used() && !lc_park_any() && lc_drain_in_flight() == 0)
        return;
    if (atomic_exchange(&done, true))
        return;
    int saved_errno = errno;
    int64_t start = lc_now_ms();
    int64_t deadline = start + lc_conf.exit_timeout_ms;
    if (set.count) /* read first: an exiting child then copies no page for it */
        set.count = 0;
    /* Lingering since a close that found no drain thread (park.h). */
    int parked[LC_PARKED_MAX];
    int parked_count = lc_park_take_all(parked, LC_PARKED_MAX);
    for (int i = 0; i < parked_count; i++)
        add(&set, parked[i]);
    static struct lc_keeper keeper = {
        .reserve = exit_reserve,
        .unreserve = exit_unreserve,
        .keep = exit_keep,
        .ctx = &set,
    };
    keeper.ending = how;
    lc_fdtable_for_each(0, ~0u, decide_at_exit, &keeper);
    if (set.count == 0 && lc_drain_in_flight() == 0) {
        errno = saved_errno;
        return;
    }

    while (set.count > 0 || lc_drain_in_flight() > 0) {
        int64_t left = deadline - lc_now_ms();
        if (left <= 0)
            break;
        /* The drain thread's sockets are not ours to poll: look again soon. */
        int wait = lc_drain_in_flight() > 0 && left > 2 ? 2 : (int)left;
        if (poll(set.fds, (nfds_t)set.count, wait) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < set.count;) {
            enum lc_drain_end end;
            if (set.fds[i].revents &&
                lc_discard(&discarder, set.fds[i].fd, &set.bytes[i], NULL, &end)) {
                lc_count(&lc_stats.drain_ended[end], 1);
                drop(&set, i);
            } else {
                i++;
            }
        }
    }
    lc_count(&lc_stats.drain_ended[LC_END_EXIT], (uint64_t)set.count);
    if (set.count || lc_drain_in_flight())
        lc_log(LC_LOG_INFO, "%s: LINGERCLOSE_EXIT_TIMEOUT reached with %d connection(s) still open",
               how, set.count + (int)lc_drain_in_flight());
    else
        lc_log(LC_LOG_DEBUG, "%s: every peer closed within %lld ms", how,
               (long long)(lc_now_ms() - start));
    errno = saved_errno;
}
