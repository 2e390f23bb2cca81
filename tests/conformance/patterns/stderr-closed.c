/* SPDX-License-Identifier: MIT */
/* A daemon that closed its stderr without reopening /dev/null, then
 * accepts: each client lands on descriptor 2. Anything written to "stderr"
 * from then on reaches a client. It reads part of each request, answers
 * with the early error and closes.
 *
 *   stderr-closed [--connections N]
 *
 * It observes nothing (it has no stderr): the clients' byte streams are
 * the observation. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

int main(int argc, char **argv)
{
    int connections = 2;
    const struct pattern_option options[] = { PATTERN_CONNECTIONS(connections), { 0 } };
    pattern_options(argc, argv, options, "stderr-closed [--connections N]");
    int listen_fd = pattern_listen();
    close(STDERR_FILENO);
    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listen_fd);
        if (fd != STDERR_FILENO)
            return 3;
        pattern_read_some_request(fd);
        pattern_send_early_error(fd);
        close(fd);
    }
    pattern_wait_for_stdin_eof();
    return 0;
}
