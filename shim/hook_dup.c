#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <unistd.h>

#include "export.h"
#include "fdtable.h"
#include "real.h"

/* A duplicated socket has two descriptors; closing one of them must not
 * shut the socket down under the other. Both are left to plain closes. */
static int track_duplicate(int old_fd, int new_fd)
{
    if (new_fd >= 0 && new_fd != old_fd && lc_ready()) {
        if (lc_fdtable_state(old_fd))
            lc_fdtable_add_flags(old_fd, LC_FD_SHARED);
        lc_fdtable_set(new_fd, 0);
    }
    return new_fd;
}

LC_EXPORT int dup(int fd)
{
    return track_duplicate(fd, lc_real_dup(fd));
}

LC_EXPORT int dup2(int fd, int new_fd)
{
    return track_duplicate(fd, lc_real_dup2(fd, new_fd));
}

LC_EXPORT int dup3(int fd, int new_fd, int flags)
{
    return track_duplicate(fd, lc_real_dup3(fd, new_fd, flags));
}

static int after_fcntl(int fd, int cmd, void *arg, int rc)
{
    if (rc < 0 || !lc_ready())
        return rc;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        return track_duplicate(fd, rc);
    case F_SETFD:
        if (!lc_fdtable_state(fd))
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
    return after_fcntl(fd, cmd, arg, lc_real_fcntl(fd, cmd, arg));
}

LC_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return after_fcntl(fd, cmd, arg, lc_real_fcntl64(fd, cmd, arg));
}
