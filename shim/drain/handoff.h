/* SPDX-License-Identifier: MIT */
/* The program's side of the drain: its capacity (LINGERCLOSE_MAX_SOCKETS
 * places, LINGERCLOSE_MAX_QUEUED bytes of output) and the channel a
 * lingering socket travels through to the drain thread. close() hands a
 * socket over by sending it (SCM_RIGHTS) through a non-blocking socket
 * pair: no lock, no allocation; everything here is async-signal-safe. */
#ifndef LINGERCLOSE_HANDOFF_H
#define LINGERCLOSE_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

#include "decide/decide.h"

/* What travels with each socket to the drain thread. */
struct lc_handoff {
    uint32_t queued;
    uint32_t input_unread; /* a plain close would have reset it */
    uint32_t fin_deferred; /* no FIN sent: the drain sends it (LINGERCLOSE_PEER_FIN_WAIT) */
};

/* A place in the drain for fd: one of LINGERCLOSE_MAX_SOCKETS, and the
 * output fd has not had acknowledged (SIOCOUTQ, *queued) counted against
 * LINGERCLOSE_MAX_QUEUED. False, taking nothing, if either would go
 * beyond, with the reason (capacity, queue-cap) in *refused. */
bool lc_drain_take_place(int fd, uint32_t *queued, enum lc_reason *refused);
/* For a socket that took a place and did not go to the thread after all. */
void lc_drain_give_back_place(uint32_t queued);
/* Parts of the place, given back as the drain goes: output acknowledged
 * since, and the socket's place once it is closed. */
void lc_drain_unaccount_output(uint32_t queued);
void lc_drain_unreserve(void);
/* Places taken: sockets lingering in the drain thread or on their way. */
uint32_t lc_drain_in_flight(void);

/* Sends the program's socket fd (with its reserved place and the output
 * counted for it) to the thread, which then holds its own reference.
 * input_unread: the close found input unread, so a plain close would have
 * reset the connection; a stalled drain may then end with a reset too.
 * fin_deferred: the close sent no FIN; the thread holds it back for the
 * peer's, LINGERCLOSE_PEER_FIN_WAIT at most. */
bool lc_drain_submit(int fd, uint32_t queued, bool input_unread, bool fin_deferred);

/* The library's one descriptor in the program's table (the sending end),
 * or -1. */
int lc_drain_private_fd(void);
bool lc_drain_is_private(int fd);

/* Moves fd's file to a descriptor of the library's, close-on-exec and near
 * the top of the range so that the program's numbering stays its own;
 * -1 if that fails. */
int lc_drain_move_to_private(int fd);
/* The same above the soft RLIMIT_NOFILE where the hard one allows: for
 * the hand-off socket, not on a close's path. */
int lc_drain_move_beyond_limit(int fd);
/* How far above the soft limit it may go. */
#define LC_BEYOND_LIMIT_ROOM 64

/* The program is about to take that number (dup2/dup3 onto it): move ours. */
void lc_drain_evict(int fd);

/* The thread runs: sender (a private descriptor) is the channel now. */
void lc_handoff_open(int sender);

/* In a fork() child: the sending end would hand the child's sockets to the
 * parent's thread, so it goes, and nothing is in flight. */
void lc_handoff_atfork_child(void);

#endif
