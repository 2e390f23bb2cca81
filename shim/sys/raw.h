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
 * Why the helpers trap into the kernel themselves (lc_raw_syscall6) instead
 * of calling libc's syscall(): the library exports syscall() too (libuv
 * closes its sockets through it; see hooks/syscall.c). A call to syscall()
 * from inside the library goes through the PLT and binds to the first
 * definition in the lookup order, which is the library itself (or a preload
 * ahead of it that wraps syscall and hands on to the library): the raw path
 * would recurse into the hooks, before and after initialisation. Resolving
 * libc's syscall with dlsym works only after the constructor, and dlsym is
 * not async-signal-safe; a versioned reference (syscall@GLIBC_x) is matched
 * by any unversioned wrapper. The trap instruction needs no symbol at all,
 * works from the first instruction the library runs, in signal handlers and
 * in vfork children, and keeps the library's own descriptors out of sight
 * of other preloads, as rule 2 wants. It is written for the architectures
 * below; elsewhere LC_HAVE_INLINE_SYSCALL is 0, the library does not export
 * syscall(), and the helpers call libc's.
 *
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

#if defined(__x86_64__) && !defined(__ILP32__)
#define LC_HAVE_INLINE_SYSCALL 1
static inline long lc_raw_trap6(long number, long a1, long a2, long a3, long a4, long a5, long a6)
{
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
#define LC_HAVE_INLINE_SYSCALL 1
static inline long lc_raw_trap6(long number, long a1, long a2, long a3, long a4, long a5, long a6)
{
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    register long x5 __asm__("x5") = a6;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory", "cc");
    return x0;
}
#else
#define LC_HAVE_INLINE_SYSCALL 0
#endif

/* syscall()'s contract: -1 and errno for the kernel's -4095..-1. */
static inline long lc_raw_syscall6(long number, long a1, long a2, long a3, long a4, long a5,
                                   long a6)
{
#if LC_HAVE_INLINE_SYSCALL
    long ret = lc_raw_trap6(number, a1, a2, a3, a4, a5, a6);
    if ((unsigned long)ret > -4096UL) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
#else
    return syscall(number, a1, a2, a3, a4, a5, a6);
#endif
}

#define LC_RAW_ARG(x) ((long)(x))
#define lc_raw_syscall_(n, a, b, c, d, e, f, ...)                                           \
    lc_raw_syscall6((n), LC_RAW_ARG(a), LC_RAW_ARG(b), LC_RAW_ARG(c), LC_RAW_ARG(d),       \
                    LC_RAW_ARG(e), LC_RAW_ARG(f))
/* lc_raw_syscall(SYS_x, args...): up to six arguments, the rest zero. */
#define lc_raw_syscall(...) lc_raw_syscall_(__VA_ARGS__, 0, 0, 0, 0, 0, 0)

static inline int lc_raw_close(int fd)
{
    return (int)lc_raw_syscall(SYS_close, fd);
}

static inline int lc_raw_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
    return (int)lc_raw_syscall(SYS_close_range, first, last, flags);
}

static inline int lc_raw_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    return (int)lc_raw_syscall(SYS_openat, dirfd, path, flags, mode);
}

static inline int lc_raw_unlinkat(int dirfd, const char *path, int flags)
{
    return (int)lc_raw_syscall(SYS_unlinkat, dirfd, path, flags);
}

static inline int lc_raw_renameat(int from_dirfd, const char *from, int to_dirfd, const char *to)
{
    return (int)lc_raw_syscall(SYS_renameat, from_dirfd, from, to_dirfd, to);
}

static inline int lc_raw_fcntl(int fd, int cmd, long arg)
{
    return (int)lc_raw_syscall(SYS_fcntl, fd, cmd, arg);
}

static inline int lc_raw_ioctl(int fd, unsigned long request, void *arg)
{
    return (int)lc_raw_syscall(SYS_ioctl, fd, request, arg);
}

static inline ssize_t lc_raw_write(int fd, const void *buf, size_t len)
{
    return (ssize_t)lc_raw_syscall(SYS_write, fd, buf, len);
}

static inline ssize_t lc_raw_read(int fd, void *buf, size_t len)
{
    return (ssize_t)lc_raw_syscall(SYS_read, fd, buf, len);
}

static inline long lc_raw_getdents64(int fd, void *buf, size_t len)
{
    return (long)lc_raw_syscall(SYS_getdents64, fd, buf, len);
}

static inline int lc_raw_socket(int domain, int type, int protocol)
{
    return (int)lc_raw_syscall(SYS_socket, domain, type, protocol);
}

static inline ssize_t lc_raw_sendto(int fd, const void *buf, size_t len, int flags,
                                    const struct sockaddr *to, socklen_t to_len)
{
    return (ssize_t)lc_raw_syscall(SYS_sendto, fd, buf, len, flags, to, to_len);
}

static inline ssize_t lc_raw_send(int fd, const void *buf, size_t len, int flags)
{
    return lc_raw_sendto(fd, buf, len, flags, NULL, 0);
}

static inline ssize_t lc_raw_recv(int fd, void *buf, size_t len, int flags)
{
    return (ssize_t)lc_raw_syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

static inline ssize_t lc_raw_recvmsg(int fd, struct msghdr *msg, int flags)
{
    return (ssize_t)lc_raw_syscall(SYS_recvmsg, fd, msg, flags);
}

static inline int lc_raw_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
    return (int)lc_raw_syscall(SYS_recvmmsg, fd, vec, vlen, flags, NULL);
}

static inline int lc_raw_getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
    return (int)lc_raw_syscall(SYS_getsockopt, fd, level, name, value, len);
}

static inline int lc_raw_shutdown(int fd, int how)
{
    return (int)lc_raw_syscall(SYS_shutdown, fd, how);
}

static inline int lc_raw_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    return (int)lc_raw_syscall(SYS_setsockopt, fd, level, name, value, len);
}

static inline int lc_raw_epoll_create1(int flags)
{
    return (int)lc_raw_syscall(SYS_epoll_create1, flags);
}

static inline int lc_raw_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    return (int)lc_raw_syscall(SYS_epoll_ctl, epfd, op, fd, event);
}

/* epoll_pwait with no signal mask: plain epoll_wait is missing on the
 * newer architectures. */
static inline int lc_raw_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms)
{
    return (int)lc_raw_syscall(SYS_epoll_pwait, epfd, events, max, timeout_ms, NULL, 0);
}

/* The kernel's struct stat is glibc's on the 64-bit ABIs this runs on. */
static inline int lc_raw_fstat(int fd, struct stat *st)
{
#ifdef SYS_newfstatat
    return (int)lc_raw_syscall(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
#else
    return (int)lc_raw_syscall(SYS_fstat, fd, st);
#endif
}

static inline pid_t lc_raw_getpid(void)
{
    return (pid_t)lc_raw_syscall(SYS_getpid);
}

static inline pid_t lc_raw_gettid(void)
{
    return (pid_t)lc_raw_syscall(SYS_gettid);
}

/* -1 with ENOSYS where the headers know no getrandom (Linux before 3.17). */
static inline ssize_t lc_raw_getrandom(void *buf, size_t len, unsigned int flags)
{
#ifdef SYS_getrandom
    return (ssize_t)lc_raw_syscall(SYS_getrandom, buf, len, flags);
#else
    (void)buf, (void)len, (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

#endif
