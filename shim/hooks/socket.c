/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "drain/drain.h"
#include "drain/park.h"
#include "holders/fdtable.h"
#include "sys/export.h"
#include "sys/real.h"

/* Starting the drain thread is not async-signal-safe, and close() never
 * does it: a program that makes TCP sockets does it here. Sockets a fork()
 * child lingered on before it had a thread wait for it (park.h). */
static void start_drain_early(void)
{
    if (!lc_drain_started() && lc_drain_start() && lc_park_any())
        lc_park_hand_to_drain();
}

static uint64_t cloexec_flag(int flags)
{
    return (flags & SOCK_CLOEXEC) ? LC_FD_CLOEXEC : 0;
}

LC_EXPORT int socket(int domain, int type, int protocol)
{
    int fd = lc_real_socket(domain, type, protocol);
    if (fd < 0 || !lc_ready())
        return fd;
    bool tcp = (domain == AF_INET || domain == AF_INET6) &&
               (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM &&
               (protocol == 0 || protocol == IPPROTO_TCP);
    int saved_errno = errno;
    if (tcp) {
        lc_fdtable_own(fd, LC_FD_LINGER_KNOWN | cloexec_flag(type));
        start_drain_early();
    } else {
        lc_fdtable_set(fd, 0);
    }
    errno = saved_errno;
    return fd;
}
LC_HOOK_ALIAS(socket);

/* An accepted socket inherits its listener's SO_LINGER. A listener this
 * process did not create (socket activation, inetd, exec) is asked once. */
static uint64_t inherited_linger(int listen_fd)
{
    uint64_t listener = lc_fdtable_socket_state(listen_fd);
    if (!(listener & LC_FD_LINGER_KNOWN)) {
        struct linger lg = { 0, 0 };
        socklen_t len = sizeof lg;
        uint64_t known = LC_FD_LINGER_KNOWN;
        if (getsockopt(listen_fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff &&
            lg.l_linger == 0)
            known |= LC_FD_ABORTIVE;
        lc_socket_add_flags(listen_fd, known);
        listener |= known;
    }
    return LC_FD_LINGER_KNOWN | (listener & LC_FD_ABORTIVE);
}

/* Only TCP over IPv4 or IPv6 may linger: a unix-domain peer must keep
 * seeing ECONNRESET where Linux gives it. Asked once per listener. */
static bool accepts_tcp(int listen_fd)
{
    uint64_t state = lc_fdtable_state(listen_fd);
    if (state & LC_FD_KIND_KNOWN)
        return !(state & LC_FD_NOT_TCP);
    int domain = 0, protocol = 0;
    socklen_t len = sizeof domain;
    bool tcp = getsockopt(listen_fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
               (domain == AF_INET || domain == AF_INET6);
    len = sizeof protocol;
    tcp = tcp && getsockopt(listen_fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 &&
          protocol == IPPROTO_TCP;
    lc_fdtable_add_flags(listen_fd, LC_FD_KIND_KNOWN | (tcp ? 0 : LC_FD_NOT_TCP));
    return tcp;
}

static int track_accepted(int listen_fd, int fd, int flags)
{
    if (fd >= 0 && lc_ready()) {
        int saved_errno = errno;
        if (accepts_tcp(listen_fd)) {
            lc_fdtable_own(fd, inherited_linger(listen_fd) | cloexec_flag(flags));
            start_drain_early();
        } else {
            lc_fdtable_set(fd, 0);
        }
        errno = saved_errno;
    }
    return fd;
}

LC_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return track_accepted(fd, lc_real_accept(fd, addr, len), 0);
}
LC_HOOK_ALIAS(accept);

LC_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    return track_accepted(fd, lc_real_accept4(fd, addr, len, flags), flags);
}
LC_HOOK_ALIAS(accept4);
