/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdlib.h>

#include "log/log.h"
#include "sys/invariant.h"

void lc_assertion_failed(const char *condition, const char *file, int line)
{
    lc_log_always(LC_LOG_ERROR, "invariant broken at %s:%d: %s", file, line, condition);
    abort();
}
