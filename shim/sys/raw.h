/* SPDX-License-Identifier: MIT */
/* How the library calls the kernel: one rule, three ways, each for one case.
 *
 * 1. For what the program asked, and on descriptors of the program's
 *    table, go through the lookup chain, as the program itself would:
 *    lc_real_* (sys/real.h) for a function lingerclose interposes (close,
 *    dup2, fcntl, sendmsg, ...), so that the call does not come back into
 *    lingerclose's own hook; the plain name (recv, getsockopt, ioctl,
 *    socketpair, ...) for one it does not. Another preload (socket_wrapper,
 *    a sanitizer's runtime, a tracer) then sees the program's descriptors
 *    come and go as it would without lingerclose.
 * 2. For the library's own descriptors that no other preload should see,
 *    use lc_raw_* below, the bare system call: everything in the drain
 *    thread's descriptor table (its epoll set, the hand-off socket, the
 *    sockets it drains) and the short-lived descriptors of the log and the
 *    statistics file, which either table may open. A wrapper that tracks
 *    descriptors by number would take their numbers for the program's.
 *    Each helper is one system call: async-signal-safe, errno as usual.
 * 3. syscall() itself is written only under shim/sys/: in the helpers
 *    below, and in real.c's stand-ins for functions not resolved yet. Every
 *    other file names the call it makes, so that the list of what the
 *    library asks of the kernel on its own (which a seccomp filter must
 *    allow; see launcher/unit-check.c) is the list of lc_raw_ helpers.
 *
 * Numbers and flags that older headers (glibc 2.31, kernel headers before
 * 5.9) lack are defined here, once. */
#ifndef LINGERCLOSE_RAW_H
#define LINGERCLOSE_RAW_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if __has_include(<linux/close_range.h>)
#include <linux/close_range.h>
#endif

/* New system calls are numbered alike on every architecture since
 * Linux 5.1. */
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef GRND_NONBLOCK
#define GRND_NONBLOCK 0x0001
#endif

static inline int lc_raw_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

static inline int lc_raw_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
    return (int)syscall(SYS_close_range, first, last, flags);
}

static inline int lc_raw_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

static inline int lc_raw_unlinkat(int dirfd, const char *path, int flags)
{
    return (int)syscall(SYS_unlinkat, dirfd, path, flags);
}

static inline int lc_raw_renameat(int from_dirfd, const char *from, int to_dirfd, const char *to)
{
    return (int)syscall(SYS_renameat, from_dirfd, from, to_dirfd, to);
}

static inline int lc_raw_fcntl(int fd, int cmd, long arg)
{
    return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

static inline int lc_raw_ioctl(int fd, unsigned long request, void *arg)
{
    return (int)syscall(SYS_ioctl, fd, request, arg);
}

static inline ssize_t lc_raw_write(int fd, const void *buf, size_t len)
{
    return (ssize_t)syscall(SYS_write, fd, buf, len);
}

static inline int lc_raw_socket(int domain, int type, int protocol)
{
    return (int)syscall(SYS_socket, domain, type, protocol);
}

static inline ssize_t lc_raw_sendto(int fd, const void *buf, size_t len, int flags,
                                    const struct sockaddr *to, socklen_t to_len)
{
    return (ssize_t)syscall(SYS_sendto, fd, buf, len, flags, to, to_len);
}

static inline ssize_t lc_raw_send(int fd, const void *buf, size_t len, int flags)
{
    return lc_raw_sendto(fd, buf, len, flags, NULL, 0);
}

static inline ssize_t lc_raw_recv(int fd, void *buf, size_t len, int flags)
{
    return (ssize_t)syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

static inline ssize_t lc_raw_recvmsg(int fd, struct msghdr *msg, int flags)
{
    return (ssize_t)syscall(SYS_recvmsg, fd, msg, flags);
}

static inline int lc_raw_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
    return (int)syscall(SYS_recvmmsg, fd, vec, vlen, flags, NULL);
}

static inline int lc_raw_getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
    return (int)syscall(SYS_getsockopt, fd, level, name, value, len);
}

static inline int lc_raw_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    return (int)syscall(SYS_setsockopt, fd, level, name, value, len);
}

static inline int lc_raw_epoll_create1(int flags)
{
    return (int)syscall(SYS_epoll_create1, flags);
}

static inline int lc_raw_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    return (int)syscall(SYS_epoll_ctl, epfd, op, fd, event);
}

/* epoll_pwait with no signal mask: plain epoll_wait is missing on the
 * newer architectures. */
static inline int lc_raw_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms)
{
    return (int)syscall(SYS_epoll_pwait, epfd, events, max, timeout_ms, NULL, 0);
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

static inline pid_t lc_raw_getpid(void)
{
    return (pid_t)syscall(SYS_getpid);
}

static inline pid_t lc_raw_gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* -1 with ENOSYS where the headers know no getrandom (Linux before 3.17). */
static inline ssize_t lc_raw_getrandom(void *buf, size_t len, unsigned int flags)
{
#ifdef SYS_getrandom
    return (ssize_t)syscall(SYS_getrandom, buf, len, flags);
#else
    (void)buf, (void)len, (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

#endif
