/* SPDX-License-Identifier: MIT */
/* The library is built with -fvisibility=hidden; only the interposed
 * functions carry this mark (and liblingerclose.map lists the same names). */
#ifndef LINGERCLOSE_EXPORT_H
#define LINGERCLOSE_EXPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#define LC_EXPORT __attribute__((visibility("default")))

/* LC_HOOK_ALIAS(close) after close's definition gives lc_hook_close, the
 * same function under a hidden name: a call to it from inside the library
 * cannot be taken by another object's close, as a call to close could
 * (hooks/hooks.h declares them). */
#if defined(__clang__) || !defined(__GNUC__) || __GNUC__ < 9
#define LC_HOOK_ALIAS_ATTRIBUTES(name)
#else
/* libc declares some of them nothrow, leaf: the alias is the same function. */
#define LC_HOOK_ALIAS_ATTRIBUTES(name) __attribute__((copy(name)))
#endif
#define LC_HOOK_ALIAS(name)                                                            \
    extern __typeof__(name) lc_hook_##name LC_HOOK_ALIAS_ATTRIBUTES(name)               \
        __attribute__((alias(#name), visibility("hidden")))

/* Interposed names that C libraries before glibc 2.34 do not declare: the
 * library exports them all the same, for programs built against a newer
 * one (configure's checks say which are missing). */
#if !HAVE_DECL_CLOSE_RANGE
int close_range(unsigned int first, unsigned int last, int flags);
#endif
#if !HAVE_DECL_CLOSEFROM
void closefrom(int lowfd);
#endif
#if !HAVE_DECL__FORK
pid_t _Fork(void);
#endif
#if !HAVE_DECL_EXECVEAT
int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags);
#endif

extern _Atomic bool lc_initialised;
/* Children started with clone(CLONE_VM) that may be running: they run in
 * this process's memory, where the library's state is not theirs. */
extern _Atomic int lc_memory_sharing_children;

/* Whether the caller is the process this memory belongs to (and not a
 * clone(CLONE_VM) child running in it). */
bool lc_in_owner_process(void);

/* False until the constructor has resolved the real functions and read the
 * configuration, and in a child running in its parent's memory: then every
 * hook is a plain pass-through. */
static inline bool lc_ready(void)
{
    if (!atomic_load_explicit(&lc_initialised, memory_order_acquire))
        return false;
    return atomic_load_explicit(&lc_memory_sharing_children, memory_order_relaxed) == 0 ||
           lc_in_owner_process();
}

#endif
