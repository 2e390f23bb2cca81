/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "holders/adopt.h"
#include "holders/children.h"
#include "sys/export.h"
#include "sys/real.h"

/* Every way to start a child other than fork() (whose handlers count the
 * child as a holder): the child inherits each descriptor without
 * close-on-exec, and closes of those stay plain while it may live. glibc's
 * system() and popen() start theirs past any posix_spawn() hook, hence
 * one wrapper each. Noted before the start, so that a close racing with
 * it already sees it. */

LC_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    LC_ENV_WITH_MARKER(envp, env);
    lc_children_uncounted_start_begin();
    int rc = lc_real_posix_spawn(pid, path, actions, attr, argv, env);
    lc_children_uncounted_start_end();
    return rc;
}

LC_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    LC_ENV_WITH_MARKER(envp, env);
    lc_children_uncounted_start_begin();
    int rc = lc_real_posix_spawnp(pid, file, actions, attr, argv, env);
    lc_children_uncounted_start_end();
    return rc;
}

/* glibc 2.39's posix_spawn that returns a pidfd: the same child, unseen
 * by the fork handlers as posix_spawn's. */
LC_EXPORT int pidfd_spawn(int *pidfd, const char *path, const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    LC_ENV_WITH_MARKER(envp, env);
    lc_children_uncounted_start_begin();
    int rc = lc_real_pidfd_spawn(pidfd, path, actions, attr, argv, env);
    lc_children_uncounted_start_end();
    return rc;
}

LC_EXPORT int pidfd_spawnp(int *pidfd, const char *file, const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    LC_ENV_WITH_MARKER(envp, env);
    lc_children_uncounted_start_begin();
    int rc = lc_real_pidfd_spawnp(pidfd, file, actions, attr, argv, env);
    lc_children_uncounted_start_end();
    return rc;
}

LC_EXPORT int system(const char *command)
{
    lc_children_uncounted_start_begin();
    int rc = lc_real_system(command);
    lc_children_uncounted_start_end();
    return rc;
}

LC_EXPORT FILE *popen(const char *command, const char *type)
{
    lc_children_uncounted_start_begin();
    FILE *stream = lc_real_popen(command, type);
    lc_children_uncounted_start_end();
    return stream;
}

/* The three optional arguments are passed on whether the caller gave them
 * or not: clone() reads each only when a flag asks for it. A child sharing
 * this memory (CLONE_VM, as posix_spawn implementations and vfork-style
 * spawners use) makes every hook look at who calls it: the child's pass
 * straight through. With CLONE_VFORK the child is done (exec'd or ended)
 * when the call returns here; without it, it may run for good. */
LC_EXPORT int clone(int (*start)(void *), void *stack, int flags, void *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    pid_t *parent_tid = va_arg(ap, pid_t *);
    void *tls = va_arg(ap, void *);
    pid_t *child_tid = va_arg(ap, pid_t *);
    va_end(ap);
    bool child_process = !(flags & CLONE_THREAD);
    bool shares_memory = child_process && (flags & CLONE_VM);
    if (shares_memory)
        atomic_fetch_add(&lc_memory_sharing_children, 1);
    if (child_process)
        lc_children_uncounted_start_begin();
    int rc = lc_real_clone(start, stack, flags, arg, parent_tid, tls, child_tid);
    if (child_process)
        lc_children_uncounted_start_end();
    if (shares_memory && ((flags & CLONE_VFORK) || rc < 0))
        atomic_fetch_sub(&lc_memory_sharing_children, 1);
    return rc;
}

/* fork() without the fork handlers: the child is not counted. */
LC_EXPORT pid_t _Fork(void)
{
    lc_children_uncounted_start_begin();
    pid_t pid = lc_real__Fork();
    lc_children_uncounted_start_end();
    return pid;
}
