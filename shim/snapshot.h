/* Reads what the decision needs from the kernel: one getsockopt(TCP_INFO)
 * and one ioctl(SIOCINQ) for a connected socket, nothing for a descriptor
 * the library does not own. */
#ifndef LINGERCLOSE_SNAPSHOT_H
#define LINGERCLOSE_SNAPSHOT_H

#include <stdint.h>

#include "decide.h"

void lc_snapshot_take(int fd, uint64_t fd_state, struct lc_sockstate *out);

#endif
