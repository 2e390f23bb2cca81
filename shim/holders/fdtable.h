/* SPDX-License-Identifier: MIT */
/* What the library knows about each descriptor number of this process,
 * kept lock-free and allocation-free so that close() stays
 * async-signal-safe.
 *
 * An entry is one 64-bit word: LC_FD_* flags in the high half, and in the
 * low half the id of the socket's holder-count record (holders.h), or 0
 * while this descriptor is known to be the socket's only one. */
#ifndef LINGERCLOSE_FDTABLE_H
#define LINGERCLOSE_FDTABLE_H

#include <stdbool.h>
#include <stdint.h>

#define LC_FD_FLAG(bit) (UINT64_C(1) << (32 + (bit)))

/* Flags of the descriptor. */
/* Owned: a socket created here (socket, accept) or handed over at start-up
 * (inetd), so the library has seen every descriptor of it since. */
#define LC_FD_OWNED LC_FD_FLAG(0)
/* The descriptor is close-on-exec, so no exec'd child can hold a copy. */
#define LC_FD_CLOEXEC LC_FD_FLAG(1)
/* Registered in more epoll sets than we track, or in sets we cannot reach. */
#define LC_FD_EPOLL_UNKNOWN LC_FD_FLAG(2)
/* The library's own descriptor: invisible to the program. */
#define LC_FD_PRIVATE LC_FD_FLAG(3)
/* Received from another process (SCM_RIGHTS): known, never owned. */
#define LC_FD_RECEIVED LC_FD_FLAG(4)
/* Its hold was given back for an exec() in progress (close-on-exec): the
 * record it names may be freed and reused before exec() fails, so it is
 * neither released nor given flags until taken again. */
#define LC_FD_EXEC_RELEASED LC_FD_FLAG(5)
/* A listener whose kind was asked (accept), and the answer: not TCP over
 * IPv4 or IPv6, so what it accepts never lingers. */
#define LC_FD_KIND_KNOWN LC_FD_FLAG(6)
#define LC_FD_NOT_TCP LC_FD_FLAG(7)

/* Flags of the socket, shared by all its descriptors through the record. */
/* The app set SO_LINGER {1, 0}: it wants an abortive close. */
#define LC_FD_ABORTIVE LC_FD_FLAG(8)
/* We know the socket's SO_LINGER setting (for listeners: what accept inherits). */
#define LC_FD_LINGER_KNOWN LC_FD_FLAG(9)
/* The app shut the receive side down (SHUT_RD or SHUT_RDWR). */
#define LC_FD_APP_SHUT_RD LC_FD_FLAG(10)
/* A copy left for somewhere the library cannot count (SCM_RIGHTS, or no
 * room for a record): never lingered again. */
#define LC_FD_SENT_AWAY LC_FD_FLAG(11)
/* Found at the last close: a descriptor closed earlier left epoll
 * registrations behind, which only the socket's end removes, so it must
 * end at once (never stored; see lc_holders_note_epoll_left). */
#define LC_FD_EPOLL_LEFT LC_FD_FLAG(12)

#define LC_FD_SOCKET_FLAGS \
    (LC_FD_ABORTIVE | LC_FD_LINGER_KNOWN | LC_FD_APP_SHUT_RD | LC_FD_SENT_AWAY)

#define LC_FD_ALL_FLAGS                                                                       \
    (LC_FD_OWNED | LC_FD_CLOEXEC | LC_FD_EPOLL_UNKNOWN | LC_FD_PRIVATE | LC_FD_RECEIVED |   \
     LC_FD_EXEC_RELEASED | LC_FD_KIND_KNOWN | LC_FD_NOT_TCP | LC_FD_SOCKET_FLAGS | LC_FD_EPOLL_LEFT)
/* Each flag a bit of its own (a sum of distinct bits equals their union),
 * all of them clear of the record handle in the low half. */
_Static_assert(LC_FD_OWNED + LC_FD_CLOEXEC + LC_FD_EPOLL_UNKNOWN + LC_FD_PRIVATE +
                       LC_FD_RECEIVED + LC_FD_EXEC_RELEASED + LC_FD_KIND_KNOWN + LC_FD_NOT_TCP +
                       LC_FD_ABORTIVE + LC_FD_LINGER_KNOWN + LC_FD_APP_SHUT_RD + LC_FD_SENT_AWAY +
                       LC_FD_EPOLL_LEFT ==
                   LC_FD_ALL_FLAGS,
               "two descriptor flags share a bit");
_Static_assert((LC_FD_ALL_FLAGS & UINT64_C(0xffffffff)) == 0,
               "descriptor flags must stay clear of the record handle");

#define LC_FD_EPOLL_SLOTS 2

static inline uint32_t lc_fd_record(uint64_t state)
{
    return (uint32_t)state;
}

/* An entry as lc_fdtable_take removed it from the table. */
struct lc_fd_entry {
    uint64_t state;
    int epoll_fds[LC_FD_EPOLL_SLOTS]; /* -1: empty */
};

/* Records a socket this process owns from now on (it just created it, or
 * was handed it at start-up), replacing whatever the entry held.
 * Returns false if the table cannot hold fd (the socket then stays
 * untracked and is closed plainly). */
bool lc_fdtable_own(int fd, uint64_t flags);
/* Replaces the entry (0 forgets the descriptor). */
bool lc_fdtable_set(int fd, uint64_t state);
uint64_t lc_fdtable_state(int fd);
/* Flags of this descriptor only. */
void lc_fdtable_add_flags(int fd, uint64_t flags);
void lc_fdtable_clear_flags(int fd, uint64_t flags);
/* Flags of the socket: on the entry and on its record, if it has one. */
void lc_socket_add_flags(int fd, uint64_t flags);
void lc_socket_clear_flags(int fd, uint64_t flags);
/* fd's entry with its record's current socket flags in. */
uint64_t lc_fdtable_socket_state(int fd);
/* The entry's flags with the holder record's socket flags in. */
uint64_t lc_fd_state_with(uint64_t state, uint32_t record_flags);

/* new_fd now refers to the same socket as old_fd (dup, dup2, dup3,
 * F_DUPFD): both get the same record, one more holder. */
void lc_fdtable_duplicate(int old_fd, int new_fd, bool new_cloexec);

/* Whether any descriptor was ever recorded: a process that never made a
 * socket has nothing for fork() to count. */
bool lc_fdtable_ever_used(void);
/* Counts one more holder of every socket in the table (a fork() is about
 * to copy every descriptor). */
void lc_fdtable_hold_all(void);
/* Before exec(): close-on-exec descriptors will not survive it, so their
 * holds are given back; if exec() fails they are taken again, unless the
 * record was freed meanwhile: that socket is then shared for good. */
void lc_fdtable_release_for_exec(void);
void lc_fdtable_exec_failed(void);
/* In a fork child: epoll registrations recorded in the parent are no
 * longer reachable through numbers we can trust. */
void lc_fdtable_forget_epoll_all(void);

/* Takes the entry of a descriptor about to be closed, leaving it empty.
 * Returns false, and leaves the entry, when there is nothing to take or
 * when fd is private (then out->state has LC_FD_PRIVATE). */
bool lc_fdtable_take(int fd, struct lc_fd_entry *out);

void lc_fdtable_epoll_added(int fd, int epfd);
void lc_fdtable_epoll_removed(int fd, int epfd);

/* Calls fn for every descriptor with an entry, in increasing order, up to
 * and including `last`. */
void lc_fdtable_for_each(unsigned first, unsigned last, void (*fn)(int fd, uint64_t state, void *ctx),
                         void *ctx);

#endif
