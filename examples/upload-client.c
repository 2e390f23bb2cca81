/* SPDX-License-Identifier: MIT */
/* A write-then-read client, like most client libraries: it sends the whole
 * request (the head, then the body as it streams it from a file), and only
 * then reads the response. If the server's kernel resets the connection, a
 * send fails and the response already sitting in this machine's buffers is
 * never read: the user sees "connection reset".
 *
 *   upload-client -p PORT [-n TRIES] [-s BODY_BYTES] [-H HEAD] [-e EXPECT]
 *
 * The request is an HTTP upload of BODY_BYTES, or HEAD followed by that
 * many bytes (any request/response protocol: an HTTP request line and
 * headers, a Redis command...). A response counts as received when the
 * server closed cleanly and it is an HTTP status line, or starts with
 * EXPECT. HEAD and EXPECT take \r, \n, \t and \\ escapes.
 *
 * Prints how many of the TRIES responses it received and how the others
 * were lost (with -e, also the first response line). Exit 0 if every
 * response arrived, 1 otherwise. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "progs/progs.h"

#define CHUNK 65536
#define REPLY_KEEP 65536

enum outcome { RECEIVED, RESET, BROKEN_PIPE, UNEXPECTED, OTHER, OUTCOMES };

static enum outcome one_upload(int port, const char *head, size_t body_bytes, const char *expect,
                               char *first_line, size_t first_line_size)
{
    int fd = connect_loopback(AF_INET, port, 10);
    if (fd < 0)
        return OTHER;
    struct reply r;
    upload(fd, head, body_bytes, CHUNK, REPLY_KEEP, &r);
    close(fd);
    int error = r.write_errno ? r.write_errno : r.read_errno;
    bool expected = expect ? strncmp(r.data, expect, strlen(expect)) == 0
                           : r.len >= 12 && strncmp(r.data, "HTTP/1.", 7) == 0;
    if (!error && !first_line[0])
        snprintf(first_line, first_line_size, "%.*s", (int)strcspn(r.data, "\r\n"), r.data);
    reply_free(&r);
    if (error)
        return error == ECONNRESET ? RESET : error == EPIPE ? BROKEN_PIPE : OTHER;
    return expected ? RECEIVED : UNEXPECTED;
}

int main(int argc, char **argv)
{
    int port = 0, tries = 20;
    size_t body_bytes = 1000 * 1000;
    char *head = NULL, *expect = NULL;
    for (int opt; (opt = getopt(argc, argv, "p:n:s:H:e:")) != -1;) {
        if (opt == 'p')
            port = (int)parse_number("-p", optarg, 1, 65535);
        else if (opt == 'n')
            tries = (int)parse_number("-n", optarg, 1, INT_MAX);
        else if (opt == 's')
            body_bytes = (size_t)parse_number("-s", optarg, 0, SIZE_MAX / 2);
        else if (opt == 'H')
            head = unescape(optarg);
        else if (opt == 'e' && *optarg)
            expect = unescape(optarg);
        else
            port = 0;
    }
    if (port <= 0) {
        fprintf(stderr, "usage: %s -p PORT [-n TRIES] [-s BODY_BYTES] [-H HEAD] [-e EXPECT]\n",
                argv[0]);
        return 2;
    }
    if (!head && asprintf(&head,
                          "POST /upload HTTP/1.0\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n",
                          body_bytes) < 0)
        die_errno("asprintf");

    int count[OUTCOMES] = { 0 };
    char first_line[128] = "";
    for (int i = 0; i < tries; i++)
        count[one_upload(port, head, body_bytes, expect, first_line, sizeof first_line)]++;
    printf("responses received: %d of %d, lost: %d (connection reset: %d, broken pipe: %d, "
           "unexpected response: %d, other: %d)\n",
           count[RECEIVED], tries, tries - count[RECEIVED], count[RESET], count[BROKEN_PIPE],
           count[UNEXPECTED], count[OTHER]);
    if (expect && first_line[0])
        printf("first response line: %s\n", first_line);
    free(head);
    free(expect);
    return count[RECEIVED] == tries ? 0 : 1;
}
