/* SPDX-License-Identifier: MIT */
/* Lingering sockets of a process that has no drain thread yet: a fork()
 * child, whose drain thread starts only when it creates a socket of its
 * own. close() may not start one (it may run in a signal handler, and
 * starting means creating a thread and waiting for it), so the socket's
 * FIN is sent at once and it waits here, on a private descriptor, for the
 * first of: a drain thread (it is then handed over), the process's end
 * (the exit path drains it), or its total timeout (checked at each close).
 * Lock-free and allocation-free. */
#ifndef LINGERCLOSE_PARK_H
#define LINGERCLOSE_PARK_H

#include <stdbool.h>
#include <stdint.h>

#define LC_PARKED_MAX 16

/* Keeps a socket whose FIN is sent: the program's fd may then be closed.
 * False if there is no room (the caller closes plainly). */
bool lc_park(int fd);
/* Whether any socket is parked (cheap). */
bool lc_park_any(void);
/* Closes the parked sockets older than LINGERCLOSE_TIMEOUT. */
void lc_park_expire(int64_t now_ms);
/* Once the drain thread runs: every parked socket goes to it. */
void lc_park_hand_to_drain(void);
/* For the exit path: takes up to max parked descriptors out (the caller
 * drains them and leaves them to the process's end). */
int lc_park_take_all(int *fds, int max);
/* The program is about to take that number (dup2/dup3 onto it). */
void lc_park_evict(int fd);
/* In a fork() child: the parked sockets are the parent's. */
void lc_park_forget_in_child(void);

#endif
