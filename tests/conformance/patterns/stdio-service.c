/* SPDX-License-Identifier: MIT */
/* An inetd-style service (the kind inetd, xinetd, tcpserver, s6-tcpserver
 * or systemd Accept=yes start per connection): the connection is its stdin
 * and stdout, it never sees a socket call. It reads part of the request,
 * answers with the early error and ends without closing anything: the
 * process end closes the connection, with the client still sending.
 *
 *   stdio-service [--fd=N] --end=return|exit|_exit|_Exit|close
 *
 * --fd=N talks on descriptor N instead of stdin and stdout (a connection
 * inherited across exec on another number, which the library must leave
 * alone); --end=close closes it with close() and returns.
 * return and exit answer with printf (stdio's buffer goes out at exit);
 * _exit and _Exit skip the stdio flush, so they answer with write(). It
 * prints nothing on stderr of its own: it shares the wrapper's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

enum end { END_RETURN, END_EXIT, END_UNDERSCORE_EXIT, END_UNDERSCORE_CAPITAL_EXIT, END_CLOSE };

int main(int argc, char **argv)
{
    enum end end = END_RETURN;
    int in = STDIN_FILENO, out = STDOUT_FILENO;
    if (argc == 3 && strncmp(argv[1], "--fd=", 5) == 0) {
        in = out = atoi(argv[1] + 5);
        argv++;
        argc--;
    }
    if (argc != 2)
        return 7;
    if (strcmp(argv[1], "--end=return") == 0)
        end = END_RETURN;
    else if (strcmp(argv[1], "--end=exit") == 0)
        end = END_EXIT;
    else if (strcmp(argv[1], "--end=_exit") == 0)
        end = END_UNDERSCORE_EXIT;
    else if (strcmp(argv[1], "--end=_Exit") == 0)
        end = END_UNDERSCORE_CAPITAL_EXIT;
    else if (strcmp(argv[1], "--end=close") == 0)
        end = END_CLOSE;
    else
        return 7;
    if (in != STDIN_FILENO && end != END_CLOSE)
        return 7;

    char request[1024];
    ssize_t n;
    do
        n = read(in, request, sizeof request);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return 8;

    switch (end) {
    case END_RETURN:
        printf("%s", EARLY_ERROR_RESPONSE);
        return 0;
    case END_EXIT:
        printf("%s", EARLY_ERROR_RESPONSE);
        exit(0);
    case END_UNDERSCORE_EXIT:
        pattern_write_all(STDOUT_FILENO, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
        _exit(0);
    case END_UNDERSCORE_CAPITAL_EXIT:
        pattern_write_all(STDOUT_FILENO, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
        _Exit(0);
    case END_CLOSE:
        pattern_write_all(out, EARLY_ERROR_RESPONSE, strlen(EARLY_ERROR_RESPONSE));
        return close(in) == 0 ? 0 : 10;
    }
    return 9;
}
