/* SPDX-License-Identifier: MIT */
/* Counters, lock-free so that close() can bump them from any context. */
#ifndef LINGERCLOSE_STATS_H
#define LINGERCLOSE_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide/decide.h"

enum lc_drain_end {
    LC_END_EOF,
    LC_END_IDLE,
    LC_END_TOTAL,
    LC_END_BYTES,
    LC_END_ERROR,
    LC_END_EXIT, /* the process ended: LINGERCLOSE_EXIT_TIMEOUT */
    LC_END_STALLED, /* the peer took none of our output for the idle timeout: reset */
    LC_END_COUNT
};

/* How a FIN held back for the peer's (LINGERCLOSE_PEER_FIN_WAIT) went. */
enum lc_fin_outcome {
    LC_FIN_PEER_FIRST, /* the peer's FIN came first: ours is the passive close */
    LC_FIN_TIMEOUT,    /* ours went out when the wait was over */
    LC_FIN_DRAIN_ENDED, /* the drain ended first (a reset, the byte cap, a stalled peer) */
    LC_FIN_COUNT
};

struct lc_stats {
    _Atomic uint64_t closes_seen;
    _Atomic uint64_t by_reason[LC_REASON_COUNT];
    _Atomic uint64_t drain_ended[LC_END_COUNT];
    _Atomic uint64_t bytes_discarded;
    _Atomic uint64_t fin_deferred[LC_FIN_COUNT];
};

extern struct lc_stats lc_stats;

static inline void lc_count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

const char *lc_drain_end_name(enum lc_drain_end end);

/* One line: "closes=N lingering=N plain=N (reason=N ...) drains: eof=N ..." */
size_t lc_stats_format(char *buf, size_t size);

/* Everything a statistics file shows besides the counters. */
struct lc_stats_context {
    long pid;
    const char *version;
    uint64_t lingering_now;
    int64_t written_unix_ms;
};

/* Receives the text piece by piece; false stops the output. */
typedef bool (*lc_stats_sink)(const char *text, size_t len, void *sink_data);

/* The counters in the Prometheus text exposition format (what
 * node_exporter's textfile collector reads): every series, zeros included,
 * each with a pid label, given out a line at a time so that no large
 * buffer is needed. False if the sink refused a piece. */
bool lc_stats_format_prometheus(const struct lc_stats_context *ctx, lc_stats_sink sink,
                                void *sink_data);

/* A forked child counts its own closes from zero. */
void lc_stats_reset(void);

#endif
