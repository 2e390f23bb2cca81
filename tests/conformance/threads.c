/* SPDX-License-Identifier: MIT */
/* Conformance: threads, signals and fork() around lingering closes. The
 * library runs a thread of its own, takes over sockets from close() calls
 * made in any thread or signal handler, and holds them while the program
 * forks: none of this may lose a response, leak a descriptor, steal a
 * signal, or hand a drained socket to a child. Every scenario runs with
 * and without the library; where the library changes the outcome the run
 * without it shows the loss (so the test can fail), elsewhere both runs
 * must observe the same. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

TestSuite(threads, .timeout = 120);

static const char *const debug_log[] = { "LINGERCLOSE_LOG=debug", NULL };

/* The value of the first "OBS <key> <value>" line (malloc'd), or NULL. */
static char *observed(const char *text, const char *key)
{
    char prefix[128];
    int n = snprintf(prefix, sizeof prefix, "OBS %s ", key);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len >= (size_t)n && strncmp(line, prefix, (size_t)n) == 0)
            return strndup(line + n, len - (size_t)n);
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

static int observed_int(const char *text, const char *key)
{
    char *value = observed(text, key);
    cr_assert(value, "no 'OBS %s' line in: %s", key, text);
    int number = atoi(value);
    free(value);
    return number;
}

/* The observations whose key starts with one of the prefixes, in order. */
static char *observations_starting_with(const char *text, const char *const *prefixes)
{
    char *all = observations(text);
    char *out = calloc(1, strlen(all) + 1);
    size_t used = 0;
    for (char *line = all; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        for (int i = 0; prefixes[i]; i++) {
            if (strncmp(line, prefixes[i], strlen(prefixes[i])) == 0) {
                memcpy(out + used, line, len);
                used += len;
                break;
            }
        }
        line += len;
    }
    free(all);
    return out;
}

/* Waits until at least `count` lines of the program's stderr contain
 * needle; false after timeout_ms. */
static bool stderr_shows(const struct server *s, const char *needle, int count, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        char *text = server_stderr(s);
        bool seen = count_lines_with(text, needle) >= count;
        free(text);
        if (seen)
            return true;
        if (now_ms() > deadline)
            return false;
        sleep_ms(5);
    }
}

/* An upload that keeps streaming for stream_ms whatever the server says
 * (a browser sending a big file), and only then reads the response: with
 * the library the server's socket is draining the whole time. */
static void streaming_upload(int port, int stream_ms, struct reply *r)
{
    memset(r, 0, sizeof *r);
    int fd = client_connect(AF_INET, port);
    static const char head[] =
        "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 100000000\r\n\r\n";
    r->write_errno = client_send(fd, head, strlen(head));
    static char chunk[16384];
    memset(chunk, 'x', sizeof chunk);
    long long until = now_ms() + stream_ms;
    while (!r->write_errno && now_ms() < until) {
        sleep_ms(5);
        r->write_errno = client_send(fd, chunk, sizeof chunk);
    }
    if (!r->write_errno)
        client_read_reply(fd, r);
    close(fd);
}

struct streaming_client {
    pthread_t thread;
    int port;
    int stream_ms;
    bool delivered;
};

static void *run_streaming_client(void *arg)
{
    struct streaming_client *c = arg;
    struct reply r;
    streaming_upload(c->port, c->stream_ms, &r);
    c->delivered = reply_is_early_error(&r);
    reply_free(&r);
    return NULL;
}

static void start_streaming_clients(struct streaming_client *clients, int count, int port,
                                    int stream_ms)
{
    for (int i = 0; i < count; i++) {
        clients[i] = (struct streaming_client){ .port = port, .stream_ms = stream_ms };
        cr_assert_eq(pthread_create(&clients[i].thread, NULL, run_streaming_client, &clients[i]), 0);
    }
}

/* How many of the clients got their response. */
static int join_streaming_clients(struct streaming_client *clients, int count)
{
    int delivered = 0;
    for (int i = 0; i < count; i++) {
        pthread_join(clients[i].thread, NULL);
        delivered += clients[i].delivered;
    }
    return delivered;
}

/* ---- many threads closing and accepting ---------------------------- */

#define SERVER_THREADS 8
#define CLIENT_THREADS 8
#define UPLOADS_PER_CLIENT 25
/* The first connection, alone, then the concurrent ones. */
#define POOL_CONNECTIONS (1 + CLIENT_THREADS * UPLOADS_PER_CLIENT)
#define MIN_UPLOAD (64u << 10)
#define MAX_UPLOAD (1000u * 1000u)

struct upload_client {
    pthread_t thread;
    int port;
    int index;
    int delivered;
};

static void *run_upload_client(void *arg)
{
    struct upload_client *c = arg;
    for (int i = 0; i < UPLOADS_PER_CLIENT; i++) {
        /* Sizes spread over 64 KiB - 1 MB, different in every thread. */
        size_t size = MIN_UPLOAD + ((size_t)(c->index * UPLOADS_PER_CLIENT + i) * 37813u) %
                                       (MAX_UPLOAD - MIN_UPLOAD);
        struct reply r;
        client_upload(AF_INET, c->port, size, &r);
        c->delivered += reply_is_early_error(&r);
        reply_free(&r);
    }
    return NULL;
}

struct pool_run {
    int delivered;
    int threads_at_end;
    int exit_status;
    char *log;
};

static struct pool_run run_thread_pool(bool preload)
{
    static char threads_arg[16], connections_arg[16];
    snprintf(threads_arg, sizeof threads_arg, "%d", SERVER_THREADS);
    snprintf(connections_arg, sizeof connections_arg, "%d", POOL_CONNECTIONS);
    const char *const args[] = { "--threads", threads_arg, "--connections", connections_arg, NULL };
    struct server s;
    pattern_start(&s, "threads", preload, args, debug_log);

    struct pool_run run = { 0 };
    struct reply first;
    client_upload(AF_INET, s.port, MAX_UPLOAD, &first);
    run.delivered += reply_is_early_error(&first);
    reply_free(&first);

    struct upload_client clients[CLIENT_THREADS];
    for (int i = 0; i < CLIENT_THREADS; i++) {
        clients[i] = (struct upload_client){ .port = s.port, .index = i };
        cr_assert_eq(pthread_create(&clients[i].thread, NULL, run_upload_client, &clients[i]), 0);
    }
    for (int i = 0; i < CLIENT_THREADS; i++) {
        pthread_join(clients[i].thread, NULL);
        run.delivered += clients[i].delivered;
    }

    /* fds_at_end comes once every drain ended: the pool is idle then, and
     * still complete. */
    cr_expect(stderr_shows(&s, "OBS fds_at_end", 1, 15000), "the server never finished: %s",
              server_stderr(&s));
    run.threads_at_end = server_thread_count(&s);
    run.exit_status = server_wait(&s, 10000);
    run.log = server_stderr(&s);
    return run;
}

Test(threads, many_threads_closing_and_accepting_lose_no_drain_and_leak_nothing)
{
    struct pool_run with = run_thread_pool(true);
    cr_expect_eq(with.exit_status, 0, "the server failed (a close() did not return 0?): %s",
                 with.log);
    cr_expect_eq(observed_int(with.log, "close_failures"), 0);
    cr_expect_eq(with.delivered, POOL_CONNECTIONS, "%d of %d responses lost with the library",
                 POOL_CONNECTIONS - with.delivered, POOL_CONNECTIONS);
    cr_expect_eq(count_lines_with_both(with.log, "debug: close(", "): lingering"),
                 POOL_CONNECTIONS, "not every close lingered");
    /* The drain thread has a descriptor table of its own; its lines must
     * still reach the program's stderr. */
    cr_expect_eq(count_lines_with_both(with.log, "drain of fd", "ended: eof"), POOL_CONNECTIONS,
                 "%d of %d drains logged their end at the peer's EOF",
                 count_lines_with_both(with.log, "drain of fd", "ended: eof"), POOL_CONNECTIONS);
    cr_expect_eq(observed_int(with.log, "fds_at_end"), observed_int(with.log, "fds_after_first"),
                 "descriptors leaked into the program's table");
    cr_expect_leq(observed_int(with.log, "fds_after_first"),
                  observed_int(with.log, "fds_before") + 1,
                  "the library keeps more than one descriptor in the program's table");
    /* Its hand-off end, its epoll set, and 0-2 taken (so that no drained
     * socket sits where a stray write to stderr would go): /dev/null, or on
     * 2 its copy of the program's stderr, a file, to log to. */
    cr_expect_eq(observed_int(with.log, "drain_fds_idle"), 5,
                 "the drain thread's own descriptors: expected its hand-off end, epoll, "
                 "and 0-2");
    cr_expect_eq(observed_int(with.log, "drain_fds"), observed_int(with.log, "drain_fds_idle"),
                 "the drain thread still holds sockets after every drain ended");
    /* A sanitizer's runtime, loaded first in sanitizer builds, may run a
     * thread of its own. */
    bool runtime_first = getenv("LC_PRELOAD_FIRST") && *getenv("LC_PRELOAD_FIRST");
    cr_expect(with.threads_at_end == SERVER_THREADS + 2 ||
                  (runtime_first && with.threads_at_end == SERVER_THREADS + 3),
              "%d threads: expected the pool, main and one drain thread", with.threads_at_end);

    struct pool_run without = run_thread_pool(false);
    cr_expect_eq(without.exit_status, 0, "the server failed: %s", without.log);
    cr_expect_eq(observed_int(without.log, "close_failures"), 0);
    cr_expect_geq(POOL_CONNECTIONS - without.delivered, POOL_CONNECTIONS / 4,
                  "only %d of %d responses lost without the library: the test proves little",
                  POOL_CONNECTIONS - without.delivered, POOL_CONNECTIONS);
    cr_expect_eq(observed_int(without.log, "fds_at_end"),
                 observed_int(without.log, "fds_after_first"));
    char *drain_fds = observed(without.log, "drain_fds");
    cr_expect_str_eq(drain_fds ? drain_fds : "(missing)", "none");
    free(drain_fds);
    cr_expect_eq(without.threads_at_end, SERVER_THREADS + 1);
    free(with.log);
    free(without.log);
}

/* ---- close() in a signal handler ----------------------------------- */

#define SIGNAL_CONNECTIONS 4

static int signal_close_delivered(bool preload, bool in_fork_child, char **log)
{
    char connections_arg[16];
    snprintf(connections_arg, sizeof connections_arg, "%d", SIGNAL_CONNECTIONS);
    const char *const args[] = { "--connections", connections_arg,
                                 in_fork_child ? "--in-fork-child" : NULL, NULL };
    struct server s;
    pattern_start(&s, "signal-close", preload, args, debug_log);
    int delivered = 0;
    for (int i = 0; i < SIGNAL_CONNECTIONS; i++) {
        struct reply r;
        client_upload(AF_INET, s.port, 1000 * 1000, &r);
        delivered += reply_is_early_error(&r);
        reply_free(&r);
    }
    cr_expect_eq(server_wait(&s, 10000), 0, "the server failed: %s", server_stderr(&s));
    *log = server_stderr(&s);
    return delivered;
}

Test(threads, close_in_signal_handler_lingers)
{
    char *with_log, *without_log;
    int with = signal_close_delivered(true, false, &with_log);
    int without = signal_close_delivered(false, false, &without_log);

    cr_expect_eq(with, SIGNAL_CONNECTIONS, "%d of %d responses lost with the library",
                 SIGNAL_CONNECTIONS - with, SIGNAL_CONNECTIONS);
    /* The reason varies (the handler may run before the body's first
     * bytes arrive: recent-data), the decision does not. */
    cr_expect_eq(count_lines_with_both(with_log, "debug: close(", "): lingering ("),
                 SIGNAL_CONNECTIONS, "the closes in the handler did not linger: %s", with_log);
    cr_expect_lt(without, SIGNAL_CONNECTIONS,
                 "no response lost without the library: the test proves nothing");

    /* The handler's close() behaves the same for the program either way. */
    char *with_obs = observations(with_log), *without_obs = observations(without_log);
    cr_expect_str_eq(with_obs, without_obs);
    cr_expect_eq(count_lines_with(with_log, "OBS close_result 0"), SIGNAL_CONNECTIONS);
    cr_expect_eq(count_lines_with(with_log, "OBS close_errno 0"), SIGNAL_CONNECTIONS);
    cr_expect_eq(count_lines_with(with_log, "OBS fd_closed yes"), SIGNAL_CONNECTIONS);
    free(with_obs);
    free(without_obs);
    free(with_log);
    free(without_log);
}

/* A fork() child has no drain thread until it makes a socket. Its first
 * lingering close, here in a signal handler, must neither create a thread
 * nor wait for one (pthread_create is not async-signal-safe): the socket
 * waits, FIN sent, for the child's end, which drains it. */
Test(threads, close_in_signal_handler_of_fork_child_starts_no_thread)
{
    /* ThreadSanitizer defers a signal to its next intercepted call and, in
     * the fork() child of a threaded program, never gets there: the
     * handler would not run, with or without the library. */
    const char *first = getenv("LC_PRELOAD_FIRST");
    if (first && strstr(first, "libtsan"))
        cr_skip_test("ThreadSanitizer never runs a signal handler in a fork child");
    char *with_log, *without_log;
    int with = signal_close_delivered(true, true, &with_log);
    int without = signal_close_delivered(false, true, &without_log);

    cr_expect_eq(with, SIGNAL_CONNECTIONS, "%d of %d responses lost with the library: %s",
                 SIGNAL_CONNECTIONS - with, SIGNAL_CONNECTIONS, with_log);
    cr_expect_eq(count_lines_with_both(with_log, "debug: close(", "): lingering ("),
                 SIGNAL_CONNECTIONS, "the closes in the handler did not linger: %s", with_log);
    cr_expect_eq(count_lines_with(with_log, "OBS threads_after_close 1"), SIGNAL_CONNECTIONS,
                 "a close() in a fork child's signal handler started a thread: %s", with_log);
    cr_expect_lt(without, SIGNAL_CONNECTIONS,
                 "no response lost without the library: the test proves nothing");
    char *with_obs = observations(with_log), *without_obs = observations(without_log);
    cr_expect_str_eq(with_obs, without_obs);
    free(with_obs);
    free(without_obs);
    free(with_log);
    free(without_log);
}

/* ---- fork() while drains are in flight ----------------------------- */

#define FORK_CONNECTIONS 4
#define FORK_STREAM_MS 1000

struct fork_run {
    int delivered;
    int exit_status;
    char *log;
};

static struct fork_run run_fork_during_drain(bool preload)
{
    char connections_arg[16];
    snprintf(connections_arg, sizeof connections_arg, "%d", FORK_CONNECTIONS);
    const char *const args[] = { "--connections", connections_arg, NULL };
    struct server s;
    pattern_start(&s, "fork-during-drain", preload, args, debug_log);
    struct streaming_client clients[FORK_CONNECTIONS];
    start_streaming_clients(clients, FORK_CONNECTIONS, s.port, FORK_STREAM_MS);
    struct fork_run run = { 0 };
    run.delivered = join_streaming_clients(clients, FORK_CONNECTIONS);
    /* The parent reports on its child within 5 s of the fork, hung or not. */
    cr_expect(stderr_shows(&s, "OBS child_status", 1, 10000), "no word of the child: %s",
              server_stderr(&s));
    run.exit_status = server_wait(&s, 10000);
    run.log = server_stderr(&s);
    return run;
}

Test(threads, fork_during_drains_child_neither_hangs_nor_inherits_drained_sockets)
{
    struct fork_run with = run_fork_during_drain(true);
    struct fork_run without = run_fork_during_drain(false);

    cr_expect_eq(with.exit_status, 0, "the server failed: %s", with.log);
    cr_expect_eq(without.exit_status, 0, "the server failed: %s", without.log);
    cr_expect_eq(observed_int(with.log, "drains_at_fork"), FORK_CONNECTIONS,
                 "the fork did not happen with every drain in flight: %s", with.log);

    const struct fork_run *runs[] = { &with, &without };
    for (int i = 0; i < 2; i++) {
        const char *log = runs[i]->log;
        const char *which = i == 0 ? "with the library" : "without the library";
        char *status = observed(log, "child_status");
        cr_expect_str_eq(status ? status : "(missing)", "exited 0", "the child %s: %s", which, log);
        free(status);
        cr_expect_eq(count_lines_with(log, "OBS child_done yes"), 1, "%s: %s", which, log);
        cr_expect_eq(count_lines_with(log, "OBS exec_done yes"), 1, "%s: %s", which, log);
        cr_expect_eq(observed_int(log, "child_drained_sockets"), 0,
                     "%s: the forked child holds drained sockets", which);
        cr_expect_eq(observed_int(log, "child_sockets_not_in_parent"), 0,
                     "%s: the forked child holds sockets its parent did not", which);
        cr_expect_eq(observed_int(log, "exec_drained_sockets"), 0,
                     "%s: the exec'd child holds drained sockets", which);
    }

    /* The child and what it execs see the same descriptors either way: the
     * library's own descriptor stays behind too. */
    const char *const child_keys[] = { "child_", "exec_", NULL };
    char *with_child = observations_starting_with(with.log, child_keys);
    char *without_child = observations_starting_with(without.log, child_keys);
    cr_expect_str_eq(with_child, without_child);
    free(with_child);
    free(without_child);

    cr_expect_eq(with.delivered, FORK_CONNECTIONS, "%d of %d responses lost with the library",
                 FORK_CONNECTIONS - with.delivered, FORK_CONNECTIONS);
    cr_expect_lt(without.delivered, FORK_CONNECTIONS,
                 "no response lost without the library: the test proves nothing");
    char *none = observed(without.log, "drains_at_fork");
    cr_expect_str_eq(none ? none : "(missing)", "none");
    free(none);
    free(with.log);
    free(without.log);
}

/* ---- a sigwait() daemon --------------------------------------------- */

#define SIGNALS_SENT 20
#define SIGWAIT_CLIENTS 4
#define SIGWAIT_STREAM_MS 2000

static void run_sigwait_daemon(bool preload, const char *order_arg)
{
    const char *const args[] = { order_arg, NULL };
    const char *which = preload ? "with the library" : "without the library";
    struct server s;
    pattern_start(&s, "sigwait", preload, args, debug_log);
    cr_assert(stderr_shows(&s, "OBS ready yes", 1, 5000), "the daemon did not start: %s",
              server_stderr(&s));
    long drain_fds_idle = drain_thread_fds(s.pid);
    struct streaming_client clients[SIGWAIT_CLIENTS];
    start_streaming_clients(clients, SIGWAIT_CLIENTS, s.port, SIGWAIT_STREAM_MS);
    if (preload)
        cr_expect(stderr_shows(&s, "): lingering", SIGWAIT_CLIENTS, 5000),
                  "the drains did not start: %s", server_stderr(&s));

    int acknowledged = 0;
    for (int i = 1; i <= SIGNALS_SENT; i++) {
        cr_assert_eq(kill(s.pid, SIGUSR1), 0);
        char needle[32];
        snprintf(needle, sizeof needle, "OBS got %d", i);
        if (!stderr_shows(&s, needle, 1, 2000))
            break;
        acknowledged = i;
    }
    if (preload && acknowledged == SIGNALS_SENT)
        cr_expect_eq(drain_thread_fds(s.pid) - drain_fds_idle, SIGWAIT_CLIENTS,
                     "the drains were not all in flight while the signals came: the test "
                     "proves nothing");
    kill(s.pid, SIGTERM);
    join_streaming_clients(clients, SIGWAIT_CLIENTS);
    int status = server_wait(&s, 10000);
    char *log = server_stderr(&s);
    cr_expect_eq(acknowledged, SIGNALS_SENT, "%s (%s): only %d of %d signals reached sigwait: %s",
                 which, order_arg ? order_arg : "listen first", acknowledged, SIGNALS_SENT, log);
    cr_expect_eq(status, 0, "%s: the daemon did not exit cleanly (status %d): %s", which, status,
                 log);
    char *usr1 = observed(log, "usr1");
    char expected[16];
    snprintf(expected, sizeof expected, "%d", SIGNALS_SENT);
    cr_expect_str_eq(usr1 ? usr1 : "(missing)", expected, "%s: %s", which, log);
    free(usr1);
    free(log);
}

Test(threads, sigwait_daemon_gets_every_signal)
{
    /* Listening socket first: the library's thread starts while every
     * signal is unblocked, so only its own blocking keeps it from taking
     * the daemon's SIGUSR1s. */
    run_sigwait_daemon(true, NULL);
    run_sigwait_daemon(false, NULL);
    run_sigwait_daemon(true, "--block-first");
    run_sigwait_daemon(false, "--block-first");
}
