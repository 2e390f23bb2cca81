/* SPDX-License-Identifier: MIT */
/* A server whose helper fails to exec: the helper inherits a close-on-exec
 * connection A and gives up its hold on it for the exec(); the server
 * closes A while the exec() is still under way, then serves connection B,
 * which it duplicates, so that B's holder count is made while A's
 * helper has not yet learnt that its exec() failed. The helper then carries
 * on with A and closes it. B's answer is the early error to an upload;
 * the server closes both of B's descriptors.
 *
 * The window is made deterministic by tests/exec-pause.so preloaded after
 * the library: the helper's execve() stops there until the server says so.
 * Roles: "ROLE server <pid>", "ROLE helper <pid>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pattern.h"

#define MISSING_PROGRAM "/nonexistent/lingerclose-helper"

static void wait_byte(int fd)
{
    char byte;
    if (read(fd, &byte, 1) != 1)
        pattern_die("waiting for the other side");
}

static void send_byte(int fd)
{
    if (write(fd, "g", 1) != 1)
        pattern_die("signalling the other side");
}

int main(void)
{
    fprintf(stderr, "ROLE server %d\n", (int)getpid());
    int listener = pattern_listen();
    int a = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (a < 0)
        pattern_die("accept A");
    int to_server[2], to_helper[2];
    if (pipe(to_server) != 0 || pipe(to_helper) != 0)
        pattern_die("pipe");

    pid_t helper = fork();
    if (helper < 0)
        pattern_die("fork");
    if (helper == 0) {
        fprintf(stderr, "ROLE helper %d\n", (int)getpid());
        char fds[32];
        snprintf(fds, sizeof fds, "%d,%d", to_server[1], to_helper[0]);
        setenv("LC_TEST_EXEC_PAUSE_FDS", fds, 1);
        char *const argv[] = { MISSING_PROGRAM, NULL };
        execve(MISSING_PROGRAM, argv, environ);
        unsetenv("LC_TEST_EXEC_PAUSE_FDS");
        send_byte(to_server[1]); /* exec() failed */
        wait_byte(to_helper[0]);
        close(a);
        exit(0);
    }

    wait_byte(to_server[0]); /* the helper is inside execve() */
    close(a);
    int b = pattern_accept(listener);
    int b_copy = dup(b);
    if (b_copy < 0)
        pattern_die("dup");
    send_byte(to_helper[1]); /* let its exec() fail */
    wait_byte(to_server[0]);

    pattern_read_some_request(b_copy);
    pattern_send_early_error(b_copy);
    close(b_copy);
    close(b);
    send_byte(to_helper[1]); /* the helper may close A now */
    pattern_reap_children();
    pattern_observe("helper", "done");
    pattern_wait_for_stdin_eof();
    return 0;
}
