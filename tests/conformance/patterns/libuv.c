/* SPDX-License-Identifier: MIT */
/* A libuv HTTP server, the way Node.js and other libuv programs serve:
 * libuv creates, accepts and closes the sockets itself, and closes them
 * with syscall(SYS_close), not close(). Keep-alive: a connection serves
 * request after request, pipelined ones from one read alike. A request
 * declaring a body over MAX_BODY bytes gets the early error and the
 * connection is closed from the write callback, the body unread; one with
 * "Connection: close" is answered, then closed the same way. With
 * --helper, a request for /helper is answered by a shell started with
 * uv_spawn that inherits the connection as its stdout, and the server
 * closes its own copy at once, from the read callback.
 *
 * Observations: the number of each accepted connection, the number the
 * program gets next right after each uv_close(), and whether libuv's epoll
 * set still holds a registration for a number that is not open.
 *
 *   libuv --connections N [--helper] */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "pattern.h"

#define KEEP_ALIVE_RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
#define CLOSING_RESPONSE "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nok\n"
#define HEAD_MAX 8192

struct connection {
    uv_tcp_t tcp;
    char head[HEAD_MAX];
    size_t len;
    bool closing;
};

struct write_request {
    uv_write_t req;
    struct connection *connection;
    bool close_after;
};

static uv_loop_t *loop;
static uv_tcp_t listener;
static int connections_wanted = 1, connections_closed;
static bool helper_mode;

static void die_uv(const char *what, int rc)
{
    fprintf(stderr, "libuv pattern: %s: %s\n", what, uv_strerror(rc));
    exit(2);
}

/* Registrations in the epoll set (/proc/self/fdinfo's "tfd:" lines) for a
 * number that is not open: what an event for a reused number would be
 * read against. */
static int stale_epoll_registrations(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", uv_backend_fd(loop));
    FILE *info = fopen(path, "re");
    if (!info)
        pattern_die("fdinfo of libuv's epoll set");
    char line[256];
    int stale = 0, fd;
    while (fgets(line, sizeof line, info))
        if (sscanf(line, "tfd: %d", &fd) == 1 && fcntl(fd, F_GETFD) < 0)
            stale++;
    fclose(info);
    return stale;
}

static void on_closed(uv_handle_t *handle)
{
    free(handle->data);
    if (++connections_closed == connections_wanted)
        uv_close((uv_handle_t *)&listener, NULL);
}

static void close_connection(struct connection *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    /* uv_close() closes the descriptor before it returns; its callback
     * comes a loop iteration later, after the client may have connected
     * again. Observed here, the next number depends on this close only. */
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    int next_fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
    if (next_fd < 0)
        pattern_die("F_DUPFD_CLOEXEC");
    close(next_fd);
    pattern_observe("closed", "next_fd=%d stale_epoll_registrations=%d", next_fd,
                    stale_epoll_registrations());
}

static void on_written(uv_write_t *req, int status)
{
    struct write_request *w = (struct write_request *)req;
    if (status < 0 || w->close_after)
        close_connection(w->connection);
    free(w);
}

static void answer(struct connection *c, const char *response, bool close_after)
{
    struct write_request *w = calloc(1, sizeof *w);
    if (!w)
        pattern_die("calloc");
    w->connection = c;
    w->close_after = close_after;
    uv_buf_t buf = uv_buf_init((char *)response, (unsigned int)strlen(response));
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
    if (rc < 0)
        die_uv("uv_write", rc);
}

static void on_helper_exit(uv_process_t *process, int64_t status, int signal)
{
    if (status != 0 && status != 124) /* timeout's: the upload outlasted it */
        pattern_die("the helper failed");
    (void)signal;
    uv_close((uv_handle_t *)process, (uv_close_cb)free);
}

/* The helper answers on the inherited connection a little later, then
 * reads the rest of the upload for half a second, so that its exit sends
 * a FIN, not a RST. */
static void spawn_helper(struct connection *c)
{
    static char command[] =
        "sleep 0.1; printf 'HTTP/1.1 413 Payload Too Large\\r\\nConnection: close\\r\\n"
        "Content-Length: 19\\r\\n\\r\\nrequest too large.\\n'; exec timeout 0.5 cat <&1 >/dev/null";
    char shell[] = "/bin/sh", dash_c[] = "-c";
    char *argv[] = { shell, dash_c, command, NULL };
    uv_stdio_container_t stdio[3] = {
        { .flags = UV_IGNORE },
        { .flags = UV_INHERIT_STREAM, .data.stream = (uv_stream_t *)&c->tcp },
        { .flags = UV_INHERIT_FD, .data.fd = 2 },
    };
    uv_process_options_t options = {
        .file = "/bin/sh", .args = argv, .stdio = stdio, .stdio_count = 3,
        .exit_cb = on_helper_exit,
    };
    uv_process_t *process = calloc(1, sizeof *process);
    if (!process)
        pattern_die("calloc");
    int rc = uv_spawn(loop, process, &options);
    if (rc < 0)
        die_uv("uv_spawn", rc);
}

/* Every complete request head in the buffer, in order: pipelining. */
static void serve_requests(struct connection *c)
{
    char *end;
    while (!c->closing && (end = memmem(c->head, c->len, "\r\n\r\n", 4))) {
        size_t head_len = (size_t)(end - c->head) + 4;
        char head[HEAD_MAX + 1];
        memcpy(head, c->head, head_len);
        head[head_len] = '\0';
        memmove(c->head, c->head + head_len, c->len - head_len);
        c->len -= head_len;
        if (helper_mode && strncmp(head, "POST /helper ", 13) == 0) {
            spawn_helper(c);
            close_connection(c);
        } else if (strcmp(early_answer(head), EARLY_ERROR_RESPONSE) == 0) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            answer(c, EARLY_ERROR_RESPONSE, true);
            return;
        } else if (strstr(head, "\r\nConnection: close\r\n")) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            answer(c, CLOSING_RESPONSE, true);
            return;
        } else {
            answer(c, KEEP_ALIVE_RESPONSE, false);
        }
    }
    if (c->len == sizeof c->head)
        close_connection(c);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct connection *c = handle->data;
    *buf = uv_buf_init(c->head + c->len, (unsigned int)(sizeof c->head - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct connection *c = stream->data;
    if (nread < 0) {
        close_connection(c);
        return;
    }
    c->len += (size_t)nread;
    serve_requests(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        die_uv("listen", status);
    struct connection *c = calloc(1, sizeof *c);
    if (!c)
        pattern_die("calloc");
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (rc < 0)
        die_uv("uv_accept", rc);
    uv_os_fd_t fd;
    uv_fileno((uv_handle_t *)&c->tcp, &fd);
    pattern_observe("accepted", "fd=%d", fd);
    rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0)
        die_uv("uv_read_start", rc);
}

int main(int argc, char **argv)
{
    const struct pattern_option options[] = {
        PATTERN_CONNECTIONS(connections_wanted),
        { .name = "helper", .flag = &helper_mode },
        { 0 },
    };
    pattern_options(argc, argv, options, "libuv --connections N [--helper]");
    loop = uv_default_loop();
    uv_tcp_init(loop, &listener);
    struct sockaddr_in address;
    uv_ip4_addr("127.0.0.1", 0, &address);
    int rc = uv_tcp_bind(&listener, (const struct sockaddr *)&address, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&listener, 16, on_connection);
    if (rc < 0)
        die_uv("bind/listen", rc);
    uv_os_fd_t listen_fd;
    uv_fileno((uv_handle_t *)&listener, &listen_fd);
    announce_listening(listen_fd);
    uv_run(loop, UV_RUN_DEFAULT);
    pattern_wait_for_stdin_eof();
    rc = uv_loop_close(loop);
    if (rc < 0)
        die_uv("uv_loop_close", rc);
    return 0;
}
