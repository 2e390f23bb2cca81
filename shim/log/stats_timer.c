/* SPDX-License-Identifier: MIT */
#include "config.h"

#include "conf/conf.h"
#include "log/stats_file.h"
#include "log/stats_timer.h"

static int64_t next_write_ms = -1;

void lc_stats_timer_start(int64_t now)
{
    if (lc_stats_file_enabled() && lc_conf.stats_interval_ms)
        next_write_ms = now;
}

int lc_stats_timer_bound(int timeout, int64_t now)
{
    if (next_write_ms < 0)
        return timeout;
    int64_t until = next_write_ms - now;
    if (until < 0)
        until = 0;
    return timeout < 0 || until < timeout ? (int)until : timeout;
}

void lc_stats_timer_fire_when_due(int64_t now)
{
    if (next_write_ms < 0 || now < next_write_ms)
        return;
    lc_stats_file_write();
    next_write_ms = now + lc_conf.stats_interval_ms;
}
