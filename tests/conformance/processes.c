/* SPDX-License-Identifier: MIT */
/* Conformance: connections shared between processes. Each test runs one
 * of the pattern programs (tests/conformance/patterns/) that real servers are built
 * like - pre-forked workers, helpers that close every inherited
 * descriptor, inetd and its stdin/stdout services, SCM_RIGHTS hand-over,
 * servers that end right after their last response - and proves both
 * sides of the library's promise: where the library lingers, the client
 * gets the early error with it and loses it without; where the library
 * must stay out, the log says so with the expected reason and the outcome
 * is the same either way. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define TRIES 3
#define UPLOAD_BYTES (1000 * 1000)
#define UPLOAD_CHUNK 65536
#define PREFORK_WORKERS 4 /* as tests/conformance/patterns/prefork.c forks them */
#define PIDS_MAX 16

TestSuite(processes, .timeout = 120);

static const char *const debug_log[] = { "LINGERCLOSE_LOG=debug", NULL };

/* In "close(5): lingering (...)" and "exit: close(1): lingering (...)", not
 * in the summary's "lingering=3". */
#define LINGERING ": lingering ("
#define SHARED ": plain (shared)"

/* ---- reading the log ------------------------------------------------ */

/* Lines the library logged in process pid whose message starts with
 * message_start and contains needle. */
static int library_lines_of(const char *log, int pid, const char *message_start, const char *needle)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "lingerclose[%d]: %s", pid, message_start);
    return count_lines_with_both(log, prefix, needle);
}

/* The pids the pattern program announced as "ROLE <role> <pid>". */
static int role_pids(const char *log, const char *role, int *pids, int max)
{
    char prefix[64];
    int prefix_len = snprintf(prefix, sizeof prefix, "ROLE %s ", role);
    int count = 0;
    for (const char *line = log; line && *line && count < max;) {
        if (strncmp(line, prefix, (size_t)prefix_len) == 0)
            pids[count++] = atoi(line + prefix_len);
        const char *end = strchr(line, '\n');
        line = end ? end + 1 : NULL;
    }
    return count;
}

static int role_pid(const char *log, const char *role)
{
    int pid = -1;
    cr_assert_eq(role_pids(log, role, &pid, 1), 1, "no ROLE %s line in: %s", role, log);
    return pid;
}

/* ---- clients -------------------------------------------------------- */

/* Early-error uploads one after the other; how many got the response. */
static int uploads_delivered(int port, int count)
{
    int delivered = 0;
    for (int i = 0; i < count; i++) {
        struct reply r = { 0 };
        client_upload(AF_INET, port, UPLOAD_BYTES, &r);
        if (reply_is_early_error(&r))
            delivered++;
        reply_free(&r);
    }
    return delivered;
}

/* Reads exactly strlen(expected) bytes and compares: false on EOF, an
 * error or other bytes. */
static bool read_exactly(int fd, const char *expected)
{
    size_t want = strlen(expected), got = 0;
    char buf[64];
    while (got < want) {
        ssize_t n = recv(fd, buf + got, want - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return memcmp(buf, expected, want) == 0;
}

/* count uploads at once: every client sends its headers, then the bodies
 * go out round-robin, a chunk per client and a pause per round, then each
 * reads its response. The server answers and closes all of them long
 * before their bodies are through. Returns how many got the early error. */
static int parallel_uploads_delivered(int port, int count)
{
    int fds[8];
    struct reply replies[8];
    cr_assert_leq(count, 8);
    for (int i = 0; i < count; i++) {
        memset(&replies[i], 0, sizeof replies[i]);
        fds[i] = client_connect(AF_INET, port);
        char head[256];
        int n = snprintf(head, sizeof head,
                         "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n",
                         UPLOAD_BYTES);
        replies[i].write_errno = client_send(fds[i], head, (size_t)n);
    }
    static char body[UPLOAD_CHUNK];
    memset(body, 'x', sizeof body);
    /* 30 ms between chunks: the clients are still sending well after the
     * server ended its last close, even in a sanitizer build (whose runtime
     * does its own exit work before the library's _exit runs). */
    for (size_t sent = 0; sent < UPLOAD_BYTES; sent += UPLOAD_CHUNK) {
        sleep_ms(30);
        size_t len = UPLOAD_BYTES - sent < UPLOAD_CHUNK ? UPLOAD_BYTES - sent : UPLOAD_CHUNK;
        for (int i = 0; i < count; i++)
            if (!replies[i].write_errno)
                replies[i].write_errno = client_send(fds[i], body, len);
    }
    int delivered = 0;
    for (int i = 0; i < count; i++) {
        if (!replies[i].write_errno)
            client_read_reply(fds[i], &replies[i]);
        close(fds[i]);
        if (reply_is_early_error(&replies[i]))
            delivered++;
        reply_free(&replies[i]);
    }
    return delivered;
}

/* ---- fork-per-connection (tests/lib/lc-testserver) ---------------------- */

/* The parent closes its copy right after fork() (plain: the child still
 * holds it); the child reads a little, answers and closes: it is the last
 * holder, so its close lingers and the upload gets its early error. */
Test(processes, fork_per_connection_child_close_lingers)
{
    const char *const args[] = { "--scenario", "fork-per-connection", "--connections", "3", NULL };
    struct server s;
    server_start(&s, true, args, debug_log);
    cr_expect_eq(uploads_delivered(s.port, TRIES), TRIES, "a forked child's response was lost");
    cr_expect_eq(server_wait(&s, 20000), 0);
    char *log = server_stderr(&s);
    cr_expect_eq(count_lines_with_both(log, "debug: close(", LINGERING), TRIES, "%s", log);
    cr_expect_eq(library_lines_of(log, s.pid, "", LINGERING), 0,
                 "the parent lingered on a connection its child still served: %s", log);
    cr_expect_eq(library_lines_of(log, s.pid, "debug: close(", SHARED), TRIES, "%s", log);
    free(log);

    server_start(&s, false, args, NULL);
    cr_expect_lt(uploads_delivered(s.port, TRIES), TRIES,
                 "without the library no response was lost: the test proves nothing");
    cr_expect_eq(server_wait(&s, 20000), 0);
}

/* The child answers and ends before the parent lets go of its copy: the
 * child's exit is then a plain close (the parent still holds the socket)
 * and the parent's close is the last, while the ended child is not reaped
 * yet. The parent must linger: the fork was counted, so the child is known
 * to hold nothing. */
Test(processes, fork_per_connection_parent_closing_last_lingers)
{
    const char *const args[] = { "--scenario", "fork-child-ends-first", "--connections", "3",
                                 NULL };
    struct server s;
    server_start(&s, true, args, debug_log);
    cr_expect_eq(uploads_delivered(s.port, TRIES), TRIES, "a forked child's response was lost");
    cr_expect_eq(server_wait(&s, 20000), 0);
    char *log = server_stderr(&s);
    cr_expect_eq(library_lines_of(log, s.pid, "debug: close(", LINGERING), TRIES,
                 "the parent, last to close, did not linger: %s", log);
    cr_expect_eq(count_lines_with(log, "child-may-hold"), 0, "%s", log);
    free(log);

    server_start(&s, false, args, NULL);
    cr_expect_lt(uploads_delivered(s.port, TRIES), TRIES,
                 "without the library no response was lost: the test proves nothing");
    cr_expect_eq(server_wait(&s, 20000), 0);
}

/* A helper started without fork() (posix_spawn, popen) is not counted as a
 * holder, yet holds the connection and answers on it after the server
 * closed its copy: the server's close must stay plain (a FIN from it would
 * reach the client before the helper's answer). */
static void check_uncounted_helper(const char *scenario)
{
    const char *const args[] = { "--scenario", scenario, "--connections", "3", NULL };
    struct server s;
    server_start(&s, true, args, debug_log);
    cr_expect_eq(uploads_delivered(s.port, TRIES), TRIES, "%s: the helper's response was lost",
                 scenario);
    cr_expect_eq(server_wait(&s, 20000), 0);
    char *log = server_stderr(&s);
    cr_expect_eq(library_lines_of(log, s.pid, "debug: close(", ": plain (child-may-hold)"), TRIES,
                 "%s: %s", scenario, log);
    cr_expect_eq(count_lines_with(log, LINGERING), 0, "%s: %s", scenario, log);
    free(log);

    server_start(&s, false, args, NULL);
    cr_expect_eq(uploads_delivered(s.port, TRIES), TRIES, "%s: lost without the library",
                 scenario);
    cr_expect_eq(server_wait(&s, 20000), 0);
}

Test(processes, posix_spawn_helper_keeps_the_close_plain)
{
    check_uncounted_helper("spawned-helper");
}

Test(processes, popen_helper_keeps_the_close_plain)
{
    check_uncounted_helper("popen-helper");
}

Test(processes, pidfd_spawn_helper_keeps_the_close_plain)
{
    if (!dlvsym(RTLD_DEFAULT, "pidfd_spawn", "GLIBC_2.39"))
        cr_skip_test("this C library has no pidfd_spawn (glibc 2.39)");
    check_uncounted_helper("pidfd-spawned-helper");
}

/* ---- prefork -------------------------------------------------------- */

#define PER_WORKER 2

/* Every worker accepts on the listener they all inherited and is the only
 * holder of what it accepts: each of its closes lingers, in the worker,
 * and the worker's exit() waits for its last drain. */
Test(processes, prefork_workers_linger)
{
    const char *const args[] = { "--per-worker", "2", NULL };
    const int connections = PREFORK_WORKERS * PER_WORKER;
    struct server s;
    pattern_start(&s, "prefork", true, args, debug_log);
    cr_expect_eq(uploads_delivered(s.port, connections), connections,
                 "a response from a worker was lost");
    cr_expect_eq(server_wait(&s, 20000), 0);
    char *log = server_stderr(&s);
    int workers[PIDS_MAX];
    cr_assert_eq(role_pids(log, "worker", workers, PIDS_MAX), PREFORK_WORKERS, "%s", log);
    for (int i = 0; i < PREFORK_WORKERS; i++)
        cr_expect_eq(library_lines_of(log, workers[i], "debug: close(", LINGERING), PER_WORKER,
                     "worker %d did not linger on each of its connections: %s", workers[i], log);
    cr_expect_eq(count_lines_with(log, LINGERING), connections, "lingered outside the workers: %s",
                 log);
    cr_expect_eq(count_lines_with(log, "LINGERCLOSE_EXIT_TIMEOUT reached"), 0, "%s", log);
    char *with = observations(log);
    free(log);

    pattern_start(&s, "prefork", false, args, NULL);
    cr_expect_lt(uploads_delivered(s.port, connections), connections,
                 "without the library no response was lost: the test proves nothing");
    cr_expect_eq(server_wait(&s, 20000), 0);
    log = server_stderr(&s);
    char *without = observations(log);
    cr_expect_str_eq(with, without);
    free(with);
    free(without);
    free(log);
}

/* ---- a helper that closes every inherited descriptor ---------------- */

struct helper_outcome {
    int delivered;          /* uploads that got the early error */
    int conversations_kept; /* READY and PONG arrived whole, no EOF before them */
    char *observations;
    char *log;
    int server_pid;
};

static void run_helper_closes_all(const char *how, bool exec_after, bool preload,
                                  struct helper_outcome *out)
{
    const char *args[6] = { how, "--connections", "3", NULL, NULL, NULL };
    if (!exec_after)
        args[3] = "--no-exec";
    struct server s;
    pattern_start(&s, "helper-closes-all", preload, args, preload ? debug_log : NULL);
    out->delivered = out->conversations_kept = 0;
    for (int i = 0; i < TRIES; i++) {
        int fd = client_connect(AF_INET, s.port);
        /* "EARLY" stays unread in the server's socket while the helper
         * closes everything: a lingering close there would read it away. */
        cr_assert_eq(client_send(fd, "PING1\nEARLY\n", 12), 0);
        if (read_exactly(fd, "READY\n") && client_send(fd, "PING2\n", 6) == 0 &&
            read_exactly(fd, "PONG\n")) {
            out->conversations_kept++;
            struct reply r;
            client_upload_over(fd, UPLOAD_BYTES, &r);
            if (reply_is_early_error(&r))
                out->delivered++;
            reply_free(&r);
        }
        close(fd);
    }
    cr_expect_eq(server_wait(&s, 20000), 0, "helper-closes-all %s failed", how);
    out->server_pid = (int)s.pid;
    out->log = server_stderr(&s);
    out->observations = observations(out->log);
}

static void check_helper_closes_all(const char *how, bool exec_after)
{
    /* How the helper's closes show in the log: closefrom() is a
     * close_range() sweep. */
    const char *how_logged = strcmp(how, "--how=loop") == 0        ? "debug: close("
                             : strcmp(how, "--how=closefrom") == 0 ? "debug: closefrom("
                                                                   : "debug: close_range(";
#define ONE_CONVERSATION                                                                 \
    "first-line PING1\nhelper-status 0\nline-kept-across-helper EARLY\n"                    \
    "line-after-ready PING2\n"
    static const char expected_observations[] = ONE_CONVERSATION ONE_CONVERSATION ONE_CONVERSATION;
#undef ONE_CONVERSATION

    struct helper_outcome with, without;
    run_helper_closes_all(how, exec_after, true, &with);
    cr_expect_eq(with.conversations_kept, TRIES,
                 "the helper's closes cut the parent's connection: %s", with.log);
    cr_expect_eq(with.delivered, TRIES, "the parent's final close did not linger: %s", with.log);
    cr_expect_str_eq(with.observations, expected_observations);

    int helpers[PIDS_MAX];
    cr_assert_eq(role_pids(with.log, "helper", helpers, PIDS_MAX), TRIES, "%s", with.log);
    for (int i = 0; i < TRIES; i++) {
        /* Its copies of the listener and of the connection. */
        cr_expect_eq(library_lines_of(with.log, helpers[i], how_logged, SHARED), 2,
                     "helper %d did not drop exactly two shared copies: %s", helpers[i], with.log);
        cr_expect_eq(library_lines_of(with.log, helpers[i], "", LINGERING), 0,
                     "helper %d lingered: %s", helpers[i], with.log);
    }
    cr_expect_eq(library_lines_of(with.log, with.server_pid, "debug: close(", LINGERING), TRIES,
                 "the server's last close did not linger: %s", with.log);
    cr_expect_eq(count_lines_with(with.log, LINGERING), TRIES, "%s", with.log);

    run_helper_closes_all(how, exec_after, false, &without);
    cr_expect_eq(without.conversations_kept, TRIES);
    cr_expect_str_eq(without.observations, with.observations);
    cr_expect_lt(without.delivered, TRIES,
                 "without the library no response was lost: the test proves nothing");

    free(with.observations);
    free(with.log);
    free(without.observations);
    free(without.log);
}

Test(processes, helper_closing_all_fds_leaves_parent_connection_alone_loop_exec)
{
    check_helper_closes_all("--how=loop", true);
}

Test(processes, helper_closing_all_fds_leaves_parent_connection_alone_loop_no_exec)
{
    check_helper_closes_all("--how=loop", false);
}

/* A helper that closes nothing and execs: its close-on-exec copy of the
 * connection is gone with the exec, so its hold goes back then and the
 * parent's close is again the last one and lingers. */
Test(processes, helper_exec_gives_back_close_on_exec_copies)
{
    struct helper_outcome with, without;
    run_helper_closes_all("--how=close-on-exec", true, true, &with);
    cr_expect_eq(with.conversations_kept, TRIES, "%s", with.log);
    cr_expect_eq(with.delivered, TRIES, "the parent's close did not linger after the helper's "
                                        "exec: %s", with.log);
    cr_expect_eq(library_lines_of(with.log, with.server_pid, "debug: close(", LINGERING), TRIES,
                 "%s", with.log);
    run_helper_closes_all("--how=close-on-exec", true, false, &without);
    cr_expect_lt(without.delivered, TRIES,
                 "without the library no response was lost: the test proves nothing");
    cr_expect_str_eq(with.observations, without.observations);
    free(with.log);
    free(with.observations);
    free(without.log);
    free(without.observations);
}

Test(processes, helper_closing_all_fds_leaves_parent_connection_alone_close_range_exec)
{
    if (!kernel_has_close_range())
        cr_skip_test("the kernel has no close_range (Linux 5.9)");
    check_helper_closes_all("--how=close_range", true);
}

Test(processes, helper_closing_all_fds_leaves_parent_connection_alone_close_range_no_exec)
{
    if (!kernel_has_close_range())
        cr_skip_test("the kernel has no close_range (Linux 5.9)");
    check_helper_closes_all("--how=close_range", false);
}

Test(processes, helper_closing_all_fds_leaves_parent_connection_alone_closefrom_exec)
{
    check_helper_closes_all("--how=closefrom", true);
}

Test(processes, helper_closing_all_fds_leaves_parent_connection_alone_closefrom_no_exec)
{
    check_helper_closes_all("--how=closefrom", false);
}

/* ---- inetd and a stdin/stdout service ------------------------------- */

enum library_in { LIBRARY_NOWHERE, LIBRARY_IN_SERVICE_ONLY, LIBRARY_IN_WRAPPER_AND_SERVICE };

struct inetd_outcome {
    int delivered;
    char *log;
    int wrapper_pid;
};

/* "LD_PRELOAD=..." as the harness builds it for pattern_start(). */
static const char *library_preload_entry(void)
{
    static char entry[4096];
    const char *library = getenv("LC_LIBRARY");
    cr_assert(library && *library, "LC_LIBRARY is not set");
    const char *first = getenv("LC_PRELOAD_FIRST");
    snprintf(entry, sizeof entry, "LD_PRELOAD=%s%s%s", first && *first ? first : "",
             first && *first ? ":" : "", library);
    return entry;
}

/* Appends the inetd wrapper's arguments that preload the library, at
 * debug, into the service only; returns the new count. */
static size_t library_in_service_args(const char **args, size_t argc)
{
    args[argc++] = "--service-env";
    args[argc++] = library_preload_entry();
    args[argc++] = "--service-env";
    args[argc++] = "LINGERCLOSE_LOG=debug";
    return argc;
}

/* TRIES uploads, each to its own stdio-service --end=<end> under the
 * inetd wrapper. service_setting (may be NULL) goes to every process the
 * library is in. */
static void run_inetd(const char *end, enum library_in where, const char *service_setting,
                      struct inetd_outcome *out)
{
    char service[4096], end_arg[32];
    const char *patterns = getenv("LC_PATTERNS_DIR");
    cr_assert(patterns && *patterns, "LC_PATTERNS_DIR is not set");
    snprintf(service, sizeof service, "%s/stdio-service", patterns);
    snprintf(end_arg, sizeof end_arg, "--end=%s", end);

    const char *args[16] = { "--connections", "3" };
    size_t argc = 2;
    if (where == LIBRARY_IN_SERVICE_ONLY) {
        argc = library_in_service_args(args, argc);
        if (service_setting) {
            args[argc++] = "--service-env";
            args[argc++] = service_setting;
        }
    }
    args[argc++] = "--";
    args[argc++] = service;
    args[argc++] = end_arg;
    args[argc] = NULL;
    const char *env[] = { "LINGERCLOSE_LOG=debug", service_setting, NULL };

    struct server s;
    pattern_start(&s, "inetd-wrapper", where == LIBRARY_IN_WRAPPER_AND_SERVICE, args,
                  where == LIBRARY_IN_WRAPPER_AND_SERVICE ? env : NULL);
    out->delivered = uploads_delivered(s.port, TRIES);
    cr_expect_eq(server_wait(&s, 20000), 0, "the wrapper or a service failed");
    out->log = server_stderr(&s);
    out->wrapper_pid = role_pid(out->log, "wrapper");
}

/* how: the word the library logs for that way of ending. */
static void check_inetd_service(const char *end, const char *how)
{
    char lingering[64], shared[64];
    snprintf(lingering, sizeof lingering, "debug: %s: close(1): lingering", how);
    snprintf(shared, sizeof shared, "debug: %s: close(0): plain (shared)", how);

    /* The library only in the service: the hand-over on fds 0 and 1 is
     * the service's own connection, lingered when it ends. */
    struct inetd_outcome o;
    run_inetd(end, LIBRARY_IN_SERVICE_ONLY, NULL, &o);
    cr_expect_eq(o.delivered, TRIES, "a service's response was lost: %s", o.log);
    cr_expect_eq(count_lines_with(o.log, lingering), TRIES, "%s", o.log);
    cr_expect_eq(count_lines_with(o.log, shared), TRIES, "%s", o.log);
    cr_expect_eq(library_lines_of(o.log, o.wrapper_pid, "", ""), 0,
                 "the library ran in the wrapper: %s", o.log);
    free(o.log);

    /* The library in the wrapper too (LD_PRELOAD is inherited): the
     * wrapper's copies close plainly, the services still linger. */
    run_inetd(end, LIBRARY_IN_WRAPPER_AND_SERVICE, NULL, &o);
    cr_expect_eq(o.delivered, TRIES, "a service's response was lost: %s", o.log);
    cr_expect_eq(count_lines_with(o.log, lingering), TRIES, "%s", o.log);
    cr_expect_eq(library_lines_of(o.log, o.wrapper_pid, "debug: close(", ""), TRIES, "%s", o.log);
    cr_expect_eq(library_lines_of(o.log, o.wrapper_pid, "debug: close(", SHARED), TRIES, "%s",
                 o.log);
    cr_expect_eq(library_lines_of(o.log, o.wrapper_pid, "", LINGERING), 0, "%s", o.log);
    free(o.log);

    run_inetd(end, LIBRARY_NOWHERE, NULL, &o);
    cr_expect_lt(o.delivered, TRIES,
                 "without the library no response was lost: the test proves nothing");
    free(o.log);
}

/* A connection inherited across exec on a number other than 0-2 is not the
 * service's to linger (whoever exec'd it may still hold it): left alone,
 * no lingering anywhere, the same outcome as without the library. */
static int inherited_on_fd_delivered(bool library_in_service, char **log)
{
    char service[4096];
    snprintf(service, sizeof service, "%s/stdio-service", getenv("LC_PATTERNS_DIR"));
    const char *args[16] = { "--connections", "3", "--on-fd", "20" };
    size_t argc = 4;
    if (library_in_service)
        argc = library_in_service_args(args, argc);
    args[argc++] = "--";
    args[argc++] = service;
    args[argc++] = "--fd=20";
    args[argc++] = "--end=close";
    args[argc] = NULL;
    struct server s;
    pattern_start(&s, "inetd-wrapper", false, args, NULL);
    int delivered = uploads_delivered(s.port, TRIES);
    cr_expect_eq(server_wait(&s, 20000), 0, "the wrapper or a service failed");
    *log = server_stderr(&s);
    return delivered;
}

Test(processes, socket_inherited_across_exec_is_left_alone)
{
    char *log;
    int with = inherited_on_fd_delivered(true, &log);
    cr_expect_eq(count_lines_with(log, ": mode=auto idle-timeout="), TRIES,
                 "the library did not run in every service: %s", log);
    cr_expect_eq(count_lines_with(log, LINGERING), 0, "an inherited socket lingered: %s", log);
    free(log);
    int without = inherited_on_fd_delivered(false, &log);
    free(log);
    cr_expect_eq(with, without, "%d delivered with the library, %d without", with, without);
    cr_expect_lt(without, TRIES, "without the library no response was lost: the test proves "
                                 "nothing");
}

Test(processes, inetd_wrapper_service_lingers_at_return)
{
    check_inetd_service("return", "exit");
}

Test(processes, inetd_wrapper_service_lingers_at_exit)
{
    check_inetd_service("exit", "exit");
}

Test(processes, inetd_wrapper_service_lingers_at__exit)
{
    check_inetd_service("_exit", "_exit");
}

Test(processes, inetd_wrapper_service_lingers_at__Exit)
{
    check_inetd_service("_Exit", "_Exit");
}

/* LINGERCLOSE_EXIT_TIMEOUT=0: the library is loaded in the service (its
 * start-up line says so) but leaves the process end to the kernel, and
 * the response is lost as without it. */
Test(processes, exit_timeout_zero_disables_exit_lingering)
{
    static const char *const ends[] = { "return", "_exit" };
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        struct inetd_outcome o;
        run_inetd(ends[i], LIBRARY_IN_SERVICE_ONLY, "LINGERCLOSE_EXIT_TIMEOUT=0", &o);
        cr_expect_eq(count_lines_with(o.log, "exit-timeout=0ms"), TRIES,
                     "--end=%s: the library did not run with the setting: %s", ends[i], o.log);
        cr_expect_eq(count_lines_with(o.log, LINGERING), 0, "--end=%s: %s", ends[i], o.log);
        cr_expect_lt(o.delivered, TRIES, "--end=%s: no response lost with exit lingering off",
                     ends[i]);
        free(o.log);
    }
}

/* ---- SCM_RIGHTS hand-over ------------------------------------------- */

/* The library cannot count holders across a transfer: the acceptor's
 * close is "shared" (sent away), the worker's "not-owned" (received), and
 * clients fare exactly as without the library. */
Test(processes, scm_rights_passed_sockets_are_left_alone)
{
    const char *const args[] = { "--connections", "3", NULL };
    bool delivered_with[TRIES], delivered_without[TRIES];

    struct server s;
    pattern_start(&s, "scm-rights", true, args, debug_log);
    for (int i = 0; i < TRIES; i++)
        delivered_with[i] = uploads_delivered(s.port, 1) == 1;
    cr_expect_eq(server_wait(&s, 20000), 0);
    char *log = server_stderr(&s);
    int acceptor = role_pid(log, "acceptor"), worker = role_pid(log, "worker");
    cr_expect_eq(count_lines_with(log, LINGERING), 0, "%s", log);
    cr_expect_geq(library_lines_of(log, acceptor, "debug: close(", SHARED), TRIES,
                  "the acceptor's closes of what it sent away are not all shared: %s", log);
    cr_expect_eq(library_lines_of(log, acceptor, "debug: close(", ""),
                 library_lines_of(log, acceptor, "debug: close(", SHARED), "%s", log);
    cr_expect_eq(library_lines_of(log, worker, "debug: close(", LINGERING), 0, "%s", log);
    char *with = observations(log);
    free(log);

    pattern_start(&s, "scm-rights", false, args, NULL);
    for (int i = 0; i < TRIES; i++)
        delivered_without[i] = uploads_delivered(s.port, 1) == 1;
    cr_expect_eq(server_wait(&s, 20000), 0);
    log = server_stderr(&s);
    char *without = observations(log);
    cr_expect_str_eq(with, without);

    for (int i = 0; i < TRIES; i++) {
        cr_expect_eq(delivered_with[i], delivered_without[i], "try %d differs", i);
        cr_expect_not(delivered_without[i],
                      "try %d: delivered without the library: the test proves nothing", i);
    }
    free(with);
    free(without);
    free(log);
}

/* The worker's close of a socket it received is left alone, and says so:
 * "plain (not-owned)", one line per received connection. */
Test(processes, scm_rights_received_socket_close_is_logged_not_owned)
{
    const char *const args[] = { "--connections", "3", NULL };
    struct server s;
    pattern_start(&s, "scm-rights", true, args, debug_log);
    uploads_delivered(s.port, TRIES);
    cr_expect_eq(server_wait(&s, 20000), 0);
    char *log = server_stderr(&s);
    int worker = role_pid(log, "worker");
    cr_expect_eq(library_lines_of(log, worker, "debug: close(", ": plain (not-owned)"), TRIES,
                 "the worker's closes of received sockets are not logged as not-owned: %s", log);
    free(log);
}

/* ---- ending with drains in flight ----------------------------------- */

#define PARALLEL_UPLOADS 4

/* The server closes all its connections (each starts a drain) and ends at
 * once, with every client still uploading: the process end must wait for
 * those drains - and stop waiting as soon as the peers are done. */
static void check_exit_with_drains(const char *end, const char *how)
{
    char end_arg[32], peers_done[64];
    snprintf(end_arg, sizeof end_arg, "--end=%s", end);
    snprintf(peers_done, sizeof peers_done, "debug: %s: every peer closed within", how);
    const char *const args[] = { "--connections", "4", end_arg, NULL };

    struct server s;
    pattern_start(&s, "exit-drains", true, args, debug_log);
    long long start = now_ms();
    cr_expect_eq(parallel_uploads_delivered(s.port, PARALLEL_UPLOADS),
                 PARALLEL_UPLOADS, "a response was lost when the server ended");
    cr_expect_eq(server_wait(&s, 10000), 0);
    long long ended = now_ms();
    cr_expect_lt(ended - start, 2500, "the server took %lld ms to end", ended - start);
    char *log = server_stderr(&s);
    cr_expect_eq(count_lines_with_both(log, "debug: close(", LINGERING), PARALLEL_UPLOADS,
                 "%s", log);
    /* Logged only when the end found drains in flight. */
    cr_expect_eq(count_lines_with(log, peers_done), 1, "%s", log);
    cr_expect_eq(count_lines_with(log, "LINGERCLOSE_EXIT_TIMEOUT reached"), 0, "%s", log);
    char *with = observations(log);
    free(log);

    pattern_start(&s, "exit-drains", false, args, NULL);
    cr_expect_lt(parallel_uploads_delivered(s.port, PARALLEL_UPLOADS),
                 PARALLEL_UPLOADS,
                 "without the library no response was lost: the test proves nothing");
    cr_expect_eq(server_wait(&s, 10000), 0);
    log = server_stderr(&s);
    char *without = observations(log);
    cr_expect_str_eq(with, without);
    free(with);
    free(without);
    free(log);
}

Test(processes, exit_with_drains_in_flight_waits_for_them_exit)
{
    check_exit_with_drains("exit", "exit");
}

Test(processes, exit_with_drains_in_flight_waits_for_them__exit)
{
    check_exit_with_drains("_exit", "_exit");
}

Test(processes, exit_with_drains_in_flight_waits_for_them_return)
{
    check_exit_with_drains("return", "exit");
}

/* A peer that never closes holds the process end up for
 * LINGERCLOSE_EXIT_TIMEOUT, and not much longer: well below the 2 s default
 * and the drain's own idle timeout (2 s), with room for a slow build's
 * process exit. */
Test(processes, exit_wait_is_bounded_by_exit_timeout)
{
    static const char *const ends[] = { "exit", "_exit", "return" };
    static const char *const env[] = { "LINGERCLOSE_LOG=debug", "LINGERCLOSE_EXIT_TIMEOUT=400ms",
                                       NULL };
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        char end_arg[32];
        snprintf(end_arg, sizeof end_arg, "--end=%s", ends[i]);
        const char *const args[] = { "--connections", "1", end_arg, NULL };
        struct server s;
        pattern_start(&s, "exit-drains", true, args, env);
        int fd = client_connect(AF_INET, s.port);
        static char request[8192];
        int n = snprintf(request, sizeof request,
                         "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n",
                         UPLOAD_BYTES);
        memset(request + n, 'x', sizeof request - (size_t)n);
        cr_assert_eq(client_send(fd, request, sizeof request), 0);
        struct reply r = { 0 };
        client_read_reply(fd, &r); /* the response and the FIN: the server is ending */
        long long answered = now_ms();
        cr_expect(reply_is_early_error(&r), "--end=%s: response lost", ends[i]);
        reply_free(&r);
        /* The client stays connected. */
        cr_expect_eq(server_wait(&s, 10000), 0);
        long long waited = now_ms() - answered;
        close(fd);
        cr_expect_geq(waited, 350, "--end=%s: the end did not wait for the peer (%lld ms)",
                      ends[i], waited);
        cr_expect_lt(waited, 1900, "--end=%s: the end waited %lld ms", ends[i], waited);
        char *log = server_stderr(&s);
        cr_expect_eq(count_lines_with(log, "LINGERCLOSE_EXIT_TIMEOUT reached with 1 connection"),
                     1, "--end=%s: %s", ends[i], log);
        free(log);
    }
}

/* ---- the library's lines never reach a client ------------------------ */

#define SMALL_REQUEST "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789"

/* The bytes a client receives for a small request, read to the end; the
 * connection is left open if keep_fd is given (a client that has not
 * closed yet keeps the server's drain, and its place, busy). */
static char *bytes_received(int port, int *keep_fd)
{
    int fd = client_connect(AF_INET, port);
    struct reply r;
    cr_expect_eq(client_send(fd, SMALL_REQUEST, strlen(SMALL_REQUEST)), 0);
    client_read_reply(fd, &r);
    char *bytes = strndup(r.data ? r.data : "", r.len);
    reply_free(&r);
    if (keep_fd)
        *keep_fd = fd;
    else
        close(fd);
    return bytes;
}

/* A daemon that closed stderr and accepted its clients onto descriptor 2,
 * with every line the library can write at debug, and the capacity
 * warning (one place, taken by a client that has not closed). */
Test(processes, log_lines_never_reach_a_client_accepted_on_fd_2)
{
    const char *const args[] = { "--connections", "2", NULL };
    const char *const env[] = { "LINGERCLOSE_LOG=debug", "LINGERCLOSE_MAX_SOCKETS=1", NULL };
    for (int preload = 1; preload >= 0; preload--) {
        struct server s;
        pattern_start(&s, "stderr-closed", preload, args, env);
        int first_fd;
        char *first = bytes_received(s.port, &first_fd);
        char *second = bytes_received(s.port, NULL);
        close(first_fd);
        cr_expect_str_eq(first, EARLY_ERROR_RESPONSE, "the first client got (library %s): %s",
                         preload ? "on" : "off", first);
        cr_expect_str_eq(second, EARLY_ERROR_RESPONSE, "the second client got (library %s): %s",
                         preload ? "on" : "off", second);
        cr_expect_eq(server_wait(&s, 10000), 0, "the server failed");
        free(first);
        free(second);
    }
}

/* An inetd service with the connection on 0, 1 and 2 (as xinetd starts
 * them): the library's start-up, decision and exit lines at debug must
 * not be written to the client. */
Test(processes, log_lines_never_reach_an_inetd_client_on_stderr)
{
    char service[4096];
    snprintf(service, sizeof service, "%s/stdio-service", getenv("LC_PATTERNS_DIR"));
    for (int preload = 1; preload >= 0; preload--) {
        const char *args[16] = { "--connections", "2", "--stderr-too" };
        size_t argc = 3;
        if (preload)
            argc = library_in_service_args(args, argc);
        args[argc++] = "--";
        args[argc++] = service;
        args[argc++] = "--end=exit";
        args[argc] = NULL;
        struct server s;
        pattern_start(&s, "inetd-wrapper", false, args, NULL);
        for (int i = 0; i < 2; i++) {
            char *bytes = bytes_received(s.port, NULL);
            cr_expect_str_eq(bytes, EARLY_ERROR_RESPONSE, "the client got (library %s): %s",
                             preload ? "on" : "off", bytes);
            free(bytes);
        }
        cr_expect_eq(server_wait(&s, 20000), 0, "the wrapper or a service failed");
    }
}

/* ---- a child running in the parent's memory ------------------------- */

static char *clone_vfork_run(bool preload, char **reply_text)
{
    const char *const env[] = { "LINGERCLOSE_LOG=debug", NULL };
    struct server s;
    pattern_start(&s, "clone-vfork", preload, NULL, env);
    int fd = client_connect(AF_INET, s.port);
    cr_expect_eq(client_send(fd, "one\ntwo\n", 8), 0);
    struct reply r;
    client_read_reply(fd, &r);
    close(fd);
    *reply_text = strndup(r.data ? r.data : "", r.len);
    reply_free(&r);
    cr_expect_eq(server_wait(&s, 10000), 0, "the server failed: %s", server_stderr(&s));
    return server_stderr(&s);
}

/* A clone(CLONE_VM | CLONE_VFORK) child that fails to exec and calls
 * _exit() runs the library's hooks in its parent's memory: they must pass
 * straight through, or its "exit" lingers on the parent's connection
 * (FIN sent, unread input discarded) while the parent still uses it. */
Test(processes, clone_vm_child_leaves_the_parents_connections_alone)
{
    char *with_reply, *without_reply;
    char *with_log = clone_vfork_run(true, &with_reply);
    char *without_log = clone_vfork_run(false, &without_reply);
    char *with_obs = observations(with_log), *without_obs = observations(without_log);
    cr_expect_str_eq(with_obs, "helper_status 127\nsecond_line two\nanswer written\n", "%s", with_log);
    cr_expect_str_eq(with_obs, without_obs);
    cr_expect_str_eq(with_reply, "ok\n");
    cr_expect_eq(count_lines_with(with_log, "_exit: close("), 0,
                 "the child's _exit decided on the parent's sockets: %s", with_log);
    free(with_obs);
    free(without_obs);
    free(with_reply);
    free(without_reply);
    free(with_log);
    free(without_log);
}

/* ---- _exit() on a small stack --------------------------------------- */

/* The exit path (the connection's lingering, its debug lines, the last
 * write of a statistics file) fits in MINSIGSTKSZ (2048) bytes of stack,
 * the least a signal handler's alternate stack may have: _exit() there
 * neither overflows it nor loses the early answer. */
Test(processes, exit_path_fits_in_minsigstksz)
{
    char dir[] = "/tmp/lc-small-stack.XXXXXX";
    cr_assert(mkdtemp(dir), "mkdtemp");
    char stats[sizeof dir + 32], stats_env[sizeof stats + 32];
    snprintf(stats, sizeof stats, "%s/stats.prom", dir);
    snprintf(stats_env, sizeof stats_env, "LINGERCLOSE_STATS_FILE=%s", stats);
    const char *const env[] = { stats_env, "LINGERCLOSE_STATS_INTERVAL=0", "LINGERCLOSE_LOG=debug",
                                "LD_BIND_NOW=1", NULL };
    /* A sanitizer's runtime, loaded first in sanitizer builds, needs far
     * more stack of its own: there only the behaviour is checked. */
    bool runtime_first = getenv("LC_PRELOAD_FIRST") && *getenv("LC_PRELOAD_FIRST");
    const char *const args[] = { "--stack", runtime_first ? "1048576" : "2048", NULL };
    struct server s;
    pattern_start(&s, "exit-small-stack", true, args, env);
    struct reply r;
    client_upload(AF_INET, s.port, 1000 * 1000, &r);
    int status = server_wait(&s, 10000);
    char *log = server_stderr(&s);
    cr_expect_eq(status, 0, "the server did not end with _exit(0) (status %d): %s", status, log);
    cr_expect(reply_is_early_error(&r), "the early answer was lost: %s", log);
    cr_expect_eq(count_lines_with(log, "_exit: close("), 2, "the exit path did not decide: %s", log);
    unlink(stats);
    rmdir(dir);
    reply_free(&r);
    free(log);
}
