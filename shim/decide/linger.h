/* SPDX-License-Identifier: MIT */
/* The close decision and the start of a lingering close, shared by every
 * way a descriptor of the program ends: close, fclose, the target of
 * dup2/dup3, close_range, closefrom, and process exit. */
#ifndef LINGERCLOSE_LINGER_H
#define LINGERCLOSE_LINGER_H

#include <stdbool.h>

#include "decide/decide.h"
#include "holders/fdtable.h"

/* Decides for a descriptor whose entry was just taken: drops its hold on
 * the socket and returns the reason, with the kernel's view in *state. */
enum lc_reason lc_close_decide(const struct lc_fd_entry *entry, int fd,
                               struct lc_socket_state *state);

/* Where a socket that lingers goes once its FIN is sent: the drain thread
 * (or the park) for a close, the exit path's own set when the process
 * ends. Only the drain thread can hold the FIN back for the peer's
 * (LINGERCLOSE_PEER_FIN_WAIT): the park and the exit path send it at once,
 * a parked socket because it may wait for a drain thread for long, the
 * exit path because the process is ending. */
struct lc_keeper {
    /* Before the FIN: a place for fd. False, with *plain_reason, if there
     * is none. */
    bool (*reserve)(void *ctx, int fd, const struct lc_fd_entry *entry,
                    enum lc_reason *plain_reason);
    /* The FIN could not be sent: the place goes back. */
    void (*unreserve)(void *ctx);
    /* Whether it would hold the FIN back for the peer's: asked after
     * reserve; NULL: never. */
    bool (*defers_fin)(void *ctx);
    /* After the FIN, or instead of it with fin_deferred: takes fd over.
     * False if it cannot, giving back its place: the close is plain after
     * all. */
    bool (*keep)(void *ctx, int fd, bool input_unread, bool fin_deferred);
    void *ctx;
    /* What is ending, for the log ("exit"); NULL for a descriptor's own
     * close. */
    const char *ending;
};

/* Call just before the program's descriptor fd goes by way of `how` (a
 * name for the log): takes its entry, decides, and if the socket is to
 * linger sends its FIN and gives it to keeper; counts and logs the
 * outcome. Either way the caller then closes fd exactly as the program
 * asked. Returns false if fd is one of the library's own: to the program
 * that number is not open. Async-signal-safe. */
bool lc_close_prepare(int fd, const char *how, const struct lc_keeper *keeper);

/* lc_close_prepare with the drain thread as keeper. */
bool lc_close_begin(int fd, const char *how);

/* close() with the decision: what the interposed close() runs. */
int lc_close(int fd);

#endif
