/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <sys/socket.h>

#include "holders/fdtable.h"
#include "sys/export.h"
#include "sys/real.h"

/* SO_LINGER {1, 0} asks for an abortive close (a RST, no TIME_WAIT); the
 * library must not turn that into a graceful one. */
LC_EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    int rc = lc_real_setsockopt(fd, level, name, value, len);
    if (rc != 0 || !lc_ready() || !lc_fdtable_state(fd) || level != SOL_SOCKET || name != SO_LINGER ||
        len < (socklen_t)sizeof(struct linger))
        return rc;
    const struct linger *lg = value;
    if (lg->l_onoff && lg->l_linger == 0) {
        lc_socket_add_flags(fd, LC_FD_LINGER_KNOWN | LC_FD_ABORTIVE);
    } else {
        lc_socket_clear_flags(fd, LC_FD_ABORTIVE);
        lc_socket_add_flags(fd, LC_FD_LINGER_KNOWN);
    }
    return rc;
}
LC_HOOK_ALIAS(setsockopt);
