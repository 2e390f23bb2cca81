/* A server that closes its connection inside a signal handler: the way
 * old-style servers abort a connection from a SIGALRM timeout handler, or
 * tear it down from a SIGTERM/SIGUSR1 handler. close() is async-signal-safe
 * (POSIX), so the library's close() must be too: no lock the interrupted
 * code might hold, no allocation. The handler interrupts a blocked
 * sigsuspend() or runs inside kill() itself.
 *
 *   signal-close [--connections N]
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
#include <sys/time.h>
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

int main(int argc, char **argv)
{
    int connections = 4;
    if (argc == 3 && strcmp(argv[1], "--connections") == 0)
        connections = atoi(argv[2]);
    install(SIGUSR1);
    install(SIGALRM);

    int listen_fd = pattern_listen();
    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listen_fd);
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
    }
    pattern_wait_for_stdin_eof();
    close(listen_fd);
    return 0;
}
