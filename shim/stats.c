#include "config.h"

#include "log.h"
#include "stats.h"

struct lc_stats lc_stats;

static const char *const end_names[LC_END_COUNT] = {
    [LC_END_EOF] = "eof",
    [LC_END_IDLE] = "idle-timeout",
    [LC_END_TOTAL] = "total-timeout",
    [LC_END_BYTES] = "byte-cap",
    [LC_END_ERROR] = "error",
    [LC_END_EXIT] = "exit-timeout",
};

const char *lc_drain_end_name(enum lc_drain_end end)
{
    return (unsigned)end < LC_END_COUNT ? end_names[end] : "?";
}

static uint64_t get(_Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

size_t lc_stats_format(char *buf, size_t size)
{
    uint64_t lingering = 0, plain = 0;
    for (int r = 0; r < LC_REASON_COUNT; r++) {
        if (lc_reason_lingers((enum lc_reason)r))
            lingering += get(&lc_stats.by_reason[r]);
        else
            plain += get(&lc_stats.by_reason[r]);
    }
    size_t n = lc_formatf(buf, size, "closes=%llu lingering=%llu plain=%llu",
                          (unsigned long long)get(&lc_stats.closes_seen),
                          (unsigned long long)lingering, (unsigned long long)plain);
    for (int r = 0; r < LC_REASON_COUNT && n < size; r++) {
        uint64_t v = get(&lc_stats.by_reason[r]);
        if (v)
            n += lc_formatf(buf + n, size - n, " %s=%llu", lc_reason_name((enum lc_reason)r),
                            (unsigned long long)v);
    }
    if (n < size)
        n += lc_formatf(buf + n, size - n, "; drains ended:");
    for (int e = 0; e < LC_END_COUNT && n < size; e++)
        n += lc_formatf(buf + n, size - n, " %s=%llu", end_names[e],
                        (unsigned long long)get(&lc_stats.drain_ended[e]));
    if (n < size)
        n += lc_formatf(buf + n, size - n, "; discarded=%llu bytes",
                        (unsigned long long)get(&lc_stats.bytes_discarded));
    return n;
}
