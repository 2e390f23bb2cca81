/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <unistd.h>

#include "decide/linger.h"
#include "sys/export.h"
#include "sys/real.h"

/* Async-signal-safe: no lock, no allocation, only system calls and atomics. */
LC_EXPORT int close(int fd)
{
    if (!lc_ready())
        return lc_real_close(fd);
    return lc_close(fd);
}
LC_HOOK_ALIAS(close);
