/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "conf/conf.h"

struct lc_conf lc_conf;

static const char *secure_env(const char *name)
{
    return secure_getenv(name);
}

/* Complaints wait until the log target is known: a service logging to
 * syslog must find them there. */
#define HELD_COMPLAINTS_MAX 16
static char held_complaints[HELD_COMPLAINTS_MAX][400];
static int held_complaint_count;

static void hold_complaint(const char *line)
{
    if (held_complaint_count < HELD_COMPLAINTS_MAX)
        lc_copy_string(held_complaints[held_complaint_count++], line, sizeof held_complaints[0]);
}

void lc_conf_init(void)
{
    struct rlimit nofile;
    uint64_t soft = 1024;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
        soft = nofile.rlim_cur;

    lc_conf_load(&lc_conf, soft, secure_env, hold_complaint);
    lc_log_set_level(lc_conf.log_level);
    lc_log_configure(lc_conf.log_target, secure_getenv("JOURNAL_STREAM"));
    for (int i = 0; i < held_complaint_count; i++)
        lc_log_always(LC_LOG_WARN, "%s", held_complaints[i]);
}
