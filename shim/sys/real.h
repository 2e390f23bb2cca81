/* SPDX-License-Identifier: MIT */
/* The functions lingerclose wraps, as the next object in the lookup chain
 * (normally libc) provides them. Until they are resolved, and whenever
 * dlsym finds nothing, the raw system call stands in. When to call these
 * rather than lc_raw_* or the plain name: see sys/raw.h. */
#ifndef LINGERCLOSE_REAL_H
#define LINGERCLOSE_REAL_H

#include <spawn.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>

struct epoll_event;
struct timespec;

void lc_real_resolve(void);

int lc_real_close(int fd);
/* syscall() as the next object provides it, with all six argument slots. */
long lc_real_syscall6(long number, long a1, long a2, long a3, long a4, long a5, long a6);
int lc_real_shutdown(int fd, int how);
int lc_real_setsockopt(int fd, int level, int name, const void *value, socklen_t len);
int lc_real_socket(int domain, int type, int protocol);
int lc_real_accept(int fd, struct sockaddr *addr, socklen_t *len);
int lc_real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int lc_real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
int lc_real_dup(int fd);
int lc_real_dup2(int fd, int newfd);
int lc_real_dup3(int fd, int newfd, int flags);
int lc_real_fcntl(int fd, int cmd, void *arg);
int lc_real_fcntl64(int fd, int cmd, void *arg);
ssize_t lc_real_sendmsg(int fd, const struct msghdr *msg, int flags);
int lc_real_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
ssize_t lc_real_recvmsg(int fd, struct msghdr *msg, int flags);
int lc_real_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
                     struct timespec *timeout);
int lc_real_close_range(unsigned int first, unsigned int last, int flags);
void lc_real_closefrom(int lowfd);
int lc_real_fclose(FILE *stream);
_Noreturn void lc_real_exit_now(int status);
int lc_real_execve(const char *path, char *const argv[], char *const envp[]);
int lc_real_execvpe(const char *file, char *const argv[], char *const envp[]);
int lc_real_fexecve(int fd, char *const argv[], char *const envp[]);
int lc_real_execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                     int flags);
int lc_real_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
int lc_real_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                         const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
/* glibc 2.39's; declared here where <spawn.h> is older. */
#if !HAVE_DECL_PIDFD_SPAWN
int pidfd_spawn(int *pidfd, const char *path, const posix_spawn_file_actions_t *actions,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
#endif
#if !HAVE_DECL_PIDFD_SPAWNP
int pidfd_spawnp(int *pidfd, const char *file, const posix_spawn_file_actions_t *actions,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
#endif
int lc_real_pidfd_spawn(int *pidfd, const char *path, const posix_spawn_file_actions_t *actions,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
int lc_real_pidfd_spawnp(int *pidfd, const char *file, const posix_spawn_file_actions_t *actions,
                         const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
int lc_real_system(const char *command);
FILE *lc_real_popen(const char *command, const char *type);
int lc_real_clone(int (*start)(void *), void *stack, int flags, void *arg, pid_t *parent_tid,
                  void *tls, pid_t *child_tid);
pid_t lc_real__Fork(void);

#endif
