/* The drain engine: one background thread, started on the first lingering
 * close, that owns every lingering socket in a single epoll set, discards
 * their input and really closes each at the first of peer EOF, error,
 * idle timeout, total timeout or byte cap.
 *
 * close() hands a socket over through a non-blocking pipe, so the hand-off
 * needs no lock and no allocation. */
#ifndef LINGERCLOSE_DRAIN_H
#define LINGERCLOSE_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

/* Takes one of LINGERCLOSE_MAX_SOCKETS places; false when all are taken. */
bool lc_drain_reserve(void);
void lc_drain_unreserve(void);
uint32_t lc_drain_in_flight(void);

/* Starts the thread if needed. False if it is starting in another thread
 * right now or could not start (then the caller closes plainly). */
bool lc_drain_start(void);
bool lc_drain_started(void);

/* Copies fd to a private, close-on-exec descriptor at the top of the
 * descriptor range, so the app's numbering is unchanged. -1 on failure. */
int lc_drain_private_dup(int fd);
/* Hands a private descriptor (with its reserved place) to the thread. */
bool lc_drain_submit(int private_fd);
/* Closes a private descriptor that could not be handed over. */
void lc_drain_discard(int private_fd);

void lc_drain_atfork_prepare(void);
void lc_drain_atfork_parent(void);
void lc_drain_atfork_child(void);

#endif
