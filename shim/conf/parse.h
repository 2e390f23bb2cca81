/* SPDX-License-Identifier: MIT */
/* How the text of a setting becomes its value. Pure functions of their
 * arguments, with no state and no start-up, so that the library, the
 * launcher, the unit tests and the fuzzer share them as they are. */
#ifndef LINGERCLOSE_PARSE_H
#define LINGERCLOSE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/log.h"

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
#define LC_MIN_STATS_INTERVAL_MS 1000u
#define LC_MAX_STATS_INTERVAL_MS 3600000u

/* strlcpy's contract (copies what fits, always ends the copy, returns
 * strlen(src)): here so that the library needs nothing but libc, since
 * every library it links is loaded into every process it is preloaded in. */
size_t lc_copy_string(char *dst, const char *src, size_t size);

/* Each parser returns true and sets *out, or returns false and leaves *out
 * alone. Keywords are taken in any case. */
bool lc_parse_mode(const char *text, enum lc_mode *out);
bool lc_parse_log_level(const char *text, enum lc_log_level *out);
bool lc_parse_log_target(const char *text, enum lc_log_target *out);
/* Digits with an optional ms, s, m or h suffix; bare digits are seconds. */
bool lc_parse_duration_ms(const char *text, uint32_t min_ms, uint32_t max_ms, uint32_t *out);
/* Digits with an optional K, M or G suffix, or "unlimited" (0). */
bool lc_parse_size(const char *text, uint64_t max, uint64_t *out);
bool lc_parse_count(const char *text, uint32_t min, uint32_t max, uint32_t *out);
/* "" is the empty list. */
bool lc_parse_port_list(const char *text, struct lc_port_set *out);
/* 0, or LC_MIN_STATS_INTERVAL_MS to LC_MAX_STATS_INTERVAL_MS. */
bool lc_parse_stats_interval(const char *text, uint32_t *out);
/* "" (no file) or an absolute path that fits LC_STATS_PATH_MAX. */
bool lc_parse_stats_path(const char *text, char *out, size_t size);

bool lc_port_set_contains(const struct lc_port_set *set, uint16_t port);

const char *lc_mode_name(enum lc_mode mode);
const char *lc_log_level_name(enum lc_log_level level);
const char *lc_log_target_name(enum lc_log_target target);

#endif
