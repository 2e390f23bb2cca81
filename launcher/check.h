/* SPDX-License-Identifier: MIT */
/* Whether LD_PRELOAD can bring the library into a command, and if not,
 * why: for 'lingerclose --check' and for the launcher's warnings. */
#ifndef LINGERCLOSE_CHECK_H
#define LINGERCLOSE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

enum finding_kind {
    FINDING_FACT,    /* how the command will be run */
    FINDING_PROBLEM, /* a reason the preload will not work */
};

/* text names its subject ("/bin/foo is statically linked: ..."). */
typedef void (*finding_fn)(enum finding_kind kind, const char *text, void *context);

/* The file execvp() would run for name, searched the same way; NULL if
 * there is none. */
const char *check_resolve_command(const char *name, char *buf, size_t size);

/* Reports what is known about the program at path (already resolved),
 * following #! scripts to their interpreter. Returns true when no problem
 * was found. */
bool check_program(const char *path, finding_fn report, void *context);

#endif
