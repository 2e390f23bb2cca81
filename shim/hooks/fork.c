/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <unistd.h>

#include "sys/export.h"

/* A vfork() child runs in its parent's memory until it execs, so its
 * closes would rewrite the parent's table and could shut the parent's
 * connections down. fork() gives it its own memory and runs the library's
 * fork handlers; POSIX allows vfork() to be fork(). */
LC_EXPORT pid_t vfork(void)
{
    return fork();
}
