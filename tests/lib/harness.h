/* SPDX-License-Identifier: MIT */
/* Real servers and real clients over loopback for the integration tests. */
#ifndef LINGERCLOSE_TESTS_HARNESS_H
#define LINGERCLOSE_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "progs/progs.h"

struct server {
    pid_t pid;
    int port;
    int family;
    int stdin_fd; /* closing it tells the server to exit */
    char stderr_path[64];
};

/* Starts tests/lib/lc-testserver (path in $LC_TESTSERVER) with the given
 * arguments (NULL-terminated), with the library preloaded or not, and the
 * given extra environment entries (NULL-terminated, may be NULL). Waits
 * until it listens. */
void server_start(struct server *s, bool preload, const char *const *args, const char *const *env);
/* Whether LC_SERVER_WRAPPER is set: the servers that preload the library
 * then run under that command (valgrind, for make check-valgrind), which
 * slows them down. */
bool server_wrapped(void);
/* The same for tests/conformance/patterns/NAME (directory in $LC_PATTERNS_DIR). */
void pattern_start(struct server *s, const char *name, bool preload, const char *const *args,
                   const char *const *env);
/* How many lines of text contain needle. */
int count_lines_with(const char *text, const char *needle);
/* How many lines of text contain both needles. */
int count_lines_with_both(const char *text, const char *first, const char *second);
/* The values of the "OBS <key> <value>" lines, in order, one per line
 * (malloc'd): what a pattern program observed. */
char *observations(const char *text);
/* Tells the server to exit once it has served its connections; returns its
 * exit status, or -1 if it had to be killed after timeout_ms. */
int server_wait(struct server *s, int timeout_ms);
/* What the server wrote on stderr (malloc'd, NUL-terminated). */
char *server_stderr(const struct server *s);
int server_thread_count(const struct server *s);
/* False where the kernel has no close_range (before Linux 5.9, or under
 * tests/limits/old-kernel.sh's filter): a pattern's own call fails there
 * with or without the library. */
bool kernel_has_close_range(void);

int client_connect(int family, int port);
/* Writes everything, stopping at the first error (returned, 0 if none). */
int client_send(int fd, const void *buf, size_t len);
/* Reads until EOF, an error or 20 s. */
void client_read_reply(int fd, struct reply *r);

/* A write-then-read upload: headers, then the body in chunks with a short
 * pause between them (a client streaming a file), then the response. */
void client_upload(int family, int port, size_t body_bytes, struct reply *r);
/* The same on a connection that is already open (left open). */
void client_upload_over(int fd, size_t body_bytes, struct reply *r);

bool reply_is_early_error(const struct reply *r);
/* "200 OK" with a Content-Length body of exactly `size` pattern bytes. */
bool reply_is_sized(const struct reply *r, size_t size);

/* The inode of the server-side socket of a connection as /proc/net/tcp
 * shows it: > 0 while a process holds a descriptor for it, 0 once it is
 * orphaned, -1 once it is gone. */
long server_side_inode(int server_port, int client_port);

#endif
