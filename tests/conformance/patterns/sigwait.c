/* SPDX-License-Identifier: MIT */
/* A sigwait()-based daemon: signals are blocked in every thread and the
 * main thread takes them synchronously with sigwait() (the POSIX-threads
 * way of handling signals, used by many daemons for reload/rotate/stop).
 * A process-directed signal goes to any thread that does not block it: a
 * library thread that left SIGUSR1 unblocked would steal it - and, with no
 * handler installed, SIGUSR1's default action would kill the daemon.
 *
 *   sigwait [--block-first]
 *
 * By default the daemon creates its listening socket first (like daemons
 * that bind their port before setting up signal handling) - the library
 * starts its drain thread at that socket(), while every signal is still
 * unblocked - and only then blocks SIGUSR1, SIGUSR2 and SIGTERM, before
 * starting its own server thread. --block-first blocks them before
 * anything else. The server thread serves early-error connections (read a
 * little, early error, close) for as long as the daemon runs; the main
 * thread counts signals until SIGTERM, "reloading" for 20 ms after each
 * SIGUSR1 (the test's next signal comes during that time, when every
 * thread of the daemon blocks it). Observations:
 *   ready yes  once the signals are blocked and the server thread runs
 *   got   <i>  on each SIGUSR1, as it arrives
 *   usr1  <n>  SIGUSR1s received in all, at SIGTERM
 *   usr2  <n>  SIGUSR2s received in all, at SIGTERM */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

#define RELOAD_MS 20

static void *serve_forever(void *arg)
{
    int listen_fd = *(int *)arg;
    for (;;) {
        int fd = pattern_accept(listen_fd);
        pattern_read_some_request(fd);
        pattern_send_early_error(fd);
        if (close(fd) != 0)
            pattern_die("close");
    }
    return NULL;
}

static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGTERM);
    int rc = pthread_sigmask(SIG_BLOCK, set, NULL);
    if (rc != 0) {
        errno = rc;
        pattern_die("pthread_sigmask");
    }
}

int main(int argc, char **argv)
{
    bool block_first = argc == 2 && strcmp(argv[1], "--block-first") == 0;
    sigset_t waited;
    static int listen_fd;
    if (block_first) {
        block_signals(&waited);
        listen_fd = pattern_listen();
    } else {
        listen_fd = pattern_listen();
        block_signals(&waited);
    }

    pthread_t server;
    int rc = pthread_create(&server, NULL, serve_forever, &listen_fd);
    if (rc != 0) {
        errno = rc;
        pattern_die("pthread_create");
    }

    /* The port is printed before the signals are blocked (listen first):
     * this line tells the test that signals may come now. */
    pattern_observe("ready", "yes");
    int usr1 = 0, usr2 = 0;
    for (;;) {
        int signo;
        rc = sigwait(&waited, &signo);
        if (rc != 0) {
            errno = rc;
            pattern_die("sigwait");
        }
        if (signo == SIGUSR1) {
            pattern_observe("got", "%d", ++usr1);
            /* The "reload" takes a moment, outside sigwait(): the next
             * signal arrives while this thread blocks it too, which is when
             * a thread that did not block it would take it instead. */
            pattern_sleep_ms(RELOAD_MS);
        } else if (signo == SIGUSR2)
            usr2++;
        else
            break;
    }
    pattern_observe("usr1", "%d", usr1);
    pattern_observe("usr2", "%d", usr2);
    return 0;
}
