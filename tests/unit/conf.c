/* SPDX-License-Identifier: MIT */
/* The configuration parsers, the loader (with an injected environment and
 * complaint callback) and the async-signal-safe formatter. */
#include "config.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "log/log.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The defaults the pages document, which the table must give. */
#define DEFAULT_IDLE_TIMEOUT_MS 2000u
#define DEFAULT_TOTAL_TIMEOUT_MS 30000u
#define DEFAULT_EXIT_TIMEOUT_MS 2000u
#define DEFAULT_MAX_QUEUED (UINT64_C(64) << 20)
#define DEFAULT_STATS_INTERVAL_MS 10000u

/* Sentinels: what an output variable holds before a parser is called, so
 * that a rejection can be seen to leave it alone. */
#define SENTINEL32 UINT32_C(0xdeadbeef)
#define SENTINEL64 UINT64_C(0xfeedfacecafebeef)

/* Garbage no numeric parser may accept. */
static const char *const garbage[] = {
    "",    "abc", "1x",  "2 s", " 2", "2 ",  "-1", "+5", "1.5s", "1.5", "0x10", "1e3",
    "s",   "ms",  "K",   "1ss", "1sm", "1KB", "1 K", "\t1", "1\n", "one", "5,000",
};

/* Numbers beyond every range: past 64 bits, or at the edge of them. */
static const char *const overflowing[] = {
    "99999999999999999999", "18446744073709551616", "18446744073709551615",
    "9223372036854775808",  "9223372036854775807",  "123456789012345678901234567890",
};

/* ---- lc_parse_mode, lc_parse_log_level -------------------------------- */

Test(parse_mode, accepts_every_mode_in_any_case)
{
    static const struct {
        const char *text;
        enum lc_mode mode;
    } good[] = {
        { "auto", LC_MODE_AUTO }, { "AUTO", LC_MODE_AUTO },         { "Auto", LC_MODE_AUTO },
        { "always", LC_MODE_ALWAYS }, { "ALWAYS", LC_MODE_ALWAYS }, { "off", LC_MODE_OFF },
        { "OFF", LC_MODE_OFF },   { "oFf", LC_MODE_OFF },
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        enum lc_mode m = (enum lc_mode)-1;
        cr_expect(lc_parse_mode(good[i].text, &m), "\"%s\" rejected", good[i].text);
        cr_expect_eq(m, good[i].mode, "\"%s\" gave %d", good[i].text, (int)m);
    }
}

Test(parse_mode, rejects_others_and_leaves_output)
{
    static const char *const bad[] = {
        "", "on", "yes", "1", "0", "auto ", " auto", "autox", "alway", "of", "offf", "none",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        enum lc_mode m = LC_MODE_ALWAYS;
        cr_expect_not(lc_parse_mode(bad[i], &m), "\"%s\" accepted", bad[i]);
        cr_expect_eq(m, LC_MODE_ALWAYS, "\"%s\" changed the output", bad[i]);
    }
    enum lc_mode m = LC_MODE_ALWAYS;
    cr_expect_not(lc_parse_mode(NULL, &m));
    cr_expect_eq(m, LC_MODE_ALWAYS);
}

Test(parse_mode, names_round_trip)
{
    static const enum lc_mode modes[] = { LC_MODE_AUTO, LC_MODE_ALWAYS, LC_MODE_OFF };
    for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
        const char *name = lc_mode_name(modes[i]);
        cr_assert_not_null(name);
        enum lc_mode back = (enum lc_mode)-1;
        cr_expect(lc_parse_mode(name, &back), "name \"%s\" not accepted", name);
        cr_expect_eq(back, modes[i], "name \"%s\"", name);
    }
    cr_expect_str_eq(lc_mode_name(LC_MODE_AUTO), "auto");
    cr_expect_str_eq(lc_mode_name(LC_MODE_ALWAYS), "always");
    cr_expect_str_eq(lc_mode_name(LC_MODE_OFF), "off");
}

Test(parse_log_level, accepts_every_level_in_any_case)
{
    static const struct {
        const char *text;
        enum lc_log_level level;
    } good[] = {
        { "error", LC_LOG_ERROR }, { "ERROR", LC_LOG_ERROR }, { "warn", LC_LOG_WARN },
        { "Warn", LC_LOG_WARN },   { "info", LC_LOG_INFO },   { "INFO", LC_LOG_INFO },
        { "debug", LC_LOG_DEBUG }, { "DeBuG", LC_LOG_DEBUG },
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        enum lc_log_level l = (enum lc_log_level)-1;
        cr_expect(lc_parse_log_level(good[i].text, &l), "\"%s\" rejected", good[i].text);
        cr_expect_eq(l, good[i].level, "\"%s\" gave %d", good[i].text, (int)l);
    }
}

Test(parse_log_level, rejects_others_and_leaves_output)
{
    static const char *const bad[] = {
        "", "warning", "err", "trace", "verbose", "0", "3", " info", "info ", "debug2",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        enum lc_log_level l = LC_LOG_INFO;
        cr_expect_not(lc_parse_log_level(bad[i], &l), "\"%s\" accepted", bad[i]);
        cr_expect_eq(l, LC_LOG_INFO, "\"%s\" changed the output", bad[i]);
    }
    enum lc_log_level l = LC_LOG_INFO;
    cr_expect_not(lc_parse_log_level(NULL, &l));
    cr_expect_eq(l, LC_LOG_INFO);
}

Test(parse_log_level, names_round_trip)
{
    static const enum lc_log_level levels[] = { LC_LOG_ERROR, LC_LOG_WARN, LC_LOG_INFO,
                                                LC_LOG_DEBUG };
    for (size_t i = 0; i < ARRAY_LEN(levels); i++) {
        const char *name = lc_log_level_name(levels[i]);
        cr_assert_not_null(name);
        enum lc_log_level back = (enum lc_log_level)-1;
        cr_expect(lc_parse_log_level(name, &back), "name \"%s\" not accepted", name);
        cr_expect_eq(back, levels[i], "name \"%s\"", name);
    }
}

/* ---- lc_parse_duration_ms --------------------------------------------- */

static bool duration(const char *text, uint32_t *out)
{
    return lc_parse_duration_ms(text, LC_MIN_TIMEOUT_MS, LC_MAX_TIMEOUT_MS, out);
}

Test(parse_duration, accepts_every_suffix)
{
    static const struct {
        const char *text;
        uint32_t ms;
    } good[] = {
        /* bare number: seconds */
        { "1", 1000 },
        { "2", 2000 },
        { "30", 30000 },
        { "0030", 30000 },
        /* ms */
        { "1ms", 1 },
        { "250ms", 250 },
        { "1500ms", 1500 },
        { "250MS", 250 },
        { "250Ms", 250 },
        { "0001ms", 1 },
        /* s */
        { "1s", 1000 },
        { "45s", 45000 },
        { "45S", 45000 },
        /* m: minutes */
        { "1m", 60000 },
        { "5m", 300000 },
        { "5M", 300000 },
        /* bounds */
        { "3600000ms", LC_MAX_TIMEOUT_MS },
        { "3600s", LC_MAX_TIMEOUT_MS },
        { "3600", LC_MAX_TIMEOUT_MS },
        { "60m", LC_MAX_TIMEOUT_MS },
        /* h: hours, as the accepted range is worded */
        { "1h", LC_MAX_TIMEOUT_MS },
        { "1H", LC_MAX_TIMEOUT_MS },
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        uint32_t v = SENTINEL32;
        cr_expect(duration(good[i].text, &v), "\"%s\" rejected", good[i].text);
        cr_expect_eq(v, good[i].ms, "\"%s\" gave %u ms, expected %u", good[i].text, v,
                     good[i].ms);
    }
}

static void expect_duration_rejected(const char *text)
{
    uint32_t v = SENTINEL32;
    cr_expect_not(duration(text, &v), "\"%s\" accepted (gave %u ms)", text, v);
    cr_expect_eq(v, SENTINEL32, "rejecting \"%s\" changed the output to %u", text, v);
}

Test(parse_duration, rejects_out_of_range)
{
    static const char *const bad[] = {
        /* below the minimum of 1 ms */
        "0", "0ms", "0s", "0m", "000",
        /* one past the maximum of 1 h */
        "3600001ms", "3601s", "3601", "61m",
        /* far out */
        "4294967295ms", "4294967296ms", "4294967296", "4294967296s", "71583m", "100000000m",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        expect_duration_rejected(bad[i]);
}

Test(parse_duration, rejects_garbage)
{
    for (size_t i = 0; i < ARRAY_LEN(garbage); i++)
        expect_duration_rejected(garbage[i]);
    static const char *const more[] = { "1hh", "1d", "1us", "1sec", "1 ms", "ms1", "5mm", "5m0" };
    for (size_t i = 0; i < ARRAY_LEN(more); i++)
        expect_duration_rejected(more[i]);
    uint32_t v = SENTINEL32;
    cr_expect_not(duration(NULL, &v));
    cr_expect_eq(v, SENTINEL32);
}

Test(parse_duration, rejects_overflow)
{
    for (size_t i = 0; i < ARRAY_LEN(overflowing); i++)
        expect_duration_rejected(overflowing[i]);
    static const char *const more[] = {
        "99999999999999999999ms", "18446744073709551616ms", "18446744073709551616s",
        "307445734561825861m", /* * 60000 wraps 64 bits */
        "18446744073709552s",   /* * 1000 wraps 64 bits */
    };
    for (size_t i = 0; i < ARRAY_LEN(more); i++)
        expect_duration_rejected(more[i]);
}

Test(parse_duration, honours_the_given_bounds)
{
    uint32_t v;

    v = SENTINEL32;
    cr_expect(lc_parse_duration_ms("500ms", 500, 1500, &v));
    cr_expect_eq(v, 500);
    v = SENTINEL32;
    cr_expect(lc_parse_duration_ms("1500ms", 500, 1500, &v));
    cr_expect_eq(v, 1500);
    v = SENTINEL32;
    cr_expect(lc_parse_duration_ms("1", 500, 1500, &v));
    cr_expect_eq(v, 1000);

    static const char *const bad[] = { "499ms", "1501ms", "2s", "2", "1m", "0" };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        v = SENTINEL32;
        cr_expect_not(lc_parse_duration_ms(bad[i], 500, 1500, &v), "\"%s\" accepted", bad[i]);
        cr_expect_eq(v, SENTINEL32, "\"%s\" changed the output", bad[i]);
    }

    /* A maximum below one second refuses every number of seconds but 0,
     * and 0 is below the minimum. */
    v = SENTINEL32;
    cr_expect_not(lc_parse_duration_ms("1s", 1, 999, &v));
    cr_expect_not(lc_parse_duration_ms("0s", 1, 999, &v));
    cr_expect_eq(v, SENTINEL32);
    cr_expect(lc_parse_duration_ms("999ms", 1, 999, &v));
    cr_expect_eq(v, 999);

    /* The whole uint32_t range. */
    v = SENTINEL32;
    cr_expect(lc_parse_duration_ms("4294967295ms", 0, UINT32_MAX, &v));
    cr_expect_eq(v, UINT32_MAX);
    v = SENTINEL32;
    cr_expect(lc_parse_duration_ms("0ms", 0, UINT32_MAX, &v));
    cr_expect_eq(v, 0);
    v = SENTINEL32;
    cr_expect_not(lc_parse_duration_ms("4294967296ms", 0, UINT32_MAX, &v));
    cr_expect_not(lc_parse_duration_ms("4294968s", 0, UINT32_MAX, &v));
    cr_expect_eq(v, SENTINEL32);
    cr_expect(lc_parse_duration_ms("4294967s", 0, UINT32_MAX, &v));
    cr_expect_eq(v, 4294967000u);
}

/* ---- lc_parse_size ---------------------------------------------------- */

static bool size(const char *text, uint64_t *out)
{
    return lc_parse_size(text, LC_MAX_MAX_BYTES, out);
}

Test(parse_size, accepts_every_suffix)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = {
        /* no cap */
        { "unlimited", 0 },
        { "UNLIMITED", 0 },
        { "Unlimited", 0 },
        { "0", 0 },
        { "0K", 0 },
        { "000", 0 },
        /* bare number: bytes */
        { "1", 1 },
        { "1000", 1000 },
        { "123456789", 123456789 },
        /* K, M, G in either case */
        { "1K", 1024 },
        { "1k", 1024 },
        { "64K", 65536 },
        { "3k", 3072 },
        { "1M", 1048576 },
        { "1m", 1048576 },
        { "10M", 10485760 },
        { "1G", UINT64_C(1073741824) },
        { "1g", UINT64_C(1073741824) },
        { "5G", UINT64_C(5368709120) },
        /* the maximum, 1 PiB, in every unit */
        { "1048576G", LC_MAX_MAX_BYTES },
        { "1073741824M", LC_MAX_MAX_BYTES },
        { "1099511627776K", LC_MAX_MAX_BYTES },
        { "1125899906842624", LC_MAX_MAX_BYTES },
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        uint64_t v = SENTINEL64;
        cr_expect(size(good[i].text, &v), "\"%s\" rejected", good[i].text);
        cr_expect_eq(v, good[i].bytes, "\"%s\" gave %llu, expected %llu", good[i].text,
                     (unsigned long long)v, (unsigned long long)good[i].bytes);
    }
}

static void expect_size_rejected(const char *text)
{
    uint64_t v = SENTINEL64;
    cr_expect_not(size(text, &v), "\"%s\" accepted (gave %llu)", text, (unsigned long long)v);
    cr_expect_eq(v, SENTINEL64, "rejecting \"%s\" changed the output", text);
}

Test(parse_size, rejects_out_of_range)
{
    static const char *const bad[] = {
        /* one past the maximum */
        "1048577G",
        "1073741825M",
        "1099511627777K",
        "1125899906842625",
        /* overflows 64 bits when scaled */
        "17179869184G",
        "17592186044416M",
        "18014398509481984K",
        "9223372036854775807G",
        "18446744073709551615G",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        expect_size_rejected(bad[i]);
}

Test(parse_size, rejects_garbage)
{
    for (size_t i = 0; i < ARRAY_LEN(garbage); i++)
        expect_size_rejected(garbage[i]);
    static const char *const more[] = {
        "1T",   "1P",       "1B",        "1KiB", "1Ki", "1kk", "K1",
        "unl",  "infinite", "unlimited ", " unlimited", "-0", "none", "1 G",
    };
    for (size_t i = 0; i < ARRAY_LEN(more); i++)
        expect_size_rejected(more[i]);
    uint64_t v = SENTINEL64;
    cr_expect_not(size(NULL, &v));
    cr_expect_eq(v, SENTINEL64);
}

Test(parse_size, rejects_overflow)
{
    for (size_t i = 0; i < ARRAY_LEN(overflowing); i++)
        expect_size_rejected(overflowing[i]);
    static const char *const more[] = {
        "99999999999999999999K", "18446744073709551616G", "18446744073709551615K",
    };
    for (size_t i = 0; i < ARRAY_LEN(more); i++)
        expect_size_rejected(more[i]);
}

Test(parse_size, honours_the_given_maximum)
{
    uint64_t v = SENTINEL64;
    cr_expect(lc_parse_size("1K", 1024, &v));
    cr_expect_eq(v, 1024);
    v = SENTINEL64;
    cr_expect(lc_parse_size("1024", 1024, &v));
    cr_expect_eq(v, 1024);
    v = SENTINEL64;
    cr_expect_not(lc_parse_size("1025", 1024, &v));
    cr_expect_not(lc_parse_size("2K", 1024, &v));
    cr_expect_not(lc_parse_size("1M", 1024, &v));
    cr_expect_eq(v, SENTINEL64);
    /* "unlimited" is not a size: no maximum refuses it. */
    cr_expect(lc_parse_size("unlimited", 1, &v));
    cr_expect_eq(v, 0);
}

/* ---- lc_parse_count --------------------------------------------------- */

Test(parse_count, accepts_plain_integers_within_bounds)
{
    static const struct {
        const char *text;
        uint32_t n;
    } good[] = {
        { "1", 1 },       { "16", 16 },           { "256", 256 },
        { "0100", 100 },  { "1048576", LC_MAX_MAX_SOCKETS },
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        uint32_t v = SENTINEL32;
        cr_expect(lc_parse_count(good[i].text, LC_MIN_MAX_SOCKETS, LC_MAX_MAX_SOCKETS, &v),
                  "\"%s\" rejected", good[i].text);
        cr_expect_eq(v, good[i].n, "\"%s\" gave %u", good[i].text, v);
    }
}

Test(parse_count, rejects_the_rest_and_leaves_output)
{
    static const char *const bad[] = {
        /* bounds */
        "0", "00", "1048577",
        /* no suffixes for counts */
        "1K", "1k", "1M", "1s", "unlimited",
        /* overflow */
        "4294967296", "4294967297", "4294967295",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        uint32_t v = SENTINEL32;
        cr_expect_not(lc_parse_count(bad[i], LC_MIN_MAX_SOCKETS, LC_MAX_MAX_SOCKETS, &v),
                      "\"%s\" accepted", bad[i]);
        cr_expect_eq(v, SENTINEL32, "\"%s\" changed the output", bad[i]);
    }
    for (size_t i = 0; i < ARRAY_LEN(garbage); i++) {
        uint32_t v = SENTINEL32;
        cr_expect_not(lc_parse_count(garbage[i], LC_MIN_MAX_SOCKETS, LC_MAX_MAX_SOCKETS, &v),
                      "\"%s\" accepted", garbage[i]);
        cr_expect_eq(v, SENTINEL32, "\"%s\" changed the output", garbage[i]);
    }
    for (size_t i = 0; i < ARRAY_LEN(overflowing); i++) {
        uint32_t v = SENTINEL32;
        cr_expect_not(lc_parse_count(overflowing[i], LC_MIN_MAX_SOCKETS, LC_MAX_MAX_SOCKETS, &v),
                      "\"%s\" accepted", overflowing[i]);
        cr_expect_eq(v, SENTINEL32, "\"%s\" changed the output", overflowing[i]);
    }
    uint32_t v = SENTINEL32;
    cr_expect_not(lc_parse_count(NULL, 1, 10, &v));
    cr_expect_eq(v, SENTINEL32);
}

Test(parse_count, whole_uint32_range)
{
    uint32_t v = SENTINEL32;
    cr_expect(lc_parse_count("4294967295", 0, UINT32_MAX, &v));
    cr_expect_eq(v, UINT32_MAX);
    cr_expect(lc_parse_count("0", 0, UINT32_MAX, &v));
    cr_expect_eq(v, 0);
    v = SENTINEL32;
    cr_expect_not(lc_parse_count("4294967296", 0, UINT32_MAX, &v));
    cr_expect_eq(v, SENTINEL32);
}

/* ---- lc_default_max_sockets, lc_conf_defaults ------------------------- */

Test(default_max_sockets, a_quarter_within_bounds)
{
    static const struct {
        uint64_t nofile;
        uint32_t expect;
    } rows[] = {
        { 1024, 256 },
        { 0, LC_DEFAULT_MAX_SOCKETS_FLOOR },
        { 1, LC_DEFAULT_MAX_SOCKETS_FLOOR },
        { 20, LC_DEFAULT_MAX_SOCKETS_FLOOR },
        { 63, LC_DEFAULT_MAX_SOCKETS_FLOOR },
        { 64, 16 },
        { 68, 17 },
        { 100, 25 },
        { 4096, 1024 },
        { 65536, 16384 },
        { 65539, 16384 },
        { 65540, LC_DEFAULT_MAX_SOCKETS_CEILING },
        { 1048576, LC_DEFAULT_MAX_SOCKETS_CEILING },
        { UINT64_C(1) << 40, LC_DEFAULT_MAX_SOCKETS_CEILING },
        { UINT64_MAX, LC_DEFAULT_MAX_SOCKETS_CEILING },
    };
    cr_expect_eq(LC_DEFAULT_MAX_SOCKETS_FLOOR, 16);
    cr_expect_eq(LC_DEFAULT_MAX_SOCKETS_CEILING, 16384);
    for (size_t i = 0; i < ARRAY_LEN(rows); i++)
        cr_expect_eq(lc_default_max_sockets(rows[i].nofile), rows[i].expect,
                     "nofile %llu: got %u, expected %u", (unsigned long long)rows[i].nofile,
                     lc_default_max_sockets(rows[i].nofile), rows[i].expect);
}

static void expect_defaults(const struct lc_conf *c, uint32_t max_sockets)
{
    cr_expect_eq(c->mode, LC_MODE_AUTO);
    cr_expect_eq(c->idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS);
    cr_expect_eq(c->total_timeout_ms, DEFAULT_TOTAL_TIMEOUT_MS);
    cr_expect_eq(c->exit_timeout_ms, DEFAULT_EXIT_TIMEOUT_MS);
    cr_expect_eq(c->peer_fin_wait_ms, 0, "the FIN goes at once unless asked");
    cr_expect_eq(c->max_bytes, 0);
    cr_expect_eq(c->max_queued, DEFAULT_MAX_QUEUED);
    cr_expect_eq(c->max_sockets, max_sockets);
    cr_expect_eq(c->log_level, LC_LOG_WARN);
    cr_expect_eq(c->log_target, LC_LOG_TARGET_STDERR);
    cr_expect_eq(c->ports.count, 0);
    cr_expect_eq(c->exclude_ports.count, 0);
    cr_expect_str_empty(c->stats_path);
    cr_expect_eq(c->stats_interval_ms, DEFAULT_STATS_INTERVAL_MS);
}

Test(conf_defaults, sets_every_field)
{
    struct lc_conf c;
    memset(&c, 0xa5, sizeof c);
    lc_conf_defaults(&c, 1024);
    expect_defaults(&c, 256);
    cr_expect_eq(c.idle_timeout_ms, 2000);
    cr_expect_eq(c.total_timeout_ms, 30000);
    cr_expect_eq(c.exit_timeout_ms, 2000);

    memset(&c, 0xa5, sizeof c);
    lc_conf_defaults(&c, 8);
    expect_defaults(&c, 16);

    memset(&c, 0xa5, sizeof c);
    lc_conf_defaults(&c, UINT64_MAX);
    expect_defaults(&c, 16384);
}

/* The defaults are themselves valid values. */
Test(conf_defaults, are_within_the_accepted_ranges)
{
    struct lc_conf c;
    lc_conf_defaults(&c, 1024);
    cr_expect_geq(c.idle_timeout_ms, LC_MIN_TIMEOUT_MS);
    cr_expect_leq(c.idle_timeout_ms, LC_MAX_TIMEOUT_MS);
    cr_expect_geq(c.total_timeout_ms, LC_MIN_TIMEOUT_MS);
    cr_expect_leq(c.total_timeout_ms, LC_MAX_TIMEOUT_MS);
    cr_expect_leq(c.exit_timeout_ms, 2000u, "the exit wait must not exceed 2s");
    cr_expect_leq(c.exit_timeout_ms, LC_MAX_EXIT_TIMEOUT_MS);
    cr_expect_geq(LC_DEFAULT_MAX_SOCKETS_FLOOR, LC_MIN_MAX_SOCKETS);
    cr_expect_leq(LC_DEFAULT_MAX_SOCKETS_CEILING, LC_MAX_MAX_SOCKETS);
}

/* ---- the table of settings ---------------------------------------------- */

/* Each row's default is accepted by its own parser: a default the parser
 * refused would leave its field zero without a word. */
Test(settings, every_default_is_accepted_by_its_parser)
{
    for (size_t i = 0; i < LC_SETTING_COUNT; i++) {
        const struct lc_setting *s = &lc_settings[i];
        cr_assert_not_null(s->variable, "row %zu has no variable", i);
        cr_expect_not_null(s->parse, "%s", s->variable);
        cr_expect_not_null(s->accepted, "%s", s->variable);
        if (s->default_value)
            cr_expect(lc_setting_accepts(s, s->default_value), "%s: default '%s' is refused",
                      s->variable, s->default_value);
        else
            cr_expect_str_eq(s->variable, "LINGERCLOSE_MAX_SOCKETS",
                             "%s: only the socket count has a computed default", s->variable);
        if (!s->default_value || !s->default_value[0])
            cr_expect_not_null(s->default_meaning, "%s: an empty or computed default "
                               "needs words", s->variable);
        cr_expect_lt(s->field, sizeof(struct lc_conf), "%s", s->variable);
        for (size_t j = 0; j < i; j++) {
            cr_expect_str_neq(s->variable, lc_settings[j].variable);
            if (lc_settings[j].field == s->field)
                cr_expect_fail("%s and %s set the same field", s->variable,
                               lc_settings[j].variable);
        }
    }
}

Test(settings, option_names_and_default_texts)
{
    static const struct {
        enum lc_setting_id id;
        const char *option, *default_text;
    } rows[] = {
        { LC_SETTING_MODE, "mode", "auto" },
        { LC_SETTING_IDLE_TIMEOUT, "idle-timeout", "2s" },
        { LC_SETTING_TIMEOUT, "timeout", "30s" },
        { LC_SETTING_EXIT_TIMEOUT, "exit-timeout", "2s" },
        { LC_SETTING_PEER_FIN_WAIT, "peer-fin-wait", "off" },
        { LC_SETTING_MAX_SOCKETS, "max-sockets", "a quarter of the open-file limit, 16 to 16384" },
        { LC_SETTING_MAX_BYTES, "max-bytes", "unlimited" },
        { LC_SETTING_MAX_QUEUED, "max-queued", "64M" },
        { LC_SETTING_PORTS, "ports", "every port" },
        { LC_SETTING_EXCLUDE_PORTS, "exclude-ports", "none" },
        { LC_SETTING_STATS_FILE, "stats-file", "none" },
        { LC_SETTING_STATS_INTERVAL, "stats-interval", "10s" },
        { LC_SETTING_LOG, "log", "warn" },
        { LC_SETTING_LOG_TARGET, "log-target", "stderr" },
    };
    cr_assert_eq(ARRAY_LEN(rows), LC_SETTING_COUNT);
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        char option[32];
        lc_setting_option(&lc_settings[rows[i].id], option, sizeof option);
        cr_expect_str_eq(option, rows[i].option);
        cr_expect_str_eq(lc_setting_default_text(&lc_settings[rows[i].id]),
                         rows[i].default_text, "--%s", rows[i].option);
    }
    char small[4];
    lc_setting_option(&lc_settings[LC_SETTING_IDLE_TIMEOUT], small, sizeof small);
    cr_expect_str_eq(small, "idl");
}

static const char *only_name, *only_value;
static unsigned only_complaints;

static const char *getenv_only(const char *name)
{
    return strcmp(name, only_name) == 0 ? only_value : NULL;
}

static void count_complaint(const char *line)
{
    (void)line;
    only_complaints++;
}

/* What the launcher accepts is what the library loads without a word. */
Test(settings, accepts_agrees_with_the_loader)
{
    static const char *const values[] = { "", "0", "1", "2s", "500ms", "64M", "unlimited", "off",
                                          "debug", "syslog", "80,8000-8099", "/run/x.prom",
                                          "x", "-1", "1h", "61s", "1048577" };
    for (size_t i = 0; i < LC_SETTING_COUNT; i++) {
        for (size_t v = 0; v < ARRAY_LEN(values); v++) {
            struct lc_conf c;
            only_name = lc_settings[i].variable;
            only_value = values[v];
            only_complaints = 0;
            lc_conf_load(&c, 1024, getenv_only, count_complaint);
            cr_expect_eq(lc_setting_accepts(&lc_settings[i], only_value), only_complaints == 0,
                         "%s='%s'", only_name, only_value);
        }
    }
}

/* ---- ports, statistics file and interval, log target ------------------- */

Test(parse_port_list, accepts_ports_ranges_and_blanks)
{
    struct lc_port_set set;
    cr_assert(lc_parse_port_list("80", &set));
    cr_expect_eq(set.count, 1);
    cr_expect(lc_port_set_contains(&set, 80));
    cr_expect_not(lc_port_set_contains(&set, 81));

    cr_assert(lc_parse_port_list(" 80, 443 ,8000-8099,1-1,65535 ", &set));
    cr_expect_eq(set.count, 5);
    static const uint16_t in[] = { 1, 80, 443, 8000, 8050, 8099, 65535 };
    static const uint16_t out[] = { 2, 79, 81, 442, 444, 7999, 8100, 65534 };
    for (size_t i = 0; i < ARRAY_LEN(in); i++)
        cr_expect(lc_port_set_contains(&set, in[i]), "port %u", in[i]);
    for (size_t i = 0; i < ARRAY_LEN(out); i++)
        cr_expect_not(lc_port_set_contains(&set, out[i]), "port %u", out[i]);

    cr_assert(lc_parse_port_list("", &set));
    cr_expect_eq(set.count, 0);
    cr_assert(lc_parse_port_list("  ", &set));
    cr_expect_eq(set.count, 0);
}

Test(parse_port_list, rejects_the_rest_and_leaves_output)
{
    static const char *const bad[] = {
        "0",     "65536", "-1",  "80-",  "-80",  "90-80", "80,,443", "80,",   ",80",
        "80 443", "http", "0x50", "+80", "80-90-100", "1e3", "80;443", "80-0", "\x80",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct lc_port_set set = { .count = 7 };
        cr_expect_not(lc_parse_port_list(bad[i], &set), "accepted '%s'", bad[i]);
        cr_expect_eq(set.count, 7, "'%s' changed the output", bad[i]);
    }
    for (size_t i = 0; i < ARRAY_LEN(overflowing); i++) {
        struct lc_port_set set = { .count = 7 };
        cr_expect_not(lc_parse_port_list(overflowing[i], &set), "accepted '%s'", overflowing[i]);
    }
    struct lc_port_set set;
    cr_expect_not(lc_parse_port_list(NULL, &set));
}

Test(parse_port_list, at_most_64_items)
{
    char text[1024] = "";
    for (int i = 1; i <= LC_MAX_PORT_RANGES; i++) {
        char item[16];
        snprintf(item, sizeof item, "%s%d", i > 1 ? "," : "", i);
        strcat(text, item);
    }
    struct lc_port_set set;
    cr_expect(lc_parse_port_list(text, &set));
    cr_expect_eq(set.count, LC_MAX_PORT_RANGES);
    strcat(text, ",65");
    cr_expect_not(lc_parse_port_list(text, &set));
}

Test(port_filter, include_and_exclude_lists)
{
    struct lc_conf c;
    lc_conf_defaults(&c, 1024);
    cr_expect_not(lc_port_filter_active(&c));
    cr_expect(lc_port_may_linger(&c, 80));

    cr_assert(lc_parse_port_list("8000-8099", &c.ports));
    cr_expect(lc_port_filter_active(&c));
    cr_expect(lc_port_may_linger(&c, 8080));
    cr_expect_not(lc_port_may_linger(&c, 6379));

    cr_assert(lc_parse_port_list("8080", &c.exclude_ports));
    cr_expect_not(lc_port_may_linger(&c, 8080));
    cr_expect(lc_port_may_linger(&c, 8081));

    cr_assert(lc_parse_port_list("", &c.ports));
    cr_expect(lc_port_filter_active(&c));
    cr_expect(lc_port_may_linger(&c, 6379));
    cr_expect_not(lc_port_may_linger(&c, 8080));
}

Test(parse_stats, interval_and_path)
{
    uint32_t ms = SENTINEL32;
    cr_expect(lc_parse_stats_interval("0", &ms));
    cr_expect_eq(ms, 0);
    cr_expect(lc_parse_stats_interval("1s", &ms));
    cr_expect_eq(ms, 1000);
    cr_expect(lc_parse_stats_interval("60m", &ms));
    cr_expect_eq(ms, 3600000);
    ms = SENTINEL32;
    static const char *const bad[] = { "999ms", "61m", "0s", "00", "", "-1", "10sx" };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        cr_expect_not(lc_parse_stats_interval(bad[i], &ms), "accepted '%s'", bad[i]);
    cr_expect_eq(ms, SENTINEL32);

    char path[LC_STATS_PATH_MAX];
    cr_expect(lc_parse_stats_path("", path, sizeof path));
    cr_expect_str_empty(path);
    cr_expect(lc_parse_stats_path("/var/lib/node/lingerclose-%p.prom", path, sizeof path));
    cr_expect_str_eq(path, "/var/lib/node/lingerclose-%p.prom");
    strcpy(path, "unchanged");
    cr_expect_not(lc_parse_stats_path("stats.prom", path, sizeof path));
    char long_path[LC_STATS_PATH_MAX + 1];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    cr_expect_not(lc_parse_stats_path(long_path, path, sizeof path));
    cr_expect_str_eq(path, "unchanged");
}

Test(parse_log_target, names)
{
    enum lc_log_target t = LC_LOG_TARGET_STDERR;
    cr_expect(lc_parse_log_target("SYSLOG", &t));
    cr_expect_eq(t, LC_LOG_TARGET_SYSLOG);
    cr_expect(lc_parse_log_target("stderr", &t));
    cr_expect_eq(t, LC_LOG_TARGET_STDERR);
    cr_expect_not(lc_parse_log_target("journal", &t));
    cr_expect_str_eq(lc_log_target_name(LC_LOG_TARGET_SYSLOG), "syslog");
}

/* ---- lc_conf_load ----------------------------------------------------- */

#define MAX_VARS 16
#define MAX_COMPLAINTS 16

static const char *const all_vars[] = {
    "LINGERCLOSE_LOG",       "LINGERCLOSE_MODE",          "LINGERCLOSE_IDLE_TIMEOUT",
    "LINGERCLOSE_TIMEOUT",   "LINGERCLOSE_EXIT_TIMEOUT", "LINGERCLOSE_MAX_BYTES",
    "LINGERCLOSE_MAX_QUEUED", "LINGERCLOSE_MAX_SOCKETS", "LINGERCLOSE_LOG_TARGET",  "LINGERCLOSE_PORTS",
    "LINGERCLOSE_EXCLUDE_PORTS", "LINGERCLOSE_STATS_FILE", "LINGERCLOSE_STATS_INTERVAL",
    "LINGERCLOSE_PEER_FIN_WAIT",
};

/* The fake environment and what the loader did with it. Each Criterion test
 * runs in its own worker process, so static state starts fresh. */
static struct {
    const char *names[MAX_VARS];
    const char *values[MAX_VARS];
    size_t count;
    unsigned asked[ARRAY_LEN(all_vars)];
    unsigned asked_other;
} env;

static struct {
    char lines[MAX_COMPLAINTS][1024];
    size_t count;
    size_t calls;
} complaints;

static void env_reset(void)
{
    memset(&env, 0, sizeof env);
    memset(&complaints, 0, sizeof complaints);
}

static void env_set(const char *name, const char *value)
{
    for (size_t i = 0; i < env.count; i++) {
        if (strcmp(env.names[i], name) == 0) {
            env.values[i] = value;
            return;
        }
    }
    cr_assert_lt(env.count, (size_t)MAX_VARS);
    env.names[env.count] = name;
    env.values[env.count] = value;
    env.count++;
}

static const char *fake_getenv(const char *name)
{
    size_t i;
    for (i = 0; i < ARRAY_LEN(all_vars); i++) {
        if (strcmp(all_vars[i], name) == 0) {
            env.asked[i]++;
            break;
        }
    }
    if (i == ARRAY_LEN(all_vars))
        env.asked_other++;
    for (i = 0; i < env.count; i++)
        if (strcmp(env.names[i], name) == 0)
            return env.values[i];
    return NULL;
}

static void record_complaint(const char *line)
{
    complaints.calls++;
    if (complaints.count < MAX_COMPLAINTS) {
        snprintf(complaints.lines[complaints.count], sizeof complaints.lines[0], "%s", line);
        complaints.count++;
    }
}

static void load(struct lc_conf *c, uint64_t nofile)
{
    memset(c, 0xa5, sizeof *c);
    lc_conf_load(c, nofile, fake_getenv, record_complaint);
}

/* Valid values that differ from every default. */
static void set_all_valid(void)
{
    env_set("LINGERCLOSE_LOG", "debug");
    env_set("LINGERCLOSE_MODE", "always");
    env_set("LINGERCLOSE_IDLE_TIMEOUT", "500ms");
    env_set("LINGERCLOSE_TIMEOUT", "2m");
    env_set("LINGERCLOSE_EXIT_TIMEOUT", "250ms");
    env_set("LINGERCLOSE_PEER_FIN_WAIT", "300ms");
    env_set("LINGERCLOSE_MAX_BYTES", "64K");
    env_set("LINGERCLOSE_MAX_QUEUED", "8M");
    env_set("LINGERCLOSE_MAX_SOCKETS", "100");
    env_set("LINGERCLOSE_LOG_TARGET", "syslog");
    env_set("LINGERCLOSE_PORTS", "80,8000-8099");
    env_set("LINGERCLOSE_EXCLUDE_PORTS", "8080");
    env_set("LINGERCLOSE_STATS_FILE", "/run/lingerclose/%p.prom");
    env_set("LINGERCLOSE_STATS_INTERVAL", "1m");
}

Test(conf_load, nothing_set_gives_the_defaults)
{
    env_reset();
    struct lc_conf c;
    load(&c, 1024);
    expect_defaults(&c, 256);
    cr_expect_eq(complaints.calls, 0, "unexpected complaint: %s", complaints.lines[0]);
    for (size_t i = 0; i < ARRAY_LEN(all_vars); i++)
        cr_expect_eq(env.asked[i], 1, "%s looked up %u times", all_vars[i], env.asked[i]);
    cr_expect_eq(env.asked_other, 0, "looked up a variable it does not document");

    env_reset();
    load(&c, 40);
    expect_defaults(&c, 16);
    cr_expect_eq(complaints.calls, 0);

    env_reset();
    load(&c, 10000000);
    expect_defaults(&c, 16384);
    cr_expect_eq(complaints.calls, 0);
}

Test(conf_load, unrelated_variables_are_ignored)
{
    env_reset();
    env_set("LINGERCLOSE_MODEX", "garbage");
    env_set("LINGERCLOSE", "off");
    env_set("lingerclose_mode", "off");
    env_set("PATH", "/bin");
    struct lc_conf c;
    load(&c, 1024);
    expect_defaults(&c, 256);
    cr_expect_eq(complaints.calls, 0);
}

Test(conf_load, valid_values_are_used)
{
    env_reset();
    set_all_valid();
    struct lc_conf c;
    load(&c, 1024);
    cr_expect_eq(complaints.calls, 0, "unexpected complaint: %s", complaints.lines[0]);
    cr_expect_eq(c.log_level, LC_LOG_DEBUG);
    cr_expect_eq(c.mode, LC_MODE_ALWAYS);
    cr_expect_eq(c.idle_timeout_ms, 500);
    cr_expect_eq(c.total_timeout_ms, 120000);
    cr_expect_eq(c.exit_timeout_ms, 250);
    cr_expect_eq(c.peer_fin_wait_ms, 300);
    cr_expect_eq(c.max_bytes, 65536);
    cr_expect_eq(c.max_queued, 8u << 20);
    cr_expect_eq(c.max_sockets, 100);
    cr_expect_eq(c.log_target, LC_LOG_TARGET_SYSLOG);
    cr_expect_eq(c.ports.count, 2);
    cr_expect_eq(c.exclude_ports.count, 1);
    cr_expect_str_eq(c.stats_path, "/run/lingerclose/%p.prom");
    cr_expect_eq(c.stats_interval_ms, 60000);
}

Test(conf_load, more_valid_values)
{
    static const struct {
        const char *var, *value;
        size_t offset;
        uint64_t expect;
    } rows[] = {
        { "LINGERCLOSE_MODE", "off", offsetof(struct lc_conf, mode), LC_MODE_OFF },
        { "LINGERCLOSE_MODE", "AUTO", offsetof(struct lc_conf, mode), LC_MODE_AUTO },
        { "LINGERCLOSE_LOG", "error", offsetof(struct lc_conf, log_level), LC_LOG_ERROR },
        { "LINGERCLOSE_LOG", "INFO", offsetof(struct lc_conf, log_level), LC_LOG_INFO },
        { "LINGERCLOSE_IDLE_TIMEOUT", "1ms", offsetof(struct lc_conf, idle_timeout_ms), 1 },
        { "LINGERCLOSE_IDLE_TIMEOUT", "5", offsetof(struct lc_conf, idle_timeout_ms), 5000 },
        { "LINGERCLOSE_IDLE_TIMEOUT", "60m", offsetof(struct lc_conf, idle_timeout_ms),
          3600000 },
        { "LINGERCLOSE_TIMEOUT", "3600s", offsetof(struct lc_conf, total_timeout_ms), 3600000 },
        { "LINGERCLOSE_TIMEOUT", "10S", offsetof(struct lc_conf, total_timeout_ms), 10000 },
        { "LINGERCLOSE_EXIT_TIMEOUT", "0", offsetof(struct lc_conf, exit_timeout_ms), 0 },
        { "LINGERCLOSE_EXIT_TIMEOUT", "0ms", offsetof(struct lc_conf, exit_timeout_ms), 0 },
        { "LINGERCLOSE_EXIT_TIMEOUT", "1", offsetof(struct lc_conf, exit_timeout_ms), 1000 },
        { "LINGERCLOSE_EXIT_TIMEOUT", "60s", offsetof(struct lc_conf, exit_timeout_ms), 60000 },
        { "LINGERCLOSE_EXIT_TIMEOUT", "1m", offsetof(struct lc_conf, exit_timeout_ms), 60000 },
        { "LINGERCLOSE_PEER_FIN_WAIT", "off", offsetof(struct lc_conf, peer_fin_wait_ms), 0 },
        { "LINGERCLOSE_PEER_FIN_WAIT", "OFF", offsetof(struct lc_conf, peer_fin_wait_ms), 0 },
        { "LINGERCLOSE_PEER_FIN_WAIT", "0", offsetof(struct lc_conf, peer_fin_wait_ms), 0 },
        { "LINGERCLOSE_PEER_FIN_WAIT", "1ms", offsetof(struct lc_conf, peer_fin_wait_ms), 1 },
        { "LINGERCLOSE_PEER_FIN_WAIT", "1s", offsetof(struct lc_conf, peer_fin_wait_ms), 1000 },
        { "LINGERCLOSE_PEER_FIN_WAIT", "1h", offsetof(struct lc_conf, peer_fin_wait_ms), 3600000 },
        { "LINGERCLOSE_MAX_BYTES", "unlimited", offsetof(struct lc_conf, max_bytes), 0 },
        { "LINGERCLOSE_MAX_BYTES", "0", offsetof(struct lc_conf, max_bytes), 0 },
        { "LINGERCLOSE_MAX_BYTES", "12345", offsetof(struct lc_conf, max_bytes), 12345 },
        { "LINGERCLOSE_MAX_BYTES", "2m", offsetof(struct lc_conf, max_bytes), 2097152 },
        { "LINGERCLOSE_MAX_BYTES", "1048576G", offsetof(struct lc_conf, max_bytes),
          LC_MAX_MAX_BYTES },
        { "LINGERCLOSE_MAX_QUEUED", "unlimited", offsetof(struct lc_conf, max_queued), 0 },
        { "LINGERCLOSE_MAX_QUEUED", "0", offsetof(struct lc_conf, max_queued), 0 },
        { "LINGERCLOSE_MAX_QUEUED", "1", offsetof(struct lc_conf, max_queued), 1 },
        { "LINGERCLOSE_MAX_QUEUED", "1g", offsetof(struct lc_conf, max_queued), 1073741824 },
        { "LINGERCLOSE_MAX_QUEUED", "1048576G", offsetof(struct lc_conf, max_queued),
          LC_MAX_MAX_BYTES },
        { "LINGERCLOSE_MAX_SOCKETS", "1", offsetof(struct lc_conf, max_sockets), 1 },
        { "LINGERCLOSE_MAX_SOCKETS", "1048576", offsetof(struct lc_conf, max_sockets),
          1048576 },
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        env_reset();
        env_set(rows[i].var, rows[i].value);
        struct lc_conf c;
        load(&c, 1024);
        cr_expect_eq(complaints.calls, 0, "%s=%s: unexpected complaint: %s", rows[i].var,
                     rows[i].value, complaints.lines[0]);
        const char *field = (const char *)&c + rows[i].offset;
        uint64_t got;
        if (rows[i].offset == offsetof(struct lc_conf, max_bytes) ||
            rows[i].offset == offsetof(struct lc_conf, max_queued)) {
            memcpy(&got, field, sizeof(uint64_t));
        } else if (rows[i].offset == offsetof(struct lc_conf, mode)) {
            got = (uint64_t)c.mode;
        } else if (rows[i].offset == offsetof(struct lc_conf, log_level)) {
            got = (uint64_t)c.log_level;
        } else {
            uint32_t v32;
            memcpy(&v32, field, sizeof v32);
            got = v32;
        }
        cr_expect_eq(got, rows[i].expect, "%s=%s: got %llu, expected %llu", rows[i].var,
                     rows[i].value, (unsigned long long)got, (unsigned long long)rows[i].expect);
    }
}

struct bad_row {
    const char *var;
    const char *value;
    const char *default_text; /* how the complaint names the default */
};

static const struct bad_row bad_rows[] = {
    { "LINGERCLOSE_LOG", "verbose", "warn" },
    { "LINGERCLOSE_LOG", "warning", "warn" },
    { "LINGERCLOSE_LOG", "", "warn" },
    { "LINGERCLOSE_MODE", "on", "auto" },
    { "LINGERCLOSE_MODE", "auto ", "auto" },
    { "LINGERCLOSE_MODE", "", "auto" },
    { "LINGERCLOSE_IDLE_TIMEOUT", "0", "2s" },
    { "LINGERCLOSE_IDLE_TIMEOUT", "abc", "2s" },
    { "LINGERCLOSE_IDLE_TIMEOUT", "3601s", "2s" },
    { "LINGERCLOSE_IDLE_TIMEOUT", "1.5s", "2s" },
    { "LINGERCLOSE_IDLE_TIMEOUT", "-1", "2s" },
    { "LINGERCLOSE_IDLE_TIMEOUT", "", "2s" },
    { "LINGERCLOSE_TIMEOUT", "61m", "30s" },
    { "LINGERCLOSE_TIMEOUT", "2 s", "30s" },
    { "LINGERCLOSE_TIMEOUT", "4294967296ms", "30s" },
    { "LINGERCLOSE_TIMEOUT", "2h", "30s" },
    { "LINGERCLOSE_PEER_FIN_WAIT", "61m", "off" },
    { "LINGERCLOSE_PEER_FIN_WAIT", "on", "off" },
    { "LINGERCLOSE_PEER_FIN_WAIT", "-1", "off" },
    { "LINGERCLOSE_PEER_FIN_WAIT", "", "off" },
    { "LINGERCLOSE_EXIT_TIMEOUT", "61s", "2s" },
    { "LINGERCLOSE_EXIT_TIMEOUT", "1h", "2s" },
    { "LINGERCLOSE_EXIT_TIMEOUT", "-1", "2s" },
    { "LINGERCLOSE_EXIT_TIMEOUT", "never", "2s" },
    { "LINGERCLOSE_EXIT_TIMEOUT", "", "2s" },
    { "LINGERCLOSE_EXIT_TIMEOUT", "99999999999999999999", "2s" },
    { "LINGERCLOSE_MAX_BYTES", "1048577G", "unlimited" },
    { "LINGERCLOSE_MAX_BYTES", "17179869184G", "unlimited" },
    { "LINGERCLOSE_MAX_BYTES", "1T", "unlimited" },
    { "LINGERCLOSE_MAX_BYTES", "-1", "unlimited" },
    { "LINGERCLOSE_MAX_BYTES", "none", "unlimited" },
    { "LINGERCLOSE_MAX_QUEUED", "1048577G", "64M" },
    { "LINGERCLOSE_MAX_QUEUED", "64MiB", "64M" },
    { "LINGERCLOSE_MAX_QUEUED", "-1", "64M" },
    { "LINGERCLOSE_MAX_QUEUED", "", "64M" },
    { "LINGERCLOSE_MAX_SOCKETS", "0", "256" },
    { "LINGERCLOSE_MAX_SOCKETS", "1048577", "256" },
    { "LINGERCLOSE_MAX_SOCKETS", "10K", "256" },
    { "LINGERCLOSE_MAX_SOCKETS", "+5", "256" },
    { "LINGERCLOSE_MAX_SOCKETS", "99999999999999999999", "256" },
    { "LINGERCLOSE_LOG_TARGET", "journal", "stderr" },
    { "LINGERCLOSE_LOG_TARGET", "", "stderr" },
    { "LINGERCLOSE_PORTS", "http", "(every port)" },
    { "LINGERCLOSE_PORTS", "0", "(every port)" },
    { "LINGERCLOSE_PORTS", "65536", "(every port)" },
    { "LINGERCLOSE_PORTS", "-80", "(every port)" },
    { "LINGERCLOSE_PORTS", "90-80", "(every port)" },
    { "LINGERCLOSE_PORTS", "80,,443", "(every port)" },
    { "LINGERCLOSE_PORTS", "80,", "(every port)" },
    { "LINGERCLOSE_PORTS", "99999999999999999999", "(every port)" },
    { "LINGERCLOSE_EXCLUDE_PORTS", "5432;6379", "(none)" },
    { "LINGERCLOSE_EXCLUDE_PORTS", "1-2-3", "(none)" },
    { "LINGERCLOSE_STATS_FILE", "relative.prom", "(none)" },
    { "LINGERCLOSE_STATS_INTERVAL", "500ms", "10s" },
    { "LINGERCLOSE_STATS_INTERVAL", "2h", "10s" },
    { "LINGERCLOSE_STATS_INTERVAL", "", "10s" },
    { "LINGERCLOSE_STATS_INTERVAL", "-1", "10s" },
};

/* The field a variable sets holds its default; every other field holds the
 * valid value set_all_valid() gave it. */
static void expect_only_var_defaulted(const struct lc_conf *c, const char *var, const char *what)
{
    bool is;

    is = strcmp(var, "LINGERCLOSE_LOG") == 0;
    cr_expect_eq(c->log_level, is ? LC_LOG_WARN : LC_LOG_DEBUG, "%s: log_level %d", what,
                 (int)c->log_level);
    is = strcmp(var, "LINGERCLOSE_MODE") == 0;
    cr_expect_eq(c->mode, is ? LC_MODE_AUTO : LC_MODE_ALWAYS, "%s: mode %d", what, (int)c->mode);
    is = strcmp(var, "LINGERCLOSE_IDLE_TIMEOUT") == 0;
    cr_expect_eq(c->idle_timeout_ms, is ? DEFAULT_IDLE_TIMEOUT_MS : 500u,
                 "%s: idle_timeout_ms %u", what, c->idle_timeout_ms);
    is = strcmp(var, "LINGERCLOSE_TIMEOUT") == 0;
    cr_expect_eq(c->total_timeout_ms, is ? DEFAULT_TOTAL_TIMEOUT_MS : 120000u,
                 "%s: total_timeout_ms %u", what, c->total_timeout_ms);
    is = strcmp(var, "LINGERCLOSE_EXIT_TIMEOUT") == 0;
    cr_expect_eq(c->exit_timeout_ms, is ? DEFAULT_EXIT_TIMEOUT_MS : 250u,
                 "%s: exit_timeout_ms %u", what, c->exit_timeout_ms);
    is = strcmp(var, "LINGERCLOSE_MAX_BYTES") == 0;
    cr_expect_eq(c->max_bytes, is ? 0u : 65536u, "%s: max_bytes %llu", what,
                 (unsigned long long)c->max_bytes);
    is = strcmp(var, "LINGERCLOSE_MAX_QUEUED") == 0;
    cr_expect_eq(c->max_queued, is ? DEFAULT_MAX_QUEUED : 8u << 20, "%s: max_queued %llu", what,
                 (unsigned long long)c->max_queued);
    is = strcmp(var, "LINGERCLOSE_MAX_SOCKETS") == 0;
    cr_expect_eq(c->max_sockets, is ? 256u : 100u, "%s: max_sockets %u", what, c->max_sockets);
    is = strcmp(var, "LINGERCLOSE_LOG_TARGET") == 0;
    cr_expect_eq(c->log_target, is ? LC_LOG_TARGET_STDERR : LC_LOG_TARGET_SYSLOG,
                 "%s: log_target %d", what, (int)c->log_target);
    is = strcmp(var, "LINGERCLOSE_PORTS") == 0;
    cr_expect_eq(c->ports.count, is ? 0u : 2u, "%s: %u port ranges", what, c->ports.count);
    is = strcmp(var, "LINGERCLOSE_EXCLUDE_PORTS") == 0;
    cr_expect_eq(c->exclude_ports.count, is ? 0u : 1u, "%s: %u excluded port ranges", what,
                 c->exclude_ports.count);
    is = strcmp(var, "LINGERCLOSE_STATS_FILE") == 0;
    cr_expect_str_eq(c->stats_path, is ? "" : "/run/lingerclose/%p.prom", "%s: stats_path %s",
                     what, c->stats_path);
    is = strcmp(var, "LINGERCLOSE_STATS_INTERVAL") == 0;
    cr_expect_eq(c->stats_interval_ms, is ? DEFAULT_STATS_INTERVAL_MS : 60000u,
                 "%s: stats_interval_ms %u", what, c->stats_interval_ms);
}

Test(conf_load, each_bad_value_gives_one_complaint_and_the_default)
{
    for (size_t i = 0; i < ARRAY_LEN(bad_rows); i++) {
        const struct bad_row *r = &bad_rows[i];
        char what[200];
        snprintf(what, sizeof what, "%s='%s'", r->var, r->value);

        env_reset();
        set_all_valid();
        env_set(r->var, r->value);
        struct lc_conf c;
        load(&c, 1024);

        cr_expect_eq(complaints.calls, 1, "%s: %zu complaints", what, complaints.calls);
        if (complaints.count < 1)
            continue;
        const char *line = complaints.lines[0];
        char quoted[200];
        snprintf(quoted, sizeof quoted, "'%s'", r->value);
        char default_text[100];
        snprintf(default_text, sizeof default_text, "default %s", r->default_text);

        cr_expect_not_null(strstr(line, r->var), "%s: complaint lacks the name: %s", what, line);
        cr_expect_not_null(strstr(line, quoted), "%s: complaint lacks the value: %s", what, line);
        cr_expect_not_null(strstr(line, "default"), "%s: complaint lacks 'default': %s", what,
                           line);
        cr_expect_not_null(strstr(line, default_text), "%s: complaint lacks \"%s\": %s", what,
                           default_text, line);
        cr_expect_null(strchr(line, '\n'), "%s: complaint is more than one line: %s", what,
                       line);
        expect_only_var_defaulted(&c, r->var, what);
    }
}

/* The default named in the complaint about LINGERCLOSE_MAX_SOCKETS follows
 * the file descriptor limit. */
Test(conf_load, max_sockets_complaint_names_the_computed_default)
{
    env_reset();
    env_set("LINGERCLOSE_MAX_SOCKETS", "lots");
    struct lc_conf c;
    load(&c, 200000);
    cr_assert_eq(complaints.calls, 1);
    cr_expect_not_null(strstr(complaints.lines[0], "default 16384"), "%s", complaints.lines[0]);
    cr_expect_eq(c.max_sockets, 16384);

    env_reset();
    env_set("LINGERCLOSE_MAX_SOCKETS", "lots");
    load(&c, 4);
    cr_assert_eq(complaints.calls, 1);
    cr_expect_not_null(strstr(complaints.lines[0], "default 16"), "%s", complaints.lines[0]);
    cr_expect_eq(c.max_sockets, 16);
}

Test(conf_load, every_bad_value_at_once)
{
    env_reset();
    env_set("LINGERCLOSE_LOG", "loud");
    env_set("LINGERCLOSE_MODE", "sometimes");
    env_set("LINGERCLOSE_IDLE_TIMEOUT", "0ms");
    env_set("LINGERCLOSE_TIMEOUT", "forever");
    env_set("LINGERCLOSE_EXIT_TIMEOUT", "5 s");
    env_set("LINGERCLOSE_PEER_FIN_WAIT", "always");
    env_set("LINGERCLOSE_MAX_BYTES", "1x");
    env_set("LINGERCLOSE_MAX_QUEUED", "lots");
    env_set("LINGERCLOSE_MAX_SOCKETS", "-3");
    env_set("LINGERCLOSE_LOG_TARGET", "console");
    env_set("LINGERCLOSE_PORTS", "80-");
    env_set("LINGERCLOSE_EXCLUDE_PORTS", "x");
    env_set("LINGERCLOSE_STATS_FILE", "stats");
    env_set("LINGERCLOSE_STATS_INTERVAL", "often");
    struct lc_conf c;
    load(&c, 1024);
    expect_defaults(&c, 256);
    cr_assert_eq(complaints.calls, ARRAY_LEN(all_vars), "%zu complaints", complaints.calls);
    /* one complaint per variable, each naming its own variable */
    for (size_t v = 0; v < ARRAY_LEN(all_vars); v++) {
        size_t naming = 0;
        for (size_t i = 0; i < complaints.count; i++) {
            const char *at = strstr(complaints.lines[i], all_vars[v]);
            /* LINGERCLOSE_TIMEOUT is a suffix of LINGERCLOSE_IDLE_TIMEOUT:
             * count only lines that start with the name and a '='. */
            if (at == complaints.lines[i] && at[strlen(all_vars[v])] == '=')
                naming++;
        }
        cr_expect_eq(naming, 1, "%zu complaints about %s", naming, all_vars[v]);
    }
    for (size_t i = 0; i < complaints.count; i++)
        cr_expect_not_null(strstr(complaints.lines[i], "default"), "%s", complaints.lines[i]);
}

/* A long value cannot be shown whole in a bounded line, but the complaint
 * must still name the variable and the default. */
Test(conf_load, long_bad_value_still_names_the_default)
{
    static char value[600];
    memset(value, 'x', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    for (size_t v = 0; v < ARRAY_LEN(all_vars); v++) {
        env_reset();
        env_set(all_vars[v], value);
        struct lc_conf c;
        load(&c, 1024);
        cr_expect_eq(complaints.calls, 1, "%s: %zu complaints", all_vars[v], complaints.calls);
        cr_expect_not_null(strstr(complaints.lines[0], all_vars[v]), "%s", complaints.lines[0]);
        cr_expect_not_null(strstr(complaints.lines[0], "default"), "%s: %s", all_vars[v],
                           complaints.lines[0]);
        expect_defaults(&c, 256);
    }
}

Test(conf_load, control_characters_stay_on_one_line)
{
    env_reset();
    env_set("LINGERCLOSE_MODE", "on\nLINGERCLOSE: fake line");
    struct lc_conf c;
    load(&c, 1024);
    cr_assert_eq(complaints.calls, 1);
    cr_expect_null(strchr(complaints.lines[0], '\n'), "%s", complaints.lines[0]);
    cr_expect_not_null(strstr(complaints.lines[0], "'on?LINGERCLOSE: fake line'"), "%s",
                       complaints.lines[0]);
}

Test(conf_load, bytes_beyond_ascii_are_masked)
{
    env_reset();
    env_set("LINGERCLOSE_MODE", "\xff\xfeon\xc3\xa9\x7f");
    struct lc_conf c;
    load(&c, 1024);
    cr_assert_eq(complaints.calls, 1);
    cr_expect_not_null(strstr(complaints.lines[0], "'??on???'"), "%s", complaints.lines[0]);
    for (const char *p = complaints.lines[0]; *p; p++)
        cr_expect((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f, "byte %#x in: %s",
                  (unsigned char)*p, complaints.lines[0]);
}

/* ---- lc_format, lc_formatf -------------------------------------------- */

/* Calls lc_format with a format the compiler must not check (unknown or
 * incomplete conversions). */
static size_t format_unchecked(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = lc_format(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

Test(format, every_conversion)
{
    char buf[256];
    size_t n = lc_formatf(buf, sizeof buf, "s=%s d=%d u=%u ld=%ld lu=%lu lld=%lld llu=%llu zu=%zu c=%c pct=%%",
                          "str", -42, 42u, -1234567890123L, 1234567890123UL, -9876543210LL,
                          9876543210ULL, (size_t)77, 'x');
    const char *want =
        "s=str d=-42 u=42 ld=-1234567890123 lu=1234567890123 lld=-9876543210 llu=9876543210 "
        "zu=77 c=x pct=%";
    cr_expect_str_eq(buf, want);
    cr_expect_eq(n, strlen(want));
}

Test(format, extremes)
{
    char buf[128];
    lc_formatf(buf, sizeof buf, "%d %d %d", 0, INT_MIN, INT_MAX);
    cr_expect_str_eq(buf, "0 -2147483648 2147483647");
    lc_formatf(buf, sizeof buf, "%u %u", 0u, UINT_MAX);
    cr_expect_str_eq(buf, "0 4294967295");
    lc_formatf(buf, sizeof buf, "%lld %lld", LLONG_MIN, LLONG_MAX);
    cr_expect_str_eq(buf, "-9223372036854775808 9223372036854775807");
    lc_formatf(buf, sizeof buf, "%llu", ULLONG_MAX);
    cr_expect_str_eq(buf, "18446744073709551615");
    lc_formatf(buf, sizeof buf, "%ld %lu", LONG_MIN, ULONG_MAX);
    cr_expect_str_eq(buf, "-9223372036854775808 18446744073709551615");
    lc_formatf(buf, sizeof buf, "%zu", SIZE_MAX);
    cr_expect_str_eq(buf, "18446744073709551615");
}

Test(format, plain_text_and_empty)
{
    char buf[64];
    cr_expect_eq(lc_formatf(buf, sizeof buf, "no conversions"), 14);
    cr_expect_str_eq(buf, "no conversions");
    cr_expect_eq(lc_formatf(buf, sizeof buf, "%s", ""), 0);
    cr_expect_str_eq(buf, "");
    memset(buf, 'z', sizeof buf);
    cr_expect_eq(format_unchecked(buf, sizeof buf, ""), 0);
    cr_expect_str_eq(buf, "");
}

Test(format, null_string)
{
    char buf[64];
    const char *null = NULL;
    format_unchecked(buf, sizeof buf, "[%s]", null);
    cr_expect_str_eq(buf, "[(null)]");
}

Test(format, truncates_and_terminates)
{
    char buf[16];

    memset(buf, 'z', sizeof buf);
    cr_expect_eq(lc_formatf(buf, 5, "hello world"), 4);
    cr_expect_str_eq(buf, "hell");
    cr_expect_eq(buf[5], 'z', "wrote past the given size");

    memset(buf, 'z', sizeof buf);
    cr_expect_eq(lc_formatf(buf, 6, "%d", -1234567), 5);
    cr_expect_str_eq(buf, "-1234");
    cr_expect_eq(buf[6], 'z');

    memset(buf, 'z', sizeof buf);
    cr_expect_eq(lc_formatf(buf, 4, "%s and %s", "abcdef", "ghi"), 3);
    cr_expect_str_eq(buf, "abc");
    cr_expect_eq(buf[4], 'z');

    memset(buf, 'z', sizeof buf);
    cr_expect_eq(lc_formatf(buf, 1, "anything %d", 5), 0);
    cr_expect_eq(buf[0], '\0');
    cr_expect_eq(buf[1], 'z');

    /* Exactly fits. */
    memset(buf, 'z', sizeof buf);
    cr_expect_eq(lc_formatf(buf, 6, "%s", "12345"), 5);
    cr_expect_str_eq(buf, "12345");
    cr_expect_eq(buf[6], 'z');
}

Test(format, size_zero_writes_nothing)
{
    char buf[4] = { 'a', 'b', 'c', 'd' };
    cr_expect_eq(lc_formatf(buf, 0, "%s", "text"), 0);
    cr_expect_eq(memcmp(buf, "abcd", 4), 0);
    cr_expect_eq(lc_formatf(NULL, 0, "%s %d", "text", 5), 0);
}

Test(format, unknown_and_incomplete_conversions)
{
    char buf[64];
    /* An unknown conversion is copied and consumes no argument. */
    format_unchecked(buf, sizeof buf, "%x %s", "next");
    cr_expect_str_eq(buf, "%x next");
    format_unchecked(buf, sizeof buf, "100%% %q");
    cr_expect_str_eq(buf, "100% %q");
    /* A format ending inside a conversion stops without reading past it. */
    format_unchecked(buf, sizeof buf, "abc%");
    cr_expect_str_eq(buf, "abc");
    format_unchecked(buf, sizeof buf, "abc%l");
    cr_expect_str_eq(buf, "abc");
    format_unchecked(buf, sizeof buf, "abc%ll");
    cr_expect_str_eq(buf, "abc");
}

Test(format, long_output_into_a_large_buffer)
{
    char big[700];
    char src[600];
    memset(src, 'q', sizeof src - 1);
    src[sizeof src - 1] = '\0';
    size_t n = lc_formatf(big, sizeof big, "<%s>", src);
    cr_expect_eq(n, 601);
    cr_expect_eq(big[0], '<');
    cr_expect_eq(big[600], '>');
    cr_expect_eq(big[601], '\0');
}

/* A LINGERCLOSE_* entry that is no setting: the closest setting, so that a
 * misspelling is pointed out rather than ignored. */
Test(unknown_variables, misspelt_settings_get_the_closest)
{
    static const struct {
        const char *entry, *closest;
    } cases[] = {
        { "LINGERCLOSE_TIMOUT=10s", "LINGERCLOSE_TIMEOUT" },
        { "LINGERCLOSE_IDLE_TIMOUT=1s", "LINGERCLOSE_IDLE_TIMEOUT" },
        { "LINGERCLOSE_STATSFILE=/x", "LINGERCLOSE_STATS_FILE" },
        { "LINGERCLOSE_MAX_SOCKET=5", "LINGERCLOSE_MAX_SOCKETS" },
        { "LINGERCLOSE_LOGTARGET=syslog", "LINGERCLOSE_LOG_TARGET" },
        { "LINGERCLOSE_MODEX", "LINGERCLOSE_MODE" },
        { "LINGERCLOSE_=1", "LINGERCLOSE_LOG" },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = lc_unknown_variable_suggestion(cases[i].entry);
        cr_expect(got && strcmp(got, cases[i].closest) == 0, "%s: got %s, not %s", cases[i].entry,
                  got ? got : "nothing", cases[i].closest);
    }
}

Test(unknown_variables, settings_and_other_variables_get_nothing)
{
    for (size_t i = 0; i < LC_SETTING_COUNT; i++) {
        char entry[128];
        snprintf(entry, sizeof entry, "%s=anything", lc_settings[i].variable);
        cr_expect_null(lc_unknown_variable_suggestion(entry), "%s", entry);
        cr_expect_null(lc_unknown_variable_suggestion(lc_settings[i].variable), "%s (no '=')",
                       lc_settings[i].variable);
    }
    static const char *const others[] = { "LINGERCLOSE_SHARED=1:2", "PATH=/bin", "LINGERCLOSE=off",
                                          "lingerclose_mode=off", "XLINGERCLOSE_MODE=off", "" };
    for (size_t i = 0; i < ARRAY_LEN(others); i++)
        cr_expect_null(lc_unknown_variable_suggestion(others[i]), "%s", others[i]);
}

/* The environment is untrusted: a name of any length is looked at only up
 * to LC_VARIABLE_NAME_MAX, and shown cut and printable. */
Test(unknown_variables, long_and_unprintable_names_are_bounded)
{
    static char entry[100000];
    memcpy(entry, "LINGERCLOSE_", 12);
    memset(entry + 12, 'A', sizeof entry - 13);
    cr_expect_not_null(lc_unknown_variable_suggestion(entry));
    char shown[LC_VARIABLE_NAME_MAX + 4];
    lc_variable_name_shown(entry, shown, sizeof shown);
    cr_expect_eq(strlen(shown), LC_VARIABLE_NAME_MAX + 3);
    cr_expect_str_eq(shown + LC_VARIABLE_NAME_MAX, "...");

    lc_variable_name_shown("LINGERCLOSE_MO\001\377DE=1", shown, sizeof shown);
    cr_expect_str_eq(shown, "LINGERCLOSE_MO??DE");
    lc_variable_name_shown("LINGERCLOSE_TIMOUT=10s", shown, 8);
    cr_expect_str_eq(shown, "LING...");
}

Test(unknown_variables, edit_distance)
{
    cr_expect_eq(lc_edit_distance("TIMOUT", 6, "TIMEOUT", 7), 1);
    cr_expect_eq(lc_edit_distance("", 0, "MODE", 4), 4);
    cr_expect_eq(lc_edit_distance("MODE", 4, "MODE", 4), 0);
    cr_expect_eq(lc_edit_distance("kitten", 6, "sitting", 7), 3);
}
