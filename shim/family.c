#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "family.h"

/* 1Mi records of 8 bytes: 8 MiB of address space, of which only the pages
 * touched are ever backed. */
#define CAPACITY (1u << 20)

struct record {
    /* While the record is free, `holders` links the free list. */
    _Atomic uint32_t holders;
    _Atomic uint32_t flags;
};

struct region {
    /* Top of the free list: a 32-bit id in the low half, a change counter
     * in the high half so that a stale compare-and-swap fails (ABA). */
    _Atomic uint64_t free_top;
    _Atomic uint32_t used;
    struct record records[CAPACITY];
};

static _Atomic(struct region *) region;

bool lc_family_ensure(void)
{
    if (atomic_load_explicit(&region, memory_order_acquire))
        return true;
    void *fresh = mmap(NULL, sizeof(struct region), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (fresh == MAP_FAILED)
        return false;
    struct region *expected = NULL;
    if (!atomic_compare_exchange_strong(&region, &expected, fresh))
        munmap(fresh, sizeof(struct region));
    return true;
}

static struct record *record(uint32_t id)
{
    struct region *r = atomic_load_explicit(&region, memory_order_acquire);
    if (!r || id == 0 || id > CAPACITY)
        return NULL;
    return &r->records[id - 1];
}

static uint32_t pop_free(struct region *r)
{
    uint64_t top = atomic_load_explicit(&r->free_top, memory_order_acquire);
    for (;;) {
        uint32_t id = (uint32_t)top;
        if (id == 0)
            return 0;
        uint32_t next = atomic_load_explicit(&r->records[id - 1].holders, memory_order_relaxed);
        uint64_t replacement = ((top >> 32) + 1) << 32 | next;
        if (atomic_compare_exchange_weak_explicit(&r->free_top, &top, replacement,
                                                  memory_order_acq_rel, memory_order_acquire))
            return id;
    }
}

static void push_free(struct region *r, uint32_t id)
{
    uint64_t top = atomic_load_explicit(&r->free_top, memory_order_acquire);
    for (;;) {
        atomic_store_explicit(&r->records[id - 1].holders, (uint32_t)top, memory_order_relaxed);
        uint64_t replacement = ((top >> 32) + 1) << 32 | id;
        if (atomic_compare_exchange_weak_explicit(&r->free_top, &top, replacement,
                                                  memory_order_acq_rel, memory_order_acquire))
            return;
    }
}

uint32_t lc_family_new(uint32_t holders, uint32_t flags)
{
    struct region *r = atomic_load_explicit(&region, memory_order_acquire);
    if (!r && !lc_family_ensure())
        return 0;
    r = atomic_load_explicit(&region, memory_order_acquire);
    uint32_t id = pop_free(r);
    if (id == 0) {
        id = atomic_fetch_add_explicit(&r->used, 1, memory_order_relaxed) + 1;
        if (id > CAPACITY) {
            atomic_fetch_sub_explicit(&r->used, 1, memory_order_relaxed);
            return 0;
        }
    }
    atomic_store_explicit(&r->records[id - 1].flags, flags, memory_order_relaxed);
    atomic_store_explicit(&r->records[id - 1].holders, holders, memory_order_release);
    return id;
}

void lc_family_hold(uint32_t id)
{
    struct record *rec = record(id);
    if (rec)
        atomic_fetch_add_explicit(&rec->holders, 1, memory_order_acq_rel);
}

uint32_t lc_family_release(uint32_t id, uint32_t *last_flags)
{
    struct record *rec = record(id);
    if (!rec)
        return 2; /* unknown: assume someone else holds it */
    uint32_t before = atomic_fetch_sub_explicit(&rec->holders, 1, memory_order_acq_rel);
    if (before == 1) {
        if (last_flags)
            *last_flags = atomic_load_explicit(&rec->flags, memory_order_acquire);
        push_free(atomic_load_explicit(&region, memory_order_acquire), id);
    }
    return before;
}

void lc_family_note_epoll_left(uint32_t id)
{
    struct record *rec = record(id);
    if (rec)
        atomic_fetch_add_explicit(&rec->flags, UINT32_C(1) << 16, memory_order_acq_rel);
}

uint32_t lc_family_flags(uint32_t id)
{
    struct record *rec = record(id);
    return rec ? atomic_load_explicit(&rec->flags, memory_order_acquire) : 0;
}

void lc_family_add_flags(uint32_t id, uint32_t flags)
{
    struct record *rec = record(id);
    if (rec)
        atomic_fetch_or_explicit(&rec->flags, flags & 0xffff, memory_order_acq_rel);
}

void lc_family_clear_flags(uint32_t id, uint32_t flags)
{
    struct record *rec = record(id);
    if (rec)
        atomic_fetch_and_explicit(&rec->flags, ~(flags & 0xffff), memory_order_acq_rel);
}
