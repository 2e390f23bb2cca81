/* LINGERCLOSE_STATS_FILE: the counters, published for node_exporter's
 * textfile collector (or anyone) every LINGERCLOSE_STATS_INTERVAL by the
 * drain thread and once more when the process ends. */
#ifndef LINGERCLOSE_STATS_FILE_H
#define LINGERCLOSE_STATS_FILE_H

#include <stdbool.h>
#include <stdint.h>

/* Remembers the process the library started in (a path without %p is
 * written by that process only) and writes the file once. */
void lc_stats_file_init(void);

bool lc_stats_file_enabled(void);

/* Writes the file now: a temporary file beside it, then rename(), so that
 * a reader sees the old or the new file, never a part. Async-signal-safe;
 * only raw system calls, so it works from the drain thread's own
 * descriptor table too. */
void lc_stats_file_write(void);

/* The last write, when the process ends (exit, _exit); later calls do
 * nothing. */
void lc_stats_file_write_final(void);

#endif
