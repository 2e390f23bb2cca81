/* SPDX-License-Identifier: MIT */
/* The one clock of the library's deadlines and ages: CLOCK_MONOTONIC, so
 * that a change of the wall clock neither ends drains early nor keeps them
 * forever. Async-signal-safe (a vDSO call or a system call). */
#ifndef LINGERCLOSE_CLOCK_H
#define LINGERCLOSE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t lc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
