/* SPDX-License-Identifier: MIT */
/* A server on a unix-domain stream socket (a local daemon's control or
 * FastCGI socket): it accepts a client that sends a request and more,
 * reads part of it, answers and closes with the rest unread. Linux then
 * reports ECONNRESET to the client after the answer; only TCP connections
 * linger, so that is what the client must see with the library too.
 *
 *   unix-accept
 *
 * The client is a child process of its own. Observations:
 *   client_read  what the client received, then how its reading ended
 *                ("answer+reset" without any lingering) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

#define REQUEST_BYTES (64 * 1024)

/* The whole request is in the server's queue before it reads any of it
 * (sent says so), so that its close always finds input unread. */
static void run_client(const struct sockaddr_un *addr, socklen_t len, int sent, int report)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)addr, len) != 0)
        _exit(2);
    static char request[REQUEST_BYTES];
    memset(request, 'x', sizeof request);
    if (write(fd, request, sizeof request) != (ssize_t)sizeof request || write(sent, "s", 1) != 1)
        _exit(2);
    char got[64];
    size_t n = 0;
    const char *end = "eof";
    for (;;) {
        ssize_t r = read(fd, got + n, sizeof got - 1 - n);
        if (r > 0) {
            n += (size_t)r;
            continue;
        }
        if (r < 0)
            end = errno == ECONNRESET ? "reset" : strerror(errno);
        break;
    }
    got[n] = '\0';
    dprintf(report, "%s+%s", got, end);
    _exit(0);
}

int main(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    /* Abstract: nothing to clean up. */
    snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "lc-unix-accept-%d", (int)getpid());
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1));
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) != 0 || listen(listener, 4) != 0)
        pattern_die("unix listener");
    int report[2], sent[2];
    if (pipe(report) != 0 || pipe(sent) != 0)
        pattern_die("pipe");
    pid_t client = fork();
    if (client < 0)
        pattern_die("fork");
    if (client == 0) {
        close(report[0]);
        close(sent[0]);
        run_client(&addr, len, sent[1], report[1]);
    }
    close(report[1]);
    close(sent[1]);
    int fd = accept(listener, NULL, NULL);
    char sent_byte;
    if (fd < 0 || read(sent[0], &sent_byte, 1) != 1)
        pattern_die("accept");
    char some[16];
    if (read(fd, some, sizeof some) <= 0)
        pattern_die("read");
    pattern_write_all(fd, "answer", 6);
    close(fd);
    char seen[128];
    ssize_t n = read(report[0], seen, sizeof seen - 1);
    seen[n > 0 ? n : 0] = '\0';
    int status;
    waitpid(client, &status, 0);
    pattern_observe("client_read", "%s", seen);
    announce_no_port();
    pattern_wait_for_stdin_eof();
    close(listener);
    return 0;
}
