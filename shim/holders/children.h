/* SPDX-License-Identifier: MIT */
/* Which children may hold a copy of a socket that the holder counts (see
 * holders.h) do not know of. A fork() child is counted: the fork handlers
 * add it as a holder of every socket. A child started any other way
 * (posix_spawn, popen, system, clone, _Fork) inherits every descriptor
 * without close-on-exec and is not counted, so while one may be alive a
 * close of such a descriptor must not linger. */
#ifndef LINGERCLOSE_CHILDREN_H
#define LINGERCLOSE_CHILDREN_H

#include <stdbool.h>

/* Around each start of an uncounted child. */
void lc_children_uncounted_start_begin(void);
void lc_children_uncounted_start_end(void);

/* Whether an uncounted child may be alive; asked only when the decision
 * would linger on a descriptor without close-on-exec. Async-signal-safe. */
bool lc_children_uncounted_may_hold(void);

#endif
