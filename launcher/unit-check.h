/* SPDX-License-Identifier: MIT */
/* 'lingerclose --check --unit UNIT': whether a systemd unit's sandbox
 * (SystemCallFilter=, RestrictAddressFamilies=, ...) forbids something the
 * library does. */
#ifndef LINGERCLOSE_UNIT_CHECK_H
#define LINGERCLOSE_UNIT_CHECK_H

#include <stdbool.h>

#include "check.h"

/* unit: a unit name (read with 'systemctl cat' when systemd runs, else
 * from the unit directories and their drop-ins) or a path to a unit file
 * (with the drop-ins of PATH.d/). Reports one finding per setting that
 * forbids something the library needs, among them a NoExecPaths= that
 * keeps library (a path, or NULL) from being loaded; returns true when
 * there is none. */
bool check_unit(const char *unit, const char *library, finding_fn report, void *context);

#endif
