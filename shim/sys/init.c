/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "conf/conf.h"
#include "drain/drain.h"
#include "drain/exit.h"
#include "drain/handoff.h"
#include "drain/park.h"
#include "holders/adopt.h"
#include "holders/fdtable.h"
#include "holders/holders.h"
#include "log/log.h"
#include "log/stats.h"
#include "log/stats_file.h"
#include "sys/export.h"
#include "sys/raw.h"
#include "sys/real.h"

__attribute__((used)) static const char version_marker[] = LC_VERSION_MARKER PACKAGE_VERSION;

_Atomic bool lc_initialised;
_Atomic int lc_memory_sharing_children;
static _Atomic pid_t owner_pid;

/* A system call, not a cached value: a clone(CLONE_VM) child shares the
 * memory any cache would live in. */
bool lc_in_owner_process(void)
{
    return lc_raw_getpid() == atomic_load_explicit(&owner_pid, memory_order_relaxed);
}

/* fork() copies every descriptor: each socket gets one more holder, in
 * counts that parent and child share from now on. */
static void atfork_prepare(void)
{
    lc_drain_atfork_prepare();
    if (lc_ready() && lc_fdtable_ever_used() && lc_holders_ensure())
        lc_fdtable_hold_all();
}

static void atfork_parent(void)
{
    lc_drain_atfork_parent();
}

static void atfork_child(void)
{
    atomic_store(&owner_pid, lc_raw_getpid());
    if (atomic_load(&lc_memory_sharing_children))
        atomic_store(&lc_memory_sharing_children, 0);
    lc_park_forget_in_child();
    lc_drain_atfork_child();
    lc_stats_reset();
    lc_stats_file_atfork_child();
    if (lc_ready())
        lc_fdtable_forget_epoll_all();
}

__attribute__((constructor)) static void lingerclose_init(void)
{
    lc_real_resolve();
    atomic_store(&owner_pid, lc_raw_getpid());
    lc_conf_init();
    /* Once per program: a forked child runs no constructor, while a
     * program exec'd with the library loads it anew, and its own line is
     * what shows that the preload reached it (a wrapper that execs the
     * server logs one line for itself and one for the server). */
    lc_log(LC_LOG_INFO,
           "%s %s loaded in %s: mode=%s idle-timeout=%ums timeout=%ums exit-timeout=%ums "
           "peer-fin-wait=%ums max-bytes=%llu max-queued=%llu max-sockets=%u stats-file=%s",
           PACKAGE_NAME, PACKAGE_VERSION, program_invocation_short_name,
           lc_mode_name(lc_conf.mode), lc_conf.idle_timeout_ms, lc_conf.total_timeout_ms,
           lc_conf.exit_timeout_ms, lc_conf.peer_fin_wait_ms, (unsigned long long)lc_conf.max_bytes,
           (unsigned long long)lc_conf.max_queued, lc_conf.max_sockets,
           lc_conf.stats_path[0] ? lc_conf.stats_path : "none");
    /* Off means off: every hook stays a plain pass-through. */
    if (lc_conf.mode == LC_MODE_OFF)
        return;
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    atomic_store_explicit(&lc_initialised, true, memory_order_release);
    lc_stats_file_init(lc_drain_in_flight);
    int adopted = lc_adopt_handed_over();
    if (adopted) {
        lc_log(LC_LOG_DEBUG, "%d connection(s) handed over on start-up", adopted);
        lc_drain_start();
    }
}

__attribute__((destructor)) static void lingerclose_fini(void)
{
    if (lc_ready() && lc_conf.exit_timeout_ms) {
        /* exit() flushes stdio only after the destructors, and an inetd
         * service's response may still sit in stdout's buffer: it must
         * leave before the FIN. Only if the stream's lock is free: another
         * thread stuck holding it must not hang the exit (glibc's own flush
         * at exit takes no lock either). */
        if (ftrylockfile(stdout) == 0) {
            fflush_unlocked(stdout);
            funlockfile(stdout);
        }
        lc_exit_linger("exit");
    }
    if (lc_ready())
        lc_stats_file_at_exit();
    if (!lc_log_enabled(LC_LOG_INFO) || !atomic_load(&lc_stats.closes_seen))
        return;
    char line[400];
    lc_stats_format(line, sizeof line);
    lc_log(LC_LOG_INFO, "summary: %s", line);
}
