/* SPDX-License-Identifier: MIT */
/* Servers that end a connection by sweeping the descriptor table rather
 * than closing one number: the "close everything from here up" idiom of
 * daemons and of children before exec (OpenSSH, postfix, sudo, glib's
 * g_spawn, systemd helpers), done the modern way (close_range, closefrom),
 * the portable way (a close() loop up to RLIMIT_NOFILE), or as
 * close_range(CLOSE_RANGE_CLOEXEC) followed by a close of its own.
 *
 * Each connection gets the early error, then a sweep from its descriptor
 * up, which also takes two other descriptors: a /dev/null just above it
 * and one at the very top of the table. Two connections in a row (the
 * default) show that a sweep leaves the program able to go on.
 *
 * close_range-or-loop: close_range, and where it fails (a kernel before
 * 5.9) what such programs fall back on (OpenSSH's closefrom): a close()
 * loop; in between, whether the failed sweep left the connection
 * writable, as it must.
 *
 * Usage: closefrom --how=close_range|closefrom|close-loop|close_range-cloexec|
 *                        close_range-or-loop
 *                  [--connections N]
 * Observations: what the sweep returned, what is still open after it and
 * which number the next socket() gets; close-loop also how many numbers
 * its loop closed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pattern.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* What the close() loop sweeps up to, as such loops do. */
static int descriptor_limit(void)
{
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) != 0)
        pattern_die("getrlimit");
    return nofile.rlim_cur > 1 << 20 ? 1 << 20 : (int)nofile.rlim_cur;
}

/* Servers raise the soft limit to serve many clients; it also makes the
 * close() loop as long as it gets in real life. */
static void raise_descriptor_limit(void)
{
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) != 0)
        pattern_die("getrlimit");
    rlim_t wanted = 65536;
    if (nofile.rlim_max != RLIM_INFINITY && nofile.rlim_max < wanted)
        wanted = nofile.rlim_max;
    if (nofile.rlim_cur < wanted) {
        nofile.rlim_cur = wanted;
        if (setrlimit(RLIMIT_NOFILE, &nofile) != 0)
            pattern_die("setrlimit");
    }
}

static const char *open_or_errno(int fd)
{
    if (fcntl(fd, F_GETFD) >= 0)
        return "open";
    return errno == EBADF ? "EBADF" : strerror(errno);
}

static void sweep_from(const char *how, int fd)
{
    if (strcmp(how, "close_range") == 0) {
        pattern_observe("close_range_rc", "%d", pattern_close_range((unsigned)fd, ~0U, 0));
    } else if (strcmp(how, "close_range-or-loop") == 0) {
        int rc = pattern_close_range((unsigned)fd, ~0U, 0);
        pattern_observe("close_range_rc", "%d", rc);
        if (rc != 0) {
            pattern_observe("writable_after_failed_sweep", "%s",
                            send(fd, "", 0, MSG_NOSIGNAL) == 0 ? "yes" : strerror(errno));
            sweep_from("close-loop", fd);
        }
    } else if (strcmp(how, "closefrom") == 0) {
        pattern_closefrom(fd);
    } else if (strcmp(how, "close-loop") == 0) {
        int limit = descriptor_limit();
        int closed = 0;
        for (int i = fd; i < limit; i++)
            if (close(i) == 0)
                closed++;
        pattern_observe("loop_closed", "%d", closed);
    } else if (strcmp(how, "close_range-cloexec") == 0) {
        pattern_observe("close_range_rc", "%d",
                        pattern_close_range((unsigned)fd, ~0U, CLOSE_RANGE_CLOEXEC));
        int flags = fcntl(fd, F_GETFD);
        pattern_observe("cloexec_set", "%d", flags >= 0 && (flags & FD_CLOEXEC));
        /* Marked only: the connection ends here. */
        pattern_observe("close_rc", "%d", close(fd));
    } else {
        fprintf(stderr, "closefrom: unknown --how=%s\n", how);
        exit(2);
    }
}

static void serve_then_sweep(const char *how, int fd)
{
    pattern_read_some_request(fd);
    pattern_send_early_error(fd);

    /* Other descriptors in the swept range: a log file just above the
     * connection and one at the top of the table. */
    int log_fd = open("/dev/null", O_WRONLY);
    if (log_fd < 0)
        pattern_die("open /dev/null");
    int top_fd = descriptor_limit() - 1;
    if (dup2(log_fd, top_fd) != top_fd)
        pattern_die("dup2 to the top");
    pattern_observe("swept", "connection=%d log=%d top=%d", fd, log_fd, top_fd);

    sweep_from(how, fd);

    pattern_observe("after_sweep", "connection=%s log=%s top=%s", open_or_errno(fd),
                    open_or_errno(log_fd), open_or_errno(top_fd));
    /* Numbering goes on as if nothing were there. */
    int next = socket(AF_INET, SOCK_STREAM, 0);
    if (next < 0)
        pattern_die("socket");
    pattern_observe("next_socket", "%d", next);
    close(next);
    /* Only marked close-on-exec by close_range-cloexec: not for the next
     * connection to find. */
    if (fcntl(log_fd, F_GETFD) >= 0)
        close(log_fd);
    if (fcntl(top_fd, F_GETFD) >= 0)
        close(top_fd);
}

int main(int argc, char **argv)
{
    const char *how = NULL;
    int connections = 2;
    const struct pattern_option options[] = {
        { .name = "how", .text = &how },
        PATTERN_CONNECTIONS(connections),
        { 0 },
    };
    pattern_options(argc, argv, options, "closefrom --how=METHOD [--connections N]");
    if (!how)
        die("--how=METHOD is required");
    if (strcmp(how, "close-loop") == 0)
        raise_descriptor_limit();

    int listener = pattern_listen();
    for (int i = 0; i < connections; i++)
        serve_then_sweep(how, pattern_accept(listener));
    pattern_wait_for_stdin_eof();
    return 0;
}
