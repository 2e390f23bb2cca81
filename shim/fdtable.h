/* What the library knows about each descriptor number of this process,
 * kept lock-free and allocation-free on the read and close paths so that
 * close() stays async-signal-safe.
 *
 * An entry is one 64-bit word: the low 32 bits hold the fork epoch in which
 * this process created the socket (0: not created here), the high bits hold
 * LC_FD_* flags. Every fork() starts a new epoch in parent and child, so
 * every socket open at a fork stops being "owned" by either of them. */
#ifndef LINGERCLOSE_FDTABLE_H
#define LINGERCLOSE_FDTABLE_H

#include <stdbool.h>
#include <stdint.h>

#define LC_FD_FLAG(bit) (UINT64_C(1) << (32 + (bit)))
/* Socket created by socket()/accept() in this process. */
#define LC_FD_CREATED LC_FD_FLAG(0)
/* Another descriptor or process may hold the same socket (dup, SCM_RIGHTS). */
#define LC_FD_SHARED LC_FD_FLAG(1)
/* The descriptor is close-on-exec, so no exec'd child can hold a copy. */
#define LC_FD_CLOEXEC LC_FD_FLAG(2)
/* The app set SO_LINGER {1, 0}: it wants an abortive close. */
#define LC_FD_ABORTIVE LC_FD_FLAG(3)
/* We know the socket's SO_LINGER setting (for listeners: what accept inherits). */
#define LC_FD_LINGER_KNOWN LC_FD_FLAG(4)
/* The app shut the receive side down (SHUT_RD or SHUT_RDWR). */
#define LC_FD_APP_SHUT_RD LC_FD_FLAG(5)
/* Registered in more epoll sets than we track. */
#define LC_FD_EPOLL_UNKNOWN LC_FD_FLAG(6)
/* One of the library's own descriptors: invisible to the app. */
#define LC_FD_PRIVATE LC_FD_FLAG(7)

#define LC_FD_EPOLL_SLOTS 2

struct lc_fd_snapshot {
    uint64_t state;
    int epoll_fds[LC_FD_EPOLL_SLOTS]; /* -1: empty */
};

uint32_t lc_fdtable_epoch(void);
/* Called in parent and child after fork(). */
void lc_fdtable_new_epoch(void);

static inline bool lc_fd_owned(uint64_t state, uint32_t epoch)
{
    return (uint32_t)state == epoch && (state & LC_FD_CREATED) && !(state & LC_FD_SHARED);
}

/* Records a socket this process just created, replacing whatever the entry
 * held. Returns false if the table cannot hold fd (the socket then stays
 * untracked and is closed plainly). */
bool lc_fdtable_created(int fd, uint64_t flags);
/* Marks fd as one of ours (or clears every record with flags == 0). */
bool lc_fdtable_set(int fd, uint64_t state);
void lc_fdtable_add_flags(int fd, uint64_t flags);
void lc_fdtable_clear_flags(int fd, uint64_t flags);
uint64_t lc_fdtable_state(int fd);

/* Takes the entry of a descriptor about to be closed, leaving it empty.
 * Returns false, and leaves the entry, when there is nothing to take or
 * when fd is private (then out->state has LC_FD_PRIVATE). */
bool lc_fdtable_take(int fd, struct lc_fd_snapshot *out);

void lc_fdtable_epoll_added(int fd, int epfd);
void lc_fdtable_epoll_removed(int fd, int epfd);

/* Calls fn for every private descriptor (used in a fork child). */
void lc_fdtable_for_each_private(void (*fn)(int fd));

#endif
