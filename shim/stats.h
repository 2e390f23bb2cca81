/* Counters, lock-free so that close() can bump them from any context. */
#ifndef LINGERCLOSE_STATS_H
#define LINGERCLOSE_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "decide.h"

enum lc_drain_end {
    LC_END_EOF,
    LC_END_IDLE,
    LC_END_TOTAL,
    LC_END_BYTES,
    LC_END_ERROR,
    LC_END_EXIT, /* the process ended: LINGERCLOSE_EXIT_TIMEOUT */
    LC_END_COUNT
};

struct lc_stats {
    _Atomic uint64_t closes_seen;
    _Atomic uint64_t by_reason[LC_REASON_COUNT];
    _Atomic uint64_t drain_ended[LC_END_COUNT];
    _Atomic uint64_t bytes_discarded;
};

extern struct lc_stats lc_stats;

static inline void lc_count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

const char *lc_drain_end_name(enum lc_drain_end end);

/* One line: "closes=N lingering=N plain=N (reason=N ...) drains: eof=N ..." */
size_t lc_stats_format(char *buf, size_t size);

#endif
