/* SPDX-License-Identifier: MIT */
/* A server that closes its connection inside a signal handler: the way
 * old-style servers abort a connection from a SIGALRM timeout handler, or
 * tear it down from a SIGTERM/SIGUSR1 handler. close() is async-signal-safe
 * (POSIX), so the library's close() must be too: no lock the interrupted
 * code might hold, no allocation. The handler interrupts a blocked
 * sigsuspend() or runs inside kill() itself.
 *
 *   signal-close [--connections N] [--in-fork-child]
 *
 * --in-fork-child serves each connection in a fork() child (the parent
 * closes its copy at once), whose handler's close is the first lingering
 * close the child makes; the child then returns from main. There close()
 * must not start a thread (nor wait for one): observed as
 *   threads_after_close  the child's threads right after the handler (1)
 *
 * For each connection: read a little, send the early error, then have the
 * SIGUSR1 handler close the connection - raised with kill(getpid()) for
 * even connections, delivered by an interval timer (SIGALRM, same handler)
 * while waiting in sigsuspend() for odd ones. Observations per connection:
 *   close_result  what close() returned in the handler (0)
 *   close_errno   errno after it (0 when it succeeded)
 *   fd_closed     whether the descriptor is gone afterwards (yes) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

static volatile sig_atomic_t conn_fd = -1;
static volatile sig_atomic_t handler_ran;
static volatile sig_atomic_t close_result;
static volatile sig_atomic_t close_errno;

static void close_in_handler(int signo)
{
    (void)signo;
    int saved_errno = errno;
    errno = 0;
    close_result = close(conn_fd);
    close_errno = errno;
    handler_ran = 1;
    errno = saved_errno;
}

static void install(int signo)
{
    /* No SA_RESTART: the interrupted call sees EINTR, as in most servers
     * that use a timeout handler to abort a blocked read. */
    struct sigaction sa = { .sa_handler = close_in_handler };
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, NULL) != 0)
        pattern_die("sigaction");
}

static void close_by_kill(void)
{
    /* A signal a process sends itself, unblocked, is delivered before
     * kill() returns. */
    if (kill(getpid(), SIGUSR1) != 0)
        pattern_die("kill");
    /* A sanitizer's runtime delivers it at its next call it intercepts. */
    for (int waited = 0; !handler_ran && waited < 2000; waited++)
        pattern_sleep_ms(1);
}

static void close_by_timer(void)
{
    sigset_t alarm_only, old;
    sigemptyset(&alarm_only);
    sigaddset(&alarm_only, SIGALRM);
    sigprocmask(SIG_BLOCK, &alarm_only, &old);
    struct itimerval once = { .it_value = { .tv_usec = 10 * 1000 } };
    if (setitimer(ITIMER_REAL, &once, NULL) != 0)
        pattern_die("setitimer");
    while (!handler_ran)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static int thread_count(void)
{
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks)
        pattern_die("opendir /proc/self/task");
    int count = 0;
    for (struct dirent *d; (d = readdir(tasks));)
        count += d->d_name[0] != '.';
    closedir(tasks);
    return count;
}

int main(int argc, char **argv)
{
    int connections = 4;
    bool in_fork_child = false;
    const struct pattern_option options[] = {
        PATTERN_CONNECTIONS(connections),
        { .name = "in-fork-child", .flag = &in_fork_child },
        { 0 },
    };
    pattern_options(argc, argv, options, "signal-close [--connections N] [--in-fork-child]");
    install(SIGUSR1);
    install(SIGALRM);

    int listen_fd = pattern_listen();
    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listen_fd);
        if (in_fork_child) {
            pid_t child = fork();
            if (child < 0)
                pattern_die("fork");
            if (child > 0) {
                close(fd);
                int status;
                if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
                    WEXITSTATUS(status) != 0)
                    return 2;
                continue;
            }
            close(listen_fd);
        }
        pattern_read_some_request(fd);
        pattern_send_early_error(fd);
        conn_fd = fd;
        handler_ran = 0;
        if (i % 2 == 0)
            close_by_kill();
        else
            close_by_timer();
        if (!handler_ran) {
            pattern_observe("handler_ran", "no");
            return 2;
        }
        pattern_observe("close_result", "%d", (int)close_result);
        pattern_observe("close_errno", "%s", close_errno ? strerror(close_errno) : "0");
        pattern_observe("fd_closed", "%s", fcntl(fd, F_GETFD) < 0 && errno == EBADF ? "yes" : "no");
        if (in_fork_child) {
            pattern_observe("threads_after_close", "%d", thread_count());
            return 0;
        }
    }
    pattern_wait_for_stdin_eof();
    close(listen_fd);
    return 0;
}
