/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include "holders/adopt.h"
#include "holders/fdtable.h"
#include "sys/export.h"
#include "sys/real.h"

extern char **environ;

/* A fork() child counted as a holder of every socket. Those it holds
 * close-on-exec are gone once exec() succeeds, so their holds go back
 * first (or a parent that forks helpers would never linger again on the
 * connections it had then); if exec() fails they are taken again. Every
 * exec function is wrapped because glibc's call each other internally,
 * past any hook. */
static void before_exec(void)
{
    if (lc_ready())
        lc_fdtable_release_for_exec();
}

static int after_failed_exec(int rc)
{
    if (lc_ready()) {
        int saved_errno = errno;
        lc_fdtable_exec_failed();
        errno = saved_errno;
    }
    return rc;
}

LC_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    before_exec();
    LC_ENV_WITH_MARKER(envp, env);
    return after_failed_exec(lc_real_execve(path, argv, env));
}

LC_EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

LC_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    before_exec();
    LC_ENV_WITH_MARKER(envp, env);
    return after_failed_exec(lc_real_execvpe(file, argv, env));
}

LC_EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

LC_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    before_exec();
    LC_ENV_WITH_MARKER(envp, env);
    return after_failed_exec(lc_real_fexecve(fd, argv, env));
}

LC_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                       int flags)
{
    before_exec();
    LC_ENV_WITH_MARKER(envp, env);
    return after_failed_exec(lc_real_execveat(dirfd, path, argv, env, flags));
}

/* execl, execlp and execle take their arguments as a list: gathered on the
 * stack (no allocation: they are async-signal-safe), then run as the
 * vector forms. */
static size_t arguments_before_null(va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    size_t count = 0;
    while (va_arg(copy, char *))
        count++;
    va_end(copy);
    return count;
}

#define GATHER_ARGV(argv, first, ap)                        \
    char *argv[arguments_before_null(ap) + 2];              \
    argv[0] = (char *)(first);                              \
    for (size_t i = 1; (argv[i] = va_arg(ap, char *)); i++) \
        ;

LC_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    GATHER_ARGV(argv, arg, ap);
    va_end(ap);
    return execv(path, argv);
}

LC_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    GATHER_ARGV(argv, arg, ap);
    va_end(ap);
    return execvp(file, argv);
}

LC_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    GATHER_ARGV(argv, arg, ap);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}
