/* SPDX-License-Identifier: MIT */
/* Connections a process is handed when it starts: inetd, tcpserver and
 * systemd (Accept=yes) start a server with the connection on stdin and
 * stdout, or as systemd's first passed descriptor, and keep no copy.
 *
 * The programs that server starts in turn (a shell script's /bin/echo,
 * cat, date) find the same connection on 0-2, but their parent still has
 * it: they must leave it alone. So the adopting process names what it
 * adopted in LINGERCLOSE_SHARED ("PID:INODE,...", the process that holds
 * each socket), which its children inherit: a program finds a socket
 * there under another process's id and treats it as shared. The same
 * process exec'ing another program (a wrapper's "exec server") finds its
 * own id and adopts again. */
#ifndef LINGERCLOSE_ADOPT_H
#define LINGERCLOSE_ADOPT_H

#include <stddef.h>

#include "sys/export.h"

#define LC_SHARED_VARIABLE "LINGERCLOSE_SHARED"

/* Records each connected TCP socket on descriptors 0-2 (and on the
 * descriptors systemd passed to this very process) as owned by this
 * process, unless LINGERCLOSE_SHARED names it as another process's;
 * descriptors of the same socket count as its holders. Then publishes
 * what this process holds in its own environment. Returns how many
 * sockets were adopted. Call once, from the constructor. */
int lc_adopt_handed_over(void);

/* "LINGERCLOSE_SHARED=..." as programs this process starts must see it,
 * or NULL if there is nothing to say. */
const char *lc_adopt_marker(void);

/* envp with the marker in place of any LINGERCLOSE_SHARED entry, written
 * into room (room_size pointers, at least lc_adopt_env_room(envp), on the
 * caller's stack: exec is async-signal-safe). envp itself when there is no
 * marker. */
size_t lc_adopt_env_room(char *const envp[]);
char *const *lc_adopt_env_with_marker(char *const envp[], char **room, size_t room_size);

/* Declares `name`: envp as the program started must get it, in a copy on
 * the declaring function's stack. */
#define LC_ENV_WITH_MARKER(envp, name)                                                     \
    const bool name##_ready = lc_ready();                                                  \
    const size_t name##_size = name##_ready ? lc_adopt_env_room(envp) : 1;                 \
    char *name##_room[name##_size];                                                        \
    char *const *name = name##_ready ? lc_adopt_env_with_marker(envp, name##_room, name##_size) \
                                     : (envp)

#endif
