/* SPDX-License-Identifier: MIT */
/* Conformance, libuv: the pattern program patterns/libuv (built when
 * libuv1-dev is installed) lets libuv create, accept and close its
 * sockets, which it closes with syscall(SYS_close). Early answers on new
 * and on keep-alive connections with pipelined requests arrive with the
 * library and are lost without it; what the program observes (descriptor
 * numbers, reused at once; its epoll set) is the same both ways; a
 * connection a spawned helper still holds is not lingered. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define TRIES 3
#define UPLOAD_BYTES (1000 * 1000)
#define SERVER_EXIT_TIMEOUT_MS 15000
#define LINGERING ": lingering ("
#define GET "GET / HTTP/1.1\r\nHost: test\r\n\r\n"
#define KEEP_ALIVE_RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"

static const char *const debug_log[] = { "LINGERCLOSE_LOG=debug", NULL };

static void skip_without_libuv(void)
{
    char program[4096];
    const char *dir = getenv("LC_PATTERNS_DIR");
    snprintf(program, sizeof program, "%s/libuv", dir ? dir : ".");
    if (access(program, X_OK) != 0)
        cr_skip_test("libuv1-dev was not installed when the tests were configured: no libuv "
                     "program to run (./bootstrap --tests installs it as root, then ./configure)");
}

enum exchange { NEW_CONNECTION_UPLOAD, PIPELINED_THEN_UPLOAD, CONNECTION_CLOSE, HELPER_UPLOAD };

/* Whether the exchange's whole answer arrived. */
static bool exchange_once(enum exchange how, int port)
{
    struct reply r = { 0 };
    bool ok;
    int fd = client_connect(AF_INET, port);
    switch (how) {
    case NEW_CONNECTION_UPLOAD:
        client_upload_over(fd, UPLOAD_BYTES, &r);
        ok = reply_is_early_error(&r);
        break;
    case PIPELINED_THEN_UPLOAD:
        /* Two requests in one segment, answered on the kept-alive
         * connection, before the upload that is answered early. */
        r.write_errno = client_send(fd, GET GET, strlen(GET GET));
        if (!r.write_errno)
            client_upload_over(fd, UPLOAD_BYTES, &r);
        ok = !r.write_errno && !r.read_errno && r.data &&
             strcmp(r.data, KEEP_ALIVE_RESPONSE KEEP_ALIVE_RESPONSE EARLY_ERROR_RESPONSE) == 0;
        break;
    case CONNECTION_CLOSE: {
        static const char request[] = "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
        r.write_errno = client_send(fd, request, strlen(request));
        if (!r.write_errno)
            client_read_reply(fd, &r);
        ok = !r.write_errno && !r.read_errno && r.data &&
             strcmp(r.data, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nok\n") ==
                 0;
        break;
    }
    case HELPER_UPLOAD:
    default: {
        char head[128];
        snprintf(head, sizeof head, "POST /helper HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n",
                 UPLOAD_BYTES);
        upload(fd, head, UPLOAD_BYTES, 65536, 65536, &r);
        ok = reply_is_early_error(&r);
        break;
    }
    }
    reply_free(&r);
    close(fd);
    return ok;
}

struct outcome {
    int lost;
    int status;
    char *log;
    char *obs;
};

static struct outcome run(enum exchange how, bool preload)
{
    char count[16];
    snprintf(count, sizeof count, "%d", TRIES);
    const char *args[] = { "--connections", count, how == HELPER_UPLOAD ? "--helper" : NULL, NULL };
    struct server s;
    pattern_start(&s, "libuv", preload, args, debug_log);
    struct outcome o = { 0 };
    for (int i = 0; i < TRIES; i++)
        if (!exchange_once(how, s.port))
            o.lost++;
    o.status = server_wait(&s, SERVER_EXIT_TIMEOUT_MS);
    o.log = server_stderr(&s);
    o.obs = observations(o.log);
    unlink(s.stderr_path);
    return o;
}

static void outcome_free(struct outcome *o)
{
    free(o->log);
    free(o->obs);
}

static void expect_conformance(const struct outcome *with, const struct outcome *without)
{
    cr_expect_eq(with->status, 0, "the libuv program failed with the library:\n%s", with->log);
    cr_expect_eq(without->status, 0, "the libuv program failed without the library:\n%s",
                 without->log);
    cr_expect_str_eq(with->obs, without->obs,
                     "the libuv program saw something else with the library:\n"
                     "--- with:\n%s--- without:\n%s",
                     with->obs, without->obs);
    cr_expect_eq(count_lines_with(with->obs, "stale_epoll_registrations=0"), TRIES,
                 "libuv's epoll set kept a registration for a closed number:\n%s", with->obs);
}

/* Fixed: every answer arrives with the library, each close lingered, and
 * some are lost without it. */
static void expect_fixed(enum exchange how)
{
    struct outcome with = run(how, true), without = run(how, false);
    expect_conformance(&with, &without);
    cr_expect_eq(with.lost, 0, "%d of %d answers lost with the library:\n%s", with.lost, TRIES,
                 with.log);
    cr_expect_eq(count_lines_with(with.log, LINGERING), TRIES,
                 "libuv's closes did not all linger:\n%s", with.log);
    cr_expect_gt(without.lost, 0, "no answer lost without the library: the test proves nothing");
    outcome_free(&with);
    outcome_free(&without);
}

TestSuite(libuv, .timeout = 120, .init = skip_without_libuv);

Test(libuv, early_answer_on_new_connections_arrives)
{
    expect_fixed(NEW_CONNECTION_UPLOAD);
}

Test(libuv, early_answer_after_pipelined_keep_alive_requests_arrives)
{
    expect_fixed(PIPELINED_THEN_UPLOAD);
}

/* Closed from the write callback after a complete exchange: nothing is
 * lost either way, and the program sees the same. */
Test(libuv, connection_close_answer_arrives_both_ways)
{
    struct outcome with = run(CONNECTION_CLOSE, true), without = run(CONNECTION_CLOSE, false);
    expect_conformance(&with, &without);
    cr_expect_eq(with.lost, 0, "%s", with.log);
    cr_expect_eq(without.lost, 0, "%s", without.log);
    outcome_free(&with);
    outcome_free(&without);
}

/* A helper started with uv_spawn holds the connection and answers on it
 * after the server closed its copy: that close must not linger (its FIN
 * would reach the client before the helper's answer). */
Test(libuv, connection_held_by_a_spawned_helper_is_not_lingered)
{
    struct outcome with = run(HELPER_UPLOAD, true), without = run(HELPER_UPLOAD, false);
    expect_conformance(&with, &without);
    cr_expect_eq(with.lost, 0, "%s", with.log);
    cr_expect_eq(without.lost, 0, "%s", without.log);
    cr_expect_eq(count_lines_with(with.log, LINGERING), 0, "%s", with.log);
    outcome_free(&with);
    outcome_free(&without);
}
