/* SPDX-License-Identifier: MIT */
/* The classic stdio server (old inetd services, CGI-era daemons, the
 * fdopen idiom of "UNIX Network Programming"): one stream per direction,
 *     in = fdopen(fd, "r"); out = fdopen(dup(fd), "w");
 * the request head read line by line with fgets(), the answer written with
 * fprintf() into out's buffer and never flushed by hand, then
 * fclose(in); fclose(out). The connection ends in the second fclose, which
 * must also send the still-buffered answer before the FIN.
 *
 * Usage: fclose [--connections N]
 * Each connection is reported as "OBS connection in=A out=B". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

static void serve_with_streams(int fd)
{
    FILE *in = fdopen(fd, "r");
    if (!in)
        pattern_die("fdopen in");
    int out_fd = dup(fd);
    if (out_fd < 0)
        pattern_die("dup");
    FILE *out = fdopen(out_fd, "w");
    if (!out)
        pattern_die("fdopen out");
    pattern_observe("connection", "in=%d out=%d", fd, out_fd);

    /* The head only: the server refuses the body unseen. */
    char line[1024];
    bool blank_line_seen = false;
    while (!blank_line_seen && fgets(line, sizeof line, in))
        blank_line_seen = strcmp(line, "\r\n") == 0 || strcmp(line, "\n") == 0;
    if (!blank_line_seen)
        pattern_die("request head");

    /* Fully buffered: nothing leaves before fclose(out). */
    if (fprintf(out, "%s", EARLY_ERROR_RESPONSE) < 0)
        pattern_die("fprintf");
    if (fclose(in) != 0)
        pattern_die("fclose in");
    if (fclose(out) != 0)
        pattern_die("fclose out");
}

int main(int argc, char **argv)
{
    int connections = 1;
    const struct pattern_option options[] = { PATTERN_CONNECTIONS(connections), { 0 } };
    pattern_options(argc, argv, options, "fclose [--connections N]");

    int listener = pattern_listen();
    for (int i = 0; i < connections; i++)
        serve_with_streams(pattern_accept(listener));
    pattern_wait_for_stdin_eof();
    return 0;
}
