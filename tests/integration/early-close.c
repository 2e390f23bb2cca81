/* SPDX-License-Identifier: MIT */
/* A preloaded library whose constructor makes and closes sockets and closes
 * a range of descriptors, as some programs' start-up code does, and which
 * the dynamic loader initialises before lingerclose when it is listed after
 * it in LD_PRELOAD: the library must pass such early calls straight
 * through. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((constructor)) static void close_early(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int closed = fd >= 0 && close(fd) == 0;
    for (int n = 64; n < 128; n++)
        close(n);
    static const char line[] = "early-close: constructor ran\n";
    if (write(STDERR_FILENO, line, sizeof line - 1) < 0 || !closed)
        _exit(3);
}
