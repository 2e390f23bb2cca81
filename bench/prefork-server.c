/* A prefork-style HTTP server for the early-error benchmark (issue 4,
 * item 3): a parent opens the listening socket and forks WORKERS
 * processes; each accepts one connection at a time, reads the first KiB of
 * the request and, if the declared body is larger than 1 KiB, answers
 * "413 Payload Too Large" at once without reading the body.
 *
 *   prefork-server [-p PORT] [-w WORKERS] [-m linger|close] [-I IDLE_MS] [-T TOTAL_MS]
 *
 * -m linger (default): the worker then does Apache's lingering close in
 *    process (ap_lingering_close: shutdown(SHUT_WR), then read and discard
 *    until EOF, or IDLE_MS (2000) without data, or TOTAL_MS (30000) in all,
 *    then close). The worker is held for all that time.
 * -m close: a plain close(), what lingerclose is put in front of.
 *
 * Prints "listening on 127.0.0.1:PORT" once the workers run (-p 0, the
 * default, picks a free port). Runs until SIGTERM or SIGINT, then shuts the
 * listening socket down: each worker finishes its connection and exit()s
 * (so that a preloaded library's exit handlers run). A worker that dies
 * otherwise is replaced. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY 1024
#define MAX_WORKERS 64

static const char too_large[] = "HTTP/1.1 413 Payload Too Large\r\n"
                                "Content-Type: text/plain\r\n"
                                "Content-Length: 24\r\n"
                                "Connection: close\r\n"
                                "\r\n"
                                "Request body too large.\n";
static const char accepted[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 9\r\n"
                               "Connection: close\r\n"
                               "\r\n"
                               "Accepted\n";

static bool linger_in_process = true;
static int idle_ms = 2000, total_ms = 30000;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        reply += w;
        len -= (size_t)w;
    }
}

/* Apache's ap_lingering_close(), blocking, in the worker. */
static void lingering_close(int fd)
{
    static char discard[65536];
    if (shutdown(fd, SHUT_WR) == 0) {
        long long end = now_ms() + total_ms;
        for (;;) {
            long long left = end - now_ms();
            if (left <= 0)
                break;
            struct pollfd p = { .fd = fd, .events = POLLIN };
            int r = poll(&p, 1, (int)(left < idle_ms ? left : idle_ms));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break; /* idle timeout */
            ssize_t n = read(fd, discard, sizeof discard);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; /* the client's FIN, or an error */
        }
    }
    close(fd);
}

static void worker(int listener)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EINVAL) /* the parent shut the listener down */
                exit(0);
            perror("prefork-server: accept");
            exit(1);
        }
        answer(fd);
        if (linger_in_process)
            lingering_close(fd);
        else
            close(fd);
    }
}

static pid_t spawn(int listener)
{
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        worker(listener);
    }
    return pid;
}

int main(int argc, char **argv)
{
    int port = 0, workers = 4;
    for (int opt; (opt = getopt(argc, argv, "p:w:m:I:T:")) != -1;) {
        if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 'w')
            workers = atoi(optarg);
        else if (opt == 'm' && (strcmp(optarg, "linger") == 0 || strcmp(optarg, "close") == 0))
            linger_in_process = strcmp(optarg, "linger") == 0;
        else if (opt == 'I')
            idle_ms = atoi(optarg);
        else if (opt == 'T')
            total_ms = atoi(optarg);
        else {
            fprintf(stderr,
                    "usage: %s [-p PORT] [-w WORKERS] [-m linger|close] [-I IDLE_MS] "
                    "[-T TOTAL_MS]\n",
                    argv[0]);
            return 2;
        }
    }
    if (workers < 1 || workers > MAX_WORKERS || idle_ms < 1 || total_ms < 1) {
        fprintf(stderr, "prefork-server: bad -w, -I or -T\n");
        return 2;
    }
    /* A client that gave up makes write() fail with EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, len) != 0 || listen(listener, 511) != 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &len) != 0) {
        perror("prefork-server");
        return 1;
    }

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGCHLD);
    sigprocmask(SIG_BLOCK, &stop, NULL);

    pid_t pids[MAX_WORKERS];
    for (int i = 0; i < workers; i++)
        if ((pids[i] = spawn(listener)) < 0) {
            perror("prefork-server: fork");
            return 1;
        }
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    for (;;) {
        int sig;
        sigwait(&stop, &sig);
        if (sig != SIGCHLD)
            break;
        pid_t dead;
        while ((dead = waitpid(-1, NULL, WNOHANG)) > 0)
            for (int i = 0; i < workers; i++)
                if (pids[i] == dead)
                    pids[i] = spawn(listener);
    }
    /* Wakes every accept() with EINVAL; a worker busy with a connection
     * finishes it first. Those still running after 5 s are killed. */
    shutdown(listener, SHUT_RDWR);
    long long end = now_ms() + 5000;
    for (int left = workers; left > 0;) {
        while (left > 0 && waitpid(-1, NULL, WNOHANG) > 0)
            left--;
        long long wait_ms = end - now_ms();
        if (left > 0 && wait_ms <= 0) {
            for (int i = 0; i < workers; i++)
                if (pids[i] > 0) /* never kill(-1) */
                    kill(pids[i], SIGKILL);
            while (wait(NULL) > 0) {
            }
            break;
        }
        if (left > 0) {
            struct timespec grace = { wait_ms / 1000, (wait_ms % 1000) * 1000000 };
            sigtimedwait(&stop, NULL, &grace); /* SIGCHLD, or the time is up */
        }
    }
    return 0;
}
