/* SPDX-License-Identifier: MIT */
/* A lingering close, end to end.
 *
 * In the program's close() (decide/linger.c, handoff.c), with no lock and
 * no allocation: the decision; a place in the drain (a count, and the
 * unacknowledged output for LINGERCLOSE_MAX_QUEUED); the program's epoll
 * registrations of the socket removed; shutdown(SHUT_WR), so the FIN
 * leaves at once, from inside close(); then one sendmsg(SCM_RIGHTS) of the
 * socket on a non-blocking unix socket pair, and the program's number is
 * closed as asked. With LINGERCLOSE_PEER_FIN_WAIT the shutdown is left
 * out and the hand-off says so: the drain holds the FIN back.
 *
 * Here, in the drain thread, which owns every lingering socket in a
 * descriptor table of its own:
 *  - It sleeps in epoll_wait on one set that holds the channel and the
 *    sockets. The kernel wakes it only while it sleeps: hand-offs sent
 *    while it works queue in the channel, and each wake-up takes them all,
 *    up to HANDOFFS_PER_RECV per recvmmsg. A burst of closes costs one
 *    wake-up, not one each.
 *  - Adopting a socket reads it at once (recv MSG_TRUNC: nothing copied).
 *    When the peer's FIN is already queued, as it often is by then, the
 *    drain ends there: the socket is closed without ever being registered
 *    with epoll. Otherwise one EPOLL_CTL_ADD, level-triggered; the final
 *    close removes it.
 *  - Each wake-up serves the ready sockets (at most RECVS_PER_WAKEUP reads
 *    each), ends the drains past their idle or total timeout (slots.h keeps
 *    them in deadline order), and sleeps until the next deadline: nothing
 *    wakes it while nothing is due.
 *  - A socket handed over with its FIN held back is drained the same way;
 *    the peer's FIN ends it as any other, and the close that follows is
 *    then the passive one: no TIME_WAIT on this side. If the peer has not
 *    closed when LINGERCLOSE_PEER_FIN_WAIT is over, the FIN goes out then
 *    and the drain goes on as any other, its idle timeout counted from the
 *    FIN, its total timeout from the hand-off.
 * A socket whose peer closes promptly thus costs the thread its share of
 * one epoll_wait and one recvmmsg, one or two recv, and the close. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/conf.h"
#include "drain/discard.h"
#include "drain/handoff.h"
#include "drain/loop.h"
#include "drain/slots.h"
#include "log/log.h"
#include "log/stats.h"
#include "log/stats_timer.h"
#include "sys/clock.h"
#include "sys/invariant.h"
#include "sys/raw.h"

#define NONE LC_SLOT_NONE
#define HANDOFF_TAG UINT32_MAX
#define RECVS_PER_WAKEUP 16

/* Everything below belongs to the drain thread, under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int receive_fd = NONE;
static int epoll_fd = NONE;
static struct lc_slots slots = LC_SLOTS_EMPTY;

/* Lines the thread writes only once it has let go of its lock: a fork()
 * waits for that lock, and must not wait for a slow stderr too. */
#define DEFERRED_LINES 16
static struct {
    enum lc_log_level level;
    char text[200];
} deferred[DEFERRED_LINES];
static unsigned deferred_count;

static void write_deferred_lines(void)
{
    for (unsigned i = 0; i < deferred_count; i++)
        lc_log(deferred[i].level, "%s", deferred[i].text);
    deferred_count = 0;
}

/* Called under the lock, with the thread's state consistent: a full buffer
 * is written out with the lock let go for that long. */
static void __attribute__((format(printf, 2, 3))) log_later(enum lc_log_level level, const char *fmt, ...)
{
    if (!lc_log_enabled(level))
        return;
    if (deferred_count == DEFERRED_LINES) {
        pthread_mutex_unlock(&lock);
        write_deferred_lines();
        pthread_mutex_lock(&lock);
    }
    va_list ap;
    va_start(ap, fmt);
    lc_format(deferred[deferred_count].text, sizeof deferred[deferred_count].text, fmt, ap);
    va_end(ap);
    deferred[deferred_count++].level = level;
}

static enum lc_fin_outcome fin_outcome(enum lc_drain_end why)
{
    if (why == LC_END_EOF)
        return LC_FIN_PEER_FIRST;
    return why == LC_END_TOTAL ? LC_FIN_TIMEOUT : LC_FIN_DRAIN_ENDED;
}

static void finish(int32_t index, enum lc_drain_end why)
{
    struct lc_slot *s = &slots.slot[index];
    if (s->fin_deferred)
        lc_count(&lc_stats.fin_deferred[fin_outcome(why)], 1);
    lc_slots_unlink(&slots, index);
    int fd = s->fd;
    long long lived_ms = (long long)lc_slot_elapsed(s->start_ms, lc_now_ms());
    unsigned long long bytes = (unsigned long long)s->bytes;
    /* A peer that read nothing of our output for the idle timeout would
     * keep it queued for minutes in a kernel orphan probing its closed
     * window; a reset frees it now, but only where a plain close would have
     * sent one (input was unread at the close, or came after it, which the
     * kernel answers with a reset once the socket is closed): otherwise the
     * socket becomes the orphan it would have been without the library,
     * under the kernel's orphan limits, and a peer that only paused still
     * gets the rest. */
    if (why == LC_END_STALLED && s->reset_if_stalled) {
        struct linger abortive = { .l_onoff = 1, .l_linger = 0 };
        lc_raw_setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    }
    lc_drain_unaccount_output(s->queued);
    lc_raw_close(fd);
    lc_slots_give_back(&slots, index);
    lc_count(&lc_stats.drain_ended[why], 1);
    lc_drain_unreserve();
    log_later(LC_LOG_DEBUG, "drain of fd %d ended: %s after %lld ms, %llu bytes discarded", fd,
              lc_drain_end_name(why), lived_ms, bytes);
}

#define HAS_TCP_INFO_FIELD(len, field) \
    ((len) >= offsetof(struct tcp_info, field) + sizeof(((struct tcp_info *)0)->field))

/* The right edge of the peer's window, its low 32 bits (slots.h); before
 * Linux 5.4, which does not say its window, what it has acknowledged (any
 * progress then counts). */
static uint32_t window_edge(const struct tcp_info *info, socklen_t len)
{
    return (uint32_t)(info->tcpi_bytes_acked +
                      (HAS_TCP_INFO_FIELD(len, tcpi_snd_wnd) ? info->tcpi_snd_wnd : 0));
}

/* Whether the peer has stopped taking our output: some is still
 * unacknowledged and the peer has read nothing since the last look, at
 * least an idle timeout ago. What has been acknowledged meanwhile no
 * longer counts against LINGERCLOSE_MAX_QUEUED. */
static bool output_stalled(struct lc_slot *s, int64_t now)
{
    int unacked = 0;
    if (lc_raw_ioctl(s->fd, SIOCOUTQ, &unacked) != 0 || unacked <= 0)
        unacked = 0;
    if ((uint32_t)unacked < s->queued) {
        lc_drain_unaccount_output(s->queued - (uint32_t)unacked);
        s->queued = (uint32_t)unacked;
    }
    if (s->queued == 0)
        return false;
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (lc_raw_getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        !HAS_TCP_INFO_FIELD(len, tcpi_bytes_acked))
        return false; /* the timeouts end it */
    /* The right edge moves only when the peer's program reads; a peer
     * whose window is larger than what a slow path carries in an idle
     * timeout still moves it. */
    uint32_t edge = window_edge(&info, len);
    bool stalled = s->window_edge_known && (int32_t)(edge - s->window_edge) <= 0;
    s->window_edge = edge;
    s->window_edge_known = true;
    s->output_checked_ms = lc_slot_stamp(now);
    return stalled;
}

/* At hand-off there is no earlier look to compare with, but the kernel
 * knows: a closed window, and no data sent for the idle timeout, is a peer
 * that has taken nothing for that long. */
static bool output_stalled_at_handoff(struct lc_slot *s, int64_t now)
{
    s->output_checked_ms = lc_slot_stamp(now);
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (lc_raw_getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        !HAS_TCP_INFO_FIELD(len, tcpi_bytes_acked))
        return false;
    s->window_edge = window_edge(&info, len);
    s->window_edge_known = true;
    return HAS_TCP_INFO_FIELD(len, tcpi_snd_wnd) && info.tcpi_snd_wnd == 0 &&
           info.tcpi_last_data_sent >= lc_conf.idle_timeout_ms;
}

static bool after_input(void *ctx, enum lc_drain_end *end);
static const struct lc_discarder discarder;

struct serving {
    int32_t index;
    int64_t now;
};

/* A socket whose input, or whose peer's FIN, is already queued when it
 * arrives (on loopback and fast paths the peer has often answered the FIN
 * by now) is read at once, and one whose drain that ends is closed without
 * ever being registered with epoll: no epoll_ctl, no wake-up of its own.
 * A drain that goes on is registered level-triggered, so what arrived
 * between the read and the registration still wakes the thread. */
static void adopt(int fd, uint32_t queued, bool reset_if_stalled, bool fin_deferred, int64_t now)
{
    int32_t index = lc_slots_take(&slots, lc_conf.max_sockets);
    if (index == NONE) {
        lc_count(&lc_stats.drain_ended[LC_END_ERROR], 1);
        if (fin_deferred)
            lc_count(&lc_stats.fin_deferred[LC_FIN_DRAIN_ENDED], 1);
        lc_drain_unaccount_output(queued);
        lc_raw_close(fd);
        lc_drain_unreserve();
        log_later(LC_LOG_WARN, "no place to watch lingering fd %d; closed it", fd);
        return;
    }
    LC_ASSERT(queued <= LC_SLOT_QUEUED_MAX);
    slots.slot[index] = (struct lc_slot){ .fd = fd, .start_ms = lc_slot_stamp(now),
                                          .last_ms = lc_slot_stamp(now),
                                          .queued = queued, .reset_if_stalled = reset_if_stalled,
                                          .fin_deferred = fin_deferred };
    lc_slots_link(&slots, index);
    if (queued && output_stalled_at_handoff(&slots.slot[index], now)) {
        finish(index, LC_END_STALLED);
        return;
    }
    struct serving serving = { index, now };
    enum lc_drain_end end;
    if (lc_discard(&discarder, fd, &slots.slot[index].bytes, &serving, &end)) {
        finish(index, end);
        return;
    }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
    ev.data.u32 = (uint32_t)index;
    if (lc_raw_epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int error = errno;
        log_later(LC_LOG_WARN, "cannot watch lingering fd %d: %s (errno %d); closed it", fd,
                  lc_errno_text(error), error);
        finish(index, LC_END_ERROR);
    }
}

/* Hand-offs that queued up while the thread was busy or asleep are taken
 * in one system call, up to this many. */
#define HANDOFFS_PER_RECV 16
#define FDS_PER_HANDOFF 16

static struct {
    struct lc_handoff what[HANDOFFS_PER_RECV];
    struct iovec iov[HANDOFFS_PER_RECV];
    union {
        char buf[CMSG_SPACE(FDS_PER_HANDOFF * sizeof(int))];
        struct cmsghdr align;
    } control[HANDOFFS_PER_RECV];
    struct mmsghdr msgs[HANDOFFS_PER_RECV];
} batch;

static void adopt_one(struct msghdr *msg, size_t len, int64_t now)
{
    const struct lc_handoff *what = msg->msg_iov[0].iov_base;
    bool whole = len == sizeof *what;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        /* One socket per message, as sent. Anything more was added on
         * the way (socket_wrapper passes its own bookkeeping along). */
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
            if (i == 0)
                adopt(fd, whole ? what->queued : 0, whole && what->input_unread,
                      whole && what->fin_deferred, now);
            else
                lc_raw_close(fd);
        }
    }
}

/* Signals are blocked in this thread: an EINTR is a tracer's doing. */
#define RECEIVE_TRIES 3
/* The pause after a failed receive: the hand-off socket stays readable,
 * and without it the loop would spin on the failure. */
#define RECEIVE_FAILED_PAUSE_NS (10 * 1000 * 1000)

static bool receive_failure_logged;
/* Set under the lock; the pause is taken once it is released, so that a
 * fork() (whose handler takes the lock) never waits for it. */
static bool receive_failed_pause;
/* recvmmsg refused (a filter that allows only recvmsg): one at a time. */
static bool receive_singly;

/* The sockets handed over wait in the channel meanwhile; a failure that
 * lasts leaves them there, and the hand-offs that fill it then fall back
 * to plain closes in the program. */
static void receive_failed(int error)
{
    if (!receive_failure_logged) {
        receive_failure_logged = true;
        log_later(LC_LOG_WARN, "the drain thread cannot receive sockets: %s (errno %d); retrying",
                  lc_errno_text(error), error);
    }
    receive_failed_pause = true;
}

static void pause_after_failed_receive(void)
{
    if (!receive_failed_pause)
        return;
    receive_failed_pause = false;
    struct timespec pause = { 0, RECEIVE_FAILED_PAUSE_NS };
    nanosleep(&pause, NULL);
}

static int receive_handoffs(void)
{
    if (!receive_singly) {
        int got = lc_raw_recvmmsg(receive_fd, batch.msgs, HANDOFFS_PER_RECV,
                                  MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (got >= 0 || (errno != ENOSYS && errno != EPERM && errno != EINVAL))
            return got;
        receive_singly = true;
        log_later(LC_LOG_INFO, "recvmmsg refused: %s (errno %d); taking hand-offs one at a time",
                  lc_errno_text(errno), errno);
    }
    ssize_t len = lc_raw_recvmsg(receive_fd, &batch.msgs[0].msg_hdr, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (len < 0)
        return -1;
    batch.msgs[0].msg_len = (unsigned)len;
    return 1;
}

static void adopt_handoffs(int64_t now)
{
    int interrupted = 0;
    for (;;) {
        for (int i = 0; i < HANDOFFS_PER_RECV; i++) {
            batch.what[i] = (struct lc_handoff){ 0, 0, 0 };
            batch.iov[i] = (struct iovec){ .iov_base = &batch.what[i], .iov_len = sizeof batch.what[i] };
            batch.msgs[i].msg_hdr = (struct msghdr){
                .msg_iov = &batch.iov[i],
                .msg_iovlen = 1,
                .msg_control = batch.control[i].buf,
                .msg_controllen = sizeof batch.control[i].buf,
            };
        }
        int got = receive_handoffs();
        if (got < 0 && errno == EINTR && ++interrupted < RECEIVE_TRIES)
            continue;
        if (got < 0 && errno != EAGAIN)
            receive_failed(errno);
        if (got <= 0)
            return;
        for (int i = 0; i < got; i++) {
            if (batch.msgs[i].msg_len == 0) {
                /* Every sending end is gone (closed behind the library's
                 * back): nothing more can come. */
                lc_raw_epoll_ctl(epoll_fd, EPOLL_CTL_DEL, receive_fd, NULL);
                return;
            }
            adopt_one(&batch.msgs[i].msg_hdr, batch.msgs[i].msg_len, now);
        }
        if (!receive_singly && got < HANDOFFS_PER_RECV)
            return;
    }
}

/* Input alone keeps a drain alive: a peer that floods us and reads nothing
 * is looked at here, once per idle timeout. */
static bool after_input(void *ctx, enum lc_drain_end *end)
{
    struct serving *serving = ctx;
    struct lc_slot *s = &slots.slot[serving->index];
    lc_slots_touch(&slots, serving->index, serving->now);
    /* Input unread at the close, or input after it: either way a plain
     * close would have been a reset by now. */
    s->reset_if_stalled = true;
    if (s->queued &&
        lc_slot_elapsed(s->output_checked_ms, serving->now) >= lc_conf.idle_timeout_ms &&
        output_stalled(s, serving->now)) {
        *end = LC_END_STALLED;
        return true;
    }
    return false;
}

static char scratch[256 * 1024];

static const struct lc_discarder discarder = {
    .receive = lc_raw_recv,
    .log = log_later,
    .scratch = scratch,
    .scratch_size = sizeof scratch,
    .max_reads = RECVS_PER_WAKEUP,
    .after_read = after_input,
};

static void service(int32_t index, int64_t now)
{
    struct lc_slot *s = &slots.slot[index];
    if (s->fd == NONE)
        return;
    struct serving serving = { index, now };
    enum lc_drain_end end;
    if (lc_discard(&discarder, s->fd, &s->bytes, &serving, &end))
        finish(index, end);
}

/* The peer has not closed within LINGERCLOSE_PEER_FIN_WAIT: the FIN the
 * close held back goes now. */
static void send_deferred_fin(int32_t index, int64_t now)
{
    int fd = slots.slot[index].fd;
    lc_count(&lc_stats.fin_deferred[LC_FIN_TIMEOUT], 1);
    lc_slots_fin_sent(&slots, index, now);
    if (lc_raw_shutdown(fd, SHUT_WR) != 0 && errno == ENOTCONN)
        finish(index, LC_END_ERROR);
}

static struct lc_slot_timeouts timeouts(void)
{
    return (struct lc_slot_timeouts){ .total_ms = lc_conf.total_timeout_ms,
                                      .idle_ms = lc_conf.idle_timeout_ms,
                                      .fin_wait_ms = lc_conf.peer_fin_wait_ms };
}

static void expire(int64_t now)
{
    int32_t index;
    while ((index = lc_slots_past_total(&slots, now, lc_conf.total_timeout_ms)) != NONE)
        finish(index, LC_END_TOTAL);
    while ((index = lc_slots_past_fin(&slots, now, lc_conf.peer_fin_wait_ms)) != NONE)
        send_deferred_fin(index, now);
    while ((index = lc_slots_past_idle(&slots, now, lc_conf.idle_timeout_ms)) != NONE) {
        struct lc_slot *s = &slots.slot[index];
        finish(index, s->queued && output_stalled(s, now) ? LC_END_STALLED : LC_END_IDLE);
    }
}

bool lc_drain_loop_watch(int receive_end)
{
    receive_fd = receive_end;
    epoll_fd = lc_raw_epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.u32 = HANDOFF_TAG;
    return epoll_fd >= 0 && lc_raw_epoll_ctl(epoll_fd, EPOLL_CTL_ADD, receive_fd, &ev) == 0;
}

void lc_drain_loop_run(void)
{
    struct epoll_event events[64];
    lc_stats_timer_start(lc_now_ms());
    int timeout = lc_stats_timer_bound(-1, lc_now_ms());
    for (;;) {
        int n = lc_raw_epoll_wait(epoll_fd, events, 64, timeout);
        if (n < 0 && errno != EINTR) {
            lc_log(LC_LOG_ERROR, "drain: epoll_wait failed: %s (errno %d)", lc_errno_text(errno),
                   errno);
            n = 0;
        }
        pthread_mutex_lock(&lock);
        int64_t now = lc_now_ms();
        for (int i = 0; i < n; i++) {
            if (events[i].data.u32 == HANDOFF_TAG)
                adopt_handoffs(now);
            else
                service((int32_t)events[i].data.u32, now);
        }
        expire(now);
        timeout = lc_slots_wait_ms(&slots, now, timeouts());
        pthread_mutex_unlock(&lock);
        write_deferred_lines();
        pause_after_failed_receive();
        lc_stats_timer_fire_when_due(now);
        timeout = lc_stats_timer_bound(timeout, lc_now_ms());
    }
}

void lc_drain_loop_atfork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

void lc_drain_loop_atfork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

void lc_drain_loop_atfork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    lc_slots_release_all(&slots);
    receive_fd = epoll_fd = NONE;
    /* Lines the parent's thread had yet to write are the parent's. */
    deferred_count = 0;
}
