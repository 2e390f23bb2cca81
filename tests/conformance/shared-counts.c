/* SPDX-License-Identifier: MIT */
/* Conformance: the holder counts that processes forked from one another
 * share, against the two ways they can go wrong from outside the process
 * that reads them: a worker that writes garbage into them, and a helper
 * whose exec() fails after it gave its holds back.
 * Real servers (tests/conformance/patterns/hostile-worker, tests/conformance/patterns/failed-exec),
 * real connections over loopback. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define UPLOAD_BYTES (1000 * 1000)
#define SMALL_REQUEST "GET / HTTP/1.1\r\nHost: test\r\n\r\n"
#define LINGERING ": lingering ("
#define SHARED ": plain (shared)"
#define CORRUPT "holder counts shared with forked processes found corrupt"

TestSuite(shared_counts, .timeout = 120);

/* Lines the library logged in process pid whose message starts with
 * message_start and contains needle. */
static int library_lines_of(const char *log, int pid, const char *message_start, const char *needle)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "lingerclose[%d]: %s", pid, message_start);
    return count_lines_with_both(log, prefix, needle);
}

static int role_pid(const char *log, const char *role)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "ROLE %s ", role);
    const char *line = strstr(log, prefix);
    cr_assert_not_null(line, "no ROLE %s line in: %s", role, log);
    return atoi(line + strlen(prefix));
}

static bool small_request_answered(int fd)
{
    struct reply r = { 0 };
    bool answered = client_send(fd, SMALL_REQUEST, strlen(SMALL_REQUEST)) == 0;
    if (answered) {
        client_read_reply(fd, &r);
        answered = reply_is_early_error(&r);
    }
    reply_free(&r);
    return answered;
}

/* A worker that dropped its privileges scribbles over the counts; the
 * server then forks, closes, duplicates as before: it must neither crash
 * nor stop answering, and says once what it found. */
Test(shared_counts, a_scribbling_worker_cannot_break_its_server)
{
    const int connections = 4;
    const char *const args[] = { "--connections=4", NULL };
    struct server s;
    pattern_start(&s, "hostile-worker", true, args, NULL);
    int answered = 0;
    for (int c = 0; c <= connections; c++) {
        int fd = client_connect(AF_INET, s.port);
        answered += small_request_answered(fd);
        close(fd);
    }
    cr_expect_eq(answered, connections + 1, "the server stopped answering");
    cr_expect_eq(server_wait(&s, 20000), 0, "the server did not end well");
    char *log = server_stderr(&s);
    cr_expect_eq(count_lines_with(log, "OBS served 5"), 1, "%s", log);
    cr_expect_eq(count_lines_with(log, "OBS scribbled "), 1, "%s", log);
    cr_expect_eq(count_lines_with(log, "OBS scribbled 0"), 0, "nothing to scribble on: %s", log);
    int server = role_pid(log, "server");
    cr_expect_eq(library_lines_of(log, server, "", CORRUPT), 1,
                 "the server must say once what it found: %s", log);
    cr_expect_eq(count_lines_with(log, "runtime error"), 0, "%s", log);
    cr_expect_eq(count_lines_with(log, "ERROR: AddressSanitizer"), 0, "%s", log);
    free(log);
}

/* The helper's exec() fails after the server closed A and B took A's
 * record: the helper must not count itself on B's record (B's last close
 * lingers, its early error arrives), and its own close of A is plain, for
 * nobody can count A's holders any more. */
Test(shared_counts, a_failed_exec_does_not_take_back_a_recycled_record)
{
    const char *first = getenv("LC_PRELOAD_FIRST");
    const char *library = getenv("LC_LIBRARY");
    const char *pause = getenv("LC_EXEC_PAUSE");
    cr_assert(library && pause, "LC_LIBRARY and LC_EXEC_PAUSE must be set");
    char preload[4096];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s%s%s:%s", first && *first ? first : "",
             first && *first ? ":" : "", library, pause);
    const char *const env[] = { preload, "LINGERCLOSE_LOG=debug", NULL };
    struct server s;
    pattern_start(&s, "failed-exec", false, NULL, env);

    int a = client_connect(AF_INET, s.port);
    int b = client_connect(AF_INET, s.port);
    struct reply r;
    client_upload_over(b, UPLOAD_BYTES, &r);
    cr_expect(reply_is_early_error(&r), "B's early error was lost (write %d, read %d)",
              r.write_errno, r.read_errno);
    reply_free(&r);
    close(b);
    close(a);
    cr_expect_eq(server_wait(&s, 20000), 0);

    char *log = server_stderr(&s);
    int server = role_pid(log, "server");
    int helper = role_pid(log, "helper");
    cr_expect_eq(library_lines_of(log, server, "debug: close(", SHARED), 1, "only B's first close is shared: %s",
                 log);
    cr_expect_eq(library_lines_of(log, server, "debug: close(", LINGERING), 2,
                 "A's close in the window and B's last close linger: %s", log);
    cr_expect_eq(library_lines_of(log, helper, "debug: close(", ""), 1, "%s", log);
    cr_expect_eq(library_lines_of(log, helper, "debug: close(", SHARED), 1,
                 "the helper's close of A must be plain: %s", log);
    cr_expect_eq(count_lines_with(log, CORRUPT), 0, "a failed exec is no corruption: %s", log);
    free(log);
}
