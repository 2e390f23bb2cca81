/* SPDX-License-Identifier: MIT */
/* Real servers, real clients, loopback. Every scenario in which the library
 * changes the outcome runs both ways: with it the client gets its response,
 * without it the same client loses it (so the test can fail). */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define TRIES 4
#define PIPELINE_RESPONSE_BYTES (8u << 20)
#define BIG_RESPONSE_BYTES (8u << 20)

static char connections_arg[16];

static const char *const *serve(const char *scenario, const char *extra)
{
    static const char *args[8];
    snprintf(connections_arg, sizeof connections_arg, "%d", TRIES);
    args[0] = "--scenario";
    args[1] = scenario;
    args[2] = "--connections";
    args[3] = connections_arg;
    args[4] = extra;
    args[5] = NULL;
    return args;
}

/* How many of TRIES uploads lost their early-error response. */
static int lost_uploads(bool preload, const char *scenario, const char *family_arg,
                        size_t body_bytes)
{
    struct server s;
    server_start(&s, preload, serve(scenario, family_arg), NULL);
    int lost = 0;
    for (int i = 0; i < TRIES; i++) {
        struct reply r = { 0 };
        client_upload(s.family, s.port, body_bytes, &r);
        if (!reply_is_early_error(&r))
            lost++;
        reply_free(&r);
    }
    cr_expect_eq(server_wait(&s, 40000), 0, "server failed: %s", server_stderr(&s));
    return lost;
}

static void expect_upload_fixed(const char *scenario, const char *family_arg, size_t body_bytes)
{
    int with = lost_uploads(true, scenario, family_arg, body_bytes);
    int without = lost_uploads(false, scenario, family_arg, body_bytes);
    cr_expect_eq(with, 0, "%zu-byte upload: %d of %d responses lost with the library",
                 body_bytes, with, TRIES);
    cr_expect_gt(without, 0,
                 "%zu-byte upload: no response lost without the library, the test proves "
                 "nothing", body_bytes);
}

TestSuite(scenario, .timeout = 120);

Test(scenario, early_response_to_3k_upload_arrives)
{
    expect_upload_fixed("early-error", NULL, 3 * 1000);
}

Test(scenario, early_response_to_1m_upload_arrives)
{
    expect_upload_fixed("early-error", NULL, 1000 * 1000);
}

Test(scenario, early_response_to_20m_upload_arrives)
{
    expect_upload_fixed("early-error", NULL, 20 * 1000 * 1000);
}

/* Closes that reach the kernel through syscall() rather than close(). */
Test(scenario, early_response_closed_by_syscall_close_arrives)
{
    expect_upload_fixed("syscall-close", NULL, 1000 * 1000);
}

Test(scenario, early_response_closed_by_syscall_close_range_arrives)
{
    if (!kernel_has_close_range())
        cr_skip_test("the kernel has no close_range (Linux 5.9)");
    expect_upload_fixed("syscall-close-range", NULL, 1000 * 1000);
}

Test(scenario, early_response_closed_by_syscall_dup3_arrives)
{
    expect_upload_fixed("syscall-dup3", NULL, 1000 * 1000);
}

/* A copy made through syscall() is a holder: the original's close stays
 * plain, the copy answers, and its close lingers. */
Test(scenario, answer_through_syscall_dup_copy_arrives)
{
    expect_upload_fixed("syscall-dup", NULL, 1000 * 1000);
}

Test(scenario, answer_through_syscall_fcntl_dupfd_copy_arrives)
{
    expect_upload_fixed("syscall-fcntl-dupfd", NULL, 1000 * 1000);
}

/* Sends `first`, then after a short pause `second` (NULL: nothing), then
 * reads the response like a client slower than loopback (so the server
 * closes with part of the response still unsent, whatever the scheduler
 * does); true if all TRIES responses arrived whole. */
static bool sized_reply_arrives(bool preload, const char *scenario, const char *first,
                                const char *second, size_t response_bytes)
{
    struct server s;
    server_start(&s, preload, serve(scenario, NULL), NULL);
    int intact = 0;
    for (int i = 0; i < TRIES; i++) {
        int fd = client_connect(AF_INET, s.port);
        struct reply r = { 0 };
        r.write_errno = client_send(fd, first, strlen(first));
        if (second && !r.write_errno) {
            sleep_ms(5);
            r.write_errno = client_send(fd, second, strlen(second));
        }
        if (!r.write_errno) {
            sleep_ms(50);
            client_read_reply(fd, &r);
        }
        if (reply_is_sized(&r, response_bytes))
            intact++;
        reply_free(&r);
        close(fd);
    }
    cr_expect_eq(server_wait(&s, 40000), 0, "server failed: %s", server_stderr(&s));
    return intact == TRIES;
}

#define FIRST_REQUEST "GET /1 HTTP/1.1\r\nHost: test\r\n\r\n"
#define SECOND_REQUEST "GET /2 HTTP/1.1\r\nHost: test\r\n\r\n"

Test(scenario, first_of_two_pipelined_responses_arrives_whole)
{
    cr_expect(sized_reply_arrives(true, "pipeline", FIRST_REQUEST, SECOND_REQUEST,
                                  PIPELINE_RESPONSE_BYTES),
              "the first response was cut with the library");
    cr_expect(!sized_reply_arrives(false, "pipeline", FIRST_REQUEST, SECOND_REQUEST,
                                   PIPELINE_RESPONSE_BYTES),
              "the first response survived without the library: the test proves nothing");
}

/* A request followed at once by 16 KiB the server will never read. */
static char *request_with_extra_bytes(void)
{
    static char payload[16384 + 64];
    if (!payload[0]) {
        memset(payload, 'y', sizeof payload - 1);
        memcpy(payload, FIRST_REQUEST, strlen(FIRST_REQUEST));
    }
    return payload;
}

Test(scenario, big_response_arrives_whole_despite_unread_input)
{
    cr_expect(sized_reply_arrives(true, "big-response", request_with_extra_bytes(), NULL,
                                  BIG_RESPONSE_BYTES),
              "the 8 MB response was cut with the library");
    cr_expect(!sized_reply_arrives(false, "big-response", request_with_extra_bytes(), NULL,
                                   BIG_RESPONSE_BYTES),
              "the 8 MB response survived without the library: the test proves nothing");
}

Test(scenario, response_arrives_whole_after_shutdown_rdwr_then_close)
{
    cr_expect(sized_reply_arrives(true, "shutdown-rdwr", request_with_extra_bytes(), NULL,
                                  PIPELINE_RESPONSE_BYTES),
              "the response was cut with the library");
    cr_expect(!sized_reply_arrives(false, "shutdown-rdwr", request_with_extra_bytes(), NULL,
                                   PIPELINE_RESPONSE_BYTES),
              "the response survived without the library: the test proves nothing");
}

Test(scenario, early_response_arrives_over_ipv6)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    bool ipv6 = probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof a) == 0;
    if (probe >= 0)
        close(probe);
    if (!ipv6)
        cr_skip_test("no IPv6 loopback on this machine");
    expect_upload_fixed("early-error", "--ipv6", 1000 * 1000);
}

Test(scenario, nonblocking_epoll_server_delivers_early_response)
{
    /* The server itself fails (exit 3) on an epoll event for a closed fd. */
    expect_upload_fixed("nonblocking", NULL, 1000 * 1000);
}

/* D: a client that never closes cannot keep a server socket beyond the
 * idle timeout, nor beyond the total cap by dripping bytes. */
/* Far apart enough that a client dripping every 200 ms stays inside the
 * idle timeout even on a loaded machine. */
#define SHORT_IDLE_MS 1000
#define SHORT_TOTAL_MS 2500
static const char *const short_timeouts[] = {
    "LINGERCLOSE_IDLE_TIMEOUT=1000ms",
    "LINGERCLOSE_TIMEOUT=2500ms",
    NULL,
};

/* Starts an early-error server under the library with short timeouts and
 * gets its answer on a connection the client then keeps open. */
static int open_connection_answered_early(struct server *s)
{
    static const char *const args[] = {
        "--scenario", "early-error", "--connections", "1", NULL,
    };
    server_start(s, true, args, short_timeouts);
    int fd = client_connect(AF_INET, s->port);
    cr_assert_eq(client_send(fd, "POST / HTTP/1.1\r\nContent-Length: 99\r\n\r\nabc", 42), 0);
    char buf[512];
    cr_assert_gt(recv(fd, buf, sizeof buf, 0), 0);
    return fd;
}

Test(scenario, silent_client_released_at_idle_timeout)
{
    struct server s;
    int fd = open_connection_answered_early(&s);
    long long closed_at = now_ms();
    sleep_ms(150);
    cr_expect_gt(server_side_inode(s.port, local_port(fd)), 0,
                 "the server socket was not lingering");
    long long released_at = 0;
    while (now_ms() - closed_at < SHORT_IDLE_MS + 2500) {
        if (server_side_inode(s.port, local_port(fd)) <= 0) {
            released_at = now_ms();
            break;
        }
        sleep_ms(20);
    }
    cr_expect_neq(released_at, 0, "the server socket outlived the idle timeout by > 2.5 s");
    cr_expect_leq(released_at - closed_at, SHORT_IDLE_MS + 400, "released after %lld ms",
                  released_at - closed_at);
    close(fd);
    server_wait(&s, 10000);
}

Test(scenario, dripping_client_released_at_total_cap)
{
    struct server s;
    int fd = open_connection_answered_early(&s);
    long long closed_at = now_ms();
    long long released_at = 0;
    bool held_past_idle = false;
    /* Bounds with room for a loaded machine or a sanitizer build: what
     * matters is that a dripping peer cannot hold the socket for long. */
    while (now_ms() - closed_at < SHORT_TOTAL_MS + 3000) {
        long inode = server_side_inode(s.port, local_port(fd));
        if (inode <= 0) {
            released_at = now_ms();
            break;
        }
        if (now_ms() - closed_at > SHORT_IDLE_MS + 300)
            held_past_idle = true;
        send(fd, "z", 1, MSG_NOSIGNAL); /* one byte, well inside the idle timeout */
        sleep_ms(200);
    }
    cr_expect(held_past_idle, "dripping did not keep the drain past the idle timeout");
    cr_expect_neq(released_at, 0, "the server socket outlived the total cap by > 3 s");
    cr_expect_leq(released_at - closed_at, SHORT_TOTAL_MS + 1500, "released after %lld ms",
                  released_at - closed_at);
    close(fd);
    server_wait(&s, 10000);
}

static const char *const debug_log[] = { "LINGERCLOSE_LOG=debug", NULL };

Test(scenario, clean_close_is_plain)
{
    static const char *const args[] = {
        "--scenario", "clean", "--connections", "1", NULL,
    };
    struct server s;
    server_start(&s, true, args, debug_log);
    int fd = client_connect(AF_INET, s.port);
    cr_assert_eq(client_send(fd, "GET / HTTP/1.1\r\n\r\n", 18), 0);
    shutdown(fd, SHUT_WR);
    struct reply r = { 0 };
    client_read_reply(fd, &r);
    cr_expect(reply_is_early_error(&r), "the response did not arrive (%zu bytes, errno %d)",
              r.len, r.read_errno);
    reply_free(&r);
    close(fd);
    cr_expect_eq(server_wait(&s, 10000), 0);
    char *log = server_stderr(&s);
    cr_expect(strstr(log, "plain (peer-closed)"), "no plain close logged: %s", log);
    cr_expect(!strstr(log, "): lingering"), "a clean close lingered: %s", log);
    free(log);
}

/* LINGERCLOSE_MODE=off: a true pass-through, no thread, no decision. */
Test(scenario, mode_off_is_a_pass_through)
{
    static const char *const args[] = {
        "--scenario", "early-error", "--connections", "1", NULL,
    };
    static const char *const off[] = { "LINGERCLOSE_LOG=debug", "LINGERCLOSE_MODE=off", NULL };
    struct server s;
    server_start(&s, true, args, off);
    struct reply r = { 0 };
    client_upload(AF_INET, s.port, 1000 * 1000, &r);
    cr_expect_not(reply_is_early_error(&r), "the response arrived although the library is off");
    reply_free(&r);
    cr_expect_eq(server_thread_count(&s), 1, "the server has extra threads");
    cr_expect_eq(server_wait(&s, 10000), 0);
    char *log = server_stderr(&s);
    cr_expect(strstr(log, "mode=off"), "no start-up line: %s", log);
    cr_expect(!strstr(log, "close("), "a close was decided on: %s", log);
    cr_expect(!strstr(log, "drain thread started"), "a drain thread started: %s", log);
    free(log);
}

/* F: an app that asked for an abortive close still sends a RST. */
static int read_result_after_abortive_close(const char *scenario, bool preload)
{
    static const char *args[] = { "--scenario", NULL, "--connections", "1", NULL };
    args[1] = scenario;
    struct server s;
    server_start(&s, preload, args, debug_log);
    int fd = client_connect(AF_INET, s.port);
    cr_assert_eq(client_send(fd, "GET / HTTP/1.1\r\n\r\n", 18), 0);
    struct reply r = { 0 };
    client_read_reply(fd, &r);
    reply_free(&r);
    close(fd);
    cr_expect_eq(server_wait(&s, 10000), 0);
    return r.read_errno;
}

Test(scenario, so_linger_zero_still_resets)
{
    cr_expect_eq(read_result_after_abortive_close("abortive", true), ECONNRESET);
    cr_expect_eq(read_result_after_abortive_close("abortive", false), ECONNRESET);
}

Test(scenario, so_linger_zero_inherited_from_listener_still_resets)
{
    cr_expect_eq(read_result_after_abortive_close("abortive-listener", true), ECONNRESET);
    cr_expect_eq(read_result_after_abortive_close("abortive-listener", false), ECONNRESET);
}

/* A connection the peer has reset keeps the input nobody read, but there
 * is nothing left to linger on: the close is plain ("not-connected"), and
 * no drain is started for it. */
Test(scenario, peer_reset_with_unread_input_is_plain)
{
    static const char *const args[] = {
        "--scenario", "slow-close", "--connections", "1", NULL,
    };
    struct server s;
    server_start(&s, true, args, debug_log);
    int fd = client_connect(AF_INET, s.port);
    char request[1000];
    memset(request, 'x', sizeof request);
    cr_assert_eq(client_send(fd, request, sizeof request), 0);
    sleep_ms(50); /* the request is in the server's receive queue */
    struct linger abortive = { .l_onoff = 1, .l_linger = 0 };
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive), 0);
    close(fd);
    cr_expect_eq(server_wait(&s, 10000), 0);
    char *log = server_stderr(&s);
    cr_expect(strstr(log, "plain (not-connected)"), "the close was not plain: %s", log);
    cr_expect(!strstr(log, "): lingering"), "a reset connection lingered: %s", log);
    free(log);
}

/* Bad values are named once each on stderr, and the server works on
 * defaults (the fix still happens). */
Test(scenario, bad_settings_named_once_and_defaults_kept)
{
    static const char *const bad[] = {
        "LINGERCLOSE_MODE=sometimes",
        "LINGERCLOSE_IDLE_TIMEOUT=abc",
        "LINGERCLOSE_TIMEOUT=-5s",
        "LINGERCLOSE_MAX_BYTES=12Q",
        "LINGERCLOSE_MAX_SOCKETS=99999999999999999999",
        "LINGERCLOSE_LOG=loud",
        NULL,
    };
    struct server s;
    server_start(&s, true, serve("early-error", NULL), bad);
    for (int i = 0; i < TRIES; i++) {
        struct reply r = { 0 };
        client_upload(AF_INET, s.port, 1000 * 1000, &r);
        cr_expect(reply_is_early_error(&r), "try %d: response lost", i);
        reply_free(&r);
    }
    cr_expect_eq(server_wait(&s, 40000), 0);
    char *log = server_stderr(&s);
    for (int i = 0; bad[i]; i++) {
        char name[64];
        size_t n = strcspn(bad[i], "=");
        snprintf(name, sizeof name, "%.*s='%s'", (int)n, bad[i], bad[i] + n + 1);
        char *first = strstr(log, name);
        cr_expect(first, "no warning for %s in: %s", bad[i], log);
        cr_expect(!first || !strstr(first + 1, name), "more than one warning for %s", bad[i]);
    }
    free(log);
}

/* The port filters. The test server listens on a port from the
 * kernel's ephemeral range, so lists built from that range select it, and
 * lists of privileged ports leave it out. */
static int uploads_lost_with(const char *const *env)
{
    struct server s;
    server_start(&s, true, serve("early-error", NULL), env);
    int lost = 0;
    for (int i = 0; i < TRIES; i++) {
        struct reply r = { 0 };
        client_upload(AF_INET, s.port, 1000 * 1000, &r);
        if (!reply_is_early_error(&r))
            lost++;
        reply_free(&r);
    }
    cr_expect_eq(server_wait(&s, 40000), 0);
    char *log = server_stderr(&s);
    cr_expect(!strstr(log, "not valid"), "a filter was rejected: %s", log);
    int filtered = count_lines_with(log, "plain (port-filtered)");
    free(log);
    cr_expect(lost == 0 || filtered > 0, "responses lost but no close was filtered");
    return lost;
}

Test(scenario, port_filters_choose_which_ports_linger)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    cr_assert(f);
    unsigned first, last;
    cr_assert_eq(fscanf(f, "%u %u", &first, &last), 2);
    fclose(f);
    cr_assert_gt(first, 1023u);
    static char ephemeral[64], include_ephemeral[96], exclude_ephemeral[96];
    snprintf(ephemeral, sizeof ephemeral, "%u-%u", first, last);
    snprintf(include_ephemeral, sizeof include_ephemeral, "LINGERCLOSE_PORTS=80,443,%s",
             ephemeral);
    snprintf(exclude_ephemeral, sizeof exclude_ephemeral, "LINGERCLOSE_EXCLUDE_PORTS=%s",
             ephemeral);

    const char *const selected[] = { "LINGERCLOSE_LOG=debug", include_ephemeral, NULL };
    const char *const not_selected[] = { "LINGERCLOSE_LOG=debug", "LINGERCLOSE_PORTS=1-1023",
                                         NULL };
    const char *const excluded[] = { "LINGERCLOSE_LOG=debug", include_ephemeral,
                                     exclude_ephemeral, NULL };
    const char *const other_excluded[] = { "LINGERCLOSE_LOG=debug",
                                           "LINGERCLOSE_EXCLUDE_PORTS=5432,6379", NULL };
    cr_expect_eq(uploads_lost_with(selected), 0, "the server's port is listed: none may be lost");
    cr_expect_eq(uploads_lost_with(other_excluded), 0, "other ports excluded: none may be lost");
    cr_expect_eq(uploads_lost_with(not_selected), TRIES, "the server's port is not listed");
    cr_expect_eq(uploads_lost_with(excluded), TRIES, "the server's port is excluded");
}

/* Fork-per-connection servers: the parent closes its copy right after
 * fork() while the child serves the client. The library must leave the
 * parent's copy alone; --naive-parent-shutdown shows what happens to the
 * child's client when it does not. */
static int forked_responses_received(bool preload, bool naive)
{
    static const char *args[8];
    snprintf(connections_arg, sizeof connections_arg, "%d", TRIES);
    const char *base[] = { "--scenario", "fork-per-connection", "--connections",
                           connections_arg, naive ? "--naive-parent-shutdown" : NULL, NULL };
    memcpy(args, base, sizeof base);
    struct server s;
    server_start(&s, preload, args, NULL);
    int received = 0;
    for (int i = 0; i < TRIES; i++) {
        int fd = client_connect(AF_INET, s.port);
        struct reply r = { 0 };
        r.write_errno = client_send(fd, FIRST_REQUEST, strlen(FIRST_REQUEST));
        if (!r.write_errno)
            client_read_reply(fd, &r);
        if (reply_is_early_error(&r))
            received++;
        reply_free(&r);
        close(fd);
    }
    server_wait(&s, 20000);
    return received;
}

Test(ownership, fork_per_connection_child_keeps_its_connection)
{
    cr_expect_eq(forked_responses_received(true, false), TRIES,
                 "the library cut connections served by a child");
    cr_expect_eq(forked_responses_received(false, false), TRIES);
    cr_expect_eq(forked_responses_received(false, true), 0,
                 "a shutdown in the parent did not cut the child's connection: the test "
                 "proves nothing");
}
