/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include "decide/linger.h"
#include "drain/park.h"
#include "holders/fdtable.h"
#include "sys/export.h"
#include "sys/raw.h"
#include "sys/real.h"

#define KNOWN_FLAGS (CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)

static void close_one_in_range(int fd, uint64_t state, void *how)
{
    if (!(state & LC_FD_PRIVATE))
        lc_close_begin(fd, how);
}

static void mark_cloexec(int fd, uint64_t state, void *unused)
{
    (void)unused;
    if (!(state & LC_FD_PRIVATE))
        lc_fdtable_add_flags(fd, LC_FD_CLOEXEC);
}

#define SPARED_MAX (LC_PARKED_MAX + 1)

struct spared {
    int fds[SPARED_MAX];
    int count;
};

static void note_private(int fd, uint64_t state, void *ctx)
{
    struct spared *spared = ctx;
    if ((state & LC_FD_PRIVATE) && spared->count < SPARED_MAX)
        spared->fds[spared->count++] = fd;
}

/* The range around the library's descriptors (the hand-off end, parked
 * sockets), which stay open and invisible. */
static int close_range_sparing_ours(unsigned first, unsigned last, int flags)
{
    struct spared spared = { .count = 0 };
    lc_fdtable_for_each(first, last, note_private, &spared);
    unsigned next = first;
    for (int i = 0; i < spared.count; i++) {
        unsigned ours = (unsigned)spared.fds[i];
        if (ours > next && lc_real_close_range(next, ours - 1, flags) != 0)
            return -1;
        next = ours + 1;
    }
    if (next > last || (spared.count && spared.fds[spared.count - 1] == (int)last))
        return 0;
    return lc_real_close_range(next, last, flags);
}

/* 0 if the kernel runs close_range, else the errno it answers: ENOSYS
 * before Linux 5.9, EPERM under a filter refusing it. The program's call
 * then closes nothing, and the program carries on with its sockets (most
 * fall back on one close() each): none may have been shut down and handed
 * to the drain meanwhile. Asked once, with a range no descriptor is in. */
static int close_range_refusal(void)
{
    static _Atomic int refusal = -1; /* not asked yet */
    int known = atomic_load_explicit(&refusal, memory_order_relaxed);
    if (known >= 0)
        return known;
    known = lc_raw_close_range(~0u, ~0u, 0) == 0 ? 0 : errno;
    if (known == 0 || known == ENOSYS || known == EPERM)
        atomic_store_explicit(&refusal, known, memory_order_relaxed);
    return known;
}

/* how: the call's name for the log. */
static int sweep(unsigned first, unsigned last, int flags, const char *how)
{
    if (flags & CLOSE_RANGE_CLOEXEC) {
        int rc = lc_real_close_range(first, last, flags);
        if (rc == 0)
            lc_fdtable_for_each(first, last, mark_cloexec, NULL);
        return rc;
    }
    int refusal = close_range_refusal();
    if (refusal) {
        errno = refusal;
        return -1;
    }
    lc_fdtable_for_each(first, last, close_one_in_range, (void *)how);
    return close_range_sparing_ours(first, last, flags);
}

LC_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
    if (!lc_ready() || first > last || (flags & ~KNOWN_FLAGS))
        return lc_real_close_range(first, last, flags);
    int saved_errno = errno;
    int rc = sweep(first, last, flags, "close_range");
    if (rc == 0)
        errno = saved_errno;
    return rc;
}
LC_HOOK_ALIAS(close_range);

LC_EXPORT void closefrom(int lowfd)
{
    if (!lc_ready() || lowfd < 0) {
        lc_real_closefrom(lowfd);
        return;
    }
    int saved_errno = errno;
    if (sweep((unsigned)lowfd, ~0u, 0, "closefrom") != 0) {
        /* A kernel without close_range: one close per open number. */
        struct rlimit nofile = { 1024, 1024 };
        getrlimit(RLIMIT_NOFILE, &nofile);
        for (rlim_t fd = (rlim_t)lowfd; fd < nofile.rlim_cur && fd <= INT32_MAX; fd++)
            if (lc_close_begin((int)fd, "closefrom"))
                lc_real_close((int)fd);
    }
    errno = saved_errno;
}
