/* SPDX-License-Identifier: MIT */
/* An acceptor that passes connections to a worker process over a unix
 * socket with SCM_RIGHTS (the shape of nginx's and HAProxy's socket
 * hand-over, systemd-style socket brokers, pre-forked pools fed by a
 * dispatcher): the worker is forked before anything is accepted, the
 * acceptor sends each accepted connection to it and closes its own copy;
 * the worker reads part of the request, answers with the early error and
 * closes.
 *
 * The library cannot count holders across such a transfer, so it must
 * leave both closes alone: the acceptor's is "shared" (sent away), the
 * worker's "not-owned" (received). The program announces
 * "ROLE acceptor <pid>" and "ROLE worker <pid>" on stderr.
 *
 *   scm-rights [--connections N] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pattern.h"

static void send_connection(int channel, int fd)
{
    char byte = 'c';
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.space,
        .msg_controllen = sizeof control.space,
    };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ssize_t n;
    do
        n = sendmsg(channel, &msg, 0);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        pattern_die("sendmsg");
}

/* The next connection, or -1 once the acceptor has closed the channel. */
static int receive_connection(int channel)
{
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.space,
        .msg_controllen = sizeof control.space,
    };
    ssize_t n;
    do
        n = recvmsg(channel, &msg, 0);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return -1;
    if (n < 0)
        pattern_die("recvmsg");
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        pattern_die("recvmsg: no descriptor");
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static _Noreturn void run_worker(int channel)
{
    fprintf(stderr, "ROLE worker %d\n", (int)getpid());
    int served = 0;
    for (int fd; (fd = receive_connection(channel)) >= 0;) {
        pattern_read_some_request(fd);
        pattern_send_early_error(fd);
        close(fd);
        served++;
    }
    pattern_observe("worker-served", "%d", served);
    exit(0);
}

int main(int argc, char **argv)
{
    int connections = 1;
    const struct pattern_option options[] = { PATTERN_CONNECTIONS(connections), { 0 } };
    pattern_options(argc, argv, options, "scm-rights [--connections N]");

    int listener = pattern_listen();
    int channel[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) != 0)
        pattern_die("socketpair");
    pid_t worker = fork();
    if (worker < 0)
        pattern_die("fork");
    if (worker == 0) {
        close(channel[0]);
        close(listener);
        run_worker(channel[1]);
    }
    close(channel[1]);
    fprintf(stderr, "ROLE acceptor %d\n", (int)getpid());

    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listener);
        send_connection(channel[0], fd);
        close(fd);
    }
    close(channel[0]); /* the worker ends once it has served what it got */
    pattern_reap_children();
    pattern_observe("acceptor-sent", "%d", connections);
    pattern_wait_for_stdin_eof();
    return 0;
}
