/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "stats-report.h"
#include "status.h"

#define LIBRARY_NAME "liblingerclose.so"
#define DRAIN_THREAD_NAME "lingerclose"
/* A process's environment is its owner's to fill: no more is read. */
#define ENVIRON_MAX (1024 * 1024)
/* Where the version marker may sit in the library's file. */
#define LIBRARY_SCAN_MAX (16 * 1024 * 1024)
#define VERSION_MAX 64

/* Reads a whole /proc file (at most max bytes) into a NUL-terminated
 * buffer; NULL with errno set on failure. */
static char *read_all(const char *path, size_t max, size_t *length)
{
    /* The path may come from the process looked at: never wait on a FIFO
     * or read a device planted there. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    size_t size = 4096, used = 0;
    char *buf = malloc(size + 1);
    while (buf) {
        ssize_t n = read(fd, buf + used, size - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int error = errno;
            free(buf);
            close(fd);
            errno = error;
            return NULL;
        }
        if (n == 0 || used + (size_t)n >= max) {
            used += (size_t)n;
            break;
        }
        used += (size_t)n;
        if (used == size) {
            char *bigger = realloc(buf, size * 2 + 1);
            if (!bigger) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = bigger;
            size *= 2;
        }
    }
    close(fd);
    if (!buf)
        return NULL;
    buf[used] = '\0';
    if (length)
        *length = used;
    return buf;
}

/* The path of the library mapped in the process, or false. */
static bool mapped_library(const char *maps, char *path, size_t size)
{
    for (const char *line = maps; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        /* A library replaced by an upgrade is still the one mapped. */
        static const char deleted[] = " (deleted)";
        size_t full_len = len;
        if (len >= sizeof deleted - 1 &&
            memcmp(line + len - (sizeof deleted - 1), deleted, sizeof deleted - 1) == 0)
            len -= sizeof deleted - 1;
        const char *slash = memchr(line, '/', len);
        size_t name_len = strlen(LIBRARY_NAME);
        if (slash && len >= name_len && memcmp(line + len - name_len, LIBRARY_NAME, name_len) == 0 &&
            (line + len - name_len == slash || line[len - name_len - 1] == '/')) {
            snprintf(path, size, "%.*s", (int)(line + len - slash), slash);
            return true;
        }
        line += full_len + (end ? 1 : 0);
    }
    return false;
}

/* The version the library file carries, or "unknown". */
static void library_version(const char *pid, const char *library, char *version, size_t size)
{
    snprintf(version, size, "unknown");
    /* Through the process's root, so that a process in a container is
     * looked at in its own file system. */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "/proc/%s/root%s", pid, library);
    size_t length;
    char *content = read_all(path, LIBRARY_SCAN_MAX, &length);
    if (!content)
        content = read_all(library, LIBRARY_SCAN_MAX, &length);
    if (!content)
        return;
    const char *marker = memmem(content, length, LC_VERSION_MARKER, strlen(LC_VERSION_MARKER));
    if (marker) {
        const char *text = marker + strlen(LC_VERSION_MARKER);
        size_t n = strnlen(text, (size_t)(content + length - text));
        if (n < VERSION_MAX)
            snprintf(version, size, "%.*s", (int)n, text);
    }
    free(content);
}

/* Whether one of the process's threads is the drain thread. */
static bool drain_thread_runs(const char *pid)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%s/task", pid);
    DIR *tasks = opendir(path);
    if (!tasks)
        return false;
    bool found = false;
    struct dirent *entry;
    while (!found && (entry = readdir(tasks))) {
        if (entry->d_name[0] == '.')
            continue;
        char comm_path[PATH_MAX], comm[32] = "";
        snprintf(comm_path, sizeof comm_path, "/proc/%s/task/%s/comm", pid, entry->d_name);
        FILE *f = fopen(comm_path, "re");
        if (!f)
            continue;
        if (fgets(comm, sizeof comm, f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
        found = strcmp(comm, DRAIN_THREAD_NAME) == 0;
    }
    closedir(tasks);
    return found;
}

/* The value of variable in a NUL-separated environment, or NULL. */
static const char *environ_value(const char *env, size_t length, const char *variable)
{
    size_t len = strlen(variable);
    for (const char *entry = env; entry < env + length; entry += strlen(entry) + 1)
        if (strncmp(entry, variable, len) == 0 && entry[len] == '=')
            return entry + len + 1;
    return NULL;
}

/* "%p" in the statistics path is the process id. */
static void stats_path_of(const char *pattern, const char *pid, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = pattern; *p && n + 1 < size; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            n += (size_t)snprintf(out + n, size - n, "%s", pid);
            if (n >= size)
                n = size - 1;
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* The soft open-file limit of the process, for the default max-sockets. */
static uint64_t nofile_soft_limit(const char *pid)
{
    char path[PATH_MAX], line[256];
    snprintf(path, sizeof path, "/proc/%s/limits", pid);
    FILE *f = fopen(path, "re");
    uint64_t soft = 1024;
    if (!f)
        return soft;
    while (fgets(line, sizeof line, f)) {
        unsigned long long value;
        if (sscanf(line, "Max open files %llu", &value) == 1)
            soft = value;
    }
    fclose(f);
    return soft;
}

/* The settings line and the statistics file; false if the library is off. */
static bool report_settings(const char *pid, FILE *out)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%s/environ", pid);
    size_t length = 0;
    char *env = read_all(path, ENVIRON_MAX, &length);
    if (!env)
        fprintf(out, "  settings: cannot read %s: %s; defaults shown\n", path, strerror(errno));
    bool on = true;
    const char *stats_pattern = "";
    fputs("  settings:", out);
    for (const struct lc_setting *s = lc_settings; s < lc_settings + LC_SETTING_COUNT; s++) {
        const char *value = env ? environ_value(env, length, s->variable) : NULL;
        bool valid = value && lc_setting_accepts(s, value);
        char option[64];
        lc_setting_option(s, option, sizeof option);
        if (valid)
            fprintf(out, " %s=%s", option, value);
        else if (!s->default_value)
            fprintf(out, " %s=%u%s", option, lc_default_max_sockets(nofile_soft_limit(pid)),
                    value ? " (its value is not valid)" : "");
        else
            fprintf(out, " %s=%s%s%s%s", option, s->default_value[0] ? "" : "(",
                    s->default_value[0] ? s->default_value : lc_setting_default_text(s),
                    s->default_value[0] ? "" : ")", value ? " (its value is not valid)" : "");
        if (s == &lc_settings[LC_SETTING_MODE] && valid && strcmp(value, "off") == 0)
            on = false;
        if (s == &lc_settings[LC_SETTING_STATS_FILE] && valid)
            stats_pattern = value;
    }
    fputc('\n', out);
    if (env) {
        for (const char *entry = env; entry < env + length; entry += strlen(entry) + 1) {
            const char *suggestion = lc_unknown_variable_suggestion(entry);
            if (!suggestion)
                continue;
            char name[LC_VARIABLE_NAME_MAX + 4];
            lc_variable_name_shown(entry, name, sizeof name);
            fprintf(out, "  %s is not a variable of lingerclose and is ignored; did you mean %s?\n",
                    name, suggestion);
        }
    }
    if (!on)
        fputs("  mode=off: the library does nothing in this process\n", out);
    if (!stats_pattern[0]) {
        fputs("  statistics file: none (LINGERCLOSE_STATS_FILE is not set)\n", out);
    } else {
        char stats[PATH_MAX];
        stats_path_of(stats_pattern, pid, stats, sizeof stats);
        fprintf(out, "  statistics file: %s\n", stats);
        char *paths[] = { stats };
        fflush(out);
        stats_report(1, paths, out, out);
    }
    free(env);
    return on;
}

static bool report_one(const char *pid, FILE *out)
{
    char path[PATH_MAX];
    if (!*pid || pid[strspn(pid, "0123456789")] != '\0' || strlen(pid) > 10) {
        fprintf(out, "%s: not a process id\n", pid);
        return false;
    }
    snprintf(path, sizeof path, "/proc/%s/maps", pid);
    char *maps = read_all(path, SIZE_MAX, NULL);
    if (!maps) {
        if (errno == ENOENT)
            fprintf(out, "%s: no such process\n", pid);
        else if (errno == EACCES || errno == EPERM)
            fprintf(out, "%s: cannot read %s: %s (run as the process's user or as root)\n", pid,
                    path, strerror(errno));
        else
            fprintf(out, "%s: cannot read %s: %s\n", pid, path, strerror(errno));
        return false;
    }
    char comm_path[PATH_MAX], comm[32] = "?";
    snprintf(comm_path, sizeof comm_path, "/proc/%s/comm", pid);
    FILE *f = fopen(comm_path, "re");
    if (f) {
        if (fgets(comm, sizeof comm, f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    char library[PATH_MAX];
    bool loaded = mapped_library(maps, library, sizeof library);
    free(maps);
    if (!loaded) {
        fprintf(out, "%s (%s): lingerclose is not loaded (no %s in %s)\n", pid, comm, LIBRARY_NAME,
                path);
        return false;
    }
    char version[VERSION_MAX];
    library_version(pid, library, version, sizeof version);
    fprintf(out, "%s (%s): lingerclose %s is loaded from %s\n", pid, comm, version, library);
    if (drain_thread_runs(pid))
        fputs("  drain thread: running\n", out);
    else
        fputs("  drain thread: not running (it starts when the program makes its first TCP "
              "socket)\n", out);
    return report_settings(pid, out);
}

int status_report(int count, char *const *pids, FILE *out)
{
    int status = 0;
    for (int i = 0; i < count; i++) {
        if (i)
            fputc('\n', out);
        if (!report_one(pids[i], out))
            status = 1;
    }
    return status;
}
