/* Configuration from LINGERCLOSE_* environment variables. Read once when
 * the library loads, immutable afterwards. The parsers are pure so that the
 * launcher and the unit tests share them. */
#ifndef LINGERCLOSE_CONF_H
#define LINGERCLOSE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

enum lc_mode { LC_MODE_AUTO, LC_MODE_ALWAYS, LC_MODE_OFF };

#define LC_MAX_PORT_RANGES 64

/* Local ports and ranges, as LINGERCLOSE_PORTS and _EXCLUDE_PORTS give them.
 * count 0: no list. */
struct lc_port_set {
    uint32_t count;
    struct {
        uint16_t first, last;
    } ranges[LC_MAX_PORT_RANGES];
};

#define LC_STATS_PATH_MAX 1024

struct lc_conf {
    enum lc_mode mode;
    uint32_t idle_timeout_ms;
    uint32_t total_timeout_ms;
    uint32_t exit_timeout_ms; /* 0: no lingering when the process ends */
    uint64_t max_bytes; /* 0: no cap */
    uint64_t max_queued; /* output not yet acknowledged, all lingering sockets together; 0: no cap */
    uint32_t max_sockets;
    enum lc_log_level log_level;
    enum lc_log_target log_target;
    struct lc_port_set ports;         /* only these may linger (none: all) */
    struct lc_port_set exclude_ports; /* these never linger */
    char stats_path[LC_STATS_PATH_MAX]; /* "": no statistics file */
    uint32_t stats_interval_ms;         /* 0: only at exit */
};

#define LC_DEFAULT_IDLE_TIMEOUT_MS 2000u
#define LC_DEFAULT_TOTAL_TIMEOUT_MS 30000u
#define LC_MIN_TIMEOUT_MS 1u
#define LC_MAX_TIMEOUT_MS 3600000u
/* A process that ends waits at most this long for its peers by default:
 * long enough for a client that reads its response and closes, short
 * enough not to hold up a service stop. */
#define LC_DEFAULT_EXIT_TIMEOUT_MS 2000u
#define LC_MAX_EXIT_TIMEOUT_MS 60000u
#define LC_MAX_MAX_BYTES (UINT64_C(1) << 50) /* 1 PiB: "never" */
/* What peers that do not read may keep in a process's send queues through
 * lingering closes: sixteen sockets with the largest send buffer Linux
 * gives by default (net.ipv4.tcp_wmem's 4 MiB), or thousands of ordinary
 * responses, which the peer acknowledges within a round trip anyway; a
 * small share of the memory at which the kernel's TCP memory pressure
 * begins (net.ipv4.tcp_mem) on all but the smallest machines. */
#define LC_DEFAULT_MAX_QUEUED (UINT64_C(64) << 20)
#define LC_DEFAULT_MAX_QUEUED_TEXT "64M"
#define LC_DEFAULT_STATS_INTERVAL_MS 10000u
#define LC_MIN_STATS_INTERVAL_MS 1000u
#define LC_MAX_STATS_INTERVAL_MS 3600000u
#define LC_MIN_MAX_SOCKETS 1u
#define LC_MAX_MAX_SOCKETS 1048576u
#define LC_DEFAULT_MAX_SOCKETS_CEILING 16384u
#define LC_DEFAULT_MAX_SOCKETS_FLOOR 16u

/* What each kind of value accepts, worded for messages; the library's
 * complaints and the launcher's errors both use these. */
#define LC_ACCEPTED_MODE "auto, always, off"
#define LC_ACCEPTED_LOG_LEVEL "error, warn, info, debug"
#define LC_ACCEPTED_DURATION \
    "1ms to 1h, a number with an optional ms, s, m or h suffix; a bare number is seconds"
#define LC_ACCEPTED_EXIT_DURATION \
    "0 for no wait, or up to 60s, a number with an optional ms, s, m or h suffix; a bare " \
    "number is seconds"
#define LC_ACCEPTED_SIZE \
    "0 or 'unlimited' for no cap, or a size up to 1048576G with an optional K, M or G suffix"
#define LC_ACCEPTED_COUNT "an integer from 1 to 1048576"
#define LC_ACCEPTED_LOG_TARGET "stderr, syslog"
#define LC_ACCEPTED_PORTS \
    "a comma-separated list of up to 64 ports and ranges from 1 to 65535, such as 80,443,8000-8099"
#define LC_ACCEPTED_STATS_INTERVAL \
    "0 for only at exit, or 1s to 1h, a number with an optional ms, s, m or h suffix; a bare " \
    "number is seconds"
#define LC_ACCEPTED_STATS_FILE \
    "an absolute path shorter than 1024 bytes; %p stands for the process id"

/* Each parser returns true and sets *out, or returns false and leaves *out
 * alone. */
bool lc_parse_mode(const char *text, enum lc_mode *out);
bool lc_parse_log_level(const char *text, enum lc_log_level *out);
bool lc_parse_duration_ms(const char *text, uint32_t min_ms, uint32_t max_ms, uint32_t *out);
bool lc_parse_size(const char *text, uint64_t max, uint64_t *out);
bool lc_parse_count(const char *text, uint32_t min, uint32_t max, uint32_t *out);
bool lc_parse_log_target(const char *text, enum lc_log_target *out);
/* "" is the empty list. */
bool lc_parse_port_list(const char *text, struct lc_port_set *out);
/* 0, or LC_MIN_STATS_INTERVAL_MS to LC_MAX_STATS_INTERVAL_MS. */
bool lc_parse_stats_interval(const char *text, uint32_t *out);
/* "" (no file) or an absolute path that fits LC_STATS_PATH_MAX. */
bool lc_parse_stats_path(const char *text, char *out, size_t size);

bool lc_port_set_contains(const struct lc_port_set *set, uint16_t port);
/* Whether a socket on this local port may linger under the two lists. */
bool lc_port_may_linger(const struct lc_conf *conf, uint16_t port);
/* Whether either list is set, so that a lingering close must look up the port. */
bool lc_port_filter_active(const struct lc_conf *conf);

/* A quarter of the soft RLIMIT_NOFILE, within [16, 16384]. */
uint32_t lc_default_max_sockets(uint64_t nofile_soft_limit);

void lc_conf_defaults(struct lc_conf *conf, uint64_t nofile_soft_limit);

typedef const char *(*lc_getenv_fn)(const char *name);
typedef void (*lc_complain_fn)(const char *line);

/* Fills conf from the environment. Every rejected value gives exactly one
 * call to complain() with a line naming the variable, the value, what is
 * accepted and the default used instead. */
void lc_conf_load(struct lc_conf *conf, uint64_t nofile_soft_limit, lc_getenv_fn getenv_fn,
                  lc_complain_fn complain);

const char *lc_mode_name(enum lc_mode mode);
const char *lc_log_level_name(enum lc_log_level level);
const char *lc_log_target_name(enum lc_log_target target);

/* The configuration the library runs with; valid once lc_conf_init() ran. */
extern struct lc_conf lc_conf;
void lc_conf_init(void);

#endif
