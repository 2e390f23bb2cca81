/* SPDX-License-Identifier: MIT */
/* The drain engine: one background thread, started before the first
 * lingering close, that owns every lingering socket (loop.h) in a
 * descriptor table of its own. The program reaches it only through the
 * hand-off channel (handoff.h). This part starts the thread and keeps the
 * engine whole across fork(). */
#ifndef LINGERCLOSE_DRAIN_H
#define LINGERCLOSE_DRAIN_H

#include <stdbool.h>

/* Starts the thread if needed. False if it is starting in another thread
 * right now or could not start. Creates a thread and waits for it: never
 * from close() (see park.h). */
bool lc_drain_start(void);
bool lc_drain_started(void);
/* Whether this process has never tried to start it (a fork() child). */
bool lc_drain_never_started(void);

void lc_drain_atfork_prepare(void);
void lc_drain_atfork_parent(void);
void lc_drain_atfork_child(void);

#endif
