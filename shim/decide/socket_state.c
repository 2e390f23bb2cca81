/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <errno.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "decide/socket_state.h"
#include "holders/fdtable.h"
#include "log/log.h"

uint16_t lc_socket_local_port(int fd)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        return 0;
    if (addr.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&addr)->sin_port);
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return 0;
}

void lc_socket_state_read(int fd, uint64_t fd_state, bool shared, struct lc_socket_state *out)
{
    *out = (struct lc_socket_state){
        .owned = (fd_state & LC_FD_OWNED) != 0,
        .shared = shared || (fd_state & LC_FD_SENT_AWAY),
        .abortive_linger = (fd_state & LC_FD_ABORTIVE) != 0,
        .app_shut_rd = (fd_state & LC_FD_APP_SHUT_RD) != 0,
        .epoll_unknown = (fd_state & (LC_FD_EPOLL_UNKNOWN | LC_FD_EPOLL_LEFT)) != 0,
        .ms_since_data = UINT32_MAX,
    };
    if (!out->owned || out->shared)
        return;
    /* Owned means TCP over IPv4 or IPv6 (seen at socket(), accept() or
     * start-up), and the app's SO_LINGER {1, 0} was seen by setsockopt():
     * such a close is plain whatever the connection's state, so the kernel
     * is not asked. */
    if (out->abortive_linger) {
        out->is_tcp = true;
        return;
    }

    /* The commonest close of all, a connection the peer has closed with
     * nothing left unread, is told by one look: a peek that finds the end.
     * (After the app's own SHUT_RD a peek finds an end of its own making.) */
    char byte;
    ssize_t peeked = -1;
    bool nothing_unread = false;
    if (!out->app_shut_rd) {
        peeked = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        nothing_unread = peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    if (peeked == 0) {
        out->is_tcp = true;
        out->tcp_state = LC_TCP_CLOSE_WAIT;
        return;
    }
    /* The peer reset the connection (EPIPE: after its own FIN had come):
     * the kernel has already moved it to CLOSE, so there is nothing to
     * linger in and TCP_INFO would only say so. Other errors (an ICMP
     * report under IP_RECVERR) leave the connection alive. */
    if (peeked < 0 && (errno == ECONNRESET || errno == EPIPE)) {
        out->is_tcp = true;
        out->tcp_state = LC_TCP_CLOSE;
        return;
    }
    /* Input waiting: that alone decides (only a connected stream has any),
     * so a lingering close asks nothing more; the count is for the log. */
    if (peeked > 0) {
        int unread = 1;
        if (lc_log_enabled(LC_LOG_DEBUG))
            ioctl(fd, SIOCINQ, &unread);
        out->is_tcp = true;
        out->tcp_state = LC_TCP_ESTABLISHED;
        out->unread_bytes = unread > 0 ? (uint32_t)unread : 1;
        return;
    }

    struct tcp_info info;
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_rcv_rtt))
        return;
    out->is_tcp = true;
    out->tcp_state = info.tcpi_state;
    if (!lc_tcp_connected(info.tcpi_state))
        return;

    int unread = 0;
    if (!nothing_unread && ioctl(fd, SIOCINQ, &unread) == 0 && unread > 0)
        out->unread_bytes = (uint32_t)unread;

    bool notsent = len >= offsetof(struct tcp_info, tcpi_notsent_bytes) +
                              sizeof info.tcpi_notsent_bytes &&
                   info.tcpi_notsent_bytes > 0;
    out->output_unacked = info.tcpi_unacked > 0 || notsent;
    out->ms_since_data = info.tcpi_last_data_recv < info.tcpi_last_data_sent
                             ? info.tcpi_last_data_recv
                             : info.tcpi_last_data_sent;
}
