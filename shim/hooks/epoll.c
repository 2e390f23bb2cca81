/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <sys/epoll.h>

#include "holders/fdtable.h"
#include "sys/export.h"
#include "sys/real.h"

/* Remembers which epoll sets hold each socket, so that a lingering close
 * can take the socket out of them first. */
LC_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    int rc = lc_real_epoll_ctl(epfd, op, fd, event);
    if (rc != 0 || !lc_ready())
        return rc;
    if (op == EPOLL_CTL_ADD)
        lc_fdtable_epoll_added(fd, epfd);
    else if (op == EPOLL_CTL_DEL)
        lc_fdtable_epoll_removed(fd, epfd);
    return rc;
}
