/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account-check.h"

#define GROUPS_MAX 256

/* The kernel's rule for plain permission bits: the owner's, else the
 * group's if the account is in the group, else the others'. */
static bool account_may(const struct stat *st, uid_t uid, const gid_t *groups, int group_count,
                        bool need_write)
{
    if (uid == 0)
        return true;
    bool in_group = false;
    for (int i = 0; i < group_count; i++)
        in_group |= groups[i] == st->st_gid;
    mode_t bits = st->st_uid == uid ? (st->st_mode >> 6) & 7
                  : in_group        ? (st->st_mode >> 3) & 7
                                    : st->st_mode & 7;
    return (bits & 1) && (!need_write || (bits & 2));
}

static struct passwd *find_account(const char *user)
{
    if (*user && user[strspn(user, "0123456789")] == '\0' && strlen(user) < 10)
        return getpwuid((uid_t)strtoul(user, NULL, 10));
    return getpwnam(user);
}

bool account_exists(const char *user)
{
    return find_account(user) != NULL;
}

bool account_can_write_directory(const char *user, const char *dir, char *why, size_t size)
{
    errno = 0;
    struct passwd *pw = find_account(user);
    if (!pw) {
        snprintf(why, size, "no account named '%s'%s%s", user, errno ? ": " : "",
                 errno ? strerror(errno) : "");
        return false;
    }
    /* Copied: getpwnam's result lives in storage the next look-up reuses. */
    char name[256];
    snprintf(name, sizeof name, "%s", pw->pw_name);
    uid_t uid = pw->pw_uid;
    gid_t groups[GROUPS_MAX];
    int group_count = GROUPS_MAX;
    if (getgrouplist(name, pw->pw_gid, groups, &group_count) < 0)
        group_count = GROUPS_MAX;
    char prefix[PATH_MAX];
    for (const char *slash = dir;; slash = strchr(slash + 1, '/')) {
        bool last = !slash;
        size_t len = last ? strlen(dir) : (size_t)(slash - dir);
        snprintf(prefix, sizeof prefix, "%.*s", len ? (int)len : 1, dir);
        struct stat st;
        if (stat(prefix, &st) != 0) {
            snprintf(why, size, "%s: %s", prefix, strerror(errno));
            return false;
        }
        if (!account_may(&st, uid, groups, group_count, last)) {
            snprintf(why, size,
                     "the account %s (uid %u) cannot %s %s: Permission denied (owner uid %u, "
                     "group %u, mode %03o)",
                     name, (unsigned)uid, last ? "write in" : "search", prefix,
                     (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
            return false;
        }
        if (last)
            return true;
    }
}
