/* Reads what the decision needs from the kernel: a one-byte peek
 * (MSG_PEEK), which alone settles a connection the peer has closed with
 * nothing unread and one with input waiting, else getsockopt(TCP_INFO);
 * nothing for a descriptor the library does not own or that another holder
 * still has. child_may_hold is left false: see holders/children.h. */
#ifndef LINGERCLOSE_SNAPSHOT_H
#define LINGERCLOSE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "decide/decide.h"

/* fd_state: the entry with its record's socket flags folded in. */
void lc_snapshot_take(int fd, uint64_t fd_state, bool shared, struct lc_sockstate *out);

/* The socket's local port, 0 if it has none; asked only when a port
 * filter is set and the decision would linger. */
uint16_t lc_snapshot_local_port(int fd);

#endif
