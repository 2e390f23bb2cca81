/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "drain/handoff.h"
#include "drain/slots.h"
#include "holders/fdtable.h"
#include "sys/raw.h"
#include "sys/real.h"

#define NONE (-1)
#define PRIVATE_FD_FLOOR 1024
/* Beyond this soft limit the hand-off socket does not go above it: a fork
 * copies the descriptor table up to its highest number. */
#define BEYOND_LIMIT_MAX 4096
/* A signal may interrupt the send; a signal storm must not hold close(). */
#define HANDOFF_TRIES 3

static _Atomic uint32_t in_flight;
/* Output not yet acknowledged that lingering sockets held when they were
 * handed over, less what has been acknowledged or closed since. */
static _Atomic uint64_t queued_total;

/* The program's side of the hand-off: a socket whose other end only the
 * drain thread has. Its number is the library's one descriptor in the
 * program's table (marked private there). */
static _Atomic int handoff_fd = NONE;
/* Hand-offs between reading handoff_fd and finishing their sendmsg, in
 * all threads and in this one. */
static _Atomic int handoffs_sending;
static __thread int handing_off __attribute__((tls_model("initial-exec")));

static bool reserve(void)
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

static bool account_output(int fd, uint32_t *queued)
{
    int unacked = 0;
    *queued = 0;
    if (ioctl(fd, SIOCOUTQ, &unacked) != 0 || unacked <= 0)
        return true;
    if ((uint32_t)unacked > LC_SLOT_QUEUED_MAX)
        return false;
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

bool lc_drain_take_place(int fd, uint32_t *queued, enum lc_reason *refused)
{
    *queued = 0;
    if (!reserve()) {
        *refused = LC_PLAIN_CAPACITY;
        return false;
    }
    if (!account_output(fd, queued)) {
        lc_drain_unreserve();
        *refused = LC_PLAIN_QUEUE_CAP;
        return false;
    }
    return true;
}

void lc_drain_give_back_place(uint32_t queued)
{
    lc_drain_unaccount_output(queued);
    lc_drain_unreserve();
}

/* Just above what select() can watch, so that a program holding fewer
 * than 1024 descriptors numbers them as it would without the library (one
 * with more finds this one number taken, as it would find any other
 * library's). Not near RLIMIT_NOFILE: every fork() copies the descriptor
 * table up to the highest open number, and the kernel sizes the table to
 * it, so a descriptor at 20000 made each fork of a 10-socket server copy
 * and clear some 160 KiB. */
static int private_fd_base(void)
{
    struct rlimit nofile;
    rlim_t ceiling = 1024;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0)
        ceiling = nofile.rlim_cur;
    if (ceiling > PRIVATE_FD_FLOOR + 16)
        return PRIVATE_FD_FLOOR;
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

/* While the limit is raised, another thread's accept() could get a number
 * above it (past what select() can hold), and its own setrlimit would be
 * undone: only a process with one thread, this one, may do it. */
static bool single_threaded(void)
{
    char stat[1024];
    int fd = lc_raw_openat(AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return false;
    ssize_t len = lc_raw_read(fd, stat, sizeof stat - 1);
    lc_raw_close(fd);
    if (len <= 0)
        return false;
    stat[len] = '\0';
    /* The fields after the command's name, which may hold anything but
     * ends at the last ')': state is field 3, num_threads field 20. */
    const char *field = strrchr(stat, ')');
    for (int number = 2; field && number < 20; number++)
        field = strchr(field + 1, ' ');
    return field && field[1] == '1' && field[2] == ' ';
}

/* Above the soft RLIMIT_NOFILE, where the hard limit leaves room: every
 * number the program may use stays the program's, and a server run at
 * exactly its own needs finds them all free. The soft limit is raised for
 * the one dup and put back: only the drain thread's start does this, and
 * only while the program has no other thread to see it.
 * Only up to a soft limit of BEYOND_LIMIT_MAX (the usual 1024 puts it at
 * 1024, where lc_drain_move_to_private would too); above it, a program
 * with thousands of numbers to spare gives up one, at 1024, rather than
 * every fork copying a table sized to the limit. */
int lc_drain_move_beyond_limit(int fd)
{
    struct rlimit nofile;
    /* A seccomp filter may kill the process for a setrlimit (systemd's
     * @resources). */
    if (getrlimit(RLIMIT_NOFILE, &nofile) != 0 || nofile.rlim_cur >= nofile.rlim_max ||
        nofile.rlim_cur > BEYOND_LIMIT_MAX || prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0 ||
        !single_threaded())
        return lc_drain_move_to_private(fd);
    struct rlimit raised = nofile;
    raised.rlim_cur = nofile.rlim_max - nofile.rlim_cur > LC_BEYOND_LIMIT_ROOM
                          ? nofile.rlim_cur + LC_BEYOND_LIMIT_ROOM
                          : nofile.rlim_max;
    int moved = NONE;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        moved = lc_real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(intptr_t)nofile.rlim_cur);
        /* Put back only what is still ours: a signal handler may have set
         * a limit of its own meanwhile. */
        struct rlimit now;
        if (getrlimit(RLIMIT_NOFILE, &now) == 0 && now.rlim_cur == raised.rlim_cur &&
            now.rlim_max == raised.rlim_max)
            setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (moved < 0)
        return lc_drain_move_to_private(fd);
    if (!lc_fdtable_set(moved, LC_FD_PRIVATE)) {
        lc_real_close(moved);
        return NONE;
    }
    return moved;
}

bool lc_drain_submit(int fd, uint32_t queued, bool input_unread, bool fin_deferred)
{
    struct lc_handoff what = { .queued = queued, .input_unread = input_unread,
                               .fin_deferred = fin_deferred };
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
    ssize_t sent = -1;
    int interrupted = 0;
    errno = EBADF;
    if (to >= 0) {
        do
            sent = lc_real_sendmsg(to, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (sent < 0 && errno == EINTR && ++interrupted < HANDOFF_TRIES);
    }
    atomic_fetch_sub(&handoffs_sending, 1);
    handing_off--;
    return sent == (ssize_t)sizeof what;
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

void lc_handoff_open(int sender)
{
    atomic_store(&handoff_fd, sender);
}

void lc_handoff_atfork_child(void)
{
    /* A child of a process that never handed a socket over copies no page. */
    if (atomic_load(&handoff_fd) == NONE && !atomic_load(&handoffs_sending) &&
        !atomic_load(&in_flight) && !atomic_load(&queued_total))
        return;
    int sender = atomic_exchange(&handoff_fd, NONE);
    if (sender >= 0) {
        lc_fdtable_set(sender, 0);
        lc_real_close(sender);
    }
    atomic_store(&handoffs_sending, 0);
    atomic_store(&in_flight, 0);
    atomic_store(&queued_total, 0);
}
