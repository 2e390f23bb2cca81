/* SPDX-License-Identifier: MIT */
#include "config.h"

#include "decide/decide.h"

static const char *const reason_names[LC_REASON_COUNT] = {
    [LC_PLAIN_MODE_OFF] = "mode-off",
    [LC_PLAIN_NOT_OWNED] = "not-owned",
    [LC_PLAIN_SHARED] = "shared",
    [LC_PLAIN_NOT_TCP] = "not-tcp",
    [LC_PLAIN_LISTENING] = "listening",
    [LC_PLAIN_ABORTIVE] = "abortive-linger",
    [LC_PLAIN_NOT_CONNECTED] = "not-connected",
    [LC_PLAIN_PEER_CLOSED] = "peer-closed",
    [LC_PLAIN_CHILD_MAY_HOLD] = "child-may-hold",
    [LC_PLAIN_EPOLL_UNKNOWN] = "epoll-unknown",
    [LC_PLAIN_QUIET] = "quiet",
    [LC_PLAIN_CAPACITY] = "capacity",
    [LC_PLAIN_UNAVAILABLE] = "unavailable",
    [LC_PLAIN_PORT_FILTERED] = "port-filtered",
    [LC_PLAIN_QUEUE_CAP] = "queue-cap",
    [LC_LINGER_UNREAD] = "unread-input",
    [LC_LINGER_ALWAYS] = "mode-always",
    [LC_LINGER_APP_SHUT_RD] = "app-shut-rd",
    [LC_LINGER_UNACKED] = "unacked-output",
    [LC_LINGER_RECENT_DATA] = "recent-data",
};

const char *lc_reason_name(enum lc_reason reason)
{
    return (unsigned)reason < LC_REASON_COUNT ? reason_names[reason] : "?";
}

bool lc_tcp_peer_closed(uint8_t tcp_state)
{
    return tcp_state == LC_TCP_CLOSE_WAIT || tcp_state == LC_TCP_LAST_ACK ||
           tcp_state == LC_TCP_CLOSING;
}

bool lc_tcp_connected(uint8_t tcp_state)
{
    switch (tcp_state) {
    case LC_TCP_ESTABLISHED:
    case LC_TCP_SYN_RECV:
    case LC_TCP_FIN_WAIT1:
    case LC_TCP_FIN_WAIT2:
    case LC_TCP_CLOSE_WAIT:
    case LC_TCP_LAST_ACK:
    case LC_TCP_CLOSING:
        return true;
    default:
        return false;
    }
}

/* The order matters: every reason to leave a socket alone comes before any
 * reason to linger, and the cheap facts come first. Keep lingerclose(7)'s
 * DECISION RULE in step with this function. */
enum lc_reason lc_decide(const struct lc_socket_state *s, enum lc_mode mode)
{
    if (mode == LC_MODE_OFF)
        return LC_PLAIN_MODE_OFF;
    if (!s->owned)
        return LC_PLAIN_NOT_OWNED;
    if (s->shared)
        return LC_PLAIN_SHARED;
    if (!s->is_tcp)
        return LC_PLAIN_NOT_TCP;
    if (s->tcp_state == LC_TCP_LISTEN)
        return LC_PLAIN_LISTENING;
    if (s->abortive_linger)
        return LC_PLAIN_ABORTIVE;
    if (!lc_tcp_connected(s->tcp_state))
        return LC_PLAIN_NOT_CONNECTED;
    if (lc_tcp_peer_closed(s->tcp_state) && s->unread_bytes == 0)
        return LC_PLAIN_PEER_CLOSED;
    if (s->child_may_hold)
        return LC_PLAIN_CHILD_MAY_HOLD;
    if (s->epoll_unknown)
        return LC_PLAIN_EPOLL_UNKNOWN;
    if (s->port_filtered)
        return LC_PLAIN_PORT_FILTERED;

    if (s->unread_bytes > 0)
        return LC_LINGER_UNREAD;
    if (mode == LC_MODE_ALWAYS)
        return LC_LINGER_ALWAYS;
    if (s->app_shut_rd)
        return LC_LINGER_APP_SHUT_RD;
    if (s->output_unacked)
        return LC_LINGER_UNACKED;
    if (s->ms_since_data < LC_RECENT_DATA_WINDOW_MS)
        return LC_LINGER_RECENT_DATA;
    return LC_PLAIN_QUIET;
}
