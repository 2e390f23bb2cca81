#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "clock.h"
#include "conf.h"
#include "exit.h"
#include "export.h"
#include "fdtable.h"
#include "handoff.h"
#include "linger.h"
#include "log.h"
#include "park.h"
#include "real.h"
#include "stats.h"

/* Beyond this many, connections still left at exit close plainly. */
#define EXIT_SOCKETS_MAX 256

struct exit_set {
    const char *how;
    struct pollfd fds[EXIT_SOCKETS_MAX];
    int count;
};

static void decide_at_exit(int fd, uint64_t state, void *ctx)
{
    struct exit_set *set = ctx;
    struct lc_fd_snapshot entry;
    if ((state & LC_FD_PRIVATE) || !lc_fdtable_take(fd, &entry))
        return;
    lc_count(&lc_stats.closes_seen, 1);
    struct lc_sockstate sock;
    enum lc_reason reason = lc_close_decide(&entry, fd, &sock);
    if (lc_reason_lingers(reason) && set->count == EXIT_SOCKETS_MAX)
        reason = LC_PLAIN_CAPACITY;
    /* As in a close: a connection the peer has reset has nothing to wait for. */
    if (lc_reason_lingers(reason) && lc_real_shutdown(fd, SHUT_WR) != 0 && errno == ENOTCONN)
        reason = LC_PLAIN_NOT_CONNECTED;
    lc_count(&lc_stats.by_reason[reason], 1);
    if (!lc_reason_lingers(reason)) {
        lc_log(LC_LOG_DEBUG, "%s: fd %d: plain (%s)", set->how, fd, lc_reason_name(reason));
        return;
    }
    lc_log(LC_LOG_DEBUG, "%s: fd %d: lingering (%s, %u bytes unread)", set->how, fd,
           lc_reason_name(reason), sock.unread_bytes);
    set->fds[set->count++] = (struct pollfd){ .fd = fd, .events = POLLIN };
}

/* Discards what is readable (MSG_TRUNC: without copying it into the
 * buffer, which is only there for checkers such as valgrind); false once
 * the peer is done (EOF or error). */
static bool still_open(int fd)
{
    static char scratch[64 * 1024];
    for (;;) {
        ssize_t n = recv(fd, scratch, sizeof scratch, MSG_TRUNC | MSG_DONTWAIT);
        if (n > 0) {
            lc_count(&lc_stats.bytes_discarded, (uint64_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        lc_count(&lc_stats.drain_ended[n == 0 ? LC_END_EOF : LC_END_ERROR], 1);
        return false;
    }
}

void lc_exit_linger(const char *how)
{
    static _Atomic bool done;
    if (!lc_ready() || lc_conf.exit_timeout_ms == 0 || atomic_exchange(&done, true))
        return;
    int saved_errno = errno;
    int64_t start = lc_now_ms();
    int64_t deadline = start + lc_conf.exit_timeout_ms;
    /* Static: this runs once per process, maybe in a signal handler on a
     * small alternate stack. */
    static struct exit_set set;
    set.how = how;
    set.count = 0;
    /* Lingering since a close that found no drain thread (park.h). */
    int parked[LC_PARKED_MAX];
    int parked_count = lc_park_take_all(parked, LC_PARKED_MAX);
    for (int i = 0; i < parked_count; i++)
        set.fds[set.count++] = (struct pollfd){ .fd = parked[i], .events = POLLIN };
    lc_fdtable_for_each(0, ~0u, decide_at_exit, &set);
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
            if (set.fds[i].revents && !still_open(set.fds[i].fd))
                set.fds[i] = set.fds[--set.count];
            else
                i++;
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
