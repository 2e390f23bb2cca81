/* SPDX-License-Identifier: MIT */
/* Drives many TCP clients at once against an early-error server (see
 * hostile-server.c) from one epoll loop: well-behaved ones and the kinds of
 * peer a lingering close must survive. Loopback only; every client and the
 * whole run are bounded in time.
 *
 *   hostile-clients -p PORT -m MIX -n CONNECTIONS [-c CONCURRENCY]
 *                   [-b BODY] [-H HOLD_MS] [-d DRIP_MS] [-r RST_MS]
 *                   [-L CLIENT_LIMIT_MS] [-T RUN_LIMIT_S] [-s SOURCES] [-P PROGRESS_S]
 *
 * MIX is KIND=WEIGHT,... over the kinds below; connections are given kinds
 * in proportion to the weights, interleaved. Kinds:
 *   normal     sends a small request, reads the 200 to EOF, closes
 *   early      uploads BODY bytes, then reads the 413 to EOF, closes
 *              (write-then-read: a reset while it writes loses the answer)
 *   silent     sends a head and part of a body, then holds the socket
 *              open, idle, for HOLD_MS without its FIN
 *   flood      sends a body forever, never reads, until the server's side
 *              is gone
 *   drip       sends one byte every DRIP_MS forever, until the server's
 *              side is gone
 *   rst        sends a body for RST_MS, then resets (SO_LINGER {1,0})
 *   halfclose  sends a head and part of a body, shutdown(SHUT_WR), reads
 *              the 413 to EOF
 * A client still running after CLIENT_LIMIT_MS is stopped and counted as
 * "outlived" (the server never let it go). SOURCES > 1 spreads clients over
 * 127.0.0.1..127.0.0.SOURCES so that a long run does not run out of
 * 4-tuples while the server's side sits in TIME_WAIT.
 *
 * Prints one line per kind used:
 *   "KIND started N delivered N lost N server-ended N outlived N connect-errors N"
 * where "delivered" counts complete expected responses (normal, early,
 * halfclose) and "lost" those that never came; then "total ...". Exit 0
 * once every connection has run, 3 if RUN_LIMIT_S cut the run short. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs/progs.h"

enum kind { NORMAL, EARLY, SILENT, FLOOD, DRIP, RST, HALFCLOSE, KINDS };

static const char *const kind_names[KINDS] = {
    "normal", "early", "silent", "flood", "drip", "rst", "halfclose",
};

#define PARTIAL_BODY 8192
#define HOSTILE_DECLARED_BODY (1 << 20)
#define RESPONSE_KEEP 256
#define TICK_MS 10

enum phase { CONNECTING, SENDING, HOLDING, READING };

struct conn {
    int fd; /* -1: slot free */
    enum kind kind;
    enum phase phase;
    char head[160];
    size_t head_len, head_sent;
    uint64_t body_left; /* UINT64_MAX: forever */
    int64_t start_ms, timer_ms;
    char response[RESPONSE_KEEP];
    size_t response_len;
    bool response_overflow;
};

static struct {
    unsigned long long started, delivered, lost, server_ended, outlived, connect_errors;
} stats[KINDS];

static struct {
    int port, connections, concurrency, sources;
    uint64_t body;
    int64_t hold_ms, drip_ms, rst_ms, client_limit_ms, run_limit_ms, progress_ms;
    unsigned weights[KINDS];
} opt = {
    .concurrency = 100,
    .sources = 1,
    .body = 16384,
    .hold_ms = 2500,
    .drip_ms = 800,
    .rst_ms = 200,
    .client_limit_ms = 10000,
    .run_limit_ms = 120000,
};

static struct conn *conns;
static int ep;
static int active;
static char filler[65536];

static void usage(void)
{
    fprintf(stderr, "usage: hostile-clients -p PORT -m KIND=WEIGHT,... -n CONNECTIONS [-c CONCURRENCY]\n"
                    "       [-b BODY] [-H HOLD_MS] [-d DRIP_MS] [-r RST_MS] [-L CLIENT_LIMIT_MS]\n"
                    "       [-T RUN_LIMIT_S] [-s SOURCES] [-P PROGRESS_S]\n");
    exit(2);
}

static void parse_mix(char *text)
{
    for (char *item = strtok(text, ","); item; item = strtok(NULL, ",")) {
        char *eq = strchr(item, '=');
        if (!eq)
            usage();
        *eq = '\0';
        int k = 0;
        while (k < KINDS && strcmp(kind_names[k], item) != 0)
            k++;
        if (k == KINDS) {
            fprintf(stderr, "hostile-clients: unknown kind '%s'\n", item);
            exit(2);
        }
        opt.weights[k] = (unsigned)parse_number(item, eq + 1, 0, 1000000);
    }
}

/* Smooth weighted round robin: kinds interleave in proportion to their
 * weights, the same sequence on every run. */
static enum kind next_kind(void)
{
    static long current[KINDS];
    long total = 0;
    int best = -1;
    for (int k = 0; k < KINDS; k++) {
        if (!opt.weights[k])
            continue;
        current[k] += opt.weights[k];
        total += opt.weights[k];
        if (best < 0 || current[k] > current[best])
            best = k;
    }
    current[best] -= total;
    return (enum kind)best;
}

static void watch(struct conn *c, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)(c - conns) };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void end(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
    active--;
}

static void reset(struct conn *c)
{
    struct linger abortive = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    end(c);
}

static bool expects_response(enum kind k)
{
    return k == NORMAL || k == EARLY || k == HALFCLOSE;
}

static bool response_complete(const struct conn *c)
{
    const char *expected = c->kind == NORMAL ? ACCEPTED_RESPONSE : EARLY_ERROR_RESPONSE;
    return !c->response_overflow && c->response_len == strlen(expected) &&
           memcmp(c->response, expected, c->response_len) == 0;
}

/* The connection is over from the client's side: count what it got. */
static void conclude(struct conn *c)
{
    if (expects_response(c->kind)) {
        if (response_complete(c))
            stats[c->kind].delivered++;
        else
            stats[c->kind].lost++;
    }
    end(c);
}

static void start(enum kind k, int64_t now)
{
    struct conn *c = NULL;
    for (int i = 0; i < opt.concurrency && !c; i++)
        if (conns[i].fd < 0)
            c = &conns[i];
    stats[k].started++;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        stats[k].connect_errors++;
        return;
    }
    static unsigned next_source;
    if (opt.sources > 1) {
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in from = { .sin_family = AF_INET };
        from.sin_addr.s_addr = htonl(INADDR_LOOPBACK + next_source++ % (unsigned)opt.sources);
        if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0) {
            stats[k].connect_errors++;
            close(fd);
            return;
        }
    }
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS) {
        stats[k].connect_errors++;
        close(fd);
        return;
    }
    *c = (struct conn){ .fd = fd, .kind = k, .phase = CONNECTING, .start_ms = now };
    uint64_t declared = k == EARLY ? opt.body : HOSTILE_DECLARED_BODY;
    if (k == NORMAL)
        c->head_len = (size_t)snprintf(c->head, sizeof c->head, "GET / HTTP/1.0\r\n\r\n");
    else
        c->head_len = (size_t)snprintf(c->head, sizeof c->head,
                                       "POST /upload HTTP/1.0\r\nContent-Length: %llu\r\n\r\n",
                                       (unsigned long long)declared);
    switch (k) {
    case NORMAL:
        c->body_left = 0;
        break;
    case EARLY:
        c->body_left = opt.body;
        break;
    case SILENT:
    case HALFCLOSE:
        c->body_left = PARTIAL_BODY;
        break;
    case DRIP:
        c->body_left = 100;
        break;
    case FLOOD:
    case RST:
        c->body_left = UINT64_MAX;
        break;
    default:
        break;
    }
    struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t)(c - conns) };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    active++;
}

/* Sending is done: what each kind does next. */
static void after_sending(struct conn *c, int64_t now)
{
    switch (c->kind) {
    case SILENT:
        c->phase = HOLDING;
        c->timer_ms = now + opt.hold_ms;
        watch(c, 0);
        break;
    case DRIP:
        c->phase = HOLDING;
        c->timer_ms = now + opt.drip_ms;
        watch(c, EPOLLIN);
        break;
    case HALFCLOSE:
        shutdown(c->fd, SHUT_WR);
        /* fall through */
    default:
        c->phase = READING;
        watch(c, EPOLLIN);
        break;
    }
}

/* Writes what is due; false once the connection is over. */
static bool send_some(struct conn *c, int64_t now)
{
    for (int round = 0; round < 16; round++) {
        const void *buf;
        size_t len;
        if (c->head_sent < c->head_len) {
            buf = c->head + c->head_sent;
            len = c->head_len - c->head_sent;
        } else if (c->body_left) {
            buf = filler;
            len = c->body_left < sizeof filler ? (size_t)c->body_left : sizeof filler;
        } else {
            after_sending(c, now);
            return true;
        }
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        if (n < 0) {
            /* The server's side is gone (a reset). */
            if (!expects_response(c->kind))
                stats[c->kind].server_ended++;
            conclude(c);
            return false;
        }
        if (c->head_sent < c->head_len)
            c->head_sent += (size_t)n;
        else if (c->body_left != UINT64_MAX)
            c->body_left -= (uint64_t)n;
    }
    return true;
}

static void receive(struct conn *c)
{
    char buf[4096];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0) {
        if (c->response_len + (size_t)n <= sizeof c->response) {
            memcpy(c->response + c->response_len, buf, (size_t)n);
            c->response_len += (size_t)n;
        } else {
            c->response_overflow = true;
        }
        return;
    }
    if (c->phase == READING) {
        conclude(c); /* EOF or reset: the answer is in or it is lost */
        return;
    }
    if (n == 0) {
        /* A drip's peer sent its FIN (a lingering close began); the error
         * or hang-up that ends the drain still wakes us. */
        watch(c, 0);
        return;
    }
    stats[c->kind].server_ended++;
    conclude(c);
}

static void on_event(struct conn *c, uint32_t events, int64_t now)
{
    if (c->phase == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            stats[c->kind].connect_errors++;
            end(c);
            return;
        }
        c->phase = SENDING;
    }
    if (c->phase == SENDING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            send_some(c, now);
        return;
    }
    if (events & EPOLLIN) {
        receive(c);
        return;
    }
    if (events & (EPOLLERR | EPOLLHUP)) {
        if (!expects_response(c->kind))
            stats[c->kind].server_ended++;
        conclude(c);
    }
}

static void on_timers(int64_t now)
{
    for (int i = 0; i < opt.concurrency; i++) {
        struct conn *c = &conns[i];
        if (c->fd < 0)
            continue;
        if (now - c->start_ms >= opt.client_limit_ms) {
            stats[c->kind].outlived++;
            conclude(c);
            continue;
        }
        if (c->kind == RST && c->phase == SENDING && now - c->start_ms >= opt.rst_ms) {
            reset(c);
            continue;
        }
        if (c->phase != HOLDING || now < c->timer_ms)
            continue;
        if (c->kind == SILENT) {
            end(c);
        } else if (c->kind == DRIP) {
            if (send(c->fd, "x", 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
                stats[c->kind].server_ended++;
                conclude(c);
            } else {
                c->timer_ms = now + opt.drip_ms;
            }
        }
    }
}

static void report(FILE *to)
{
    unsigned long long t[6] = { 0 };
    for (int k = 0; k < KINDS; k++) {
        if (!opt.weights[k])
            continue;
        fprintf(to, "%s started %llu delivered %llu lost %llu server-ended %llu outlived %llu "
                    "connect-errors %llu\n",
                kind_names[k], stats[k].started, stats[k].delivered, stats[k].lost,
                stats[k].server_ended, stats[k].outlived, stats[k].connect_errors);
        t[0] += stats[k].started;
        t[1] += stats[k].delivered;
        t[2] += stats[k].lost;
        t[3] += stats[k].server_ended;
        t[4] += stats[k].outlived;
        t[5] += stats[k].connect_errors;
    }
    fprintf(to, "total started %llu delivered %llu lost %llu server-ended %llu outlived %llu "
                "connect-errors %llu\n",
            t[0], t[1], t[2], t[3], t[4], t[5]);
    fflush(to);
}

int main(int argc, char **argv)
{
    for (int o; (o = getopt(argc, argv, "p:m:n:c:b:H:d:r:L:T:s:P:")) != -1;) {
        switch (o) {
        case 'p': opt.port = (int)parse_number("-p", optarg, 1, 65535); break;
        case 'm': parse_mix(optarg); break;
        case 'n': opt.connections = (int)parse_number("-n", optarg, 1, INT_MAX); break;
        case 'c': opt.concurrency = (int)parse_number("-c", optarg, 1, 1000000); break;
        case 'b': opt.body = (uint64_t)parse_number("-b", optarg, 0, LLONG_MAX); break;
        case 'H': opt.hold_ms = parse_number("-H", optarg, 0, INT_MAX); break;
        case 'd': opt.drip_ms = parse_number("-d", optarg, 1, INT_MAX); break;
        case 'r': opt.rst_ms = parse_number("-r", optarg, 0, INT_MAX); break;
        case 'L': opt.client_limit_ms = parse_number("-L", optarg, 1, INT_MAX); break;
        case 'T': opt.run_limit_ms = parse_number("-T", optarg, 1, INT_MAX / 1000) * 1000; break;
        case 's': opt.sources = (int)parse_number("-s", optarg, 1, 254); break;
        case 'P': opt.progress_ms = parse_number("-P", optarg, 0, INT_MAX / 1000) * 1000; break;
        default: usage();
        }
    }
    unsigned weight_sum = 0;
    for (int k = 0; k < KINDS; k++)
        weight_sum += opt.weights[k];
    if (opt.port <= 0 || opt.connections <= 0 || opt.concurrency <= 0 || !weight_sum ||
        opt.sources < 1 || opt.sources > 254)
        usage();

    /* Thousands at once need as many descriptors. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
        if (nofile.rlim_cur < (rlim_t)opt.concurrency + 16) {
            fprintf(stderr, "hostile-clients: RLIMIT_NOFILE %llu is below the concurrency %d\n",
                    (unsigned long long)nofile.rlim_cur, opt.concurrency);
            return 2;
        }
    }
    memset(filler, 'x', sizeof filler);
    conns = calloc((size_t)opt.concurrency, sizeof *conns);
    for (int i = 0; i < opt.concurrency; i++)
        conns[i].fd = -1;
    ep = epoll_create1(EPOLL_CLOEXEC);

    int64_t begin = now_ms(), last_tick = begin, last_progress = begin;
    int launched = 0;
    bool cut_short = false;
    while (launched < opt.connections || active > 0) {
        int64_t now = now_ms();
        if (now - begin >= opt.run_limit_ms) {
            cut_short = true;
            break;
        }
        while (launched < opt.connections && active < opt.concurrency) {
            start(next_kind(), now);
            launched++;
        }
        struct epoll_event events[256];
        int n = epoll_wait(ep, events, 256, TICK_MS);
        now = now_ms();
        for (int i = 0; i < n; i++) {
            struct conn *c = &conns[events[i].data.u32];
            if (c->fd >= 0)
                on_event(c, events[i].events, now);
        }
        if (now - last_tick >= TICK_MS) {
            on_timers(now);
            last_tick = now;
        }
        if (opt.progress_ms && now - last_progress >= opt.progress_ms) {
            fprintf(stderr, "hostile-clients: %d of %d started after %lld s, %d open\n", launched,
                    opt.connections, (long long)(now - begin) / 1000, active);
            last_progress = now;
        }
    }
    if (cut_short) {
        fprintf(stderr, "hostile-clients: run limit reached with %d connection(s) open\n", active);
        for (int i = 0; i < opt.concurrency; i++)
            if (conns[i].fd >= 0)
                conclude(&conns[i]);
    }
    printf("elapsed-ms %lld\n", (long long)(now_ms() - begin));
    report(stdout);
    return cut_short ? 3 : 0;
}
