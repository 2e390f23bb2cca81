#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <linux/close_range.h>
#include <sys/resource.h>
#include <unistd.h>

#include "drain.h"
#include "export.h"
#include "fdtable.h"
#include "linger.h"
#include "real.h"

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

/* The range around the library's descriptor, which stays open and
 * invisible. */
static int close_range_sparing_ours(unsigned first, unsigned last, int flags)
{
    int ours = lc_drain_private_fd();
    if (ours < 0 || (unsigned)ours < first || (unsigned)ours > last)
        return lc_real_close_range(first, last, flags);
    int rc = 0;
    if ((unsigned)ours > first)
        rc = lc_real_close_range(first, (unsigned)ours - 1, flags);
    if (rc == 0 && (unsigned)ours < last)
        rc = lc_real_close_range((unsigned)ours + 1, last, flags);
    return rc;
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
            if (!lc_drain_is_private((int)fd))
                lc_real_close((int)fd);
    }
    errno = saved_errno;
}
