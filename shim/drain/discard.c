/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "drain/discard.h"

/* Once the kernel has refused MSG_TRUNC it refuses it everywhere. */
static _Atomic bool copy_to_discard;

/* recv(MSG_TRUNC) on TCP drops queued bytes without copying them; a kernel
 * that refuses it gets a plain read instead. The buffer is real all the
 * same (the kernel leaves it untouched): checkers such as valgrind verify
 * the whole length, and a socket that is not TCP after all (another
 * preload's) copies into it. */
static ssize_t discard_once(const struct lc_discarder *d, int fd)
{
    if (!atomic_load_explicit(&copy_to_discard, memory_order_relaxed)) {
        ssize_t n = d->receive(fd, d->scratch, d->scratch_size, MSG_TRUNC | MSG_DONTWAIT);
        if (n >= 0 || errno != EINVAL)
            return n;
        int refused = errno;
        if (!atomic_exchange(&copy_to_discard, true))
            d->log(LC_LOG_INFO, "recv(MSG_TRUNC) refused: %s (errno %d); draining by copying",
                   lc_errno_text(refused), refused);
        errno = refused;
    }
    return d->receive(fd, d->scratch, d->scratch_size, MSG_DONTWAIT);
}

bool lc_discard(const struct lc_discarder *d, int fd, uint64_t *bytes, void *ctx,
                enum lc_drain_end *end)
{
    for (unsigned round = 0; d->max_reads == 0 || round < d->max_reads; round++) {
        ssize_t n = discard_once(d, fd);
        if (n > 0) {
            *bytes += (uint64_t)n;
            lc_count(&lc_stats.bytes_discarded, (uint64_t)n);
            if (d->after_read && d->after_read(ctx, end))
                return true;
            if (lc_conf.max_bytes && *bytes >= lc_conf.max_bytes) {
                *end = LC_END_BYTES;
                return true;
            }
        } else if (n == 0) {
            *end = LC_END_EOF;
            return true;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return false;
        } else {
            *end = LC_END_ERROR;
            return true;
        }
    }
    return false;
}
