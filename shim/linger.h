/* The close decision and the hand-off to the drain, shared by every way a
 * descriptor of the program ends: close, fclose, the target of dup2/dup3,
 * close_range, closefrom, and process exit. */
#ifndef LINGERCLOSE_LINGER_H
#define LINGERCLOSE_LINGER_H

#include <stdbool.h>

#include "decide.h"
#include "fdtable.h"

/* Decides for a descriptor whose entry was just taken: drops its hold on
 * the socket and returns the reason, with the kernel's view in *state. */
enum lc_reason lc_close_decide(const struct lc_fd_snapshot *entry, int fd, struct lc_sockstate *state);

/* Call just before the program's descriptor fd goes by way of `how` (a
 * name for the log). If the socket is to linger, the drain takes it over
 * and its FIN is sent; either way the caller then closes fd exactly as the
 * program asked. Returns false if fd is one of the library's own: to the
 * program that number is not open. */
bool lc_close_begin(int fd, const char *how);

/* close() with the decision: what the interposed close() runs. */
int lc_close(int fd);

#endif
