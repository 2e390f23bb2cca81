/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the settings (shim/conf/conf.c, conf_load.c, parse.c).
 *
 * The input's first two bytes, low byte first, say which LINGERCLOSE_*
 * variables are set (bit i: lc_settings[i]; bit 15: an unlimited
 * RLIMIT_NOFILE); the rest, split at NUL bytes, gives their values in the
 * order of lc_settings. Whatever the values,
 * the parser must not crash, must complain at most once per variable with
 * one line naming it, and must leave every setting within its documented
 * range. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

#define VARIABLES LC_SETTING_COUNT
#define UNLIMITED_NOFILE_BIT 15
_Static_assert(VARIABLES <= UNLIMITED_NOFILE_BIT, "one bit per variable in the first two bytes");
#define VALUE_MAX 512

static char values[VARIABLES][VALUE_MAX + 1];
static bool is_set[VARIABLES];
static unsigned complaints;

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < VARIABLES; i++)
        if (strcmp(name, lc_settings[i].variable) == 0)
            return is_set[i] ? values[i] : NULL;
    return NULL;
}

static void check_complaint(const char *line)
{
    complaints++;
    if (strchr(line, '\n') || strncmp(line, "LINGERCLOSE_", 12) != 0)
        abort();
}

static size_t only;

static const char *only_getenv(const char *name)
{
    return strcmp(name, lc_settings[only].variable) == 0 ? values[only] : NULL;
}

static void count_complaint(const char *line)
{
    (void)line;
    complaints++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned mask = data[0] | (unsigned)data[1] << 8;
    data += 2;
    size -= 2;
    unsigned set_count = 0;
    for (size_t i = 0; i < VARIABLES; i++) {
        size_t len = 0;
        while (len < size && data[len] != 0 && len < VALUE_MAX)
            len++;
        memcpy(values[i], data, len);
        values[i][len] = '\0';
        size_t used = len < size ? len + 1 : len;
        data += used;
        size -= used;
        is_set[i] = (mask >> i) & 1;
        set_count += is_set[i];
    }

    complaints = 0;
    struct lc_conf c;
    lc_conf_load(&c, (mask >> UNLIMITED_NOFILE_BIT) & 1 ? UINT64_MAX : 1024, fake_getenv, check_complaint);
    if (complaints > set_count)
        abort();
    if (c.mode != LC_MODE_AUTO && c.mode != LC_MODE_ALWAYS && c.mode != LC_MODE_OFF)
        abort();
    if (c.log_level > LC_LOG_DEBUG)
        abort();
    if (c.idle_timeout_ms < LC_MIN_TIMEOUT_MS || c.idle_timeout_ms > LC_MAX_TIMEOUT_MS ||
        c.total_timeout_ms < LC_MIN_TIMEOUT_MS || c.total_timeout_ms > LC_MAX_TIMEOUT_MS ||
        c.exit_timeout_ms > LC_MAX_EXIT_TIMEOUT_MS)
        abort();
    if (c.max_bytes > LC_MAX_MAX_BYTES || c.max_queued > LC_MAX_MAX_BYTES || c.max_sockets < LC_MIN_MAX_SOCKETS ||
        c.max_sockets > LC_MAX_MAX_SOCKETS)
        abort();
    if (c.log_target != LC_LOG_TARGET_STDERR && c.log_target != LC_LOG_TARGET_SYSLOG)
        abort();
    if (c.ports.count > LC_MAX_PORT_RANGES || c.exclude_ports.count > LC_MAX_PORT_RANGES)
        abort();
    if (c.stats_path[0] && (c.stats_path[0] != '/' || strlen(c.stats_path) >= LC_STATS_PATH_MAX))
        abort();
    if (c.stats_interval_ms && (c.stats_interval_ms < LC_MIN_STATS_INTERVAL_MS ||
                                c.stats_interval_ms > LC_MAX_STATS_INTERVAL_MS))
        abort();
    /* The launcher's check and the loader agree on every value. */
    for (size_t i = 0; i < VARIABLES; i++) {
        struct lc_conf one;
        only = i;
        complaints = 0;
        lc_conf_load(&one, 1024, only_getenv, count_complaint);
        if (lc_setting_accepts(&lc_settings[i], values[i]) != (complaints == 0))
            abort();
    }

    /* Each parser on its own: accepted means within the bounds asked. */
    for (size_t i = 0; i < VARIABLES; i++) {
        uint32_t ms = 0, count = 0;
        uint64_t bytes = 0;
        if (lc_parse_duration_ms(values[i], 5, 70000, &ms) && (ms < 5 || ms > 70000))
            abort();
        if (lc_parse_size(values[i], 1u << 20, &bytes) && bytes > (1u << 20))
            abort();
        if (lc_parse_count(values[i], 3, 1000, &count) && (count < 3 || count > 1000))
            abort();
    }
    return 0;
}
