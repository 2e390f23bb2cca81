/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

int die_status = 2;

void die(const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", program_invocation_short_name, message);
    exit(die_status);
}

void die_errno(const char *what)
{
    die("%s: %s", what, strerror(errno));
}

long long parse_number(const char *option, const char *text, long long min, long long max)
{
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno || end == text || *end || value < min || value > max)
        die("%s takes a whole number from %lld to %lld, not '%s'", option, min, max, text);
    return value;
}

char *unescape(const char *text)
{
    char *out = malloc(strlen(text) + 1), *o = out;
    if (!out)
        die_errno("malloc");
    for (const char *p = text; *p; p++) {
        if (*p != '\\' || !p[1]) {
            *o++ = *p;
            continue;
        }
        p++;
        *o++ = *p == 'r' ? '\r' : *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
    }
    *o = '\0';
    return out;
}

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void spread(double *values, int n, double *median, double *min, double *max)
{
    qsort(values, (size_t)n, sizeof *values, compare_doubles);
    *median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    *min = values[0];
    *max = values[n - 1];
}

void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

long count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    long count = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            count++;
    closedir(d);
    return count;
}

long drain_thread_fds(pid_t pid)
{
    char proc[32], path[300], comm[32];
    if (pid)
        snprintf(proc, sizeof proc, "/proc/%d", (int)pid);
    else
        snprintf(proc, sizeof proc, "/proc/self");
    snprintf(path, sizeof path, "%s/task", proc);
    DIR *tasks = opendir(path);
    if (!tasks)
        return -1;
    long fds = -1;
    for (struct dirent *e; fds < 0 && (e = readdir(tasks));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/task/%s/comm", proc, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        bool is_drain = fgets(comm, sizeof comm, f) && strcmp(comm, "lingerclose\n") == 0;
        fclose(f);
        if (is_drain) {
            snprintf(path, sizeof path, "%s/task/%s/fd", proc, e->d_name);
            fds = count_entries(path);
        }
    }
    closedir(tasks);
    return fds;
}

/* The loopback address of FAMILY, port PORT; returns its length. */
static socklen_t loopback(int family, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons((uint16_t)port);
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((uint16_t)port);
    return sizeof *a;
}

int listen_loopback(int family, int port, int backlog, int sock_flags)
{
    int fd = socket(family, SOCK_STREAM | sock_flags, 0);
    if (fd < 0)
        die_errno("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t len = loopback(family, port, &ss);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0)
        die_errno("bind");
    if (listen(fd, backlog) != 0)
        die_errno("listen");
    return fd;
}

int local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

#define LISTENING "listening on "

static void announce(const char *host, int port)
{
    printf(LISTENING "%s:%d\n", host, port);
    fflush(stdout);
}

void announce_listening(int listener)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(listener, (struct sockaddr *)&ss, &len) != 0)
        die_errno("getsockname");
    announce(ss.ss_family == AF_INET6 ? "[::1]" : "127.0.0.1", local_port(listener));
}

void announce_no_port(void)
{
    announce("127.0.0.1", 0);
}

int parse_listening(const char *line)
{
    const char *colon = strrchr(line, ':');
    int port, end = 0;
    if (strncmp(line, LISTENING, strlen(LISTENING)) != 0 || !colon ||
        sscanf(colon + 1, "%d%n", &port, &end) != 1 || (colon[1 + end] && colon[1 + end] != '\n'))
        return -1;
    return port;
}

int accept_or_die(int listener)
{
    int fd;
    do
        fd = accept(listener, NULL, NULL);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        die_errno("accept");
    return fd;
}

ssize_t read_some(int fd, void *buf, size_t size)
{
    ssize_t n;
    do
        n = read(fd, buf, size);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t read_and_drop(int fd, size_t max)
{
    char buf[65536];
    return read_some(fd, buf, max < sizeof buf ? max : sizeof buf);
}

const char *early_answer(const char *head)
{
    const char *length = strcasestr(head, "\r\nContent-Length:");
    long declared = length ? strtol(length + 17, NULL, 10) : 0;
    return declared > MAX_BODY ? EARLY_ERROR_RESPONSE : ACCEPTED_RESPONSE;
}

bool answer_upload(int fd)
{
    char request[1024 + 1];
    ssize_t n = read_some(fd, request, sizeof request - 1);
    if (n <= 0)
        return false;
    request[n] = '\0';
    const char *answer = early_answer(request);
    return write_all(fd, answer, strlen(answer)) == 0;
}

int connect_loopback(int family, int port, int timeout_s)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { .tv_sec = timeout_s };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_storage ss;
    socklen_t len = loopback(family, port, &ss);
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        int error = errno;
        close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

static int put_all(int fd, const void *buf, size_t len, bool socket)
{
    const char *p = buf;
    while (len) {
        ssize_t n = socket ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int send_all(int fd, const void *buf, size_t len)
{
    return put_all(fd, buf, len, true);
}

int write_all(int fd, const void *buf, size_t len)
{
    return put_all(fd, buf, len, false);
}

void write_or_die(int fd, const void *buf, size_t len)
{
    int error = write_all(fd, buf, len);
    if (error) {
        errno = error;
        die_errno("write");
    }
}

void read_reply(int fd, size_t keep, struct reply *r)
{
    size_t size = keep < 65536 ? keep + 1 : 65536;
    r->data = malloc(size);
    if (!r->data)
        die_errno("malloc");
    r->len = 0;
    r->read_errno = 0;
    static char dropped[65536];
    for (;;) {
        if (r->len + 1 == size && size < keep + 1) {
            size = size * 2 < keep + 1 ? size * 2 : keep + 1;
            if (!(r->data = realloc(r->data, size)))
                die_errno("realloc");
        }
        size_t room = size - 1 - r->len;
        ssize_t n = room ? recv(fd, r->data + r->len, room, 0)
                         : recv(fd, dropped, sizeof dropped, 0);
        if (n > 0) {
            if (room)
                r->len += (size_t)n;
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            r->read_errno = errno;
            break;
        }
    }
    r->data[r->len] = '\0';
}

void upload(int fd, const char *head, size_t body_bytes, size_t chunk, size_t keep,
            struct reply *r)
{
    memset(r, 0, sizeof *r);
    r->write_errno = send_all(fd, head, strlen(head));
    char *body = malloc(chunk);
    if (!body)
        die_errno("malloc");
    memset(body, 'x', chunk);
    for (size_t sent = 0; sent < body_bytes && !r->write_errno; sent += chunk) {
        sleep_ms(1); /* the next piece of the file is ready */
        size_t len = body_bytes - sent < chunk ? body_bytes - sent : chunk;
        r->write_errno = send_all(fd, body, len);
    }
    free(body);
    if (!r->write_errno) {
        read_reply(fd, keep, r);
    } else if (!(r->data = calloc(1, 1))) {
        /* No reply read: an empty one, as struct reply promises. */
        die_errno("calloc");
    }
}

void reply_free(struct reply *r)
{
    free(r->data);
    r->data = NULL;
}
