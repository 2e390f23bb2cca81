/* SPDX-License-Identifier: MIT */
/* Everything an ordinary program can see of its own descriptors, written
 * down so that a run with the library can be compared with a run without
 * it. Real programs depend on all of it: servers that assume socket()
 * returns the lowest free number (inetd-style fd juggling), code that
 * checks close(-1) or a double close for EBADF, fcntl(F_GETFD) as an
 * "is this open?" probe, dup2(fd, fd) as a no-op, epoll event loops that
 * reuse a number at once after closing it, and forked helpers counting
 * what they inherited.
 *
 * Between the probes, connections are closed the way an early-error
 * server closes them: the client (this program itself, over loopback) is
 * still sending and the server leaves input unread, so that with the
 * library those closes linger. Whether the client then sees a FIN or a
 * RST is exactly what the library changes, so it is not observed.
 *
 * Usage: transparency   (serves no outside client; says it listens for the
 * harness, observes, then waits for stdin EOF). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

/* What the client sent that the server will never read (it reads at most
 * 1 KiB). */
#define UPLOAD_BYTES 4096

#define TAG_OLD 1u
#define TAG_NEW 2u

struct connection {
    int client;
    int server;
};

static const char *errno_name(int e)
{
    if (e == 0)
        return "0";
#ifdef HAVE_STRERRORNAME_NP
    const char *name = strerrorname_np(e);
    return name ? name : "?";
#else
    static char number[16];
    snprintf(number, sizeof number, "%d", e);
    return number;
#endif
}

/* "rc=R errno=E" of a call that returned rc with errno e. */
static void observe_result(const char *key, int rc, int e)
{
    pattern_observe(key, "rc=%d errno=%s", rc, rc < 0 ? errno_name(e) : "0");
}

/* Bounded waits: a bug must fail the test, not hang it. */
static int connect_to(int port)
{
    int fd = connect_loopback(AF_INET, port, 5);
    if (fd < 0)
        pattern_die("connect");
    return fd;
}

/* A client that has sent a request and more than the server will read;
 * loopback queues it all before accept(). */
static struct connection open_uploading_connection(int listener, int port)
{
    struct connection c;
    c.client = connect_to(port);
    static char upload[UPLOAD_BYTES];
    memset(upload, 'u', sizeof upload);
    static const char head[] = "POST / HTTP/1.1\r\nContent-Length: 99999\r\n\r\n";
    memcpy(upload, head, sizeof head - 1);
    pattern_write_all(c.client, upload, sizeof upload);
    c.server = pattern_accept(listener);
    return c;
}

/* The early-error server's close, with input left unread. */
static void answer_early_and_close(const char *key, int server)
{
    pattern_read_some_request(server);
    pattern_send_early_error(server);
    errno = 0;
    int rc = close(server);
    observe_result(key, rc, errno);
}

/* The client takes whatever comes until the connection ends and goes. */
static void finish_client(int client)
{
    char buf[4096];
    while (read(client, buf, sizeof buf) > 0)
        ;
    if (close(client) != 0)
        pattern_die("close client");
}

static void probe_closed_number(const char *what, int fd)
{
    char key[64];
    errno = 0;
    int rc = fcntl(fd, F_GETFD);
    snprintf(key, sizeof key, "%s_getfd", what);
    observe_result(key, rc, errno);
    errno = 0;
    rc = close(fd);
    snprintf(key, sizeof key, "%s_close_again", what);
    observe_result(key, rc, errno);
}

/* Numbers handed out around lingering closes: the lowest free one, as
 * without the library. */
static void observe_numbering(int listener, int port)
{
    struct connection first = open_uploading_connection(listener, port);
    pattern_observe("first_connection", "client=%d server=%d", first.client, first.server);
    answer_early_and_close("first_close", first.server);
    probe_closed_number("first_server", first.server);

    int devnull = open("/dev/null", O_RDWR);
    pattern_observe("devnull", "%d", devnull);
    int pipe1[2];
    if (pipe(pipe1) != 0)
        pattern_die("pipe");
    pattern_observe("pipe", "%d %d", pipe1[0], pipe1[1]);
    finish_client(first.client);

    struct connection second = open_uploading_connection(listener, port);
    pattern_observe("second_connection", "client=%d server=%d", second.client, second.server);
    answer_early_and_close("second_close", second.server);
    int fresh = socket(AF_INET, SOCK_STREAM, 0);
    pattern_observe("socket", "%d", fresh);
    int pipe2[2];
    if (pipe(pipe2) != 0)
        pattern_die("pipe");
    pattern_observe("pipe", "%d %d", pipe2[0], pipe2[1]);
    finish_client(second.client);

    /* The edge cases of close, dup2 and fcntl. */
    errno = 0;
    int rc = close(-1);
    observe_result("close_minus_one", rc, errno);
    errno = 0;
    rc = close(devnull);
    observe_result("close_devnull", rc, errno);
    probe_closed_number("devnull", devnull);
    errno = 0;
    rc = close(1000);
    observe_result("close_never_opened", rc, errno);
    errno = 0;
    rc = dup2(pipe1[0], pipe1[0]);
    pattern_observe("dup2_onto_itself", "rc=%d same=%d", rc, rc == pipe1[0]);
    errno = 0;
    rc = dup2(devnull, devnull);
    observe_result("dup2_closed_onto_itself", rc, errno);

    close(fresh);
    close(pipe1[0]);
    close(pipe1[1]);
    close(pipe2[0]);
    close(pipe2[1]);
}

static void describe_events(char *out, size_t size, const struct epoll_event *events, int count)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        { EPOLLIN, "IN" }, { EPOLLOUT, "OUT" }, { EPOLLRDHUP, "RDHUP" },
        { EPOLLHUP, "HUP" }, { EPOLLERR, "ERR" },
    };
    snprintf(out, size, "none");
    size_t used = 0;
    for (int i = 0; i < count && used < size; i++) {
        uint32_t tag = (uint32_t)(events[i].data.u64 >> 32);
        int fd = (int)(uint32_t)events[i].data.u64;
        used += (size_t)snprintf(out + used, size - used, "%s%s:fd=%d:", i ? " " : "",
                                 tag == TAG_OLD ? "old" : tag == TAG_NEW ? "new" : "?", fd);
        const char *separator = "";
        for (size_t n = 0; n < sizeof names / sizeof *names && used < size; n++) {
            if (events[i].events & names[n].bit) {
                used += (size_t)snprintf(out + used, size - used, "%s%s", separator, names[n].name);
                separator = "|";
            }
        }
    }
}

static void observe_epoll_wait(int ep, const char *key)
{
    struct epoll_event events[8];
    int count;
    do
        count = epoll_wait(ep, events, 8, 1000);
    while (count < 0 && errno == EINTR);
    char text[400];
    describe_events(text, sizeof text, events, count);
    pattern_observe(key, "%s", text);
}

static void watch(int ep, int fd, uint32_t tag, uint32_t events)
{
    struct epoll_event ev = { .events = events };
    ev.data.u64 = (uint64_t)tag << 32 | (uint32_t)fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        pattern_die("epoll_ctl");
}

/* An event loop closes a watched connection without EPOLL_CTL_DEL and at
 * once gets the same number for a new socket. The old socket must not be
 * reported any more: while it lingers it is writable (its FIN is sent),
 * so a registration left behind would show as "old ... OUT". */
static void observe_epoll_number_reuse(int listener, int port)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        pattern_die("epoll_create1");
    struct connection old = open_uploading_connection(listener, port);
    pattern_observe("epoll_connection", "epoll=%d client=%d server=%d", ep, old.client, old.server);
    watch(ep, old.server, TAG_OLD, EPOLLIN | EPOLLOUT);
    observe_epoll_wait(ep, "epoll_before_close");
    answer_early_and_close("epoll_close", old.server);

    int fresh = connect_to(port);
    int fresh_peer = pattern_accept(listener);
    pattern_observe("epoll_new_socket", "%d reuses_closed_number=%d", fresh,
                    fresh == old.server);
    watch(ep, fresh, TAG_NEW, EPOLLIN | EPOLLOUT);
    observe_epoll_wait(ep, "epoll_after_reuse");

    finish_client(old.client);
    close(fresh_peer);
    close(fresh);
    close(ep);
}

/* A forked helper: what it inherited, which number its first socket gets,
 * and its exit status as the parent sees it. */
static void observe_forked_child(void)
{
    pid_t child = fork();
    if (child < 0)
        pattern_die("fork");
    if (child == 0) {
        pattern_observe("child_open_fds", "%d", pattern_open_fds());
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        pattern_observe("child_socket", "%d", fd);
        _exit(7);
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            pattern_die("waitpid");
    if (WIFEXITED(status))
        pattern_observe("child_status", "exited %d", WEXITSTATUS(status));
    else
        pattern_observe("child_status", "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
}

int main(void)
{
    int listener = pattern_listen();
    int port = local_port(listener);
    pattern_observe("listener", "%d", listener);

    observe_numbering(listener, port);
    observe_epoll_number_reuse(listener, port);
    observe_forked_child();

    pattern_wait_for_stdin_eof();
    return 0;
}
