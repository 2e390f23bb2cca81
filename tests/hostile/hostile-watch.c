/* SPDX-License-Identifier: MIT */
/* Watches a server from the outside: how long each of its TCP sockets on
 * one local port stays held by a process (sock_diag), and what the process
 * holds (/proc: descriptors, threads, resident memory).
 *
 *   hostile-watch -p PID -P PORT [-l LIMIT_MS] [-i INTERVAL_MS]
 *       samples until stdin is closed, then prints
 *       "sockets N max-life-ms N over-limit N max-lingering N max-rss-kb N
 *        max-fds N max-drain-fds N max-threads N"
 *       and one "over-limit inode N life-ms N state S" line per socket held
 *       longer than LIMIT_MS.
 *   hostile-watch -p PID -1
 *       prints "fds N drain-fds N threads N rss-kb N" once.
 *
 * A socket is followed by its inode from the first sample that shows it
 * held by a process (inode non-zero: accepted and not yet closed, or handed
 * to the drain thread, which closes it when the drain ends) to the last;
 * once closed it is orphaned (inode 0) or gone. A sample every INTERVAL_MS
 * (50) makes each life exact to within two intervals. "Lingering" sockets
 * are held ones whose FIN was sent (FIN_WAIT1/2, CLOSING, LAST_ACK): the
 * server itself never shuts a connection down. "drain-fds" counts the
 * descriptors of the library's drain thread (named "lingerclose"), which
 * has a descriptor table of its own. */
#include <errno.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs/progs.h"

static const char *const state_names[] = {
    "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
};

struct held {
    uint32_t inode;
    uint8_t state;
    int64_t first_ms, last_ms;
};

struct sample {
    struct held *items;
    size_t count, size;
};

static int pid, port;
static int64_t limit_ms = -1;

static struct {
    unsigned long long sockets, over_limit;
    int64_t max_life_ms;
    long max_lingering, max_rss_kb, max_fds, max_drain_fds, max_threads;
} seen;

static void push(struct sample *s, struct held h)
{
    if (s->count == s->size) {
        s->size = s->size ? s->size * 2 : 1024;
        s->items = realloc(s->items, s->size * sizeof *s->items);
        if (!s->items) {
            perror("hostile-watch");
            exit(2);
        }
    }
    s->items[s->count++] = h;
}

static int by_inode(const void *a, const void *b)
{
    uint32_t x = ((const struct held *)a)->inode, y = ((const struct held *)b)->inode;
    return x < y ? -1 : x > y;
}

/* One dump of the IPv4 TCP sockets; those on our local port that a process
 * holds go into `out`. False if the kernel refused the dump. */
static bool dump(int nl, struct sample *out, int64_t now)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } request = {
        .nlh = { .nlmsg_len = sizeof request, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
        .req = { .sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP,
                 /* TIME_WAIT sockets belong to no process; LISTEN is the listener. */
                 .idiag_states = 0xfff & ~((1u << TCP_TIME_WAIT) | (1u << TCP_LISTEN)) },
    };
    if (send(nl, &request, sizeof request, 0) != sizeof request)
        return false;
    static char buf[1 << 16];
    for (;;) {
        ssize_t n = recv(nl, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return true;
            if (h->nlmsg_type == NLMSG_ERROR)
                return false;
            struct inet_diag_msg *m = NLMSG_DATA(h);
            if (ntohs(m->id.idiag_sport) != port || m->idiag_inode == 0)
                continue;
            push(out, (struct held){ .inode = m->idiag_inode, .state = m->idiag_state,
                                     .first_ms = now, .last_ms = now });
        }
    }
}

static void ended(const struct held *h)
{
    int64_t life = h->last_ms - h->first_ms;
    seen.sockets++;
    if (life > seen.max_life_ms)
        seen.max_life_ms = life;
    if (limit_ms >= 0 && life > limit_ms) {
        seen.over_limit++;
        printf("over-limit inode %u life-ms %lld state %s\n", h->inode, (long long)life,
               h->state < sizeof state_names / sizeof *state_names ? state_names[h->state] : "?");
    }
}

/* Carries first-seen times over from the previous sample; sockets missing
 * from the new one have ended. */
static void merge(struct sample *prev, struct sample *cur)
{
    qsort(cur->items, cur->count, sizeof *cur->items, by_inode);
    size_t i = 0, j = 0;
    while (i < prev->count || j < cur->count) {
        if (j == cur->count || (i < prev->count && prev->items[i].inode < cur->items[j].inode)) {
            ended(&prev->items[i++]);
        } else if (i == prev->count || cur->items[j].inode < prev->items[i].inode) {
            j++;
        } else {
            cur->items[j++].first_ms = prev->items[i++].first_ms;
        }
    }
    long lingering = 0;
    for (j = 0; j < cur->count; j++) {
        uint8_t s = cur->items[j].state;
        if (s == TCP_FIN_WAIT1 || s == TCP_FIN_WAIT2 || s == TCP_CLOSING || s == TCP_LAST_ACK)
            lingering++;
    }
    if (lingering > seen.max_lingering)
        seen.max_lingering = lingering;
}

static long status_field(const char *name)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long value = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ':')
            value = strtol(line + len + 1, NULL, 10);
    fclose(f);
    return value;
}

/* The drain thread's own descriptor table, or 0 if it has not started. */
static long drain_fds(void)
{
    long n = drain_thread_fds(pid);
    return n < 0 ? 0 : n;
}

struct usage {
    long fds, drain_fds, threads, rss_kb;
};

static struct usage measure(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    return (struct usage){ .fds = count_entries(path), .drain_fds = drain_fds(),
                           .threads = status_field("Threads"), .rss_kb = status_field("VmRSS") };
}

static void note_usage(void)
{
    struct usage u = measure();
    if (u.fds > seen.max_fds)
        seen.max_fds = u.fds;
    if (u.drain_fds > seen.max_drain_fds)
        seen.max_drain_fds = u.drain_fds;
    if (u.threads > seen.max_threads)
        seen.max_threads = u.threads;
    if (u.rss_kb > seen.max_rss_kb)
        seen.max_rss_kb = u.rss_kb;
}

int main(int argc, char **argv)
{
    bool once = false;
    int interval_ms = 50;
    for (int o; (o = getopt(argc, argv, "p:P:l:i:1")) != -1;) {
        switch (o) {
        case 'p': pid = (int)parse_number("-p", optarg, 1, INT_MAX); break;
        case 'P': port = (int)parse_number("-P", optarg, 1, 65535); break;
        case 'l': limit_ms = parse_number("-l", optarg, 0, INT64_MAX); break;
        case 'i': interval_ms = (int)parse_number("-i", optarg, 1, INT_MAX); break;
        case '1': once = true; break;
        default:
            fprintf(stderr, "usage: hostile-watch -p PID (-1 | -P PORT [-l LIMIT_MS] [-i INTERVAL_MS])\n");
            return 2;
        }
    }
    if (pid <= 0 || (!once && port <= 0) || interval_ms <= 0) {
        fprintf(stderr, "hostile-watch: -p PID and -P PORT are needed\n");
        return 2;
    }
    if (once) {
        struct usage u = measure();
        if (u.fds < 0 || u.threads < 0) {
            fprintf(stderr, "hostile-watch: cannot read /proc/%d\n", pid);
            return 1;
        }
        printf("fds %ld drain-fds %ld threads %ld rss-kb %ld\n", u.fds, u.drain_fds, u.threads, u.rss_kb);
        return 0;
    }

    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    struct sample a = { 0 }, b = { 0 }, *prev = &a, *cur = &b;
    if (nl < 0 || !dump(nl, prev, now_ms())) {
        fprintf(stderr, "hostile-watch: no sock_diag (NETLINK_SOCK_DIAG inet_diag) here: %s\n",
                strerror(errno));
        return 77;
    }
    qsort(prev->items, prev->count, sizeof *prev->items, by_inode);
    for (;;) {
        struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
        if (poll(&in, 1, interval_ms) > 0) {
            char buf[64];
            if (read(STDIN_FILENO, buf, sizeof buf) <= 0)
                break;
        }
        note_usage();
        cur->count = 0;
        if (!dump(nl, cur, now_ms())) {
            fprintf(stderr, "hostile-watch: sock_diag dump failed: %s\n", strerror(errno));
            return 1;
        }
        merge(prev, cur);
        struct sample *t = prev;
        prev = cur;
        cur = t;
    }
    /* Still held when the watch ends: their life so far counts. */
    for (size_t i = 0; i < prev->count; i++)
        ended(&prev->items[i]);
    printf("sockets %llu max-life-ms %lld over-limit %llu max-lingering %ld max-rss-kb %ld "
           "max-fds %ld max-drain-fds %ld max-threads %ld\n",
           seen.sockets, (long long)seen.max_life_ms, seen.over_limit, seen.max_lingering,
           seen.max_rss_kb, seen.max_fds, seen.max_drain_fds, seen.max_threads);
    return 0;
}
