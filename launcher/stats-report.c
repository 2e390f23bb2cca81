/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "stats-report.h"

#define METRIC_PREFIX "lingerclose_"
#define LABEL_MAX 64
#define MAX_LABELS 8
/* More kinds of reason than the library has, so that new ones still show. */
#define MAX_BREAKDOWN 32

struct breakdown {
    unsigned count;
    struct {
        char label[LABEL_MAX];
        double value;
    } items[MAX_BREAKDOWN];
};

struct summary {
    double closes, discarded, fallbacks, lingering_now;
    bool has_closes;
    double newest_written, oldest_written; /* Unix time; 0: not given */
    char version[LABEL_MAX];
    char pid[LABEL_MAX];
    struct breakdown lingering, plain, ended, fin_deferred;
};

struct sample {
    char name[128];
    unsigned label_count;
    struct {
        char name[LABEL_MAX], value[LABEL_MAX];
    } labels[MAX_LABELS];
    double value;
};

static const char *label(const struct sample *s, const char *name)
{
    for (unsigned i = 0; i < s->label_count; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return s->labels[i].value;
    return NULL;
}

static void add_to(struct breakdown *b, const char *key, double value)
{
    if (!key)
        key = "?";
    for (unsigned i = 0; i < b->count; i++) {
        if (strcmp(b->items[i].label, key) == 0) {
            b->items[i].value += value;
            return;
        }
    }
    if (b->count == MAX_BREAKDOWN)
        return;
    snprintf(b->items[b->count].label, LABEL_MAX, "%s", key);
    b->items[b->count].value = value;
    b->count++;
}

static double breakdown_total(const struct breakdown *b)
{
    double total = 0;
    for (unsigned i = 0; i < b->count; i++)
        total += b->items[i].value;
    return total;
}

static bool is_name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' ||
           (!first && isdigit((unsigned char)c));
}

/* One label value in double quotes, with the format's three escapes. */
static const char *parse_quoted(const char *p, char *out, size_t size)
{
    if (*p++ != '"')
        return NULL;
    size_t len = 0;
    for (; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            p++;
            if (*p == 'n')
                c = '\n';
            else if (*p == '\\' || *p == '"')
                c = *p;
            else
                return NULL;
        }
        if (len + 1 < size)
            out[len++] = c;
    }
    out[len] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

static const char *parse_labels(const char *p, struct sample *s)
{
    p++; /* '{' */
    for (;;) {
        p += strspn(p, " \t");
        if (*p == '}')
            return p + 1;
        if (s->label_count == MAX_LABELS || !is_name_char(*p, true))
            return NULL;
        size_t len = 1;
        while (is_name_char(p[len], false))
            len++;
        snprintf(s->labels[s->label_count].name, LABEL_MAX, "%.*s", (int)len, p);
        p += len;
        p += strspn(p, " \t");
        if (*p++ != '=')
            return NULL;
        p += strspn(p, " \t");
        p = parse_quoted(p, s->labels[s->label_count].value, LABEL_MAX);
        if (!p)
            return NULL;
        s->label_count++;
        p += strspn(p, " \t");
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
}

/* name{label="value",...} value [timestamp] */
static bool parse_sample(const char *line, struct sample *s)
{
    *s = (struct sample){ .label_count = 0 };
    const char *p = line;
    if (!is_name_char(*p, true))
        return false;
    size_t len = 1;
    while (is_name_char(p[len], false))
        len++;
    if (len >= sizeof s->name)
        return false;
    memcpy(s->name, p, len);
    s->name[len] = '\0';
    p += len;
    if (*p == '{' && !(p = parse_labels(p, s)))
        return false;
    if (*p != ' ' && *p != '\t')
        return false;
    p += strspn(p, " \t");
    char *end;
    errno = 0;
    s->value = strtod(p, &end);
    if (end == p || errno == ERANGE)
        return false;
    p = end + strspn(end, " \t");
    if (*p == '\0')
        return true;
    (void)strtoll(p, &end, 10); /* an optional timestamp in ms */
    return end != p && end[strspn(end, " \t")] == '\0';
}

static void note_written(struct summary *sum, double when)
{
    if (sum->newest_written == 0 || when > sum->newest_written)
        sum->newest_written = when;
    if (sum->oldest_written == 0 || when < sum->oldest_written)
        sum->oldest_written = when;
}

static void take_sample(struct summary *sum, const struct sample *s)
{
    const char *name = s->name + strlen(METRIC_PREFIX);
    const char *pid = label(s, "pid");
    if (pid && !sum->pid[0])
        snprintf(sum->pid, sizeof sum->pid, "%s", pid);
    if (strcmp(name, "info") == 0) {
        const char *version = label(s, "version");
        if (version)
            snprintf(sum->version, sizeof sum->version, "%s", version);
    } else if (strcmp(name, "closes_total") == 0) {
        sum->closes += s->value;
        sum->has_closes = true;
    } else if (strcmp(name, "lingering_closes_total") == 0) {
        add_to(&sum->lingering, label(s, "reason"), s->value);
    } else if (strcmp(name, "plain_closes_total") == 0) {
        add_to(&sum->plain, label(s, "reason"), s->value);
    } else if (strcmp(name, "drains_ended_total") == 0) {
        add_to(&sum->ended, label(s, "end"), s->value);
    } else if (strcmp(name, "fin_deferred_total") == 0) {
        add_to(&sum->fin_deferred, label(s, "outcome"), s->value);
    } else if (strcmp(name, "discarded_bytes_total") == 0) {
        sum->discarded += s->value;
    } else if (strcmp(name, "capacity_fallbacks_total") == 0) {
        sum->fallbacks += s->value;
    } else if (strcmp(name, "lingering_sockets") == 0) {
        sum->lingering_now += s->value;
    } else if (strcmp(name, "stats_written_timestamp_seconds") == 0) {
        note_written(sum, s->value);
    }
    /* Series of later versions of the library are skipped. */
}

/* Reads one file; on failure writes why into error. */
static bool read_summary(const char *path, struct summary *sum, char *error, size_t esize)
{
    *sum = (struct summary){ .closes = 0 };
    /* The path may be another user's choice (--status reads it from the
     * process): a FIFO or a device planted there is refused, not read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        snprintf(error, esize, "not a regular file");
        return false;
    }
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        snprintf(error, esize, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned number = 0;
    bool ok = true;
    while ((n = getline(&line, &cap, f)) >= 0) {
        number++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        const char *text = line + strspn(line, " \t");
        if (*text == '\0' || *text == '#')
            continue;
        struct sample s;
        if (!parse_sample(text, &s)) {
            snprintf(error, esize, "line %u is not a metric line", number);
            ok = false;
            break;
        }
        if (strncmp(s.name, METRIC_PREFIX, strlen(METRIC_PREFIX)) == 0)
            take_sample(sum, &s);
    }
    if (ok && ferror(f)) {
        snprintf(error, esize, "%s", strerror(errno));
        ok = false;
    }
    free(line);
    fclose(f);
    if (ok && !sum->has_closes) {
        snprintf(error, esize,
                 "no lingerclose_closes_total: not a statistics file of the library");
        ok = false;
    }
    return ok;
}

static void add_summary(struct summary *total, const struct summary *s)
{
    total->closes += s->closes;
    total->discarded += s->discarded;
    total->fallbacks += s->fallbacks;
    total->lingering_now += s->lingering_now;
    if (s->newest_written)
        note_written(total, s->newest_written);
    if (s->oldest_written)
        note_written(total, s->oldest_written);
    const struct breakdown *from[] = { &s->lingering, &s->plain, &s->ended, &s->fin_deferred };
    struct breakdown *to[] = { &total->lingering, &total->plain, &total->ended,
                               &total->fin_deferred };
    for (size_t k = 0; k < sizeof from / sizeof *from; k++)
        for (unsigned i = 0; i < from[k]->count; i++)
            add_to(to[k], from[k]->items[i].label, from[k]->items[i].value);
}

static void format_age(char *buf, size_t size, double written)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double age = (double)now.tv_sec + now.tv_nsec / 1e9 - written;
    if (age < 0)
        age = 0;
    unsigned long long s = (unsigned long long)age;
    if (s < 60)
        snprintf(buf, size, "%llus", s);
    else if (s < 3600)
        snprintf(buf, size, "%llum %llus", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%lluh %llum", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, size, "%llud %lluh", s / 86400, s % 86400 / 3600);
}

static void format_bytes(char *buf, size_t size, double bytes)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
    if (bytes < 1024) {
        snprintf(buf, size, "%.0f B", bytes);
        return;
    }
    double v = bytes / 1024;
    unsigned u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, "%.1f %s", v, units[u]);
}

/* "  name   total  label n, label n": the labels whose count is not zero. */
static void print_breakdown(FILE *out, const char *name, const struct breakdown *b)
{
    fprintf(out, "  %-19s %12.0f", name, breakdown_total(b));
    const char *separator = "  ";
    for (unsigned i = 0; i < b->count; i++) {
        if (b->items[i].value == 0)
            continue;
        fprintf(out, "%s%s %.0f", separator, b->items[i].label, b->items[i].value);
        separator = ", ";
    }
    fputc('\n', out);
}

static void print_counts(FILE *out, const struct summary *s)
{
    char bytes[96];
    format_bytes(bytes, sizeof bytes, s->discarded);
    fprintf(out, "  %-19s %12.0f\n", "closes examined", s->closes);
    print_breakdown(out, "lingering closes", &s->lingering);
    print_breakdown(out, "plain closes", &s->plain);
    print_breakdown(out, "drains ended", &s->ended);
    /* Only a process that ran with LINGERCLOSE_PEER_FIN_WAIT has any. */
    if (breakdown_total(&s->fin_deferred) > 0)
        print_breakdown(out, "FIN deferred", &s->fin_deferred);
    if (s->discarded < 1024)
        fprintf(out, "  %-19s %12s\n", "input discarded", bytes);
    else
        fprintf(out, "  %-19s %12s  %.0f bytes\n", "input discarded", bytes, s->discarded);
    fprintf(out, "  %-19s %12.0f\n", "capacity fallbacks", s->fallbacks);
    fprintf(out, "  %-19s %12.0f\n", "lingering now", s->lingering_now);
}

static void print_file(FILE *out, const char *path, const struct summary *s)
{
    fprintf(out, "%s: pid %s, library %s", path, s->pid[0] ? s->pid : "?",
            s->version[0] ? s->version : "?");
    if (s->newest_written) {
        char age[32];
        format_age(age, sizeof age, s->newest_written);
        fprintf(out, ", written %s ago", age);
    }
    fputc('\n', out);
    print_counts(out, s);
}

static void print_total(FILE *out, int files, const struct summary *total)
{
    fprintf(out, "total of %d files", files);
    if (total->newest_written) {
        char newest[32], oldest[32];
        format_age(newest, sizeof newest, total->newest_written);
        format_age(oldest, sizeof oldest, total->oldest_written);
        fprintf(out, ": newest written %s ago, oldest %s ago", newest, oldest);
    }
    fputc('\n', out);
    print_counts(out, total);
}

int stats_report(int count, char *const *paths, FILE *out, FILE *err)
{
    struct summary total = { .closes = 0 };
    int summarised = 0, status = 0;
    for (int i = 0; i < count; i++) {
        struct summary s;
        char error[256];
        if (!read_summary(paths[i], &s, error, sizeof error)) {
            fflush(out);
            fprintf(err, "lingerclose: %s: %s\n", paths[i], error);
            status = 1;
            continue;
        }
        if (summarised)
            fputc('\n', out);
        print_file(out, paths[i], &s);
        add_summary(&total, &s);
        summarised++;
    }
    if (summarised > 1) {
        fputc('\n', out);
        print_total(out, summarised, &total);
    }
    return status;
}
