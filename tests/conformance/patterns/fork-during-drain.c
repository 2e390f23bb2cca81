/* SPDX-License-Identifier: MIT */
/* A multithreaded server that forks a helper while connections it closed
 * are still lingering: a web server spawning a CGI program or a log
 * rotator, a daemon re-exec'ing itself on upgrade. fork() copies the
 * forking thread's descriptor table and nothing else; the child must not
 * hang on a lock some other thread held at fork time, must not find the
 * drained sockets in its table (it would keep them open - and their peers
 * waiting - for as long as it lives), and neither must any program it
 * execs.
 *
 *   fork-during-drain [--connections M]
 *   fork-during-drain --report-fds INODE,INODE,...   (what the child execs)
 *
 * The server serves M connections (read a little, early error, close)
 * whose clients keep sending for about a second, then forks while their
 * drains are in flight. The child lists its socket descriptors, compares
 * them with what the parent held at fork time and with the drained
 * sockets, then execs this program with --report-fds, which lists its own
 * descriptors. The parent reaps the child, killing it after 5 s.
 * Observations:
 *   drains_at_fork              sockets the "lingerclose" thread was
 *                               draining when the parent forked (none: no
 *                               such thread)
 *   child_sockets               the child's socket descriptors, by number
 *   child_sockets_not_in_parent sockets the child has that the parent's
 *                               table did not hold at fork
 *   child_drained_sockets       drained sockets in the child's table
 *   child_done                  the child got as far as its exec
 *   exec_fd                     "<n> <kind>" for each descriptor of the
 *                               exec'd program
 *   exec_drained_sockets        drained sockets in the exec'd program
 *   exec_done                   the exec'd program finished its report
 *   child_status                how the child ended */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define MAX_CONNECTIONS 64
#define MAX_FDS 1024
#define CHILD_TIMEOUT_MS 5000
#define DRAINS_SETTLE_MS 500

struct fd_entry {
    int fd;
    char target[256];
};

static int compare_fd_entries(const void *a, const void *b)
{
    return ((const struct fd_entry *)a)->fd - ((const struct fd_entry *)b)->fd;
}

/* This process's descriptors (as the calling thread's table holds them),
 * sorted, without the directory's own. */
static int list_fds(const char *dir_path, struct fd_entry *entries, int max)
{
    DIR *d = opendir(dir_path);
    if (!d)
        pattern_die("opendir fd");
    int count = 0;
    for (struct dirent *e; (e = readdir(d)) && count < max;) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == dirfd(d))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
        ssize_t n = readlink(path, entries[count].target, sizeof entries[count].target - 1);
        if (n < 0)
            continue;
        entries[count].target[n] = '\0';
        entries[count].fd = fd;
        count++;
    }
    closedir(d);
    qsort(entries, (size_t)count, sizeof *entries, compare_fd_entries);
    return count;
}

static unsigned long socket_inode(const char *target)
{
    unsigned long inode = 0;
    return sscanf(target, "socket:[%lu]", &inode) == 1 ? inode : 0;
}

static bool inode_in(unsigned long inode, const unsigned long *set, int count)
{
    for (int i = 0; i < count; i++)
        if (set[i] == inode)
            return true;
    return false;
}

/* What an exec'd program can say about a descriptor, the same from run to
 * run (pipe and socket numbers and temporary file names are not). */
static const char *kind_of(const char *target)
{
    if (strncmp(target, "socket:", 7) == 0)
        return "socket";
    if (strncmp(target, "pipe:", 5) == 0)
        return "pipe";
    if (target[0] == '/' && strncmp(target, "/dev/", 5) != 0)
        return "file";
    return target;
}

/* The exec'd program: report every descriptor it was born with. */
static int report_fds(const char *drained_list)
{
    unsigned long drained[MAX_CONNECTIONS];
    int drained_count = 0;
    char list[MAX_CONNECTIONS * 24];
    snprintf(list, sizeof list, "%s", drained_list);
    char *saved;
    for (char *inode = strtok_r(list, ",", &saved); inode && drained_count < MAX_CONNECTIONS;
         inode = strtok_r(NULL, ",", &saved))
        drained[drained_count++] = strtoul(inode, NULL, 10);
    static struct fd_entry fds[MAX_FDS];
    int count = list_fds("/proc/self/fd", fds, MAX_FDS);
    int drained_here = 0;
    for (int i = 0; i < count; i++) {
        pattern_observe("exec_fd", "%d %s", fds[i].fd, kind_of(fds[i].target));
        unsigned long inode = socket_inode(fds[i].target);
        if (inode && inode_in(inode, drained, drained_count))
            drained_here++;
    }
    pattern_observe("exec_drained_sockets", "%d", drained_here);
    pattern_observe("exec_done", "yes");
    return 0;
}

static void *sleeper(void *unused)
{
    (void)unused;
    for (;;)
        pattern_sleep_ms(60 * 1000);
    return NULL;
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything the child does runs while the parent's drains go on. */
static _Noreturn void child(char *program, const struct fd_entry *parent_fds, int parent_count,
                            const unsigned long *drained, int drained_count, const char *drained_list)
{
    static struct fd_entry fds[MAX_FDS];
    int count = list_fds("/proc/self/fd", fds, MAX_FDS);
    char sockets[512] = "";
    size_t used = 0;
    int not_in_parent = 0, drained_here = 0;
    for (int i = 0; i < count; i++) {
        unsigned long inode = socket_inode(fds[i].target);
        if (!inode)
            continue;
        used += (size_t)snprintf(sockets + used, sizeof sockets - used, "%s%d", used ? "," : "",
                                 fds[i].fd);
        if (used >= sizeof sockets)
            used = sizeof sockets - 1;
        bool held = false;
        for (int j = 0; j < parent_count && !held; j++)
            held = parent_fds[j].fd == fds[i].fd && strcmp(parent_fds[j].target, fds[i].target) == 0;
        if (!held)
            not_in_parent++;
        if (inode_in(inode, drained, drained_count))
            drained_here++;
    }
    pattern_observe("child_sockets", "%s", used ? sockets : "none");
    pattern_observe("child_sockets_not_in_parent", "%d", not_in_parent);
    pattern_observe("child_drained_sockets", "%d", drained_here);
    pattern_observe("child_done", "yes");
    char report_option[] = "--report-fds";
    char *const argv[] = { program, report_option, (char *)drained_list, NULL };
    execv("/proc/self/exe", argv);
    fprintf(stderr, "fork-during-drain: exec: %s\n", strerror(errno));
    _exit(3);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--report-fds") == 0)
        return report_fds(argv[2]);
    int connections = 4;
    const struct pattern_option options[] = {
        { .name = "connections", .number = &connections, .min = 1, .max = MAX_CONNECTIONS },
        { 0 },
    };
    pattern_options(argc, argv, options,
                    "fork-during-drain [--connections M] | --report-fds PATH");

    pthread_t thread;
    if (pthread_create(&thread, NULL, sleeper, NULL) != 0)
        pattern_die("pthread_create");

    int listen_fd = pattern_listen();
    /* The library's thread started at the listener's socket(): what it
     * holds now is its own, anything more is a drain. */
    int drain_fds_idle = pattern_drain_thread_fds();
    unsigned long drained[MAX_CONNECTIONS];
    char drained_list[MAX_CONNECTIONS * 24] = "";
    size_t used = 0;
    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listen_fd);
        struct stat st;
        if (fstat(fd, &st) != 0)
            pattern_die("fstat");
        drained[i] = (unsigned long)st.st_ino;
        used += (size_t)snprintf(drained_list + used, sizeof drained_list - used, "%s%lu",
                                 i ? "," : "", drained[i]);
        pattern_read_some_request(fd);
        pattern_send_early_error(fd);
        if (close(fd) != 0)
            pattern_die("close");
    }

    /* The hand-offs reach the drain thread asynchronously: fork once it has
     * them all, so the fork really happens with every drain in flight. */
    int drains = pattern_drain_thread_fds() - drain_fds_idle;
    for (int waited = 0; drain_fds_idle >= 0 && drains < connections && waited < DRAINS_SETTLE_MS;
         waited += 5) {
        pattern_sleep_ms(5);
        drains = pattern_drain_thread_fds() - drain_fds_idle;
    }
    if (drain_fds_idle < 0)
        pattern_observe("drains_at_fork", "none");
    else
        pattern_observe("drains_at_fork", "%d", drains);

    static struct fd_entry parent_fds[MAX_FDS];
    int parent_count = list_fds("/proc/self/fd", parent_fds, MAX_FDS);
    pid_t pid = fork();
    if (pid < 0)
        pattern_die("fork");
    if (pid == 0)
        child(argv[0], parent_fds, parent_count, drained, connections, drained_list);

    long long deadline = monotonic_ms() + CHILD_TIMEOUT_MS;
    int status;
    pid_t reaped;
    while ((reaped = waitpid(pid, &status, WNOHANG)) == 0 && monotonic_ms() < deadline)
        pattern_sleep_ms(5);
    if (reaped == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        pattern_observe("child_status", "hung: killed after %d ms", CHILD_TIMEOUT_MS);
    } else if (reaped < 0) {
        pattern_die("waitpid");
    } else if (WIFEXITED(status)) {
        pattern_observe("child_status", "exited %d", WEXITSTATUS(status));
    } else {
        pattern_observe("child_status", "killed by signal %d", WTERMSIG(status));
    }

    pattern_wait_for_stdin_eof();
    close(listen_fd);
    return 0;
}
