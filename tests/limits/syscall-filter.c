/* SPDX-License-Identifier: MIT */
/* Runs a program under a seccomp filter that makes chosen system calls
 * fail, as an older kernel or a sandbox would, for every process and
 * thread the program starts from then on.
 *
 *   syscall-filter [--old-kernel] [--fail NAME=ERRNO]... -- PROGRAM ARGS...
 *
 * --old-kernel: every system call Linux 4.18 (RHEL 8's kernel) does not
 *     have answers ENOSYS, as that kernel would: all numbers from 424
 *     (pidfd_send_signal, Linux 5.1; the numbers are the same on every
 *     architecture from there on) up to 1023, which covers pidfd_open,
 *     pidfd_getfd, clone3, close_range, openat2, faccessat2,
 *     process_madvise, epoll_pwait2, futex_waitv, io_uring_* and whatever
 *     later kernels add. statx (4.11) answers ENOSYS too, so that the
 *     fallbacks of kernels older still run (glibc then uses fstatat).
 * --fail NAME=ERRNO: the system call NAME answers ERRNO (a name such as
 *     EPERM or ENOMEM, or a number) instead of running.
 *
 * Exit: the program's, or 125 if the filter could not be made, 126/127
 * if the program could not be started. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "progs/progs.h"

#define FIRST_CALL_AFTER_4_18 424
#define LAST_CALL_NUMBER 1023

static const struct {
    const char *name;
    int value;
} errno_names[] = {
    { "EPERM", EPERM },   { "ENOMEM", ENOMEM }, { "EMFILE", EMFILE }, { "ENFILE", ENFILE },
    { "EAGAIN", EAGAIN }, { "ENOSYS", ENOSYS }, { "EINTR", EINTR },   { "EACCES", EACCES },
    { "ENOBUFS", ENOBUFS },
};

static int parse_errno(const char *text)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (strcmp(text, errno_names[i].name) == 0)
            return errno_names[i].value;
    return (int)parse_number("--fail", text, 1, 4095);
}

static void add_failure(scmp_filter_ctx ctx, int call, int error, const char *what)
{
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)error), call, 0);
    /* A number this architecture lacks (-EDOM) or libseccomp does not
     * know needs no rule: the kernel answers ENOSYS to it anyway. */
    if (rc != 0 && rc != -EDOM && rc != -EINVAL)
        die("cannot add a rule for %s: %s", what, strerror(-rc));
}

int main(int argc, char **argv)
{
    die_status = 125; /* its own failures, told apart from the program's */
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        die("seccomp_init failed");
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--old-kernel") == 0) {
            for (int call = FIRST_CALL_AFTER_4_18; call <= LAST_CALL_NUMBER; call++)
                add_failure(ctx, call, ENOSYS, "a system call newer than Linux 4.18");
            add_failure(ctx, SCMP_SYS(statx), ENOSYS, "statx");
        } else if (strcmp(argv[i], "--fail") == 0 && i + 1 < argc) {
            char *spec = argv[++i];
            char *equals = strchr(spec, '=');
            if (!equals)
                die("--fail %s: expected NAME=ERRNO, such as unshare=EPERM", spec);
            *equals = '\0';
            int call = seccomp_syscall_resolve_name(spec);
            if (call == __NR_SCMP_ERROR)
                die("--fail: %s is no system call libseccomp knows", spec);
            add_failure(ctx, call, parse_errno(equals + 1), spec);
        } else {
            die("unknown argument %s; usage: syscall-filter [--old-kernel]"
                " [--fail NAME=ERRNO]... -- PROGRAM ARGS...",
                argv[i]);
        }
    }
    if (i + 1 >= argc)
        die("no program after --");
    char **program = argv + i + 1;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die_errno("prctl(PR_SET_NO_NEW_PRIVS)");
    int rc = seccomp_load(ctx);
    if (rc != 0)
        die("seccomp_load failed: %s", strerror(-rc));
    seccomp_release(ctx);

    execvp(program[0], program);
    int saved = errno;
    fprintf(stderr, "syscall-filter: cannot run %s: %s\n", program[0], strerror(saved));
    return saved == ENOENT ? 127 : 126;
}
