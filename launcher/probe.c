/* SPDX-License-Identifier: MIT */
/* lingerclose probe TARGET: behaves as most client libraries do (the whole
 * request written, only then the response read) in the situations where a
 * server that closes with unread input has its kernel send a reset that
 * destroys the response it just wrote, and says for each what arrived.
 * Every case is bounded by --timeout and sends at most --upload-bytes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf/parse.h"
#include "probe.h"

/* The exit statuses, documented in lingerclose(1). */
enum {
    PROBE_ALL_ARRIVED = 0,
    PROBE_LOST = 1,
    PROBE_MISUSE = 2,
    PROBE_NO_ANSWER = 3, /* nothing lost, but a response did not come in time */
};

#define DEFAULT_TIMEOUT_MS 5000u
#define DEFAULT_UPLOAD_BYTES (8u << 20)
#define MAX_UPLOAD_BYTES (1ull << 32)
#define MAX_REQUEST_FILE (1u << 20)
#define CHUNK 65536
#define HEAD_KEEP 16384
/* Pipelined requests that follow a "Connection: close" one: more than a
 * server reads in its first read, so that some of them stay unread. */
#define PIPELINED_BYTES 65536
/* A client that reads slowly: the server's last bytes are still queued on
 * its side when it closes, and stay queued for tens of milliseconds rather
 * than the few a loopback reader at full speed needs, so that a server
 * scheduled late for its close still shows the loss. At most one buffer a
 * millisecond: 64 MB/s, an 8 MB response in about 130 ms. */
#define SLOW_READER_RCVBUF 65536
#define SLOW_READER_PAUSE_NS 1000000L
/* A response that fits in the socket buffers leaves nothing queued to
 * destroy. */
#define LARGE_RESPONSE_MIN (1u << 20)

struct target {
    char host[256];
    char port[8];
    char path[1024];
    char host_header[300];
};

struct options {
    uint32_t timeout_ms;
    uint64_t upload_bytes;
    const char *large_path;
    char *request; /* --request FILE's content, or NULL for HTTP */
    size_t request_len;
};

/* What one case saw. */
struct exchange {
    uint64_t sent, to_send;
    int send_errno;  /* 0: everything sent (or sending stopped in time) */
    bool send_stalled; /* the server stopped reading before the end */
    uint64_t received;
    int recv_errno; /* ECONNRESET, ETIMEDOUT (ours), or 0 */
    bool eof;
    bool complete; /* the response's own framing says it is whole */
    char head[HEAD_KEEP + 1];
    size_t head_len;
};

enum verdict { WHOLE, CLOSED, OPEN, RESET, CUT, NONE };

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Noreturn __attribute__((format(printf, 1, 2))) void misuse(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lingerclose probe: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'lingerclose probe --help' for more information.\n", stderr);
    exit(PROBE_MISUSE);
}

/* HOST:PORT, [V6]:PORT, or http://HOST[:PORT][/PATH]. */
static void parse_target(const char *text, struct target *t)
{
    const char *rest = text, *path = "/";
    const char *default_port = NULL;
    if (strncasecmp(text, "http://", 7) == 0) {
        rest = text + 7;
        default_port = "80";
    } else if (strstr(text, "://")) {
        misuse("'%s': only http:// URLs are accepted (for HTTPS, probe the server's "
               "plain-text port, or use --request)", text);
    }
    size_t authority = strcspn(rest, "/?#");
    if (default_port && rest[authority])
        path = rest + authority;
    else if (rest[authority])
        misuse("'%s' is not valid (accepted: HOST:PORT or http://HOST[:PORT][/PATH])", text);
    const char *host = rest, *host_end, *port = NULL;
    if (*rest == '[') {
        host = rest + 1;
        host_end = memchr(rest, ']', authority);
        if (!host_end)
            misuse("'%s': an IPv6 address needs its closing ']'", text);
        if (host_end + 1 < rest + authority) {
            if (host_end[1] != ':')
                misuse("'%s' is not valid (accepted: [ADDRESS]:PORT)", text);
            port = host_end + 2;
        }
    } else {
        host_end = memchr(rest, ':', authority);
        if (host_end)
            port = host_end + 1;
        else
            host_end = rest + authority;
    }
    size_t port_len = port ? (size_t)(rest + authority - port) : 0;
    if (!port || port_len == 0) {
        if (!default_port)
            misuse("'%s' names no port (accepted: HOST:PORT or http://HOST[:PORT][/PATH])", text);
        port = default_port;
        port_len = strlen(default_port);
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len >= sizeof t->host)
        misuse("'%s' names no host, or one too long (accepted: up to 255 characters)", text);
    if (port_len >= sizeof t->port || strspn(port, "0123456789") < port_len ||
        atoi(port) < 1 || atoi(port) > 65535)
        misuse("'%s': the port is not valid (accepted: a number from 1 to 65535)", text);
    if (strlen(path) >= sizeof t->path || strpbrk(path, " \r\n"))
        misuse("'%s': the path is not valid (accepted: up to 1023 characters, no space or "
               "line break)", text);
    memcpy(t->host, host, host_len);
    t->host[host_len] = '\0';
    memcpy(t->port, port, port_len);
    t->port[port_len] = '\0';
    snprintf(t->path, sizeof t->path, "%s", path);
    bool v6 = strchr(t->host, ':') != NULL;
    snprintf(t->host_header, sizeof t->host_header, "%s%s%s%s%s", v6 ? "[" : "", t->host,
             v6 ? "]" : "", strcmp(t->port, "80") ? ":" : "", strcmp(t->port, "80") ? t->port : "");
}

/* A non-blocking connection; rcvbuf > 0 shrinks the receive buffer first
 * (it must be set before the handshake to bound the window). */
static int connect_target(const struct target *t, int rcvbuf, uint32_t timeout_ms,
                          char *why, size_t why_size)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *list;
    int rc = getaddrinfo(t->host, t->port, &hints, &list);
    if (rc != 0) {
        snprintf(why, why_size, "cannot resolve %s: %s", t->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, error = 0;
    for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0) {
            error = errno;
            continue;
        }
        if (rcvbuf > 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            error = errno;
        } else {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            socklen_t len = sizeof error;
            if (poll(&p, 1, (int)timeout_ms) != 1)
                error = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
                error = errno;
        }
        if (error) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0)
        snprintf(why, why_size, "cannot connect to %s port %s: %s", t->host, t->port,
                 strerror(error));
    return fd;
}

/* Waits for EVENTS until deadline; false when it passed. */
static bool wait_for(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = { .fd = fd, .events = events };
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            return false;
    }
}

/* Sends DATA, then FILL bytes of filler, without reading anything. */
static void send_request(int fd, const char *data, size_t len, uint64_t fill, long long deadline,
                         struct exchange *x)
{
    static char filler[CHUNK];
    if (!filler[0])
        memset(filler, 'x', sizeof filler);
    x->to_send = len + fill;
    while (x->sent < x->to_send) {
        const char *buf;
        size_t n;
        if (x->sent < len) {
            buf = data + x->sent;
            n = len - (size_t)x->sent;
        } else {
            buf = filler;
            n = x->to_send - x->sent < CHUNK ? (size_t)(x->to_send - x->sent) : CHUNK;
        }
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w > 0) {
            x->sent += (uint64_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_for(fd, POLLOUT, deadline)) {
                x->send_stalled = true;
                return;
            }
        } else if (w < 0 && errno != EINTR) {
            x->send_errno = errno;
            return;
        }
    }
}

/* The value of the header NAME in the head that ends at END. */
static uint64_t header_value(const char *head, const char *end, const char *name, bool *found)
{
    size_t len = strlen(name);
    *found = false;
    for (const char *line = strstr(head, "\r\n"); line && line < end;
         line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, name, len) == 0 && line[2 + len] == ':') {
            *found = true;
            return strtoull(line + 3 + len, NULL, 10);
        }
    }
    return 0;
}

/* Whether the HTTP response read so far is whole by its own framing
 * (Content-Length, or the last chunk); one framed by the close is whole
 * only at a clean end of file. */
static bool http_complete(const struct exchange *x, const char *tail)
{
    const char *end = strstr(x->head, "\r\n\r\n");
    if (!end)
        return false;
    uint64_t head_bytes = (uint64_t)(end + 4 - x->head);
    bool has_length;
    uint64_t length = header_value(x->head, end, "Content-Length", &has_length);
    if (has_length)
        return length <= UINT64_MAX - head_bytes && x->received >= head_bytes + length;
    const char *coding = strcasestr(x->head, "\r\nTransfer-Encoding:");
    if (coding && coding < end) {
        const char *chunked = strcasestr(coding, "chunked");
        if (chunked && chunked < end)
            return strstr(tail, "\r\n0\r\n\r\n") || strcmp(tail, "0\r\n\r\n") == 0;
    }
    return false;
}

/* A response whose head gives neither a length nor a coding ends with
 * the connection. */
static bool framed_by_close(const struct exchange *x)
{
    const char *end = strstr(x->head, "\r\n\r\n");
    if (!end)
        return false;
    const char *length = strcasestr(x->head, "\r\nContent-Length:");
    const char *coding = strcasestr(x->head, "\r\nTransfer-Encoding:");
    return (!length || length > end) && (!coding || coding > end);
}

/* Reads until the response is whole (HTTP), the server closes, a reset, or
 * the deadline; slowly, if paced. */
static void read_response(int fd, bool http, bool paced, long long deadline, struct exchange *x)
{
    static char buf[CHUNK];
    char tail[16] = "";
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
            if (x->head_len < HEAD_KEEP) {
                size_t keep = HEAD_KEEP - x->head_len < (size_t)r ? HEAD_KEEP - x->head_len
                                                                  : (size_t)r;
                memcpy(x->head + x->head_len, buf, keep);
                x->head_len += keep;
                x->head[x->head_len] = '\0';
                /* A NUL in a text response would hide the rest of it. */
                for (size_t i = x->head_len - keep; i < x->head_len; i++)
                    if (!x->head[i])
                        x->head[i] = ' ';
            }
            x->received += (uint64_t)r;
            if (paced) {
                struct timespec pause = { 0, SLOW_READER_PAUSE_NS };
                nanosleep(&pause, NULL);
            }
            size_t t = (size_t)r < sizeof tail - 1 ? (size_t)r : sizeof tail - 1;
            size_t old = strlen(tail);
            if (old + t > sizeof tail - 1) {
                memmove(tail, tail + old + t - (sizeof tail - 1), sizeof tail - 1 - t);
                old = sizeof tail - 1 - t;
            }
            memcpy(tail + old, buf + r - (ssize_t)t, t);
            tail[old + t] = '\0';
            for (size_t i = 0; i < old + t; i++)
                if (!tail[i])
                    tail[i] = ' ';
            if (http && http_complete(x, tail)) {
                x->complete = true;
                return;
            }
            /* A server that never pauses must not hold the probe past
             * its bound either. */
            if (now_ms() >= deadline) {
                x->recv_errno = ETIMEDOUT;
                x->complete = !http && x->received > 0;
                return;
            }
        } else if (r == 0) {
            x->eof = true;
            x->complete = !http || http_complete(x, tail) || framed_by_close(x);
            return;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_for(fd, POLLIN, deadline)) {
                x->recv_errno = ETIMEDOUT;
                /* Another protocol's server may keep the connection
                 * open: what came is its answer. */
                x->complete = !http && x->received > 0;
                return;
            }
        } else if (errno != EINTR) {
            x->recv_errno = errno;
            return;
        }
    }
}

/* The status line, or the first line of another protocol's answer. */
static void first_line(const struct exchange *x, char *out, size_t size)
{
    int len = (int)strcspn(x->head, "\r\n");
    if (len > 60)
        len = 60;
    snprintf(out, size, "%.*s", len, x->head);
}

static enum verdict judge(const struct exchange *x)
{
    if (x->recv_errno == ECONNRESET || x->send_errno == ECONNRESET || x->send_errno == EPIPE ||
        (x->recv_errno && x->recv_errno != ETIMEDOUT))
        return x->complete ? WHOLE : x->received ? CUT : RESET;
    if (x->complete)
        return WHOLE;
    if (x->received)
        return x->eof ? CUT : NONE;
    return x->eof ? CLOSED : NONE;
}

/* One line: "CASE: VERDICT: what happened". Returns the verdict. */
static enum verdict report(const char *name, const struct exchange *x, bool answer_expected,
                           bool wants_large)
{
    char line[64];
    first_line(x, line, sizeof line);
    enum verdict v = judge(x);
    char sending[160] = "";
    if (x->send_errno)
        snprintf(sending, sizeof sending, "; sending stopped after %llu of %llu bytes: %s",
                 (unsigned long long)x->sent, (unsigned long long)x->to_send,
                 strerror(x->send_errno));
    else if (x->send_stalled)
        snprintf(sending, sizeof sending, "; the server stopped reading after %llu of %llu bytes",
                 (unsigned long long)x->sent, (unsigned long long)x->to_send);
    else if (x->to_send)
        snprintf(sending, sizeof sending, "; %llu bytes sent", (unsigned long long)x->sent);
    switch (v) {
    case WHOLE:
        printf("%s: whole: '%s', %llu bytes%s%s\n", name, line, (unsigned long long)x->received,
               sending,
               wants_large && x->received < LARGE_RESPONSE_MIN
                   ? "; too small to tell, name a file of several MiB with --large-path"
                   : "");
        break;
    case CUT:
        printf("%s: cut: '%s', %s after %llu bytes%s\n", name, line,
               x->eof ? "ended early" : "reset", (unsigned long long)x->received, sending);
        break;
    case RESET:
        printf("%s: reset: no response byte read%s\n", name, sending);
        /* No answer was pending: nothing was lost. */
        if (!answer_expected)
            v = CLOSED;
        break;
    case CLOSED:
        printf("%s: closed: the server closed without a response%s\n", name, sending);
        break;
    case NONE:
        if (x->received)
            printf("%s: none: '%s', %llu bytes, not whole when the timeout passed%s\n", name, line,
                   (unsigned long long)x->received, sending);
        else
            printf("%s: %s: no response when the timeout passed%s\n", name,
                   answer_expected ? "none" : "open", sending);
        if (!answer_expected)
            v = OPEN;
        break;
    case OPEN:
        break;
    }
    fflush(stdout);
    return v;
}

struct probe_case {
    const char *name;
    bool answer_expected;
    int rcvbuf;
    bool slow_reader; /* small buffer, late first read: for a large response */
};

/* Runs one case; request may be NULL (the idle client). */
static enum verdict run_case(const struct probe_case *c, const struct target *t,
                             const struct options *o, const char *request, size_t len,
                             uint64_t fill, bool *connected)
{
    static struct exchange x;
    memset(&x, 0, sizeof x);
    char why[512];
    int fd = connect_target(t, c->rcvbuf, o->timeout_ms, why, sizeof why);
    if (fd < 0) {
        printf("%s: error: %s\n", c->name, why);
        fflush(stdout);
        return NONE;
    }
    *connected = true;
    long long deadline = now_ms() + o->timeout_ms;
    if (request)
        send_request(fd, request, len, fill, deadline, &x);
    if (c->slow_reader) {
        /* The server writes what its buffers take and closes meanwhile. */
        struct timespec pause = { 0, 300 * 1000000L };
        nanosleep(&pause, NULL);
    }
    /* As most clients do: a failed send is the end of the exchange. */
    if (!x.send_errno)
        read_response(fd, o->request == NULL, c->slow_reader, deadline, &x);
    close(fd);
    return report(c->name, &x, c->answer_expected, c->slow_reader);
}

static const char probe_usage[] =
    "Usage: lingerclose probe [OPTION]... HOST:PORT\n"
    "  or:  lingerclose probe [OPTION]... http://HOST[:PORT][/PATH]\n";

static void print_probe_help(void)
{
    fputs(probe_usage, stdout);
    fputs("Act as a client that writes its whole request before it reads the response,\n"
          "in the cases where a server's close can destroy its own response, and say\n"
          "for each whether the response arrived whole, was cut by a reset, or never\n"
          "came. It sends real requests, among them an upload of --upload-bytes.\n"
          "\n"
          "  --timeout=DUR          give each case at most DUR (default: 5s)\n"
          "  --upload-bytes=SIZE    the upload's body size, K, M or G suffix\n"
          "                         (default: 8M)\n"
          "  --large-path=PATH      a path whose response is large, for the\n"
          "                         large-response case (default: the URL's path)\n"
          "  --request=FILE         send FILE's bytes as the request, in place of\n"
          "                         the HTTP ones (other protocols)\n"
          "  --help                 show this help and exit\n"
          "\n"
          "One line per case: 'CASE: VERDICT: details', VERDICT one of whole, cut,\n"
          "reset, closed, open, none or error.\n"
          "Exit status: 0 if no response was lost, 1 if one was lost (cut or reset),\n"
          "2 on misuse or if the server cannot be reached, 3 if nothing was lost but\n"
          "a response did not come within the timeout.\n",
          stdout);
}

static char *read_request_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "lingerclose probe: --request: %s: %s\n", path, strerror(errno));
        exit(PROBE_MISUSE);
    }
    char *buf = malloc(MAX_REQUEST_FILE + 1);
    if (!buf) {
        fputs("lingerclose probe: out of memory\n", stderr);
        exit(PROBE_MISUSE);
    }
    *len = fread(buf, 1, MAX_REQUEST_FILE + 1, f);
    bool failed = ferror(f);
    fclose(f);
    if (failed || *len == 0 || *len > MAX_REQUEST_FILE) {
        fprintf(stderr, "lingerclose probe: --request: %s: %s (accepted: 1 byte to 1 MiB)\n",
                path, failed ? "cannot be read" : *len ? "too large" : "empty");
        exit(PROBE_MISUSE);
    }
    return buf;
}

static void parse_probe_options(int argc, char **argv, struct options *o, const char **target)
{
    static const struct option long_options[] = {
        { "timeout", required_argument, NULL, 't' },
        { "upload-bytes", required_argument, NULL, 'u' },
        { "large-path", required_argument, NULL, 'l' },
        { "request", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    *o = (struct options){ .timeout_ms = DEFAULT_TIMEOUT_MS, .upload_bytes = DEFAULT_UPLOAD_BYTES };
    optind = 1;
    for (int opt; (opt = getopt_long(argc, argv, "", long_options, NULL)) != -1;) {
        if (opt == 't') {
            if (!lc_parse_duration_ms(optarg, 100, 600000, &o->timeout_ms))
                misuse("--timeout: '%s' is not valid (accepted: 100ms to 10m, such as 5s)",
                       optarg);
        } else if (opt == 'u') {
            if (!lc_parse_size(optarg, MAX_UPLOAD_BYTES, &o->upload_bytes) ||
                o->upload_bytes == 0)
                misuse("--upload-bytes: '%s' is not valid (accepted: 1 to 4G, with an "
                       "optional K, M or G suffix)", optarg);
        } else if (opt == 'l') {
            if (optarg[0] != '/' || strpbrk(optarg, " \r\n") || strlen(optarg) >= 1024)
                misuse("--large-path: '%s' is not valid (accepted: a path starting with '/', "
                       "without spaces)", optarg);
            o->large_path = optarg;
        } else if (opt == 'r') {
            o->request = read_request_file(optarg, &o->request_len);
        } else if (opt == 'h') {
            print_probe_help();
            exit(PROBE_ALL_ARRIVED);
        } else {
            fputs(probe_usage, stderr);
            exit(PROBE_MISUSE);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "lingerclose probe: %s\n",
                optind >= argc ? "missing HOST:PORT or URL" : "one target only");
        fputs(probe_usage, stderr);
        exit(PROBE_MISUSE);
    }
    *target = argv[optind];
}

static __attribute__((format(printf, 2, 3))) char *format_text(size_t *len, const char *fmt, ...)
{
    char *text;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (r < 0) {
        fputs("lingerclose probe: out of memory\n", stderr);
        exit(PROBE_MISUSE);
    }
    *len = (size_t)r;
    return text;
}

/* The request of the pipelined case: one that asks the server to close,
 * at once followed by more, the way a pipelining client sends them. */
static char *pipelined_requests(const struct target *t, const char *path, size_t *len)
{
    size_t first_len, next_len;
    char *first = format_text(&first_len, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                              path, t->host_header);
    char *next = format_text(&next_len, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, t->host_header);
    size_t count = PIPELINED_BYTES / next_len + 1;
    char *all = malloc(first_len + count * next_len + 1);
    if (!all) {
        fputs("lingerclose probe: out of memory\n", stderr);
        exit(PROBE_MISUSE);
    }
    memcpy(all, first, first_len);
    for (size_t i = 0; i < count; i++)
        memcpy(all + first_len + i * next_len, next, next_len);
    *len = first_len + count * next_len;
    all[*len] = '\0';
    free(first);
    free(next);
    return all;
}

int probe_main(int argc, char **argv)
{
    struct options o;
    const char *target_text;
    parse_probe_options(argc, argv, &o, &target_text);
    struct target t;
    parse_target(target_text, &t);

    static const struct probe_case upload = { "upload", true, 0, false },
                                   pipelined = { "pipelined", true, 0, false },
                                   large = { "large-response", true, SLOW_READER_RCVBUF, true },
                                   idle = { "idle", false, 0, false },
                                   request = { "request", true, 0, false };
    bool connected = false;
    enum verdict verdicts[4];
    int n = 0;
    if (o.request) {
        verdicts[n++] = run_case(&request, &t, &o, o.request, o.request_len, 0, &connected);
        verdicts[n++] =
            run_case(&upload, &t, &o, o.request, o.request_len, o.upload_bytes, &connected);
    } else {
        size_t len;
        char *head = format_text(&len,
                                 "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: "
                                 "application/octet-stream\r\nContent-Length: %llu\r\n"
                                 "Connection: close\r\n\r\n",
                                 t.path, t.host_header, (unsigned long long)o.upload_bytes);
        verdicts[n++] = run_case(&upload, &t, &o, head, len, o.upload_bytes, &connected);
        free(head);
        char *more = pipelined_requests(&t, t.path, &len);
        verdicts[n++] = run_case(&pipelined, &t, &o, more, len, 0, &connected);
        free(more);
        more = pipelined_requests(&t, o.large_path ? o.large_path : t.path, &len);
        verdicts[n++] = run_case(&large, &t, &o, more, len, 0, &connected);
        free(more);
    }
    verdicts[n++] = run_case(&idle, &t, &o, NULL, 0, 0, &connected);
    free(o.request);
    if (!connected)
        return PROBE_MISUSE;
    int status = PROBE_ALL_ARRIVED;
    for (int i = 0; i < n; i++) {
        if (verdicts[i] == CUT || verdicts[i] == RESET)
            return PROBE_LOST;
        if (verdicts[i] == NONE)
            status = PROBE_NO_ANSWER;
    }
    return status;
}
