/* SPDX-License-Identifier: MIT */
/* Servers that keep a second descriptor for the connection: a log or
 * output descriptor made with dup() (CGI runners, pre-forking servers that
 * split a socket into an input and an output side), dup2() onto a fixed
 * number, dup3()/F_DUPFD_CLOEXEC so that the copy does not leak into
 * exec'd children, or a raw fcntl64() as 64-bit-clean code calls it. They
 * answer an upload early on the copy, then close the ORIGINAL first and the
 * copy last: only the last close ends the connection.
 *
 * --how=dup2-onto is the other side of dup2: a server that parks /dev/null
 * on a number that still holds the connection (as daemons do on 0-2),
 * which closes the socket implicitly, then later closes that number.
 *
 * --how=dup3-refused calls dup3 onto the connection with flags dup3
 * refuses (EINVAL): nothing is closed, the server answers and closes after.
 *
 * Usage: dup --how=METHOD [--connections N]
 * Each connection is reported as "OBS connection original=A duplicate=B",
 * or "OBS connection socket=A devnull=B" for dup2-onto. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

/* Far above anything this program opens, and free. */
#define FIXED_DUPLICATE_FD 100

/* The duplicate of fd that METHOD makes, or -1 for an unknown method. */
static int duplicate(const char *how, int fd)
{
    if (strcmp(how, "dup") == 0)
        return dup(fd);
    if (strcmp(how, "dup2") == 0)
        return dup2(fd, FIXED_DUPLICATE_FD);
    if (strcmp(how, "dup3") == 0)
        return dup3(fd, FIXED_DUPLICATE_FD, O_CLOEXEC);
    if (strcmp(how, "fcntl-dupfd") == 0)
        return fcntl(fd, F_DUPFD, 0);
    if (strcmp(how, "fcntl-dupfd-cloexec") == 0)
        return fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (strcmp(how, "fcntl64-dupfd") == 0)
        return fcntl64(fd, F_DUPFD, 0);
    errno = EINVAL;
    return -1;
}

/* Answers on a copy, then lets go of the original before the copy. */
static void serve_through_duplicate(const char *how, int fd)
{
    pattern_read_some_request(fd);
    int copy = duplicate(how, fd);
    if (copy < 0)
        pattern_die(how);
    pattern_observe("connection", "original=%d duplicate=%d", fd, copy);
    pattern_send_early_error(copy);
    if (close(fd) != 0)
        pattern_die("close original");
    if (close(copy) != 0)
        pattern_die("close duplicate");
}

/* Answers on the socket's own number, then parks /dev/null there: dup2
 * drops the socket's last descriptor, which is a close of the
 * connection. The number is closed later, as the daemon would at exit. */
static void serve_then_park_devnull(int fd)
{
    pattern_read_some_request(fd);
    pattern_send_early_error(fd);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0)
        pattern_die("open /dev/null");
    pattern_observe("connection", "socket=%d devnull=%d", fd, devnull);
    if (dup2(devnull, fd) != fd)
        pattern_die("dup2 onto the socket");
    if (close(devnull) != 0)
        pattern_die("close /dev/null");
    /* Now /dev/null: nothing the connection cares about. */
    if (close(fd) != 0)
        pattern_die("close parked number");
}

/* A dup3 that fails changes nothing: the connection is answered and closed
 * afterwards as if it had not been tried. */
static void serve_after_refused_dup3(int fd)
{
    pattern_read_some_request(fd);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0)
        pattern_die("open /dev/null");
    int rc = dup3(devnull, fd, ~O_CLOEXEC);
    pattern_observe("refused", "%s", rc < 0 ? strerror(errno) : "no");
    close(devnull);
    pattern_send_early_error(fd);
    if (close(fd) != 0)
        pattern_die("close");
}

int main(int argc, char **argv)
{
    const char *how = NULL;
    int connections = 1;
    const struct pattern_option options[] = {
        { .name = "how", .text = &how },
        PATTERN_CONNECTIONS(connections),
        { 0 },
    };
    pattern_options(argc, argv, options, "dup --how=METHOD [--connections N]");
    if (!how)
        die("--how=METHOD is required");

    int listener = pattern_listen();
    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listener);
        if (strcmp(how, "dup2-onto") == 0)
            serve_then_park_devnull(fd);
        else if (strcmp(how, "dup3-refused") == 0)
            serve_after_refused_dup3(fd);
        else
            serve_through_duplicate(how, fd);
    }
    pattern_wait_for_stdin_eof();
    return 0;
}
