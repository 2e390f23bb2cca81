/* SPDX-License-Identifier: MIT */
/* A prefork-style HTTP server for the early-error benchmark: a parent
 * opens the listening socket and forks WORKERS processes; each accepts one
 * connection at a time, reads the first KiB of the request and, if the
 * declared body is larger than 1 KiB, answers "413 Payload Too Large" at
 * once without reading the body.
 *
 *   prefork-server [-p PORT] [-w WORKERS] [-m linger|close] [-I IDLE_MS] [-T TOTAL_MS]
 *
 * -m linger (default): the worker then does Apache's lingering close in
 *    process (ap_lingering_close: shutdown(SHUT_WR), then read and discard
 *    until EOF, or IDLE_MS (2000) without data, or TOTAL_MS (30000) in all,
 *    then close). The worker is held for all that time.
 * -m close: a plain close(), what lingerclose is put in front of.
 *
 * Prints "listening on 127.0.0.1:PORT" once the workers run (-p 0, the
 * default, picks a free port). Runs until SIGTERM or SIGINT, then shuts the
 * listening socket down: each worker finishes its connection and exit()s
 * (so that a preloaded library's exit handlers run). A worker that dies
 * otherwise is replaced. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progs/progs.h"

#define MAX_WORKERS 64

static bool linger_in_process = true;
static int idle_ms = 2000, total_ms = 30000;

/* Apache's ap_lingering_close(), blocking, in the worker. */
static void lingering_close(int fd)
{
    static char discard[65536];
    if (shutdown(fd, SHUT_WR) == 0) {
        long long end = now_ms() + total_ms;
        for (;;) {
            long long left = end - now_ms();
            if (left <= 0)
                break;
            struct pollfd p = { .fd = fd, .events = POLLIN };
            int r = poll(&p, 1, (int)(left < idle_ms ? left : idle_ms));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break; /* idle timeout */
            ssize_t n = read(fd, discard, sizeof discard);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; /* the client's FIN, or an error */
        }
    }
    close(fd);
}

static void worker(int listener)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EINVAL) /* the parent shut the listener down */
                exit(0);
            die_errno("accept");
        }
        answer_upload(fd);
        if (linger_in_process)
            lingering_close(fd);
        else
            close(fd);
    }
}

static pid_t spawn(int listener)
{
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        worker(listener);
    }
    return pid;
}

int main(int argc, char **argv)
{
    int port = 0, workers = 4;
    for (int opt; (opt = getopt(argc, argv, "p:w:m:I:T:")) != -1;) {
        if (opt == 'p')
            port = (int)parse_number("-p", optarg, 0, 65535);
        else if (opt == 'w')
            workers = (int)parse_number("-w", optarg, 1, MAX_WORKERS);
        else if (opt == 'm' && (strcmp(optarg, "linger") == 0 || strcmp(optarg, "close") == 0))
            linger_in_process = strcmp(optarg, "linger") == 0;
        else if (opt == 'I')
            idle_ms = (int)parse_number("-I", optarg, 1, INT_MAX);
        else if (opt == 'T')
            total_ms = (int)parse_number("-T", optarg, 1, INT_MAX);
        else {
            fprintf(stderr,
                    "usage: %s [-p PORT] [-w WORKERS] [-m linger|close] [-I IDLE_MS] "
                    "[-T TOTAL_MS]\n",
                    argv[0]);
            return 2;
        }
    }
    /* A client that gave up makes write() fail with EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);

    int listener = listen_loopback(AF_INET, port, 511, SOCK_CLOEXEC);

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGCHLD);
    sigprocmask(SIG_BLOCK, &stop, NULL);

    pid_t pids[MAX_WORKERS];
    for (int i = 0; i < workers; i++)
        if ((pids[i] = spawn(listener)) < 0)
            die_errno("fork");
    announce_listening(listener);

    for (;;) {
        int sig;
        sigwait(&stop, &sig);
        if (sig != SIGCHLD)
            break;
        pid_t dead;
        while ((dead = waitpid(-1, NULL, WNOHANG)) > 0)
            for (int i = 0; i < workers; i++)
                if (pids[i] == dead)
                    pids[i] = spawn(listener);
    }
    /* Wakes every accept() with EINVAL; a worker busy with a connection
     * finishes it first. Those still running after 5 s are killed. */
    shutdown(listener, SHUT_RDWR);
    long long end = now_ms() + 5000;
    for (int left = workers; left > 0;) {
        while (left > 0 && waitpid(-1, NULL, WNOHANG) > 0)
            left--;
        long long wait_ms = end - now_ms();
        if (left > 0 && wait_ms <= 0) {
            for (int i = 0; i < workers; i++)
                if (pids[i] > 0) /* never kill(-1) */
                    kill(pids[i], SIGKILL);
            while (wait(NULL) > 0) {
            }
            break;
        }
        if (left > 0) {
            struct timespec grace = { wait_ms / 1000, (wait_ms % 1000) * 1000000 };
            sigtimedwait(&stop, NULL, &grace); /* SIGCHLD, or the time is up */
        }
    }
    return 0;
}
