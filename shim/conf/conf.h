/* SPDX-License-Identifier: MIT */
/* The settings: one table says, for each LINGERCLOSE_* variable, how its
 * text is parsed, what it accepts, its default and the field it sets. The
 * library loads it from the environment, the launcher turns it into its
 * options and their help, and the tests read it through both. */
#ifndef LINGERCLOSE_CONF_H
#define LINGERCLOSE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/parse.h"
#include "log/log.h"

struct lc_conf {
    enum lc_mode mode;
    uint32_t idle_timeout_ms;
    uint32_t total_timeout_ms;
    uint32_t exit_timeout_ms; /* 0: no lingering when the process ends */
    /* How long a lingering close holds its FIN back for the peer's, so
     * that the peer's close is the active one and the TIME_WAIT its; 0:
     * the FIN goes at once. */
    uint32_t peer_fin_wait_ms;
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

#define LC_MIN_TIMEOUT_MS 1u
#define LC_MAX_TIMEOUT_MS 3600000u
#define LC_MAX_EXIT_TIMEOUT_MS 60000u
#define LC_MAX_MAX_BYTES (UINT64_C(1) << 50) /* 1 PiB: "never" */
#define LC_MIN_MAX_SOCKETS 1u
#define LC_MAX_MAX_SOCKETS 1048576u
/* Bare numbers: the help and the pages give them in words. */
#define LC_DEFAULT_MAX_SOCKETS_CEILING 16384
#define LC_DEFAULT_MAX_SOCKETS_FLOOR 16

/* The library carries this string followed by its version, where
 * 'lingerclose --status' finds it in the file a process has mapped. */
#define LC_VERSION_MARKER "lingerclose library version "

/* The order is the library's: it reads and complains in this order. */
enum lc_setting_id {
    LC_SETTING_LOG,
    LC_SETTING_MODE,
    LC_SETTING_IDLE_TIMEOUT,
    LC_SETTING_TIMEOUT,
    LC_SETTING_EXIT_TIMEOUT,
    LC_SETTING_PEER_FIN_WAIT,
    LC_SETTING_MAX_BYTES,
    LC_SETTING_MAX_QUEUED,
    LC_SETTING_MAX_SOCKETS,
    LC_SETTING_LOG_TARGET,
    LC_SETTING_PORTS,
    LC_SETTING_EXCLUDE_PORTS,
    LC_SETTING_STATS_FILE,
    LC_SETTING_STATS_INTERVAL,
    LC_SETTING_COUNT,
};

struct lc_setting {
    /* LINGERCLOSE_*; the launcher's option is the rest in lower case, with
     * '-' for '_' (LINGERCLOSE_LOG_TARGET: --log-target). */
    const char *variable;
    /* Sets the field from text, or returns false and leaves it alone. */
    bool (*parse)(const char *text, void *field);
    size_t field; /* offset in struct lc_conf */
    const char *accepted; /* worded for messages: "... (accepted: %s)" */
    /* The text the default is parsed from; NULL: a quarter of the
     * open-file limit (lc_default_max_sockets). */
    const char *default_value;
    /* What an empty or computed default means, for messages and --help. */
    const char *default_meaning;
};

extern const struct lc_setting lc_settings[LC_SETTING_COUNT];

/* The launcher's option name for a setting ("idle-timeout"). */
void lc_setting_option(const struct lc_setting *setting, char *out, size_t size);
/* The default as --help and the pages state it. */
const char *lc_setting_default_text(const struct lc_setting *setting);
bool lc_setting_accepts(const struct lc_setting *setting, const char *text);

/* Names longer than this are not looked at past it: the environment is
 * untrusted and the comparison costs the square of the length. */
#define LC_VARIABLE_NAME_MAX 64

/* For an environment entry ("NAME=value"): NULL if NAME is not
 * LINGERCLOSE_* or is a variable of the library, else the variable of
 * lc_settings closest to NAME (fewest edits), so that a misspelt setting,
 * which would otherwise be ignored in silence, can be pointed out. */
const char *lc_unknown_variable_suggestion(const char *entry);
/* Levenshtein distance; both lengths at most LC_VARIABLE_NAME_MAX. */
size_t lc_edit_distance(const char *a, size_t a_len, const char *b, size_t b_len);
/* NAME of such an entry as a message may show it: at most
 * LC_VARIABLE_NAME_MAX bytes, "..." if cut, '?' for anything unprintable. */
void lc_variable_name_shown(const char *entry, char *out, size_t size);

/* Whether a socket on this local port may linger under the two lists. */
bool lc_port_may_linger(const struct lc_conf *conf, uint16_t port);
/* Whether either list is set, so that a lingering close must look up the port. */
bool lc_port_filter_active(const struct lc_conf *conf);

/* A quarter of the soft RLIMIT_NOFILE, within the floor and the ceiling. */
uint32_t lc_default_max_sockets(uint64_t nofile_soft_limit);

/* In conf_load.c: the table applied to an environment, with no start-up of
 * its own. */
void lc_conf_defaults(struct lc_conf *conf, uint64_t nofile_soft_limit);

typedef const char *(*lc_getenv_fn)(const char *name);
typedef void (*lc_complain_fn)(const char *line);

/* Fills conf from the environment. Every rejected value gives exactly one
 * call to complain() with a line naming the variable, the value, what is
 * accepted and the default used instead. */
void lc_conf_load(struct lc_conf *conf, uint64_t nofile_soft_limit, lc_getenv_fn getenv_fn,
                  lc_complain_fn complain);

/* In conf_init.c: the configuration the library runs with, valid once
 * lc_conf_init() ran (nothing reads it before: every hook waits for
 * lc_ready()). */
extern struct lc_conf lc_conf;
void lc_conf_init(void);

#endif
