#include "config.h"

#include <sys/socket.h>

#include "export.h"
#include "fdtable.h"
#include "real.h"

/* A socket sent to another process with SCM_RIGHTS is held there too: it
 * must never be shut down from here. */
static void mark_passed_descriptors(const struct msghdr *msg)
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
            if (lc_fdtable_state(fd))
                lc_fdtable_add_flags(fd, LC_FD_SHARED);
        }
    }
}

LC_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    ssize_t rc = lc_real_sendmsg(fd, msg, flags);
    if (rc >= 0 && lc_ready())
        mark_passed_descriptors(msg);
    return rc;
}

LC_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
    int rc = lc_real_sendmmsg(fd, vec, vlen, flags);
    if (rc > 0 && lc_ready()) {
        for (int i = 0; i < rc; i++)
            mark_passed_descriptors(&vec[i].msg_hdr);
    }
    return rc;
}
