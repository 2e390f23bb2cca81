/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <string.h>

#include "conf/conf.h"

#define DEFAULT_TEXT_MAX 64

/* The text a setting's default is parsed from: a computed one as the number
 * it comes to for this open-file limit. */
static const char *default_value(const struct lc_setting *s, uint64_t nofile_soft_limit,
                                 char *buf, size_t size)
{
    if (s->default_value)
        return s->default_value;
    lc_formatf(buf, size, "%u", lc_default_max_sockets(nofile_soft_limit));
    return buf;
}

/* Every default goes through its setting's own parser, as a value from
 * the environment would. */
void lc_conf_defaults(struct lc_conf *conf, uint64_t nofile_soft_limit)
{
    memset(conf, 0, sizeof *conf);
    for (const struct lc_setting *s = lc_settings; s < lc_settings + LC_SETTING_COUNT; s++) {
        char computed[DEFAULT_TEXT_MAX];
        s->parse(default_value(s, nofile_soft_limit, computed, sizeof computed),
                 (char *)conf + s->field);
    }
}

#define SHOWN_VALUE_MAX 64

/* The value as the complaint shows it: short enough that the line always
 * ends with the default used, on one line and in plain ASCII whatever it
 * contains (the journal stores a line with invalid UTF-8 as a blob). */
static void printable_value(char *out, size_t size, const char *value)
{
    size_t len = lc_copy_string(out, value, size);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    if (len >= size)
        lc_copy_string(out + size - 4, "...", 4);
}

void lc_conf_load(struct lc_conf *conf, uint64_t nofile_soft_limit, lc_getenv_fn getenv_fn,
                  lc_complain_fn complain)
{
    lc_conf_defaults(conf, nofile_soft_limit);
    for (const struct lc_setting *s = lc_settings; s < lc_settings + LC_SETTING_COUNT; s++) {
        const char *text = getenv_fn(s->variable);
        if (!text || s->parse(text, (char *)conf + s->field))
            continue;
        char shown[SHOWN_VALUE_MAX + 1], computed[DEFAULT_TEXT_MAX], meaning[DEFAULT_TEXT_MAX];
        printable_value(shown, sizeof shown, text);
        /* The default in force, or in words when it is empty. */
        const char *used = default_value(s, nofile_soft_limit, computed, sizeof computed);
        if (!used[0]) {
            lc_formatf(meaning, sizeof meaning, "(%s)", s->default_meaning);
            used = meaning;
        }
        char line[400];
        lc_formatf(line, sizeof line, "%s='%s' is not valid (accepted: %s); using the default %s",
                   s->variable, shown, s->accepted, used);
        complain(line);
    }
}
