/* SPDX-License-Identifier: MIT */
/* lc_decide as a decision table: every row starts from a socket that the
 * library would consider for a lingering close but that has nothing left to
 * do (plain "quiet" close in auto mode), changes one or two facts, and
 * states the reason it expects. */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "decide/decide.h"

#define FAR_PAST_MS (100u * LC_RECENT_DATA_WINDOW_MS)

static struct lc_socket_state baseline(void)
{
    return (struct lc_socket_state){
        .owned = true,
        .shared = false,
        .child_may_hold = false,
        .is_tcp = true,
        .tcp_state = LC_TCP_ESTABLISHED,
        .unread_bytes = 0,
        .output_unacked = false,
        .ms_since_data = FAR_PAST_MS,
        .abortive_linger = false,
        .app_shut_rd = false,
        .epoll_unknown = false,
    };
}

/* What a row changes in the baseline. Each field has a "set" flag so that a
 * row can change a field to false or 0. */
struct change {
    bool set_owned, owned;
    bool set_shared, shared;
    bool set_child, child_may_hold;
    bool set_tcp, is_tcp;
    bool set_state;
    uint8_t tcp_state;
    bool set_unread;
    uint32_t unread_bytes;
    bool set_unacked, output_unacked;
    bool set_ms;
    uint32_t ms_since_data;
    bool set_abortive, abortive_linger;
    bool set_shut_rd, app_shut_rd;
    bool set_epoll, epoll_unknown;
    bool set_port, port_filtered;
};

#define NOT_OWNED .set_owned = true, .owned = false
#define SHARED .set_shared = true, .shared = true
#define NOT_TCP .set_tcp = true, .is_tcp = false
#define STATE(s) .set_state = true, .tcp_state = (s)
#define UNREAD(n) .set_unread = true, .unread_bytes = (n)
#define CHILD .set_child = true, .child_may_hold = true
#define EPOLL .set_epoll = true, .epoll_unknown = true
#define PORT_FILTERED .set_port = true, .port_filtered = true
#define ABORTIVE .set_abortive = true, .abortive_linger = true
#define SHUT_RD .set_shut_rd = true, .app_shut_rd = true
#define UNACKED .set_unacked = true, .output_unacked = true
#define SINCE(ms) .set_ms = true, .ms_since_data = (ms)

struct row {
    const char *name;
    enum lc_mode mode;
    struct change change;
    enum lc_reason expect;
};

static struct lc_socket_state apply(const struct change *c)
{
    struct lc_socket_state s = baseline();
    if (c->set_owned)
        s.owned = c->owned;
    if (c->set_shared)
        s.shared = c->shared;
    if (c->set_child)
        s.child_may_hold = c->child_may_hold;
    if (c->set_tcp)
        s.is_tcp = c->is_tcp;
    if (c->set_state)
        s.tcp_state = c->tcp_state;
    if (c->set_unread)
        s.unread_bytes = c->unread_bytes;
    if (c->set_unacked)
        s.output_unacked = c->output_unacked;
    if (c->set_ms)
        s.ms_since_data = c->ms_since_data;
    if (c->set_abortive)
        s.abortive_linger = c->abortive_linger;
    if (c->set_shut_rd)
        s.app_shut_rd = c->app_shut_rd;
    if (c->set_epoll)
        s.epoll_unknown = c->epoll_unknown;
    if (c->set_port)
        s.port_filtered = c->port_filtered;
    return s;
}

#define AUTO LC_MODE_AUTO
#define ALWAYS LC_MODE_ALWAYS
#define OFF LC_MODE_OFF

static const struct row table[] = {
    /* the baseline */
    { "baseline", AUTO, { 0 }, LC_PLAIN_QUIET },

    /* reasons to leave the socket alone */
    { "mode off", OFF, { 0 }, LC_PLAIN_MODE_OFF },
    { "mode off beats unread input", OFF, { UNREAD(10) }, LC_PLAIN_MODE_OFF },
    { "mode off beats not owned", OFF, { NOT_OWNED }, LC_PLAIN_MODE_OFF },
    { "not owned", AUTO, { NOT_OWNED }, LC_PLAIN_NOT_OWNED },
    { "not owned, unread input", AUTO, { NOT_OWNED, UNREAD(10) }, LC_PLAIN_NOT_OWNED },
    { "not tcp", AUTO, { NOT_TCP }, LC_PLAIN_NOT_TCP },
    { "not tcp, unread input", AUTO, { NOT_TCP, UNREAD(10) }, LC_PLAIN_NOT_TCP },
    { "listen", AUTO, { STATE(LC_TCP_LISTEN) }, LC_PLAIN_LISTENING },
    { "listen, unread (pending) bytes", AUTO, { STATE(LC_TCP_LISTEN), UNREAD(3) },
      LC_PLAIN_LISTENING },
    { "abortive linger", AUTO, { ABORTIVE }, LC_PLAIN_ABORTIVE },
    { "abortive linger, unread input", AUTO, { ABORTIVE, UNREAD(10) }, LC_PLAIN_ABORTIVE },
    { "abortive linger, unacked output", AUTO, { ABORTIVE, UNACKED }, LC_PLAIN_ABORTIVE },
    { "syn-sent", AUTO, { STATE(LC_TCP_SYN_SENT) }, LC_PLAIN_NOT_CONNECTED },
    { "syn-sent, recent data", AUTO, { STATE(LC_TCP_SYN_SENT), SINCE(0) },
      LC_PLAIN_NOT_CONNECTED },
    { "close", AUTO, { STATE(LC_TCP_CLOSE) }, LC_PLAIN_NOT_CONNECTED },
    { "close, unread input", AUTO, { STATE(LC_TCP_CLOSE), UNREAD(10) },
      LC_PLAIN_NOT_CONNECTED },
    { "time-wait", AUTO, { STATE(LC_TCP_TIME_WAIT) }, LC_PLAIN_NOT_CONNECTED },
    { "unknown state 0", AUTO, { STATE(0) }, LC_PLAIN_NOT_CONNECTED },
    { "unknown state 12", AUTO, { STATE(12) }, LC_PLAIN_NOT_CONNECTED },
    { "close-wait, nothing unread", AUTO, { STATE(LC_TCP_CLOSE_WAIT) }, LC_PLAIN_PEER_CLOSED },
    { "close-wait, nothing unread, unacked output", AUTO,
      { STATE(LC_TCP_CLOSE_WAIT), UNACKED }, LC_PLAIN_PEER_CLOSED },
    { "close-wait, nothing unread, recent data", AUTO, { STATE(LC_TCP_CLOSE_WAIT), SINCE(0) },
      LC_PLAIN_PEER_CLOSED },
    { "last-ack, nothing unread", AUTO, { STATE(LC_TCP_LAST_ACK) }, LC_PLAIN_PEER_CLOSED },
    { "closing, nothing unread", AUTO, { STATE(LC_TCP_CLOSING) }, LC_PLAIN_PEER_CLOSED },
    { "child may hold", AUTO, { CHILD }, LC_PLAIN_CHILD_MAY_HOLD },
    { "child may hold, unread input", AUTO, { CHILD, UNREAD(10) }, LC_PLAIN_CHILD_MAY_HOLD },
    { "epoll unknown", AUTO, { EPOLL }, LC_PLAIN_EPOLL_UNKNOWN },
    { "epoll unknown, unread input", AUTO, { EPOLL, UNREAD(10) }, LC_PLAIN_EPOLL_UNKNOWN },
    { "port filtered out", AUTO, { PORT_FILTERED }, LC_PLAIN_PORT_FILTERED },
    { "port filtered out, unread input", AUTO, { PORT_FILTERED, UNREAD(10) },
      LC_PLAIN_PORT_FILTERED },
    { "port filtered out, recent data", AUTO, { PORT_FILTERED, SINCE(0) },
      LC_PLAIN_PORT_FILTERED },
    { "port filtered out, peer closed", AUTO, { PORT_FILTERED, STATE(LC_TCP_CLOSE_WAIT) },
      LC_PLAIN_PEER_CLOSED },
    { "child may hold beats epoll unknown", AUTO, { CHILD, EPOLL }, LC_PLAIN_CHILD_MAY_HOLD },
    { "at the recent-data window: quiet", AUTO, { SINCE(LC_RECENT_DATA_WINDOW_MS) },
      LC_PLAIN_QUIET },
    { "just past the recent-data window: quiet", AUTO,
      { SINCE(LC_RECENT_DATA_WINDOW_MS + 1) }, LC_PLAIN_QUIET },
    { "silent forever: quiet", AUTO, { SINCE(UINT32_MAX) }, LC_PLAIN_QUIET },
    { "syn-recv, quiet", AUTO, { STATE(LC_TCP_SYN_RECV) }, LC_PLAIN_QUIET },
    { "fin-wait1, nothing to do", AUTO, { STATE(LC_TCP_FIN_WAIT1) }, LC_PLAIN_QUIET },
    { "fin-wait2, nothing to do", AUTO, { STATE(LC_TCP_FIN_WAIT2) }, LC_PLAIN_QUIET },

    /* precedence between reasons to leave the socket alone, in order */
    { "not owned beats not tcp", AUTO, { NOT_OWNED, NOT_TCP }, LC_PLAIN_NOT_OWNED },
    { "shared", AUTO, { SHARED }, LC_PLAIN_SHARED },
    { "shared, unread input", AUTO, { SHARED, UNREAD(10) }, LC_PLAIN_SHARED },
    { "shared, app shut rd", AUTO, { SHARED, SHUT_RD }, LC_PLAIN_SHARED },
    { "not owned beats shared", AUTO, { NOT_OWNED, SHARED }, LC_PLAIN_NOT_OWNED },
    { "shared beats not tcp", AUTO, { SHARED, NOT_TCP }, LC_PLAIN_SHARED },
    { "always: shared", ALWAYS, { SHARED, UNREAD(10) }, LC_PLAIN_SHARED },
    { "mode off beats shared", OFF, { SHARED }, LC_PLAIN_MODE_OFF },
    { "not tcp beats listen", AUTO, { NOT_TCP, STATE(LC_TCP_LISTEN) }, LC_PLAIN_NOT_TCP },
    { "listen beats abortive linger", AUTO, { STATE(LC_TCP_LISTEN), ABORTIVE },
      LC_PLAIN_LISTENING },
    { "abortive linger beats not connected", AUTO, { ABORTIVE, STATE(LC_TCP_TIME_WAIT) },
      LC_PLAIN_ABORTIVE },
    { "abortive linger beats peer closed", AUTO, { ABORTIVE, STATE(LC_TCP_CLOSE_WAIT) },
      LC_PLAIN_ABORTIVE },
    { "abortive linger beats child may hold", AUTO, { ABORTIVE, CHILD }, LC_PLAIN_ABORTIVE },
    { "not connected beats child may hold", AUTO, { STATE(LC_TCP_SYN_SENT), CHILD },
      LC_PLAIN_NOT_CONNECTED },
    { "peer closed beats child may hold", AUTO, { STATE(LC_TCP_CLOSE_WAIT), CHILD },
      LC_PLAIN_PEER_CLOSED },
    { "peer closed beats epoll unknown", AUTO, { STATE(LC_TCP_LAST_ACK), EPOLL },
      LC_PLAIN_PEER_CLOSED },

    /* reasons to linger */
    { "unread input", AUTO, { UNREAD(1) }, LC_LINGER_UNREAD },
    { "lots of unread input", AUTO, { UNREAD(UINT32_MAX) }, LC_LINGER_UNREAD },
    { "close-wait, unread input", AUTO, { STATE(LC_TCP_CLOSE_WAIT), UNREAD(10) },
      LC_LINGER_UNREAD },
    { "last-ack, unread input", AUTO, { STATE(LC_TCP_LAST_ACK), UNREAD(10) },
      LC_LINGER_UNREAD },
    { "closing, unread input", AUTO, { STATE(LC_TCP_CLOSING), UNREAD(10) }, LC_LINGER_UNREAD },
    { "fin-wait1, unread input", AUTO, { STATE(LC_TCP_FIN_WAIT1), UNREAD(10) },
      LC_LINGER_UNREAD },
    { "fin-wait2, unread input", AUTO, { STATE(LC_TCP_FIN_WAIT2), UNREAD(10) },
      LC_LINGER_UNREAD },
    { "syn-recv, unread input", AUTO, { STATE(LC_TCP_SYN_RECV), UNREAD(10) },
      LC_LINGER_UNREAD },
    { "unread input beats shut-rd", AUTO, { UNREAD(10), SHUT_RD }, LC_LINGER_UNREAD },
    { "unread input beats unacked output", AUTO, { UNREAD(10), UNACKED }, LC_LINGER_UNREAD },
    { "app shut rd", AUTO, { SHUT_RD }, LC_LINGER_APP_SHUT_RD },
    { "app shut rd beats unacked output", AUTO, { SHUT_RD, UNACKED }, LC_LINGER_APP_SHUT_RD },
    { "unacked output", AUTO, { UNACKED }, LC_LINGER_UNACKED },
    { "unacked output beats recent data", AUTO, { UNACKED, SINCE(0) }, LC_LINGER_UNACKED },
    { "fin-wait1, unacked output", AUTO, { STATE(LC_TCP_FIN_WAIT1), UNACKED },
      LC_LINGER_UNACKED },
    { "data just now", AUTO, { SINCE(0) }, LC_LINGER_RECENT_DATA },
    { "just inside the recent-data window", AUTO, { SINCE(LC_RECENT_DATA_WINDOW_MS - 1) },
      LC_LINGER_RECENT_DATA },
    { "fin-wait2, recent data", AUTO, { STATE(LC_TCP_FIN_WAIT2), SINCE(5) },
      LC_LINGER_RECENT_DATA },

    /* mode always */
    { "always: baseline", ALWAYS, { 0 }, LC_LINGER_ALWAYS },
    { "always: unread input still says unread", ALWAYS, { UNREAD(10) }, LC_LINGER_UNREAD },
    { "always: beats app shut rd", ALWAYS, { SHUT_RD }, LC_LINGER_ALWAYS },
    { "always: beats unacked output", ALWAYS, { UNACKED }, LC_LINGER_ALWAYS },
    { "always: beats recent data", ALWAYS, { SINCE(0) }, LC_LINGER_ALWAYS },
    { "always: fin-wait2", ALWAYS, { STATE(LC_TCP_FIN_WAIT2) }, LC_LINGER_ALWAYS },
    { "always: not owned", ALWAYS, { NOT_OWNED }, LC_PLAIN_NOT_OWNED },
    { "always: not tcp", ALWAYS, { NOT_TCP }, LC_PLAIN_NOT_TCP },
    { "always: listen", ALWAYS, { STATE(LC_TCP_LISTEN) }, LC_PLAIN_LISTENING },
    { "always: abortive linger", ALWAYS, { ABORTIVE }, LC_PLAIN_ABORTIVE },
    { "always: abortive linger, unread input", ALWAYS, { ABORTIVE, UNREAD(10) },
      LC_PLAIN_ABORTIVE },
    { "always: time-wait", ALWAYS, { STATE(LC_TCP_TIME_WAIT) }, LC_PLAIN_NOT_CONNECTED },
    { "always: close-wait, nothing unread", ALWAYS, { STATE(LC_TCP_CLOSE_WAIT) },
      LC_PLAIN_PEER_CLOSED },
    { "always: close-wait, unread input", ALWAYS, { STATE(LC_TCP_CLOSE_WAIT), UNREAD(1) },
      LC_LINGER_UNREAD },
    { "always: child may hold", ALWAYS, { CHILD }, LC_PLAIN_CHILD_MAY_HOLD },
    { "always: epoll unknown", ALWAYS, { EPOLL }, LC_PLAIN_EPOLL_UNKNOWN },
    { "always: port filtered out", ALWAYS, { PORT_FILTERED }, LC_PLAIN_PORT_FILTERED },
};

#define NROWS (sizeof table / sizeof table[0])

static const char *mode_text(enum lc_mode mode)
{
    switch (mode) {
    case LC_MODE_AUTO:
        return "auto";
    case LC_MODE_ALWAYS:
        return "always";
    case LC_MODE_OFF:
        return "off";
    }
    return "?";
}

Test(decide, baseline_is_a_quiet_lingering_candidate)
{
    struct lc_socket_state s = baseline();
    cr_assert(s.ms_since_data >= 10u * LC_RECENT_DATA_WINDOW_MS);
    cr_assert_eq(lc_decide(&s, LC_MODE_AUTO), LC_PLAIN_QUIET, "baseline gives %s",
                 lc_reason_name(lc_decide(&s, LC_MODE_AUTO)));
}

Test(decide, table)
{
    for (size_t i = 0; i < NROWS; i++) {
        const struct row *r = &table[i];
        struct lc_socket_state s = apply(&r->change);
        enum lc_reason got = lc_decide(&s, r->mode);
        cr_expect_eq(got, r->expect, "row %zu \"%s\" (mode %s): got %s, expected %s", i, r->name,
                     mode_text(r->mode), lc_reason_name(got), lc_reason_name(r->expect));
    }
}

/* The decision does not depend on anything but its arguments. */
Test(decide, pure)
{
    for (size_t i = 0; i < NROWS; i++) {
        const struct row *r = &table[i];
        struct lc_socket_state s = apply(&r->change);
        struct lc_socket_state copy = s;
        enum lc_reason first = lc_decide(&s, r->mode);
        enum lc_reason second = lc_decide(&s, r->mode);
        cr_expect_eq(first, second, "row \"%s\": not repeatable", r->name);
        cr_expect(memcmp(&s, &copy, sizeof s) == 0, "row \"%s\": state modified", r->name);
    }
}

/* Every reason lc_decide can give appears somewhere in the table, so the
 * table does not silently lose coverage when the function changes.
 * Capacity, unavailable and the queue bound are decided elsewhere (the fd
 * table, the drain thread, the hand-off), never by lc_decide. */
Test(decide, table_covers_every_decided_reason)
{
    bool seen[LC_REASON_COUNT] = { false };
    for (size_t i = 0; i < NROWS; i++)
        seen[table[i].expect] = true;
    for (int r = 0; r < LC_REASON_COUNT; r++) {
        if (r == LC_PLAIN_CAPACITY || r == LC_PLAIN_UNAVAILABLE || r == LC_PLAIN_QUEUE_CAP)
            continue;
        cr_expect(seen[r], "no table row expects %s", lc_reason_name((enum lc_reason)r));
    }
}

Test(decide, every_connected_state_with_unread_lingers)
{
    for (unsigned st = 0; st <= 255; st++) {
        struct lc_socket_state s = baseline();
        s.tcp_state = (uint8_t)st;
        s.unread_bytes = 100;
        enum lc_reason got = lc_decide(&s, LC_MODE_AUTO);
        enum lc_reason want;
        if (st == LC_TCP_LISTEN)
            want = LC_PLAIN_LISTENING;
        else if (lc_tcp_connected((uint8_t)st))
            want = LC_LINGER_UNREAD;
        else
            want = LC_PLAIN_NOT_CONNECTED;
        cr_expect_eq(got, want, "state %u: got %s, expected %s", st, lc_reason_name(got),
                     lc_reason_name(want));
    }
}

Test(decide, tcp_state_predicates)
{
    static const struct {
        uint8_t state;
        bool connected, peer_closed;
    } states[] = {
        { 0, false, false },
        { LC_TCP_ESTABLISHED, true, false },
        { LC_TCP_SYN_SENT, false, false },
        { LC_TCP_SYN_RECV, true, false },
        { LC_TCP_FIN_WAIT1, true, false },
        { LC_TCP_FIN_WAIT2, true, false },
        { LC_TCP_TIME_WAIT, false, false },
        { LC_TCP_CLOSE, false, false },
        { LC_TCP_CLOSE_WAIT, true, true },
        { LC_TCP_LAST_ACK, true, true },
        { LC_TCP_LISTEN, false, false },
        { LC_TCP_CLOSING, true, true },
        { 12, false, false },
        { 255, false, false },
    };
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        cr_expect_eq(lc_tcp_connected(states[i].state), states[i].connected,
                     "lc_tcp_connected(%u)", (unsigned)states[i].state);
        cr_expect_eq(lc_tcp_peer_closed(states[i].state), states[i].peer_closed,
                     "lc_tcp_peer_closed(%u)", (unsigned)states[i].state);
    }
}

/* The values of enum lc_tcp_state are the kernel's. */
Test(decide, tcp_state_values_match_the_kernel)
{
    cr_expect_eq(LC_TCP_ESTABLISHED, 1);
    cr_expect_eq(LC_TCP_SYN_SENT, 2);
    cr_expect_eq(LC_TCP_SYN_RECV, 3);
    cr_expect_eq(LC_TCP_FIN_WAIT1, 4);
    cr_expect_eq(LC_TCP_FIN_WAIT2, 5);
    cr_expect_eq(LC_TCP_TIME_WAIT, 6);
    cr_expect_eq(LC_TCP_CLOSE, 7);
    cr_expect_eq(LC_TCP_CLOSE_WAIT, 8);
    cr_expect_eq(LC_TCP_LAST_ACK, 9);
    cr_expect_eq(LC_TCP_LISTEN, 10);
    cr_expect_eq(LC_TCP_CLOSING, 11);
}

Test(decide, reason_names_are_distinct)
{
    for (int a = 0; a < LC_REASON_COUNT; a++) {
        const char *na = lc_reason_name((enum lc_reason)a);
        cr_assert_not_null(na, "reason %d has no name", a);
        cr_expect(na[0] != '\0', "reason %d has an empty name", a);
        cr_expect_str_neq(na, "?", "reason %d is named \"?\"", a);
        for (int b = 0; b < a; b++)
            cr_expect_str_neq(na, lc_reason_name((enum lc_reason)b),
                              "reasons %d and %d are both named \"%s\"", b, a, na);
    }
    cr_expect_str_eq(lc_reason_name(LC_REASON_COUNT), "?");
    cr_expect_str_eq(lc_reason_name((enum lc_reason)-1), "?");
    cr_expect_str_eq(lc_reason_name((enum lc_reason)1000), "?");
}

Test(decide, reason_lingers_splits_plain_and_linger)
{
    static const enum lc_reason plain[] = {
        LC_PLAIN_MODE_OFF,       LC_PLAIN_NOT_OWNED,     LC_PLAIN_SHARED,
        LC_PLAIN_NOT_TCP,        LC_PLAIN_LISTENING,      LC_PLAIN_ABORTIVE,      LC_PLAIN_NOT_CONNECTED,
        LC_PLAIN_PEER_CLOSED,    LC_PLAIN_CHILD_MAY_HOLD, LC_PLAIN_EPOLL_UNKNOWN,
        LC_PLAIN_QUIET,          LC_PLAIN_CAPACITY,      LC_PLAIN_UNAVAILABLE,
        LC_PLAIN_PORT_FILTERED,  LC_PLAIN_QUEUE_CAP,
    };
    static const enum lc_reason linger[] = {
        LC_LINGER_UNREAD,  LC_LINGER_ALWAYS,      LC_LINGER_APP_SHUT_RD,
        LC_LINGER_UNACKED, LC_LINGER_RECENT_DATA,
    };
    size_t nplain = sizeof plain / sizeof plain[0];
    size_t nlinger = sizeof linger / sizeof linger[0];
    cr_expect_eq(nplain + nlinger, (size_t)LC_REASON_COUNT, "the lists miss a reason");
    for (size_t i = 0; i < nplain; i++)
        cr_expect(!lc_reason_lingers(plain[i]), "%s should be a plain close",
                  lc_reason_name(plain[i]));
    for (size_t i = 0; i < nlinger; i++)
        cr_expect(lc_reason_lingers(linger[i]), "%s should be a lingering close",
                  lc_reason_name(linger[i]));
}

/* In the table, a lingering reason comes only with a mode other than off. */
Test(decide, mode_off_never_lingers)
{
    for (size_t i = 0; i < NROWS; i++) {
        struct lc_socket_state s = apply(&table[i].change);
        enum lc_reason got = lc_decide(&s, LC_MODE_OFF);
        cr_expect_eq(got, LC_PLAIN_MODE_OFF, "row \"%s\" in mode off: got %s", table[i].name,
                     lc_reason_name(got));
    }
}

/* Always mode changes only the lingering decision: every auto-mode reason
 * to close plainly but "quiet" stands, unread input still says unread, and
 * everything else lingers as "always". */
Test(decide, always_keeps_auto_plain_reasons)
{
    for (size_t i = 0; i < NROWS; i++) {
        if (table[i].mode != LC_MODE_AUTO)
            continue;
        struct lc_socket_state s = apply(&table[i].change);
        enum lc_reason in_auto = lc_decide(&s, LC_MODE_AUTO);
        enum lc_reason in_always = lc_decide(&s, LC_MODE_ALWAYS);
        enum lc_reason want;
        bool stands = in_auto == LC_LINGER_UNREAD ||
                      (!lc_reason_lingers(in_auto) && in_auto != LC_PLAIN_QUIET);
        if (stands)
            want = in_auto;
        else
            want = LC_LINGER_ALWAYS;
        cr_expect_eq(in_always, want, "row \"%s\": auto %s, always %s, expected %s",
                     table[i].name, lc_reason_name(in_auto), lc_reason_name(in_always),
                     lc_reason_name(want));
    }
}
