/* SPDX-License-Identifier: MIT */
/* Lingering when the process ends instead of closing: the kernel's close
 * at exit would otherwise turn unread input into a reset. */
#ifndef LINGERCLOSE_EXIT_H
#define LINGERCLOSE_EXIT_H

/* Gives every owned connection its close decision; those that linger get
 * their FIN and are drained right here, together with the drains already
 * handed to the drain thread, until all peers have closed or
 * LINGERCLOSE_EXIT_TIMEOUT passes. Runs once per process; only system
 * calls, so _exit() from a signal handler may call it. */
void lc_exit_linger(const char *how);

#endif
