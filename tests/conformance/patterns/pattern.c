#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

void pattern_die(const char *what)
{
    fprintf(stderr, "pattern: %s: %s\n", what, strerror(errno));
    exit(2);
}

int pattern_listen(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        pattern_die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        pattern_die("listen");
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

int pattern_accept(int listen_fd)
{
    int fd;
    do
        fd = accept(listen_fd, NULL, NULL);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        pattern_die("accept");
    return fd;
}

void pattern_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            pattern_die("write");
        p += n;
        len -= (size_t)n;
    }
}

void pattern_read_some_request(int fd)
{
    char buf[1024];
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        pattern_die("read request");
}

void pattern_send_early_error(int fd)
{
    pattern_write_all(fd, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
}

void pattern_wait_for_stdin_eof(void)
{
    char c;
    while (read(STDIN_FILENO, &c, 1) > 0 || errno == EINTR)
        errno = 0;
}

void pattern_observe(const char *key, const char *fmt, ...)
{
    char value[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    char line[600];
    int n = snprintf(line, sizeof line, "OBS %s %s\n", key, value);
    pattern_write_all(STDERR_FILENO, line, (size_t)n);
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int count = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            count++;
    closedir(d);
    return count;
}

int pattern_open_fds(void)
{
    int count = count_entries("/proc/self/fd");
    if (count < 0)
        pattern_die("opendir /proc/self/fd");
    return count - 1; /* the directory's own descriptor */
}

int pattern_drain_thread_fds(void)
{
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks)
        pattern_die("opendir /proc/self/task");
    int fds = -1;
    for (struct dirent *e; fds < 0 && (e = readdir(tasks));) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[32] = { 0 };
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        bool is_drain = fgets(comm, sizeof comm, f) && strcmp(comm, "lingerclose\n") == 0;
        fclose(f);
        if (is_drain) {
            snprintf(path, sizeof path, "/proc/self/task/%s/fd", e->d_name);
            fds = count_entries(path);
        }
    }
    closedir(tasks);
    return fds;
}

void pattern_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void pattern_reap_children(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, 0)) > 0 || (pid < 0 && errno == EINTR)) {
        if (pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            fprintf(stderr, "pattern: child %d failed (status %d)\n", (int)pid, status);
            exit(2);
        }
    }
}
