#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "fdtable.h"

/* Two levels so that memory follows the highest descriptor in use: chunks
 * of 4096 entries are mapped on first use (mmap is a plain system call,
 * safe in any context) and never unmapped. 4096 chunks cover 16M fds. */
#define CHUNK_BITS 12
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define CHUNK_COUNT 4096u

struct entry {
    _Atomic uint64_t state;
    _Atomic int epoll_fds[LC_FD_EPOLL_SLOTS];
    int unused;
};

static _Atomic(struct entry *) chunks[CHUNK_COUNT];
static _Atomic uint32_t epoch = 1;

uint32_t lc_fdtable_epoch(void)
{
    return atomic_load_explicit(&epoch, memory_order_acquire);
}

void lc_fdtable_new_epoch(void)
{
    uint32_t next = atomic_load_explicit(&epoch, memory_order_relaxed) + 1;
    if (next == 0) /* 0 means "not created here" */
        next = 1;
    atomic_store_explicit(&epoch, next, memory_order_release);
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

bool lc_fdtable_created(int fd, uint64_t flags)
{
    return lc_fdtable_set(fd, lc_fdtable_epoch() | LC_FD_CREATED | flags);
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

bool lc_fdtable_take(int fd, struct lc_fd_snapshot *out)
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
        out->state = state;
        return false;
    }
    for (int i = 0; i < LC_FD_EPOLL_SLOTS; i++)
        out->epoll_fds[i] = atomic_exchange_explicit(&e->epoll_fds[i], -1, memory_order_acq_rel);
    out->state = atomic_exchange_explicit(&e->state, 0, memory_order_acq_rel);
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

void lc_fdtable_for_each_private(void (*fn)(int fd))
{
    for (unsigned c = 0; c < CHUNK_COUNT; c++) {
        struct entry *chunk = atomic_load_explicit(&chunks[c], memory_order_acquire);
        if (!chunk)
            continue;
        for (unsigned i = 0; i < CHUNK_SIZE; i++) {
            if (atomic_load_explicit(&chunk[i].state, memory_order_relaxed) & LC_FD_PRIVATE)
                fn((int)(c * CHUNK_SIZE + i));
        }
    }
}
