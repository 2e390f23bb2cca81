/* SPDX-License-Identifier: MIT */
/* What a systemd unit's sandbox does to the library: a SystemCallFilter=
 * that leaves out a system call the library makes kills the whole service
 * with SIGSYS (systemd's default action), and a RestrictAddressFamilies=
 * without AF_UNIX silences its syslog target. Each finding names the unit
 * line responsible, so that the operator knows what to change. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account-check.h"
#include "conf/conf.h"
#include "unit-check.h"

/* The system calls the library makes, and why (the sources of shim/; confirmed with
 * strace -f on real servers). groups: the systemd filter groups that hold
 * each one, nested groups included, as systemd 252 defines them; used
 * only when systemd-analyze cannot be asked. */
static const struct library_call {
    const char *name;
    const char *use;
    const char *groups;
} library_calls[] = {
    { "close", "every close", "@basic-io @file-system @system-service" },
    { "shutdown", "the lingering close's SHUT_WR", "@network-io @system-service" },
    { "getsockopt", "TCP_INFO, SO_LINGER", "@network-io @system-service" },
    { "setsockopt", "the hand-off socket's buffer", "@network-io @system-service" },
    { "ioctl", "SIOCINQ", "@system-service" },
    { "recvfrom", "draining input", "@network-io @system-service" },
    { "fcntl", "moving a socket to a private number", "@file-system @system-service" },
    { "socketpair", "the hand-off to the drain thread", "@network-io @system-service" },
    { "sendmsg", "the hand-off to the drain thread", "@network-io @system-service" },
    { "recvmsg", "the hand-off to the drain thread", "@network-io @system-service" },
    { "recvmmsg", "the hand-off to the drain thread", "@network-io @system-service" },
    { "epoll_create1", "the drain thread's poll set", "@io-event @system-service" },
    { "epoll_ctl", "the drain thread's poll set", "@io-event @system-service" },
    { "epoll_pwait", "the drain thread's wait", "@io-event @system-service" },
    { "poll", "connections left at exit", "@io-event @system-service" },
    { "clone3", "starting the drain thread", "@process @system-service" },
    { "clone", "starting the drain thread (clone3 refused)", "@process @system-service" },
    { "rt_sigprocmask", "the drain thread blocks every signal", "@signal @system-service" },
    { "prctl", "the drain thread's name; whether a seccomp filter applies", "@process @system-service" },
    { "unshare", "the drain thread's own descriptor table (CLONE_FILES)", "@process @system-service" },
    { "close_range", "clearing the drain thread's table", "@basic-io @system-service" },
    { "openat", "the drain thread's table, the statistics file",
      "@file-system @system-service" },
    { "write", "log lines, the statistics file", "@basic-io @system-service" },
    { "read", "whether the program has other threads (/proc/self/stat)",
      "@basic-io @system-service" },
    { "getdents64", "clearing the drain thread's table (/proc/thread-self/fd)",
      "@file-system @system-service" },
    { "socket", "the syslog target", "@network-io @system-service" },
    { "sendto", "the syslog target", "@network-io @system-service" },
    { "renameat", "the statistics file", "@file-system @system-service" },
    { "unlinkat", "the statistics file", "@file-system @system-service" },
    { "newfstatat", "recognising sockets, what stderr is", "@file-system @system-service" },
    { "waitid", "counting children (WNOWAIT)", "@process @system-service" },
    { "mmap", "the descriptor table", "@default @system-service" },
    { "munmap", "the descriptor table", "@default @system-service" },
    { "prlimit64", "the descriptor limit", "@default @system-service" },
    { "nanosleep", "waiting for the drain thread to start", "@default @system-service" },
    { "clock_nanosleep", "waiting for the drain thread to start", "@default @system-service" },
    { "sched_yield", "a hand-off in progress", "@default @system-service" },
    { "clock_gettime", "deadlines", "@default @system-service" },
    { "gettid", "the statistics file", "@default @system-service" },
    { "getpid", "log lines", "@default @system-service" },
};
#define N_LIBRARY_CALLS (sizeof library_calls / sizeof library_calls[0])

/* ---- the unit's settings ------------------------------------------------ */

struct assignment {
    char key[64];
    char *value;
    char origin[512]; /* "FILE:LINE" */
};

struct unit {
    struct assignment *items;
    size_t count, capacity;
};

static void add_assignment(struct unit *u, const char *key, const char *value, const char *file,
                           unsigned line)
{
    if (u->count == u->capacity) {
        size_t capacity = u->capacity ? u->capacity * 2 : 32;
        struct assignment *grown = realloc(u->items, capacity * sizeof *grown);
        if (!grown)
            return;
        u->items = grown;
        u->capacity = capacity;
    }
    struct assignment *a = &u->items[u->count];
    snprintf(a->key, sizeof a->key, "%s", key);
    a->value = strdup(value);
    if (!a->value)
        return;
    snprintf(a->origin, sizeof a->origin, "%s:%u", file, line);
    u->count++;
}

static char *trim(char *s)
{
    s += strspn(s, " \t");
    size_t n = strlen(s);
    while (n && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Reads [Service] assignments; a line "# PATH" (systemctl cat's header)
 * starts another file. */
static void read_unit_stream(struct unit *u, FILE *f, const char *first_file)
{
    char file[400];
    snprintf(file, sizeof file, "%s", first_file);
    char line[4096];
    unsigned number = 0;
    int in_service = 0;
    while (fgets(line, sizeof line, f)) {
        number++;
        char *text = trim(line);
        if (text[0] == '#' && text[1] == ' ' && text[2] == '/') {
            snprintf(file, sizeof file, "%s", text + 2);
            number = 0;
            in_service = 0;
            continue;
        }
        if (!*text || *text == '#' || *text == ';')
            continue;
        if (*text == '[') {
            in_service = strcmp(text, "[Service]") == 0;
            continue;
        }
        char *equals = strchr(text, '=');
        if (!in_service || !equals)
            continue;
        *equals = '\0';
        add_assignment(u, trim(text), trim(equals + 1), file, number);
    }
}

static int read_unit_file(struct unit *u, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    read_unit_stream(u, f, path);
    fclose(f);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void read_drop_ins(struct unit *u, const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]->d_name);
        if (len > 5 && strcmp(names[i]->d_name + len - 5, ".conf") == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            read_unit_file(u, path);
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
}

static const char *const unit_dirs[] = { "/etc/systemd/system", "/run/systemd/system",
                                         "/usr/lib/systemd/system", "/lib/systemd/system" };

/* systemd's view when it runs; otherwise its search path done by hand:
 * the first unit file found, then every directory's drop-ins. */
static int read_unit(struct unit *u, const char *unit)
{
    char path[4096];
    if (strchr(unit, '/')) {
        if (read_unit_file(u, unit) != 0)
            return -1;
        snprintf(path, sizeof path, "%s.d", unit);
        read_drop_ins(u, path);
        return 0;
    }
    struct stat st;
    if (stat("/run/systemd/system", &st) == 0 && strspn(unit, "abcdefghijklmnopqrstuvwxyz"
                                                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                              "0123456789:-_.\\@") == strlen(unit)) {
        char command[600];
        snprintf(command, sizeof command, "systemctl cat -- '%s' 2>/dev/null", unit);
        FILE *f = popen(command, "r");
        if (f) {
            read_unit_stream(u, f, unit);
            if (pclose(f) == 0 && u->count)
                return 0;
        }
    }
    int found = -1;
    for (size_t i = 0; i < sizeof unit_dirs / sizeof unit_dirs[0] && found != 0; i++) {
        snprintf(path, sizeof path, "%s/%s", unit_dirs[i], unit);
        found = read_unit_file(u, path);
    }
    if (found != 0)
        return -1;
    for (size_t i = sizeof unit_dirs / sizeof unit_dirs[0]; i-- > 0;) {
        snprintf(path, sizeof path, "%s/%s.d", unit_dirs[i], unit);
        read_drop_ins(u, path);
    }
    return 0;
}

/* ---- filter groups ------------------------------------------------------- */

struct group_members {
    char name[64];
    char *members; /* " a b c " */
    struct group_members *next;
};
static struct group_members *groups_asked;
static int analyze_missing = -1;

static void append_word(char **list, const char *word)
{
    size_t old = *list ? strlen(*list) : 0;
    char *grown = realloc(*list, old + strlen(word) + 3);
    if (!grown)
        return;
    if (!old)
        strcpy(grown, " ");
    strcat(grown, word);
    strcat(grown, " ");
    *list = grown;
}

/* The system calls of a group, nested groups expanded, as the installed
 * systemd-analyze lists them; NULL if it cannot be asked. */
static const char *ask_group(const char *group, int depth)
{
    for (struct group_members *g = groups_asked; g; g = g->next)
        if (strcmp(g->name, group) == 0)
            return g->members;
    if (analyze_missing < 0)
        analyze_missing = system("systemd-analyze --version >/dev/null 2>&1") != 0;
    if (analyze_missing || depth > 8 || strspn(group + 1, "abcdefghijklmnopqrstuvwxyz-") !=
                                            strlen(group + 1))
        return NULL;
    char command[128];
    snprintf(command, sizeof command, "systemd-analyze syscall-filter '%s' 2>/dev/null", group);
    FILE *f = popen(command, "r");
    if (!f)
        return NULL;
    char *members = NULL, line[256];
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        char *word = trim(line);
        if (first || !*word || *word == '#') {
            first = 0;
            continue;
        }
        if (*word == '@') {
            const char *nested = ask_group(word, depth + 1);
            if (nested) {
                char *copy = strdup(nested), *save = NULL;
                for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w; w = strtok_r(NULL, " ", &save))
                    append_word(&members, w);
                free(copy);
            }
        } else {
            append_word(&members, word);
        }
    }
    if (pclose(f) != 0 || !members) {
        free(members);
        return NULL;
    }
    struct group_members *g = calloc(1, sizeof *g);
    if (!g)
        return members;
    snprintf(g->name, sizeof g->name, "%s", group);
    g->members = members;
    g->next = groups_asked;
    groups_asked = g;
    return members;
}

static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static int names_call(const char *token, const struct library_call *call)
{
    if (token[0] != '@')
        return strcmp(token, call->name) == 0;
    const char *members = ask_group(token, 0);
    return members ? has_word(members, call->name) : has_word(call->groups, token);
}

/* ---- the verdicts --------------------------------------------------------- */

/* A list setting (SystemCallFilter=, RestrictAddressFamilies=): the first
 * non-empty assignment says allow list or deny list ("~"), later ones add
 * or remove, an empty one resets. Whether `matches` ends up forbidden, and
 * the assignment that decided it. */
struct list_verdict {
    int forbidden;
    const struct assignment *because;
};

static struct list_verdict judge_list(const struct unit *u, const char *key,
                                      int (*matches)(const char *token, const void *what),
                                      const void *what, int allow_list_starts_with)
{
    int mode = 0; /* 0 none, 1 allow list, 2 deny list */
    int listed = 0;
    const struct assignment *because = NULL, *first = NULL;
    for (size_t i = 0; i < u->count; i++) {
        const struct assignment *a = &u->items[i];
        if (strcmp(a->key, key) != 0)
            continue;
        const char *value = a->value;
        if (!*value) {
            mode = 0;
            listed = 0;
            because = first = NULL;
            continue;
        }
        int invert = *value == '~';
        if (invert)
            value++;
        if (!mode) {
            mode = invert ? 2 : 1;
            first = a;
            listed = mode == 1 && allow_list_starts_with && matches("@default", what);
        }
        char *copy = strdup(value), *save = NULL;
        for (char *t = copy ? strtok_r(copy, " \t", &save) : NULL; t; t = strtok_r(NULL, " \t", &save)) {
            char *colon = strchr(t, ':'); /* NAME:ERRNO */
            if (colon)
                *colon = '\0';
            if (strcmp(t, "none") == 0 && strcmp(key, "RestrictAddressFamilies") == 0) {
                mode = 1;
                listed = 0;
                because = first = a;
                continue;
            }
            if (matches(t, what)) {
                listed = mode == 1 ? !invert : invert;
                because = a;
            }
        }
        free(copy);
    }
    struct list_verdict v = { 0, NULL };
    if ((mode == 1 && !listed) || (mode == 2 && listed)) {
        v.forbidden = 1;
        v.because = because ? because : first;
    }
    return v;
}

static int call_matches(const char *token, const void *what)
{
    return names_call(token, what);
}

static int family_matches(const char *token, const void *what)
{
    return strcmp(token, what) == 0;
}

static const char *last_value(const struct unit *u, const char *key)
{
    const char *value = NULL;
    for (size_t i = 0; i < u->count; i++)
        if (strcmp(u->items[i].key, key) == 0)
            value = u->items[i].value;
    return value;
}

/* How long the longest entry of the path lists under key (accumulated,
 * an empty assignment resets them; a leading '-' only makes an entry
 * optional) that contains path is, and which assignment gave it. */
static size_t longest_covering(const struct unit *u, const char *key, const char *path,
                               const struct assignment **because)
{
    size_t best = 0;
    *because = NULL;
    for (size_t i = 0; i < u->count; i++) {
        const struct assignment *a = &u->items[i];
        if (strcmp(a->key, key) != 0)
            continue;
        if (!*a->value) {
            best = 0;
            *because = NULL;
            continue;
        }
        char *copy = strdup(a->value), *save = NULL;
        for (char *t = copy ? strtok_r(copy, " \t", &save) : NULL; t; t = strtok_r(NULL, " \t", &save)) {
            if (*t == '-' || *t == '+')
                t++;
            size_t len = strlen(t);
            while (len > 1 && t[len - 1] == '/')
                len--;
            bool covers = strncmp(path, t, len) == 0 &&
                          (len == 1 || path[len] == '/' || path[len] == '\0');
            if (covers && len >= best) {
                best = len;
                *because = a;
            }
        }
        free(copy);
    }
    return best;
}

/* NoExecPaths= makes the dynamic loader unable to map a library below it,
 * and it then ignores the LD_PRELOAD entry with a message the journal may
 * hide: the library silently does nothing. The most specific path of
 * ExecPaths= and NoExecPaths= wins, as in systemd. */
static bool library_executable(const struct unit *u, const char *unit, const char *library,
                               finding_fn report, void *context)
{
    const struct assignment *no_exec, *exec;
    size_t denied = longest_covering(u, "NoExecPaths", library, &no_exec);
    size_t allowed = longest_covering(u, "ExecPaths", library, &exec);
    if (!no_exec || allowed > denied)
        return true;
    char text[1024];
    snprintf(text, sizeof text,
             "unit %s: NoExecPaths=%s (%s) covers %s: the dynamic loader cannot map it and "
             "ignores LD_PRELOAD; add ExecPaths=%s to the drop-in",
             unit, no_exec->value, no_exec->origin, library, library);
    report(FINDING_PROBLEM, text, context);
    return false;
}

/* The statistics file's directory the unit's Environment= gives the
 * library (the last assignment wins), or false. A path with a specifier
 * or %p in its directory is systemd's or the process's to expand. */
static bool stats_directory(const struct unit *u, char *dir, size_t size)
{
    const char *variable = lc_settings[LC_SETTING_STATS_FILE].variable;
    size_t variable_len = strlen(variable);
    bool found = false;
    for (size_t i = 0; i < u->count; i++) {
        if (strcmp(u->items[i].key, "Environment") != 0)
            continue;
        for (const char *p = u->items[i].value; (p = strstr(p, variable)); p += variable_len) {
            if ((p != u->items[i].value && !strchr(" \t\"'", p[-1])) || p[variable_len] != '=')
                continue;
            const char *path = p + variable_len + 1;
            size_t len = strcspn(path, " \t\"'");
            const char *slash = memrchr(path, '/', len);
            found = path[0] == '/' && slash && !memchr(path, '%', (size_t)(slash - path)) &&
                    (size_t)(slash - path) < size;
            if (found)
                snprintf(dir, size, "%.*s", slash == path ? 1 : (int)(slash - path), path);
        }
    }
    return found;
}

/* A service that runs as another account (User=) writes its statistics
 * file as that account, not as root. */
static bool stats_directory_writable(const struct unit *u, const char *unit, finding_fn report,
                                     void *context)
{
    const char *user = last_value(u, "User");
    char dir[1024], why[1400], text[2048];
    if (!user || !*user || strchr(user, '%') || !stats_directory(u, dir, sizeof dir))
        return true;
    if (!account_can_write_directory(user, dir, why, sizeof why)) {
        snprintf(text, sizeof text, "unit %s: User=%s cannot write the statistics file's directory: %s",
                 unit, user, why);
        report(FINDING_PROBLEM, text, context);
        return false;
    }
    snprintf(text, sizeof text, "unit %s: User=%s can write the statistics file's directory %s", unit,
             user, dir);
    report(FINDING_FACT, text, context);
    return true;
}

bool check_unit(const char *unit, const char *library, finding_fn report, void *context)
{
    struct unit u = { 0 };
    char text[1024];
    if (read_unit(&u, unit) != 0) {
        snprintf(text, sizeof text, "unit %s: cannot be read (a unit name, or the path of a unit file)",
                 unit);
        report(FINDING_PROBLEM, text, context);
        return false;
    }
    bool fine = true;
    const char *error_number = last_value(&u, "SystemCallErrorNumber");
    const char *outcome = error_number && *error_number && strcmp(error_number, "kill") != 0
                              ? "fails there"
                              : "the whole service is killed (SIGSYS)";
    for (size_t i = 0; i < N_LIBRARY_CALLS; i++) {
        struct list_verdict v =
            judge_list(&u, "SystemCallFilter", call_matches, &library_calls[i], 1);
        if (!v.forbidden)
            continue;
        snprintf(text, sizeof text, "unit %s: SystemCallFilter=%s (%s) %s %s(), which the library makes for %s: %s",
                 unit, v.because->value, v.because->origin,
                 v.because->value[0] == '~' ? "denies" : "does not allow", library_calls[i].name,
                 library_calls[i].use, outcome);
        report(FINDING_PROBLEM, text, context);
        fine = false;
    }
    struct list_verdict families = judge_list(&u, "RestrictAddressFamilies", family_matches, "AF_UNIX", 0);
    if (families.forbidden) {
        /* Only the syslog target needs the family: a problem when the unit
         * chose it, else a note. */
        int syslog_chosen = 0;
        for (size_t i = 0; i < u.count; i++)
            syslog_chosen |= strcmp(u.items[i].key, "Environment") == 0 &&
                             strstr(u.items[i].value, "LINGERCLOSE_LOG_TARGET=syslog") != NULL;
        snprintf(text, sizeof text, "unit %s: RestrictAddressFamilies=%s (%s) leaves out AF_UNIX: the"
                 " library's syslog target (--log-target=syslog) cannot reach /dev/log (its hand-off"
                 " socketpair() is not affected)", unit, families.because->value, families.because->origin);
        report(syslog_chosen ? FINDING_PROBLEM : FINDING_FACT, text, context);
        fine = fine && !syslog_chosen;
    }
    if (library && !library_executable(&u, unit, library, report, context))
        fine = false;
    if (fine) {
        snprintf(text, sizeof text, "unit %s: its sandbox allows every system call the library makes", unit);
        report(FINDING_FACT, text, context);
    }
    if (!stats_directory_writable(&u, unit, report, context))
        fine = false;
    for (size_t i = 0; i < u.count; i++)
        free(u.items[i].value);
    free(u.items);
    return fine;
}
