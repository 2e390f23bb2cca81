/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "drain/drain.h"
#include "drain/handoff.h"
#include "drain/loop.h"
#include "holders/fdtable.h"
#include "log/log.h"
#include "sys/clock.h"
#include "sys/raw.h"
#include "sys/real.h"

enum { IDLE, STARTING, RUNNING, FAILED };

#define NONE (-1)
#define DRAIN_STACK_SIZE (256 * 1024)
#define START_WAIT_MS 5000

/* A start that failed for want of something (threads, memory,
 * descriptors) is tried again, a few times, a while apart; sockets that
 * would linger meanwhile wait in the park (park.h). */
#define START_TRIES 5
#define START_RETRY_MS 1000

static _Atomic int start_state = IDLE;
static _Atomic int start_failures_logged;
static _Atomic int start_failures;
static _Atomic int64_t start_retry_at_ms;

/* Set by the drain thread once it runs in its own descriptor table
 * (1), or could not get one (-errno). */
static _Atomic int thread_report;
static int thread_receive_fd = NONE;

bool lc_drain_never_started(void)
{
    return atomic_load_explicit(&start_state, memory_order_acquire) == IDLE;
}

bool lc_drain_started(void)
{
    return atomic_load_explicit(&start_state, memory_order_acquire) == RUNNING;
}

/* The numbers this thread's table has open, from /proc: a table as large
 * as the limit (a container's 2^20 or 2^30) would otherwise take a close
 * per number. False if /proc cannot say. */
static bool close_listed(unsigned first, unsigned last)
{
    int dir = lc_raw_openat(AT_FDCWD, "/proc/thread-self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir < 0)
        return false;
    char entries[4096] __attribute__((aligned(8)));
    long len;
    while ((len = lc_raw_getdents64(dir, entries, sizeof entries)) > 0) {
        for (long at = 0; at < len;) {
            const struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type;
                           char name[]; } *entry = (const void *)(entries + at);
            at += entry->reclen;
            unsigned long fd = 0;
            const char *digit = entry->name;
            if (*digit < '0' || *digit > '9')
                continue;
            while (*digit >= '0' && *digit <= '9' && fd <= last)
                fd = fd * 10 + (unsigned long)(*digit++ - '0');
            if (*digit == '\0' && fd >= first && fd <= last && fd != (unsigned long)dir)
                lc_raw_close((int)fd);
        }
    }
    lc_raw_close(dir);
    return len == 0;
}

/* Wherever close_range fails, not only without it (ENOSYS), the numbers
 * are closed one by one: a sandbox's EPERM would otherwise leave this
 * table holding the program's sockets, which its close() could then never
 * end. */
static void close_between(unsigned first, unsigned last)
{
    if (first > last || lc_raw_close_range(first, last, 0) == 0 || close_listed(first, last))
        return;
    struct rlimit nofile = { 1024, 1024 };
    getrlimit(RLIMIT_NOFILE, &nofile);
    /* (and the room above the soft limit the hand-off socket may be in) */
    for (rlim_t fd = first; fd <= last && fd < nofile.rlim_cur + LC_BEYOND_LIMIT_ROOM; fd++)
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
    while ((filler = lc_raw_openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC, 0)) >= 0 &&
           filler < 2) {
    }
    if (filler > 2)
        lc_raw_close(filler);
    if (!lc_drain_loop_watch(thread_receive_fd)) {
        atomic_store(&thread_report, -errno);
        return false;
    }
    atomic_store(&thread_report, 1);
    return true;
}

static void *drain_thread(void *unused)
{
    (void)unused;
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
    if (enter_own_table())
        lc_drain_loop_run();
    return NULL;
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
    int sender = lc_drain_move_beyond_limit(pair[0]);
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
    lc_handoff_open(sender);
    return true;

fail_early:;
    int failure = errno; /* for lc_drain_start's choice to retry */
    if (atomic_fetch_add(&start_failures_logged, 1) == 0)
        lc_log(LC_LOG_ERROR, "cannot start the drain thread: %s (errno %d); closing plainly",
               lc_errno_text(failure), failure);
    errno = failure;
    return false;
}

/* Not a refusal (a sandbox's EPERM, an old kernel's ENOSYS), which stays.
 * Not a thread that started but did not report either (ETIMEDOUT): it may
 * still run. */
static bool worth_retrying(int error)
{
    return error == EAGAIN || error == EINTR || error == ENOMEM || error == ENOBUFS ||
           error == EMFILE || error == ENFILE;
}

bool lc_drain_start(void)
{
    int state = atomic_load_explicit(&start_state, memory_order_acquire);
    if (state == RUNNING)
        return true;
    if (state != IDLE || lc_now_ms() < atomic_load(&start_retry_at_ms))
        return false;
    int expected = IDLE;
    if (!atomic_compare_exchange_strong(&start_state, &expected, STARTING))
        return expected == RUNNING;
    int saved_errno = errno;
    bool ok = start_thread();
    int next = ok ? RUNNING : FAILED;
    if (!ok && worth_retrying(errno) && atomic_fetch_add(&start_failures, 1) + 1 < START_TRIES) {
        atomic_store(&start_retry_at_ms, lc_now_ms() + START_RETRY_MS);
        next = IDLE;
    }
    errno = saved_errno;
    atomic_store_explicit(&start_state, next, memory_order_release);
    if (ok)
        lc_log(LC_LOG_DEBUG, "drain thread started");
    return ok;
}

/* Only a started engine has a lock anyone can hold. One that starts in
 * another thread during this fork leaves the child a state other than
 * IDLE, and the child then starts over in full. Per thread: two threads
 * may fork at once, each unlocking only what it locked. */
static __thread bool locked_for_fork __attribute__((tls_model("initial-exec")));

void lc_drain_atfork_prepare(void)
{
    locked_for_fork = atomic_load(&start_state) != IDLE;
    if (locked_for_fork)
        lc_drain_loop_atfork_prepare();
}

void lc_drain_atfork_parent(void)
{
    if (locked_for_fork)
        lc_drain_loop_atfork_parent();
}

/* The child starts over: no thread, no channel, nothing lingering. A child
 * of a process that never started the engine has nothing to start over
 * from, and writes nothing (no page of it copied). */
void lc_drain_atfork_child(void)
{
    if (atomic_load(&start_state) != IDLE) {
        lc_drain_loop_atfork_child();
        atomic_store(&start_state, IDLE);
    }
    lc_handoff_atfork_child();
    if (atomic_load(&start_failures) != 0) {
        atomic_store(&start_failures, 0);
        atomic_store(&start_retry_at_ms, 0);
    }
}
