/* SPDX-License-Identifier: MIT */
/* close-cost: what one close() costs with and without liblingerclose.
 *
 *   LC_LIBRARY=/path/to/liblingerclose.so close-cost [--quick]
 *
 * Runs itself as a measuring child process, alternately without and with
 * LD_PRELOAD=$LC_LIBRARY (no lib, lib, lib, no lib, ...: every pair of
 * rounds is ABBA, which cancels a linear drift of the machine), and
 * reports medians over the rounds with their min-max spread:
 *
 *  - non-socket descriptors: pipe ends, eventfds, regular files. A batch
 *    opens N descriptors, then times closing them all and divides by N.
 *    Also N numbers that are not open (EBADF), a daemon's close() loop.
 *  - a TCP socket that needs no linger: loopback pairs made here; the
 *    client closes first and the server reads end-of-file (CLOSE_WAIT)
 *    before its close() is timed. Twice: accepted with accept() (not
 *    close-on-exec, as nginx does) and with accept4(SOCK_CLOEXEC).
 *  - a TCP socket that lingers: the client wrote bytes the server never
 *    read; every server close() is timed on its own (p50/p90/p99/max),
 *    back to back ("burst") and 100 us apart ("paced"). The clients then
 *    close, so the library's drains end, and the next batch waits until
 *    they have. Without the library the same close sends a RST.
 *  - without the library, each system call the library may add to a
 *    close, timed on its own (close_syscall_*): what the figures above
 *    are made of on this machine.
 *
 * The client ends are made and closed with raw system calls, so that the
 * library neither owns nor decides about them: only the server side is
 * measured. The child keeps one TCP listener open, so the library's
 * descriptor table is in use and its drain thread runs, as in a server.
 *
 * Then it counts the system calls one close makes, with strace (if
 * installed) on the main thread between two marker calls
 * (write(-1, "close-cost:...")), for a pipe end, a peer-closed TCP socket
 * and a lingering one.
 *
 * Output: RESULT lines on stdout, progress on stderr, plot data in
 * $BENCH_OUT/close-cost.dat (kind, no-lib ns, lib ns, spreads),
 * close-linger-cdf.dat (percentiles of the lingering close) and
 * close-syscalls.dat (the cost of each system call).
 *
 * Diagnosis only: CLOSE_COST_PIN=1 pins the timing thread to CPU 0 and the
 * process's other threads (the drain thread) to CPU 1; CLOSE_COST_BATCH=1
 * makes the other threads SCHED_BATCH (no wake-up preemption).
 *
 * Internal modes: --child [--quick] (one measuring run, raw figures on
 * stdout) and --one KIND (exactly one marked close, for strace). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- sizes ------------------------------------------------------------ */

struct params {
    int rounds;         /* child runs per variant (no lib / lib) */
    int batches;        /* timed TCP batches per kind in one child (its figure: their median) */
    int ns_batches;     /* the same for the non-socket kinds (cheaper, noisier) */
    int fds;            /* non-socket descriptors closed per batch */
    int pairs;          /* TCP connections closed per peer-closed batch */
    int linger_batches; /* lingering batches per child */
    int linger_pairs;   /* lingering closes per batch */
};

static const struct params full_params = { 12, 7, 15, 1000, 200, 2, 150 };
static const struct params quick_params = { 4, 3, 5, 1000, 200, 1, 150 };

enum kind { K_PIPE, K_EVENTFD, K_FILE, K_NOT_OPEN, K_TCP_PEER_CLOSED, K_TCP_PEER_CLOSED_CLOEXEC, K_COUNT };

static const char *const kind_names[K_COUNT] = {
    "pipe", "eventfd", "file", "not_open", "tcp_peer_closed", "tcp_peer_closed_cloexec",
};

#define MARK_BEGIN "close-cost:begin"
#define MARK_END "close-cost:end"

/* ---- small helpers ---------------------------------------------------- */

/* Not progs' die(): the copies of this program that it runs at once share
 * one stderr, so each line names its process, and whatever errno says is
 * added when it says anything. */
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "close-cost[%d]: ", (int)getpid());
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (errno)
        fprintf(stderr, ": %s", strerror(errno));
    fputc('\n', stderr);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v. Nearest-rank quantile. */
static double quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t rank = (size_t)(q * (double)n);
    if ((double)rank < q * (double)n)
        rank++;
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static double median_of(const double *v, size_t n)
{
    double tmp[n ? n : 1];
    memcpy(tmp, v, n * sizeof *v);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    if (n == 0)
        return NAN;
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void min_max(const double *v, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        die("out of memory");
    return p;
}

static void raise_nofile(rlim_t wanted)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t target = rl.rlim_max == RLIM_INFINITY ? wanted : rl.rlim_max;
    if (target > wanted && wanted)
        target = wanted;
    if (rl.rlim_cur < target) {
        rl.rlim_cur = target;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- the measuring side (child) --------------------------------------- */

/* Client ends bypass the library: it neither owns nor decides about them. */
static int raw_socket(void)
{
    return (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static void raw_close(int fd)
{
    syscall(SYS_close, fd);
}

static int make_listener(struct sockaddr_in *addr)
{
    /* Through the library, as a server's listener would be. */
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0)
        die("socket");
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *addr;
    if (bind(l, (struct sockaddr *)addr, len) != 0 || listen(l, 4096) != 0 ||
        getsockname(l, (struct sockaddr *)addr, &len) != 0)
        die("listener");
    return l;
}

static void make_pair(int listener, const struct sockaddr_in *addr, bool cloexec, int *client, int *server)
{
    int c = raw_socket();
    if (c < 0)
        die("socket (client)");
    if (connect(c, (const struct sockaddr *)addr, sizeof *addr) != 0)
        die("connect");
    int s = cloexec ? accept4(listener, NULL, NULL, SOCK_CLOEXEC) : accept(listener, NULL, NULL);
    if (s < 0)
        die("accept");
    *client = c;
    *server = s;
}

/* The peer has closed: read() returns 0 (the socket is in CLOSE_WAIT). */
static void wait_eof(int fd)
{
    char buf[256];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0)
            return;
        if (n < 0 && errno != EINTR)
            die("read (waiting for the peer's FIN)");
    }
}

/* The client's bytes have arrived, unread, at the server. */
static void wait_unread(int fd, int bytes)
{
    for (int tries = 0; tries < 2000; tries++) {
        int inq = 0;
        if (ioctl(fd, SIOCINQ, &inq) == 0 && inq >= bytes)
            return;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        poll(&p, 1, 1);
    }
    errno = 0;
    die("the client's bytes did not arrive");
}

/* The drain thread's (comm "lingerclose") run time so far, from its
 * schedstat; 0 without the library. */
static double drain_thread_cpu_ns(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    double ns = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[300], text[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        bool drain = fgets(text, sizeof text, f) && strncmp(text, "lingerclose", 11) == 0;
        fclose(f);
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        if (drain && (f = fopen(path, "r"))) {
            double run = 0;
            if (fscanf(f, "%lf", &run) == 1)
                ns += run;
            fclose(f);
        }
    }
    closedir(d);
    return ns;
}

static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Until the library's drains have closed what they held (no-op without it). */
static void wait_fds_back_to(int baseline)
{
    for (int i = 0; i < 500; i++) {
        int n = count_open_fds();
        if (n < 0 || n <= baseline)
            return;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "close-cost[%d]: drains still open after 5 s\n", (int)getpid());
}

struct child_ctx {
    const struct params *p;
    int listener;
    struct sockaddr_in addr;
    char file_path[64];
    int *a, *b; /* descriptor arrays */
};

/* Far above anything the measuring child opens. */
#define NOT_OPEN_BASE 60000

static double batch_nonsocket(struct child_ctx *cx, enum kind k)
{
    int n = cx->p->fds;
    int *fd = cx->a;
    for (int i = 0; i < n; i++) {
        switch (k) {
        case K_PIPE:
            if (i % 2 == 0 && pipe2(&fd[i], O_CLOEXEC) != 0)
                die("pipe");
            break;
        case K_EVENTFD:
            fd[i] = eventfd(0, EFD_CLOEXEC);
            break;
        case K_NOT_OPEN:
            /* A daemon's close() loop over every number: nearly all EBADF. */
            fd[i] = NOT_OPEN_BASE + i;
            continue;
        default:
            fd[i] = open(cx->file_path, O_RDONLY | O_CLOEXEC);
            break;
        }
        if (fd[i] < 0)
            die("open (%s)", kind_names[k]);
    }
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++)
        close(fd[i]);
    uint64_t t1 = now_ns();
    return (double)(t1 - t0) / n;
}

static double batch_tcp_peer_closed(struct child_ctx *cx, bool cloexec, int n)
{
    int *client = cx->a, *server = cx->b;
    for (int i = 0; i < n; i++)
        make_pair(cx->listener, &cx->addr, cloexec, &client[i], &server[i]);
    for (int i = 0; i < n; i++)
        raw_close(client[i]);
    for (int i = 0; i < n; i++)
        wait_eof(server[i]);
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++)
        close(server[i]);
    uint64_t t1 = now_ns();
    return (double)(t1 - t0) / n;
}

static double batch(struct child_ctx *cx, enum kind k, bool warm_up)
{
    switch (k) {
    case K_TCP_PEER_CLOSED:
    case K_TCP_PEER_CLOSED_CLOEXEC:
        return batch_tcp_peer_closed(cx, k == K_TCP_PEER_CLOSED_CLOEXEC,
                                     warm_up ? cx->p->pairs / 5 : cx->p->pairs);
    default:
        return batch_nonsocket(cx, k);
    }
}

static void pin_threads(void);

#define LINGER_BYTES 100
static const char linger_payload[LINGER_BYTES] = "POST /upload HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n";

/* n loopback pairs whose server ends hold LINGER_BYTES unread bytes. */
static void make_unread_pairs(struct child_ctx *cx, int n)
{
    for (int i = 0; i < n; i++) {
        make_pair(cx->listener, &cx->addr, false, &cx->a[i], &cx->b[i]);
        if (write(cx->a[i], linger_payload, sizeof linger_payload) != (ssize_t)sizeof linger_payload)
            die("write (client)");
    }
    for (int i = 0; i < n; i++)
        wait_unread(cx->b[i], LINGER_BYTES);
}

/* Without the library: the close of a socket with nothing unread and its
 * peer still open, which sends a FIN, what a lingering close is measured
 * against. Times each close into samples. */
static void batch_fin(struct child_ctx *cx, double *samples, int n)
{
    for (int i = 0; i < n; i++)
        make_pair(cx->listener, &cx->addr, false, &cx->a[i], &cx->b[i]);
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        close(cx->b[i]);
        samples[i] = (double)(now_ns() - t0);
    }
    for (int i = 0; i < n; i++)
        raw_close(cx->a[i]);
}

static void spin_until(uint64_t t)
{
    while (now_ns() < t) {
    }
}

/* Times each close of a server end with unread input, pace_ns apart
 * (0: back to back). Returns how many clients saw the connection end with
 * a FIN (the library lingered) rather than a RST (a plain close). */
static int batch_linger(struct child_ctx *cx, double *samples, int n, uint64_t pace_ns, int *resets)
{
    int *client = cx->a, *server = cx->b;
    int baseline = count_open_fds();
    make_unread_pairs(cx, n);
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        close(server[i]);
        uint64_t t1 = now_ns();
        samples[i] = (double)(t1 - t0);
        if (pace_ns)
            spin_until(t1 + pace_ns);
    }
    int fins = 0;
    for (int i = 0; i < n; i++) {
        struct pollfd p = { .fd = client[i], .events = POLLIN };
        char buf[64];
        if (poll(&p, 1, 2000) == 1) {
            ssize_t r = read(client[i], buf, sizeof buf);
            if (r == 0)
                fins++;
            else if (r < 0 && errno == ECONNRESET)
                (*resets)++;
        }
    }
    for (int i = 0; i < n; i++)
        raw_close(client[i]);
    /* The library's drains end when their clients have closed. */
    wait_fds_back_to(baseline);
    return fins;
}

/* ---- the parts of a lingering close, without the library -------------- */

/* Stands in for the drain thread: takes the descriptors handed to it and
 * keeps them until the batch ends. */
static int parts_channel[2];
static int parts_received[4096];
static _Atomic int parts_received_n;

static void *parts_receiver(void *unused)
{
    (void)unused;
    for (;;) {
        char byte;
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                              .msg_controllen = sizeof control.buf };
        if (recvmsg(parts_channel[1], &msg, MSG_CMSG_CLOEXEC) <= 0)
            return NULL;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        int fd;
        if (c && c->cmsg_type == SCM_RIGHTS) {
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
            int i = parts_received_n++;
            if (i < 4096)
                parts_received[i] = fd;
        }
    }
}

static void hand_over(int fd)
{
    char byte = 0;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                          .msg_controllen = sizeof control.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    sendmsg(parts_channel[0], &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

enum part {
    P_PEEK_EOF, P_TCP_INFO_EOF, P_SIOCINQ_EOF,                             /* peer closed */
    P_PEEK, P_TCP_INFO, P_SIOCINQ, P_WAITID, P_SENDMSG, P_SHUTDOWN, P_CLOSE, /* unread input */
    P_COUNT
};

static const char *const part_names[P_COUNT] = {
    "peek_eof", "tcp_info_eof", "siocinq_eof", "peek", "tcp_info", "siocinq", "waitid", "sendmsg_scm_rights",
    "shutdown_wr", "close_after_handoff",
};

static const char *const part_notes[P_COUNT] = {
    "recv(1, MSG_PEEK|MSG_DONTWAIT) of a socket in CLOSE_WAIT, nothing unread (returns 0)",
    "getsockopt(TCP_INFO), same sockets",
    "ioctl(SIOCINQ), same sockets",
    "recv(1, MSG_PEEK|MSG_DONTWAIT) of a socket with unread input",
    "getsockopt(TCP_INFO), same sockets",
    "ioctl(SIOCINQ), same sockets",
    "waitid(P_ALL, WNOHANG|WNOWAIT) without children",
    "sendmsg of the descriptor (SCM_RIGHTS) to a waiting thread",
    "shutdown(SHUT_WR) (the FIN; on loopback the peer's receive runs inline)",
    "close() once the descriptor was handed over",
};

static double time_call(int part, int fd)
{
    char byte;
    union {
        struct tcp_info info; /* glibc's is shorter than the kernel's: ask for as much as the library */
        uint8_t bytes[256];
    } info;
    socklen_t len = sizeof info;
    int inq;
    siginfo_t si;
    uint64_t t0 = now_ns();
    switch (part) {
    case P_PEEK_EOF:
    case P_PEEK:
        recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        break;
    case P_TCP_INFO_EOF:
    case P_TCP_INFO:
        getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len);
        break;
    case P_SIOCINQ_EOF:
    case P_SIOCINQ:
        ioctl(fd, SIOCINQ, &inq);
        break;
    case P_WAITID:
        waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT);
        break;
    case P_SENDMSG:
        hand_over(fd);
        break;
    case P_SHUTDOWN:
        shutdown(fd, SHUT_WR);
        break;
    default:
        close(fd);
        break;
    }
    return (double)(now_ns() - t0);
}

/* Each system call a close through the library may make, timed on its own
 * in the library's order, over n sockets; prints the medians. */
static void measure_parts(struct child_ctx *cx, int n)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, parts_channel) != 0)
        die("socketpair");
    pthread_t receiver;
    if (pthread_create(&receiver, NULL, parts_receiver, NULL) != 0)
        die("pthread_create");
    const char *pin = getenv("CLOSE_COST_PIN");
    const char *batch = getenv("CLOSE_COST_BATCH");
    if ((pin && *pin == '1') || (batch && *batch == '1'))
        pin_threads();
    double *v[P_COUNT];
    for (int k = 0; k < P_COUNT; k++)
        v[k] = xcalloc((size_t)n, sizeof(double));

    /* Peer closed, nothing unread. */
    for (int i = 0; i < n; i++)
        make_pair(cx->listener, &cx->addr, false, &cx->a[i], &cx->b[i]);
    for (int i = 0; i < n; i++)
        raw_close(cx->a[i]);
    for (int i = 0; i < n; i++)
        wait_eof(cx->b[i]);
    for (int i = 0; i < n; i++)
        for (int k = P_PEEK_EOF; k <= P_SIOCINQ_EOF; k++)
            v[k][i] = time_call(k, cx->b[i]);
    for (int i = 0; i < n; i++)
        close(cx->b[i]);

    /* Unread input: the lingering close's calls, each socket in turn. */
    parts_received_n = 0;
    make_unread_pairs(cx, n);
    for (int i = 0; i < n; i++)
        for (int k = P_PEEK; k < P_COUNT; k++)
            v[k][i] = time_call(k, cx->b[i]);
    for (int i = 0; i < n; i++)
        raw_close(cx->a[i]);
    for (int tries = 0; parts_received_n < n && tries < 1000; tries++)
        usleep(1000);
    for (int i = 0; i < parts_received_n && i < 4096; i++)
        close(parts_received[i]);

    for (int k = 0; k < P_COUNT; k++)
        printf("part %s %.1f\n", part_names[k], median_of(v[k], (size_t)n));
    shutdown(parts_channel[0], SHUT_RDWR);
    pthread_join(receiver, NULL);
    close(parts_channel[0]);
    close(parts_channel[1]);
}

/* Diagnosis (CLOSE_COST_PIN=1): this thread on CPU 0, every other thread
 * of the process (the library's drain thread) on CPU 1, so that a woken
 * drain thread cannot preempt the thread that is timing its close(). */
static void pin_threads(void)
{
    pid_t me = (pid_t)syscall(SYS_gettid);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(me, sizeof set, &set);
    const char *batch = getenv("CLOSE_COST_BATCH");
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid <= 0 || tid == me)
            continue;
        if (batch && *batch == '1') {
            struct sched_param sp = { 0 };
            sched_setscheduler(tid, SCHED_BATCH, &sp);
            continue;
        }
        CPU_ZERO(&set);
        CPU_SET(1, &set);
        sched_setaffinity(tid, sizeof set, &set);
    }
    closedir(d);
}

static void child_setup(struct child_ctx *cx, const struct params *p, int max_fds)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(120);
    cx->p = p;
    cx->a = xcalloc((size_t)max_fds, sizeof(int));
    cx->b = xcalloc((size_t)max_fds, sizeof(int));
    cx->listener = make_listener(&cx->addr);
    snprintf(cx->file_path, sizeof cx->file_path, "/tmp/close-cost-%d", (int)getpid());
    int fd = open(cx->file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, "x\n", 2) != 2)
        die("%s", cx->file_path);
    close(fd);
    const char *pin = getenv("CLOSE_COST_PIN");
    const char *batch = getenv("CLOSE_COST_BATCH");
    if ((pin && *pin == '1') || (batch && *batch == '1'))
        pin_threads();
}

static int child_main(const struct params *p)
{
    struct child_ctx cx;
    int max = p->fds > p->pairs ? p->fds : p->pairs;
    if (p->linger_pairs > max)
        max = p->linger_pairs;
    child_setup(&cx, p, max);

    for (int k = 0; k < K_COUNT; k++)
        batch(&cx, (enum kind)k, true);
    int most = p->ns_batches > p->batches ? p->ns_batches : p->batches;
    double figures[K_COUNT][most];
    for (int b = 0; b < most; b++)
        for (int k = 0; k < K_COUNT; k++)
            if (b < (k >= K_TCP_PEER_CLOSED ? p->batches : p->ns_batches))
                figures[k][b] = batch(&cx, (enum kind)k, false);
    for (int k = 0; k < K_COUNT; k++)
        printf("ns %s %.2f\n", kind_names[k],
               median_of(figures[k], (size_t)(k >= K_TCP_PEER_CLOSED ? p->batches : p->ns_batches)));

    /* Lingering closes: a warm-up batch, then back to back ("burst") and
     * 100 us apart ("paced", a server doing other work in between). */
    int n = p->linger_pairs, resets = 0;
    double *samples = xcalloc((size_t)n, sizeof(double));
    batch_linger(&cx, samples, n / 5 > 0 ? n / 5 : 1, 0, &resets);
    /* The drain thread's work for every lingering close below: adopt the
     * socket, read what is unread and the peer's FIN (each client closes
     * as soon as it has read the server's FIN), close it. */
    double drain_cpu_before = drain_thread_cpu_ns();
    for (int paced = 0; paced < 2; paced++) {
        int fins = 0;
        resets = 0;
        printf("lsamples %s", paced ? "paced" : "burst");
        for (int b = 0; b < p->linger_batches; b++) {
            fins += batch_linger(&cx, samples, n, paced ? 100000 : 0, &resets);
            for (int i = 0; i < n; i++)
                printf(" %.0f", samples[i]);
        }
        printf("\nlends %s %d %d %d\n", paced ? "paced" : "burst", fins, resets, n * p->linger_batches);
    }
    printf("drain_cpu %.1f\n", (drain_thread_cpu_ns() - drain_cpu_before) / (2.0 * n * p->linger_batches));

    /* Without the library: what each of its system calls costs here. */
    const char *preload = getenv("LD_PRELOAD");
    if (!preload || !*preload) {
        printf("fsamples");
        for (int b = 0; b < p->linger_batches; b++) {
            batch_fin(&cx, samples, n);
            for (int i = 0; i < n; i++)
                printf(" %.0f", samples[i]);
        }
        printf("\n");
        measure_parts(&cx, n);
    }

    unlink(cx.file_path);
    fflush(stdout);
    return 0;
}

static void mark(const char *what)
{
    /* Shows in strace as write(-1, "close-cost:...", ...) = -1 EBADF. */
    syscall(SYS_write, -1, what, strlen(what));
}

/* Exactly one marked close of KIND (after one unmarked close of the same
 * kind, so that nothing lazy is counted), for strace. */
static int one_main(const char *kind)
{
    static const struct params p = { 1, 1, 1, 2, 2, 1, 2 };
    struct child_ctx cx;
    child_setup(&cx, &p, 4);
    for (int round = 0; round < 2; round++) {
        int fds[2], client, server;
        if (strcmp(kind, "pipe") == 0) {
            if (pipe2(fds, O_CLOEXEC) != 0)
                die("pipe");
            if (round)
                mark(MARK_BEGIN);
            close(fds[0]);
            if (round)
                mark(MARK_END);
            close(fds[1]);
        } else if (strcmp(kind, "tcp_peer_closed") == 0 || strcmp(kind, "tcp_peer_closed_cloexec") == 0) {
            make_pair(cx.listener, &cx.addr, strcmp(kind, "tcp_peer_closed_cloexec") == 0, &client, &server);
            raw_close(client);
            wait_eof(server);
            if (round)
                mark(MARK_BEGIN);
            close(server);
            if (round)
                mark(MARK_END);
        } else if (strcmp(kind, "tcp_linger") == 0) {
            int baseline = count_open_fds();
            make_pair(cx.listener, &cx.addr, false, &client, &server);
            if (write(client, "hello", 5) != 5)
                die("write");
            wait_unread(server, 5);
            if (round)
                mark(MARK_BEGIN);
            close(server);
            if (round)
                mark(MARK_END);
            raw_close(client);
            wait_fds_back_to(baseline);
        } else if (strcmp(kind, "tcp_peer_reset") == 0) {
            make_pair(cx.listener, &cx.addr, false, &client, &server);
            struct linger abortive = { 1, 0 };
            if (syscall(SYS_setsockopt, client, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive) != 0)
                die("setsockopt (client)");
            raw_close(client);
            struct pollfd hup = { .fd = server, .events = POLLIN };
            while (poll(&hup, 1, -1) < 0 && errno == EINTR)
                ;
            if (round)
                mark(MARK_BEGIN);
            close(server);
            if (round)
                mark(MARK_END);
        } else if (strcmp(kind, "tcp_quiet") == 0 || strcmp(kind, "tcp_abortive") == 0 ||
                   strcmp(kind, "tcp_shared") == 0) {
            make_pair(cx.listener, &cx.addr, false, &client, &server);
            int other = -1;
            if (strcmp(kind, "tcp_quiet") == 0) {
                /* Past the decision's window of recent data. */
                struct timespec quiet = { 1, 100 * 1000 * 1000 };
                while (nanosleep(&quiet, &quiet) != 0 && errno == EINTR)
                    ;
            } else if (strcmp(kind, "tcp_abortive") == 0) {
                struct linger abortive = { 1, 0 };
                if (setsockopt(server, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive) != 0)
                    die("setsockopt");
            } else {
                raw_close(client);
                client = -1;
                wait_eof(server);
                other = dup(server);
            }
            if (round)
                mark(MARK_BEGIN);
            close(server);
            if (round)
                mark(MARK_END);
            if (other >= 0)
                close(other);
            if (client >= 0)
                raw_close(client);
        } else if (strcmp(kind, "unix_accepted") == 0) {
            struct sockaddr_un name = { .sun_family = AF_UNIX };
            snprintf(name.sun_path + 1, sizeof name.sun_path - 1, "close-cost-%ld-%d", (long)getpid(), round);
            socklen_t name_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name.sun_path + 1));
            int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            client = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (listener < 0 || client < 0 || bind(listener, (struct sockaddr *)&name, name_len) != 0 ||
                listen(listener, 1) != 0 || connect(client, (struct sockaddr *)&name, name_len) != 0)
                die("unix socket");
            server = accept(listener, NULL, NULL);
            if (server < 0)
                die("accept (unix)");
            if (round)
                mark(MARK_BEGIN);
            close(server);
            if (round)
                mark(MARK_END);
            raw_close(client);
            close(listener);
        } else {
            errno = 0;
            die("--one: unknown kind %s", kind);
        }
    }
    unlink(cx.file_path);
    return 0;
}

/* ---- the driving side (parent) ---------------------------------------- */

static volatile sig_atomic_t current_child = 0;

static void on_signal(int sig)
{
    if (current_child > 0)
        kill((pid_t)current_child, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* environ without LD_PRELOAD, plus the given extra entries (NULL-ended). */
static char **make_env(const char *const *extra)
{
    size_t n = 0, e = 0;
    while (environ[n])
        n++;
    while (extra && extra[e])
        e++;
    char **env = xcalloc(n + e + 1, sizeof(char *));
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[j++] = environ[i];
    for (size_t i = 0; i < e; i++)
        env[j++] = (char *)extra[i];
    env[j] = NULL;
    return env;
}

/* Runs argv with env, its stdout captured (returned, malloc'd) unless
 * out_path is given. Returns NULL if it failed. */
static char *run(const char *path, char *const argv[], char **env, bool search)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    pid_t pid;
    int err = search ? posix_spawnp(&pid, path, &fa, NULL, argv, env)
                     : posix_spawn(&pid, path, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (err != 0) {
        close(pipefd[0]);
        errno = err;
        return NULL;
    }
    current_child = pid;
    size_t cap = 1 << 16, len = 0;
    char *buf = xcalloc(cap, 1);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                die("out of memory");
        }
        ssize_t r = read(pipefd[0], buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    current_child = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "close-cost: %s failed (status %d)\n", argv[0], status);
        free(buf);
        return NULL;
    }
    return buf;
}

struct pool {
    double *v; /* pooled samples of every round */
    size_t n, cap;
    double p50_round[64], p99_round[64];
    int fins, resets, total;
};

/* The percentiles of the samples one round added to the pool. */
static void pool_round_quantiles(struct pool *pl, size_t first, int round)
{
    size_t n = pl->n - first;
    double *tmp = xcalloc(n ? n : 1, sizeof(double));
    memcpy(tmp, pl->v + first, n * sizeof(double));
    pl->p50_round[round] = quantile(tmp, n, 0.50);
    pl->p99_round[round] = quantile(tmp, n, 0.99);
    free(tmp);
}

struct variant_data {
    double ns[K_COUNT][64];     /* per round */
    double part[P_COUNT][64];   /* per round (no-lib runs only) */
    struct pool linger[2];      /* [0] burst, [1] paced */
    double drain_cpu[64];       /* per round: drain-thread ns per lingering close */
    struct pool fin;            /* no-lib closes that send a FIN */
};

static void pool_add(struct pool *pl, double x)
{
    if (pl->n == pl->cap) {
        pl->cap = pl->cap ? pl->cap * 2 : 4096;
        pl->v = realloc(pl->v, pl->cap * sizeof(double));
        if (!pl->v)
            die("out of memory");
    }
    pl->v[pl->n++] = x;
}

static void parse_child(const char *out, struct variant_data *v, int round)
{
    char *copy = strdup(out);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[64];
        double x;
        int f, r, t, used = 0;
        if (sscanf(line, "drain_cpu %lf", &x) == 1) {
            v->drain_cpu[round] = x;
        } else if (strncmp(line, "fsamples", 8) == 0) {
            char *p = line + 8, *end;
            size_t first = v->fin.n;
            for (;;) {
                x = strtod(p, &end);
                if (end == p)
                    break;
                p = end;
                pool_add(&v->fin, x);
            }
            pool_round_quantiles(&v->fin, first, round);
        } else if (sscanf(line, "ns %63s %lf", name, &x) == 2) {
            for (int k = 0; k < K_COUNT; k++)
                if (strcmp(name, kind_names[k]) == 0)
                    v->ns[k][round] = x;
        } else if (sscanf(line, "part %63s %lf", name, &x) == 2) {
            for (int k = 0; k < P_COUNT; k++)
                if (strcmp(name, part_names[k]) == 0)
                    v->part[k][round] = x;
        } else if (sscanf(line, "lends %63s %d %d %d", name, &f, &r, &t) == 4) {
            struct pool *pl = &v->linger[strcmp(name, "paced") == 0];
            pl->fins += f;
            pl->resets += r;
            pl->total += t;
        } else if (sscanf(line, "lsamples %63s %n", name, &used) == 1 && used > 0) {
            struct pool *pl = &v->linger[strcmp(name, "paced") == 0];
            char *p = line + used, *end;
            size_t first = pl->n;
            for (;;) {
                x = strtod(p, &end);
                if (end == p)
                    break;
                p = end;
                pool_add(pl, x);
            }
            pool_round_quantiles(pl, first, round);
        }
    }
    free(copy);
}

/* Counts the system calls of the main thread between the markers. */
static int strace_count(const char *self, const char *lib, const char *kind, char *names, size_t names_len)
{
    char trace[] = "/tmp/close-cost-strace-XXXXXX";
    int tfd = mkstemp(trace);
    if (tfd < 0)
        return -1;
    close(tfd);
    char preload[4096];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lib ? lib : "");
    const char *argv_lib[] = { "strace", "-qq", "-o", trace, "-E", preload, self, "--one", kind, NULL };
    const char *argv_nolib[] = { "strace", "-qq", "-o", trace, self, "--one", kind, NULL };
    char **env = make_env(NULL);
    char *out = run("strace", (char *const *)(lib ? argv_lib : argv_nolib), env, true);
    free(env);
    int count = -1;
    names[0] = '\0';
    FILE *f = out ? fopen(trace, "r") : NULL;
    if (f) {
        char line[4096];
        bool inside = false;
        while (fgets(line, sizeof line, f)) {
            if (strstr(line, MARK_BEGIN)) {
                inside = true;
                count = 0;
                continue;
            }
            if (strstr(line, MARK_END))
                break;
            if (!inside || line[0] == '+' || line[0] == '-' || !strchr(line, '('))
                continue;
            count++;
            size_t used = strlen(names);
            size_t name_len = strcspn(line, "(");
            if (used + name_len + 2 < names_len)
                snprintf(names + used, names_len - used, "%s%.*s", used ? "," : "", (int)name_len, line);
        }
        fclose(f);
    }
    free(out);
    unlink(trace);
    return count;
}

static void report_syscalls(const char *self, const char *lib, const char *kind, const char *result)
{
    char with[512], without[512];
    int n_lib = strace_count(self, lib, kind, with, sizeof with);
    int n_nolib = strace_count(self, NULL, kind, without, sizeof without);
    if (n_lib < 0 || n_nolib < 0) {
        printf("RESULT %s n/a syscalls strace failed or is not installed (apt-get install strace)\n", result);
        return;
    }
    printf("RESULT %s %d syscalls one close(): lib %d [%s], no lib %d [%s]\n", result, n_lib - n_nolib,
           n_lib, with, n_nolib, without);
}

static FILE *open_plot(const char *name)
{
    const char *dir = getenv("BENCH_OUT");
    if (!dir || !*dir)
        return NULL;
    mkdir(dir, 0755);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "close-cost: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static void usage(void)
{
    fprintf(stderr, "usage: LC_LIBRARY=/path/to/liblingerclose.so close-cost [--quick]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const struct params *p = &full_params;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "--child") == 0) {
        if (argc >= 3 && strcmp(argv[2], "--quick") == 0)
            p = &quick_params;
        return child_main(p);
    }
    if (argc == 3 && strcmp(argv[1], "--one") == 0)
        return one_main(argv[2]);
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else
            usage();
    }
    if (quick)
        p = &quick_params;

    const char *lib = getenv("LC_LIBRARY");
    if (!lib || !*lib || access(lib, R_OK) != 0) {
        fprintf(stderr, "close-cost: set LC_LIBRARY to the path of liblingerclose.so\n");
        return 2;
    }
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0)
        die("readlink /proc/self/exe");
    self[sl] = '\0';

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    raise_nofile(65536);

    /* The library run: LD_PRELOAD, and room for every lingering socket of a
     * batch (unless the caller chose a limit). */
    char preload[4096];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lib);
    char max_sockets[64];
    snprintf(max_sockets, sizeof max_sockets, "LINGERCLOSE_MAX_SOCKETS=%d", 4 * p->linger_pairs);
    const char *lib_extra[] = { preload, getenv("LINGERCLOSE_MAX_SOCKETS") ? NULL : max_sockets, NULL };
    char **env_lib = make_env(lib_extra);
    char **env_nolib = make_env(NULL);
    char *child_argv[] = { self, (char *)"--child", quick ? (char *)"--quick" : NULL, NULL };

    static struct variant_data data[2]; /* [0] no lib, [1] lib */
    uint64_t started = now_ns();
    for (int r = 0; r < p->rounds; r++) {
        for (int i = 0; i < 2; i++) {
            int with_lib = (r % 2 == 0) ? i : 1 - i; /* ABBA */
            char *out = run(self, child_argv, with_lib ? env_lib : env_nolib, false);
            if (!out)
                die("round %d (%s) failed", r + 1, with_lib ? "lib" : "no lib");
            parse_child(out, &data[with_lib], r);
            free(out);
        }
        fprintf(stderr,
                "close-cost: round %d/%d: pipe %.0f/%.0f ns, tcp peer-closed %.0f/%.0f ns (no lib/lib), "
                "%.1f s\n",
                r + 1, p->rounds, data[0].ns[K_PIPE][r], data[1].ns[K_PIPE][r],
                data[0].ns[K_TCP_PEER_CLOSED][r], data[1].ns[K_TCP_PEER_CLOSED][r],
                (double)(now_ns() - started) / 1e9);
    }

    const char *what[K_COUNT] = {
        "closes of pipe ends (both ends, in pipe order)",
        "closes of eventfds",
        "closes of a regular file's descriptors",
        "closes of numbers that are not open (EBADF), as in a daemon's close() loop",
        "closes of accepted TCP sockets in CLOSE_WAIT, nothing unread",
        "closes of accept4(SOCK_CLOEXEC) TCP sockets in CLOSE_WAIT, nothing unread",
    };
    FILE *dat = open_plot("close-cost.dat");
    if (dat)
        fprintf(dat, "# kind nolib_ns lib_ns nolib_min nolib_max lib_min lib_max (median ns per close() over "
                     "%d rounds)\n",
                p->rounds);
    for (int k = 0; k < K_COUNT; k++) {
        double m0 = median_of(data[0].ns[k], (size_t)p->rounds);
        double m1 = median_of(data[1].ns[k], (size_t)p->rounds);
        double lo0, hi0, lo1, hi1, rlo, rhi, ratios[64];
        min_max(data[0].ns[k], (size_t)p->rounds, &lo0, &hi0);
        min_max(data[1].ns[k], (size_t)p->rounds, &lo1, &hi1);
        for (int r = 0; r < p->rounds; r++)
            ratios[r] = data[1].ns[k][r] / data[0].ns[k][r];
        min_max(ratios, (size_t)p->rounds, &rlo, &rhi);
        int per_batch = k >= K_TCP_PEER_CLOSED ? p->pairs : p->fds;
        printf("RESULT close_ratio_%s %.3f x no lib %.1f ns (%.1f-%.1f), lib %.1f ns (%.1f-%.1f), "
               "per-round ratio median %.3f (%.3f-%.3f); medians of %d alternating rounds, each the median "
               "of %d batches of %d %s\n",
               kind_names[k], m1 / m0, m0, lo0, hi0, m1, lo1, hi1, median_of(ratios, (size_t)p->rounds), rlo,
               rhi, p->rounds, k >= K_TCP_PEER_CLOSED ? p->batches : p->ns_batches, per_batch, what[k]);
        if (dat)
            fprintf(dat, "%s %.2f %.2f %.2f %.2f %.2f %.2f\n", kind_names[k], m0, m1, lo0, hi0, lo1, hi1);
    }

    /* Lingering close: the library's distribution, and for reference the
     * plain close of unread input (a RST) without it. */
    FILE *cdf = open_plot("close-linger-cdf.dat");
    if (cdf)
        fprintf(cdf, "# percentile nolib_burst_ns lib_burst_ns nolib_paced_ns lib_paced_ns (time in one close() "
                     "of a socket with unread input)\n");
    double q[2][2][4]; /* [lib][paced][p50 p90 p99 max] */
    for (int v = 0; v < 2; v++)
        for (int paced = 0; paced < 2; paced++) {
            struct pool *pl = &data[v].linger[paced];
            q[v][paced][0] = quantile(pl->v, pl->n, 0.50);
            q[v][paced][1] = quantile(pl->v, pl->n, 0.90);
            q[v][paced][2] = quantile(pl->v, pl->n, 0.99);
            q[v][paced][3] = pl->n ? pl->v[pl->n - 1] : NAN;
        }
    if (cdf) {
        for (int pc = 1; pc <= 100; pc++) {
            double qq = pc == 100 ? 1.0 : pc / 100.0;
            fprintf(cdf, "%d", pc);
            for (int paced = 0; paced < 2; paced++)
                for (int v = 0; v < 2; v++)
                    fprintf(cdf, " %.0f", quantile(data[v].linger[paced].v, data[v].linger[paced].n, qq));
            fputc('\n', cdf);
        }
        fclose(cdf);
    }
    if (dat) {
        fprintf(dat, "linger_burst_p50 %.2f %.2f\nlinger_burst_p99 %.2f %.2f\n", q[0][0][0], q[1][0][0],
                q[0][0][2], q[1][0][2]);
        fprintf(dat, "linger_paced_p50 %.2f %.2f\nlinger_paced_p99 %.2f %.2f\n", q[0][1][0], q[1][1][0],
                q[0][1][2], q[1][1][2]);
        fclose(dat);
    }
    for (int paced = 0; paced < 2; paced++) {
        struct pool *pl = &data[1].linger[paced];
        const char *tag = paced ? "_paced" : "";
        double plo, phi;
        min_max(pl->p99_round, (size_t)p->rounds, &plo, &phi);
        printf("RESULT close_linger%s_p50_ns %.0f ns lib: %zu timed close() of accepted TCP sockets with %d "
               "unread bytes, %s, %d rounds; the client saw a FIN %d times of %d, a RST %d; no lib (a RST): "
               "p50 %.0f ns; each sample includes one clock_gettime\n",
               tag, q[1][paced][0], pl->n, LINGER_BYTES,
               paced ? "100 us apart" : "back to back (the drain thread works meanwhile)", p->rounds, pl->fins,
               pl->total, pl->resets, q[0][paced][0]);
        printf("RESULT close_linger%s_p90_ns %.0f ns lib, same closes\n", tag, q[1][paced][1]);
        printf("RESULT close_linger%s_p99_ns %.0f ns lib, same closes (target <= 5000); per-round p99 "
               "%.0f-%.0f; no lib (a RST) p99 %.0f\n",
               tag, q[1][paced][2], plo, phi, q[0][paced][2]);
        printf("RESULT close_linger%s_max_ns %.0f ns lib, same closes; no lib max %.0f\n", tag,
               q[1][paced][3], q[0][paced][3]);
    }
    printf("RESULT close_linger_nolib_p50_ns %.0f ns no library: a plain close() of unread input (sends a "
           "RST), back to back\n",
           q[0][0][0]);
    printf("RESULT close_linger_nolib_p99_ns %.0f ns no library, same closes\n", q[0][0][2]);
    if (data[0].fin.n) {
        double fin_p50 = quantile(data[0].fin.v, data[0].fin.n, 0.5);
        double fin_p99 = quantile(data[0].fin.v, data[0].fin.n, 0.99);
        printf("RESULT close_fin_nolib_p50_ns %.0f ns no library: %zu timed close() of accepted TCP sockets with "
               "nothing unread, peer open (sends a FIN)\n", fin_p50, data[0].fin.n);
        printf("RESULT close_fin_nolib_p99_ns %.0f ns no library, same closes\n", fin_p99);
        /* Rounds r of the two variants ran side by side (one ABBA pair). */
        double r50[64], r99[64], lo50, hi50, lo99, hi99;
        for (int r = 0; r < p->rounds; r++) {
            r50[r] = data[1].linger[0].p50_round[r] / data[0].fin.p50_round[r];
            r99[r] = data[1].linger[0].p99_round[r] / data[0].fin.p99_round[r];
        }
        min_max(r50, (size_t)p->rounds, &lo50, &hi50);
        min_max(r99, (size_t)p->rounds, &lo99, &hi99);
        printf("RESULT close_linger_vs_fin_p50_ratio %.2f x lingering close() p50 (lib, back to back) / FIN "
               "close() p50 (no lib), pooled samples; per-round ratio median %.2f (%.2f-%.2f) "
               "(target <= 1.25)\n",
               q[1][0][0] / fin_p50, median_of(r50, (size_t)p->rounds), lo50, hi50);
        printf("RESULT close_linger_vs_fin_p99_ratio %.2f x lingering close() p99 / FIN close() p99, pooled "
               "samples; per-round ratio median %.2f (%.2f-%.2f) (target <= 1.5)\n",
               q[1][0][2] / fin_p99, median_of(r99, (size_t)p->rounds), lo99, hi99);
    }
    {
        double lo, hi;
        min_max(data[1].drain_cpu, (size_t)p->rounds, &lo, &hi);
        printf("RESULT drain_cpu_per_lingering_close_ns %.0f ns lib: the drain thread's run time (schedstat) "
               "per lingering close whose peer closes on the FIN, median of %d rounds (%.0f-%.0f) "
               "(target <= 4000)\n",
               median_of(data[1].drain_cpu, (size_t)p->rounds), p->rounds, lo, hi);
    }

    /* What each system call of the library costs on this machine. */
    FILE *parts = open_plot("close-syscalls.dat");
    if (parts)
        fprintf(parts, "# call median_ns min_ns max_ns (over %d rounds, without the library)\n", p->rounds);
    for (int k = 0; k < P_COUNT; k++) {
        double lo, hi;
        min_max(data[0].part[k], (size_t)p->rounds, &lo, &hi);
        double m = median_of(data[0].part[k], (size_t)p->rounds);
        printf("RESULT close_syscall_%s_ns %.0f ns %s; median of %d rounds (%.0f-%.0f), each the median of %d "
               "sockets\n",
               part_names[k], m, part_notes[k], p->rounds, lo, hi, p->linger_pairs);
        if (parts)
            fprintf(parts, "%s %.1f %.1f %.1f\n", part_names[k], m, lo, hi);
    }
    if (parts)
        fclose(parts);

    /* System calls of one close, counted with strace. */
    report_syscalls(self, lib, "tcp_peer_closed", "close_extra_syscalls_tcp_no_linger");
    report_syscalls(self, lib, "tcp_peer_closed_cloexec", "close_extra_syscalls_tcp_no_linger_cloexec");
    report_syscalls(self, lib, "pipe", "close_extra_syscalls_pipe");
    report_syscalls(self, lib, "tcp_linger", "close_extra_syscalls_tcp_linger");
    report_syscalls(self, lib, "tcp_peer_reset", "close_extra_syscalls_tcp_peer_reset");
    report_syscalls(self, lib, "tcp_quiet", "close_extra_syscalls_tcp_quiet");
    report_syscalls(self, lib, "tcp_abortive", "close_extra_syscalls_tcp_abortive");
    report_syscalls(self, lib, "tcp_shared", "close_extra_syscalls_tcp_shared");
    report_syscalls(self, lib, "unix_accepted", "close_extra_syscalls_unix_accepted");
    fprintf(stderr, "close-cost: done in %.1f s\n", (double)(now_ns() - started) / 1e9);
    return 0;
}
