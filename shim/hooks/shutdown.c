/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <sys/socket.h>

#include "holders/fdtable.h"
#include "sys/export.h"
#include "sys/real.h"

/* Passed through unchanged (a shutdown() is how one thread wakes another
 * blocked in recv); the library only remembers that the app gave up on its
 * input, so that the close that follows lingers. */
LC_EXPORT int shutdown(int fd, int how)
{
    int rc = lc_real_shutdown(fd, how);
    if (rc == 0 && lc_ready() && (how == SHUT_RD || how == SHUT_RDWR) && lc_fdtable_state(fd))
        lc_socket_add_flags(fd, LC_FD_APP_SHUT_RD);
    return rc;
}
LC_HOOK_ALIAS(shutdown);
