/* SPDX-License-Identifier: MIT */
/* The load lingering exists for: C clients, each in a loop
 * for a fixed time, open a connection and upload a request with a body the
 * server will refuse (headers, then the body in chunks paced like a client
 * streaming it), and only then read the answer: write-then-read, like most
 * client libraries and like examples/upload-client.c. A response counts as
 * correctly received when its status line says 413 and all of it (headers
 * and Content-Length bytes of body, or up to the end if it has no length)
 * was read. A send that fails (the server's kernel reset the connection) or
 * a read that fails loses the response, as it would for a real client.
 *
 *   early-error-load -p PORT [-c CLIENTS] [-d SECONDS] [-s BODY_BYTES]
 *                    [-k CHUNK_BYTES] [-i CHUNK_INTERVAL_US] [-t TIMEOUT_S]
 *
 * Defaults: 32 clients, 3 s, a 256 KiB body in 16 KiB chunks one every
 * 1000 us (16 MB/s per client), 10 s socket timeouts. Only exchanges that
 * end before the deadline count; at the deadline the exchanges in progress
 * are cut (shutdown) and the threads joined. Prints one line on stdout:
 *
 *   EARLY correct attempts seconds rate reset pipe timeout other wrong p50_ms p99_ms
 *
 * (rate: correct responses per second; reset/pipe/timeout/other: exchanges
 * lost to ECONNRESET, EPIPE, a timeout, anything else; wrong: a complete
 * response that was not a 413; p50/p99: time from connect to the complete
 * response, for the correct ones), and a readable summary on stderr. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs/progs.h"

enum outcome { CORRECT, WRONG, RESET, PIPE, TIMEOUT, OTHER, CUT, OUTCOMES };

struct client {
    pthread_t thread;
    pthread_mutex_t lock; /* guards fd against the deadline's shutdown */
    int fd;
    uint64_t count[OUTCOMES];
    double *latency_ms;
    size_t latencies, latency_cap;
};

static int port;
static int clients = 32;
static double seconds = 3;
static size_t body_bytes = 256 * 1024;
static size_t chunk_bytes = 16 * 1024;
static long interval_us = 1000;
static int timeout_s = 10;
static int sndbuf = 32 * 1024;

static _Atomic bool stop;
static double deadline;
static char *chunk;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum outcome from_errno(int e)
{
    if (atomic_load(&stop))
        return CUT;
    switch (e) {
    case ECONNRESET:
        return RESET;
    case EPIPE:
        return PIPE;
    case EAGAIN:
    case ETIMEDOUT:
        return TIMEOUT;
    default:
        return OTHER;
    }
}

/* The status code and the total length (headers + body) once the headers
 * are in; total 0 if the response has no Content-Length. */
static bool parse_head(const char *buf, size_t got, int *status, size_t *total)
{
    const char *end = memmem(buf, got, "\r\n\r\n", 4);
    if (!end)
        return false;
    size_t head = (size_t)(end - buf) + 4;
    *status = 0;
    if (got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        *status = atoi(buf + 9);
    *total = 0;
    for (const char *p = buf; p && p < end; p = memmem(p, (size_t)(end - p), "\r\n", 2)) {
        p += 2;
        if (strncasecmp(p, "Content-Length:", 15) == 0) {
            *total = head + strtoul(p + 15, NULL, 10);
            break;
        }
    }
    return true;
}

static enum outcome exchange(int fd)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        return from_errno(errno);

    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                     "application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
                     body_bytes);
    int error = send_all(fd, head, (size_t)n);
    for (size_t sent = 0; sent < body_bytes && !error; sent += chunk_bytes) {
        if (interval_us > 0) /* the next chunk is ready */
            nanosleep(&(struct timespec){ interval_us / 1000000, (interval_us % 1000000) * 1000 },
                      NULL);
        size_t len = body_bytes - sent < chunk_bytes ? body_bytes - sent : chunk_bytes;
        error = send_all(fd, chunk, len);
    }
    if (error)
        return from_errno(error);

    char reply[16384];
    size_t got = 0, seen = 0, total = 0; /* in reply; in all; expected */
    int status = 0;
    bool have_head = false;
    for (;;) {
        if (got == sizeof reply) { /* more than any error page: keep counting */
            if (!have_head)
                return OTHER;
            got = 0;
        }
        ssize_t r = recv(fd, reply + got, sizeof reply - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return from_errno(errno);
        if (r == 0)
            break;
        got += (size_t)r;
        seen += (size_t)r;
        if (!have_head)
            have_head = parse_head(reply, got, &status, &total);
        if (have_head && total && seen >= total)
            break;
    }
    if (!have_head || (total && seen < total))
        return atomic_load(&stop) ? CUT : OTHER; /* cut short */
    return status == 413 ? CORRECT : WRONG;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct timeval tv = { .tv_sec = timeout_s };
    while (!atomic_load(&stop)) {
        double t0 = now_s();
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            c->count[OTHER]++;
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (sndbuf > 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        pthread_mutex_lock(&c->lock);
        c->fd = fd;
        pthread_mutex_unlock(&c->lock);
        if (atomic_load(&stop)) /* the deadline passed before c->fd was set */
            shutdown(fd, SHUT_RDWR);

        enum outcome o = exchange(fd);

        pthread_mutex_lock(&c->lock);
        c->fd = -1;
        close(fd);
        pthread_mutex_unlock(&c->lock);
        double t1 = now_s();
        if (t1 > deadline)
            o = CUT;
        c->count[o]++;
        if (o == CORRECT) {
            if (c->latencies == c->latency_cap) {
                c->latency_cap = c->latency_cap ? 2 * c->latency_cap : 1024;
                c->latency_ms = realloc(c->latency_ms, c->latency_cap * sizeof *c->latency_ms);
                if (!c->latency_ms) {
                    perror("early-error-load: realloc");
                    exit(1);
                }
            }
            c->latency_ms[c->latencies++] = (t1 - t0) * 1000;
        } else if (o != CUT && o != WRONG) {
            /* A lost exchange fails fast; a short pause keeps a failing
             * server from turning the load into a connect storm. */
            nanosleep(&(struct timespec){ 0, 200000 }, NULL);
        }
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s -p PORT [-c CLIENTS] [-d SECONDS] [-s BODY_BYTES] [-k CHUNK_BYTES] "
            "[-i CHUNK_INTERVAL_US] [-t TIMEOUT_S] [-b SNDBUF]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    for (int opt; (opt = getopt(argc, argv, "p:c:d:s:k:i:t:b:")) != -1;) {
        switch (opt) {
        case 'p': port = (int)parse_number("-p", optarg, 1, 65535); break;
        case 'c': clients = (int)parse_number("-c", optarg, 1, 1000000); break;
        case 'd': seconds = atof(optarg); break;
        case 's': body_bytes = (size_t)parse_number("-s", optarg, 0, LLONG_MAX); break;
        case 'k': chunk_bytes = (size_t)parse_number("-k", optarg, 1, INT_MAX); break;
        case 'i': interval_us = (long)parse_number("-i", optarg, 0, LONG_MAX); break;
        case 't': timeout_s = (int)parse_number("-t", optarg, 1, INT_MAX); break;
        case 'b': sndbuf = (int)parse_number("-b", optarg, 0, INT_MAX); break;
        default: usage(argv[0]);
        }
    }
    if (port <= 0 || port > 65535 || clients <= 0 || seconds <= 0 || chunk_bytes == 0 ||
        interval_us < 0 || timeout_s <= 0 || sndbuf < 0)
        usage(argv[0]);

    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    signal(SIGPIPE, SIG_IGN);
    chunk = malloc(chunk_bytes);
    struct client *all = calloc((size_t)clients, sizeof *all);
    if (!chunk || !all) {
        perror("early-error-load");
        return 1;
    }
    memset(chunk, 'x', chunk_bytes);

    double start = now_s();
    deadline = start + seconds;
    for (int i = 0; i < clients; i++) {
        pthread_mutex_init(&all[i].lock, NULL);
        all[i].fd = -1;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 128 * 1024);
        if (pthread_create(&all[i].thread, &attr, client_main, &all[i]) != 0) {
            perror("early-error-load: pthread_create");
            return 1;
        }
        pthread_attr_destroy(&attr);
    }
    for (double left; (left = deadline - now_s()) > 0;)
        nanosleep(&(struct timespec){ (time_t)left, (long)((left - (double)(time_t)left) * 1e9) },
                  NULL);
    atomic_store(&stop, true);
    for (int i = 0; i < clients; i++) {
        pthread_mutex_lock(&all[i].lock);
        if (all[i].fd >= 0)
            shutdown(all[i].fd, SHUT_RDWR);
        pthread_mutex_unlock(&all[i].lock);
    }

    uint64_t total[OUTCOMES] = { 0 };
    size_t latencies = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(all[i].thread, NULL);
        for (int o = 0; o < OUTCOMES; o++)
            total[o] += all[i].count[o];
        latencies += all[i].latencies;
    }
    double *lat = malloc((latencies ? latencies : 1) * sizeof *lat);
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        if (all[i].latencies)
            memcpy(lat + k, all[i].latency_ms, all[i].latencies * sizeof *lat);
        k += all[i].latencies;
    }
    qsort(lat, latencies, sizeof *lat, cmp_double);
    double p50 = latencies ? lat[(latencies - 1) / 2] : 0;
    double p99 = latencies ? lat[(size_t)((double)(latencies - 1) * 0.99)] : 0;

    uint64_t attempts = 0;
    for (int o = 0; o < OUTCOMES; o++)
        if (o != CUT)
            attempts += total[o];
    double rate = (double)total[CORRECT] / seconds;
    printf("EARLY %llu %llu %.3f %.1f %llu %llu %llu %llu %llu %.2f %.2f\n",
           (unsigned long long)total[CORRECT], (unsigned long long)attempts, seconds, rate,
           (unsigned long long)total[RESET], (unsigned long long)total[PIPE],
           (unsigned long long)total[TIMEOUT], (unsigned long long)total[OTHER],
           (unsigned long long)total[WRONG], p50, p99);
    fprintf(stderr,
            "early-error-load: %d clients, %.1f s, %zu-byte bodies: %llu of %llu responses "
            "received (%.1f/s); lost: reset %llu, broken pipe %llu, timeout %llu, other %llu; "
            "not 413: %llu; cut at the deadline: %llu; p50 %.2f ms, p99 %.2f ms\n",
            clients, seconds, body_bytes, (unsigned long long)total[CORRECT],
            (unsigned long long)attempts, rate, (unsigned long long)total[RESET],
            (unsigned long long)total[PIPE], (unsigned long long)total[TIMEOUT],
            (unsigned long long)total[OTHER], (unsigned long long)total[WRONG],
            (unsigned long long)total[CUT], p50, p99);
    return 0;
}
