/* SPDX-License-Identifier: MIT */
/* LINGERCLOSE_STATS_FILE: the counters, published for node_exporter's
 * textfile collector (or anyone) every LINGERCLOSE_STATS_INTERVAL by the
 * drain thread, and once more when the process ends.
 *
 * Two kinds of file. A path without %p is the service's: the process the
 * library started in writes it at start-up, every interval and a last time
 * when it ends, and leaves it there. A path with %p is one process's: it is
 * written only once that process has closed a socket, and removed when the
 * process ends, so that a server forking per connection does not leave a
 * file (and a Prometheus series) for each one. */
#ifndef LINGERCLOSE_STATS_FILE_H
#define LINGERCLOSE_STATS_FILE_H

#include <stdbool.h>
#include <stdint.h>

/* Remembers the process the library started in and writes its file.
 * lingering_sockets tells how many sockets linger at the time of a write. */
void lc_stats_file_init(uint32_t (*lingering_sockets)(void));

bool lc_stats_file_enabled(void);

/* Writes the file now, if this process has one. Only into a directory
 * that no other user can write (owned by root or by this process's user,
 * not writable by group or others unless sticky); a refusal or a failure
 * costs one warning line per kind. Async-signal-safe; only raw system
 * calls, so it works from the drain thread's own descriptor table too. */
void lc_stats_file_write(void);

/* The process ends (exit, _exit): the service's file gets its last
 * write, a %p file is removed; no write starts after it. Later calls in
 * the same process do nothing. */
void lc_stats_file_at_exit(void);

/* In a fork() child. */
void lc_stats_file_atfork_child(void);

#endif
