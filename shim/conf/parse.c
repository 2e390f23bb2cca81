/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "conf/parse.h"

static const char *const mode_names[] = {
    [LC_MODE_AUTO] = "auto",
    [LC_MODE_ALWAYS] = "always",
    [LC_MODE_OFF] = "off",
};

static const char *const log_level_names[] = {
    [LC_LOG_ERROR] = "error",
    [LC_LOG_WARN] = "warn",
    [LC_LOG_INFO] = "info",
    [LC_LOG_DEBUG] = "debug",
};

static const char *const log_target_names[] = {
    [LC_LOG_TARGET_STDERR] = "stderr",
    [LC_LOG_TARGET_SYSLOG] = "syslog",
};

const char *lc_log_target_name(enum lc_log_target target)
{
    return log_target_names[target];
}

const char *lc_mode_name(enum lc_mode mode)
{
    return mode_names[mode];
}

const char *lc_log_level_name(enum lc_log_level level)
{
    return log_level_names[level];
}

static bool parse_keyword(const char *text, const char *const *names, size_t count, int *out)
{
    if (!text)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *out = (int)i;
            return true;
        }
    }
    return false;
}

bool lc_parse_mode(const char *text, enum lc_mode *out)
{
    int v;
    if (!parse_keyword(text, mode_names, sizeof mode_names / sizeof *mode_names, &v))
        return false;
    *out = (enum lc_mode)v;
    return true;
}

bool lc_parse_log_level(const char *text, enum lc_log_level *out)
{
    int v;
    if (!parse_keyword(text, log_level_names, sizeof log_level_names / sizeof *log_level_names,
                       &v))
        return false;
    *out = (enum lc_log_level)v;
    return true;
}

bool lc_parse_log_target(const char *text, enum lc_log_target *out)
{
    int v;
    if (!parse_keyword(text, log_target_names, sizeof log_target_names / sizeof *log_target_names,
                       &v))
        return false;
    *out = (enum lc_log_target)v;
    return true;
}

size_t lc_copy_string(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size > 0) {
        size_t copied = len < size - 1 ? len : size - 1;
        memcpy(dst, src, copied);
        dst[copied] = '\0';
    }
    return len;
}

/* The value of the len decimal digits at text, if it is at most max. */
static bool digits_value(const char *text, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned digit = (unsigned)(text[i] - '0');
        if (digit > 9 || value > (max - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *out = value;
    return true;
}

struct unit {
    const char *suffix;
    uint64_t factor;
};

/* Splits "<digits><suffix>" and scales by the suffix's factor, refusing
 * what strtoull would silently accept but we do not want: signs, leading
 * blanks, an empty number, an unknown suffix, overflow. */
static bool parse_scaled(const char *text, const struct unit *units, uint64_t min, uint64_t max,
                         uint64_t *out)
{
    if (!text)
        return false;
    size_t ndigits = strspn(text, "0123456789");
    if (ndigits == 0 || ndigits >= 24)
        return false;

    const char *suffix = text + ndigits;
    const struct unit *unit = NULL;
    for (const struct unit *u = units; u->suffix; u++) {
        if (strcasecmp(suffix, u->suffix) == 0) {
            unit = u;
            break;
        }
    }
    if (!unit)
        return false;

    uint64_t limit = max / unit->factor;
    if (limit > LLONG_MAX)
        limit = LLONG_MAX;
    uint64_t number;
    if (!digits_value(text, ndigits, limit, &number))
        return false;
    uint64_t value = number * unit->factor;
    if (value < min || value > max)
        return false;
    *out = value;
    return true;
}

static const struct unit duration_units[] = {
    { "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 }, { "h", 3600000 }, { NULL, 0 },
};

static const struct unit size_units[] = {
    { "", 1 },
    { "k", UINT64_C(1) << 10 },
    { "m", UINT64_C(1) << 20 },
    { "g", UINT64_C(1) << 30 },
    { NULL, 0 },
};

static const struct unit count_units[] = { { "", 1 }, { NULL, 0 } };

bool lc_parse_duration_ms(const char *text, uint32_t min_ms, uint32_t max_ms, uint32_t *out)
{
    uint64_t v;
    if (!parse_scaled(text, duration_units, min_ms, max_ms, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

bool lc_parse_size(const char *text, uint64_t max, uint64_t *out)
{
    if (text && strcasecmp(text, "unlimited") == 0) {
        *out = 0;
        return true;
    }
    return parse_scaled(text, size_units, 0, max, out);
}

bool lc_parse_count(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!parse_scaled(text, count_units, min, max, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

bool lc_parse_stats_interval(const char *text, uint32_t *out)
{
    if (text && strcmp(text, "0") == 0) {
        *out = 0;
        return true;
    }
    return lc_parse_duration_ms(text, LC_MIN_STATS_INTERVAL_MS, LC_MAX_STATS_INTERVAL_MS, out);
}

bool lc_parse_stats_path(const char *text, char *out, size_t size)
{
    if (!text)
        return false;
    if (*text && (text[0] != '/' || strlen(text) >= LC_STATS_PATH_MAX))
        return false;
    if (lc_copy_string(out, text, size) >= size)
        return false;
    return true;
}

static bool parse_port(const char *text, size_t len, uint16_t *out)
{
    uint64_t port;
    if (len == 0 || len >= 8 || strspn(text, "0123456789") < len ||
        !digits_value(text, len, 65535, &port) || port < 1)
        return false;
    *out = (uint16_t)port;
    return true;
}

/* Items are "PORT" or "FIRST-LAST", separated by commas; blanks around an
 * item are allowed, as unit files and shell quoting tend to leave them. */
bool lc_parse_port_list(const char *text, struct lc_port_set *out)
{
    if (!text)
        return false;
    struct lc_port_set set = { .count = 0 };
    const char *p = text + strspn(text, " \t");
    if (*p == '\0') {
        *out = set;
        return true;
    }
    for (;;) {
        p += strspn(p, " \t");
        size_t item = strcspn(p, ",");
        size_t len = item;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (set.count == LC_MAX_PORT_RANGES)
            return false;
        const char *dash = memchr(p, '-', len);
        uint16_t first, last;
        if (dash) {
            if (!parse_port(p, (size_t)(dash - p), &first) ||
                !parse_port(dash + 1, len - (size_t)(dash - p) - 1, &last) || first > last)
                return false;
        } else {
            if (!parse_port(p, len, &first))
                return false;
            last = first;
        }
        set.ranges[set.count].first = first;
        set.ranges[set.count].last = last;
        set.count++;
        if (p[item] == '\0')
            break;
        p += item + 1;
    }
    *out = set;
    return true;
}

bool lc_port_set_contains(const struct lc_port_set *set, uint16_t port)
{
    for (uint32_t i = 0; i < set->count; i++)
        if (port >= set->ranges[i].first && port <= set->ranges[i].last)
            return true;
    return false;
}
