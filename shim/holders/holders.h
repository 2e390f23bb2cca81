/* SPDX-License-Identifier: MIT */
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
 * Every forked child can write the mapping, including a worker that has
 * dropped its privileges to run untrusted input, so nothing read from it is
 * trusted: every slot number and link is bounds-checked, every loop is
 * bounded, and a value that cannot be right makes the sockets it concerns
 * look shared (plain closes), never less shared, and is logged once.
 *
 * Lock-free and allocation-free, so usable from close() in any context. */
#ifndef LINGERCLOSE_HOLDERS_H
#define LINGERCLOSE_HOLDERS_H

#include <stdbool.h>
#include <stdint.h>

/* A record's handle, as descriptors keep it: the slot in the low bits,
 * and above it the low bits of the slot's generation, which moves on each
 * time the record is freed, so that a handle kept across a free (an exec()
 * that fails) is never mistaken for the slot's next socket. 0 is no
 * record. */
#define LC_HOLDERS_SLOT_BITS 20
#define LC_HOLDERS_SLOTS (UINT32_C(1) << LC_HOLDERS_SLOT_BITS) /* slot 0 unused */
#define LC_HOLDERS_GENERATION_BITS (32 - LC_HOLDERS_SLOT_BITS)

_Static_assert(LC_HOLDERS_SLOT_BITS + LC_HOLDERS_GENERATION_BITS == 32,
               "a handle is a descriptor entry's low 32 bits (fdtable.h)");
_Static_assert(LC_HOLDERS_GENERATION_BITS >= 8, "generations wrap too soon to be of use");

static inline uint32_t lc_holders_slot(uint32_t handle)
{
    return handle & (LC_HOLDERS_SLOTS - 1);
}

/* The shared mapping, as every process that shares it lays it out. */
struct lc_holders_record {
    /* The generation in the high half, the number of holders in the low
     * half: one word, so that a hold checks in the same step that the
     * record is still the one its handle names. */
    _Atomic uint64_t count;
    /* Socket flags in the low 16 bits, the epoll-left count in the high 16. */
    _Atomic uint32_t flags;
    /* While the record is free: the next free slot, 0 at the end. */
    _Atomic uint32_t next_free;
};

/* The mapping's size (LC_HOLDERS_SLOTS records) is reckoned with this, and
 * every process sharing it must agree on it. */
_Static_assert(sizeof(struct lc_holders_record) == 16, "a record is 16 bytes");

struct lc_holders_region {
    /* Top of the free list: a slot in the low half, a change counter in the
     * high half so that a stale compare-and-swap fails (ABA). */
    _Atomic uint64_t free_top;
    /* Slots handed out at least once: 1..used. */
    _Atomic uint32_t used;
    struct lc_holders_record records[LC_HOLDERS_SLOTS];
};

/* Maps the shared counts if this process has none yet. Call before the
 * first fork(), so that parent and child share them. */
bool lc_holders_ensure(void);

/* A new record with `holders` holders; 0 if the mapping is full, absent or
 * found corrupt (the caller then treats the socket as shared for good). */
uint32_t lc_holders_new(uint32_t holders, uint32_t flags);
/* One more holder, for a caller that holds the record or held it until
 * lately (the holds an exec() gave back). False if the record is no longer
 * the one the handle names, or looks corrupt: the caller must then treat
 * the socket as shared for good and never use the handle again. */
bool lc_holders_hold(uint32_t id);
/* Drops one holder; returns how many there were before (1: the caller was
 * the last, and *last_flags then holds the record's final flags). The
 * record is recycled when none is left. A handle that no longer names its
 * record, or a count that cannot be right, returns 2: someone else holds
 * it, so the close is plain. */
uint32_t lc_holders_release(uint32_t id, uint32_t *last_flags);

/* Whether this process found the shared counts corrupted (it logged it
 * once when it did). */
bool lc_holders_corruption_seen(void);

/* A descriptor with epoll registrations is about to be closed while the
 * socket may live on: the registrations stay in the epoll sets until the
 * socket's end. Counted, so that the last holder can tell whether any
 * registration other than its own was left behind. */
void lc_holders_note_epoll_left(uint32_t id);
static inline uint32_t lc_holders_epoll_left(uint32_t flags)
{
    return flags >> 16;
}

/* Socket flags in the low 16 bits, the epoll-left count in the high 16. */
uint32_t lc_holders_flags(uint32_t id);
void lc_holders_add_flags(uint32_t id, uint32_t flags);
void lc_holders_clear_flags(uint32_t id, uint32_t flags);

#endif
