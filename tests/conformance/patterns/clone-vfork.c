/* SPDX-License-Identifier: MIT */
/* A server that starts a helper the way posix_spawn does underneath:
 * clone(CLONE_VM | CLONE_VFORK), so the child runs in the parent's memory
 * until it execs. Here the exec fails and the child calls _exit(127), as
 * spawning code does. The connection it ran beside is the parent's, still
 * in use: its unread input must still be there afterwards, and the
 * connection still open both ways.
 *
 *   clone-vfork
 *
 * For its one connection: reads the first line, runs the failing helper,
 * then reads the second line (already sent by the client) and answers
 * "ok\n". Observations:
 *   helper_status     the child's exit status (127)
 *   second_line       what the second read found ("two", or "timeout"/"eof")
 *   answer            whether the answer could be written ("written") */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

#define HELPER_STACK (64 * 1024)

static int helper(void *unused)
{
    (void)unused;
    char *const argv[] = { "/nonexistent/helper", NULL };
    char *const envp[] = { NULL };
    execve(argv[0], argv, envp);
    _exit(127);
}

/* One line, a byte at a time so that nothing after it is consumed. */
static const char *read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 2000) <= 0)
            return "timeout";
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0)
            return "eof";
        if (buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    return buf;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    int listen_fd = pattern_listen();
    int fd = pattern_accept(listen_fd);
    char line[64];
    read_line(fd, line, sizeof line);

    char *stack = malloc(HELPER_STACK);
    if (!stack)
        pattern_die("malloc");
    pid_t child = clone(helper, stack + HELPER_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    if (child < 0)
        pattern_die("clone");
    int status;
    if (waitpid(child, &status, 0) != child)
        pattern_die("waitpid");
    free(stack);
    pattern_observe("helper_status", "%d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    pattern_observe("second_line", "%s", read_line(fd, line, sizeof line));
    pattern_observe("answer", "%s", write(fd, "ok\n", 3) == 3 ? "written" : strerror(errno));
    close(fd);
    pattern_wait_for_stdin_eof();
    close(listen_fd);
    return 0;
}
