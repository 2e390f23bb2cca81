/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <unistd.h>

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

/* Beyond this many entries the environment is not looked through, and
 * beyond this many unknown names no more are compared: it is untrusted,
 * and start-up must stay quick whatever it holds. */
#define ENVIRONMENT_ENTRIES_MAX 4096
#define UNKNOWN_VARIABLES_MAX 8

/* A misspelt setting would be ignored in silence. Not for a secure
 * program, whose environment the library ignores altogether. */
static void complain_about_unknown_variables(void)
{
    if (getauxval(AT_SECURE) || !environ)
        return;
    int unknown = 0;
    for (size_t i = 0; environ[i] && i < ENVIRONMENT_ENTRIES_MAX && unknown < UNKNOWN_VARIABLES_MAX;
         i++) {
        const char *suggestion = lc_unknown_variable_suggestion(environ[i]);
        if (!suggestion)
            continue;
        unknown++;
        char name[LC_VARIABLE_NAME_MAX + 4], line[sizeof held_complaints[0]];
        lc_variable_name_shown(environ[i], name, sizeof name);
        lc_formatf(line, sizeof line, "%s is not a variable of lingerclose and is ignored; did you mean %s?",
                   name, suggestion);
        hold_complaint(line);
    }
}

void lc_conf_init(void)
{
    struct rlimit nofile;
    uint64_t soft = 1024;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
        soft = nofile.rlim_cur;

    lc_conf_load(&lc_conf, soft, secure_env, hold_complaint);
    complain_about_unknown_variables();
    lc_log_set_level(lc_conf.log_level);
    lc_log_configure(lc_conf.log_target, secure_getenv("JOURNAL_STREAM"));
    for (int i = 0; i < held_complaint_count; i++)
        lc_log_always(LC_LOG_WARN, "%s", held_complaints[i]);
}
