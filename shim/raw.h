/* System calls made directly, for code that runs in the drain thread's own
 * descriptor table: a wrapper that tracks descriptors by number (another
 * preload such as socket_wrapper, a sanitizer's runtime) would take its
 * numbers for the program's. */
#ifndef LINGERCLOSE_RAW_H
#define LINGERCLOSE_RAW_H

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's struct stat is glibc's on the 64-bit ABIs this runs on. */
static inline int lc_raw_fstat(int fd, struct stat *st)
{
#ifdef SYS_newfstatat
    return (int)syscall(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
#else
    return (int)syscall(SYS_fstat, fd, st);
#endif
}

#endif
