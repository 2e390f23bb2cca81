/* SPDX-License-Identifier: MIT */
/* What the test, example and benchmark programs share: they are small
 * servers and clients over loopback, and each rule of how such a program
 * behaves (how it reports a failure, parses a number, says it is ready,
 * sends, reads) lives here once. Not part of the library or the launcher. */
#ifndef LINGERCLOSE_PROGS_H
#define LINGERCLOSE_PROGS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- failing ------------------------------------------------------------ */

/* One line, "PROGRAM: MESSAGE", on stderr, then exit status die_status. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with what errno says: "PROGRAM: WHAT: REASON". */
_Noreturn void die_errno(const char *what);
/* 2, unless a program's own failures must stand apart from the status of
 * the program it runs (seccomp-run: 125, as env(1) and nohup(1) do). */
extern int die_status;

/* ---- numbers and text from the command line ----------------------------- */

/* TEXT as a whole number from MIN to MAX; otherwise dies with one line
 * naming OPTION, the text and the range accepted. */
long long parse_number(const char *option, const char *text, long long min, long long max);
/* A copy of TEXT (malloc'd) with its \r, \n, \t and \\ escapes replaced. */
char *unescape(const char *text);

/* ---- time --------------------------------------------------------------- */

long long now_ms(void); /* monotonic */
double now_ns(void);    /* monotonic */
void sleep_ms(int ms);

/* The median, smallest and largest of n values, which are sorted in place
 * (the benchmarks' spreads). */
void spread(double *values, int n, double *median, double *min, double *max);

/* ---- what /proc shows of a process ------------------------------------------ */

/* Entries of a directory (descriptors, threads), -1 if it cannot be read. */
long count_entries(const char *dir);
/* Descriptors in the table of the thread named "lingerclose" (the
 * library's drain thread has a table of its own) of process PID, 0 for
 * this one; -1 if there is no such thread. */
long drain_thread_fds(pid_t pid);

/* ---- servers ------------------------------------------------------------ */

/* A TCP socket listening on the loopback address of FAMILY (AF_INET or
 * AF_INET6), on PORT (0: a free one). SOCK_FLAGS are SOCK_CLOEXEC and
 * SOCK_NONBLOCK as socket() takes them. Dies if it cannot. */
int listen_loopback(int family, int port, int backlog, int sock_flags);
/* The local port of a socket. */
int local_port(int fd);
/* The one way a server says it is ready, on stdout, flushed:
 * "listening on 127.0.0.1:PORT" ("[::1]:PORT" for IPv6). */
void announce_listening(int listener);
/* The same line with port 0, from a program that serves no TCP port but
 * is started the way the others are: it is ready. */
void announce_no_port(void);
/* The port of such a line, or -1 if LINE is not one. */
int parse_listening(const char *line);
/* accept(), again after a signal; dies on any other failure. */
int accept_or_die(int listener);
/* One read() of at most SIZE bytes, again after a signal. */
ssize_t read_some(int fd, void *buf, size_t size);
/* The same into a buffer of its own, dropped: a server that reads part of
 * a request. At most 64 KiB. */
ssize_t read_and_drop(int fd, size_t max);

/* ---- the early answer of an HTTP server ---------------------------------- */

/* What a server that will not take a large upload answers at once, the body
 * left unread; and what it answers a small one. */
#define EARLY_ERROR_RESPONSE \
    "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 19\r\n\r\nrequest too large.\n"
#define ACCEPTED_RESPONSE "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 9\r\n\r\nAccepted\n"
/* The largest body such a server takes. */
#define MAX_BODY 1024
/* The answer to a request whose head (NUL-terminated) is HEAD: the early
 * error if it declares a body over MAX_BODY bytes. */
const char *early_answer(const char *head);
/* Reads the first KiB of a request, no more, and writes early_answer().
 * False if the client sent nothing or the answer could not be written. */
bool answer_upload(int fd);

/* ---- clients ------------------------------------------------------------- */

/* A connection to the loopback address of FAMILY on PORT, close-on-exec,
 * whose sends and receives give up after TIMEOUT_S seconds; -1 (errno
 * set) if it cannot connect. */
int connect_loopback(int family, int port, int timeout_s);
/* Every byte, again after a signal: 0, or the errno that stopped it.
 * send_all() is for sockets and never raises SIGPIPE. */
int send_all(int fd, const void *buf, size_t len);
int write_all(int fd, const void *buf, size_t len);
/* write_all(), dying if it fails. */
void write_or_die(int fd, const void *buf, size_t len);

/* What a write-then-read client got back. */
struct reply {
    char *data; /* malloc'd, NUL-terminated */
    size_t len;
    int write_errno; /* 0: the whole request was written */
    int read_errno;  /* 0: read until a clean EOF */
};
/* Reads until EOF or an error (r->read_errno), keeping the first KEEP
 * bytes and dropping the rest, so that it still sees how the server
 * ended the connection. */
void read_reply(int fd, size_t keep, struct reply *r);
/* A write-then-read exchange, the way most client libraries upload: HEAD,
 * then BODY_BYTES of 'x' in pieces of CHUNK bytes, a millisecond apart (a
 * file being read), and only then the reply. Stops at the first error. */
void upload(int fd, const char *head, size_t body_bytes, size_t chunk, size_t keep,
            struct reply *r);
void reply_free(struct reply *r);

#endif
