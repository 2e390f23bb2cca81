/* SPDX-License-Identifier: MIT */
/* bench/drain-scale.c: drain scale.
 *
 * One program, two roles. Run without arguments (or with --quick) it is the
 * orchestrator and the client; it re-executes itself as "--server ..." for
 * the measured server, with LD_PRELOAD=$LC_LIBRARY ("lib") or without it
 * ("plain"). Rounds alternate lib / plain (A B A B ...); figures are medians
 * over rounds with the min-max spread in the note.
 *
 * For each N (default 1000, 10000 and 50000; --quick: 1000):
 *   - the client opens N connections and sends 16 bytes on each; the server
 *     accepts them all and never reads, then closes them all in one burst
 *     (with the library every close lingers: unread input), while the client
 *     keeps its sockets open and silent;
 *   - memory: the server's /proc/self/smaps_rollup Private_Dirty right
 *     before the closes and once all N sockets sit in the drain thread's own
 *     descriptor table, divided by N, lib minus plain. That is user memory
 *     only: the kernel's memory for the sockets (struct sock, skbs, the
 *     epoll item, the drain's descriptor table) is not in RSS and not
 *     counted;
 *   - idle: with N sockets lingering and no traffic, the drain thread's
 *     (comm "lingerclose") schedstat run time and times scheduled in,
 *     utime+stime and context switches over a window (3 s) that ends before
 *     the first deadline: it should not wake at all;
 *   - expiry: the drain thread's CPU per socket closed at its idle timeout;
 *   - timeout accuracy: see "How the drain's final close is observed" below;
 * and once: discard throughput of the drain's recv(MSG_TRUNC) against a
 * plain server's copying recv() loop, a client streaming into one socket
 * (bytes the server's kernel acknowledged per second, and the receiving
 * thread's CPU per GB).
 *
 * Output: RESULT lines on stdout, progress on stderr, and
 * $BENCH_OUT/drain-scale.dat (the scaling curve). DRAIN_SCALE_DUMP=1 prints
 * every socket's close and RST times on stderr; --no-linger2 measures the
 * expiry CPU with the drain's ordinary (silent) final close, no lateness.
 *
 * How the drain's final close is observed (timeout accuracy). When the
 * drain thread finally closes a lingering socket it is in FIN_WAIT2 (its FIN
 * was sent at the app's close and ACKed) with nothing unread (the drain
 * discarded the client's bytes). Normally such a close is silent on the
 * wire: the socket becomes an orphan / FIN_WAIT2 timewait entry, and the
 * client cannot tell. The server therefore sets TCP_LINGER2 = -1 on every
 * accepted socket: tcp_close() of a FIN_WAIT2 socket with linger2 < 0 sends a
 * RST at that very moment (net/ipv4/tcp.c, __tcp_close, "TCPAbortOnLinger")
 * instead of leaving the orphan. linger2 changes nothing else while the
 * socket is held (it only matters for orphans), and neither the library's
 * decision nor the drain looks at it; it does make each final close dearer
 * (the RST is sent, and on loopback received, in the drain's system call:
 * compare drain_expiry_cpu_us with --no-linger2), so the lateness measured
 * is, if anything, pessimistic. The client, whose socket is in CLOSE_WAIT,
 * sees EPOLLERR|EPOLLHUP when the RST arrives (on loopback, at once). It
 * watches every socket with epoll (registered for no event: the RST's
 * EPOLLERR|EPOLLHUP are always reported, the FIN wakes nobody) and stamps the
 * RSTs per epoll batch. The server stamps each close() as it
 * returns (CLOCK_MONOTONIC is system-wide) and hands the stamps over in a
 * memfd, keyed by the client's address and port. The deadline is that close
 * + LINGERCLOSE_IDLE_TIMEOUT (the client's bytes are discarded at the
 * hand-off, then nothing moves), and lateness = RST - deadline: a drain
 * thread that adopts late, sleeps past a deadline or works through its
 * expiries slowly shows up as lateness, as it would for a real client. This
 * scales (one epoll event per socket) where polling sock_diag or
 * /proc/net/tcp for inode 0 would cost a full table dump per sample (tens of
 * ms at 50k sockets: too coarse for a 50 ms target). The idle timeout is
 * the idle window + 1 s + 60 us per socket (not 1 s) so that the idle
 * window ends before the first deadline; lateness does not depend on the
 * timeout's length, except for epoll_wait's timer slack (0.1% of the
 * timeout it sleeps for: a few ms here).
 *
 * Descriptor limits: the soft RLIMIT_NOFILE is raised to the hard one in
 * both roles. Both the server's table and the drain thread's own table are
 * bounded by it (it is per process), so N needs a hard limit >= N + 64. An N
 * that does not fit is replaced by the largest multiple of 1000 that does,
 * and a RESULT drain_n<N>_skipped line says so.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

extern char **environ;

#define CTL_FD 3               /* the server's end of the control socket pair */
#define STAMP_FD 4             /* memfd: the server's per-connection close times */
#define CLIENT_BYTES 16        /* "a few bytes" each client sends and the server never reads */
#define CONNECT_WINDOW 2000    /* connections not yet accepted (listen backlog is 4096) */
#define PER_SOURCE_ADDR 10000  /* client connections per 127.0.0.x source address: connect()
                                * picks ports from half the ephemeral range first */
#define DRAIN_COMM "lingerclose"

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static const char *role = "drain-scale";

static void progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", role);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Not progs' die(): the server and the client half of this program share
 * one stderr, so each line names its role (as progress() does), and
 * whatever errno says is added when it says anything. */
__attribute__((noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: FATAL: ", role);
    vfprintf(stderr, fmt, ap);
    if (errno)
        fprintf(stderr, " (%s)", strerror(errno));
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static rlim_t raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("setrlimit");
    return rl.rlim_max;
}

/* ---- control channel: lines over a stream socket pair ------------------ */

struct ctl {
    int fd;
    char buf[4096];
    size_t len;
};

static void ctl_send(int fd, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(fd, line + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("control write");
        off += (int)w;
    }
}

/* A complete line already buffered, or false. */
static bool ctl_take_line(struct ctl *c, char *out, size_t size)
{
    char *nl = memchr(c->buf, '\n', c->len);
    if (!nl)
        return false;
    size_t n = (size_t)(nl - c->buf);
    if (n >= size)
        n = size - 1;
    memcpy(out, c->buf, n);
    out[n] = 0;
    size_t used = (size_t)(nl - c->buf) + 1;
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
    return true;
}

/* Reads what is there (non-blocking). False on EOF. */
static bool ctl_fill(struct ctl *c)
{
    for (;;) {
        if (c->len == sizeof c->buf)
            die("control line too long");
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
        if (r > 0) {
            c->len += (size_t)r;
            continue;
        }
        if (r == 0)
            return false;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return true;
        die("control read");
    }
}

/* Blocks up to timeout_s for one line. */
static bool ctl_line(struct ctl *c, char *out, size_t size, double timeout_s)
{
    double end = mono_s() + timeout_s;
    for (;;) {
        if (ctl_take_line(c, out, size))
            return true;
        double left = end - mono_s();
        if (left <= 0)
            return false;
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno != EINTR)
            die("poll control");
        if (r > 0 && !ctl_fill(c) && !ctl_take_line(c, out, size))
            return false;
    }
}

/* ---- /proc readers ------------------------------------------------------ */

/* No stdio, no malloc: the server's heap must look the same before and
 * after the closes (opendir and fopen allocate, and the growth of the heap
 * they cause would be counted as the library's). */
static char proc_buf[16384];

static const char *read_proc(const char *path)
{
    proc_buf[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return proc_buf;
    size_t len = 0;
    ssize_t r;
    while (len < sizeof proc_buf - 1 && (r = read(fd, proc_buf + len, sizeof proc_buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    proc_buf[len] = 0;
    return proc_buf;
}

/* The number after "name" at the start of a line, or -1. */
static long long proc_field(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, n) == 0)
            return strtoll(p + n, NULL, 10);
    return -1;
}

struct mem {
    long rss_kb, private_dirty_kb, anon_kb;
};

static struct mem read_mem(void)
{
    const char *t = read_proc("/proc/self/smaps_rollup");
    return (struct mem){ (long)proc_field(t, "Rss:"), (long)proc_field(t, "Private_Dirty:"),
                         (long)proc_field(t, "Anonymous:") };
}

/* Calls fn for each entry of a /proc directory (getdents64: no malloc). */
static char dents[65536];

static long for_each_entry(const char *path, void (*fn)(const char *name, void *ctx), void *ctx)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long count = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, dents, sizeof dents);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 {
                uint64_t d_ino;
                int64_t d_off;
                unsigned short d_reclen;
                unsigned char d_type;
                char d_name[];
            } *d = (void *)(dents + off);
            if (d->d_name[0] != '.') {
                count++;
                if (fn)
                    fn(d->d_name, ctx);
            }
            off += d->d_reclen;
        }
    }
    close(fd);
    return count;
}

static void check_comm(const char *name, void *ctx)
{
    char path[300];
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", name);
    if (strncmp(read_proc(path), DRAIN_COMM "\n", strlen(DRAIN_COMM) + 1) == 0)
        *(int *)ctx = atoi(name);
}

static int find_drain_tid(void)
{
    int found = -1;
    for_each_entry("/proc/self/task", check_comm, &found);
    return found;
}

struct tstat {
    long long ticks;       /* utime + stime, clock ticks */
    long long run_ns;      /* schedstat: time on CPU */
    long long timeslices;  /* schedstat: times scheduled in */
    long long vcsw, nvcsw; /* voluntary / involuntary context switches */
};

static struct tstat read_tstat(int tid)
{
    struct tstat t = { -1, -1, -1, -1, -1 };
    char path[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    const char *p = strrchr(read_proc(path), ')');
    unsigned long long ut, st;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
        t.ticks = (long long)(ut + st);
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", tid);
    if (sscanf(read_proc(path), "%lld %*d %lld", &t.run_ns, &t.timeslices) != 2)
        t.run_ns = t.timeslices = -1;
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    const char *status = read_proc(path);
    t.vcsw = proc_field(status, "voluntary_ctxt_switches:");
    t.nvcsw = proc_field(status, "nonvoluntary_ctxt_switches:");
    return t;
}

/* Descriptors in the drain thread's own table (it unshared CLONE_FILES, so
 * /proc/self/task/<tid>/fd lists that table). */
static long count_task_fds(int tid)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/fd", tid);
    return for_each_entry(path, NULL, NULL);
}

/* ---- server role -------------------------------------------------------- */

/* When the server's close(fd) returned, for the connection from this
 * client address (the client finds its socket by key). */
struct stamp {
    uint64_t key;
    int64_t closed_ns;
};

static uint64_t stamp_key(const struct sockaddr_in *a)
{
    return ((uint64_t)ntohl(a->sin_addr.s_addr) << 16) | ntohs(a->sin_port);
}

static int listen_loopback(int *port)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0)
        die("socket");
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 65535) != 0)
        die("bind/listen");
    socklen_t al = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    return l;
}

/* "--server scale N lib|plain WINDOW_S IDLE_MS LINGER2": accept N, close
 * all, report memory and the idle window ("R ..."), then (lib) the drain
 * thread's CPU over the expiry of all N ("E ..."). */
static int server_scale(int n, bool lib, double window_s, long idle_ms, bool linger2)
{
    int ctl = CTL_FD;
    int port;
    int l = listen_loopback(&port);
    /* Every buffer the measurement uses is resident before "before". */
    memset(dents, 1, sizeof dents);
    memset(proc_buf, 1, sizeof proc_buf);
    int *fds = calloc((size_t)n, sizeof *fds);
    struct stamp *stamps = calloc((size_t)n, sizeof *stamps);
    if (!fds || !stamps)
        die("calloc");
    memset(fds, 0xff, (size_t)n * sizeof *fds);
    memset(stamps, 0xff, (size_t)n * sizeof *stamps);
    ctl_send(ctl, "PORT %d", port);

    int minus_one = -1;
    for (int i = 0; i < n; i++) {
        int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) {
                i--;
                continue;
            }
            die("accept (%d of %d)", i, n);
        }
        /* See the header: the drain's final close then sends a RST. */
        if (linger2 && setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &minus_one, sizeof minus_one) != 0)
            die("TCP_LINGER2");
        fds[i] = fd;
        if ((i + 1) % 250 == 0 || i + 1 == n)
            ctl_send(ctl, "A %d", i + 1);
    }
    /* Every close must find unread input: wait for each client's bytes. */
    double give_up = mono_s() + 10;
    for (int i = 0; i < n; i++) {
        int inq = 0;
        while (ioctl(fds[i], FIONREAD, &inq) == 0 && inq < CLIENT_BYTES && mono_s() < give_up)
            sleep_s(0.0005);
    }

    for (int i = 0; i < n; i++) {
        struct sockaddr_in peer;
        socklen_t pl = sizeof peer;
        if (getpeername(fds[i], (struct sockaddr *)&peer, &pl) != 0)
            die("getpeername");
        stamps[i].key = stamp_key(&peer);
    }

    int tid = lib ? find_drain_tid() : -1;
    if (lib && tid < 0)
        die("no thread named %s: is LD_PRELOAD working?", DRAIN_COMM);
    long fds_before = lib ? count_task_fds(tid) : 0;
    sleep_s(0.1);
    struct mem before = read_mem();

    int64_t t0 = mono_ns();
    for (int i = 0; i < n; i++) {
        close(fds[i]);
        stamps[i].closed_ns = mono_ns();
    }
    int64_t t1 = mono_ns();

    /* With the library: wait until the drain thread holds all N. */
    long held = 0;
    int64_t t_adopted = t1;
    if (lib) {
        double until = mono_s() + 20;
        while ((held = count_task_fds(tid) - fds_before) < n && mono_s() < until)
            sleep_s(0.002);
        t_adopted = mono_ns();
        /* and until it has gone back to sleep (it services each adopted
         * socket's input once after adopting it). */
        long long slices = -1;
        for (int settle = 0; settle < 40; settle++) {
            long long now_slices = read_tstat(tid).timeslices;
            if (now_slices == slices)
                break;
            slices = now_slices;
            sleep_s(0.05);
        }
    }
    struct mem after = read_mem();

    struct tstat s0 = { 0 }, s1 = { 0 };
    long held_after = 0;
    double window = 0;
    if (lib) {
        s0 = read_tstat(tid);
        double w0 = mono_s();
        sleep_s(window_s);
        s1 = read_tstat(tid);
        window = mono_s() - w0;
        held_after = count_task_fds(tid) - fds_before;
    }
    size_t bytes = (size_t)n * sizeof *stamps;
    if (pwrite(STAMP_FD, stamps, bytes, 0) != (ssize_t)bytes)
        die("writing the close times");
    ctl_send(ctl,
             "R %ld %ld %ld %ld %ld %ld %" PRId64 " %" PRId64 " %ld %ld %.3f %lld %lld %lld %lld %lld",
             before.rss_kb, after.rss_kb, before.private_dirty_kb, after.private_dirty_kb,
             before.anon_kb, after.anon_kb, t1 - t0, t_adopted - t1, held, held_after, window,
             s1.ticks - s0.ticks, s1.run_ns - s0.run_ns, s1.timeslices - s0.timeslices,
             s1.vcsw - s0.vcsw, s1.nvcsw - s0.nvcsw);
    if (lib) {
        /* The drain thread's CPU from just before the first deadline until
         * it has closed every socket: the cost of an expiry. */
        double first_deadline = (double)t0 / 1e9 + (double)idle_ms / 1000;
        double wait = first_deadline - 0.05 - mono_s();
        if (wait > 0)
            sleep_s(wait);
        struct tstat e0 = read_tstat(tid);
        /* No look at the drain's table while it works (listing it takes
         * the table's lock and CPU): sleep past the last deadline first. */
        double last_deadline = (double)t1 / 1e9 + (double)idle_ms / 1000;
        wait = last_deadline + 0.2 + (double)n * 20e-6 - mono_s();
        if (wait > 0)
            sleep_s(wait);
        long left;
        double until = mono_s() + 30;
        while ((left = count_task_fds(tid) - fds_before) > 0 && mono_s() < until)
            sleep_s(0.1);
        struct tstat e1 = read_tstat(tid);
        ctl_send(ctl, "E %lld %lld %ld %lld %lld", e1.run_ns - e0.run_ns, e1.timeslices - e0.timeslices, left,
                 e1.vcsw - e0.vcsw, e1.nvcsw - e0.nvcsw);
    }
    /* Stay until told to go. */
    struct ctl c = { .fd = ctl };
    char line[64];
    ctl_line(&c, line, sizeof line, 600);
    return 0;
}

/* "--server discard lib|plain": one connection, the client streams into it.
 * lib: close at once (the drain discards with recv(MSG_TRUNC)); report the
 * drain thread's CPU when asked. plain: a copying recv() loop into a 256 KiB
 * buffer (the drain's own buffer size) until EOF; report its CPU. */
static int server_discard(bool lib)
{
    int ctl = CTL_FD;
    int port;
    int l = listen_loopback(&port);
    ctl_send(ctl, "PORT %d", port);
    int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        die("accept");
    int inq = 0;
    double give_up = mono_s() + 5;
    while (ioctl(fd, FIONREAD, &inq) == 0 && inq < CLIENT_BYTES && mono_s() < give_up)
        sleep_s(0.0005);
    struct ctl c = { .fd = ctl };
    char line[64];
    if (lib) {
        int tid = find_drain_tid();
        if (tid < 0)
            die("no thread named %s", DRAIN_COMM);
        long base = count_task_fds(tid);
        close(fd); /* lingers: unread input */
        struct tstat s0 = read_tstat(tid);
        ctl_send(ctl, "READY");
        ctl_line(&c, line, sizeof line, 120); /* "S": the client has closed */
        /* The drain has read the last bytes once it has closed the socket. */
        double until = mono_s() + 10;
        while (count_task_fds(tid) > base && mono_s() < until)
            sleep_s(0.001);
        struct tstat s1 = read_tstat(tid);
        ctl_send(ctl, "R %lld", s1.run_ns - s0.run_ns);
    } else {
        static char buf[256 * 1024];
        ctl_send(ctl, "READY");
        struct timespec c0, c1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        long long total = 0;
        for (;;) {
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r > 0) {
                total += r;
                continue;
            }
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        close(fd);
        ctl_line(&c, line, sizeof line, 120);
        ctl_send(ctl, "R %lld",
                 (long long)(c1.tv_sec - c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec));
    }
    ctl_line(&c, line, sizeof line, 120);
    return 0;
}

/* ---- orchestrator: spawning the server ---------------------------------- */

static const char *library;
static char self_path[4096];

struct server {
    pid_t pid;
    struct ctl ctl;
};

static struct server *live_server;

static void kill_live_server(void)
{
    if (live_server && live_server->pid > 0) {
        kill(live_server->pid, SIGKILL);
        waitpid(live_server->pid, NULL, 0);
        live_server->pid = -1;
    }
}

static void on_signal(int sig)
{
    kill_live_server();
    signal(sig, SIG_DFL);
    raise(sig);
}

static char **server_env(bool lib, long idle_ms, int n)
{
    size_t count = 0;
    while (environ[count])
        count++;
    char **env = calloc(count + 8, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < count; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 && strncmp(environ[i], "LINGERCLOSE_", 12) != 0)
            env[k++] = environ[i];
    if (lib) {
        static char preload[4200], idle[64], max_sockets[64];
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", library);
        snprintf(idle, sizeof idle, "LINGERCLOSE_IDLE_TIMEOUT=%ldms", idle_ms);
        env[k++] = preload;
        env[k++] = idle;
        env[k++] = "LINGERCLOSE_TIMEOUT=120s";
        /* above N: every close must linger */
        snprintf(max_sockets, sizeof max_sockets, "LINGERCLOSE_MAX_SOCKETS=%d", n + 1000 > 60000 ? n + 1000 : 60000);
        env[k++] = max_sockets;
        env[k++] = "LINGERCLOSE_EXIT_TIMEOUT=0";
        env[k++] = "LINGERCLOSE_MAX_BYTES=unlimited";
    }
    env[k] = NULL;
    return env;
}

static void spawn_server(struct server *s, char *const argv[], bool lib, long idle_ms, int n, int stamp_fd)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        die("socketpair");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* Both above the target numbers first, so that neither dup2 clobbers
     * the other's source. */
    int ctl_src = fcntl(pair[1], F_DUPFD_CLOEXEC, 10);
    int stamp_src = stamp_fd >= 0 ? fcntl(stamp_fd, F_DUPFD_CLOEXEC, 10) : -1;
    if (ctl_src < 0 || (stamp_fd >= 0 && stamp_src < 0))
        die("dup");
    posix_spawn_file_actions_adddup2(&fa, ctl_src, CTL_FD);
    if (stamp_src >= 0)
        posix_spawn_file_actions_adddup2(&fa, stamp_src, STAMP_FD);
    char **env = server_env(lib, idle_ms, n);
    int rc = posix_spawn(&s->pid, self_path, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    close(pair[1]);
    close(ctl_src);
    if (stamp_src >= 0)
        close(stamp_src);
    if (rc != 0) {
        errno = rc;
        die("posix_spawn %s", self_path);
    }
    s->ctl = (struct ctl){ .fd = pair[0] };
    live_server = s;
}

static void finish_server(struct server *s)
{
    ctl_send(s->ctl.fd, "Q");
    int status;
    double until = mono_s() + 10;
    while (waitpid(s->pid, &status, WNOHANG) == 0) {
        if (mono_s() > until) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            break;
        }
        sleep_s(0.005);
    }
    close(s->ctl.fd);
    s->pid = -1;
    live_server = NULL;
}

static int server_port(struct server *s)
{
    char line[128];
    if (!ctl_line(&s->ctl, line, sizeof line, 10) || strncmp(line, "PORT ", 5) != 0)
        die("server did not report its port");
    return atoi(line + 5);
}

/* ---- orchestrator: one scale round -------------------------------------- */

struct round {
    bool lib;
    int n;
    /* from the server */
    long rss_b, rss_a, pd_b, pd_a, anon_b, anon_a;
    long long close_ns, adopt_ns;
    long held, held_after;
    double window;
    long long ticks, run_ns, slices, vcsw, nvcsw;
    /* from the client */
    int rsts;
    long long expiry_run_ns, expiry_slices, expiry_vcsw, expiry_nvcsw;
    long expiry_left;
    double late_p50, late_p99, late_max, late_min;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_stamp(const void *a, const void *b)
{
    uint64_t x = ((const struct stamp *)a)->key, y = ((const struct stamp *)b)->key;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, int n, double p)
{
    if (n <= 0)
        return NAN;
    int i = (int)(p / 100.0 * (n - 1) + 0.5);
    return sorted[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* Client events: the RST (the drain's close) per connection, stamped per
 * epoll batch. The sockets are registered for no event at all: EPOLLERR and
 * EPOLLHUP are always reported, and the server's FIN (at its close) does not
 * wake the client, which then takes no CPU from the server and its drain
 * thread during the close burst. */
static void client_events(int ep, int *socks, int64_t *t_rst, int *rsts,
                          int timeout_ms)
{
    struct epoll_event ev[1024];
    int k = epoll_wait(ep, ev, 1024, timeout_ms);
    if (k <= 0)
        return;
    int64_t now = mono_ns();
    for (int j = 0; j < k; j++) {
        uint32_t i = ev[j].data.u32;
        if (i == UINT32_MAX)
            continue; /* the control socket: read by the caller */
        if ((ev[j].events & (EPOLLERR | EPOLLHUP)) && !t_rst[i]) {
            t_rst[i] = now;
            (*rsts)++;
            close(socks[i]);
            socks[i] = -1;
        }
    }
}

static void run_scale_round(struct round *r, int n, bool lib, double window_s, long idle_ms, bool linger2)
{
    memset(r, 0, sizeof *r);
    r->lib = lib;
    r->n = n;
    r->late_p50 = r->late_p99 = r->late_max = r->late_min = NAN;
    char narg[32], warg[32], iarg[32];
    snprintf(narg, sizeof narg, "%d", n);
    snprintf(warg, sizeof warg, "%.3f", window_s);
    snprintf(iarg, sizeof iarg, "%ld", idle_ms);
    char *argv[] = { self_path, "--server", "scale", narg, lib ? "lib" : "plain", warg, iarg,
                     linger2 ? "1" : "0", NULL };
    struct server s;
    int stamp_fd = memfd_create("drain-scale-stamps", MFD_CLOEXEC);
    if (stamp_fd < 0 || ftruncate(stamp_fd, (off_t)((size_t)n * sizeof(struct stamp))) != 0)
        die("memfd");
    spawn_server(&s, argv, lib, idle_ms, n, stamp_fd);
    int port = server_port(&s);
    uint64_t *keys = malloc((size_t)n * sizeof *keys);

    int *socks = malloc((size_t)n * sizeof *socks);
    int64_t *t_rst = calloc((size_t)n, sizeof *t_rst);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event cev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
    epoll_ctl(ep, EPOLL_CTL_ADD, s.ctl.fd, &cev);
    int rsts = 0, accepted = 0;
    char line[512];
    char payload[CLIENT_BYTES];
    memset(payload, 'x', sizeof payload);

    double c0 = mono_s();
    for (int i = 0; i < n; i++) {
        while (i - accepted >= CONNECT_WINDOW) {
            if (!ctl_line(&s.ctl, line, sizeof line, 20))
                die("server stopped accepting at %d", accepted);
            if (line[0] == 'A')
                accepted = atoi(line + 2);
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("client socket %d", i);
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        /* 127.0.0.2, .3, ...: a source address per 20000 connections, so
         * that the ephemeral port range (about 28000) is never the limit. */
        struct sockaddr_in src = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i / PER_SOURCE_ADDR)) };
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0)
            die("client bind");
        struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0)
            die("client connect %d", i);
        if (send(fd, payload, sizeof payload, MSG_NOSIGNAL) != (ssize_t)sizeof payload)
            die("client send");
        fcntl(fd, F_SETFL, O_NONBLOCK);
        struct epoll_event e = { .events = 0, .data.u32 = (uint32_t)i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) != 0)
            die("epoll_ctl client");
        socks[i] = fd;
        struct sockaddr_in me;
        socklen_t ml = sizeof me;
        getsockname(fd, (struct sockaddr *)&me, &ml);
        keys[i] = stamp_key(&me);
        if (i % 256 == 0 && ctl_fill(&s.ctl))
            while (ctl_take_line(&s.ctl, line, sizeof line))
                if (line[0] == 'A')
                    accepted = atoi(line + 2);
    }
    double c1 = mono_s();
    progress("N=%d %s: %d connections in %.2f s", n, lib ? "lib" : "plain", n, c1 - c0);

    /* The server accepts, closes, measures; meanwhile track FINs/RSTs. */
    bool got_result = false;
    double until = mono_s() + 60 + window_s;
    while (!got_result && mono_s() < until) {
        client_events(ep, socks, t_rst, &rsts, 50);
        if (!ctl_fill(&s.ctl) && !got_result)
            die("server ended early");
        while (ctl_take_line(&s.ctl, line, sizeof line)) {
            if (line[0] == 'R') {
                int got = sscanf(line + 2,
                                 "%ld %ld %ld %ld %ld %ld %lld %lld %ld %ld %lf %lld %lld %lld %lld %lld",
                                 &r->rss_b, &r->rss_a, &r->pd_b, &r->pd_a, &r->anon_b, &r->anon_a,
                                 &r->close_ns, &r->adopt_ns, &r->held, &r->held_after, &r->window,
                                 &r->ticks, &r->run_ns, &r->slices, &r->vcsw, &r->nvcsw);
                if (got != 16)
                    die("bad result line: %s", line);
                got_result = true;
            }
        }
    }
    if (!got_result)
        die("no result from the server");

    if (lib) {
        /* Wait for every drain close (a RST each), bounded, then for the
         * server's figure of the drain's CPU over the expiries. */
        double deadline = mono_s() + (double)idle_ms / 1000 + 15;
        while (linger2 && rsts < n && mono_s() < deadline)
            client_events(ep, socks, t_rst, &rsts, 100);
        if (!ctl_line(&s.ctl, line, sizeof line, (double)idle_ms / 1000 + 40) ||
            sscanf(line, "E %lld %lld %ld %lld %lld", &r->expiry_run_ns, &r->expiry_slices, &r->expiry_left,
                   &r->expiry_vcsw, &r->expiry_nvcsw) != 5)
            die("no expiry figure from the server");
    }
    if (lib && linger2) {
        /* Deadline: the server's close() + the idle timeout. */
        struct stamp *stamps = malloc((size_t)n * sizeof *stamps);
        size_t bytes = (size_t)n * sizeof *stamps;
        if (pread(stamp_fd, stamps, bytes, 0) != (ssize_t)bytes)
            die("reading the close times");
        qsort(stamps, (size_t)n, sizeof *stamps, cmp_stamp);
        double *late = malloc((size_t)n * sizeof *late);
        int k = 0;
        for (int i = 0; i < n; i++) {
            struct stamp probe = { .key = keys[i] };
            struct stamp *st = bsearch(&probe, stamps, (size_t)n, sizeof *stamps, cmp_stamp);
            if (st && t_rst[i])
                late[k++] = (double)(t_rst[i] - st->closed_ns) / 1e6 - (double)idle_ms;
            if (st && getenv("DRAIN_SCALE_DUMP"))
                fprintf(stderr, "dump %" PRId64 " %" PRId64 "\n", st->closed_ns, t_rst[i]);
        }
        free(stamps);
        qsort(late, (size_t)k, sizeof *late, cmp_double);
        r->late_p50 = pct(late, k, 50);
        r->late_p99 = pct(late, k, 99);
        r->late_max = k ? late[k - 1] : NAN;
        r->late_min = k ? late[0] : NAN;
        free(late);
    }
    r->rsts = rsts;
    finish_server(&s);
    for (int i = 0; i < n; i++)
        if (socks[i] >= 0)
            close(socks[i]);
    close(ep);
    close(stamp_fd);
    free(keys);
    free(socks);
    free(t_rst);
    if (lib)
        progress("N=%d lib: closes %.1f us each, all adopted %.0f ms after, Private_Dirty +%ld kB "
                 "(%.1f B/socket), idle %.2f s: %lld wakeups (vcsw %lld nvcsw %lld) %lld ticks %.3f ms CPU; "
                 "lateness p50 %.1f p99 %.1f max %.1f min %.1f ms (%d of %d RST seen); "
                 "expiry: drain CPU %.1f us per socket, %lld wakeups (vcsw %lld nvcsw %lld), %ld left%s",
                 n, (double)r->close_ns / n / 1e3, (double)r->adopt_ns / 1e6, r->pd_a - r->pd_b,
                 (double)(r->pd_a - r->pd_b) * 1024 / n, r->window, r->slices, r->vcsw, r->nvcsw,
                 r->ticks, (double)r->run_ns / 1e6, r->late_p50, r->late_p99, r->late_max,
                 r->late_min, rsts, n, (double)r->expiry_run_ns / n / 1e3, r->expiry_slices,
                 r->expiry_vcsw, r->expiry_nvcsw, r->expiry_left, r->held_after != r->held ? "; EXPIRIES DURING THE IDLE WINDOW" : "");
    else
        progress("N=%d plain: closes %.1f us each, Private_Dirty %+ld kB (%.1f B/socket), %d RST seen", n,
                 (double)r->close_ns / n / 1e3, r->pd_a - r->pd_b, (double)(r->pd_a - r->pd_b) * 1024 / n,
                 rsts);
}

/* ---- orchestrator: one discard round ------------------------------------ */

struct discard {
    double bytes_per_s;
    double cpu_ns_per_gb;
};

static struct discard run_discard_round(bool lib, double seconds)
{
    char *argv[] = { self_path, "--server", "discard", lib ? "lib" : "plain", NULL };
    struct server s;
    spawn_server(&s, argv, lib, 600000, 1, -1);
    int port = server_port(&s);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0)
        die("discard connect");
    char payload[CLIENT_BYTES];
    memset(payload, 'x', sizeof payload);
    send(fd, payload, sizeof payload, MSG_NOSIGNAL);
    char line[128];
    if (!ctl_line(&s.ctl, line, sizeof line, 10) || strcmp(line, "READY") != 0)
        die("discard server not ready");
    static char chunk[256 * 1024];
    memset(chunk, 'y', sizeof chunk);
    struct timeval tv = { 0, 200000 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    /* Count what the server's kernel acknowledged (bytes sent minus
     * SIOCOUTQ, the bytes not yet acked) between a warm-up and the end: the
     * receiver's pace (it must read to keep the window open), not our send
     * buffer's. */
    double warm = 0.1 * seconds;
    double t_start = mono_s(), t_a = 0, t_b = 0;
    uint64_t sent = 0, acked_a = 0, acked_b = 0;
    for (;;) {
        ssize_t w = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
        if (w > 0)
            sent += (uint64_t)w;
        else if (w < 0 && errno != EINTR && errno != EAGAIN)
            die("discard send");
        double now = mono_s();
        int outq = 0;
        if (!t_a && now - t_start >= warm) {
            ioctl(fd, SIOCOUTQ, &outq);
            acked_a = sent - (uint64_t)outq;
            t_a = mono_s();
        } else if (t_a && now - t_start >= warm + seconds) {
            ioctl(fd, SIOCOUTQ, &outq);
            acked_b = sent - (uint64_t)outq;
            t_b = mono_s();
            break;
        }
    }
    close(fd);
    ctl_send(s.ctl.fd, "S");
    long long cpu_ns = -1;
    if (!ctl_line(&s.ctl, line, sizeof line, 30) || sscanf(line, "R %lld", &cpu_ns) != 1)
        die("discard server gave no CPU figure");
    finish_server(&s);
    /* CPU is the receiver's for the whole stream: per GB of all acked bytes. */
    struct discard d;
    d.bytes_per_s = (double)(acked_b - acked_a) / (t_b - t_a);
    d.cpu_ns_per_gb = (double)cpu_ns / ((double)sent / 1e9);
    progress("discard %s: %.2f GB/s, receiver CPU %.3f s per GB", lib ? "lib (drain, MSG_TRUNC)" : "plain (recv copy)",
             d.bytes_per_s / 1e9, d.cpu_ns_per_gb / 1e9);
    return d;
}

/* ---- statistics helpers ------------------------------------------------- */

struct summary {
    double median, min, max;
};

static struct summary summarize(double *v, int n)
{
    struct summary s = { NAN, NAN, NAN };
    if (n <= 0)
        return s;
    double *c = malloc((size_t)n * sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    s.median = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    s.min = c[0];
    s.max = c[n - 1];
    free(c);
    return s;
}

/* ---- main --------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: LC_LIBRARY=path/liblingerclose.so drain-scale [--quick] [--n N[,N...]] "
                    "[--rounds R] [--window S] [--idle-ms MS] [--no-linger2]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--server") == 0) {
        role = "drain-scale server";
        /* Never outlive the orchestrator (it may die between two reads). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            return 2;
        raise_nofile();
        signal(SIGPIPE, SIG_IGN);
        if (strcmp(argv[2], "scale") == 0 && argc == 8)
            return server_scale(atoi(argv[3]), strcmp(argv[4], "lib") == 0, atof(argv[5]), atol(argv[6]),
                                atoi(argv[7]) != 0);
        if (strcmp(argv[2], "discard") == 0 && argc == 4)
            return server_discard(strcmp(argv[3], "lib") == 0);
        usage();
    }

    bool quick = false;
    const char *nlist = NULL;
    int rounds = 0;
    double window_s = 0;
    long idle_arg = 0;
    bool linger2 = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            nlist = argv[++i];
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc)
            window_s = atof(argv[++i]);
        else if (strcmp(argv[i], "--idle-ms") == 0 && i + 1 < argc)
            idle_arg = atol(argv[++i]);
        else if (strcmp(argv[i], "--no-linger2") == 0)
            linger2 = false; /* diagnosis: the drain's close as it is normally, unobserved */
        else
            usage();
    }
    library = getenv("LC_LIBRARY");
    if (!library || access(library, R_OK) != 0) {
        fprintf(stderr, "drain-scale: set LC_LIBRARY to liblingerclose.so\n");
        return 2;
    }
    static char libabs[4096];
    if (realpath(library, libabs))
        library = libabs;
    ssize_t sl = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (sl <= 0)
        die("readlink /proc/self/exe");
    self_path[sl] = 0;
    signal(SIGPIPE, SIG_IGN);
    atexit(kill_live_server);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    rlim_t hard = raise_nofile();

    if (!nlist)
        nlist = quick ? "1000" : "1000,10000,50000";
    if (!rounds)
        rounds = quick ? 3 : 5;
    if (window_s <= 0)
        window_s = quick ? 1.0 : 3.0;

    int ns[16], nn = 0, asked[16];
    for (const char *p = nlist; *p && nn < 16;) {
        int v = atoi(p);
        if (v > 0) {
            asked[nn] = v;
            ns[nn++] = v;
        }
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    /* Each process needs N descriptors plus a few; so does the drain's
     * table (same RLIMIT_NOFILE). */
    long fit = ((long)hard - 64) / 1000 * 1000;
    if (hard > (rlim_t)1 << 30)
        fit = 1 << 30;
    for (int i = 0; i < nn; i++)
        if (ns[i] + 64 > (long)hard) {
            progress("N=%d needs RLIMIT_NOFILE >= %d, hard limit is %ld: measuring N=%ld instead", ns[i],
                     ns[i] + 64, (long)hard, fit);
            ns[i] = (int)fit;
        }

    const char *outdir = getenv("BENCH_OUT");
    FILE *dat = NULL;
    if (outdir && *outdir) {
        mkdir(outdir, 0755);
        char path[4200];
        snprintf(path, sizeof path, "%s/drain-scale.dat", outdir);
        dat = fopen(path, "w");
        if (!dat)
            die("cannot write %s", path);
        fprintf(dat, "# N bytes_per_socket idle_wakeups lateness_p50_ms lateness_p99_ms lateness_max_ms "
                     "idle_cpu_ms expiry_cpu_us_per_socket\n");
    }

    double t_begin = mono_s();
    for (int k = 0; k < nn; k++) {
        int n = ns[k];
        if (k > 0 && ns[k] == ns[k - 1])
            continue;
        char tag[32];
        snprintf(tag, sizeof tag, "n%d", n);
        for (int j = 0; j < nn; j++)
            if (ns[j] == n && asked[j] != n)
                printf("RESULT drain_n%d_skipped %d N hard RLIMIT_NOFILE %ld < %d (no CAP_SYS_RESOURCE "
                       "to raise it); largest N that fits measured instead\n",
                       asked[j], n, (long)hard, asked[j] + 64);
        /* The first deadline must come after the idle window, which starts
         * once the close burst (~30 us a close) and the adoption are over. */
        long idle_ms = idle_arg > 0 ? idle_arg : (long)(window_s * 1000) + 1000 + (long)n * 60 / 1000;
        progress("N=%d: %d rounds lib/plain alternating, idle window %.1f s, idle timeout %ld ms", n,
                 rounds, window_s, idle_ms);
        struct round *lib = calloc((size_t)rounds, sizeof *lib);
        struct round *plain = calloc((size_t)rounds, sizeof *plain);
        for (int i = 0; i < rounds; i++) {
            /* A B A B ..., starting with the other one every other round */
            if (i % 2 == 0) {
                run_scale_round(&lib[i], n, true, window_s, idle_ms, linger2);
                run_scale_round(&plain[i], n, false, window_s, idle_ms, linger2);
            } else {
                run_scale_round(&plain[i], n, false, window_s, idle_ms, linger2);
                run_scale_round(&lib[i], n, true, window_s, idle_ms, linger2);
            }
        }
        double *v = calloc((size_t)rounds, sizeof *v);
        double *w = calloc((size_t)rounds, sizeof *w);
        /* Memory: per-round lib delta minus plain delta, in bytes per socket. */
        for (int i = 0; i < rounds; i++) {
            v[i] = (double)(lib[i].pd_a - lib[i].pd_b) * 1024 / n;
            w[i] = (double)(plain[i].pd_a - plain[i].pd_b) * 1024 / n;
        }
        struct summary ml = summarize(v, rounds), mp = summarize(w, rounds);
        for (int i = 0; i < rounds; i++)
            v[i] -= w[i];
        struct summary mem = summarize(v, rounds);
        printf("RESULT drain_mem_per_socket_bytes_%s %.1f B/socket user memory (Private_Dirty) added by "
               "N=%d lingering sockets, lib minus plain (%.1f - %.1f), median of %d, spread %.1f-%.1f; "
               "kernel socket memory not in RSS; target <= 64 %s\n",
               tag, mem.median, n, ml.median, mp.median, rounds, mem.min, mem.max,
               mem.median <= 64 ? "MET" : "MISSED");
        for (int i = 0; i < rounds; i++)
            v[i] = (double)lib[i].slices;
        struct summary wk = summarize(v, rounds);
        for (int i = 0; i < rounds; i++)
            w[i] = (double)lib[i].vcsw + (double)lib[i].nvcsw;
        struct summary cs = summarize(w, rounds);
        int overlapped = 0;
        for (int i = 0; i < rounds; i++)
            overlapped += lib[i].held_after != lib[i].held || lib[i].held != n;
        printf("RESULT drain_idle_wakeups_%s %.0f wakeups drain thread scheduled in (schedstat) during "
               "%.1f s with N=%d lingering and no traffic or deadline, median of %d, spread %.0f-%.0f; "
               "ctxt switches median %.0f; target 0 (wakes only for events and deadlines) %s%s\n",
               tag, wk.median, window_s, n, rounds, wk.min, wk.max, cs.median,
               wk.median <= 1 ? "MET" : "MISSED",
               overlapped ? " (WARNING: sockets expired or were missing during the window)" : "");
        for (int i = 0; i < rounds; i++) {
            v[i] = (double)lib[i].run_ns / 1e6;
            w[i] = (double)lib[i].ticks;
        }
        struct summary cpu = summarize(v, rounds), tk = summarize(w, rounds);
        printf("RESULT drain_idle_cpu_ms_%s %.3f ms drain thread CPU (schedstat) in the %.1f s idle window, "
               "median of %d, spread %.3f-%.3f; utime+stime %.0f ticks\n",
               tag, cpu.median, window_s, rounds, cpu.min, cpu.max, tk.median);
        for (int i = 0; i < rounds; i++)
            v[i] = (double)lib[i].expiry_run_ns / n / 1e3;
        struct summary ex = summarize(v, rounds);
        printf("RESULT drain_expiry_cpu_us_%s %.1f us drain thread CPU per socket closed at its idle timeout "
               "(%s), median of %d, spread %.1f-%.1f\n",
               tag, ex.median, linger2 ? "TCP_LINGER2=-1: each close sends a RST" : "plain FIN_WAIT2 close",
               rounds, ex.min, ex.max);
        double *p50 = calloc((size_t)rounds, sizeof *p50), *p99 = calloc((size_t)rounds, sizeof *p99),
               *pmax = calloc((size_t)rounds, sizeof *pmax);
        int missing = 0;
        for (int i = 0; i < rounds; i++) {
            p50[i] = lib[i].late_p50;
            p99[i] = lib[i].late_p99;
            pmax[i] = lib[i].late_max;
            missing += n - lib[i].rsts;
        }
        struct summary l50 = summarize(p50, rounds), l99 = summarize(p99, rounds),
                       lmax = summarize(pmax, rounds);
        if (linger2) {
        printf("RESULT drain_timeout_late_p50_ms_%s %.1f ms lateness of the idle-timeout close (client sees "
               "RST) vs its deadline, median of %d rounds, spread %.1f-%.1f\n",
               tag, l50.median, rounds, l50.min, l50.max);
        /* Lateness is mostly scheduling delay: say how busy the machine was. */
        char load[64] = "?";
        sscanf(read_proc("/proc/loadavg"), "%63s", load);
        printf("RESULT drain_timeout_late_p99_ms_%s %.1f ms median of %d rounds, spread %.1f-%.1f, load "
               "average %s; target <= 50 %s%s\n",
               tag, l99.median, rounds, l99.min, l99.max, load, l99.median <= 50 ? "MET" : "MISSED",
               missing ? " (some closes never seen!)" : "");
        printf("RESULT drain_timeout_late_max_ms_%s %.1f ms median of %d rounds, spread %.1f-%.1f\n", tag,
               lmax.median, rounds, lmax.min, lmax.max);
        if (missing)
            printf("RESULT drain_timeout_missing_%s %d sockets whose drain close was never seen, over %d "
                   "rounds\n",
                   tag, missing, rounds);
        }
        if (dat)
            fprintf(dat, "%d %.1f %.0f %.2f %.2f %.2f %.3f %.2f\n", n, mem.median, wk.median, l50.median,
                    l99.median, lmax.median, cpu.median, ex.median);
        fflush(stdout);
        free(lib);
        free(plain);
        free(v);
        free(w);
        free(p50);
        free(p99);
        free(pmax);
    }

    /* Discard throughput: lib drain (MSG_TRUNC) vs a copying recv loop. */
    int drounds = quick ? 3 : 5;
    double seconds = quick ? 0.3 : 1.0;
    double *tr = calloc((size_t)drounds, sizeof *tr), *cr = calloc((size_t)drounds, sizeof *cr);
    double *bl = calloc((size_t)drounds, sizeof *bl), *bp = calloc((size_t)drounds, sizeof *bp);
    for (int i = 0; i < drounds; i++) {
        struct discard a, b;
        if (i % 2 == 0) {
            a = run_discard_round(true, seconds);
            b = run_discard_round(false, seconds);
        } else {
            b = run_discard_round(false, seconds);
            a = run_discard_round(true, seconds);
        }
        tr[i] = a.bytes_per_s / b.bytes_per_s;
        cr[i] = b.cpu_ns_per_gb / a.cpu_ns_per_gb;
        bl[i] = a.bytes_per_s / 1e9;
        bp[i] = b.bytes_per_s / 1e9;
    }
    struct summary st = summarize(tr, drounds), sc = summarize(cr, drounds), sl_ = summarize(bl, drounds),
                   sp = summarize(bp, drounds);
    printf("RESULT drain_discard_ratio_trunc_vs_copy %.2f x loopback stream into a lingering socket "
           "(drain, recv MSG_TRUNC) vs a plain server's recv() copy loop, %.2f vs %.2f GB/s, median of %d "
           "paired rounds, spread %.2f-%.2f; target >= 1.0 %s\n",
           st.median, sl_.median, sp.median, drounds, st.min, st.max, st.median >= 1.0 ? "MET" : "MISSED");
    printf("RESULT drain_discard_cpu_ratio_copy_vs_trunc %.2f x receiver CPU per GB, copy loop / drain "
           "thread, median of %d, spread %.2f-%.2f\n",
           sc.median, drounds, sc.min, sc.max);
    free(tr);
    free(cr);
    free(bl);
    free(bp);
    if (dat)
        fclose(dat);
    progress("done in %.1f s", mono_s() - t_begin);
    return 0;
}
