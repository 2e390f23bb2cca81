/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "drain/exit.h"
#include "log/stats_file.h"
#include "sys/export.h"
#include "sys/real.h"

/* A process that ends holding a connection (inetd children, fork-per-
 * connection servers) closes it in the kernel, with a reset if input is
 * unread. exit() and a return from main are covered by the library's
 * destructor: it runs after the program's atexit handlers (which may still
 * write to a connection), flushes stdout, then lingers. Interposing exit()
 * itself would linger before those handlers. _exit and _Exit skip
 * destructors, so they are interposed. */
LC_EXPORT void _exit(int status)
{
    lc_exit_linger("_exit");
    if (lc_ready())
        lc_stats_file_at_exit();
    lc_real_exit_now(status);
}

LC_EXPORT void _Exit(int status)
{
    lc_exit_linger("_Exit");
    if (lc_ready())
        lc_stats_file_at_exit();
    lc_real_exit_now(status);
}
