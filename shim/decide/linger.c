/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "decide/decide.h"
#include "decide/linger.h"
#include "decide/socket_state.h"
#include "drain/drain.h"
#include "drain/handoff.h"
#include "drain/park.h"
#include "holders/children.h"
#include "holders/fdtable.h"
#include "holders/holders.h"
#include "log/log.h"
#include "log/stats.h"
#include "sys/clock.h"
#include "sys/real.h"

#define CAPACITY_WARNING_INTERVAL_S 60

static _Atomic int64_t last_capacity_warning_s = INT64_MIN / 2;

static void warn_capacity(void)
{
    int64_t now_s = lc_now_ms() / 1000;
    int64_t last = atomic_load_explicit(&last_capacity_warning_s, memory_order_relaxed);
    if (now_s - last < CAPACITY_WARNING_INTERVAL_S ||
        !atomic_compare_exchange_strong(&last_capacity_warning_s, &last, now_s))
        return;
    lc_log(LC_LOG_WARN,
           "LINGERCLOSE_MAX_SOCKETS=%u sockets are lingering: closing plainly until one ends "
           "(capacity fallbacks so far: %llu)",
           lc_conf.max_sockets,
           (unsigned long long)atomic_load(&lc_stats.by_reason[LC_PLAIN_CAPACITY]) + 1);
}

static bool has_epoll_registrations(const struct lc_fd_entry *entry)
{
    if (entry->state & LC_FD_EPOLL_UNKNOWN)
        return true;
    for (int i = 0; i < LC_FD_EPOLL_SLOTS; i++)
        if (entry->epoll_fds[i] >= 0)
            return true;
    return false;
}

enum lc_reason lc_close_decide(const struct lc_fd_entry *entry, int fd,
                               struct lc_socket_state *state)
{
    uint64_t flags = entry->state;
    uint32_t record = lc_fd_record(flags);
    bool shared = false;
    if (record) {
        bool mine = has_epoll_registrations(entry);
        if (mine)
            lc_holders_note_epoll_left(record);
        uint32_t record_flags = 0;
        if (lc_holders_release(record, &record_flags) > 1) {
            shared = true;
        } else {
            flags = lc_fd_state_with(flags, record_flags);
            /* Our own registrations we can still remove; anyone else's not. */
            if (lc_holders_epoll_left(record_flags) > (mine ? 1u : 0u))
                flags |= LC_FD_EPOLL_LEFT;
        }
    }
    lc_socket_state_read(fd, flags, shared, state);
    enum lc_reason reason = lc_decide(state, lc_conf.mode);
    if (!lc_reason_lingers(reason))
        return reason;
    /* The facts that cost a system call are asked only of a close that
     * would linger, the first that holds settling it. */
    state->child_may_hold = !(flags & LC_FD_CLOEXEC) && lc_children_uncounted_may_hold();
    state->port_filtered = !state->child_may_hold && lc_port_filter_active(&lc_conf) &&
                           !lc_port_may_linger(&lc_conf, lc_socket_local_port(fd));
    if (state->child_may_hold || state->port_filtered)
        reason = lc_decide(state, lc_conf.mode);
    return reason;
}

/* Each registration lives as long as the socket, not the descriptor:
 * without this, the app's epoll set would keep reporting the socket we
 * drain under a number the app may already have reused. False if one
 * could not be removed (the epoll descriptor is gone or is another one). */
static bool forget_epoll_registrations(int fd, const struct lc_fd_entry *entry)
{
    bool all_gone = true;
    for (int i = 0; i < LC_FD_EPOLL_SLOTS; i++) {
        if (entry->epoll_fds[i] >= 0 &&
            lc_real_epoll_ctl(entry->epoll_fds[i], EPOLL_CTL_DEL, fd, NULL) != 0 && errno != ENOENT)
            all_gone = false;
    }
    return all_gone;
}

/* The FIN goes before the socket is kept because it is also the last
 * check: a connection the peer has reset still has its unread input (the
 * peek saw it), but no state to linger in, and shutdown() says so with
 * ENOTCONN. A FIN held back for the peer's is held only on an established
 * connection (after the program's own SHUT_WR it has gone already); a
 * reset that comes in between ends the drain at its first read. */
static bool linger(int fd, const struct lc_fd_entry *entry, const struct lc_socket_state *state,
                   const struct lc_keeper *keeper, enum lc_reason *plain_reason)
{
    enum lc_reason no_place;
    if (!keeper->reserve(keeper->ctx, fd, entry, &no_place)) {
        *plain_reason = no_place;
        return false;
    }
    bool fin_deferred = state->tcp_state == LC_TCP_ESTABLISHED && keeper->defers_fin &&
                        keeper->defers_fin(keeper->ctx);
    if (!fin_deferred && lc_real_shutdown(fd, SHUT_WR) != 0 && errno == ENOTCONN) {
        keeper->unreserve(keeper->ctx);
        *plain_reason = LC_PLAIN_NOT_CONNECTED;
        return false;
    }
    if (keeper->keep(keeper->ctx, fd, state->unread_bytes > 0, fin_deferred))
        return true;
    *plain_reason = LC_PLAIN_UNAVAILABLE;
    return false;
}

bool lc_close_prepare(int fd, const char *how, const struct lc_keeper *keeper)
{
    struct lc_fd_entry entry;
    if (!lc_fdtable_take(fd, &entry))
        return !(entry.state & LC_FD_PRIVATE);

    int saved_errno = errno;
    lc_count(&lc_stats.closes_seen, 1);
    struct lc_socket_state state;
    enum lc_reason reason = lc_close_decide(&entry, fd, &state);
    bool lingers = lc_reason_lingers(reason) &&
                   linger(fd, &entry, &state, keeper, &reason);
    lc_count(&lc_stats.by_reason[reason], 1);
    const char *ending = keeper->ending ? keeper->ending : "";
    const char *separator = keeper->ending ? ": " : "";
    if (lingers)
        lc_log(LC_LOG_DEBUG, "%s%s%s(%d): lingering (%s, %u bytes unread)", ending, separator, how,
               fd, lc_reason_name(reason), state.unread_bytes);
    else
        lc_log(LC_LOG_DEBUG, "%s%s%s(%d): plain (%s)", ending, separator, how, fd,
               lc_reason_name(reason));
    errno = saved_errno;
    return true;
}

/* ---- the drain thread as keeper -------------------------------------- */

struct drain_place {
    bool to_thread; /* else the park: this process has no drain thread yet */
    uint32_t queued;
};

static bool drain_reserve(void *ctx, int fd, const struct lc_fd_entry *entry,
                          enum lc_reason *plain_reason)
{
    struct drain_place *place = ctx;
    *plain_reason = LC_PLAIN_UNAVAILABLE;
    place->to_thread = lc_drain_started();
    if (!place->to_thread && !lc_drain_never_started())
        return false;
    /* Before the FIN, which SIOCOUTQ would count as a byte. */
    if (!lc_drain_take_place(fd, &place->queued, plain_reason)) {
        if (*plain_reason == LC_PLAIN_CAPACITY)
            warn_capacity();
        return false;
    }
    if (!forget_epoll_registrations(fd, entry)) {
        lc_drain_give_back_place(place->queued);
        *plain_reason = LC_PLAIN_EPOLL_UNKNOWN;
        return false;
    }
    return true;
}

static void drain_unreserve(void *ctx)
{
    struct drain_place *place = ctx;
    lc_drain_give_back_place(place->queued);
}

static bool drain_defers_fin(void *ctx)
{
    const struct drain_place *place = ctx;
    return place->to_thread && lc_conf.peer_fin_wait_ms > 0;
}

/* The drain (or, in a process without a drain thread yet, the park) holds
 * the socket from now on; the caller's close only drops the program's
 * descriptor. */
static _Atomic bool handoff_failure_logged;

static bool drain_keep(void *ctx, int fd, bool input_unread, bool fin_deferred)
{
    struct drain_place *place = ctx;
    if (place->to_thread && lc_drain_submit(fd, place->queued, input_unread, fin_deferred))
        return true;
    /* A parked socket is not the drain's: its output counts again once
     * it is handed over. */
    drain_unreserve(ctx);
    if (place->to_thread && !atomic_exchange(&handoff_failure_logged, true)) {
        int error = errno;
        lc_log(LC_LOG_WARN,
               "cannot hand a socket to the drain thread: %s (errno %d); keeping it until the "
               "next close hands it over, closing plainly when no place is left",
               lc_errno_text(error), error);
    }
    /* A hand-off that failed (no buffer for the message this once) is
     * retried by the next close: the FIN is sent (now, if it was to wait
     * for the peer's: a parked socket has no deadline for it), and a plain
     * close now would reset the response. */
    if (fin_deferred)
        lc_real_shutdown(fd, SHUT_WR);
    return lc_park(fd);
}

bool lc_close_begin(int fd, const char *how)
{
    if (lc_park_any()) {
        lc_park_expire(lc_now_ms());
        if (lc_drain_started())
            lc_park_hand_to_drain();
    }
    struct drain_place place = { false, 0 };
    const struct lc_keeper to_drain = {
        .reserve = drain_reserve,
        .unreserve = drain_unreserve,
        .defers_fin = drain_defers_fin,
        .keep = drain_keep,
        .ctx = &place,
        .ending = NULL,
    };
    return lc_close_prepare(fd, how, &to_drain);
}

int lc_close(int fd)
{
    if (!lc_close_begin(fd, "close")) {
        errno = EBADF;
        return -1;
    }
    return lc_real_close(fd);
}
