/* SPDX-License-Identifier: MIT */
/* Reading a lingering socket's input away, the same way wherever it
 * lingers: in the drain thread and in the exit path. Async-signal-safe. */
#ifndef LINGERCLOSE_DISCARD_H
#define LINGERCLOSE_DISCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "log/log.h"
#include "log/stats.h"

struct lc_discarder {
    /* recv: lc_raw_recv in the drain thread's own descriptor table, the
     * program's recv in the program's table. */
    ssize_t (*receive)(int fd, void *buf, size_t len, int flags);
    /* For the one line saying that MSG_TRUNC was refused. */
    void (*log)(enum lc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    /* Never read from; the caller's own, so that no two threads share it. */
    char *scratch;
    size_t scratch_size;
    /* Reads per call, so that one busy peer cannot hold the others up;
     * 0: until nothing is queued. */
    unsigned max_reads;
    /* After each read that discarded something: true ends the drain, with
     * *end. May be NULL. */
    bool (*after_read)(void *ctx, enum lc_drain_end *end);
};

/* Discards what fd has queued, adding it to *bytes (the socket's total)
 * and to the statistics. True once the drain of fd is over, with *end:
 * the peer's EOF, an error, LINGERCLOSE_MAX_BYTES reached, or what
 * after_read said. False while the peer may send more. */
bool lc_discard(const struct lc_discarder *d, int fd, uint64_t *bytes, void *ctx,
                enum lc_drain_end *end);

#endif
