/* SPDX-License-Identifier: MIT */
/* Which children the holder counts miss (shim/holders/children.c), with real
 * children: started with posix_spawn (a fork() inside a Criterion test can
 * confuse its runner), alive, exited but not reaped, and reaped. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "holders/children.h"

extern char **environ;

TestSuite(children, .timeout = 30);

static pid_t spawn(const char *program, const char *argument)
{
    char *const argv[] = { (char *)program, (char *)argument, NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, program, NULL, NULL, argv, environ);
    cr_assert_eq(rc, 0, "posix_spawn %s: %s", program, strerror(rc));
    return pid;
}

/* A child started as posix_spawn, popen or system start one: counted
 * around the start. */
static pid_t spawn_uncounted(const char *program, const char *argument)
{
    lc_children_uncounted_start_begin();
    pid_t pid = spawn(program, argument);
    lc_children_uncounted_start_end();
    return pid;
}

static void reap(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
}

/* Blocks until the child has exited, leaving it a zombie. */
static void wait_until_exited(pid_t pid)
{
    siginfo_t info;
    cr_assert_eq(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
}

Test(children, none_started_none_may_hold)
{
    cr_expect_not(lc_children_uncounted_may_hold());
}

Test(children, a_live_uncounted_child_may_hold)
{
    pid_t pid = spawn_uncounted("/bin/sleep", "30");
    cr_expect(lc_children_uncounted_may_hold());
    kill(pid, SIGKILL);
    reap(pid);
}

/* The look must leave the child for the program to reap. */
Test(children, looking_reaps_nothing)
{
    pid_t pid = spawn_uncounted("/bin/true", NULL);
    wait_until_exited(pid);
    cr_expect(lc_children_uncounted_may_hold(), "an exited child not yet reaped is still a child");
    int status;
    cr_expect_eq(waitpid(pid, &status, WNOHANG), pid, "the library reaped the program's child");
}

Test(children, once_every_uncounted_child_is_reaped_none_may_hold)
{
    pid_t first = spawn_uncounted("/bin/true", NULL);
    pid_t second = spawn_uncounted("/bin/true", NULL);
    reap(first);
    cr_expect(lc_children_uncounted_may_hold(), "one is still there");
    reap(second);
    cr_expect_not(lc_children_uncounted_may_hold());
}

/* After a look that found every uncounted child gone, the closes need not
 * look again: a child counted by other means (fork) is no reason to. */
Test(children, known_gone_until_the_next_uncounted_start)
{
    reap(spawn_uncounted("/bin/true", NULL));
    cr_expect_not(lc_children_uncounted_may_hold());
    pid_t counted = spawn("/bin/sleep", "30");
    cr_expect_not(lc_children_uncounted_may_hold(), "looked again without a new uncounted start");
    pid_t uncounted = spawn_uncounted("/bin/true", NULL);
    cr_expect(lc_children_uncounted_may_hold());
    kill(counted, SIGKILL);
    reap(counted);
    reap(uncounted);
    cr_expect_not(lc_children_uncounted_may_hold());
}

/* A start under way may have a child any moment: finding no child then
 * says nothing about the closes after it. */
Test(children, a_start_under_way_is_not_known_gone)
{
    lc_children_uncounted_start_begin();
    cr_expect_not(lc_children_uncounted_may_hold(), "no child exists yet");
    pid_t pid = spawn("/bin/sleep", "30");
    cr_expect(lc_children_uncounted_may_hold(), "the child of the start under way was missed");
    lc_children_uncounted_start_end();
    kill(pid, SIGKILL);
    reap(pid);
}

/* close() calls it, and close() must leave errno as the program set it. */
Test(children, errno_is_left_alone)
{
    reap(spawn_uncounted("/bin/true", NULL));
    errno = EINTR;
    cr_expect_not(lc_children_uncounted_may_hold());
    cr_expect_eq(errno, EINTR);
}
