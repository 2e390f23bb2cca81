/* Reads what the decision needs from the kernel: one getsockopt(TCP_INFO)
 * and one ioctl(SIOCINQ) for a connected socket, nothing for a descriptor
 * the library does not own or that another holder still has. */
#ifndef LINGERCLOSE_SNAPSHOT_H
#define LINGERCLOSE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "decide.h"

/* fd_state: the entry with its record's socket flags folded in. */
void lc_snapshot_take(int fd, uint64_t fd_state, bool shared, struct lc_sockstate *out);

#endif
