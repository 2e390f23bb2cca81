/* SPDX-License-Identifier: MIT */
/* A small server for the integration tests. It knows nothing of
 * lingerclose: each scenario is the way some real server closes a
 * connection. It says "listening on 127.0.0.1:PORT" on stdout once it
 * listens (see progs/progs.h), serves the
 * given number of connections one after the other, waits until its stdin
 * is closed (the test is done with it), and exits 0, or non-zero if
 * something the scenario checks went wrong. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef P_PIDFD
#define LC_P_PIDFD P_PIDFD
#else
#define LC_P_PIDFD 3
#endif

#include "progs/progs.h"

#define BIG_RESPONSE_BYTES (8u << 20)
#define PIPELINE_RESPONSE_BYTES (8u << 20)

/* Headers plus a body of `size` bytes of a repeating pattern, so the client
 * can check every byte. */
static void send_sized_response(int fd, size_t size)
{
    char head[128];
    int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
                     size);
    write_or_die(fd, head, (size_t)n);
    static char chunk[65536];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)('a' + i % 26);
    for (size_t sent = 0; sent < size;) {
        size_t len = size - sent < sizeof chunk ? size - sent : sizeof chunk;
        write_or_die(fd, chunk, len);
        sent += len;
    }
}

static void read_to_eof(int fd)
{
    while (read_and_drop(fd, 65536) > 0)
        ;
}

static void set_abortive_linger(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0)
        die_errno("setsockopt(SO_LINGER)");
}

/* Each returns once it has closed the connection. */
static void serve_early_error(int fd)
{
    read_and_drop(fd, 1024);
    write_or_die(fd, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
    close(fd);
}

/* The same answer, closed the way programs that bypass libc's close do:
 * libuv's syscall(SYS_close), and the closes syscall() leaves implicit. */
static void serve_early_error_syscall_close(int fd)
{
    read_and_drop(fd, 1024);
    write_or_die(fd, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
    if (syscall(SYS_close, fd) != 0)
        die_errno("syscall(SYS_close)");
}

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static void serve_early_error_syscall_close_range(int fd)
{
    read_and_drop(fd, 1024);
    write_or_die(fd, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
    if (syscall(SYS_close_range, fd, fd, 0) != 0)
        die_errno("syscall(SYS_close_range)");
}

/* /dev/null duplicated over the connection's number: the connection is
 * closed by the kernel inside dup3. */
static void serve_early_error_syscall_dup3(int fd)
{
    read_and_drop(fd, 1024);
    write_or_die(fd, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0)
        die_errno("open /dev/null");
    if (syscall(SYS_dup3, null_fd, fd, O_CLOEXEC) != fd)
        die_errno("syscall(SYS_dup3)");
    close(fd);
    close(null_fd);
}

/* The answer written through a copy made with syscall(): the close of the
 * original must see that the copy still holds the socket (no FIN under
 * the copy's feet), and the copy's close is then the last. */
static void answer_through_copy(int fd, int copy)
{
    if (copy < 0)
        die_errno("syscall() copy");
    read_and_drop(fd, 1024);
    close(fd);
    /* A FIN sent by the first close makes this fail (EPIPE): the answer is
     * then lost, which is what the test must see. */
    (void)!send(copy, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE), MSG_NOSIGNAL);
    close(copy);
}

static void serve_early_error_syscall_dup(int fd)
{
    answer_through_copy(fd, (int)syscall(SYS_dup, fd));
}

static void serve_early_error_syscall_fcntl_dupfd(int fd)
{
    answer_through_copy(fd, (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0));
}

static void serve_pipeline(int fd)
{
    read_and_drop(fd, 65536);
    send_sized_response(fd, PIPELINE_RESPONSE_BYTES);
    close(fd);
}

static void serve_big_response(int fd)
{
    read_and_drop(fd, 1024);
    send_sized_response(fd, BIG_RESPONSE_BYTES);
    close(fd);
}

static void serve_clean(int fd)
{
    read_to_eof(fd);
    write_or_die(fd, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
    close(fd);
}

static void serve_abortive(int fd)
{
    set_abortive_linger(fd);
    read_and_drop(fd, 1024);
    close(fd);
}

static void serve_abortive_inherited(int fd)
{
    read_and_drop(fd, 1024);
    close(fd);
}

static void serve_shutdown_rdwr(int fd)
{
    read_and_drop(fd, 1024);
    send_sized_response(fd, PIPELINE_RESPONSE_BYTES);
    if (shutdown(fd, SHUT_RDWR) != 0)
        die_errno("shutdown");
    close(fd);
}

/* A server slower than its client: by the time it closes, the client has
 * reset the connection, and the request it never read is still queued. */
static void serve_slow_close(int fd)
{
    nanosleep(&(struct timespec){ 0, 300 * 1000000L }, NULL);
    close(fd);
}

static bool naive_parent_shutdown;

/* Fork per connection (inetd, busybox httpd, mini_httpd): the parent
 * closes its copy at once while the child serves the client. With
 * --naive-parent-shutdown the parent first does what a careless preload
 * would do to that copy: shut the socket down. */
static void serve_forked(int fd)
{
    pid_t child = fork();
    if (child < 0)
        die_errno("fork");
    if (child == 0) {
        read_and_drop(fd, 1024);
        nanosleep(&(struct timespec){ 0, 100 * 1000000L }, NULL); /* the parent has let go */
        write_or_die(fd, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
        close(fd);
        _exit(0);
    }
    if (naive_parent_shutdown)
        shutdown(fd, SHUT_WR);
    close(fd);
}

/* The same, in the order a busy parent or a slow fork() sometimes gives:
 * the child answers and ends (its copy closed by _exit, the body unread)
 * before the parent closes its own. The parent waits for that without
 * reaping the child (WNOWAIT), so a child still exists when it closes. */
static void serve_forked_child_ends_first(int fd)
{
    pid_t child = fork();
    if (child < 0)
        die_errno("fork");
    if (child == 0) {
        read_and_drop(fd, 1024);
        write_or_die(fd, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
        _exit(0);
    }
    siginfo_t info;
    if (waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) != 0)
        die_errno("waitid");
    close(fd);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("the child failed");
}

/* A helper started without fork() that inherits the connection (not
 * close-on-exec) and answers on it after the server has closed its own
 * copy: a CGI runner or logger started with posix_spawn() or popen().
 * Its answer comes 100 ms later, then it reads the rest of the upload for
 * half a second, so that its exit sends a FIN, not a RST. A server-side
 * FIN before the answer would cost the client its response. */
static void helper_command(char *buf, size_t size, int fd)
{
    snprintf(buf, size,
             "sleep 0.1; printf 'HTTP/1.1 413 Payload Too Large\\r\\nConnection: close\\r\\n"
             "Content-Length: 19\\r\\n\\r\\nrequest too large.\\n' >&%d && "
             "exec timeout 0.5 cat <&%d >/dev/null",
             fd, fd);
}

/* glibc 2.39's pidfd_spawn, looked up at run time so that this builds on
 * older glibcs (which lack it: the test skips there). Found through the
 * global scope, as the program's own call would be bound: the library's
 * wrapper when it is preloaded. */
typedef int pidfd_spawn_fn(int *, const char *, const posix_spawn_file_actions_t *,
                           const posix_spawnattr_t *, char *const[], char *const[]);

/* The helper, started with posix_spawn() or, with_pidfd, pidfd_spawn();
 * the server closes its copy of the connection at once, then waits. */
static void serve_beside_helper_started_by(int fd, bool with_pidfd)
{
    extern char **environ;
    pidfd_spawn_fn *pidfd_spawn_found = NULL;
    if (with_pidfd) {
        pidfd_spawn_found = (pidfd_spawn_fn *)dlsym(RTLD_DEFAULT, "pidfd_spawn");
        if (!pidfd_spawn_found || !dlvsym(RTLD_DEFAULT, "pidfd_spawn", "GLIBC_2.39"))
            die("this C library has no pidfd_spawn (glibc 2.39)");
    }
    char command[512];
    helper_command(command, sizeof command, fd);
    char shell[] = "/bin/sh", dash_c[] = "-c";
    char *argv[] = { shell, dash_c, command, NULL };
    read_and_drop(fd, 1024);
    pid_t helper = 0;
    int pidfd = -1;
    int rc = with_pidfd ? pidfd_spawn_found(&pidfd, "/bin/sh", NULL, NULL, argv, environ)
                        : posix_spawn(&helper, "/bin/sh", NULL, NULL, argv, environ);
    if (rc != 0) {
        errno = rc;
        die_errno(with_pidfd ? "pidfd_spawn" : "posix_spawn");
    }
    close(fd);
    siginfo_t info = { 0 };
    /* (P_PIDFD is Linux 5.4's; older headers lack the name, and only a C
     * library that has pidfd_spawn, hence a newer kernel, uses it.) */
    rc = with_pidfd ? waitid((idtype_t)LC_P_PIDFD, (id_t)pidfd, &info, WEXITED)
                    : waitid(P_PID, (id_t)helper, &info, WEXITED);
    /* timeout's 124: the upload outlasted the half second. */
    if (rc != 0 || info.si_code != CLD_EXITED || (info.si_status != 0 && info.si_status != 124))
        die("the helper failed");
    if (with_pidfd)
        close(pidfd);
}

static void serve_beside_spawned_helper(int fd)
{
    serve_beside_helper_started_by(fd, false);
}

static void serve_beside_pidfd_spawned_helper(int fd)
{
    serve_beside_helper_started_by(fd, true);
}

static void serve_beside_popen_helper(int fd)
{
    char command[512];
    helper_command(command, sizeof command, fd);
    read_and_drop(fd, 1024);
    FILE *helper = popen(command, "r");
    if (!helper)
        die_errno("popen");
    close(fd);
    int status = pclose(helper);
    if (status == -1 || !WIFEXITED(status) ||
        (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 124))
        die("the popen helper failed");
}

struct scenario {
    const char *name;
    void (*serve)(int fd);
};

static const struct scenario scenarios[] = {
    { "early-error", serve_early_error },
    { "syscall-close", serve_early_error_syscall_close },
    { "syscall-close-range", serve_early_error_syscall_close_range },
    { "syscall-dup3", serve_early_error_syscall_dup3 },
    { "syscall-dup", serve_early_error_syscall_dup },
    { "syscall-fcntl-dupfd", serve_early_error_syscall_fcntl_dupfd },
    { "slow-close", serve_slow_close },
    { "pipeline", serve_pipeline },
    { "big-response", serve_big_response },
    { "clean", serve_clean },
    { "abortive", serve_abortive },
    { "abortive-listener", serve_abortive_inherited },
    { "shutdown-rdwr", serve_shutdown_rdwr },
    { "fork-per-connection", serve_forked },
    { "fork-child-ends-first", serve_forked_child_ends_first },
    { "spawned-helper", serve_beside_spawned_helper },
    { "popen-helper", serve_beside_popen_helper },
    { "pidfd-spawned-helper", serve_beside_pidfd_spawned_helper },
    { "nonblocking", NULL }, /* event loop below */
};

/* An epoll event loop with non-blocking sockets, the way modern servers
 * run: it closes without EPOLL_CTL_DEL (close removes the registration)
 * and fails if it ever gets an event for a descriptor it closed. */
static int serve_nonblocking(int listener, int connections)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die_errno("epoll_create1");
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = listener };
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    bool open_fds[65536] = { false };
    int served = 0, stale = 0;
    time_t quiet_until = 0;
    while (served < connections || time(NULL) < quiet_until) {
        struct epoll_event events[16];
        int n = epoll_wait(ep, events, 16, 200);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int c;
                while ((c = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                    open_fds[c] = true;
                }
                continue;
            }
            if (fd < 0 || fd >= 65536 || !open_fds[fd]) {
                fprintf(stderr, "lc-testserver: event 0x%x for closed fd %d\n", events[i].events, fd);
                stale++;
                continue;
            }
            char buf[1024];
            if (read(fd, buf, sizeof buf) < 0 && errno == EAGAIN)
                continue;
            write_or_die(fd, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
            close(fd);
            open_fds[fd] = false;
            if (++served == connections)
                quiet_until = time(NULL) + 1; /* watch for stale events a little longer */
        }
    }
    return stale ? 3 : 0;
}

int main(int argc, char **argv)
{
    const char *name = "early-error";
    int family = AF_INET, connections = 1, held_files = 0;
    static const struct option options[] = {
        { "scenario", required_argument, NULL, 's' },
        { "ipv6", no_argument, NULL, '6' },
        { "connections", required_argument, NULL, 'n' },
        { "naive-parent-shutdown", no_argument, NULL, 'N' },
        { "hold-files", required_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 },
    };
    for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (c) {
        case 's': name = optarg; break;
        case '6': family = AF_INET6; break;
        case 'n': connections = (int)parse_number("--connections", optarg, 0, INT_MAX); break;
        case 'N': naive_parent_shutdown = true; break;
        case 'H': held_files = (int)parse_number("--hold-files", optarg, 0, 65536); break;
        default: return 2;
        }
    }
    const struct scenario *scenario = NULL;
    for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            scenario = &scenarios[i];
    if (!scenario) {
        fprintf(stderr, "lc-testserver: unknown scenario %s\n", name);
        return 2;
    }

    /* What it inherited beyond stdio would take numbers of its own. */
    if (held_files)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    int listener = listen_loopback(family, 0, 64, SOCK_CLOEXEC);
    if (strcmp(name, "abortive-listener") == 0)
        set_abortive_linger(listener);
    announce_listening(listener);
    /* A server that opens what it needs once it listens (its logs, its
     * files), run with RLIMIT_NOFILE at exactly that plus one connection
     * and its stdio: every descriptor of its table is its own. */
    for (int i = 0; i < held_files; i++)
        if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0)
            die("--hold-files: file %d of %d: %s", i + 1, held_files, strerror(errno));
    int status = 0;
    if (!scenario->serve) {
        status = serve_nonblocking(listener, connections);
    } else {
        for (int i = 0; i < connections; i++) {
            int fd = accept(listener, NULL, NULL);
            if (fd < 0)
                die_errno("accept");
            scenario->serve(fd);
        }
    }
    char ignored[64];
    while (read(STDIN_FILENO, ignored, sizeof ignored) > 0)
        ;
    for (int child_status; wait(&child_status) > 0;)
        if (!WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0)
            status = 4;
    close(listener);
    return status;
}
