/* SPDX-License-Identifier: MIT */
/* The shared holder counts (shim/holders/holders.c) on their own: allocation,
 * holds, recycling, generations, capacity, threads racing on them, and a
 * mapping that another process of the same tree has scribbled over. Each test
 * runs in a process of its own, so each starts from a fresh mapping; the
 * tests reach it the way a hostile child would, through /proc/self/maps. */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holders/fdtable.h"
#include "holders/holders.h"

/* The bit layout is asserted where it is defined: fdtable.h, holders.h
 * and fdtable.c. */

#define SOCKET_FLAGS ((uint32_t)(LC_FD_SOCKET_FLAGS >> 32))

TestSuite(holders, .timeout = 60);

/* The mapping, found as any process forked from the one that made it can find it: the one
 * shared read-write mapping of its size. */
static struct lc_holders_region *region(void)
{
    cr_assert(lc_holders_ensure());
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (sizeof(struct lc_holders_region) + page - 1) / page * page;
    FILE *maps = fopen("/proc/self/maps", "r");
    cr_assert_not_null(maps);
    char line[512];
    struct lc_holders_region *found = NULL;
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3 && end - start == size &&
            strcmp(perms, "rw-s") == 0) {
            cr_assert_null(found, "two candidate mappings");
            found = (struct lc_holders_region *)start;
        }
    }
    fclose(maps);
    cr_assert_not_null(found, "no shared mapping of %zu bytes", size);
    return found;
}

static uint32_t holders_at(struct lc_holders_region *r, uint32_t handle)
{
    return (uint32_t)atomic_load(&r->records[lc_holders_slot(handle)].count);
}

/* ---- the ordinary life of a record ------------------------------------- */

Test(holders, new_hold_release_recycle)
{
    uint32_t id = lc_holders_new(2, 0x5);
    cr_assert_neq(id, 0);
    cr_assert_eq(lc_holders_flags(id), 0x5);
    cr_assert(lc_holders_hold(id));
    uint32_t last_flags = 0;
    cr_assert_eq(lc_holders_release(id, &last_flags), 3);
    cr_assert_eq(lc_holders_release(id, &last_flags), 2);
    lc_holders_add_flags(id, 0x8);
    lc_holders_note_epoll_left(id);
    cr_assert_eq(lc_holders_release(id, &last_flags), 1);
    cr_assert_eq(last_flags & 0xffff, 0xd);
    cr_assert_eq(lc_holders_epoll_left(last_flags), 1);

    uint32_t again = lc_holders_new(2, 0);
    cr_assert_eq(lc_holders_slot(again), lc_holders_slot(id), "the freed record is reused first");
    cr_assert_neq(again, id, "under another generation");
    cr_assert_eq(lc_holders_flags(again), 0, "with the new socket's flags only");
    cr_assert_not(lc_holders_corruption_seen());
}

Test(holders, a_freed_record_is_never_taken_by_its_old_handle)
{
    struct lc_holders_region *r = region();
    uint32_t old = lc_holders_new(1, 0);
    cr_assert_eq(lc_holders_release(old, NULL), 1);
    uint32_t fresh = lc_holders_new(2, 0);
    cr_assert_eq(lc_holders_slot(fresh), lc_holders_slot(old));

    cr_assert_not(lc_holders_hold(old), "the stale handle must not count on the new socket");
    cr_assert_eq(holders_at(r, fresh), 2);
    lc_holders_add_flags(old, SOCKET_FLAGS);
    cr_assert_eq(lc_holders_flags(fresh), 0, "nor set its flags");
    cr_assert_eq(lc_holders_flags(old), 0);
    cr_assert_not(lc_holders_corruption_seen(), "a stale hold is an exec that failed, no corruption");
    cr_assert_eq(lc_holders_release(fresh, NULL), 2);
    cr_assert_eq(lc_holders_release(fresh, NULL), 1);
}

Test(holders, free_records_are_reused_before_new_ones)
{
    struct lc_holders_region *r = region();
    enum { COUNT = 64 };
    uint32_t ids[COUNT];
    for (int i = 0; i < COUNT; i++)
        ids[i] = lc_holders_new(1, 0);
    uint32_t used = atomic_load(&r->used);
    cr_assert_eq(used, COUNT);
    for (int i = 0; i < COUNT; i++)
        cr_assert_eq(lc_holders_release(ids[i], NULL), 1);
    bool seen[COUNT + 1] = { false };
    for (int i = 0; i < COUNT; i++) {
        uint32_t slot = lc_holders_slot(lc_holders_new(1, 0));
        cr_assert(slot >= 1 && slot <= COUNT);
        cr_assert_not(seen[slot], "slot %u handed out twice", slot);
        seen[slot] = true;
    }
    cr_assert_eq(atomic_load(&r->used), used, "no slot beyond the freed ones was taken");
}

Test(holders, a_full_mapping_gives_no_record_and_recovers)
{
    uint32_t last = 0;
    for (uint32_t i = 1; i < LC_HOLDERS_SLOTS; i++) {
        last = lc_holders_new(1, 0);
        cr_assert_neq(last, 0, "record %u of %u", i, LC_HOLDERS_SLOTS - 1);
    }
    cr_assert_eq(lc_holders_new(1, 0), 0);
    cr_assert_eq(lc_holders_new(2, 0), 0);
    cr_assert_not(lc_holders_corruption_seen(), "full is not corrupt");
    cr_assert_eq(lc_holders_release(last, NULL), 1);
    cr_assert_eq(lc_holders_slot(lc_holders_new(1, 0)), lc_holders_slot(last));
}

/* ---- what a hostile child can write --------------------------------- */

Test(holders, free_list_top_out_of_range)
{
    struct lc_holders_region *r = region();
    const uint64_t tops[] = { 0xffffffffu, LC_HOLDERS_SLOTS, UINT64_MAX, (UINT64_C(7) << 32) | 0x80000000u };
    for (size_t i = 0; i < sizeof tops / sizeof *tops; i++) {
        atomic_store(&r->free_top, tops[i]);
        uint32_t id = lc_holders_new(2, 0);
        cr_assert_eq((uint32_t)atomic_load(&r->free_top), 0, "the corrupt list is abandoned");
        cr_assert_eq(lc_holders_slot(id), i + 1, "records come from unused slots again");
        cr_assert_eq(holders_at(r, id), 2);
    }
    cr_assert(lc_holders_corruption_seen());
}

Test(holders, free_list_self_loop_and_wild_links)
{
    struct lc_holders_region *r = region();
    uint32_t a = lc_holders_new(1, 0);
    uint32_t b = lc_holders_new(1, 0);
    cr_assert_eq(lc_holders_release(a, NULL), 1);
    atomic_store(&r->records[lc_holders_slot(a)].next_free, lc_holders_slot(a));
    cr_assert_eq(lc_holders_slot(lc_holders_new(1, 0)), 3, "the looping list is left for unused slots");
    cr_assert_eq((uint32_t)atomic_load(&r->free_top), 0);
    cr_assert(lc_holders_corruption_seen());

    cr_assert_eq(lc_holders_release(b, NULL), 1);
    atomic_store(&r->records[lc_holders_slot(b)].next_free, 0xfffffff0u);
    cr_assert_eq(lc_holders_slot(lc_holders_new(1, 0)), 4);
    cr_assert_eq((uint32_t)atomic_load(&r->free_top), 0);

    /* A link to a record in use: popping it must not hand that record to a
     * second socket. */
    uint32_t live = lc_holders_new(3, 0);
    uint32_t c = lc_holders_new(1, 0);
    cr_assert_neq(live, 0);
    cr_assert_neq(c, 0);
    cr_assert_eq(lc_holders_release(c, NULL), 1);
    atomic_store(&r->records[lc_holders_slot(c)].next_free, lc_holders_slot(live));
    uint32_t popped = lc_holders_new(1, 0);
    cr_assert_eq(lc_holders_slot(popped), lc_holders_slot(c));
    cr_assert_eq(lc_holders_new(1, 0), 0, "the record in use is not handed out again");
    cr_assert_eq((uint32_t)atomic_load(&r->free_top), 0);
    cr_assert_eq(holders_at(r, live), 3, "and its count untouched");
}

Test(holders, slot_count_out_of_range_or_rewound)
{
    struct lc_holders_region *r = region();
    uint32_t live = lc_holders_new(2, 0x1);
    atomic_store(&r->used, 0xffffffffu);
    cr_assert_eq(lc_holders_new(2, 0), 0);
    cr_assert(lc_holders_corruption_seen());

    atomic_store(&r->used, 0);
    cr_assert_eq(lc_holders_new(5, 0x2), 0, "the slot in use is not handed out again");
    cr_assert_eq(holders_at(r, live), 2);
    cr_assert_eq(lc_holders_flags(live), 0x1, "nor its flags rewritten");
}

Test(holders, holder_counts_out_of_range)
{
    struct lc_holders_region *r = region();
    uint32_t id = lc_holders_new(2, 0);
    _Atomic uint64_t *count = &r->records[lc_holders_slot(id)].count;
    uint64_t generation = atomic_load(count) & ~UINT64_C(0xffffffff);

    atomic_store(count, generation | 0);
    cr_assert_eq(lc_holders_release(id, NULL), 2, "an empty count is not a last holder");
    cr_assert_not(lc_holders_hold(id));
    cr_assert_eq(atomic_load(count), generation, "nothing wrapped");
    cr_assert_eq((uint32_t)atomic_load(&r->free_top), 0, "nothing freed");
    cr_assert(lc_holders_corruption_seen());

    atomic_store(count, generation | UINT32_MAX);
    cr_assert_not(lc_holders_hold(id), "a full count does not wrap to 0");
    cr_assert_eq(atomic_load(count), generation | UINT32_MAX);

    atomic_store(count, (generation + (UINT64_C(1) << 32)) | 2);
    cr_assert_eq(lc_holders_release(id, NULL), 2, "another generation is not ours to drop");
    cr_assert_not(lc_holders_hold(id));
}

Test(holders, handles_out_of_range_are_shared)
{
    cr_assert(lc_holders_ensure());
    const uint32_t handles[] = { 0, LC_HOLDERS_SLOTS, 0xffffffffu, 1u << LC_HOLDERS_SLOT_BITS };
    for (size_t i = 0; i < sizeof handles / sizeof *handles; i++) {
        cr_assert_not(lc_holders_hold(handles[i]));
        cr_assert_eq(lc_holders_release(handles[i], NULL), 2);
        cr_assert_eq(lc_holders_flags(handles[i]), 0);
        lc_holders_add_flags(handles[i], 0xffff);
        lc_holders_note_epoll_left(handles[i]);
    }
}

/* Random words over the header and the records in use, then every
 * operation with old and new handles: no access outside the mapping, no
 * endless loop, and every handle given out names a slot in range. */
Test(holders, scribbled_mapping_stays_inside)
{
    struct lc_holders_region *r = region();
    enum { LIVE = 256 };
    uint32_t ids[LIVE];
    for (int i = 0; i < LIVE; i++)
        ids[i] = lc_holders_new(2, 0);
    for (int i = 0; i < LIVE; i += 2) {
        lc_holders_release(ids[i], NULL);
        lc_holders_release(ids[i], NULL);
    }
    srandom(1);
    for (int round = 0; round < 50; round++) {
        uint32_t *words = (uint32_t *)r;
        size_t span = (offsetof(struct lc_holders_region, records) +
                       (LIVE + 2) * sizeof(struct lc_holders_record)) / sizeof(uint32_t);
        for (size_t w = 0; w < span; w++) {
            switch (random() % 4) {
            case 0: words[w] = (uint32_t)random(); break;
            case 1: words[w] = 0xffffffffu; break;
            case 2: words[w] = (uint32_t)(random() % (LIVE + 2)); break;
            default: break;
            }
        }
        for (int i = 0; i < LIVE; i++) {
            uint32_t id = lc_holders_new(1 + (uint32_t)(random() % 3), 0);
            cr_assert(id == 0 || (lc_holders_slot(id) >= 1 && lc_holders_slot(id) < LC_HOLDERS_SLOTS));
            lc_holders_hold(ids[i]);
            lc_holders_release(ids[i], NULL);
            lc_holders_release(id, NULL);
            lc_holders_add_flags(ids[i], 1);
            ids[i] = id ? id : ids[i];
        }
    }
    cr_assert(lc_holders_corruption_seen());
}

/* ---- threads ---------------------------------------------------------- */

#define THREADS 4
#define ROUNDS 20000

static uint32_t shared_id;
static _Atomic uint32_t owner[1 << 12];
static _Atomic bool overlap;

static void *churn(void *arg)
{
    uintptr_t me = (uintptr_t)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (!lc_holders_hold(shared_id))
            atomic_store(&overlap, true);
        uint32_t id = lc_holders_new(2, 0);
        uint32_t slot = lc_holders_slot(id);
        if (id == 0 || slot >= sizeof owner / sizeof *owner) {
            atomic_store(&overlap, true);
            break;
        }
        /* Held by this thread now: no other may hold the same slot. */
        if (atomic_exchange(&owner[slot], (uint32_t)me) != 0)
            atomic_store(&overlap, true);
        if (lc_holders_release(id, NULL) != 2)
            atomic_store(&overlap, true);
        atomic_store(&owner[slot], 0);
        if (lc_holders_release(id, NULL) != 1)
            atomic_store(&overlap, true);
        if (lc_holders_release(shared_id, NULL) < 2)
            atomic_store(&overlap, true);
    }
    return NULL;
}

Test(holders, threads_racing_keep_every_record_free_or_held_never_both)
{
    struct lc_holders_region *r = region();
    shared_id = lc_holders_new(1, 0);
    pthread_t threads[THREADS];
    for (uintptr_t t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&threads[t], NULL, churn, (void *)(t + 1)), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    cr_assert_not(atomic_load(&overlap), "a record was handed to two holders at once");
    cr_assert_eq(holders_at(r, shared_id), 1, "every hold was given back");
    cr_assert_eq(lc_holders_release(shared_id, NULL), 1);
    cr_assert_not(lc_holders_corruption_seen());

    /* Every slot handed out is now on the free list exactly once. */
    uint32_t used = atomic_load(&r->used);
    cr_assert_leq(used, THREADS + 1);
    bool on_list[THREADS + 2] = { false };
    uint32_t slot = (uint32_t)atomic_load(&r->free_top);
    for (uint32_t n = 0; n < used; n++) {
        cr_assert(slot >= 1 && slot <= used, "slot %u on the list", slot);
        cr_assert_not(on_list[slot]);
        on_list[slot] = true;
        slot = atomic_load(&r->records[slot].next_free);
    }
    cr_assert_eq(slot, 0);
}
