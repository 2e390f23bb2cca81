/* SPDX-License-Identifier: MIT */
#include "config.h"

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
/* syscall(long number, ...) under its own name, with the six slots glibc
 * reads named: on x86_64 and aarch64, the only places it is defined, a
 * variadic call passes integer arguments exactly as a call with them named
 * would (registers, then the stack), and reading them so spares every call
 * a va_list's spill of the vector registers. The slots past the caller's
 * arguments are read, never used. */
LC_EXPORT long lc_syscall_entry(long number, long a1, long a2, long a3, long a4, long a5,
                                long a6) __asm__("syscall");
LC_EXPORT long lc_syscall_entry(long number, long a1, long a2, long a3, long a4, long a5, long a6)
{

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
