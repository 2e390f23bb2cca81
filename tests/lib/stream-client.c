/* A write-then-read client for any request/response protocol: it sends a
 * head (an HTTP request line and headers, a Redis command, ...), then
 * streams a body in chunks a millisecond apart, as a client reading a file
 * does, and only then reads the response until the server closes. If a
 * send fails the response is lost, as it is for the client libraries that
 * work this way: a server that answered early and reset the connection
 * destroyed it.
 *
 *   stream-client -p PORT -e EXPECT [-H HEAD] [-n TRIES] [-s BODY_BYTES]
 *
 * HEAD and EXPECT take \r, \n, \t and \\ escapes. A response counts as
 * received when the server closed cleanly and the response starts with
 * EXPECT. Prints how many of the TRIES responses were received and how the
 * others were lost; exit 0 if every one arrived, 1 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define REPLY_MAX 65536

enum outcome { RECEIVED, RESET, BROKEN_PIPE, UNEXPECTED, OTHER, OUTCOMES };

static char *unescape(const char *text)
{
    char *out = malloc(strlen(text) + 1), *o = out;
    for (const char *p = text; *p; p++) {
        if (*p != '\\' || !p[1]) {
            *o++ = *p;
            continue;
        }
        p++;
        *o++ = *p == 'r' ? '\r' : *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
    }
    *o = '\0';
    return out;
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static enum outcome classify(int error)
{
    return error == ECONNRESET ? RESET : error == EPIPE ? BROKEN_PIPE : OTHER;
}

static enum outcome one_try(int port, const char *head, size_t body_bytes, const char *expect,
                            char *first_reply, size_t first_reply_size)
{
    int fd = connect_loopback(port);
    if (fd < 0)
        return OTHER;
    int error = send_all(fd, head, strlen(head));
    static char body[CHUNK];
    memset(body, 'x', sizeof body);
    for (size_t sent = 0; sent < body_bytes && !error; sent += CHUNK) {
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL); /* the next chunk is ready */
        size_t len = body_bytes - sent < CHUNK ? body_bytes - sent : CHUNK;
        error = send_all(fd, body, len);
    }

    static char reply[REPLY_MAX];
    size_t got = 0;
    while (!error) {
        ssize_t r = recv(fd, reply + got, sizeof reply - 1 - got, 0);
        if (r > 0 && got + (size_t)r < sizeof reply - 1)
            got += (size_t)r;
        else if (r == 0)
            break;
        else if (r < 0 && errno != EINTR)
            error = errno;
    }
    close(fd);
    reply[got] = '\0';
    if (error)
        return classify(error);
    if (!first_reply[0])
        snprintf(first_reply, first_reply_size, "%.*s", (int)strcspn(reply, "\r\n"), reply);
    return strncmp(reply, expect, strlen(expect)) == 0 ? RECEIVED : UNEXPECTED;
}

int main(int argc, char **argv)
{
    int port = 0, tries = 10;
    size_t body_bytes = 1000 * 1000;
    const char *head = "", *expect = NULL;
    for (int opt; (opt = getopt(argc, argv, "p:n:s:H:e:")) != -1;) {
        if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 'n')
            tries = atoi(optarg);
        else if (opt == 's')
            body_bytes = strtoul(optarg, NULL, 10);
        else if (opt == 'H')
            head = optarg;
        else if (opt == 'e')
            expect = optarg;
        else
            port = 0;
    }
    if (port <= 0 || tries <= 0 || !expect || !*expect) {
        fprintf(stderr, "usage: %s -p PORT -e EXPECT [-H HEAD] [-n TRIES] [-s BODY_BYTES]\n",
                argv[0]);
        return 2;
    }
    char *head_bytes = unescape(head), *expect_bytes = unescape(expect);

    int count[OUTCOMES] = { 0 };
    char first_reply[128] = "";
    for (int i = 0; i < tries; i++)
        count[one_try(port, head_bytes, body_bytes, expect_bytes, first_reply,
                      sizeof first_reply)]++;
    printf("responses received: %d of %d, lost: %d (connection reset: %d, broken pipe: %d, "
           "unexpected response: %d, other: %d)\n",
           count[RECEIVED], tries, tries - count[RECEIVED], count[RESET], count[BROKEN_PIPE],
           count[UNEXPECTED], count[OTHER]);
    if (first_reply[0])
        printf("first response line: %s\n", first_reply);
    free(head_bytes);
    free(expect_bytes);
    return count[RECEIVED] == tries ? 0 : 1;
}
