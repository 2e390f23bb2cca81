/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>

#include "holders/fdtable.h"
#include "sys/export.h"
#include "sys/real.h"

/* Calls fn for every descriptor a message carries with SCM_RIGHTS. */
static void for_each_passed(const struct msghdr *msg, void (*fn)(int fd))
{
    if (!msg || !msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
         c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *data = CMSG_DATA(c);
        for (size_t i = 0; i < count; i++) {
            int fd;
            __builtin_memcpy(&fd, data + i * sizeof fd, sizeof fd);
            fn(fd);
        }
    }
}

/* A socket sent to another process is held there too, where the library
 * cannot count: it must never be shut down from here. */
static void mark_sent_away(int fd)
{
    if (lc_fdtable_state(fd))
        lc_socket_add_flags(fd, LC_FD_SENT_AWAY);
}

/* A descriptor received from elsewhere is not ours: whatever the table
 * held for that number (a close the library did not see) goes, and its
 * close is recorded as one of a socket not owned. */
static void forget_received(int fd)
{
    lc_fdtable_set(fd, LC_FD_RECEIVED);
}

LC_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    ssize_t rc = lc_real_sendmsg(fd, msg, flags);
    if (rc >= 0 && lc_ready())
        for_each_passed(msg, mark_sent_away);
    return rc;
}

LC_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
    int rc = lc_real_sendmmsg(fd, vec, vlen, flags);
    if (rc > 0 && lc_ready()) {
        for (int i = 0; i < rc; i++)
            for_each_passed(&vec[i].msg_hdr, mark_sent_away);
    }
    return rc;
}

LC_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    ssize_t rc = lc_real_recvmsg(fd, msg, flags);
    if (rc >= 0 && lc_ready())
        for_each_passed(msg, forget_received);
    return rc;
}

LC_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
                       struct timespec *timeout)
{
    int rc = lc_real_recvmmsg(fd, vec, vlen, flags, timeout);
    if (rc > 0 && lc_ready()) {
        for (int i = 0; i < rc; i++)
            for_each_passed(&vec[i].msg_hdr, forget_received);
    }
    return rc;
}
