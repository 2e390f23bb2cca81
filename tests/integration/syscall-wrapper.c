/* SPDX-License-Identifier: MIT */
/* Another preload that wraps syscall(), as tracers and sandboxes' helpers
 * do, for the tests: it hands every call on to the next syscall() and
 * says once on stderr that it saw one. Entered again on the same thread
 * while a call of its own is under way, it aborts: the call came back to
 * it in a loop (a library whose own system calls go through syscall()
 * while also defining it). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

static _Thread_local int depth;

long syscall(long number, ...)
{
    static long (*next)(long, ...);
    static int told;
    if (depth > 0) {
        static const char loop[] = "syscall-wrapper: syscall() re-entered: a loop\n";
        write(2, loop, sizeof loop - 1);
        abort();
    }
    if (!next)
        next = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED)) {
        static const char seen[] = "syscall-wrapper: saw a call\n";
        write(2, seen, sizeof seen - 1);
    }
    depth++;
    long rc = next(number, a1, a2, a3, a4, a5, a6);
    depth--;
    return rc;
}
