/* SPDX-License-Identifier: MIT */
/* A preload library that does nothing: what loading any preload costs
 * (the dynamic loader opens, maps and relocates it), the yardstick that
 * bench/process-cost.c measures liblingerclose against. */
void lc_bench_noop_preload(void);

void lc_bench_noop_preload(void)
{
}
