/* SPDX-License-Identifier: MIT */
/* Whether the account a server will run as (it drops privileges, or a
 * unit's User= says so) can write the library's statistics directory:
 * the launcher runs as root, who always can. */
#ifndef LINGERCLOSE_ACCOUNT_CHECK_H
#define LINGERCLOSE_ACCOUNT_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* Whether user names an account (a name, or a number as systemd's User=
 * allows). */
bool account_exists(const char *user);

/* Whether the account named user can reach dir (search every directory on
 * the way) and write in it, by the permission bits (access control lists
 * are not looked at). If not, one line saying why goes into why. */
bool account_can_write_directory(const char *user, const char *dir, char *why, size_t size);

#endif
