/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdarg.h>

#include "log/log.h"
#include "log/stats.h"

struct lc_stats lc_stats;

static const char *const end_names[LC_END_COUNT] = {
    [LC_END_EOF] = "eof",
    [LC_END_IDLE] = "idle-timeout",
    [LC_END_TOTAL] = "total-timeout",
    [LC_END_BYTES] = "byte-cap",
    [LC_END_ERROR] = "error",
    [LC_END_EXIT] = "exit-timeout",
    [LC_END_STALLED] = "stalled",
};

static const char *const fin_outcome_names[LC_FIN_COUNT] = {
    [LC_FIN_PEER_FIRST] = "peer-first",
    [LC_FIN_TIMEOUT] = "timeout",
    [LC_FIN_DRAIN_ENDED] = "drain-ended",
};

const char *lc_drain_end_name(enum lc_drain_end end)
{
    return (unsigned)end < LC_END_COUNT ? end_names[end] : "?";
}

static uint64_t get(_Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

/* Read before written: a forked child that never counted anything then
 * leaves the counters' page shared with its parent (no copy-on-write). */
static void reset_counter(_Atomic uint64_t *counter)
{
    if (atomic_load_explicit(counter, memory_order_relaxed))
        atomic_store_explicit(counter, 0, memory_order_relaxed);
}

void lc_stats_reset(void)
{
    reset_counter(&lc_stats.closes_seen);
    for (int r = 0; r < LC_REASON_COUNT; r++)
        reset_counter(&lc_stats.by_reason[r]);
    for (int e = 0; e < LC_END_COUNT; e++)
        reset_counter(&lc_stats.drain_ended[e]);
    reset_counter(&lc_stats.bytes_discarded);
    for (int o = 0; o < LC_FIN_COUNT; o++)
        reset_counter(&lc_stats.fin_deferred[o]);
}

struct metric {
    const char *name, *type, *help;
};

static const struct metric metrics[] = {
    { "lingerclose_info", "gauge", "The library's version in this process." },
    { "lingerclose_closes_total", "counter", "Closes of sockets the library examined." },
    { "lingerclose_lingering_closes_total", "counter",
      "Closes that became a lingering close, by reason." },
    { "lingerclose_plain_closes_total", "counter",
      "Closes passed straight to the kernel, by reason." },
    { "lingerclose_drains_ended_total", "counter",
      "Lingering closes that ended, by what ended them." },
    { "lingerclose_discarded_bytes_total", "counter",
      "Input bytes read and discarded by lingering closes." },
    { "lingerclose_fin_deferred_total", "counter",
      "Lingering closes that held their FIN back for the peer's, by how the wait ended." },
    { "lingerclose_capacity_fallbacks_total", "counter",
      "Closes that would have lingered but found every place taken." },
    { "lingerclose_lingering_sockets", "gauge", "Sockets in a lingering close now." },
    { "lingerclose_stats_written_timestamp_seconds", "gauge",
      "When the library wrote this file (Unix time)." },
};

enum {
    M_INFO,
    M_CLOSES,
    M_LINGERING,
    M_PLAIN,
    M_DRAINS_ENDED,
    M_DISCARDED,
    M_FIN_DEFERRED,
    M_CAPACITY,
    M_LINGERING_NOW,
    M_WRITTEN,
};

struct prom {
    lc_stats_sink sink;
    void *sink_data;
    long pid;
    bool ok;
};

#define PROM_LINE_MAX 256

static void prom_put(struct prom *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void prom_put(struct prom *p, const char *fmt, ...)
{
    if (!p->ok)
        return;
    char line[PROM_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t n = lc_format(line, sizeof line, fmt, ap);
    va_end(ap);
    p->ok = p->sink(line, n, p->sink_data);
}

static void prom_header(struct prom *p, int m)
{
    prom_put(p, "# HELP %s %s\n", metrics[m].name, metrics[m].help);
    prom_put(p, "# TYPE %s %s\n", metrics[m].name, metrics[m].type);
}

static void prom_sample(struct prom *p, int m, const char *label, const char *value_of_label,
                        uint64_t value)
{
    if (label)
        prom_put(p, "%s{pid=\"%ld\",%s=\"%s\"} %llu\n", metrics[m].name, p->pid, label,
                 value_of_label, (unsigned long long)value);
    else
        prom_put(p, "%s{pid=\"%ld\"} %llu\n", metrics[m].name, p->pid,
                 (unsigned long long)value);
}

bool lc_stats_format_prometheus(const struct lc_stats_context *ctx, lc_stats_sink sink,
                                void *sink_data)
{
    struct prom p = { sink, sink_data, ctx->pid, true };
    prom_header(&p, M_INFO);
    prom_put(&p, "%s{pid=\"%ld\",version=\"%s\"} 1\n", metrics[M_INFO].name, p.pid,
             ctx->version);
    prom_header(&p, M_CLOSES);
    prom_sample(&p, M_CLOSES, NULL, NULL, get(&lc_stats.closes_seen));
    prom_header(&p, M_LINGERING);
    for (int r = 0; r < LC_REASON_COUNT; r++)
        if (lc_reason_lingers((enum lc_reason)r))
            prom_sample(&p, M_LINGERING, "reason", lc_reason_name((enum lc_reason)r),
                        get(&lc_stats.by_reason[r]));
    prom_header(&p, M_PLAIN);
    for (int r = 0; r < LC_REASON_COUNT; r++)
        if (!lc_reason_lingers((enum lc_reason)r))
            prom_sample(&p, M_PLAIN, "reason", lc_reason_name((enum lc_reason)r),
                        get(&lc_stats.by_reason[r]));
    prom_header(&p, M_DRAINS_ENDED);
    for (int e = 0; e < LC_END_COUNT; e++)
        prom_sample(&p, M_DRAINS_ENDED, "end", end_names[e], get(&lc_stats.drain_ended[e]));
    prom_header(&p, M_DISCARDED);
    prom_sample(&p, M_DISCARDED, NULL, NULL, get(&lc_stats.bytes_discarded));
    prom_header(&p, M_FIN_DEFERRED);
    for (int o = 0; o < LC_FIN_COUNT; o++)
        prom_sample(&p, M_FIN_DEFERRED, "outcome", fin_outcome_names[o],
                    get(&lc_stats.fin_deferred[o]));
    prom_header(&p, M_CAPACITY);
    prom_sample(&p, M_CAPACITY, NULL, NULL, get(&lc_stats.by_reason[LC_PLAIN_CAPACITY]));
    prom_header(&p, M_LINGERING_NOW);
    prom_sample(&p, M_LINGERING_NOW, NULL, NULL, ctx->lingering_now);
    prom_header(&p, M_WRITTEN);
    int64_t ms = ctx->written_unix_ms < 0 ? 0 : ctx->written_unix_ms;
    prom_put(&p, "%s{pid=\"%ld\"} %lld.%c%c%c\n", metrics[M_WRITTEN].name, p.pid,
             (long long)(ms / 1000), (char)('0' + ms / 100 % 10), (char)('0' + ms / 10 % 10),
             (char)('0' + ms % 10));
    return p.ok;
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
    uint64_t deferred = 0;
    for (int o = 0; o < LC_FIN_COUNT; o++)
        deferred += get(&lc_stats.fin_deferred[o]);
    /* Only where the mode was on: the line stays as it was otherwise. */
    if (deferred && n < size)
        n += lc_formatf(buf + n, size - n, "; FIN deferred:");
    for (int o = 0; deferred && o < LC_FIN_COUNT && n < size; o++)
        n += lc_formatf(buf + n, size - n, " %s=%llu", fin_outcome_names[o],
                        (unsigned long long)get(&lc_stats.fin_deferred[o]));
    return n;
}
