/* SPDX-License-Identifier: MIT */
/* A server that never writes to its stderr (it may be a pipe nobody
 * reads): for each connection it reads a little, answers early, closes,
 * then forks a short-lived helper and reaps it, as servers that spawn a
 * logger or a CGI program per request do. At the end it reports on
 * stdout: "served N forked N".
 *
 *   quiet-forker [--connections N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

int main(int argc, char **argv)
{
    int connections = 20;
    const struct pattern_option options[] = { PATTERN_CONNECTIONS(connections), { 0 } };
    pattern_options(argc, argv, options, "quiet-forker [--connections N]");
    int listen_fd = pattern_listen();
    int served = 0, forked = 0;
    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listen_fd);
        pattern_read_some_request(fd);
        pattern_send_early_error(fd);
        close(fd);
        served++;
        pid_t child = fork();
        if (child == 0)
            _exit(0);
        int status;
        if (child > 0 && waitpid(child, &status, 0) == child)
            forked++;
    }
    printf("served %d forked %d\n", served, forked);
    fflush(stdout);
    pattern_wait_for_stdin_eof();
    return 0;
}
