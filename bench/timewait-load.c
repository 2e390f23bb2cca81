/* SPDX-License-Identifier: MIT */
/* The load of the TIME_WAIT report: new connections at a fixed
 * rate from one client address, each a small POST with Connection: close,
 * answered and closed. The client reads a Content-Length response to its
 * length and closes at once, as HTTP clients do; a response without a
 * length it reads to the server's close. Its threads keep to a schedule
 * (thread i of T starts exchange k at k*T/RATE + i/RATE seconds), falling
 * behind rather than bursting when an exchange is slow.
 *
 *   timewait-load -p PORT [-r RATE] [-d SECONDS] [-t THREADS] [-u PATH]
 *                 [-s BODY_BYTES] [-w TIMEOUT_S]
 *
 * Defaults: 700 connections a second, 10 s, 8 threads, /post, 256-byte
 * bodies, 10 s socket timeouts. Prints one line on stdout:
 *
 *   TIMEWAIT ok attempts connect_failed lost p50_ms p99_ms max_ms
 *
 * (ok: a 2xx response read whole; connect_failed: connect() refused, such
 * as EADDRNOTAVAIL when no local port is free; lost: anything else, a
 * reset, a timeout, a cut or wrong response; the times are from connect()
 * to the last byte of the response, for the ok ones, in milliseconds with
 * a tenth), and a readable summary on stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs/progs.h"

static int port, threads = 8, timeout_s = 10;
static double rate = 700, duration_s = 10;
static const char *path = "/post";
static char request[4096];
static size_t request_len;

struct worker {
    pthread_t thread;
    int index;
    double *latency_ms;
    size_t count, capacity;
    unsigned long attempts, connect_failed, lost;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double when)
{
    double left = when - now_s();
    if (left <= 0)
        return;
    struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Reads the response: true if it is a 2xx read whole (to its
 * Content-Length, or to the end if it has none). */
static bool read_response(int fd)
{
    char buf[16384];
    size_t have = 0;
    char *body = NULL;
    while (!body) {
        if (have == sizeof buf - 1)
            return false;
        ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        have += (size_t)n;
        buf[have] = '\0';
        body = strstr(buf, "\r\n\r\n");
    }
    body += 4;
    if (strncmp(buf, "HTTP/1.", 7) != 0 || buf[9] != '2')
        return false;
    size_t got = have - (size_t)(body - buf);
    const char *length = strcasestr(buf, "\r\nContent-Length:");
    bool delimited = length && length < body;
    size_t want = delimited ? strtoul(length + 17, NULL, 10) : SIZE_MAX;
    while (got < want) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            return !delimited;
        got += (size_t)n;
    }
    return got == want;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    double start = now_s(), period = threads / rate;
    for (unsigned long k = 0;; k++) {
        double when = start + k * period + w->index / rate;
        if (when - start >= duration_s)
            break;
        sleep_until(when);
        w->attempts++;
        double t0 = now_s();
        int fd = connect_loopback(AF_INET, port, timeout_s);
        if (fd < 0) {
            w->connect_failed++;
            continue;
        }
        bool ok = send_all(fd, request, request_len) == 0 && read_response(fd);
        double took_ms = (now_s() - t0) * 1e3;
        close(fd);
        if (!ok) {
            w->lost++;
            continue;
        }
        if (w->count == w->capacity) {
            w->capacity = w->capacity ? 2 * w->capacity : 4096;
            w->latency_ms = realloc(w->latency_ms, w->capacity * sizeof *w->latency_ms);
            if (!w->latency_ms)
                die_errno("realloc");
        }
        w->latency_ms[w->count++] = took_ms;
    }
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t body_bytes = 256;
    for (int opt; (opt = getopt(argc, argv, "p:r:d:t:u:s:w:")) != -1;) {
        switch (opt) {
        case 'p': port = (int)parse_number("-p", optarg, 1, 65535); break;
        case 'r': rate = (double)parse_number("-r", optarg, 1, 1000000); break;
        case 'd': duration_s = (double)parse_number("-d", optarg, 1, 86400); break;
        case 't': threads = (int)parse_number("-t", optarg, 1, 1024); break;
        case 'u': path = optarg; break;
        case 's': body_bytes = (size_t)parse_number("-s", optarg, 0, 2048); break;
        case 'w': timeout_s = (int)parse_number("-w", optarg, 1, 3600); break;
        default:
            fprintf(stderr, "usage: %s -p PORT [-r RATE] [-d SECONDS] [-t THREADS] [-u PATH] "
                            "[-s BODY_BYTES] [-w TIMEOUT_S]\n", argv[0]);
            return 2;
        }
    }
    if (!port) {
        fprintf(stderr, "%s: -p PORT is required\n", argv[0]);
        return 2;
    }
    int n = snprintf(request, sizeof request,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     path, body_bytes);
    if (n < 0 || (size_t)n + body_bytes >= sizeof request) {
        fprintf(stderr, "%s: the path is too long\n", argv[0]);
        return 2;
    }
    memset(request + n, 'x', body_bytes);
    request_len = (size_t)n + body_bytes;

    struct worker *workers = calloc((size_t)threads, sizeof *workers);
    if (!workers)
        die_errno("calloc");
    for (int i = 0; i < threads; i++) {
        workers[i].index = i;
        if (pthread_create(&workers[i].thread, NULL, run, &workers[i]) != 0)
            die_errno("pthread_create");
    }
    unsigned long ok = 0, attempts = 0, connect_failed = 0, lost = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(workers[i].thread, NULL);
        ok += workers[i].count;
        attempts += workers[i].attempts;
        connect_failed += workers[i].connect_failed;
        lost += workers[i].lost;
    }
    double *all = malloc((ok ? ok : 1) * sizeof *all);
    if (!all)
        die_errno("malloc");
    size_t at = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(all + at, workers[i].latency_ms, workers[i].count * sizeof *all);
        at += workers[i].count;
    }
    qsort(all, ok, sizeof *all, by_value);
    double p50 = ok ? all[ok / 2] : 0, p99 = ok ? all[(size_t)(ok * 0.99)] : 0;
    double max = ok ? all[ok - 1] : 0;
    printf("TIMEWAIT %lu %lu %lu %lu %.1f %.1f %.1f\n", ok, attempts, connect_failed, lost, p50, p99,
           max);
    fprintf(stderr,
            "timewait-load: %lu of %lu responses (%.0f/s), %lu connects failed, %lu lost; "
            "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
            ok, attempts, ok / duration_s, connect_failed, lost, p50, p99, max);
    return lost || connect_failed ? 1 : 0;
}
