/* SPDX-License-Identifier: MIT */
/* Pre-forked workers (Apache's prefork MPM, classic PHP-FPM-like pools,
 * many small C servers): the parent opens the listening socket and forks a
 * fixed pool of workers; each worker accept()s on the shared listener and
 * serves connections on its own. Here each worker serves exactly
 * --per-worker K early-error connections, then ends with exit() while its
 * last response may still be on its way, the way a worker retires after
 * MaxConnectionsPerChild. The parent serves nothing: it reaps the workers
 * and then waits for the test to be done with it.
 *
 * Each worker announces itself on stderr as "ROLE worker <pid>" so that a
 * test can tell whose log lines are whose. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

#define WORKERS 4

static _Noreturn void run_worker(int listener, int connections)
{
    fprintf(stderr, "ROLE worker %d\n", (int)getpid());
    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listener);
        pattern_read_some_request(fd);
        pattern_send_early_error(fd);
        close(fd);
    }
    exit(0);
}

int main(int argc, char **argv)
{
    int per_worker = 1;
    const struct pattern_option options[] = {
        { .name = "per-worker", .number = &per_worker, .min = 1, .max = INT_MAX },
        { 0 },
    };
    pattern_options(argc, argv, options, "prefork [--per-worker K]");

    int listener = pattern_listen();
    for (int w = 0; w < WORKERS; w++) {
        pid_t pid = fork();
        if (pid < 0)
            pattern_die("fork");
        if (pid == 0)
            run_worker(listener, per_worker);
    }
    pattern_reap_children();
    pattern_observe("workers-done", "%d", WORKERS);
    pattern_wait_for_stdin_eof();
    return 0;
}
