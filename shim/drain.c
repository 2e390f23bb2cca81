#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "drain.h"
#include "fdtable.h"
#include "log.h"
#include "real.h"
#include "stats.h"

enum { IDLE, STARTING, RUNNING, FAILED };

#define NONE (-1)
#define PIPE_TAG UINT32_MAX
#define PRIVATE_FD_CEILING 65536
#define RECVS_PER_WAKEUP 16
#define DRAIN_STACK_SIZE (256 * 1024)

/* One lingering socket. Two intrusive lists keep the deadlines ordered for
 * free: "by_start" in hand-off order (total timeout), "by_activity" in
 * order of last data (idle timeout), so the next deadline is always at one
 * of the two heads. */
struct slot {
    int fd; /* NONE: free, and next_start links the free list */
    int32_t prev_start, next_start;
    int32_t prev_activity, next_activity;
    int64_t start_ms, last_ms;
    uint64_t bytes;
};

struct list {
    int32_t head, tail;
};

static _Atomic int start_state = IDLE;
static _Atomic uint32_t in_flight;
static _Atomic int pipe_write_fd = NONE;
static _Atomic int start_failures_logged;

/* Everything below belongs to the drain thread, under lock (the lock only
 * exists so that fork() finds the state consistent). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int pipe_read_fd = NONE;
static int epoll_fd = NONE;
static struct slot *slots;
static uint32_t slot_count;
static int32_t free_head = NONE;
static struct list by_start = { NONE, NONE };
static struct list by_activity = { NONE, NONE };
static bool copy_to_discard;

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

uint32_t lc_drain_in_flight(void)
{
    return atomic_load_explicit(&in_flight, memory_order_relaxed);
}

bool lc_drain_started(void)
{
    return atomic_load_explicit(&start_state, memory_order_acquire) == RUNNING;
}

static int private_fd_base(void)
{
    struct rlimit nofile;
    rlim_t ceiling = 1024;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0)
        ceiling = nofile.rlim_cur;
    /* Above 64Ki the kernel would grow the process's descriptor table (and
     * every fork's copy of it) just for our few descriptors. */
    if (ceiling > PRIVATE_FD_CEILING)
        ceiling = PRIVATE_FD_CEILING;
    rlim_t reserve = (rlim_t)lc_conf.max_sockets + 2;
    return (int)(ceiling > reserve ? ceiling - reserve : ceiling / 2);
}

int lc_drain_private_dup(int fd)
{
    int private_fd = lc_real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(intptr_t)private_fd_base());
    if (private_fd < 0)
        return NONE;
    if (!lc_fdtable_set(private_fd, LC_FD_PRIVATE)) {
        lc_real_close(private_fd);
        return NONE;
    }
    return private_fd;
}

static void close_private(int private_fd)
{
    lc_fdtable_set(private_fd, 0);
    lc_real_close(private_fd);
}

void lc_drain_discard(int private_fd)
{
    close_private(private_fd);
    lc_drain_unreserve();
}

bool lc_drain_submit(int private_fd)
{
    int wfd = atomic_load_explicit(&pipe_write_fd, memory_order_acquire);
    return wfd >= 0 && write(wfd, &private_fd, sizeof private_fd) == (ssize_t)sizeof private_fd;
}

static int64_t now_ms(void)
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
    if (free_head == NONE) {
        uint32_t grown = slot_count ? slot_count * 2 : 64;
        struct slot *bigger = reallocarray(slots, grown, sizeof *slots);
        if (!bigger)
            return NONE;
        slots = bigger;
        for (uint32_t i = grown; i-- > slot_count;) {
            slots[i].fd = NONE;
            slots[i].next_start = free_head;
            free_head = (int32_t)i;
        }
        slot_count = grown;
    }
    int32_t index = free_head;
    free_head = slots[index].next_start;
    return index;
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
    lc_log(LC_LOG_DEBUG, "drain of fd %d ended: %s after %lld ms, %llu bytes discarded", s->fd,
           lc_drain_end_name(why), (long long)(now_ms() - s->start_ms),
           (unsigned long long)s->bytes);
    close_private(s->fd);
    slot_free(index);
    lc_count(&lc_stats.drain_ended[why], 1);
    lc_drain_unreserve();
}

static void adopt(int fd, int64_t now)
{
    int32_t index = slot_alloc();
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
    ev.data.u32 = (uint32_t)index;
    if (index == NONE || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        lc_log(LC_LOG_WARN, "cannot watch lingering fd %d (errno %d); closing it now", fd, errno);
        if (index != NONE)
            slot_free(index);
        lc_count(&lc_stats.drain_ended[LC_END_ERROR], 1);
        lc_drain_discard(fd);
        return;
    }
    slots[index] = (struct slot){ .fd = fd, .start_ms = now, .last_ms = now };
    list_append(&by_start, index, LINKS(start));
    list_append(&by_activity, index, LINKS(activity));
}

static void adopt_handoffs(int64_t now)
{
    int fds[256];
    for (;;) {
        ssize_t n = read(pipe_read_fd, fds, sizeof fds);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return;
        }
        for (ssize_t i = 0; i < n / (ssize_t)sizeof *fds; i++)
            adopt(fds[i], now);
    }
}

/* recv(MSG_TRUNC) on TCP drops queued bytes without copying them; a kernel
 * that refuses it gets a plain read into a scratch buffer instead. */
static ssize_t discard_input(int fd)
{
    static char scratch[65536];
    if (!copy_to_discard) {
        ssize_t n = recv(fd, NULL, 1 << 30, MSG_TRUNC | MSG_DONTWAIT);
        if (n >= 0 || (errno != EINVAL && errno != EFAULT))
            return n;
        copy_to_discard = true;
        lc_log(LC_LOG_INFO, "recv(MSG_TRUNC) refused (errno %d); draining by copying", errno);
    }
    return recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
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
           slots[by_activity.head].last_ms + lc_conf.idle_timeout_ms <= now)
        finish(by_activity.head, LC_END_IDLE);
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

static void *drain_main(void *unused)
{
    (void)unused;
    struct epoll_event events[64];
    int timeout = -1;
    for (;;) {
        int n = epoll_wait(epoll_fd, events, 64, timeout);
        if (n < 0 && errno != EINTR) {
            lc_log(LC_LOG_ERROR, "drain: epoll_wait failed (errno %d)", errno);
            n = 0;
        }
        pthread_mutex_lock(&lock);
        int64_t now = now_ms();
        for (int i = 0; i < n; i++) {
            if (events[i].data.u32 == PIPE_TAG)
                adopt_handoffs(now);
            else
                service((int32_t)events[i].data.u32, now);
        }
        expire(now);
        timeout = wait_ms(now);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

/* ---- start-up ------------------------------------------------------- */

static int move_private(int fd)
{
    if (fd < 0)
        return NONE;
    int moved = lc_drain_private_dup(fd);
    lc_real_close(fd);
    return moved;
}

static bool start_thread(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
        return false;
    pipe_read_fd = move_private(p[0]);
    int wfd = move_private(p[1]);
    epoll_fd = move_private(epoll_create1(EPOLL_CLOEXEC));
    if (pipe_read_fd < 0 || wfd < 0 || epoll_fd < 0)
        goto fail;
    /* The pipe must hold every reserved hand-off, or a write could fail. */
    long want = (long)lc_conf.max_sockets * (long)sizeof(int);
    if (fcntl(wfd, F_GETPIPE_SZ) < want)
        fcntl(wfd, F_SETPIPE_SZ, want);

    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.u32 = PIPE_TAG;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, pipe_read_fd, &ev) != 0)
        goto fail;

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
    int rc = pthread_create(&thread, &attr, drain_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        goto fail;
    }
    atomic_store_explicit(&pipe_write_fd, wfd, memory_order_release);
    return true;

fail:
    if (atomic_fetch_add(&start_failures_logged, 1) == 0)
        lc_log(LC_LOG_ERROR, "cannot start the drain thread (errno %d); closing plainly", errno);
    if (pipe_read_fd >= 0)
        close_private(pipe_read_fd);
    if (wfd >= 0)
        close_private(wfd);
    if (epoll_fd >= 0)
        close_private(epoll_fd);
    pipe_read_fd = epoll_fd = NONE;
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

static void close_in_child(int fd)
{
    close_private(fd);
}

/* The child has no drain thread. Its copies of the lingering sockets would
 * keep them half-open for as long as it lives, so they go at once; the
 * parent's drain is unaffected (closing a copy sends nothing). */
void lc_drain_atfork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    lc_fdtable_for_each_private(close_in_child);
    free(slots);
    slots = NULL;
    slot_count = 0;
    free_head = NONE;
    by_start = by_activity = (struct list){ NONE, NONE };
    pipe_read_fd = epoll_fd = NONE;
    atomic_store(&pipe_write_fd, NONE);
    atomic_store(&in_flight, 0);
    atomic_store(&start_state, IDLE);
}
