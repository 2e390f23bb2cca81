/* SPDX-License-Identifier: MIT */
/* When the drain thread writes the statistics file: every
 * LINGERCLOSE_STATS_INTERVAL from the thread's start. The file is written
 * by that thread, so a process that lingers pays nothing for it in its own
 * threads; with no file, or no interval, the thread sleeps as before.
 * Drain thread only. */
#ifndef LINGERCLOSE_STATS_TIMER_H
#define LINGERCLOSE_STATS_TIMER_H

#include <stdint.h>

/* The first write is due at once, if there is a file and an interval. */
void lc_stats_timer_start(int64_t now);
/* An epoll_wait timeout (-1: none) shortened to the next write. */
int lc_stats_timer_bound(int timeout, int64_t now);
/* Writes the file if it is due, and sets the next write. */
void lc_stats_timer_fire_when_due(int64_t now);

#endif
