/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "holders/adopt.h"

#define DURATION_SYNTAX "a number with an optional ms, s, m or h suffix; a bare number is seconds"
#define ACCEPTED_SIZE \
    "0 or 'unlimited' for no cap, or a size up to 1048576G with an optional K, M or G suffix"
#define ACCEPTED_PORTS \
    "a comma-separated list of up to 64 ports and ranges from 1 to 65535, such as 80,443,8000-8099"
#define STRINGIFY(x) #x
#define TEXT_OF(x) STRINGIFY(x)

/* Each setting's own bounds, so that a table row is a parser and a field. */

static bool parse_log_level(const char *text, void *field)
{
    return lc_parse_log_level(text, field);
}

static bool parse_mode(const char *text, void *field)
{
    return lc_parse_mode(text, field);
}

static bool parse_timeout(const char *text, void *field)
{
    return lc_parse_duration_ms(text, LC_MIN_TIMEOUT_MS, LC_MAX_TIMEOUT_MS, field);
}

static bool parse_exit_timeout(const char *text, void *field)
{
    return lc_parse_duration_ms(text, 0, LC_MAX_EXIT_TIMEOUT_MS, field);
}

/* "off" as well as 0: the mode is off by default, and the word says so. */
static bool parse_peer_fin_wait(const char *text, void *field)
{
    if (text && strcasecmp(text, "off") == 0) {
        *(uint32_t *)field = 0;
        return true;
    }
    return lc_parse_duration_ms(text, 0, LC_MAX_TIMEOUT_MS, field);
}

static bool parse_byte_cap(const char *text, void *field)
{
    return lc_parse_size(text, LC_MAX_MAX_BYTES, field);
}

static bool parse_max_sockets(const char *text, void *field)
{
    return lc_parse_count(text, LC_MIN_MAX_SOCKETS, LC_MAX_MAX_SOCKETS, field);
}

static bool parse_log_target(const char *text, void *field)
{
    return lc_parse_log_target(text, field);
}

static bool parse_ports(const char *text, void *field)
{
    return lc_parse_port_list(text, field);
}

static bool parse_stats_path(const char *text, void *field)
{
    return lc_parse_stats_path(text, field, LC_STATS_PATH_MAX);
}

static bool parse_stats_interval(const char *text, void *field)
{
    return lc_parse_stats_interval(text, field);
}

#define FIELD(name) offsetof(struct lc_conf, name)

const struct lc_setting lc_settings[LC_SETTING_COUNT] = {
    [LC_SETTING_LOG] = { "LINGERCLOSE_LOG", parse_log_level, FIELD(log_level),
                         "error, warn, info, debug", "warn", NULL },
    [LC_SETTING_MODE] = { "LINGERCLOSE_MODE", parse_mode, FIELD(mode), "auto, always, off",
                          "auto", NULL },
    [LC_SETTING_IDLE_TIMEOUT] = { "LINGERCLOSE_IDLE_TIMEOUT", parse_timeout,
                                  FIELD(idle_timeout_ms), "1ms to 1h, " DURATION_SYNTAX, "2s",
                                  NULL },
    [LC_SETTING_TIMEOUT] = { "LINGERCLOSE_TIMEOUT", parse_timeout, FIELD(total_timeout_ms),
                             "1ms to 1h, " DURATION_SYNTAX, "30s", NULL },
    /* Long enough for a client that reads its response and closes, short
     * enough not to hold up a service stop. */
    [LC_SETTING_EXIT_TIMEOUT] = { "LINGERCLOSE_EXIT_TIMEOUT", parse_exit_timeout,
                                  FIELD(exit_timeout_ms),
                                  "0 for no wait, or up to 60s, " DURATION_SYNTAX, "2s", NULL },
    /* Off by default: a close-delimited response then waits for the
     * server's FIN, which is held back for up to this long. */
    [LC_SETTING_PEER_FIN_WAIT] = { "LINGERCLOSE_PEER_FIN_WAIT", parse_peer_fin_wait,
                                   FIELD(peer_fin_wait_ms),
                                   "0 or off, or 1ms to 1h, " DURATION_SYNTAX,
                                   "off", NULL },
    [LC_SETTING_MAX_BYTES] = { "LINGERCLOSE_MAX_BYTES", parse_byte_cap, FIELD(max_bytes),
                               ACCEPTED_SIZE, "unlimited", NULL },
    /* What peers that do not read may keep in a process's send queues
     * through lingering closes: sixteen sockets with the largest send
     * buffer Linux gives by default (net.ipv4.tcp_wmem's 4 MiB), or
     * thousands of ordinary responses, which the peer acknowledges within
     * a round trip anyway; a small share of the memory at which the
     * kernel's TCP memory pressure begins (net.ipv4.tcp_mem) on all but
     * the smallest machines. */
    [LC_SETTING_MAX_QUEUED] = { "LINGERCLOSE_MAX_QUEUED", parse_byte_cap, FIELD(max_queued),
                                ACCEPTED_SIZE, "64M", NULL },
    [LC_SETTING_MAX_SOCKETS] = { "LINGERCLOSE_MAX_SOCKETS", parse_max_sockets, FIELD(max_sockets),
                                 "an integer from 1 to 1048576", NULL,
                                 "a quarter of the open-file limit, " TEXT_OF(
                                     LC_DEFAULT_MAX_SOCKETS_FLOOR) " to "
                                     TEXT_OF(LC_DEFAULT_MAX_SOCKETS_CEILING) },
    [LC_SETTING_LOG_TARGET] = { "LINGERCLOSE_LOG_TARGET", parse_log_target, FIELD(log_target),
                                "stderr, syslog", "stderr", NULL },
    [LC_SETTING_PORTS] = { "LINGERCLOSE_PORTS", parse_ports, FIELD(ports), ACCEPTED_PORTS, "",
                           "every port" },
    [LC_SETTING_EXCLUDE_PORTS] = { "LINGERCLOSE_EXCLUDE_PORTS", parse_ports, FIELD(exclude_ports),
                                   ACCEPTED_PORTS, "", "none" },
    [LC_SETTING_STATS_FILE] = { "LINGERCLOSE_STATS_FILE", parse_stats_path, FIELD(stats_path),
                                "an absolute path shorter than 1024 bytes; %p stands for the "
                                "process id",
                                "", "none" },
    [LC_SETTING_STATS_INTERVAL] = { "LINGERCLOSE_STATS_INTERVAL", parse_stats_interval,
                                    FIELD(stats_interval_ms),
                                    "0 for only at exit, or 1s to 1h, " DURATION_SYNTAX, "10s",
                                    NULL },
};

void lc_setting_option(const struct lc_setting *setting, char *out, size_t size)
{
    const char *in = strchr(setting->variable, '_') + 1;
    size_t n = 0;
    for (; *in && n + 1 < size; in++)
        out[n++] = *in == '_' ? '-' : (char)tolower((unsigned char)*in);
    if (size)
        out[n] = '\0';
}

const char *lc_setting_default_text(const struct lc_setting *setting)
{
    return setting->default_meaning ? setting->default_meaning : setting->default_value;
}

bool lc_setting_accepts(const struct lc_setting *setting, const char *text)
{
    struct lc_conf scratch;
    return setting->parse(text, (char *)&scratch + setting->field);
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

/* The variables the library reads that are no setting of the operator's. */
static const char *const internal_variables[] = { LC_SHARED_VARIABLE };

static size_t variable_name_length(const char *entry)
{
    size_t len = 0;
    while (len < LC_VARIABLE_NAME_MAX && entry[len] && entry[len] != '=')
        len++;
    return len;
}

static bool names(const char *variable, const char *name, size_t len)
{
    return strlen(variable) == len && memcmp(variable, name, len) == 0;
}

size_t lc_edit_distance(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (a_len > LC_VARIABLE_NAME_MAX)
        a_len = LC_VARIABLE_NAME_MAX;
    if (b_len > LC_VARIABLE_NAME_MAX)
        b_len = LC_VARIABLE_NAME_MAX;
    size_t row[LC_VARIABLE_NAME_MAX + 1];
    for (size_t j = 0; j <= b_len; j++)
        row[j] = j;
    for (size_t i = 1; i <= a_len; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b_len; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[b_len];
}

const char *lc_unknown_variable_suggestion(const char *entry)
{
    /* The prefix every setting's name has, up to its first underscore. */
    const char *prefix = lc_settings[0].variable;
    if (strncmp(entry, prefix, (size_t)(strchr(prefix, '_') + 1 - prefix)) != 0)
        return NULL;
    size_t len = variable_name_length(entry);
    for (size_t i = 0; i < sizeof internal_variables / sizeof *internal_variables; i++)
        if (names(internal_variables[i], entry, len))
            return NULL;
    const char *closest = NULL;
    size_t closest_distance = SIZE_MAX;
    for (const struct lc_setting *s = lc_settings; s < lc_settings + LC_SETTING_COUNT; s++) {
        if (names(s->variable, entry, len))
            return NULL;
        size_t distance = lc_edit_distance(entry, len, s->variable, strlen(s->variable));
        if (distance < closest_distance) {
            closest = s->variable;
            closest_distance = distance;
        }
    }
    return closest;
}

void lc_variable_name_shown(const char *entry, char *out, size_t size)
{
    if (!size)
        return;
    size_t len = variable_name_length(entry), n = 0;
    bool cut = entry[len] && entry[len] != '=';
    for (; n < len && n + 1 < size; n++)
        out[n] = entry[n] > ' ' && entry[n] < 0x7f ? entry[n] : '?';
    out[n] = '\0';
    if ((cut || n < len) && size >= 4)
        memcpy(out + (n + 4 <= size ? n : size - 4), "...", 4);
}
