/* SPDX-License-Identifier: MIT */
/* A server whose connection ends with _exit() called on a small stack: a
 * signal handler on an alternate stack of MINSIGSTKSZ bytes, the way
 * daemons die cleanly on SIGTERM or report a stack overflow. The library's
 * exit path (the connection's lingering, its log lines, the last write of
 * the statistics file) runs on that stack.
 *
 *   exit-small-stack [--stack BYTES]
 *
 * The kernel's own signal frame takes a size that depends on the machine,
 * so the stack is a context of its own (swapcontext) of BYTES (default
 * 2048, the historical MINSIGSTKSZ) with 64 KiB of inaccessible memory below it (a frame can
 * reach past a single guard page): whatever needs more dies of SIGSEGV. Run it with LD_BIND_NOW=1, or the dynamic
 * loader's first resolution of _exit (which saves every register on the
 * stack) is what is measured. It serves one connection (read a little,
 * early error) and calls _exit(0) on that stack. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "pattern.h"

static void end_now(void)
{
    _exit(0);
}

int main(int argc, char **argv)
{
    static size_t size = 2048; /* static: getcontext may return twice */
    if (argc == 3 && strcmp(argv[1], "--stack") == 0)
        size = (size_t)atol(argv[2]);
    const size_t guard = 64 * 1024;
    char *region = mmap(NULL, guard + size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    if (region == MAP_FAILED || mprotect(region, guard, PROT_NONE) != 0)
        pattern_die("mmap");

    int listen_fd = pattern_listen();
    int fd = pattern_accept(listen_fd);
    pattern_read_some_request(fd);
    pattern_send_early_error(fd);

    ucontext_t here, small;
    if (getcontext(&small) != 0)
        pattern_die("getcontext");
    /* Its lowest byte sits right above the inaccessible memory. */
    small.uc_stack.ss_sp = region + guard;
    small.uc_stack.ss_size = size;
    small.uc_link = NULL;
    makecontext(&small, end_now, 0);
    swapcontext(&here, &small);
    return 3;
}
