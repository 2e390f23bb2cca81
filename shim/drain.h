/* The drain engine: one background thread, started before the first
 * lingering close, that owns every lingering socket in a single epoll set,
 * discards their input and really closes each at the first of peer EOF,
 * error, idle timeout, total timeout or byte cap, or with a reset once the
 * peer has taken none of the output still queued for the idle timeout.
 *
 * The thread keeps the sockets in a descriptor table of its own. close()
 * hands a socket over by sending it (SCM_RIGHTS) through a non-blocking
 * socket pair: no lock, no allocation. */
#ifndef LINGERCLOSE_DRAIN_H
#define LINGERCLOSE_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

/* Takes one of LINGERCLOSE_MAX_SOCKETS places; false when all are taken. */
bool lc_drain_reserve(void);
void lc_drain_unreserve(void);
uint32_t lc_drain_in_flight(void);

/* Starts the thread if needed. False if it is starting in another thread
 * right now or could not start. Creates a thread and waits for it: never
 * from close() (see park.h). */
bool lc_drain_start(void);
bool lc_drain_started(void);

/* Counts the output fd has not had acknowledged (SIOCOUTQ) against
 * LINGERCLOSE_MAX_QUEUED: false, counting nothing, if it would go beyond.
 * *queued is what was counted; async-signal-safe. */
bool lc_drain_account_output(int fd, uint32_t *queued);
/* Gives back what lc_drain_account_output counted, for a socket that did
 * not go to the thread after all. */
void lc_drain_unaccount_output(uint32_t queued);

/* Sends the program's socket fd (with its reserved place and the output
 * counted for it) to the thread, which then holds its own reference.
 * input_unread: the close found input unread, so a plain close would have
 * reset the connection; a stalled drain may then end with a reset too. */
bool lc_drain_submit(int fd, uint32_t queued, bool input_unread);

/* The library's one descriptor in the program's table (the sending end),
 * or -1. */
int lc_drain_private_fd(void);
bool lc_drain_is_private(int fd);
/* Whether this process has never tried to start it (a fork() child). */
bool lc_drain_never_started(void);

/* Moves fd's file to a descriptor of the library's, close-on-exec and near
 * the top of the range so that the program's numbering stays its own;
 * -1 if that fails. */
int lc_drain_move_to_private(int fd);

/* The program is about to take that number (dup2/dup3 onto it): move ours. */
void lc_drain_evict(int fd);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t lc_now_ms(void);

void lc_drain_atfork_prepare(void);
void lc_drain_atfork_parent(void);
void lc_drain_atfork_child(void);

#endif
