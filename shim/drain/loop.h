/* SPDX-License-Identifier: MIT */
/* The drain thread's work: one epoll set holding every lingering socket
 * and the receiving end of the hand-off channel. It discards their input
 * and really closes each at the first of peer EOF, error, idle timeout,
 * total timeout or byte cap, or with a reset once the peer has taken none
 * of the output still queued for the idle timeout. It runs in the thread's
 * own descriptor table, so it talks to the kernel directly (sys/raw.h). */
#ifndef LINGERCLOSE_DRAIN_LOOP_H
#define LINGERCLOSE_DRAIN_LOOP_H

#include <stdbool.h>

/* Sets up the epoll set around receive_fd, the channel's receiving end;
 * false, with errno, if it cannot. */
bool lc_drain_loop_watch(int receive_fd);
/* Serves the sockets for as long as the process lives. */
void lc_drain_loop_run(void) __attribute__((noreturn));

/* The loop's state is under a lock only so that fork() finds it
 * consistent. */
void lc_drain_loop_atfork_prepare(void);
void lc_drain_loop_atfork_parent(void);
/* The child has no drain thread, and none of the drained sockets (they are
 * in the thread's own table). */
void lc_drain_loop_atfork_child(void);

#endif
