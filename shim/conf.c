#include "config.h"

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "conf.h"

struct lc_conf lc_conf = {
    .mode = LC_MODE_AUTO,
    .idle_timeout_ms = LC_DEFAULT_IDLE_TIMEOUT_MS,
    .total_timeout_ms = LC_DEFAULT_TOTAL_TIMEOUT_MS,
    .exit_timeout_ms = LC_DEFAULT_EXIT_TIMEOUT_MS,
    .max_bytes = 0,
    .max_queued = LC_DEFAULT_MAX_QUEUED,
    .max_sockets = 256,
    .log_level = LC_LOG_WARN,
    .stats_interval_ms = LC_DEFAULT_STATS_INTERVAL_MS,
};

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

struct unit {
    const char *suffix;
    uint64_t factor;
};

/* Splits "<digits><suffix>" and scales by the suffix's factor, refusing
 * anything strtonum would silently accept but we do not want: signs,
 * leading blanks, an empty number, an unknown suffix, overflow. */
static bool parse_scaled(const char *text, const struct unit *units, uint64_t min, uint64_t max,
                         uint64_t *out)
{
    if (!text)
        return false;
    size_t ndigits = strspn(text, "0123456789");
    char digits[24];
    if (ndigits == 0 || ndigits >= sizeof digits)
        return false;
    strlcpy(digits, text, ndigits + 1);

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
    const char *error = NULL;
    long long number = strtonum(digits, 0, (long long)limit, &error);
    if (error)
        return false;
    uint64_t value = (uint64_t)number * unit->factor;
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
    if (strlcpy(out, text, size) >= size)
        return false;
    return true;
}

static bool parse_port(const char *text, size_t len, uint16_t *out)
{
    char digits[8];
    if (len == 0 || len >= sizeof digits || strspn(text, "0123456789") < len)
        return false;
    strlcpy(digits, text, len + 1);
    const char *error = NULL;
    long long port = strtonum(digits, 1, 65535, &error);
    if (error)
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

bool lc_port_filter_active(const struct lc_conf *conf)
{
    return conf->ports.count || conf->exclude_ports.count;
}

bool lc_port_may_linger(const struct lc_conf *conf, uint16_t port)
{
    if (conf->ports.count && !lc_port_set_contains(&conf->ports, port))
        return false;
    return !lc_port_set_contains(&conf->exclude_ports, port);
}

uint32_t lc_default_max_sockets(uint64_t nofile_soft_limit)
{
    uint64_t quarter = nofile_soft_limit / 4;
    if (quarter < LC_DEFAULT_MAX_SOCKETS_FLOOR)
        return LC_DEFAULT_MAX_SOCKETS_FLOOR;
    if (quarter > LC_DEFAULT_MAX_SOCKETS_CEILING)
        return LC_DEFAULT_MAX_SOCKETS_CEILING;
    return (uint32_t)quarter;
}

void lc_conf_defaults(struct lc_conf *conf, uint64_t nofile_soft_limit)
{
    *conf = (struct lc_conf){
        .mode = LC_MODE_AUTO,
        .idle_timeout_ms = LC_DEFAULT_IDLE_TIMEOUT_MS,
        .total_timeout_ms = LC_DEFAULT_TOTAL_TIMEOUT_MS,
        .exit_timeout_ms = LC_DEFAULT_EXIT_TIMEOUT_MS,
        .max_bytes = 0,
        .max_queued = LC_DEFAULT_MAX_QUEUED,
        .max_sockets = lc_default_max_sockets(nofile_soft_limit),
        .log_level = LC_LOG_WARN,
        .log_target = LC_LOG_TARGET_STDERR,
        .stats_interval_ms = LC_DEFAULT_STATS_INTERVAL_MS,
    };
}

#define SHOWN_VALUE_MAX 64

/* The value as the complaint shows it: short enough that the line always
 * ends with the default used, on one line and in plain ASCII whatever it
 * contains (the journal stores a line with invalid UTF-8 as a blob). */
static void printable_value(char *out, size_t size, const char *value)
{
    size_t len = strlcpy(out, value, size);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    if (len >= size)
        strlcpy(out + size - 4, "...", 4);
}

static void complain_about(lc_complain_fn complain, const char *name, const char *value,
                           const char *accepted, const char *default_text)
{
    char shown[SHOWN_VALUE_MAX + 1];
    printable_value(shown, sizeof shown, value);
    char line[400];
    lc_formatf(line, sizeof line, "%s='%s' is not valid (accepted: %s); using the default %s",
               name, shown, accepted, default_text);
    complain(line);
}

static void format_ms(char *buf, size_t size, uint32_t ms)
{
    if (ms % 1000 == 0)
        lc_formatf(buf, size, "%us", ms / 1000);
    else
        lc_formatf(buf, size, "%ums", ms);
}

static void load_duration(const char *name, uint32_t min_ms, uint32_t max_ms,
                          const char *accepted, uint32_t *target, lc_getenv_fn getenv_fn,
                          lc_complain_fn complain)
{
    const char *text = getenv_fn(name);
    if (!text || lc_parse_duration_ms(text, min_ms, max_ms, target))
        return;
    char def[32];
    format_ms(def, sizeof def, *target);
    complain_about(complain, name, text, accepted, def);
}

void lc_conf_load(struct lc_conf *conf, uint64_t nofile_soft_limit, lc_getenv_fn getenv_fn,
                  lc_complain_fn complain)
{
    lc_conf_defaults(conf, nofile_soft_limit);
    const char *text;

    text = getenv_fn("LINGERCLOSE_LOG");
    if (text && !lc_parse_log_level(text, &conf->log_level))
        complain_about(complain, "LINGERCLOSE_LOG", text, LC_ACCEPTED_LOG_LEVEL, "warn");

    text = getenv_fn("LINGERCLOSE_MODE");
    if (text && !lc_parse_mode(text, &conf->mode))
        complain_about(complain, "LINGERCLOSE_MODE", text, LC_ACCEPTED_MODE, "auto");

    load_duration("LINGERCLOSE_IDLE_TIMEOUT", LC_MIN_TIMEOUT_MS, LC_MAX_TIMEOUT_MS,
                  LC_ACCEPTED_DURATION, &conf->idle_timeout_ms, getenv_fn, complain);
    load_duration("LINGERCLOSE_TIMEOUT", LC_MIN_TIMEOUT_MS, LC_MAX_TIMEOUT_MS,
                  LC_ACCEPTED_DURATION, &conf->total_timeout_ms, getenv_fn, complain);
    load_duration("LINGERCLOSE_EXIT_TIMEOUT", 0, LC_MAX_EXIT_TIMEOUT_MS,
                  LC_ACCEPTED_EXIT_DURATION, &conf->exit_timeout_ms, getenv_fn, complain);

    text = getenv_fn("LINGERCLOSE_MAX_BYTES");
    if (text && !lc_parse_size(text, LC_MAX_MAX_BYTES, &conf->max_bytes))
        complain_about(complain, "LINGERCLOSE_MAX_BYTES", text, LC_ACCEPTED_SIZE, "unlimited");

    text = getenv_fn("LINGERCLOSE_MAX_QUEUED");
    if (text && !lc_parse_size(text, LC_MAX_MAX_BYTES, &conf->max_queued))
        complain_about(complain, "LINGERCLOSE_MAX_QUEUED", text, LC_ACCEPTED_SIZE,
                       LC_DEFAULT_MAX_QUEUED_TEXT);

    text = getenv_fn("LINGERCLOSE_MAX_SOCKETS");
    if (text && !lc_parse_count(text, LC_MIN_MAX_SOCKETS, LC_MAX_MAX_SOCKETS, &conf->max_sockets)) {
        char def[24];
        lc_formatf(def, sizeof def, "%u", conf->max_sockets);
        complain_about(complain, "LINGERCLOSE_MAX_SOCKETS", text, LC_ACCEPTED_COUNT, def);
    }

    text = getenv_fn("LINGERCLOSE_LOG_TARGET");
    if (text && !lc_parse_log_target(text, &conf->log_target))
        complain_about(complain, "LINGERCLOSE_LOG_TARGET", text, LC_ACCEPTED_LOG_TARGET, "stderr");

    text = getenv_fn("LINGERCLOSE_PORTS");
    if (text && !lc_parse_port_list(text, &conf->ports))
        complain_about(complain, "LINGERCLOSE_PORTS", text, LC_ACCEPTED_PORTS, "(every port)");
    text = getenv_fn("LINGERCLOSE_EXCLUDE_PORTS");
    if (text && !lc_parse_port_list(text, &conf->exclude_ports))
        complain_about(complain, "LINGERCLOSE_EXCLUDE_PORTS", text, LC_ACCEPTED_PORTS, "(none)");

    text = getenv_fn("LINGERCLOSE_STATS_FILE");
    if (text && !lc_parse_stats_path(text, conf->stats_path, sizeof conf->stats_path))
        complain_about(complain, "LINGERCLOSE_STATS_FILE", text, LC_ACCEPTED_STATS_FILE,
                       "(no statistics file)");
    text = getenv_fn("LINGERCLOSE_STATS_INTERVAL");
    if (text && !lc_parse_stats_interval(text, &conf->stats_interval_ms))
        complain_about(complain, "LINGERCLOSE_STATS_INTERVAL", text, LC_ACCEPTED_STATS_INTERVAL,
                       "10s");
}

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
        strlcpy(held_complaints[held_complaint_count++], line, sizeof held_complaints[0]);
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
