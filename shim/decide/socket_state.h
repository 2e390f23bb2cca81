/* SPDX-License-Identifier: MIT */
/* Reads what the decision needs from the kernel: a one-byte peek
 * (MSG_PEEK), which alone settles a connection the peer has closed with
 * nothing unread, one the peer has reset and one with input waiting, else
 * getsockopt(TCP_INFO); nothing for a descriptor the library does not own,
 * that another holder still has, or whose app asked for an abortive close.
 * A plain close of a TCP socket thus asks at most one question, except a
 * connected one with nothing unread, which needs both (the peek for unread
 * input, TCP_INFO for the recent traffic: no single call answers both).
 * child_may_hold is left false: see holders/children.h. */
#ifndef LINGERCLOSE_SOCKET_STATE_H
#define LINGERCLOSE_SOCKET_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "decide/decide.h"

/* fd_state: the entry with its record's socket flags folded in. */
void lc_socket_state_read(int fd, uint64_t fd_state, bool shared, struct lc_socket_state *out);

/* The socket's local port, 0 if it has none; asked only when a port
 * filter is set and the decision would linger. */
uint16_t lc_socket_local_port(int fd);

#endif
