#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

void pattern_die(const char *what)
{
    die_errno(what);
}

int pattern_listen(void)
{
    int fd = listen_loopback(AF_INET, 0, 128, 0);
    announce_listening(fd);
    return fd;
}

int pattern_accept(int listen_fd)
{
    return accept_or_die(listen_fd);
}

void pattern_write_all(int fd, const void *buf, size_t len)
{
    write_or_die(fd, buf, len);
}

void pattern_read_some_request(int fd)
{
    if (read_and_drop(fd, 1024) <= 0)
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

int pattern_open_fds(void)
{
    long count = count_entries("/proc/self/fd");
    if (count < 0)
        pattern_die("opendir /proc/self/fd");
    return (int)count - 1; /* the directory's own descriptor */
}

int pattern_drain_thread_fds(void)
{
    return (int)drain_thread_fds(0);
}

void pattern_sleep_ms(int ms)
{
    sleep_ms(ms);
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
