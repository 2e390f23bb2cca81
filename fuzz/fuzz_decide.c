/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the close decision (shim/decide/decide.c): any
 * socket state, any mode. The decision must name a known reason,
 * be the same when asked twice, and never linger where the rule says a
 * socket must be left alone (lingerclose(7), DECISION RULE). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide/decide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 12)
        return 0;
    uint16_t bits = (uint16_t)(data[0] | data[1] << 8);
    uint32_t unread, since;
    memcpy(&unread, data + 4, sizeof unread);
    memcpy(&since, data + 8, sizeof since);
    struct lc_socket_state s = {
        .owned = bits & 1,
        .shared = bits & 2,
        .child_may_hold = bits & 4,
        .is_tcp = bits & 8,
        .output_unacked = bits & 16,
        .abortive_linger = bits & 32,
        .app_shut_rd = bits & 64,
        .epoll_unknown = bits & 128,
        .port_filtered = bits & 256,
        .tcp_state = data[2],
        .unread_bytes = unread,
        .ms_since_data = since,
    };
    enum lc_mode mode = (enum lc_mode)(data[3] % 3);

    enum lc_reason reason = lc_decide(&s, mode);
    if ((unsigned)reason >= LC_REASON_COUNT || strcmp(lc_reason_name(reason), "?") == 0)
        abort();
    if (lc_decide(&s, mode) != reason)
        abort();
    if (mode == LC_MODE_OFF && reason != LC_PLAIN_MODE_OFF)
        abort();
    if (lc_reason_lingers(reason)) {
        bool peer_closed_empty = lc_tcp_peer_closed(s.tcp_state) && s.unread_bytes == 0;
        if (!s.owned || s.shared || !s.is_tcp || s.tcp_state == LC_TCP_LISTEN ||
            s.abortive_linger || !lc_tcp_connected(s.tcp_state) || peer_closed_empty ||
            s.child_may_hold || s.epoll_unknown || s.port_filtered)
            abort();
    }
    return 0;
}
