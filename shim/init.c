#include "config.h"

#include <pthread.h>

#include "conf.h"
#include "drain.h"
#include "export.h"
#include "fdtable.h"
#include "log.h"
#include "real.h"
#include "stats.h"

_Atomic bool lc_initialised;

static void atfork_parent(void)
{
    lc_fdtable_new_epoch();
    lc_drain_atfork_parent();
}

static void atfork_child(void)
{
    lc_fdtable_new_epoch();
    lc_drain_atfork_child();
}

__attribute__((constructor)) static void lingerclose_init(void)
{
    lc_real_resolve();
    lc_conf_init();
    pthread_atfork(lc_drain_atfork_prepare, atfork_parent, atfork_child);
    atomic_store_explicit(&lc_initialised, true, memory_order_release);
    lc_log(LC_LOG_DEBUG,
           "%s %s loaded: mode=%s idle-timeout=%ums timeout=%ums max-bytes=%llu "
           "max-sockets=%u",
           PACKAGE_NAME, PACKAGE_VERSION, lc_mode_name(lc_conf.mode), lc_conf.idle_timeout_ms,
           lc_conf.total_timeout_ms, (unsigned long long)lc_conf.max_bytes, lc_conf.max_sockets);
}

__attribute__((destructor)) static void lingerclose_fini(void)
{
    if (!lc_log_enabled(LC_LOG_INFO) || !atomic_load(&lc_stats.closes_seen))
        return;
    char line[400];
    lc_stats_format(line, sizeof line);
    lc_log(LC_LOG_INFO, "summary: %s", line);
}
