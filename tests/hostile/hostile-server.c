/* SPDX-License-Identifier: MIT */
/* An early-error HTTP server for the hostile-client and soak tests. It
 * knows nothing of lingerclose: an epoll loop over non-blocking sockets
 * reads a request's head, answers "413 Payload Too Large" at once when the
 * declared body is over 1 KiB (without reading the body) or "200 OK"
 * otherwise, and closes. Unlike examples/early-error-server it serves any
 * number of connections at once, so one silent client cannot stall it,
 * and it keeps count of its own failures.
 *
 *   hostile-server [-R SIZE]
 *
 * With -R, every request is answered "200 OK" with a body of SIZE bytes
 * instead (a download): the server writes what its socket takes at once,
 * with a send buffer as large as the kernel allows up to SIZE, and closes,
 * so that a client that does not read leaves that much in the send queue.
 *
 * Says "listening on 127.0.0.1:PORT" once it listens, serves until
 * its stdin is closed, then prints one line of counts:
 *   "served N early-errors N ok N closes N accept-errors N emfile N write-errors N"
 * and exits 0, or 1 if accept() ever failed (EMFILE, ENFILE, ENOMEM...). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "progs/progs.h"

#define HEAD_MAX 4096
#define BACKLOG 4096

struct request {
    size_t len;
    char head[HEAD_MAX + 1];
};

/* Indexed by descriptor; allocated on first use so that the resident size
 * follows the peak of open connections. */
static struct request **requests;
static size_t requests_size;

static size_t download_size;
static char *download;
static size_t download_len;

static struct {
    unsigned long long served, early_errors, ok, closes, accept_errors, emfile, write_errors;
} count;

static struct request *request_for(int fd)
{
    if ((size_t)fd >= requests_size) {
        size_t size = requests_size ? requests_size : 1024;
        while (size <= (size_t)fd)
            size *= 2;
        struct request **grown = realloc(requests, size * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + requests_size, 0, (size - requests_size) * sizeof *grown);
        requests = grown;
        requests_size = size;
    }
    if (!requests[fd])
        requests[fd] = calloc(1, sizeof **requests);
    return requests[fd];
}

static void finish(int fd)
{
    if ((size_t)fd < requests_size && requests[fd])
        requests[fd]->len = 0;
    close(fd);
    count.closes++;
}

/* Writes what the socket takes now: a client that does not read gets
 * the rest never, and the server closes all the same. */
static void send_download(int fd)
{
    int sndbuf = download_len > INT_MAX / 2 ? INT_MAX / 2 : (int)download_len;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    size_t sent = 0;
    while (sent < download_len) {
        ssize_t n = write(fd, download + sent, download_len - sent);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (errno != EAGAIN)
                count.write_errors++;
            break;
        }
        sent += (size_t)n;
    }
    count.served++;
    count.ok++;
    finish(fd);
}

static void respond(int fd, struct request *r)
{
    if (download) {
        send_download(fd);
        return;
    }
    r->head[r->len] = '\0';
    const char *reply = early_answer(r->head);
    size_t len = strlen(reply);
    /* A few hundred bytes always fit in a fresh socket's send buffer. */
    if (write(fd, reply, len) != (ssize_t)len)
        count.write_errors++;
    count.served++;
    if (strcmp(reply, EARLY_ERROR_RESPONSE) == 0)
        count.early_errors++;
    else
        count.ok++;
    finish(fd);
}

static void on_readable(int fd)
{
    struct request *r = request_for(fd);
    if (!r) {
        finish(fd);
        return;
    }
    ssize_t n = read(fd, r->head + r->len, HEAD_MAX - r->len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        finish(fd);
        return;
    }
    r->len += (size_t)n;
    r->head[r->len] = '\0';
    if (strstr(r->head, "\r\n\r\n") || r->len == HEAD_MAX)
        respond(fd, r);
}

static void accept_all(int listener, int ep)
{
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                return;
            if (count.accept_errors++ == 0)
                perror("hostile-server: accept");
            if (errno == EMFILE)
                count.emfile++;
            return;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
            finish(fd);
    }
}

int main(int argc, char **argv)
{
    for (int o; (o = getopt(argc, argv, "R:")) != -1;) {
        if (o != 'R') {
            fprintf(stderr, "usage: hostile-server [-R SIZE]\n");
            return 2;
        }
        download_size = (size_t)parse_number("-R", optarg, 0, SIZE_MAX / 4);
    }
    if (download_size) {
        download = malloc(download_size + 128);
        if (!download)
            die_errno("malloc");
        int head = snprintf(download, 128,
                            "HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
                            download_size);
        memset(download + head, 'x', download_size);
        download_len = (size_t)head + download_size;
    }
    int listener = listen_loopback(AF_INET, 0, BACKLOG, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = listener };
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    ev.data.fd = STDIN_FILENO;
    epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
    announce_listening(listener);

    for (;;) {
        struct epoll_event events[256];
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0 && errno != EINTR) {
            die_errno("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                accept_all(listener, ep);
            } else if (fd == STDIN_FILENO) {
                char buf[64];
                if (read(STDIN_FILENO, buf, sizeof buf) <= 0)
                    goto done;
            } else {
                on_readable(fd);
            }
        }
    }
done:
    printf("served %llu early-errors %llu ok %llu closes %llu accept-errors %llu emfile %llu "
           "write-errors %llu\n",
           count.served, count.early_errors, count.ok, count.closes, count.accept_errors, count.emfile,
           count.write_errors);
    fflush(stdout);
    return count.accept_errors ? 1 : 0;
}
