/* SPDX-License-Identifier: MIT */
/* A server that starts a helper in the middle of a connection (a CGI-less
 * server running a hook, a daemon calling a notifier, anything built on
 * fork + "close every inherited descriptor" + exec): the helper inherits
 * the connection and the listener and, as careful programs do, closes every
 * descriptor above stderr before it execs (or just ends, --no-exec). The
 * helper's closes must only drop its copies: no FIN to the client, no input
 * read away from under the parent.
 *
 * Per connection (--connections N, default 1), the protocol is:
 *   client: "PING1\nEARLY\n"   server reads "PING1\n" only, so "EARLY\n"
 *                              is unread while the helper closes everything
 *   server: forks the helper, waits for it to end, reads "EARLY\n",
 *           writes "READY\n"
 *   client: "PING2\n"          server: "PONG\n"
 *   client: an upload          server: reads some of it, sends the early
 *                              error and closes (the parent's close is now
 *                              the last one: it may linger)
 * --how=loop|close_range|closefrom picks how the helper closes:
 * close(i) for i from 3 to RLIMIT_NOFILE, close_range(3, ~0U, 0) or
 * closefrom(3); --how=close-on-exec accepts the connection close-on-exec
 * and the helper closes nothing: exec drops its copy. The helper announces
 * itself on stderr as
 * "ROLE helper <pid>", the server as "ROLE server <pid>". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

enum how { BY_LOOP, BY_CLOSE_RANGE, BY_CLOSEFROM, BY_CLOSE_ON_EXEC };

/* One byte at a time, so that whatever follows the line stays unread in
 * the socket. */
static void read_line(int fd, char *line, size_t size)
{
    size_t used = 0;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            pattern_die("read line");
        if (c == '\n' || used + 1 == size)
            break;
        line[used++] = c;
    }
    line[used] = '\0';
}

static _Noreturn void run_helper(enum how how, bool exec_after)
{
    fprintf(stderr, "ROLE helper %d\n", (int)getpid());
    switch (how) {
    case BY_LOOP: {
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) != 0)
            _exit(3);
        for (rlim_t fd = 3; fd < nofile.rlim_cur; fd++)
            close((int)fd);
        break;
    }
    case BY_CLOSE_RANGE:
        if (pattern_close_range(3, ~0U, 0) != 0)
            _exit(3);
        break;
    case BY_CLOSEFROM:
        pattern_closefrom(3);
        break;
    case BY_CLOSE_ON_EXEC:
        break;
    }
    if (exec_after) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(4);
    }
    _exit(0);
}

static void serve(int listener, enum how how, bool exec_after)
{
    int fd = how == BY_CLOSE_ON_EXEC ? accept4(listener, NULL, NULL, SOCK_CLOEXEC)
                                     : pattern_accept(listener);
    if (fd < 0)
        pattern_die("accept4");
    char line[64];
    read_line(fd, line, sizeof line);
    pattern_observe("first-line", "%s", line);

    pid_t helper = fork();
    if (helper < 0)
        pattern_die("fork");
    if (helper == 0)
        run_helper(how, exec_after);
    int status;
    while (waitpid(helper, &status, 0) < 0)
        if (errno != EINTR)
            pattern_die("waitpid");
    pattern_observe("helper-status", "%d",
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));

    /* Sent before the helper started: still here only if nobody read it. */
    read_line(fd, line, sizeof line);
    pattern_observe("line-kept-across-helper", "%s", line);
    pattern_write_all(fd, "READY\n", 6);
    read_line(fd, line, sizeof line);
    pattern_observe("line-after-ready", "%s", line);
    pattern_write_all(fd, "PONG\n", 5);

    pattern_read_some_request(fd);
    pattern_send_early_error(fd);
    close(fd);
}

int main(int argc, char **argv)
{
    int how = BY_LOOP;
    bool no_exec = false;
    int connections = 1;
    static const char *const hows[] = { "loop", "close_range", "closefrom", "close-on-exec", NULL };
    const struct pattern_option options[] = {
        { .name = "how", .choice = &how, .choices = hows },
        { .name = "no-exec", .flag = &no_exec },
        PATTERN_CONNECTIONS(connections),
        { 0 },
    };
    pattern_options(argc, argv, options,
                    "helper-closes-all [--how=loop|close_range|closefrom|close-on-exec] "
                    "[--no-exec] [--connections N]");
    bool exec_after = !no_exec;

    int listener = pattern_listen();
    fprintf(stderr, "ROLE server %d\n", (int)getpid());
    for (int i = 0; i < connections; i++)
        serve(listener, how, exec_after);
    pattern_wait_for_stdin_eof();
    return 0;
}
