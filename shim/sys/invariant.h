/* SPDX-License-Identifier: MIT */
/* LC_ASSERT(condition): an invariant of the library's own state, such as
 * the drain's lists or a count only this process writes. Never for
 * anything read from shared memory, the environment, the file system or
 * the kernel, which may be anything and must be handled, not asserted.
 *
 * Checked in the sanitizer builds (configure --enable-sanitizers defines
 * LC_ASSERTIONS) and in the unit tests, where a broken invariant logs one
 * line and aborts; compiled but never evaluated otherwise, so that the
 * host program is never stopped for the library's sake. Async-signal-safe. */
#ifndef LINGERCLOSE_INVARIANT_H
#define LINGERCLOSE_INVARIANT_H

#ifdef LC_ASSERTIONS
#define LC_ASSERT(condition) \
    ((condition) ? (void)0 : lc_assertion_failed(#condition, __FILE__, __LINE__))
#else
#define LC_ASSERT(condition) ((void)sizeof(condition))
#endif

_Noreturn void lc_assertion_failed(const char *condition, const char *file, int line);

#endif
