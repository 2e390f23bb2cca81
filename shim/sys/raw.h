/* System calls made directly, for code that runs in the drain thread's own
 * descriptor table: a wrapper that tracks descriptors by number (another
 * preload such as socket_wrapper, a sanitizer's runtime) would take its
 * numbers for the program's. */
#ifndef LINGERCLOSE_RAW_H
#define LINGERCLOSE_RAW_H

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int lc_raw_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

static inline int lc_raw_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    return (int)syscall(SYS_epoll_ctl, epfd, op, fd, event);
}

static inline ssize_t lc_raw_recv(int fd, void *buf, size_t len, int flags)
{
    return (ssize_t)syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

static inline int lc_raw_getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
    return (int)syscall(SYS_getsockopt, fd, level, name, value, len);
}

/* The kernel's struct stat is glibc's on the 64-bit ABIs this runs on. */
static inline int lc_raw_fstat(int fd, struct stat *st)
{
#ifdef SYS_newfstatat
    return (int)syscall(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
#else
    return (int)syscall(SYS_fstat, fd, st);
#endif
}

#endif
