/* SPDX-License-Identifier: MIT */
/* syscall-cost: what a system call made through libc's syscall() costs
 * with and without liblingerclose, which interposes syscall() and passes
 * every number it does not handle on to libc's.
 *
 *   LC_LIBRARY=/path/to/liblingerclose.so syscall-cost [--quick]
 *
 * Runs itself as a measuring child, alternately without and with
 * LD_PRELOAD=$LC_LIBRARY in ABBA pairs (no lib, lib, lib, no lib, ...),
 * which cancels a linear drift of the machine. Each child times batches
 * of syscall(SYS_gettid) calls (the cheapest system call there is, so the
 * pass-through's share is the largest) and reports the median batch's
 * time per call. Output: RESULT lines on stdout (the ratio lib / no lib:
 * median of the rounds' medians, and of each pair's ratio with its
 * min-max), progress on stderr.
 *
 * Internal mode: --child [--quick]. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progs/progs.h"

#define TARGET_RATIO 1.02

extern char **environ;

static double median(double *v, int n)
{
    double middle, min, max;
    spread(v, n, &middle, &min, &max);
    return middle;
}

static int child(bool quick)
{
    const int batches = quick ? 5 : 15;
    const long calls = quick ? 50000 : 200000;
    double per_call[15];
    for (long i = 0; i < calls; i++) /* warm-up: caches, lazy binding, frequency */
        syscall(SYS_gettid);
    for (int b = 0; b < batches; b++) {
        double start = now_ns();
        for (long i = 0; i < calls; i++)
            syscall(SYS_gettid);
        per_call[b] = (now_ns() - start) / (double)calls;
    }
    printf("%.3f\n", median(per_call, batches));
    return 0;
}

/* One measuring child; its ns per call, or -1. */
static double run_child(const char *self, const char *library, bool quick)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    char preload[4096];
    if (!env)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[k++] = environ[i];
    if (library) {
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", library);
        env[k++] = preload;
    }
    int out[2];
    if (pipe(out) != 0)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    char child_arg[] = "--child", quick_arg[] = "--quick";
    char *argv[] = { (char *)self, child_arg, quick ? quick_arg : NULL, NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, self, &actions, NULL, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    free(env);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        return -1;
    }
    char buf[64] = { 0 };
    ssize_t got = read(out[0], buf, sizeof buf - 1);
    close(out[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        got <= 0)
        return -1;
    return strtod(buf, NULL);
}

int main(int argc, char **argv)
{
    bool quick = false, as_child = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--child") == 0)
            as_child = true;
        else {
            fprintf(stderr, "syscall-cost: unknown argument '%s' (accepted: --quick)\n", argv[i]);
            return 2;
        }
    }
    if (as_child)
        return child(quick);
    const char *library = getenv("LC_LIBRARY");
    if (!library || access(library, R_OK) != 0) {
        fprintf(stderr, "syscall-cost: set LC_LIBRARY to the path of liblingerclose.so\n");
        return 1;
    }
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return 1;
    self[len] = '\0';

    const int pairs = quick ? 2 : 6;
    double without[12], with[12], ratios[6];
    for (int p = 0; p < pairs; p++) {
        /* ABBA: no lib first in even pairs, the library first in odd ones. */
        for (int half = 0; half < 2; half++) {
            bool lib = (half == 0) == (p % 2 == 1);
            double ns = run_child(self, lib ? library : NULL, quick);
            if (ns < 0) {
                fprintf(stderr, "syscall-cost: a measuring child failed\n");
                return 1;
            }
            (lib ? with : without)[p] = ns;
        }
        ratios[p] = with[p] / without[p];
        fprintf(stderr, "syscall-cost: pair %d: no lib %.1f ns, lib %.1f ns, ratio %.3f\n", p + 1,
                without[p], with[p], ratios[p]);
    }
    double lo_without = without[0], hi_without = without[0], lo_with = with[0], hi_with = with[0];
    double lo_ratio = ratios[0], hi_ratio = ratios[0];
    for (int p = 1; p < pairs; p++) {
        lo_without = without[p] < lo_without ? without[p] : lo_without;
        hi_without = without[p] > hi_without ? without[p] : hi_without;
        lo_with = with[p] < lo_with ? with[p] : lo_with;
        hi_with = with[p] > hi_with ? with[p] : hi_with;
        lo_ratio = ratios[p] < lo_ratio ? ratios[p] : lo_ratio;
        hi_ratio = ratios[p] > hi_ratio ? ratios[p] : hi_ratio;
    }
    double m_without = median(without, pairs), m_with = median(with, pairs);
    double m_ratio = median(ratios, pairs);
    printf("RESULT syscall_passthrough_ratio %.3f x no lib %.1f ns (%.1f-%.1f), lib %.1f ns "
           "(%.1f-%.1f), per-pair ratio median %.3f (%.3f-%.3f); syscall(SYS_gettid), medians of "
           "%d alternating rounds, each the median of %d batches of %d calls; target <= %.2f: %s\n",
           m_with / m_without, m_without, lo_without, hi_without, m_with, lo_with, hi_with, m_ratio,
           lo_ratio, hi_ratio, 2 * pairs, quick ? 5 : 15, quick ? 50000 : 200000, TARGET_RATIO,
           m_ratio <= TARGET_RATIO ? "met" : "MISSED");
    /* The yardstick of every per-socket figure: a path's cost is bounded
     * below by its number of system calls times this. */
    printf("RESULT syscall_cost_ns %.1f ns one system call on this machine: syscall(SYS_gettid) without the "
           "library, median of %d rounds, spread %.1f-%.1f\n",
           m_without, pairs, lo_without, hi_without);
    return 0;
}
