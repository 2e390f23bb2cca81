/* SPDX-License-Identifier: MIT */
/* A forking server one of whose workers turns hostile: it runs untrusted
 * input after dropping its privileges (prefork style) and writes garbage
 * over every shared memory mapping it inherited - huge numbers, all ones,
 * small numbers that look like links to each other or to themselves. The
 * server must keep serving as if nothing had happened: a worker owns its
 * own memory, not its parent's.
 *
 * Per run, --connections N (default 4) after the first:
 *   connection 0: accepted by the server, which forks the hostile worker
 *                 (it inherits the connection and the listener), waits for
 *                 it to end, then answers the connection itself;
 *   connections 1..N: each served by a worker forked for it (the server
 *                 closes its copy at once), the last one by the server
 *                 itself through a dup() of it.
 * Each answer is the early error to a small request. The server announces
 * itself as "ROLE server <pid>", the hostile worker as "ROLE hostile <pid>";
 * the worker observes "scribbled <bytes>". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

#define NOBODY 65534

static void scribble(unsigned long start, unsigned long end)
{
    uint32_t *words = (uint32_t *)start;
    size_t count = (end - start) / sizeof *words;
    for (size_t i = 0; i < count; i++) {
        switch (i % 5) {
        case 0: words[i] = 0xffffffffu; break;
        case 1: words[i] = (uint32_t)random(); break;
        case 2: words[i] = (uint32_t)(i / 4); break; /* about the slot it sits in */
        case 3: words[i] = (uint32_t)random() % 64; break;
        default: words[i] = 0; break;
        }
    }
}

static _Noreturn void run_hostile(int connection)
{
    fprintf(stderr, "ROLE hostile %d\n", (int)getpid());
    /* Found while the worker may still read its own maps; writing needs
     * no privilege at all. */
    unsigned long starts[16], ends[16];
    int found = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps)
        pattern_die("/proc/self/maps");
    char line[512];
    while (found < 16 && fgets(line, sizeof line, maps)) {
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &starts[found], &ends[found], perms) == 3 &&
            strcmp(perms, "rw-s") == 0)
            found++;
    }
    fclose(maps);
    if (getuid() == 0 && (setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
        pattern_die("dropping privileges");

    srandom(7);
    unsigned long bytes = 0;
    for (int i = 0; i < found; i++) {
        scribble(starts[i], ends[i]);
        bytes += ends[i] - starts[i];
    }
    pattern_observe("scribbled", "%lu", bytes);
    close(connection);
    /* Without exit()'s handlers: a sanitizer's report at exit would go to
     * files this user may no longer write. */
    _exit(0);
}

static void answer(int fd)
{
    pattern_read_some_request(fd);
    pattern_send_early_error(fd);
}

int main(int argc, char **argv)
{
    int connections = 4;
    const struct pattern_option options[] = { PATTERN_CONNECTIONS(connections), { 0 } };
    pattern_options(argc, argv, options, "hostile-worker [--connections=N]");
    fprintf(stderr, "ROLE server %d\n", (int)getpid());

    int listener = pattern_listen();
    int first = pattern_accept(listener);
    pid_t hostile = fork();
    if (hostile < 0)
        pattern_die("fork");
    if (hostile == 0)
        run_hostile(first);
    int status;
    if (waitpid(hostile, &status, 0) != hostile || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        pattern_die("hostile worker failed");
    answer(first);
    close(first);

    for (int c = 1; c <= connections; c++) {
        int fd = pattern_accept(listener);
        if (c == connections) {
            int copy = dup(fd);
            if (copy < 0)
                pattern_die("dup");
            close(fd);
            answer(copy);
            close(copy);
            break;
        }
        pid_t worker = fork();
        if (worker < 0)
            pattern_die("fork");
        if (worker == 0) {
            answer(fd);
            close(fd);
            exit(0);
        }
        close(fd);
        pattern_reap_children();
    }
    pattern_observe("served", "%d", connections + 1);
    pattern_wait_for_stdin_eof();
    return 0;
}
