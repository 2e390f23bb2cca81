/* SPDX-License-Identifier: MIT */
/* process-cost: what carrying liblingerclose costs a process that starts,
 * forks and exits, against a preload library that does nothing
 * (bench/noop-preload), so that only the library's own work is counted.
 *
 *   LC_LIBRARY=liblingerclose.so LC_NOOP_LIBRARY=noop-preload.so process-cost [--quick]
 *
 *  - spawn: this process (no preload) starts /bin/true with LD_PRELOAD set
 *    to one library or the other, posix_spawn + waitpid, many times in a
 *    row: start-up, exec and exit of a program that never makes a socket
 *    (a CGI helper, a shell command under a systemd drop-in).
 *  - fork N: a child of this process, running under the library, holds N
 *    TCP sockets made with socket() (0, 10, 1000), then times fork() + the
 *    forked child's _exit(0) + waitpid, many times in a row.
 *  - fork with an idle thread: the same, both times under the no-op
 *    library, with and without one thread that sleeps in epoll_wait, as
 *    the library's drain thread does once a process has a socket: what the
 *    kernel charges a fork for a second thread, whoever started it.
 *
 * Each round measures both libraries back to back, the order alternating
 * from round to round (ABBA), and reports the per-round ratio
 * library / no-op as a median with its min-max spread, beside the median
 * per-process times. RESULT lines on stdout, as bench/run collects them.
 *
 * Internal mode: --fork N COUNT [THREADS] (one measuring child; prints ns
 * per fork). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progs/progs.h"

extern char **environ;

/* environ without LD_PRELOAD, plus LD_PRELOAD=preload. */
static char **env_with(const char *preload)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env)
        die("out of memory");
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[j++] = environ[i];
    if (asprintf(&env[j], "LD_PRELOAD=%s", preload) < 0)
        die("out of memory");
    return env;
}

static void wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die_errno("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("a measured child failed (status %d)", status);
}

/* Microseconds per start-exec-exit of /bin/true under env. */
static double spawn_round(char **env, int count)
{
    char *argv[] = { (char *)"/bin/true", NULL };
    double start = now_ns();
    for (int i = 0; i < count; i++) {
        pid_t pid;
        int err = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, env);
        if (err) {
            errno = err;
            die_errno("posix_spawn /bin/true");
        }
        wait_child(pid);
    }
    return (now_ns() - start) / count / 1e3;
}

static void *sleep_in_epoll(void *unused)
{
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0)
        die_errno("epoll_create1");
    struct epoll_event event;
    for (;;)
        epoll_wait(epoll, &event, 1, -1);
    return unused;
}

/* The measuring child: N sockets and THREADS idle threads, then COUNT
 * forks timed. */
static int fork_main(int sockets, int count, int threads)
{
    for (int i = 0; i < threads; i++) {
        pthread_t thread;
        if ((errno = pthread_create(&thread, NULL, sleep_in_epoll, NULL)) != 0)
            die_errno("pthread_create");
    }
    for (int i = 0; i < sockets; i++)
        if (socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) < 0)
            die_errno("socket");
    double start = now_ns();
    for (int i = 0; i < count; i++) {
        pid_t pid = fork();
        if (pid < 0)
            die_errno("fork");
        if (pid == 0)
            _exit(0);
        wait_child(pid);
    }
    printf("%.0f\n", (now_ns() - start) / count);
    return 0;
}

/* Microseconds per fork + exit + waitpid in a child under env holding N
 * sockets and THREADS idle threads. */
static double fork_round(const char *self, char **env, int sockets, int count, int threads)
{
    char n_text[16], count_text[16], threads_text[16];
    snprintf(n_text, sizeof n_text, "%d", sockets);
    snprintf(count_text, sizeof count_text, "%d", count);
    snprintf(threads_text, sizeof threads_text, "%d", threads);
    char *argv[] = { (char *)self, (char *)"--fork", n_text, count_text, threads_text, NULL };
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        die_errno("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    pid_t pid;
    int err = posix_spawn(&pid, self, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (err) {
        errno = err;
        die_errno("posix_spawn (fork child)");
    }
    char text[64] = "";
    ssize_t got = read_some(out[0], text, sizeof text - 1);
    close(out[0]);
    wait_child(pid);
    if (got <= 0)
        die("the fork child printed nothing");
    text[got] = '\0';
    return strtod(text, NULL) / 1e3;
}

struct part {
    const char *name;
    int sockets;            /* -1: spawn */
    bool thread_yardstick; /* no-op both times, the second with an idle thread */
};

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--fork") == 0)
        return fork_main((int)parse_number("--fork", argv[2], 0, 100000),
                         (int)parse_number("--fork", argv[3], 1, 1000000),
                         (int)parse_number("--fork", argv[4], 0, 1));
    bool quick = argc == 2 && strcmp(argv[1], "--quick") == 0;
    if (argc > 2 || (argc == 2 && !quick))
        die("usage: LC_LIBRARY=... LC_NOOP_LIBRARY=... process-cost [--quick]");
    const char *lib = getenv("LC_LIBRARY"), *noop = getenv("LC_NOOP_LIBRARY");
    if (!lib || !*lib || !noop || !*noop)
        die("set LC_LIBRARY to liblingerclose.so and LC_NOOP_LIBRARY to bench's noop-preload.so");
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        die_errno("readlink /proc/self/exe");
    self[len] = '\0';

    char **env[2] = { env_with(noop), env_with(lib) }; /* [0] no-op, [1] library */
    int rounds = quick ? 4 : 12, spawns = quick ? 50 : 200, forks = quick ? 100 : 400;
    static const struct part parts[] = {
        { "spawn_true", -1, false },      { "fork_0_sockets", 0, false },
        { "fork_10_sockets", 10, false }, { "fork_1000_sockets", 1000, false },
        { "fork_idle_thread", 0, true },
    };
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        double us[2][rounds], ratio[rounds];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < 2; k++) {
                int v = (r % 2) ? 1 - k : k;
                if (parts[p].sockets < 0)
                    us[v][r] = spawn_round(env[v], spawns);
                else if (parts[p].thread_yardstick)
                    us[v][r] = fork_round(self, env[0], 0, forks, v);
                else
                    us[v][r] = fork_round(self, env[v], parts[p].sockets, forks, 0);
            }
            ratio[r] = us[1][r] / us[0][r];
        }
        double m[2], lo[2], hi[2], rm, rlo, rhi;
        for (int v = 0; v < 2; v++)
            spread(us[v], rounds, &m[v], &lo[v], &hi[v]);
        spread(ratio, rounds, &rm, &rlo, &rhi);
        bool yardstick = parts[p].thread_yardstick;
        printf("RESULT process_%s_ratio %.3f x %s, per-round median of %d rounds "
               "(%.3f-%.3f); %s %.1f us (%.1f-%.1f), %s %.1f us (%.1f-%.1f) per %s\n",
               parts[p].name, rm,
               yardstick ? "one idle thread / none, no-op preload both" : "library / no-op preload",
               rounds, rlo, rhi, yardstick ? "idle thread" : "library", m[1], lo[1], hi[1],
               yardstick ? "none" : "no-op", m[0], lo[0], hi[0],
               parts[p].sockets < 0 ? "process" : "fork");
        fflush(stdout);
    }
    return 0;
}
