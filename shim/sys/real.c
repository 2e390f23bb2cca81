/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sys/raw.h"
#include "sys/real.h"

/* Every function wrapped, with its type: one list for the slots and the
 * resolver. */
#define REAL_FUNCTIONS(X)                                                                   \
    X(close, int, int)                                                                      \
    X(shutdown, int, int, int)                                                              \
    X(setsockopt, int, int, int, int, const void *, socklen_t)                              \
    X(socket, int, int, int, int)                                                           \
    X(accept, int, int, struct sockaddr *, socklen_t *)                                     \
    X(accept4, int, int, struct sockaddr *, socklen_t *, int)                               \
    X(epoll_ctl, int, int, int, int, struct epoll_event *)                                  \
    X(dup, int, int)                                                                        \
    X(dup2, int, int, int)                                                                  \
    X(dup3, int, int, int, int)                                                             \
    X(fcntl, int, int, int, ...)                                                            \
    X(fcntl64, int, int, int, ...)                                                          \
    X(sendmsg, ssize_t, int, const struct msghdr *, int)                                    \
    X(sendmmsg, int, int, struct mmsghdr *, unsigned int, int)                              \
    X(recvmsg, ssize_t, int, struct msghdr *, int)                                          \
    X(recvmmsg, int, int, struct mmsghdr *, unsigned int, int, struct timespec *)           \
    X(close_range, int, unsigned int, unsigned int, int)                                    \
    X(closefrom, void, int)                                                                 \
    X(fclose, int, FILE *)                                                                  \
    X(_exit, void, int)                                                                     \
    X(execve, int, const char *, char *const[], char *const[])                              \
    X(execvpe, int, const char *, char *const[], char *const[])                             \
    X(fexecve, int, int, char *const[], char *const[])                                      \
    X(execveat, int, int, const char *, char *const[], char *const[], int)                  \
    X(posix_spawn, int, pid_t *, const char *, const posix_spawn_file_actions_t *,          \
      const posix_spawnattr_t *, char *const[], char *const[])                              \
    X(posix_spawnp, int, pid_t *, const char *, const posix_spawn_file_actions_t *,         \
      const posix_spawnattr_t *, char *const[], char *const[])                              \
    X(system, int, const char *)                                                            \
    X(popen, FILE *, const char *, const char *)                                            \
    X(clone, int, int (*)(void *), void *, int, void *, ...)                                \
    X(_Fork, pid_t, void)                                                                   \
    X(syscall, long, long, ...)

/* Looked up at their first call instead, once: glibc has them only from
 * 2.39, and a name dlsym() cannot find costs a dlerror() message, hence
 * malloc()'s start-up, which every process would pay at load. Neither is
 * async-signal-safe, so their wrappers may call dlsym(). */
#define FIRST_CALL_FUNCTIONS(X)                                                             \
    X(pidfd_spawn, int, int *, const char *, const posix_spawn_file_actions_t *,            \
      const posix_spawnattr_t *, char *const[], char *const[])                              \
    X(pidfd_spawnp, int, int *, const char *, const posix_spawn_file_actions_t *,           \
      const posix_spawnattr_t *, char *const[], char *const[])

/* Each pointer is written by the constructor (the first call, for
 * FIRST_CALL_FUNCTIONS: racing threads store the same value) and read
 * without a lock afterwards; atomics keep the compiler honest about that.
 * A NULL pointer means "not resolved (yet)": use the system call, or
 * ENOSYS where there is none. */
#define REAL_SLOT(name, ret, ...) static _Atomic(ret (*)(__VA_ARGS__)) real_##name;
REAL_FUNCTIONS(REAL_SLOT)
FIRST_CALL_FUNCTIONS(REAL_SLOT)
#define LOOKED_UP_FLAG(name, ...) static _Atomic bool looked_up_##name;
FIRST_CALL_FUNCTIONS(LOOKED_UP_FLAG)

#define RESOLVE(name, ...) \
    atomic_store_explicit(&real_##name, dlsym(RTLD_NEXT, #name), memory_order_release);

void lc_real_resolve(void)
{
    REAL_FUNCTIONS(RESOLVE)
}

#define REAL(name) atomic_load_explicit(&real_##name, memory_order_acquire)

int lc_real_close(int fd)
{
    __auto_type fn = REAL(close);
    return fn ? fn(fd) : (int)lc_raw_syscall(SYS_close, fd);
}

long lc_real_syscall6(long number, long a1, long a2, long a3, long a4, long a5, long a6)
{
    __auto_type fn = REAL(syscall);
    return fn ? fn(number, a1, a2, a3, a4, a5, a6)
              : lc_raw_syscall6(number, a1, a2, a3, a4, a5, a6);
}

int lc_real_shutdown(int fd, int how)
{
    __auto_type fn = REAL(shutdown);
    return fn ? fn(fd, how) : (int)lc_raw_syscall(SYS_shutdown, fd, how);
}

int lc_real_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    __auto_type fn = REAL(setsockopt);
    return fn ? fn(fd, level, name, value, len)
              : (int)lc_raw_syscall(SYS_setsockopt, fd, level, name, value, len);
}

int lc_real_socket(int domain, int type, int protocol)
{
    __auto_type fn = REAL(socket);
    return fn ? fn(domain, type, protocol) : (int)lc_raw_syscall(SYS_socket, domain, type, protocol);
}

int lc_real_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    __auto_type fn = REAL(accept);
    return fn ? fn(fd, addr, len) : (int)lc_raw_syscall(SYS_accept4, fd, addr, len, 0);
}

int lc_real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    __auto_type fn = REAL(accept4);
    return fn ? fn(fd, addr, len, flags) : (int)lc_raw_syscall(SYS_accept4, fd, addr, len, flags);
}

int lc_real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    __auto_type fn = REAL(epoll_ctl);
    return fn ? fn(epfd, op, fd, event) : (int)lc_raw_syscall(SYS_epoll_ctl, epfd, op, fd, event);
}

int lc_real_dup(int fd)
{
    __auto_type fn = REAL(dup);
    return fn ? fn(fd) : (int)lc_raw_syscall(SYS_dup, fd);
}

int lc_real_dup2(int fd, int newfd)
{
    __auto_type fn = REAL(dup2);
    if (fn)
        return fn(fd, newfd);
    if (fd == newfd) /* dup3 refuses what dup2 allows */
        return (int)lc_raw_syscall(SYS_fcntl, fd, F_GETFD) < 0 ? -1 : fd;
    return (int)lc_raw_syscall(SYS_dup3, fd, newfd, 0);
}

int lc_real_dup3(int fd, int newfd, int flags)
{
    __auto_type fn = REAL(dup3);
    return fn ? fn(fd, newfd, flags) : (int)lc_raw_syscall(SYS_dup3, fd, newfd, flags);
}

int lc_real_fcntl(int fd, int cmd, void *arg)
{
    __auto_type fn = REAL(fcntl);
    return fn ? fn(fd, cmd, arg) : (int)lc_raw_syscall(SYS_fcntl, fd, cmd, arg);
}

int lc_real_fcntl64(int fd, int cmd, void *arg)
{
    __auto_type fn = REAL(fcntl64);
    if (!fn)
        fn = REAL(fcntl);
    return fn ? fn(fd, cmd, arg) : (int)lc_raw_syscall(SYS_fcntl, fd, cmd, arg);
}

ssize_t lc_real_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    __auto_type fn = REAL(sendmsg);
    return fn ? fn(fd, msg, flags) : (ssize_t)lc_raw_syscall(SYS_sendmsg, fd, msg, flags);
}

int lc_real_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
    __auto_type fn = REAL(sendmmsg);
    return fn ? fn(fd, vec, vlen, flags) : (int)lc_raw_syscall(SYS_sendmmsg, fd, vec, vlen, flags);
}

ssize_t lc_real_recvmsg(int fd, struct msghdr *msg, int flags)
{
    __auto_type fn = REAL(recvmsg);
    return fn ? fn(fd, msg, flags) : (ssize_t)lc_raw_syscall(SYS_recvmsg, fd, msg, flags);
}

int lc_real_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
                     struct timespec *timeout)
{
    __auto_type fn = REAL(recvmmsg);
    return fn ? fn(fd, vec, vlen, flags, timeout)
              : (int)lc_raw_syscall(SYS_recvmmsg, fd, vec, vlen, flags, timeout);
}

int lc_real_close_range(unsigned int first, unsigned int last, int flags)
{
    __auto_type fn = REAL(close_range);
    return fn ? fn(first, last, flags) : lc_raw_close_range(first, last, (unsigned int)flags);
}

void lc_real_closefrom(int lowfd)
{
    __auto_type fn = REAL(closefrom);
    if (fn)
        fn(lowfd);
    else if (lowfd >= 0)
        lc_raw_close_range((unsigned int)lowfd, ~0u, 0);
}

/* fclose has no system call to stand in for it: a program that closes a
 * stream before the constructor ran gets it resolved on the spot. */
int lc_real_fclose(FILE *stream)
{
    __auto_type fn = REAL(fclose);
    if (!fn) {
        lc_real_resolve();
        fn = REAL(fclose);
    }
    return fn(stream);
}

_Noreturn void lc_real_exit_now(int status)
{
    __auto_type fn = REAL(_exit);
    if (fn)
        fn(status);
    for (;;)
        lc_raw_syscall(SYS_exit_group, status);
}

/* The exec functions other than execve have no system call of their own:
 * before the constructor ran they are resolved on the spot. */
#define REAL_OR_RESOLVED(name)                        \
    ({                                                \
        if (!REAL(name))                              \
            lc_real_resolve();                        \
        REAL(name);                                   \
    })

#define RESOLVED_AT_FIRST_CALL(name)                                            \
    ({                                                                          \
        if (!atomic_load_explicit(&looked_up_##name, memory_order_acquire)) {   \
            RESOLVE(name)                                                       \
            atomic_store_explicit(&looked_up_##name, true, memory_order_release); \
        }                                                                       \
        REAL(name);                                                             \
    })

int lc_real_execve(const char *path, char *const argv[], char *const envp[])
{
    __auto_type fn = REAL(execve);
    return fn ? fn(path, argv, envp) : (int)lc_raw_syscall(SYS_execve, path, argv, envp);
}

int lc_real_execvpe(const char *file, char *const argv[], char *const envp[])
{
    return REAL_OR_RESOLVED(execvpe)(file, argv, envp);
}

int lc_real_fexecve(int fd, char *const argv[], char *const envp[])
{
    return REAL_OR_RESOLVED(fexecve)(fd, argv, envp);
}

int lc_real_execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                     int flags)
{
    __auto_type fn = REAL(execveat);
    return fn ? fn(dirfd, path, argv, envp, flags)
              : (int)lc_raw_syscall(SYS_execveat, dirfd, path, argv, envp, flags);
}

/* Starting a child has no single system call to stand in: these are
 * resolved on the spot before the constructor ran, and a C library without
 * the function (_Fork before glibc 2.34) gets ENOSYS. */
int lc_real_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    __auto_type fn = REAL_OR_RESOLVED(posix_spawn);
    return fn ? fn(pid, path, actions, attr, argv, envp) : ENOSYS;
}

int lc_real_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                         const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    __auto_type fn = REAL_OR_RESOLVED(posix_spawnp);
    return fn ? fn(pid, file, actions, attr, argv, envp) : ENOSYS;
}

/* Before glibc 2.39 there is none to call: ENOSYS, as glibc's own
 * answer when the kernel lacks clone3. */
int lc_real_pidfd_spawn(int *pidfd, const char *path, const posix_spawn_file_actions_t *actions,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    __auto_type fn = RESOLVED_AT_FIRST_CALL(pidfd_spawn);
    return fn ? fn(pidfd, path, actions, attr, argv, envp) : ENOSYS;
}

int lc_real_pidfd_spawnp(int *pidfd, const char *file, const posix_spawn_file_actions_t *actions,
                         const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    __auto_type fn = RESOLVED_AT_FIRST_CALL(pidfd_spawnp);
    return fn ? fn(pidfd, file, actions, attr, argv, envp) : ENOSYS;
}

int lc_real_system(const char *command)
{
    __auto_type fn = REAL_OR_RESOLVED(system);
    if (!fn) {
        errno = ENOSYS;
        return -1;
    }
    return fn(command);
}

FILE *lc_real_popen(const char *command, const char *type)
{
    __auto_type fn = REAL_OR_RESOLVED(popen);
    if (!fn) {
        errno = ENOSYS;
        return NULL;
    }
    return fn(command, type);
}

int lc_real_clone(int (*start)(void *), void *stack, int flags, void *arg, pid_t *parent_tid,
                  void *tls, pid_t *child_tid)
{
    __auto_type fn = REAL_OR_RESOLVED(clone);
    if (!fn) {
        errno = ENOSYS;
        return -1;
    }
    return fn(start, stack, flags, arg, parent_tid, tls, child_tid);
}

pid_t lc_real__Fork(void)
{
    __auto_type fn = REAL_OR_RESOLVED(_Fork);
    if (!fn) {
        errno = ENOSYS;
        return -1;
    }
    return fn();
}
