/* SPDX-License-Identifier: MIT */
/* A server that ends right after its last response: a one-shot or
 * "serve N then exit" server (a worker that retires after its quota, a
 * test fixture, a CGI-style daemon restarting itself), which closes each
 * early-error connection with close() and then leaves main (or calls exit
 * or _exit) at once, while its clients are still uploading. Every
 * connection it closed may still be draining in the library when the
 * process ends.
 *
 *   exit-drains [--connections N] [--end=exit|_exit|return]
 *
 * Unlike the other pattern programs it does not wait for stdin to reach
 * EOF: ending right after the Nth close is the point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

enum end { END_RETURN, END_EXIT, END_UNDERSCORE_EXIT };
static const char *const ends[] = { "return", "exit", "_exit", NULL };

int main(int argc, char **argv)
{
    int connections = 1;
    int end = END_RETURN;
    const struct pattern_option options[] = {
        PATTERN_CONNECTIONS(connections),
        { .name = "end", .choice = &end, .choices = ends },
        { 0 },
    };
    pattern_options(argc, argv, options, "exit-drains [--connections N] [--end=exit|_exit|return]");

    int listener = pattern_listen();
    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listener);
        pattern_read_some_request(fd);
        pattern_send_early_error(fd);
        close(fd);
    }
    pattern_observe("served", "%d", connections);

    switch (end) {
    case END_RETURN:
        return 0;
    case END_EXIT:
        exit(0);
    case END_UNDERSCORE_EXIT:
        _exit(0);
    }
    return 0;
}
