/* Holder counts for sockets that more than one descriptor refers to: after
 * dup() inside a process, or after fork() across processes. The counts
 * live in one shared mapping that every process forked from the one that
 * created it sees, so whichever descriptor is closed last, in whichever
 * process, knows it is the last and may linger; every other close is a
 * plain close that only drops a reference.
 *
 * A record also carries the socket-wide flags (LC_FD_SOCKET_FLAGS) that
 * one holder learned and the others need: SO_LINGER, shutdown(SHUT_RD),
 * a copy sent away, an epoll registration left behind.
 *
 * Lock-free and allocation-free, so usable from close() in any context. */
#ifndef LINGERCLOSE_FAMILY_H
#define LINGERCLOSE_FAMILY_H

#include <stdbool.h>
#include <stdint.h>

/* Maps the shared counts if this process has none yet. Call before the
 * first fork(), so that parent and child share them. */
bool lc_family_ensure(void);

/* A new record with `holders` holders; 0 if the mapping is full or absent
 * (the caller then treats the socket as shared for good). */
uint32_t lc_family_new(uint32_t holders, uint32_t flags);
void lc_family_hold(uint32_t id);
/* Drops one holder; returns how many there were before (1: the caller was
 * the last, and *last_flags then holds the record's final flags). The
 * record is recycled when none is left. */
uint32_t lc_family_release(uint32_t id, uint32_t *last_flags);

/* A descriptor with epoll registrations is about to be closed while the
 * socket may live on: the registrations stay in the epoll sets until the
 * socket's end. Counted, so that the last holder can tell whether any
 * registration other than its own was left behind. */
void lc_family_note_epoll_left(uint32_t id);
static inline uint32_t lc_family_epoll_left(uint32_t flags)
{
    return flags >> 16;
}

/* Socket flags in the low 16 bits, the epoll-left count in the high 16. */
uint32_t lc_family_flags(uint32_t id);
void lc_family_add_flags(uint32_t id, uint32_t flags);
void lc_family_clear_flags(uint32_t id, uint32_t flags);

#endif
