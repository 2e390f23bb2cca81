/* SPDX-License-Identifier: MIT */
/* 'lingerclose --stats': a human summary of the statistics files the
 * library writes (LINGERCLOSE_STATS_FILE, Prometheus text format). */
#ifndef LINGERCLOSE_STATS_REPORT_H
#define LINGERCLOSE_STATS_REPORT_H

#include <stdio.h>

/* Prints a summary of each file on out, and a total when there are
 * several; a file that cannot be read or parsed gives one line on err.
 * Returns 0 if every file was summarised, 1 otherwise. */
int stats_report(int count, char *const *paths, FILE *out, FILE *err);

#endif
