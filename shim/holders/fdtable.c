/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "holders/fdtable.h"
#include "holders/holders.h"
#include "sys/invariant.h"

/* Two levels so that memory follows the highest descriptor in use: chunks
 * of 4096 entries are mapped on first use (mmap is a plain system call,
 * safe in any context) and never unmapped. 4096 chunks cover 16M fds. */
#define CHUNK_BITS 12
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define CHUNK_COUNT 4096u
_Static_assert((uint64_t)CHUNK_SIZE * CHUNK_COUNT - 1 <= INT32_MAX,
               "every descriptor number the table covers is an int");

struct entry {
    _Atomic uint64_t state;
    _Atomic int epoll_fds[LC_FD_EPOLL_SLOTS];
};

static _Atomic(struct entry *) chunks[CHUNK_COUNT];
/* One past the highest chunk ever mapped: fork, exec and exit visit the
 * table, and a process that never recorded a descriptor (most helpers a
 * service starts) must not pay for looking at 4096 empty chunk slots. */
static _Atomic unsigned chunks_end;

static void note_chunk_mapped(unsigned chunk_index)
{
    unsigned end = atomic_load_explicit(&chunks_end, memory_order_relaxed);
    while (end <= chunk_index &&
           !atomic_compare_exchange_weak_explicit(&chunks_end, &end, chunk_index + 1,
                                                  memory_order_release, memory_order_relaxed))
        ;
}

static struct entry *lookup(int fd, bool create)
{
    if (fd < 0 || (unsigned)fd >= CHUNK_SIZE * CHUNK_COUNT)
        return NULL;
    unsigned chunk_index = (unsigned)fd >> CHUNK_BITS;
    struct entry *chunk = atomic_load_explicit(&chunks[chunk_index], memory_order_acquire);
    if (!chunk && create) {
        void *fresh = mmap(NULL, CHUNK_SIZE * sizeof(struct entry), PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (fresh == MAP_FAILED)
            return NULL;
        /* Before the chunk can be seen: a visit that finds it must also
         * reach it. A slot covered for nothing is only skipped. */
        note_chunk_mapped(chunk_index);
        struct entry *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&chunks[chunk_index], &expected, fresh,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            chunk = fresh;
        } else {
            munmap(fresh, CHUNK_SIZE * sizeof(struct entry));
            chunk = expected;
        }
    }
    return chunk ? &chunk[(unsigned)fd & (CHUNK_SIZE - 1)] : NULL;
}

static void clear_epoll(struct entry *e)
{
    for (int i = 0; i < LC_FD_EPOLL_SLOTS; i++)
        atomic_store_explicit(&e->epoll_fds[i], -1, memory_order_relaxed);
}

bool lc_fdtable_set(int fd, uint64_t state)
{
    struct entry *e = lookup(fd, state != 0);
    if (!e)
        return state == 0;
    clear_epoll(e);
    atomic_store_explicit(&e->state, state, memory_order_release);
    return true;
}

bool lc_fdtable_own(int fd, uint64_t flags)
{
    return lc_fdtable_set(fd, LC_FD_OWNED | flags);
}

void lc_fdtable_add_flags(int fd, uint64_t flags)
{
    struct entry *e = lookup(fd, true);
    if (e)
        atomic_fetch_or_explicit(&e->state, flags, memory_order_acq_rel);
}

void lc_fdtable_clear_flags(int fd, uint64_t flags)
{
    struct entry *e = lookup(fd, false);
    if (e)
        atomic_fetch_and_explicit(&e->state, ~flags, memory_order_acq_rel);
}

uint64_t lc_fdtable_state(int fd)
{
    struct entry *e = lookup(fd, false);
    return e ? atomic_load_explicit(&e->state, memory_order_acquire) : 0;
}

/* The record of an entry whose hold an exec() in progress gave back may
 * already be another socket's. */
static uint32_t held_record(uint64_t state)
{
    return state & LC_FD_EXEC_RELEASED ? 0 : lc_fd_record(state);
}

void lc_socket_add_flags(int fd, uint64_t flags)
{
    struct entry *e = lookup(fd, true);
    if (!e)
        return;
    uint64_t state = atomic_fetch_or_explicit(&e->state, flags, memory_order_acq_rel);
    lc_holders_add_flags(held_record(state), (uint32_t)(flags >> 32));
}

void lc_socket_clear_flags(int fd, uint64_t flags)
{
    struct entry *e = lookup(fd, false);
    if (!e)
        return;
    uint64_t state = atomic_fetch_and_explicit(&e->state, ~flags, memory_order_acq_rel);
    lc_holders_clear_flags(held_record(state), (uint32_t)(flags >> 32));
}

uint64_t lc_fdtable_socket_state(int fd)
{
    uint64_t state = lc_fdtable_state(fd);
    uint32_t record = held_record(state);
    return record ? lc_fd_state_with(state, lc_holders_flags(record)) : state;
}

/* A record keeps the socket flags in the low 16 bits of its flags word
 * (the epoll-left count has the high 16), and a handle in the entry's low
 * half. */
_Static_assert(((LC_FD_SOCKET_FLAGS >> 32) & ~UINT64_C(0xffff)) == 0,
               "socket flags must fit the record's 16 flag bits");

uint64_t lc_fd_state_with(uint64_t state, uint32_t record_flags)
{
    /* The record is the authority for the socket's flags: another holder
     * may have set or cleared them since this entry was copied. */
    return (state & ~LC_FD_SOCKET_FLAGS) | (((uint64_t)record_flags << 32) & LC_FD_SOCKET_FLAGS);
}

/* Gives the socket at e a record counting `holders` descriptors, unless it
 * has one. Returns the entry's state afterwards (0 if it vanished). */
static uint64_t ensure_record(struct entry *e, uint32_t holders_if_new)
{
    uint64_t state = atomic_load_explicit(&e->state, memory_order_acquire);
    while (state && !lc_fd_record(state) && !(state & LC_FD_SENT_AWAY)) {
        uint32_t record = lc_holders_new(holders_if_new, (uint32_t)((state & LC_FD_SOCKET_FLAGS) >> 32));
        uint64_t wanted = record ? state | record : state | LC_FD_SENT_AWAY;
        if (atomic_compare_exchange_strong(&e->state, &state, wanted))
            return wanted;
        /* The entry changed under us: drop the record, start again from
         * the entry. Bounded: a corrupt count never reaches 1. */
        for (uint32_t i = 0; record && i < holders_if_new; i++)
            if (lc_holders_release(record, NULL) <= 1)
                break;
    }
    return state;
}

/* A hold that could not be taken, or a record that is no longer this
 * socket's: the socket may have holders nobody counts, so every close of
 * this descriptor is plain from now on, and the record is never touched
 * again (any hold still counted on it stays, which only makes the other
 * holders' closes plain too). */
static uint64_t shared_for_good(struct entry *e)
{
    uint64_t state = atomic_load_explicit(&e->state, memory_order_acquire);
    uint64_t wanted;
    do {
        if (!state)
            return 0;
        wanted = (state & ~(UINT64_C(0xffffffff) | LC_FD_EXEC_RELEASED)) | LC_FD_SENT_AWAY;
    } while (!atomic_compare_exchange_weak_explicit(&e->state, &state, wanted, memory_order_acq_rel,
                                                    memory_order_acquire));
    return wanted;
}

/* One more holder of the socket at e (a dup or a fork is about to copy
 * it); the entry's state afterwards. */
static uint64_t hold_entry(struct entry *e, uint64_t state)
{
    uint32_t record = lc_fd_record(state);
    if (state & LC_FD_EXEC_RELEASED)
        return shared_for_good(e);
    if (!record)
        return ensure_record(e, 2);
    if (!lc_holders_hold(record))
        return shared_for_good(e);
    return state;
}

static bool trackable(uint64_t state)
{
    return (state & LC_FD_OWNED) && !(state & LC_FD_PRIVATE);
}

void lc_fdtable_duplicate(int old_fd, int new_fd, bool new_cloexec)
{
    struct entry *old_entry = lookup(old_fd, false);
    uint64_t state = old_entry ? atomic_load_explicit(&old_entry->state, memory_order_acquire) : 0;
    if (!trackable(state)) {
        lc_fdtable_set(new_fd, 0);
        return;
    }
    state = hold_entry(old_entry, state);
    if (!trackable(state)) {
        lc_fdtable_set(new_fd, 0);
        return;
    }
    /* Counted, or never lingered again: a copy nobody counts would let
     * either holder linger while the other still uses the socket. */
    LC_ASSERT(lc_fd_record(state) != 0 || (state & LC_FD_SENT_AWAY));
    uint64_t copy = (state & (LC_FD_OWNED | LC_FD_SOCKET_FLAGS | UINT64_C(0xffffffff))) |
                    (new_cloexec ? LC_FD_CLOEXEC : 0);
    if (!lc_fdtable_set(new_fd, copy))
        lc_holders_release(lc_fd_record(copy), NULL);
}

/* Calls fn for every entry in use, in increasing descriptor order, from
 * first to last. Reads before any write, so an idle table costs no locked
 * instruction. */
static void visit_entries(unsigned first, unsigned last,
                          void (*fn)(struct entry *e, int fd, uint64_t state, void *ctx), void *ctx)
{
    unsigned end = atomic_load_explicit(&chunks_end, memory_order_acquire);
    for (unsigned c = first >> CHUNK_BITS; c < end && c <= (last >> CHUNK_BITS); c++) {
        struct entry *chunk = atomic_load_explicit(&chunks[c], memory_order_acquire);
        if (!chunk)
            continue;
        for (unsigned i = 0; i < CHUNK_SIZE; i++) {
            unsigned fd = c * CHUNK_SIZE + i;
            if (fd < first)
                continue;
            if (fd > last)
                return;
            uint64_t state = atomic_load_explicit(&chunk[i].state, memory_order_acquire);
            if (state)
                fn(&chunk[i], (int)fd, state, ctx);
        }
    }
}

static void hold_one(struct entry *e, int fd, uint64_t state, void *unused)
{
    (void)fd;
    (void)unused;
    if (trackable(state))
        hold_entry(e, state);
}

bool lc_fdtable_ever_used(void)
{
    return atomic_load_explicit(&chunks_end, memory_order_acquire) > 0;
}

void lc_fdtable_hold_all(void)
{
    visit_entries(0, ~0u, hold_one, NULL);
}

/* Given back before exec() because once it succeeds nothing is left in
 * this process to give them back. The price: until exec() fails, the
 * other holders do not count this one, so one of them that closes in that
 * window may linger on a socket this process still holds (its FIN goes
 * out early; the bytes this process sends after it are lost). Counting
 * the child until success would cost the opposite, a socket that never
 * lingers again after every successful exec, which is the common case.
 * What must never happen is taking back a record that was freed in that
 * window and may count another socket by now: each record's generation
 * tells (lc_holders_hold), and a socket whose record is gone is shared for
 * good here. */
static void release_one_for_exec(struct entry *e, int fd, uint64_t state, void *unused)
{
    (void)fd;
    (void)unused;
    uint32_t record = lc_fd_record(state);
    if (!trackable(state) || !(state & LC_FD_CLOEXEC) || !record || (state & LC_FD_EXEC_RELEASED))
        return;
    if (lc_holders_release(record, NULL) > 1)
        atomic_fetch_or(&e->state, LC_FD_EXEC_RELEASED);
    else /* ours alone now: the record is gone, the entry needs none */
        atomic_fetch_and(&e->state, ~UINT64_C(0xffffffff));
}

void lc_fdtable_release_for_exec(void)
{
    visit_entries(0, ~0u, release_one_for_exec, NULL);
}

static void hold_again(struct entry *e, int fd, uint64_t state, void *unused)
{
    (void)fd;
    (void)unused;
    if (!(state & LC_FD_EXEC_RELEASED))
        return;
    if (lc_holders_hold(lc_fd_record(state)))
        atomic_fetch_and(&e->state, ~LC_FD_EXEC_RELEASED);
    else
        shared_for_good(e);
}

void lc_fdtable_exec_failed(void)
{
    visit_entries(0, ~0u, hold_again, NULL);
}

static void forget_epoll(struct entry *e, int fd, uint64_t state, void *unused)
{
    (void)fd;
    (void)state;
    (void)unused;
    bool registered = false;
    for (int s = 0; s < LC_FD_EPOLL_SLOTS; s++)
        registered |= atomic_exchange(&e->epoll_fds[s], -1) >= 0;
    if (registered)
        atomic_fetch_or(&e->state, LC_FD_EPOLL_UNKNOWN);
}

void lc_fdtable_forget_epoll_all(void)
{
    visit_entries(0, ~0u, forget_epoll, NULL);
}

bool lc_fdtable_take(int fd, struct lc_fd_entry *out)
{
    out->state = 0;
    struct entry *e = lookup(fd, false);
    if (!e)
        return false;
    /* Most closes are of descriptors we never recorded: read before
     * writing so they cost no locked instruction. */
    uint64_t state = atomic_load_explicit(&e->state, memory_order_acquire);
    if (state == 0)
        return false;
    if (state & LC_FD_PRIVATE) {
        /* The library's own descriptors are nobody's holders. */
        LC_ASSERT(lc_fd_record(state) == 0);
        out->state = state;
        return false;
    }
    for (int i = 0; i < LC_FD_EPOLL_SLOTS; i++)
        out->epoll_fds[i] = atomic_exchange_explicit(&e->epoll_fds[i], -1, memory_order_acq_rel);
    out->state = atomic_exchange_explicit(&e->state, 0, memory_order_acq_rel);
    if (out->state & LC_FD_EXEC_RELEASED) /* closed while another thread execs */
        out->state = (out->state & ~(UINT64_C(0xffffffff) | LC_FD_EXEC_RELEASED)) | LC_FD_SENT_AWAY;
    return out->state != 0;
}

void lc_fdtable_epoll_added(int fd, int epfd)
{
    struct entry *e = lookup(fd, false);
    if (!e || atomic_load_explicit(&e->state, memory_order_acquire) == 0)
        return;
    for (int i = 0; i < LC_FD_EPOLL_SLOTS; i++) {
        int expected = -1;
        if (atomic_load_explicit(&e->epoll_fds[i], memory_order_relaxed) == epfd)
            return;
        if (atomic_compare_exchange_strong(&e->epoll_fds[i], &expected, epfd))
            return;
    }
    atomic_fetch_or_explicit(&e->state, LC_FD_EPOLL_UNKNOWN, memory_order_acq_rel);
}

void lc_fdtable_epoll_removed(int fd, int epfd)
{
    struct entry *e = lookup(fd, false);
    if (!e)
        return;
    for (int i = 0; i < LC_FD_EPOLL_SLOTS; i++) {
        int expected = epfd;
        atomic_compare_exchange_strong(&e->epoll_fds[i], &expected, -1);
    }
}

struct visit_fds {
    void (*fn)(int fd, uint64_t state, void *ctx);
    void *ctx;
};

static void visit_fd(struct entry *e, int fd, uint64_t state, void *ctx)
{
    (void)e;
    struct visit_fds *v = ctx;
    v->fn(fd, state, v->ctx);
}

void lc_fdtable_for_each(unsigned first, unsigned last, void (*fn)(int fd, uint64_t state, void *ctx),
                         void *ctx)
{
    struct visit_fds v = { fn, ctx };
    visit_entries(first, last, visit_fd, &v);
}
