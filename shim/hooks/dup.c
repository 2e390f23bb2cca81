/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <unistd.h>

#include "decide/linger.h"
#include "drain/handoff.h"
#include "drain/park.h"
#include "holders/fdtable.h"
#include "hooks/hooks.h"
#include "sys/export.h"
#include "sys/real.h"

/* The new descriptor shares the socket: one more holder, and only the
 * last one's close may linger. */
static int track_duplicate(int old_fd, int new_fd, bool cloexec)
{
    if (new_fd >= 0 && new_fd != old_fd && lc_ready()) {
        int saved_errno = errno;
        lc_fdtable_duplicate(old_fd, new_fd, cloexec);
        errno = saved_errno;
    }
    return new_fd;
}

/* dup2/dup3 onto an open descriptor closes it first: the socket there gets
 * the same decision as from close(). A number that is one of the library's
 * own is moved out of the way: to the program it is not open. Nothing
 * happens for a call that will fail without closing anything: old_fd not
 * open, or flags dup3 refuses. */
static void before_replacing(int old_fd, int new_fd, int flags, const char *how)
{
    if (!lc_ready() || old_fd == new_fd || (flags & ~O_CLOEXEC))
        return;
    int saved_errno = errno;
    uint64_t state = lc_fdtable_state(new_fd);
    if (state & LC_FD_PRIVATE) {
        if (lc_drain_is_private(new_fd))
            lc_drain_evict(new_fd);
        else
            lc_park_evict(new_fd);
    } else if (state && lc_real_fcntl(old_fd, F_GETFD, NULL) >= 0) {
        lc_close_begin(new_fd, how);
    }
    errno = saved_errno;
}

LC_EXPORT int dup(int fd)
{
    return track_duplicate(fd, lc_real_dup(fd), false);
}
LC_HOOK_ALIAS(dup);

LC_EXPORT int dup2(int fd, int new_fd)
{
    before_replacing(fd, new_fd, 0, "dup2");
    return track_duplicate(fd, lc_real_dup2(fd, new_fd), false);
}
LC_HOOK_ALIAS(dup2);

LC_EXPORT int dup3(int fd, int new_fd, int flags)
{
    before_replacing(fd, new_fd, flags, "dup3");
    return track_duplicate(fd, lc_real_dup3(fd, new_fd, flags), (flags & O_CLOEXEC) != 0);
}
LC_HOOK_ALIAS(dup3);

int lc_hook_fcntl_done(int fd, int cmd, void *arg, int rc)
{
    if (rc < 0 || !lc_ready())
        return rc;
    switch (cmd) {
    case F_DUPFD:
        return track_duplicate(fd, rc, false);
    case F_DUPFD_CLOEXEC:
        return track_duplicate(fd, rc, true);
    case F_SETFD:
        if (!lc_fdtable_state(fd) || (lc_fdtable_state(fd) & LC_FD_PRIVATE))
            break;
        if ((intptr_t)arg & FD_CLOEXEC)
            lc_fdtable_add_flags(fd, LC_FD_CLOEXEC);
        else
            lc_fdtable_clear_flags(fd, LC_FD_CLOEXEC);
        break;
    default:
        break;
    }
    return rc;
}

/* glibc reads the optional third argument as a pointer-sized value whatever
 * the command; so do we. */
LC_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return lc_hook_fcntl_done(fd, cmd, arg, lc_real_fcntl(fd, cmd, arg));
}

LC_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return lc_hook_fcntl_done(fd, cmd, arg, lc_real_fcntl64(fd, cmd, arg));
}
