/* SPDX-License-Identifier: MIT */
/* 'lingerclose --status': whether the library runs in given processes,
 * read from /proc: mapped, its drain thread, version, settings and the
 * summary of its statistics file. */
#ifndef LINGERCLOSE_STATUS_H
#define LINGERCLOSE_STATUS_H

#include <stdio.h>

/* Reports on each process id on out. Returns 0 if the library is loaded
 * and on in every one, 1 otherwise. */
int status_report(int count, char *const *pids, FILE *out);

#endif
