/* A write-then-read HTTP client, like most client libraries: it sends the
 * whole request (headers, then the body as it streams it from a file or a
 * generator), and only then reads the response. If the server's kernel
 * resets the connection, a send fails and the response already sitting in
 * this machine's buffers is never read: the user sees "connection reset".
 *
 *   upload-client -p PORT [-n TRIES] [-s BODY_BYTES]
 *
 * Prints how many of the TRIES responses it received and how the others
 * were lost. Exit 0 if every response arrived, 1 otherwise. */
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

struct outcome {
    int received;
    int reset;       /* ECONNRESET */
    int broken_pipe; /* EPIPE */
    int other;
};

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

/* 0 if a complete HTTP response arrived, else the errno that stopped us. */
static int one_upload(int port, size_t body_bytes)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        return e;
    }

    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST /upload HTTP/1.0\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n",
                     body_bytes);
    int error = send_all(fd, head, (size_t)n);
    static char body[CHUNK];
    memset(body, 'x', sizeof body);
    for (size_t sent = 0; sent < body_bytes && !error; sent += CHUNK) {
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL); /* the next chunk is ready */
        size_t len = body_bytes - sent < CHUNK ? body_bytes - sent : CHUNK;
        error = send_all(fd, body, len);
    }

    char reply[4096];
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
    if (!error && (got < 12 || strncmp(reply, "HTTP/1.", 7) != 0))
        error = EPROTO;
    return error;
}

int main(int argc, char **argv)
{
    int port = 0, tries = 20;
    size_t body_bytes = 1000 * 1000;
    for (int opt; (opt = getopt(argc, argv, "p:n:s:")) != -1;) {
        if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 'n')
            tries = atoi(optarg);
        else if (opt == 's')
            body_bytes = strtoul(optarg, NULL, 10);
        else
            port = 0;
    }
    if (port <= 0 || tries <= 0) {
        fprintf(stderr, "usage: %s -p PORT [-n TRIES] [-s BODY_BYTES]\n", argv[0]);
        return 2;
    }

    struct outcome o = { 0 };
    for (int i = 0; i < tries; i++) {
        int error = one_upload(port, body_bytes);
        if (error == 0)
            o.received++;
        else if (error == ECONNRESET)
            o.reset++;
        else if (error == EPIPE)
            o.broken_pipe++;
        else
            o.other++;
    }
    printf("responses received: %d of %d, lost: %d (connection reset: %d, broken pipe: %d, "
           "other: %d)\n",
           o.received, tries, tries - o.received, o.reset, o.broken_pipe, o.other);
    return o.received == tries ? 0 : 1;
}
