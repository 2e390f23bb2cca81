/* SPDX-License-Identifier: MIT */
/* Another preload that wraps syscall(), as tracers and sandboxes' helpers
 * do, for the tests: it hands every call on to the next syscall(), says
 * once on stderr that it saw one, and at exit how many it saw. Entered again on the same thread
 * while a call of its own is under way, it aborts: the call came back to
 * it in a loop (a library whose own system calls go through syscall()
 * while also defining it). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static _Thread_local int depth;
static long calls;

__attribute__((destructor)) static void say_how_many(void)
{
    char line[64];
    int n = snprintf(line, sizeof line, "syscall-wrapper: %ld calls\n",
                     __atomic_load_n(&calls, __ATOMIC_RELAXED));
    write(2, line, (size_t)n);
}

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
    __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED)) {
        static const char seen[] = "syscall-wrapper: saw a call\n";
        write(2, seen, sizeof seen - 1);
    }
    depth++;
    long rc = next(number, a1, a2, a3, a4, a5, a6);
    depth--;
    return rc;
}
