/* SPDX-License-Identifier: MIT */
/* Preloaded after the library, for the tests: an execve() made while
 * $LC_TEST_EXEC_PAUSE_FDS ("TO,FROM", two pipe descriptors) is set stops
 * between the library's hook and the system call: it writes one byte to TO
 * and waits for one byte on FROM. A test can so act in the window where the
 * library has given the close-on-exec holds back and the exec() has not
 * failed yet, without anything in the library being there for tests. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int execve(const char *path, char *const argv[], char *const envp[])
{
    int (*next)(const char *, char *const[], char *const[]) =
        (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
    const char *fds = getenv("LC_TEST_EXEC_PAUSE_FDS");
    int to, from;
    char byte = 'E';
    if (fds && sscanf(fds, "%d,%d", &to, &from) == 2 && write(to, &byte, 1) == 1)
        while (read(from, &byte, 1) < 0) {
        }
    return next(path, argv, envp);
}
