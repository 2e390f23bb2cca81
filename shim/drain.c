#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <string.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "drain.h"
#include "fdtable.h"
#include "log.h"
#include "raw.h"
#include "real.h"
#include "stats.h"
#include "stats_file.h"

/* The drain thread works in a descriptor table of its own, so it talks to
 * the kernel directly (raw.h). */

enum { IDLE, STARTING, RUNNING, FAILED };

#define NONE (-1)
#define HANDOFF_TAG UINT32_MAX
#define PRIVATE_FD_CEILING 65536
#define RECVS_PER_WAKEUP 16
#define DRAIN_STACK_SIZE (256 * 1024)
#define START_WAIT_MS 5000

/* One lingering socket. Two intrusive lists keep the deadlines ordered for
 * free: "by_start" in hand-off order (total timeout), "by_activity" in
 * order of last data (idle timeout), so the next deadline is always at one
 * of the two heads.
 *
 * A socket handed over with output not yet acknowledged ("queued", as
 * counted against LINGERCLOSE_MAX_QUEUED) is also asked, at most once per
 * idle timeout and only when the thread is awake for it anyway, whether the
 * peer has read anything since the last look: whether it acknowledged
 * beyond "window_edge", the right edge of the window it advertised then
 * (at "output_checked_ms"). A peer does not move that edge until its
 * program reads; what was in flight, or fitted in its window, it
 * acknowledges all the same. */
struct slot {
    int fd; /* NONE: free, and next_start links the free list */
    int32_t prev_start, next_start;
    int32_t prev_activity, next_activity;
    int64_t start_ms, last_ms;
    uint64_t bytes;
    uint32_t queued;
    bool reset_if_stalled;
    uint64_t window_edge;
    int64_t output_checked_ms;
};

struct list {
    int32_t head, tail;
};

static _Atomic int start_state = IDLE;
static _Atomic uint32_t in_flight;
/* Output not yet acknowledged that lingering sockets held when they were
 * handed over, less what has been acknowledged or closed since. */
static _Atomic uint64_t queued_total;
static _Atomic int start_failures_logged;

/* The program's side of the hand-off: a socket whose other end only the
 * drain thread has. Its number is the library's one descriptor in the
 * program's table (marked private there). */
static _Atomic int handoff_fd = NONE;
/* Hand-offs between reading handoff_fd and finishing their sendmsg, in
 * all threads and in this one. */
static _Atomic int handoffs_sending;
static __thread int handing_off __attribute__((tls_model("initial-exec")));

/* Set by the drain thread once it runs in its own descriptor table
 * (1), or could not get one (-errno). */
static _Atomic int thread_report;
static int thread_receive_fd = NONE;

/* Everything below belongs to the drain thread, under lock (the lock only
 * exists so that fork() finds the state consistent). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int receive_fd = NONE;
static int epoll_fd = NONE;
/* Room for LINGERCLOSE_MAX_SOCKETS slots, reserved at once and backed only
 * as far as it has ever been used: memory follows the peak of lingering
 * sockets, one slot each, with nothing to copy as it grows. */
static struct slot *slots;
static size_t slots_bytes;
static uint32_t slots_used;
static int32_t free_head = NONE;
static struct list by_start = { NONE, NONE };
static struct list by_activity = { NONE, NONE };
static bool copy_to_discard;

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

bool lc_drain_reserve(void)
{
    uint32_t now = atomic_fetch_add_explicit(&in_flight, 1, memory_order_acq_rel);
    if (now < lc_conf.max_sockets)
        return true;
    atomic_fetch_sub_explicit(&in_flight, 1, memory_order_acq_rel);
    return false;
}

void lc_drain_unreserve(void)
{
    atomic_fetch_sub_explicit(&in_flight, 1, memory_order_acq_rel);
}

bool lc_drain_account_output(int fd, uint32_t *queued)
{
    int unacked = 0;
    *queued = 0;
    if (ioctl(fd, SIOCOUTQ, &unacked) != 0 || unacked <= 0)
        return true;
    uint64_t total = atomic_fetch_add_explicit(&queued_total, (uint64_t)unacked,
                                               memory_order_relaxed) +
                     (uint64_t)unacked;
    if (lc_conf.max_queued && total > lc_conf.max_queued) {
        lc_drain_unaccount_output((uint32_t)unacked);
        return false;
    }
    *queued = (uint32_t)unacked;
    return true;
}

/* Never below zero, whatever happens to the counts (a fork resets the
 * total in the child while a hand-off may still give back its part). */
void lc_drain_unaccount_output(uint32_t queued)
{
    uint64_t old = atomic_load_explicit(&queued_total, memory_order_relaxed), left;
    do
        left = old > queued ? old - queued : 0;
    while (!atomic_compare_exchange_weak_explicit(&queued_total, &old, left, memory_order_relaxed,
                                                  memory_order_relaxed));
}

uint32_t lc_drain_in_flight(void)
{
    return atomic_load_explicit(&in_flight, memory_order_relaxed);
}

bool lc_drain_never_started(void)
{
    return atomic_load_explicit(&start_state, memory_order_acquire) == IDLE;
}

bool lc_drain_started(void)
{
    return atomic_load_explicit(&start_state, memory_order_acquire) == RUNNING;
}

/* Near the top of the descriptor range, so that the program's numbering is
 * what it would be without the library. */
static int private_fd_base(void)
{
    struct rlimit nofile;
    rlim_t ceiling = 1024;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0)
        ceiling = nofile.rlim_cur;
    /* Above 64Ki the kernel would grow the process's descriptor table (and
     * every fork's copy of it) just for our one descriptor. */
    if (ceiling > PRIVATE_FD_CEILING)
        ceiling = PRIVATE_FD_CEILING;
    return (int)(ceiling > 16 ? ceiling - 16 : ceiling / 2);
}

int lc_drain_move_to_private(int fd)
{
    int moved = lc_real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(intptr_t)private_fd_base());
    if (moved >= 0 && !lc_fdtable_set(moved, LC_FD_PRIVATE)) {
        lc_real_close(moved);
        moved = NONE;
    }
    return moved < 0 ? NONE : moved;
}

/* What travels with each socket to the drain thread. */
struct handoff {
    uint32_t queued;
    uint32_t input_unread; /* a plain close would have reset it */
};

bool lc_drain_submit(int fd, uint32_t queued, bool input_unread)
{
    struct handoff what = { .queued = queued, .input_unread = input_unread };
    struct iovec iov = { .iov_base = &what, .iov_len = sizeof what };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);

    handing_off++; /* (a signal handler's close may nest in this one) */
    atomic_fetch_add(&handoffs_sending, 1);
    int to = atomic_load(&handoff_fd);
    bool sent = to >= 0 &&
                lc_real_sendmsg(to, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof what;
    atomic_fetch_sub(&handoffs_sending, 1);
    handing_off--;
    return sent;
}

int lc_drain_private_fd(void)
{
    return atomic_load(&handoff_fd);
}

bool lc_drain_is_private(int fd)
{
    return fd >= 0 && fd == atomic_load(&handoff_fd);
}

void lc_drain_evict(int fd)
{
    if (!lc_drain_is_private(fd))
        return;
    int moved = lc_drain_move_to_private(fd);
    atomic_store(&handoff_fd, moved);
    /* A hand-off that read the old number must finish before the program
     * gets that number; one interrupted by this very thread's signal
     * handler cannot, and sending to the new number is all that is left. */
    if (!handing_off)
        while (atomic_load(&handoffs_sending) > 0)
            sched_yield();
    lc_fdtable_set(fd, 0);
}

int64_t lc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- lists ---------------------------------------------------------- */

#define LINKS(field) offsetof(struct slot, prev_##field), offsetof(struct slot, next_##field)

static int32_t *link_at(int32_t index, size_t offset)
{
    return (int32_t *)((char *)&slots[index] + offset);
}

static void list_append(struct list *l, int32_t index, size_t prev, size_t next)
{
    *link_at(index, prev) = l->tail;
    *link_at(index, next) = NONE;
    if (l->tail != NONE)
        *link_at(l->tail, next) = index;
    else
        l->head = index;
    l->tail = index;
}

static void list_remove(struct list *l, int32_t index, size_t prev, size_t next)
{
    int32_t p = *link_at(index, prev), n = *link_at(index, next);
    if (p != NONE)
        *link_at(p, next) = n;
    else
        l->head = n;
    if (n != NONE)
        *link_at(n, prev) = p;
    else
        l->tail = p;
}

/* ---- slots ---------------------------------------------------------- */

static int32_t slot_alloc(void)
{
    if (free_head != NONE) {
        int32_t index = free_head;
        free_head = slots[index].next_start;
        return index;
    }
    if (!slots) {
        size_t bytes = (size_t)lc_conf.max_sockets * sizeof *slots;
        void *room = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (room == MAP_FAILED)
            return NONE;
        slots = room;
        slots_bytes = bytes;
    }
    if (slots_used >= lc_conf.max_sockets)
        return NONE;
    return (int32_t)slots_used++;
}

static void slot_free(int32_t index)
{
    slots[index].fd = NONE;
    slots[index].next_start = free_head;
    free_head = index;
}

static void finish(int32_t index, enum lc_drain_end why)
{
    struct slot *s = &slots[index];
    list_remove(&by_start, index, LINKS(start));
    list_remove(&by_activity, index, LINKS(activity));
    int fd = s->fd;
    long long lived_ms = (long long)(lc_now_ms() - s->start_ms);
    unsigned long long bytes = (unsigned long long)s->bytes;
    /* A peer that read nothing of our output for the idle timeout would
     * keep it queued for minutes in a kernel orphan probing its closed
     * window; a reset frees it now, but only where a plain close would have
     * sent one (input was unread at the close): otherwise the socket
     * becomes the orphan it would have been without the library, under the
     * kernel's orphan limits, and a peer that only paused still gets the
     * rest. */
    if (why == LC_END_STALLED && s->reset_if_stalled) {
        struct linger abortive = { .l_onoff = 1, .l_linger = 0 };
        syscall(SYS_setsockopt, s->fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    }
    lc_drain_unaccount_output(s->queued);
    lc_raw_close(fd);
    slot_free(index);
    lc_count(&lc_stats.drain_ended[why], 1);
    lc_drain_unreserve();
    log_later(LC_LOG_DEBUG, "drain of fd %d ended: %s after %lld ms, %llu bytes discarded", fd,
              lc_drain_end_name(why), lived_ms, bytes);
}

#define HAS_TCP_INFO_FIELD(len, field) \
    ((len) >= offsetof(struct tcp_info, field) + sizeof(((struct tcp_info *)0)->field))

/* The right edge of the peer's window; before Linux 5.4, which does not
 * say its window, what it has acknowledged (any progress then counts). */
static uint64_t window_edge(const struct tcp_info *info, socklen_t len)
{
    return info->tcpi_bytes_acked + (HAS_TCP_INFO_FIELD(len, tcpi_snd_wnd) ? info->tcpi_snd_wnd : 0);
}

/* Whether the peer has stopped taking our output: some is still
 * unacknowledged and the peer has read nothing since the last look, at
 * least an idle timeout ago. What has been acknowledged meanwhile no
 * longer counts against LINGERCLOSE_MAX_QUEUED. */
static bool output_stalled(struct slot *s, int64_t now)
{
    int unacked = 0;
    if ((int)syscall(SYS_ioctl, s->fd, SIOCOUTQ, &unacked) != 0 || unacked <= 0)
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
    uint64_t edge = window_edge(&info, len);
    bool stalled = edge <= s->window_edge;
    s->window_edge = edge;
    s->output_checked_ms = now;
    return stalled;
}

/* At hand-off there is no earlier look to compare with, but the kernel
 * knows: a closed window, and no data sent for the idle timeout, is a peer
 * that has taken nothing for that long. */
static bool output_stalled_at_handoff(struct slot *s, int64_t now)
{
    s->output_checked_ms = now;
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (lc_raw_getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        !HAS_TCP_INFO_FIELD(len, tcpi_bytes_acked))
        return false;
    s->window_edge = window_edge(&info, len);
    return HAS_TCP_INFO_FIELD(len, tcpi_snd_wnd) && info.tcpi_snd_wnd == 0 &&
           info.tcpi_last_data_sent >= lc_conf.idle_timeout_ms;
}

static void adopt(int fd, uint32_t queued, bool reset_if_stalled, int64_t now)
{
    int32_t index = slot_alloc();
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
    ev.data.u32 = (uint32_t)index;
    if (index == NONE || lc_raw_epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int error = errno;
        if (index != NONE)
            slot_free(index);
        lc_count(&lc_stats.drain_ended[LC_END_ERROR], 1);
        lc_drain_unaccount_output(queued);
        lc_raw_close(fd);
        lc_drain_unreserve();
        log_later(LC_LOG_WARN, "cannot watch lingering fd %d (errno %d); closed it", fd, error);
        return;
    }
    slots[index] = (struct slot){ .fd = fd, .start_ms = now, .last_ms = now, .queued = queued,
                                  .reset_if_stalled = reset_if_stalled };
    list_append(&by_start, index, LINKS(start));
    list_append(&by_activity, index, LINKS(activity));
    if (queued && output_stalled_at_handoff(&slots[index], now))
        finish(index, LC_END_STALLED);
}

static void adopt_handoffs(int64_t now)
{
    for (;;) {
        struct handoff what = { 0, 0 };
        struct iovec iov = { .iov_base = &what, .iov_len = sizeof what };
        union {
            char buf[CMSG_SPACE(16 * sizeof(int))];
            struct cmsghdr align;
        } control;
        struct msghdr msg = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = control.buf,
            .msg_controllen = sizeof control.buf,
        };
        ssize_t n = (ssize_t)syscall(SYS_recvmsg, receive_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            /* Every sending end is gone (closed behind the library's back):
             * nothing more can come. */
            lc_raw_epoll_ctl(epoll_fd, EPOLL_CTL_DEL, receive_fd, NULL);
            return;
        }
        if (n < 0)
            return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            /* One socket per message, as sent. Anything more was added on
             * the way (socket_wrapper passes its own bookkeeping along). */
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
                if (i == 0)
                    adopt(fd, n == (ssize_t)sizeof what ? what.queued : 0,
                          n == (ssize_t)sizeof what && what.input_unread, now);
                else
                    lc_raw_close(fd);
            }
        }
    }
}

/* recv(MSG_TRUNC) on TCP drops queued bytes without copying them; a kernel
 * that refuses it gets a plain read instead. The buffer is real all the
 * same (the kernel leaves it untouched): checkers such as valgrind verify
 * the whole length, and a socket that is not TCP after all (another
 * preload's) copies into it. */
static ssize_t discard_input(int fd)
{
    static char scratch[256 * 1024];
    if (!copy_to_discard) {
        ssize_t n = lc_raw_recv(fd, scratch, sizeof scratch, MSG_TRUNC | MSG_DONTWAIT);
        if (n >= 0 || errno != EINVAL)
            return n;
        copy_to_discard = true;
        log_later(LC_LOG_INFO, "recv(MSG_TRUNC) refused (errno %d); draining by copying", errno);
    }
    return lc_raw_recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
}

static void service(int32_t index, int64_t now)
{
    struct slot *s = &slots[index];
    if (s->fd == NONE)
        return;
    for (int round = 0; round < RECVS_PER_WAKEUP; round++) {
        ssize_t n = discard_input(s->fd);
        if (n > 0) {
            s->bytes += (uint64_t)n;
            lc_count(&lc_stats.bytes_discarded, (uint64_t)n);
            if (s->last_ms != now) {
                s->last_ms = now;
                list_remove(&by_activity, index, LINKS(activity));
                list_append(&by_activity, index, LINKS(activity));
            }
            /* Input alone keeps a drain alive: a peer that floods us and
             * reads nothing is looked at here, once per idle timeout. */
            if (s->queued && now - s->output_checked_ms >= lc_conf.idle_timeout_ms &&
                output_stalled(s, now)) {
                finish(index, LC_END_STALLED);
                return;
            }
            if (lc_conf.max_bytes && s->bytes >= lc_conf.max_bytes) {
                finish(index, LC_END_BYTES);
                return;
            }
        } else if (n == 0) {
            finish(index, LC_END_EOF);
            return;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else {
            finish(index, LC_END_ERROR);
            return;
        }
    }
}

static void expire(int64_t now)
{
    while (by_start.head != NONE &&
           slots[by_start.head].start_ms + lc_conf.total_timeout_ms <= now)
        finish(by_start.head, LC_END_TOTAL);
    while (by_activity.head != NONE &&
           slots[by_activity.head].last_ms + lc_conf.idle_timeout_ms <= now) {
        struct slot *s = &slots[by_activity.head];
        finish(by_activity.head,
               s->queued && output_stalled(s, now) ? LC_END_STALLED : LC_END_IDLE);
    }
}

static int wait_ms(int64_t now)
{
    if (by_start.head == NONE)
        return -1;
    int64_t total = slots[by_start.head].start_ms + lc_conf.total_timeout_ms;
    int64_t idle = slots[by_activity.head].last_ms + lc_conf.idle_timeout_ms;
    int64_t next = (total < idle ? total : idle) - now;
    if (next < 0)
        return 0;
    return next > INT_MAX ? INT_MAX : (int)next;
}

/* The statistics file is written by this thread, so a process that
 * lingers pays nothing for it in its own threads; with no file, or no
 * interval, the thread sleeps as before. */
static int64_t next_stats_ms = -1;

static int with_stats_deadline(int timeout, int64_t now)
{
    if (next_stats_ms < 0)
        return timeout;
    int64_t until = next_stats_ms - now;
    if (until < 0)
        until = 0;
    return timeout < 0 || until < timeout ? (int)until : timeout;
}

static void publish_stats_when_due(int64_t now)
{
    if (next_stats_ms < 0 || now < next_stats_ms)
        return;
    lc_stats_file_write();
    next_stats_ms = now + lc_conf.stats_interval_ms;
}

static void *drain_main(void *unused)
{
    (void)unused;
    struct epoll_event events[64];
    if (lc_stats_file_enabled() && lc_conf.stats_interval_ms)
        next_stats_ms = lc_now_ms();
    int timeout = with_stats_deadline(-1, lc_now_ms());
    for (;;) {
        int n = (int)syscall(SYS_epoll_pwait, epoll_fd, events, 64, timeout, NULL, 0);
        if (n < 0 && errno != EINTR) {
            lc_log(LC_LOG_ERROR, "drain: epoll_wait failed (errno %d)", errno);
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
        timeout = wait_ms(now);
        pthread_mutex_unlock(&lock);
        write_deferred_lines();
        publish_stats_when_due(now);
        timeout = with_stats_deadline(timeout, lc_now_ms());
    }
    return NULL;
}

/* ---- start-up ------------------------------------------------------- */

static void close_between(unsigned first, unsigned last)
{
    if (first > last || syscall(SYS_close_range, first, last, 0u) == 0 || errno != ENOSYS)
        return;
    struct rlimit nofile = { 1024, 1024 };
    getrlimit(RLIMIT_NOFILE, &nofile);
    for (rlim_t fd = first; fd <= last && fd < nofile.rlim_cur; fd++)
        lc_raw_close((int)fd);
}

/* Only copies of the program's descriptors: closing them here drops a
 * reference and sends nothing. -1: nothing more to keep. */
static void close_all_except(int one, int other)
{
    unsigned next = 0;
    int keep[2] = { one < other ? one : other, one < other ? other : one };
    for (int i = 0; i < 2; i++) {
        if (keep[i] < 0)
            continue;
        if ((unsigned)keep[i] > next)
            close_between(next, (unsigned)keep[i] - 1);
        next = (unsigned)keep[i] + 1;
    }
    close_between(next, ~0u);
}

/* The thread gets a descriptor table of its own: the sockets it drains are
 * out of the program's reach (no close, close_range, closefrom or dup2 of
 * the program can touch them, no fork copies them, no exec inherits them)
 * and the program's numbers are not taken. */
static bool enter_own_table(void)
{
    if (unshare(CLONE_FILES) != 0) {
        atomic_store(&thread_report, -errno);
        return false;
    }
    /* Descriptor 2 is still the program's: the log may keep it. */
    int kept_stderr = lc_log_enter_own_table();
    close_all_except(kept_stderr, thread_receive_fd);
    /* 0-2 stay taken, so that no drained socket lands where a stray write
     * to a standard stream would reach a client. */
    int filler;
    while ((filler = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC)) >= 0 &&
           filler < 2) {
    }
    if (filler > 2)
        lc_raw_close(filler);
    receive_fd = thread_receive_fd;
    epoll_fd = (int)syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.u32 = HANDOFF_TAG;
    if (epoll_fd < 0 || lc_raw_epoll_ctl(epoll_fd, EPOLL_CTL_ADD, receive_fd, &ev) != 0) {
        atomic_store(&thread_report, -errno);
        return false;
    }
    atomic_store(&thread_report, 1);
    return true;
}

static void *drain_thread(void *unused)
{
    /* Visible in ps and /proc as what it is. */
    pthread_setname_np(pthread_self(), "lingerclose");
    /* Background work: a hand-off wakes it, and it must not take the CPU
     * from the program's thread in the middle of that close() to do so.
     * sched_setscheduler is outside what sandboxes allow (systemd's
     * @resources), and a filter kills the whole process for it: it is
     * called only where no seccomp filter applies to this thread. */
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0) {
        struct sched_param no_priority = { 0 };
        sched_setscheduler(0, SCHED_BATCH, &no_priority);
    }
    if (!enter_own_table())
        return NULL;
    return drain_main(unused);
}

static int64_t wait_for_report(void)
{
    int64_t deadline = lc_now_ms() + START_WAIT_MS;
    int report;
    while ((report = atomic_load(&thread_report)) == 0 && lc_now_ms() < deadline) {
        struct timespec pause = { 0, 50 * 1000 };
        nanosleep(&pause, NULL);
    }
    return report;
}

static bool start_thread(void)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        goto fail_early;
    int sender = lc_drain_move_to_private(pair[0]);
    lc_real_close(pair[0]);
    if (sender < 0) {
        lc_real_close(pair[1]);
        goto fail_early;
    }
    int sndbuf = 4 << 20;
    lc_real_setsockopt(sender, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    thread_receive_fd = pair[1];
    atomic_store(&thread_report, 0);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, DRAIN_STACK_SIZE);
    /* The thread inherits this mask: it must never take a signal meant for
     * the program (sigwait-based daemons would lose it). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, drain_thread, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    int64_t report = rc == 0 ? wait_for_report() : -rc;
    /* The drain thread has its own copy of the receiving end by now. */
    lc_real_close(pair[1]);
    if (report != 1) {
        errno = report < 0 ? (int)-report : ETIMEDOUT;
        lc_fdtable_set(sender, 0);
        lc_real_close(sender);
        goto fail_early;
    }
    atomic_store(&handoff_fd, sender);
    return true;

fail_early:
    if (atomic_fetch_add(&start_failures_logged, 1) == 0)
        lc_log(LC_LOG_ERROR, "cannot start the drain thread (errno %d); closing plainly", errno);
    return false;
}

bool lc_drain_start(void)
{
    int state = atomic_load_explicit(&start_state, memory_order_acquire);
    if (state == RUNNING)
        return true;
    if (state != IDLE)
        return false;
    int expected = IDLE;
    if (!atomic_compare_exchange_strong(&start_state, &expected, STARTING))
        return expected == RUNNING;
    int saved_errno = errno;
    bool ok = start_thread();
    errno = saved_errno;
    atomic_store_explicit(&start_state, ok ? RUNNING : FAILED, memory_order_release);
    if (ok)
        lc_log(LC_LOG_DEBUG, "drain thread started");
    return ok;
}

/* ---- fork ----------------------------------------------------------- */

void lc_drain_atfork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

void lc_drain_atfork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

/* The child has no drain thread, and none of the drained sockets (they are
 * in the thread's own table). Only the sending end was copied: it would
 * hand the child's sockets to the parent's thread, so it goes. */
void lc_drain_atfork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    int sender = atomic_exchange(&handoff_fd, NONE);
    if (sender >= 0) {
        lc_fdtable_set(sender, 0);
        lc_real_close(sender);
    }
    if (slots)
        munmap(slots, slots_bytes);
    slots = NULL;
    slots_bytes = 0;
    slots_used = 0;
    free_head = NONE;
    by_start = by_activity = (struct list){ NONE, NONE };
    receive_fd = epoll_fd = NONE;
    /* Lines the parent's thread had yet to write are the parent's. */
    deferred_count = 0;
    atomic_store(&handoffs_sending, 0);
    atomic_store(&in_flight, 0);
    atomic_store(&queued_total, 0);
    atomic_store(&start_state, IDLE);
}
