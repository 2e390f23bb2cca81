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

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "progs/progs.h"

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

#endif
