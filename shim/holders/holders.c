/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "holders/holders.h"
#include "log/log.h"

/* 1Mi records of 16 bytes: 16 MiB of address space, of which only the
 * pages touched are ever backed. */
#define GENERATION_MASK ((UINT32_C(1) << LC_HOLDERS_GENERATION_BITS) - 1)

/* Another process may rewrite a word between our read and our
 * compare-and-swap, legitimately or to keep us spinning: no loop on the
 * mapping runs longer than this. Each failed try means another writer got
 * through, so honest contention never comes near it. */
#define CAS_TRIES 4096

static _Atomic(struct lc_holders_region *) region;
static _Atomic bool corruption_seen;

bool lc_holders_ensure(void)
{
    if (atomic_load_explicit(&region, memory_order_acquire))
        return true;
    void *fresh = mmap(NULL, sizeof(struct lc_holders_region), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (fresh == MAP_FAILED)
        return false;
    struct lc_holders_region *expected = NULL;
    if (!atomic_compare_exchange_strong(&region, &expected, fresh))
        munmap(fresh, sizeof(struct lc_holders_region));
    return true;
}

bool lc_holders_corruption_seen(void)
{
    return atomic_load_explicit(&corruption_seen, memory_order_relaxed);
}

/* Only a process that writes into the mapping can make it so, and what it
 * wrote can be anything: once per process is enough to say so. */
static void note_corruption(const char *what)
{
    if (!atomic_exchange_explicit(&corruption_seen, true, memory_order_relaxed))
        lc_log(LC_LOG_WARN,
               "holder counts shared with forked processes found corrupt (%s): another process "
               "wrote into them; the sockets concerned are closed plainly",
               what);
}

static bool slot_in_range(uint32_t slot)
{
    return slot != 0 && slot < LC_HOLDERS_SLOTS;
}

static uint32_t generation_of(uint64_t count)
{
    return (uint32_t)(count >> 32);
}

static uint32_t holders_of(uint64_t count)
{
    return (uint32_t)count;
}

static uint32_t handle_of(uint32_t slot, uint64_t count)
{
    return (generation_of(count) & GENERATION_MASK) << LC_HOLDERS_SLOT_BITS | slot;
}

static bool names(uint32_t handle, uint64_t count)
{
    return (handle >> LC_HOLDERS_SLOT_BITS) == (generation_of(count) & GENERATION_MASK);
}

static struct lc_holders_record *record(uint32_t handle)
{
    struct lc_holders_region *r = atomic_load_explicit(&region, memory_order_acquire);
    uint32_t slot = lc_holders_slot(handle);
    if (!r || !slot_in_range(slot))
        return NULL;
    return &r->records[slot];
}

/* The record the handle names, if it still does. */
static struct lc_holders_record *live_record(uint32_t handle)
{
    struct lc_holders_record *rec = record(handle);
    if (rec && !names(handle, atomic_load_explicit(&rec->count, memory_order_acquire)))
        return NULL;
    return rec;
}

/* Whatever the list still holds is lost to reuse: records leak, the
 * counts stay right. */
static void abandon_free_list(struct lc_holders_region *r, uint64_t top, const char *what)
{
    note_corruption(what);
    uint64_t empty = ((top >> 32) + 1) << 32;
    atomic_compare_exchange_strong_explicit(&r->free_top, &top, empty, memory_order_acq_rel,
                                            memory_order_relaxed);
}

static uint32_t pop_free(struct lc_holders_region *r)
{
    uint64_t top = atomic_load_explicit(&r->free_top, memory_order_acquire);
    for (int tries = 0; tries < CAS_TRIES; tries++) {
        uint32_t slot = (uint32_t)top;
        if (slot == 0)
            return 0;
        if (!slot_in_range(slot)) {
            abandon_free_list(r, top, "free list top out of range");
            return 0;
        }
        uint32_t next = atomic_load_explicit(&r->records[slot].next_free, memory_order_relaxed);
        if (next == slot || (next != 0 && !slot_in_range(next))) {
            abandon_free_list(r, top, "free list link out of range");
            return 0;
        }
        uint64_t replacement = ((top >> 32) + 1) << 32 | next;
        if (atomic_compare_exchange_strong_explicit(&r->free_top, &top, replacement,
                                                    memory_order_acq_rel, memory_order_acquire))
            return slot;
    }
    note_corruption("free list changing without end");
    return 0;
}

static void push_free(struct lc_holders_region *r, uint32_t slot)
{
    uint64_t top = atomic_load_explicit(&r->free_top, memory_order_acquire);
    for (int tries = 0; tries < CAS_TRIES; tries++) {
        atomic_store_explicit(&r->records[slot].next_free, (uint32_t)top, memory_order_relaxed);
        uint64_t replacement = ((top >> 32) + 1) << 32 | slot;
        if (atomic_compare_exchange_strong_explicit(&r->free_top, &top, replacement,
                                                    memory_order_acq_rel, memory_order_acquire))
            return;
    }
    note_corruption("free list changing without end"); /* the record leaks */
}

/* A slot never handed out before, 0 when all have been. */
static uint32_t take_unused(struct lc_holders_region *r)
{
    uint32_t used = atomic_load_explicit(&r->used, memory_order_relaxed);
    for (int tries = 0; tries < CAS_TRIES; tries++) {
        if (used >= LC_HOLDERS_SLOTS - 1) {
            if (used > LC_HOLDERS_SLOTS - 1)
                note_corruption("slot count out of range");
            return 0;
        }
        if (atomic_compare_exchange_strong_explicit(&r->used, &used, used + 1, memory_order_relaxed,
                                                    memory_order_relaxed))
            return used + 1;
    }
    note_corruption("slot count changing without end");
    return 0;
}

/* A free record has no holders; claiming it is one compare-and-swap, so
 * that a slot handed out twice (a corrupt list or count) is never shared
 * by two sockets. */
static uint32_t claim(struct lc_holders_record *rec, uint32_t slot, uint32_t holders, uint32_t flags)
{
    uint64_t count = atomic_load_explicit(&rec->count, memory_order_acquire);
    if (holders_of(count) != 0)
        return 0;
    uint64_t claimed = (count & ~UINT64_C(0xffffffff)) | holders;
    if (!atomic_compare_exchange_strong_explicit(&rec->count, &count, claimed, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return 0;
    atomic_store_explicit(&rec->flags, flags, memory_order_release);
    return handle_of(slot, claimed);
}

uint32_t lc_holders_new(uint32_t holders, uint32_t flags)
{
    if (holders == 0 || !lc_holders_ensure())
        return 0;
    struct lc_holders_region *r = atomic_load_explicit(&region, memory_order_acquire);
    uint32_t slot = pop_free(r);
    if (slot) {
        uint32_t handle = claim(&r->records[slot], slot, holders, flags);
        if (!handle)
            abandon_free_list(r, atomic_load_explicit(&r->free_top, memory_order_acquire),
                              "free list holds a record in use");
        return handle;
    }
    slot = take_unused(r);
    if (!slot)
        return 0;
    uint32_t handle = claim(&r->records[slot], slot, holders, flags);
    if (!handle)
        note_corruption("slot count points at a record in use");
    return handle;
}

bool lc_holders_hold(uint32_t id)
{
    struct lc_holders_record *rec = record(id);
    if (!rec)
        return false;
    uint64_t count = atomic_load_explicit(&rec->count, memory_order_acquire);
    for (int tries = 0; tries < CAS_TRIES; tries++) {
        /* Freed since the handle was taken (an exec() gave the hold back
         * and the others let go): the handle is stale, not the record. */
        if (!names(id, count))
            return false;
        uint32_t holders = holders_of(count);
        if (holders == 0 || holders == UINT32_MAX) {
            note_corruption("holder count out of range");
            return false;
        }
        if (atomic_compare_exchange_strong_explicit(&rec->count, &count, count + 1,
                                                    memory_order_acq_rel, memory_order_acquire))
            return true;
    }
    note_corruption("holder count changing without end");
    return false;
}

uint32_t lc_holders_release(uint32_t id, uint32_t *last_flags)
{
    struct lc_holders_record *rec = record(id);
    if (!rec)
        return 2; /* unknown: assume someone else holds it */
    uint64_t count = atomic_load_explicit(&rec->count, memory_order_acquire);
    for (int tries = 0; tries < CAS_TRIES; tries++) {
        /* The caller holds it, so it cannot have been freed: only a write
         * from outside changes the generation or empties the count. */
        if (!names(id, count)) {
            note_corruption("record generation changed while held");
            return 2;
        }
        uint32_t holders = holders_of(count);
        if (holders == 0) {
            note_corruption("holder count out of range");
            return 2;
        }
        uint64_t replacement = holders == 1 ? (uint64_t)(generation_of(count) + 1) << 32 : count - 1;
        if (atomic_compare_exchange_strong_explicit(&rec->count, &count, replacement,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            if (holders == 1) {
                if (last_flags)
                    *last_flags = atomic_load_explicit(&rec->flags, memory_order_acquire);
                push_free(atomic_load_explicit(&region, memory_order_acquire), lc_holders_slot(id));
            }
            return holders;
        }
    }
    note_corruption("holder count changing without end");
    return 2;
}

void lc_holders_note_epoll_left(uint32_t id)
{
    struct lc_holders_record *rec = live_record(id);
    if (rec)
        atomic_fetch_add_explicit(&rec->flags, UINT32_C(1) << 16, memory_order_acq_rel);
}

uint32_t lc_holders_flags(uint32_t id)
{
    struct lc_holders_record *rec = live_record(id);
    return rec ? atomic_load_explicit(&rec->flags, memory_order_acquire) : 0;
}

void lc_holders_add_flags(uint32_t id, uint32_t flags)
{
    struct lc_holders_record *rec = live_record(id);
    if (rec)
        atomic_fetch_or_explicit(&rec->flags, flags & 0xffff, memory_order_acq_rel);
}

void lc_holders_clear_flags(uint32_t id, uint32_t flags)
{
    struct lc_holders_record *rec = live_record(id);
    if (rec)
        atomic_fetch_and_explicit(&rec->flags, ~(flags & 0xffff), memory_order_acq_rel);
}
