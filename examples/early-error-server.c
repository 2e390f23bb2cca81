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
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BODY 1024

static const char too_large[] = "HTTP/1.0 413 Payload Too Large\r\n"
                                "Content-Type: text/plain\r\n"
                                "Content-Length: 24\r\n"
                                "\r\n"
                                "Request body too large.\n";
static const char accepted[] = "HTTP/1.0 200 OK\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 9\r\n"
                               "\r\n"
                               "Accepted\n";

static void answer(int fd)
{
    char request[1024 + 1];
    ssize_t n = read(fd, request, sizeof request - 1);
    if (n <= 0)
        return;
    request[n] = '\0';
    const char *length = strcasestr(request, "\r\nContent-Length:");
    long declared = length ? strtol(length + 17, NULL, 10) : 0;
    const char *reply = declared > MAX_BODY ? too_large : accepted;
    size_t len = strlen(reply);
    while (len) {
        ssize_t w = write(fd, reply, len);
        if (w <= 0)
            return;
        reply += w;
        len -= (size_t)w;
    }
}

int main(int argc, char **argv)
{
    int port = 0, connections = -1;
    for (int opt; (opt = getopt(argc, argv, "p:n:")) != -1;) {
        if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 'n')
            connections = atoi(optarg);
        else {
            fprintf(stderr, "usage: %s [-p PORT] [-n CONNECTIONS]\n", argv[0]);
            return 2;
        }
    }

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, len) != 0 || listen(listener, 128) != 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &len) != 0) {
        perror("early-error-server");
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    for (int served = 0; connections < 0 || served < connections; served++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            perror("accept");
            return 1;
        }
        answer(fd);
        close(fd);
    }
    close(listener);
    return 0;
}
