/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <limits.h>
#include <sys/mman.h>

#include "drain/slots.h"
#include "sys/invariant.h"

/* The bound on memory per lingering socket (bench/README.md): 64 bytes
 * with what the drain thread touches besides. */
_Static_assert(sizeof(struct lc_slot) <= 48, "a slot outgrew its memory bound");

#define NONE LC_SLOT_NONE
#define LINKS(field) offsetof(struct lc_slot, prev_##field), offsetof(struct lc_slot, next_##field)

static bool in_use(const struct lc_slots *t, int32_t index)
{
    return index >= 0 && (uint32_t)index < t->used && t->slot[index].fd != NONE;
}

static int32_t *link_at(struct lc_slots *t, int32_t index, size_t offset)
{
    return (int32_t *)((char *)&t->slot[index] + offset);
}

static void list_append(struct lc_slots *t, struct lc_slot_list *l, int32_t index, size_t prev,
                        size_t next)
{
    *link_at(t, index, prev) = l->tail;
    *link_at(t, index, next) = NONE;
    if (l->tail != NONE)
        *link_at(t, l->tail, next) = index;
    else
        l->head = index;
    l->tail = index;
}

static void list_remove(struct lc_slots *t, struct lc_slot_list *l, int32_t index, size_t prev,
                        size_t next)
{
    int32_t p = *link_at(t, index, prev), n = *link_at(t, index, next);
    /* Only a slot in this list, once: removing one twice would cut others out. */
    LC_ASSERT(p != NONE ? *link_at(t, p, next) == index : l->head == index);
    LC_ASSERT(n != NONE ? *link_at(t, n, prev) == index : l->tail == index);
    if (p != NONE)
        *link_at(t, p, next) = n;
    else
        l->head = n;
    if (n != NONE)
        *link_at(t, n, prev) = p;
    else
        l->tail = p;
}

int32_t lc_slots_take(struct lc_slots *t, uint32_t capacity)
{
    if (t->free_head != NONE) {
        int32_t index = t->free_head;
        LC_ASSERT((uint32_t)index < t->used && t->slot[index].fd == NONE);
        t->free_head = t->slot[index].next_start;
        return index;
    }
    if (!t->slot) {
        size_t bytes = (size_t)capacity * sizeof *t->slot;
        void *room = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (room == MAP_FAILED)
            return NONE;
        t->slot = room;
        t->mapped_bytes = bytes;
    }
    if (t->used >= capacity)
        return NONE;
    return (int32_t)t->used++;
}

void lc_slots_give_back(struct lc_slots *t, int32_t index)
{
    LC_ASSERT(index >= 0 && (uint32_t)index < t->used);
    t->slot[index].fd = NONE;
    t->slot[index].next_start = t->free_head;
    t->free_head = index;
}

/* The list a slot's activity links are in. */
static struct lc_slot_list *second_list(struct lc_slots *t, int32_t index)
{
    return t->slot[index].fin_deferred ? &t->by_fin : &t->by_activity;
}

void lc_slots_link(struct lc_slots *t, int32_t index)
{
    LC_ASSERT(in_use(t, index));
    list_append(t, &t->by_start, index, LINKS(start));
    list_append(t, second_list(t, index), index, LINKS(activity));
}

void lc_slots_unlink(struct lc_slots *t, int32_t index)
{
    LC_ASSERT(in_use(t, index));
    list_remove(t, &t->by_start, index, LINKS(start));
    list_remove(t, second_list(t, index), index, LINKS(activity));
}

void lc_slots_touch(struct lc_slots *t, int32_t index, int64_t now)
{
    LC_ASSERT(in_use(t, index));
    if (t->slot[index].last_ms == lc_slot_stamp(now))
        return;
    t->slot[index].last_ms = lc_slot_stamp(now);
    if (t->slot[index].fin_deferred)
        return;
    list_remove(t, &t->by_activity, index, LINKS(activity));
    list_append(t, &t->by_activity, index, LINKS(activity));
}

void lc_slots_fin_sent(struct lc_slots *t, int32_t index, int64_t now)
{
    LC_ASSERT(in_use(t, index) && t->slot[index].fin_deferred);
    list_remove(t, &t->by_fin, index, LINKS(activity));
    t->slot[index].fin_deferred = false;
    t->slot[index].last_ms = lc_slot_stamp(now);
    list_append(t, &t->by_activity, index, LINKS(activity));
}

int32_t lc_slots_past_total(const struct lc_slots *t, int64_t now, uint32_t total_timeout_ms)
{
    int32_t head = t->by_start.head;
    return head != NONE && lc_slot_elapsed(t->slot[head].start_ms, now) >= total_timeout_ms ? head
                                                                                       : NONE;
}

int32_t lc_slots_past_idle(const struct lc_slots *t, int64_t now, uint32_t idle_timeout_ms)
{
    int32_t head = t->by_activity.head;
    return head != NONE && lc_slot_elapsed(t->slot[head].last_ms, now) >= idle_timeout_ms ? head
                                                                                     : NONE;
}

int32_t lc_slots_past_fin(const struct lc_slots *t, int64_t now, uint32_t fin_wait_ms)
{
    int32_t head = t->by_fin.head;
    return head != NONE && lc_slot_elapsed(t->slot[head].start_ms, now) >= fin_wait_ms ? head : NONE;
}

int lc_slots_wait_ms(const struct lc_slots *t, int64_t now, struct lc_slot_timeouts timeouts)
{
    /* Every slot in use is in by_start and in one of the other two. */
    LC_ASSERT((t->by_start.head == NONE) ==
              (t->by_activity.head == NONE && t->by_fin.head == NONE));
    if (t->by_start.head == NONE)
        return -1;
    int64_t next = timeouts.total_ms - lc_slot_elapsed(t->slot[t->by_start.head].start_ms, now);
    int32_t idle_head = t->by_activity.head, fin_head = t->by_fin.head;
    if (idle_head != NONE) {
        int64_t idle = timeouts.idle_ms - lc_slot_elapsed(t->slot[idle_head].last_ms, now);
        next = idle < next ? idle : next;
    }
    if (fin_head != NONE) {
        int64_t fin = timeouts.fin_wait_ms - lc_slot_elapsed(t->slot[fin_head].start_ms, now);
        next = fin < next ? fin : next;
    }
    if (next < 0)
        return 0;
    return next > INT_MAX ? INT_MAX : (int)next;
}

void lc_slots_release_all(struct lc_slots *t)
{
    if (t->slot)
        munmap(t->slot, t->mapped_bytes);
    *t = (struct lc_slots)LC_SLOTS_EMPTY;
}
