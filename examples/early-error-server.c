/* SPDX-License-Identifier: MIT */
/* A legacy-style HTTP server, the kind lingerclose is for: one connection
 * at a time, it reads the first KiB of a request, and if the declared body
 * is larger than it accepts it answers "413 Payload Too Large" at once and
 * closes, without reading the body it has no use for. Nothing here knows
 * about lingerclose.
 *
 *   early-error-server [-p PORT] [-n CONNECTIONS]
 *
 * Prints "listening on 127.0.0.1:PORT" once ready (-p 0, the default,
 * picks a free port); serves forever, or CONNECTIONS connections. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "progs/progs.h"

int main(int argc, char **argv)
{
    int port = 0, connections = -1;
    for (int opt; (opt = getopt(argc, argv, "p:n:")) != -1;) {
        if (opt == 'p')
            port = (int)parse_number("-p", optarg, 0, 65535);
        else if (opt == 'n')
            connections = (int)parse_number("-n", optarg, 1, INT_MAX);
        else {
            fprintf(stderr, "usage: %s [-p PORT] [-n CONNECTIONS]\n", argv[0]);
            return 2;
        }
    }

    int listener = listen_loopback(AF_INET, port, 128, 0);
    announce_listening(listener);

    for (int served = 0; connections < 0 || served < connections; served++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            die_errno("accept");
        }
        /* Reads the head and the first bytes of the body, no more: an
         * upload over 1 KiB is answered "413 Payload Too Large" at once. */
        answer_upload(fd);
        /* The rest of the body is still unread: without lingerclose, the
         * kernel answers it with a reset, which destroys the 413. */
        close(fd);
    }
    close(listener);
    return 0;
}
