/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

/* Linux numbers system calls added since 5.1 alike on every architecture. */
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

enum { MAX_PATTERN_OPTIONS = 8 };

static void set_option(const struct pattern_option *o, const char *value)
{
    char option[64];
    snprintf(option, sizeof option, "--%s", o->name);
    if (o->number) {
        *o->number = (int)parse_number(option, value, o->min, o->max);
    } else if (o->text) {
        *o->text = value;
    } else if (o->choice) {
        for (int i = 0; o->choices[i]; i++) {
            if (strcmp(value, o->choices[i]) == 0) {
                *o->choice = i;
                return;
            }
        }
        char accepted[256] = "";
        for (int i = 0; o->choices[i]; i++)
            snprintf(accepted + strlen(accepted), sizeof accepted - strlen(accepted), "%s%s",
                     i ? ", " : "", o->choices[i]);
        die("%s takes one of %s, not '%s'", option, accepted, value);
    } else if (o->take) {
        o->take(value);
    } else {
        *o->flag = true;
    }
}

char **pattern_options(int argc, char **argv, const struct pattern_option *options,
                       const char *usage)
{
    struct option long_options[MAX_PATTERN_OPTIONS + 1] = { 0 };
    int count = 0;
    for (; options[count].name; count++) {
        if (count == MAX_PATTERN_OPTIONS)
            die("more than %d options: raise MAX_PATTERN_OPTIONS", MAX_PATTERN_OPTIONS);
        long_options[count] = (struct option){ options[count].name,
                                               options[count].flag ? no_argument : required_argument,
                                               NULL, count };
    }
    opterr = 0; /* one line of our own instead of getopt's */
    bool operands_allowed = false;
    for (;;) {
        int before = optind;
        /* "+": stop at the first operand, so that a command after "--"
         * keeps its own options. */
        int c = getopt_long(argc, argv, "+:", long_options, NULL);
        if (c == -1) {
            operands_allowed = optind > before && strcmp(argv[optind - 1], "--") == 0;
            break;
        }
        if (c == ':')
            die("%s needs a value; usage: %s", argv[optind - 1], usage);
        if (c == '?')
            die("'%s' is not an option this program takes; usage: %s", argv[optind - 1], usage);
        set_option(&options[c], optarg);
    }
    if (optind < argc && !operands_allowed)
        die("'%s' is not an option this program takes; usage: %s", argv[optind], usage);
    return &argv[optind];
}

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

int pattern_close_range(unsigned int first, unsigned int last, int flags)
{
#ifdef HAVE_CLOSE_RANGE
    return close_range(first, last, flags);
#else
    int (*by_name)(unsigned int, unsigned int, int);
    *(void **)&by_name = dlsym(RTLD_DEFAULT, "close_range");
    if (by_name)
        return by_name(first, last, flags);
    return (int)syscall(SYS_close_range, first, last, flags);
#endif
}

void pattern_closefrom(int lowfd)
{
#ifdef HAVE_CLOSEFROM
    closefrom(lowfd);
#else
    void (*by_name)(int);
    *(void **)&by_name = dlsym(RTLD_DEFAULT, "closefrom");
    if (by_name) {
        by_name(lowfd);
        return;
    }
    /* What glibc's closefrom does: close_range, or one close per number
     * where the kernel has none (before Linux 5.9). */
    if (syscall(SYS_close_range, (unsigned int)lowfd, ~0U, 0) == 0)
        return;
    struct rlimit nofile = { 1024, 1024 };
    getrlimit(RLIMIT_NOFILE, &nofile);
    for (rlim_t fd = (rlim_t)lowfd; fd < nofile.rlim_cur && fd <= INT32_MAX; fd++)
        close((int)fd);
#endif
}
