/* SPDX-License-Identifier: MIT */
/* Conformance, descriptors: every way a program gives a connection more
 * than one number (dup, dup2, dup3, F_DUPFD, F_DUPFD_CLOEXEC, fcntl64, a
 * stdio stream pair), replaces it (dup2 onto it) or sweeps it away
 * (close_range, closefrom, a close() loop). Each runs the real pattern
 * program both ways: with the library the early-error response arrives and
 * the log says which close was plain and which lingered; without it the
 * same client loses the response, so the test can fail. What the program
 * itself observes must be the same both ways. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

/* Uploads per run: enough for one to be lost without the library. */
#define TRIES 3
/* The sweep patterns serve two connections: the second shows the sweep
 * of the first left the library working. */
#define SWEPT_CONNECTIONS 2
#define UPLOAD_BYTES (1000 * 1000)
#define SERVER_EXIT_TIMEOUT_MS 15000

static const char *const debug_log[] = { "LINGERCLOSE_LOG=debug", NULL };

struct outcome {
    int lost;   /* uploads whose early-error response did not arrive */
    int status; /* the pattern's exit status */
    char *log;  /* its stderr */
    char *obs;  /* its observations */
};

static void outcome_free(struct outcome *o)
{
    free(o->log);
    free(o->obs);
}

/* Starts pattern `name` (with `how_arg`, may be NULL), sends it
 * `connections` uploads one after the other, lets it exit. */
static struct outcome serve_uploads(const char *name, const char *how_arg, bool preload,
                                    int connections)
{
    char count[16];
    snprintf(count, sizeof count, "%d", connections);
    const char *args[] = { "--connections", count, how_arg, NULL };
    struct server s;
    pattern_start(&s, name, preload, args, debug_log);
    struct outcome o = { 0 };
    for (int i = 0; i < connections; i++) {
        struct reply r;
        client_upload(AF_INET, s.port, UPLOAD_BYTES, &r);
        if (!reply_is_early_error(&r))
            o.lost++;
        reply_free(&r);
    }
    o.status = server_wait(&s, SERVER_EXIT_TIMEOUT_MS);
    o.log = server_stderr(&s);
    o.obs = observations(o.log);
    unlink(s.stderr_path);
    return o;
}

/* Exactly `expected` lines "debug: CALL(FD): DECISION...". */
static void expect_decisions(const char *log, int expected, const char *call, int fd,
                             const char *decision)
{
    char needle[128];
    snprintf(needle, sizeof needle, "debug: %s(%d): %s", call, fd, decision);
    cr_expect_eq(count_lines_with(log, needle), expected, "%d lines with '%s' (expected %d) in:\n%s",
                 count_lines_with(log, needle), needle, expected, log);
}

/* The library's run answered every client; the run without it lost at
 * least one (else the scenario proves nothing); both exited cleanly. */
static void expect_fixed(const struct outcome *with, const struct outcome *without, int tries)
{
    cr_expect_eq(with->status, 0, "the pattern failed with the library:\n%s", with->log);
    cr_expect_eq(without->status, 0, "the pattern failed without the library:\n%s", without->log);
    cr_expect_eq(with->lost, 0, "%d of %d responses lost with the library:\n%s", with->lost, tries,
                 with->log);
    cr_expect_gt(without->lost, 0,
                 "no response lost without the library: the test proves nothing");
}

static void expect_same_observations(const char *with, const char *without)
{
    cr_expect_str_eq(with, without, "the program saw something else with the library:\n"
                                    "--- with:\n%s--- without:\n%s",
                     with, without);
}

/* ---- dup, dup2, dup3, F_DUPFD ------------------------------------------ */

/* The original is closed first: one holder of two, plain; the copy last:
 * it lingers. */
static void expect_last_duplicate_lingers(const char *how_arg)
{
    struct outcome with = serve_uploads("dup", how_arg, true, TRIES);
    struct outcome without = serve_uploads("dup", how_arg, false, TRIES);
    expect_fixed(&with, &without, TRIES);

    int original = -1, copy = -1;
    cr_assert_eq(sscanf(with.obs, "connection original=%d duplicate=%d", &original, &copy), 2,
                 "no connection observed:\n%s", with.log);
    expect_decisions(with.log, TRIES, "close", original, "plain (shared)");
    expect_decisions(with.log, TRIES, "close", copy, "lingering (");
    cr_expect_eq(count_lines_with(with.log, "): lingering"), TRIES,
                 "other closes lingered:\n%s", with.log);
    char shared[64], lingering[64];
    snprintf(shared, sizeof shared, "close(%d): plain (shared)", original);
    snprintf(lingering, sizeof lingering, "close(%d): lingering", copy);
    const char *first_shared = strstr(with.log, shared);
    const char *first_lingering = strstr(with.log, lingering);
    cr_expect(first_shared && first_lingering && first_shared < first_lingering,
              "the plain close of the original is not logged before the copy's linger:\n%s",
              with.log);
    expect_same_observations(with.obs, without.obs);
    outcome_free(&with);
    outcome_free(&without);
}

TestSuite(fds, .timeout = 120);

Test(fds, dup_last_close_lingers)
{
    expect_last_duplicate_lingers("--how=dup");
}

Test(fds, dup2_last_close_lingers)
{
    expect_last_duplicate_lingers("--how=dup2");
}

Test(fds, dup3_cloexec_last_close_lingers)
{
    expect_last_duplicate_lingers("--how=dup3");
}

Test(fds, fcntl_dupfd_last_close_lingers)
{
    expect_last_duplicate_lingers("--how=fcntl-dupfd");
}

Test(fds, fcntl_dupfd_cloexec_last_close_lingers)
{
    expect_last_duplicate_lingers("--how=fcntl-dupfd-cloexec");
}

Test(fds, fcntl64_dupfd_last_close_lingers)
{
    expect_last_duplicate_lingers("--how=fcntl64-dupfd");
}

/* dup3 with flags it refuses fails without closing anything: the library
 * must not decide on the socket there (its FIN would cut the answer that
 * follows), only at the real close. */
Test(fds, refused_dup3_closes_nothing)
{
    struct outcome with = serve_uploads("dup", "--how=dup3-refused", true, TRIES);
    struct outcome without = serve_uploads("dup", "--how=dup3-refused", false, TRIES);
    expect_fixed(&with, &without, TRIES);
    cr_expect_eq(count_lines_with(with.log, "debug: dup3("), 0,
                 "a refused dup3 was decided on as a close:\n%s", with.log);
    cr_expect_eq(count_lines_with(with.log, "debug: close("), TRIES, "%s", with.log);
    expect_same_observations(with.obs, without.obs);
    outcome_free(&with);
    outcome_free(&without);
}

/* dup2(/dev/null, socket) drops the socket's only descriptor: that is
 * its close, and lingers; the later close() of the number closes
 * /dev/null and must not be taken for the socket. */
Test(fds, dup2_onto_socket_is_a_lingering_close)
{
    struct outcome with = serve_uploads("dup", "--how=dup2-onto", true, TRIES);
    struct outcome without = serve_uploads("dup", "--how=dup2-onto", false, TRIES);
    expect_fixed(&with, &without, TRIES);

    int socket_fd = -1, devnull = -1;
    cr_assert_eq(sscanf(with.obs, "connection socket=%d devnull=%d", &socket_fd, &devnull), 2,
                 "no connection observed:\n%s", with.log);
    expect_decisions(with.log, TRIES, "dup2", socket_fd, "lingering (");
    cr_expect_eq(count_lines_with(with.log, "debug: close("), 0,
                 "a close of /dev/null was decided on as a socket's:\n%s", with.log);
    cr_expect_eq(count_lines_with(with.log, "): lingering"), TRIES, "other closes lingered:\n%s",
                 with.log);
    expect_same_observations(with.obs, without.obs);
    outcome_free(&with);
    outcome_free(&without);
}

/* ---- stdio -------------------------------------------------------------- */

/* fclose(in) is one holder of two: plain. fclose(out) is the last: its
 * buffered answer must leave before the FIN, then it lingers. Were the
 * buffer flushed after the shutdown, the answer would be lost. */
Test(fds, fclose_pair_lingers_on_last_fclose)
{
    struct outcome with = serve_uploads("fclose", NULL, true, TRIES);
    struct outcome without = serve_uploads("fclose", NULL, false, TRIES);
    expect_fixed(&with, &without, TRIES);

    int in = -1, out = -1;
    cr_assert_eq(sscanf(with.obs, "connection in=%d out=%d", &in, &out), 2,
                 "no connection observed:\n%s", with.log);
    expect_decisions(with.log, TRIES, "fclose", in, "plain (shared)");
    expect_decisions(with.log, TRIES, "fclose", out, "lingering (");
    cr_expect_eq(count_lines_with(with.log, "): lingering"), TRIES, "other closes lingered:\n%s",
                 with.log);
    expect_same_observations(with.obs, without.obs);
    outcome_free(&with);
    outcome_free(&without);
}

/* ---- sweeps ------------------------------------------------------------- */

/* Each connection is swept away from its own number up; `logged_as` names
 * the call the library logs for it, `after_sweep` what the pattern then
 * finds open. Both connections linger: the library's
 * hand-off descriptor, inside every swept range, survived the first. The
 * outcomes are returned for the caller's own checks. */
static void expect_sweep_lingers(const char *how_arg, const char *logged_as,
                                 const char *after_sweep, struct outcome *with_out,
                                 struct outcome *without_out)
{
    struct outcome with = serve_uploads("closefrom", how_arg, true, SWEPT_CONNECTIONS);
    struct outcome without = serve_uploads("closefrom", how_arg, false, SWEPT_CONNECTIONS);
    expect_fixed(&with, &without, SWEPT_CONNECTIONS);

    int connection = -1;
    cr_assert_eq(sscanf(with.obs, "swept connection=%d", &connection), 1,
                 "no sweep observed:\n%s", with.log);
    expect_decisions(with.log, SWEPT_CONNECTIONS, logged_as, connection, "lingering (");
    cr_expect_eq(count_lines_with(with.log, "): lingering"), SWEPT_CONNECTIONS,
                 "other closes lingered:\n%s", with.log);
    cr_expect_eq(count_lines_with(with.log, "plain (unavailable)"), 0,
                 "the sweep broke the hand-off:\n%s", with.log);
    /* What the sweep closed, and that the next socket() gets the number it
     * would get without the library. */
    cr_expect_eq(count_lines_with(with.obs, after_sweep), SWEPT_CONNECTIONS,
                 "expected '%s' after each sweep:\n%s", after_sweep, with.obs);
    expect_same_observations(with.obs, without.obs);

    if (with_out && without_out) {
        *with_out = with;
        *without_out = without;
    } else {
        outcome_free(&with);
        outcome_free(&without);
    }
}

/* On a kernel without close_range the program's sweep closes nothing and
 * the program carries on with its connection (here: a close() loop): the
 * library must not have shut it down or handed it to the drain for a call
 * that did nothing. Runs under tests/limits/old-kernel.sh. */
Test(fds, close_range_the_kernel_lacks_touches_nothing)
{
    if (kernel_has_close_range())
        cr_skip_test("the kernel has close_range: tests/limits/old-kernel.sh runs this without");
    struct outcome with =
        serve_uploads("closefrom", "--how=close_range-or-loop", true, SWEPT_CONNECTIONS);
    struct outcome without =
        serve_uploads("closefrom", "--how=close_range-or-loop", false, SWEPT_CONNECTIONS);
    expect_fixed(&with, &without, SWEPT_CONNECTIONS);
    cr_expect_eq(count_lines_with(with.obs, "writable_after_failed_sweep yes"), SWEPT_CONNECTIONS,
                 "a close_range the kernel refused shut the connection down:\n%s", with.obs);
    cr_expect_eq(count_lines_with(with.log, "debug: close_range("), 0,
                 "the library acted on a close_range the kernel refused:\n%s", with.log);
    expect_same_observations(with.obs, without.obs);
    outcome_free(&with);
    outcome_free(&without);
}

#define ALL_SWEPT "after_sweep connection=EBADF log=EBADF top=EBADF"

Test(fds, close_range_lingers_and_spares_library_fd)
{
    if (!kernel_has_close_range())
        cr_skip_test("the kernel has no close_range (Linux 5.9)");
    expect_sweep_lingers("--how=close_range", "close_range", ALL_SWEPT, NULL, NULL);
}

Test(fds, closefrom_lingers_and_spares_library_fd)
{
    expect_sweep_lingers("--how=closefrom", "closefrom", ALL_SWEPT, NULL, NULL);
}

/* Tens of thousands of close() calls, nearly all on numbers that are not
 * open, one of them on the library's own: it stays invisible (EBADF, so
 * the loop closes as many as without the library: "loop_closed" is
 * compared), and the log does not get a line per number. What such a loop
 * costs is bench/close-cost's "not_open" figure. */
Test(fds, close_loop_lingers_quietly)
{
    struct outcome with, without;
    expect_sweep_lingers("--how=close-loop", "close", ALL_SWEPT, &with, &without);

    cr_expect_lt(count_lines_with(with.log, "lingerclose["), 20,
                 "the library logged per closed number:\n%.4000s", with.log);
    /* The first loop also closes whatever the test runner let the pattern
     * inherit; by the last one only the connection, the log and the top are
     * left to close. */
    const char *last_loop = NULL;
    for (const char *p = with.obs; (p = strstr(p, "loop_closed ")); p++)
        last_loop = p;
    cr_expect(last_loop && atoi(last_loop + 12) == 3,
              "the last loop did not close exactly the connection, the log and the top:\n%s",
              with.obs);
    outcome_free(&with);
    outcome_free(&without);
}

/* CLOSE_RANGE_CLOEXEC closes nothing: the close() that follows ends the
 * connection and lingers. */
Test(fds, close_range_cloexec_then_close_lingers)
{
    expect_sweep_lingers("--how=close_range-cloexec", "close",
                         "after_sweep connection=EBADF log=open top=open", NULL, NULL);
}

/* ---- what the program sees ---------------------------------------------- */

/* The numbers socket/accept/open/pipe return around lingering closes, the
 * errors of bad closes, dup2(fd, fd), fcntl on a closed number, epoll
 * after a number is reused at once, a forked child's view: identical with
 * and without the library, while the library did linger. */
Test(fds, transparency_same_observations)
{
    struct server s;
    pattern_start(&s, "transparency", true, NULL, debug_log);
    int with_status = server_wait(&s, SERVER_EXIT_TIMEOUT_MS);
    char *with_log = server_stderr(&s);
    unlink(s.stderr_path);
    pattern_start(&s, "transparency", false, NULL, debug_log);
    int without_status = server_wait(&s, SERVER_EXIT_TIMEOUT_MS);
    char *without_log = server_stderr(&s);
    unlink(s.stderr_path);
    char *with = observations(with_log), *without = observations(without_log);

    cr_expect_eq(with_status, 0, "the pattern failed with the library:\n%s", with_log);
    cr_expect_eq(without_status, 0, "the pattern failed without the library:\n%s", without_log);
    /* Three uploads closed with input unread: first, second, epoll. */
    cr_expect_eq(count_lines_with(with_log, "): lingering (unread-input"), 3,
                 "the closes did not linger, the comparison proves little:\n%s", with_log);
    cr_expect_eq(count_lines_with(with, "epoll_new_socket"), 1, "no epoll check:\n%s", with);
    cr_expect_eq(count_lines_with(with, "reuses_closed_number=1"), 1,
                 "the new socket did not get the lingered number:\n%s", with);
    cr_expect_eq(count_lines_with(with, "old:"), 1,
                 "the lingering socket was reported by epoll after its close:\n%s", with);
    cr_expect_eq(count_lines_with(with, "child_status exited 7"), 1, "%s", with);
    expect_same_observations(with, without);
    free(with);
    free(without);
    free(with_log);
    free(without_log);
}

/* ---- only TCP lingers ----------------------------------------------- */

/* A unix-domain connection accepted with accept() and closed with input
 * unread: its client sees the answer, then ECONNRESET, as without the
 * library; a lingering close would turn that into an EOF. */
Test(fds, accepted_unix_socket_closes_plainly)
{
    const char *const env[] = { "LINGERCLOSE_LOG=debug", NULL };
    char *logs[2];
    for (int preload = 1; preload >= 0; preload--) {
        struct server s;
        pattern_start(&s, "unix-accept", preload, NULL, env);
        cr_expect_eq(server_wait(&s, 10000), 0, "the server failed: %s", server_stderr(&s));
        logs[preload] = server_stderr(&s);
    }
    char *with = observations(logs[1]), *without = observations(logs[0]);
    cr_expect_str_eq(without, "client_read answer+reset\n", "%s", logs[0]);
    expect_same_observations(with, without);
    cr_expect_eq(count_lines_with(logs[1], "): lingering"), 0, "%s", logs[1]);
    free(with);
    free(without);
    free(logs[0]);
    free(logs[1]);
}
