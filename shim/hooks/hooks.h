/* SPDX-License-Identifier: MIT */
/* The interposed functions under their hidden names (LC_HOOK_ALIAS in
 * sys/export.h), for the entry points that lead to the same handling:
 * syscall() with one of their numbers. */
#ifndef LINGERCLOSE_HOOKS_H
#define LINGERCLOSE_HOOKS_H

#include <sys/socket.h>

int lc_hook_close(int fd);
int lc_hook_close_range(unsigned int first, unsigned int last, int flags);
int lc_hook_dup(int fd);
int lc_hook_dup2(int fd, int new_fd);
int lc_hook_dup3(int fd, int new_fd, int flags);
int lc_hook_socket(int domain, int type, int protocol);
int lc_hook_accept(int fd, struct sockaddr *addr, socklen_t *len);
int lc_hook_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
/* What fcntl() records once the kernel has answered: syscall(SYS_fcntl)
 * makes the call itself, as glibc's fcntl would change some commands. */
int lc_hook_fcntl_done(int fd, int cmd, void *arg, int rc);
int lc_hook_shutdown(int fd, int how);
int lc_hook_setsockopt(int fd, int level, int name, const void *value, socklen_t len);

#endif
