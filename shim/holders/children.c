/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>

#include "holders/children.h"

/* Starts are counted before (begun) and after (done) the real call; the
 * uncounted children are known gone up to `gone_upto` starts. */
static _Atomic uint64_t starts_begun, starts_done, gone_upto;

void lc_children_uncounted_start_begin(void)
{
    atomic_fetch_add(&starts_begun, 1);
}

void lc_children_uncounted_start_end(void)
{
    atomic_fetch_add(&starts_done, 1);
}

/* waitid(WNOWAIT) only looks. While any child exists, an uncounted one may
 * be among them: telling them apart would take /proc. ECHILD, no child at
 * all, with no start under way when the look began, means every uncounted
 * child started so far is gone, and the next closes need not look again
 * until another one starts. */
bool lc_children_uncounted_may_hold(void)
{
    uint64_t begun = atomic_load(&starts_begun);
    if (begun == atomic_load(&gone_upto))
        return false;
    uint64_t done = atomic_load(&starts_done);
    int saved_errno = errno;
    siginfo_t info;
    info.si_pid = 0;
    int rc = waitid(P_ALL, 0, &info, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT);
    bool no_child = rc != 0 && errno == ECHILD;
    errno = saved_errno;
    if (!no_child)
        return true;
    if (done == begun) {
        uint64_t seen = atomic_load(&gone_upto);
        while (seen < done && !atomic_compare_exchange_weak(&gone_upto, &seen, done))
            ;
    }
    return false;
}
