/* SPDX-License-Identifier: MIT */
/* What the conformance suite's pattern programs share. Each program is one
 * way real servers handle and close connections; none knows anything of
 * lingerclose. Conventions, as tests/harness.h expects them:
 *  - it says "listening on 127.0.0.1:PORT" on stdout once it listens
 *    (progs/progs.h: announce_listening);
 *  - observations go to stderr, one "OBS <key> <value>" line each, so that
 *    a test can compare runs with and without the library;
 *  - once it has served its connections it waits for stdin to reach EOF
 *    (the test is done with it), then exits 0; anything unexpected exits 2. */
#ifndef LINGERCLOSE_TESTS_PATTERN_H
#define LINGERCLOSE_TESTS_PATTERN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "progs/progs.h"

/* ---- the command line ---------------------------------------------------- */

/* One option of a pattern program, "--NAME VALUE" or "--NAME=VALUE" (a flag
 * takes no value). Exactly one of the pointers is set:
 *  - NUMBER: a whole number from MIN to MAX;
 *  - TEXT: any text;
 *  - CHOICE: the index in CHOICES (NULL-terminated) of the value given;
 *  - FLAG: set to true when the option is given;
 *  - TAKE: called with the value each time the option is given. */
struct pattern_option {
    const char *name;
    int *number;
    int min, max;
    const char **text;
    int *choice;
    const char *const *choices;
    bool *flag;
    void (*take)(const char *value);
};
/* The option every pattern program that serves a number of connections
 * takes, with the range they all accept. */
#define PATTERN_CONNECTIONS(variable) \
    { .name = "connections", .number = &(variable), .min = 1, .max = INT_MAX }
/* Reads ARGV's options against OPTIONS (ended by one whose name is NULL).
 * Anything else, a value out of range, or an operand not after "--" ends
 * the program with one line naming it and USAGE (exit status 2). Returns
 * the operands after "--" (NULL-terminated, possibly none). */
char **pattern_options(int argc, char **argv, const struct pattern_option *options,
                       const char *usage);

/* ---- serving ------------------------------------------------------------- */

_Noreturn void pattern_die(const char *what);
/* A listening TCP socket on 127.0.0.1, announced. */
int pattern_listen(void);
int pattern_accept(int listen_fd);
void pattern_write_all(int fd, const void *buf, size_t len);
/* Reads the request head and a little of the body (at most 1 KiB in all):
 * a server that gives up on an upload early. */
void pattern_read_some_request(int fd);
/* The early error an HTTP server sends when it will not read a body. */
void pattern_send_early_error(int fd);
/* Blocks until stdin reaches EOF. */
void pattern_wait_for_stdin_eof(void);
void pattern_observe(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Number of open descriptors of this process. */
int pattern_open_fds(void);
/* Descriptors in the table of the thread named "lingerclose" (the library's
 * drain thread has a table of its own), or -1 if there is no such thread. */
int pattern_drain_thread_fds(void);
void pattern_sleep_ms(int ms);
/* Reaps every child; exits 2 if one failed. */
void pattern_reap_children(void);

/* ---- calls newer than some C libraries ----------------------------------- */

/* close_range and closefrom as a program built against glibc 2.34 or later
 * calls them. Where the C library the test was built with lacks them
 * (glibc 2.31), whatever defines the name at run time answers (the library,
 * when it is preloaded, exports both), else the system call itself. */
int pattern_close_range(unsigned int first, unsigned int last, int flags);
void pattern_closefrom(int lowfd);

#endif
