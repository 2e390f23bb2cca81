/* SPDX-License-Identifier: MIT */
/* The close decision: a pure function of the socket's state as read from the
 * kernel (struct lc_socket_state) and of what the library recorded about it. */
#ifndef LINGERCLOSE_DECIDE_H
#define LINGERCLOSE_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"

/* A peer that is still sending (a body, a pipelined request) has moved data
 * within the last round trip plus its own pacing, far below a second on any
 * usable path; a response written within the last second may not have
 * reached a peer that has not reacted yet. Connections that were silent for
 * longer (keep-alive expiry, idle reaping) close plainly, so a server that
 * reaps thousands of idle connections pays nothing for the library. */
#define LC_RECENT_DATA_WINDOW_MS 1000u

/* TCP states as in the kernel's include/net/tcp_states.h. */
enum lc_tcp_state {
    LC_TCP_ESTABLISHED = 1,
    LC_TCP_SYN_SENT,
    LC_TCP_SYN_RECV,
    LC_TCP_FIN_WAIT1,
    LC_TCP_FIN_WAIT2,
    LC_TCP_TIME_WAIT,
    LC_TCP_CLOSE,
    LC_TCP_CLOSE_WAIT,
    LC_TCP_LAST_ACK,
    LC_TCP_LISTEN,
    LC_TCP_CLOSING,
};

struct lc_socket_state {
    bool owned;             /* created or handed over here: the library saw all its copies */
    bool shared;            /* another descriptor or process still holds it */
    bool child_may_hold;    /* inheritable, and a child started without fork() may live */
    bool is_tcp;            /* TCP_INFO answered */
    uint8_t tcp_state;      /* enum lc_tcp_state */
    uint32_t unread_bytes;  /* SIOCINQ */
    bool output_unacked;    /* bytes not yet sent or not yet acknowledged */
    uint32_t ms_since_data; /* since the last data sent or received */
    bool abortive_linger;   /* the app set SO_LINGER {1, 0} */
    bool app_shut_rd;       /* the app called shutdown(SHUT_RD or SHUT_RDWR) */
    bool epoll_unknown;     /* in epoll sets the library did not record */
    bool port_filtered;     /* LINGERCLOSE_PORTS / _EXCLUDE_PORTS leave its local port out */
};

enum lc_reason {
    /* plain close */
    LC_PLAIN_MODE_OFF,
    LC_PLAIN_NOT_OWNED,
    LC_PLAIN_SHARED,
    LC_PLAIN_NOT_TCP,
    LC_PLAIN_LISTENING,
    LC_PLAIN_ABORTIVE,
    LC_PLAIN_NOT_CONNECTED,
    LC_PLAIN_PEER_CLOSED,
    LC_PLAIN_CHILD_MAY_HOLD,
    LC_PLAIN_EPOLL_UNKNOWN,
    LC_PLAIN_QUIET,
    LC_PLAIN_CAPACITY,
    LC_PLAIN_UNAVAILABLE,
    LC_PLAIN_PORT_FILTERED,
    LC_PLAIN_QUEUE_CAP,
    /* lingering close */
    LC_LINGER_UNREAD,
    LC_LINGER_ALWAYS,
    LC_LINGER_APP_SHUT_RD,
    LC_LINGER_UNACKED,
    LC_LINGER_RECENT_DATA,
    LC_REASON_COUNT
};

#define LC_FIRST_LINGER_REASON LC_LINGER_UNREAD

static inline bool lc_reason_lingers(enum lc_reason reason)
{
    return reason >= LC_FIRST_LINGER_REASON;
}

enum lc_reason lc_decide(const struct lc_socket_state *s, enum lc_mode mode);
const char *lc_reason_name(enum lc_reason reason);

/* States in which the peer's FIN has arrived. */
bool lc_tcp_peer_closed(uint8_t tcp_state);
/* States of a connection that carries, or carried, data. */
bool lc_tcp_connected(uint8_t tcp_state);

#endif
