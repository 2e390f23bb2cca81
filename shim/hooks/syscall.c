/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hooks/hooks.h"
#include "sys/export.h"
#include "sys/raw.h"
#include "sys/real.h"

/* libuv (Node.js, bind9, knot-resolver, h2o) closes its sockets with
 * syscall(SYS_close, fd), past the close() hook; so may any program. The
 * numbers that create, close, copy or replace a descriptor, or change its closing, go
 * to the same hook as the libc function; every other number goes on to the
 * next syscall() unchanged, arguments, result and errno alike.
 * Async-signal-safe: a switch, then what close() does.
 *
 * Only where sys/raw.h traps into the kernel itself: elsewhere its helpers
 * call libc's syscall(), which this definition would take over. */
#if LC_HAVE_INLINE_SYSCALL
LC_EXPORT long syscall(long number, ...)
{
    /* Six slots whatever the number, as glibc reads them: the registers or
     * stack words past the caller's arguments are read, never used. */
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);

    switch (number) {
    case SYS_close:
        return lc_hook_close((int)a1);
    case SYS_close_range:
        return lc_hook_close_range((unsigned int)a1, (unsigned int)a2, (int)a3);
#ifdef SYS_dup2
    case SYS_dup2:
        return lc_hook_dup2((int)a1, (int)a2);
#endif
    case SYS_dup:
        return lc_hook_dup((int)a1);
    case SYS_fcntl:
        return lc_hook_fcntl_done((int)a1, (int)a2, (void *)a3,
                                  (int)lc_real_syscall6(number, a1, a2, a3, a4, a5, a6));
    case SYS_dup3:
        return lc_hook_dup3((int)a1, (int)a2, (int)a3);
    case SYS_socket:
        return lc_hook_socket((int)a1, (int)a2, (int)a3);
#ifdef SYS_accept
    case SYS_accept:
        return lc_hook_accept((int)a1, (struct sockaddr *)a2, (socklen_t *)a3);
#endif
    case SYS_accept4:
        return lc_hook_accept4((int)a1, (struct sockaddr *)a2, (socklen_t *)a3, (int)a4);
    case SYS_shutdown:
        return lc_hook_shutdown((int)a1, (int)a2);
    case SYS_setsockopt:
        return lc_hook_setsockopt((int)a1, (int)a2, (int)a3, (const void *)a4, (socklen_t)a5);
    default:
        return lc_real_syscall6(number, a1, a2, a3, a4, a5, a6);
    }
}
#endif
