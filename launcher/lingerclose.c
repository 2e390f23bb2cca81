/* SPDX-License-Identifier: MIT */
/* lingerclose: runs a command with liblingerclose.so preloaded and its
 * configuration given as options rather than as LINGERCLOSE_* variables.
 * Like env(1) it execs the command in place, so signals, the exit status
 * and the process id are the command's own. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account-check.h"
#include "check.h"
#include "probe.h"
#include "conf/conf.h"
#include "stats-report.h"
#include "status.h"
#include "unit-check.h"

#define LIBRARY_NAME "liblingerclose.so"

/* env(1)'s exit statuses, so that a caller can tell the launcher's failures
 * from the command's. */
enum {
    EXIT_MISUSE = 2, /* of --check and --stats, which report on things */
    EXIT_LAUNCHER = 125,
    EXIT_CANNOT_RUN = 126,
    EXIT_NOT_FOUND = 127,
};

/* How --help presents each setting, in the order it lists them (also the
 * order getopt_long names them in when an abbreviation is ambiguous). Its
 * name, what it accepts and its default come from lc_settings. */
static const struct {
    enum lc_setting_id id;
    const char *value_name;
    const char *description; /* its lines, as they wrap */
} setting_help[] = {
    { LC_SETTING_MODE, "MODE", "auto (linger only when needed), always, or off" },
    { LC_SETTING_IDLE_TIMEOUT, "DUR", "end a lingering close after DUR without input" },
    { LC_SETTING_TIMEOUT, "DUR", "end a lingering close after DUR in total" },
    { LC_SETTING_EXIT_TIMEOUT, "DUR",
      "when COMMAND ends holding connections, wait at most\n"
      "DUR for their peers; 0 to 60s, 0 for no wait" },
    { LC_SETTING_PEER_FIN_WAIT, "DUR",
      "hold a lingering close's FIN back for up to DUR,\n"
      "until the peer closes first: TIME_WAIT then stays\n"
      "with the peer; a response that ends at the close\n"
      "arrives up to DUR later; 0 or off for no wait" },
    { LC_SETTING_MAX_SOCKETS, "N", "linger on at most N sockets at once, 1 to 1048576" },
    { LC_SETTING_MAX_BYTES, "SIZE",
      "discard at most SIZE bytes per socket; SIZE takes\n"
      "a K, M or G suffix, 0 or 'unlimited' for no cap" },
    { LC_SETTING_MAX_QUEUED, "SIZE",
      "hold at most SIZE bytes of unacknowledged output in\n"
      "lingering sockets together; beyond it a close is\n"
      "plain; 0 or 'unlimited' for no cap" },
    { LC_SETTING_PORTS, "LIST",
      "linger only on sockets whose local port is in LIST,\n"
      "such as 80,443,8000-8099" },
    { LC_SETTING_EXCLUDE_PORTS, "LIST", "never linger on sockets whose local port is in LIST" },
    { LC_SETTING_STATS_FILE, "PATH",
      "write the counters to PATH in Prometheus text format;\n"
      "%p in PATH is the process id" },
    { LC_SETTING_STATS_INTERVAL, "DUR",
      "rewrite the statistics file every DUR, 1s to 1h,\n"
      "or 0 for only at exit" },
    { LC_SETTING_LOG, "LEVEL", "error, warn, info or debug" },
    { LC_SETTING_LOG_TARGET, "TARGET", "stderr or syslog" },
};
_Static_assert(sizeof setting_help / sizeof *setting_help == LC_SETTING_COUNT,
               "--help presents every setting of lc_settings");

#define OPTION_NAME_MAX 32

/* getopt_long returns a setting's lc_setting_id, or one of these. */
enum option_id {
    OPTION_CHECK = LC_SETTING_COUNT,
    OPTION_UNIT,
    OPTION_STATS,
    OPTION_STATUS,
    OPTION_USER,
    OPTION_HELP,
    OPTION_VERSION,
};

static char setting_options[LC_SETTING_COUNT][OPTION_NAME_MAX];

static struct option long_options[LC_SETTING_COUNT + 8] = {
    [LC_SETTING_COUNT] = { "check", no_argument, NULL, OPTION_CHECK },
    { "unit", required_argument, NULL, OPTION_UNIT },
    { "stats", no_argument, NULL, OPTION_STATS },
    { "status", no_argument, NULL, OPTION_STATUS },
    { "user", required_argument, NULL, OPTION_USER },
    { "help", no_argument, NULL, OPTION_HELP },
    { "version", no_argument, NULL, OPTION_VERSION },
    { NULL, 0, NULL, 0 },
};

static void make_setting_options(void)
{
    for (int i = 0; i < LC_SETTING_COUNT; i++) {
        enum lc_setting_id id = setting_help[i].id;
        lc_setting_option(&lc_settings[id], setting_options[id], OPTION_NAME_MAX);
        long_options[i] = (struct option){ setting_options[id], required_argument, NULL, (int)id };
    }
}

static const char usage_lines[] =
    "Usage: lingerclose [OPTION]... [--] COMMAND [ARG]...\n"
    "  or:  lingerclose --check [--] COMMAND [ARG]...\n"
    "  or:  lingerclose --check --unit UNIT [[--] COMMAND [ARG]...]\n"
    "  or:  lingerclose --stats [--] FILE...\n"
    "  or:  lingerclose --status [--] PID...\n"
    "  or:  lingerclose probe [OPTION]... HOST:PORT|http://HOST[:PORT][/PATH]\n";

#define HELP_INDENT 25
#define HELP_WIDTH 79

/* "  --NAME=VALUE", the description from column HELP_INDENT, then
 * "(default: ...)", wrapped at HELP_WIDTH after one of its commas. */
static void print_setting_help(int i)
{
    enum lc_setting_id id = setting_help[i].id;
    int column = printf("  --%s=%s", setting_options[id], setting_help[i].value_name);
    for (const char *line = setting_help[i].description; *line;) {
        size_t len = strcspn(line, "\n");
        printf("%*s%.*s", column < HELP_INDENT ? HELP_INDENT - column : 1, "", (int)len, line);
        column = HELP_INDENT + (int)len;
        line += len;
        if (*line) {
            putchar('\n');
            column = 0;
            line++;
        }
    }
    char text[128];
    snprintf(text, sizeof text, "(default: %s)", lc_setting_default_text(&lc_settings[id]));
    for (const char *phrase = text; *phrase;) {
        const char *comma = strstr(phrase, ", ");
        int len = comma ? (int)(comma - phrase) + 1 : (int)strlen(phrase);
        const char *space = " ";
        if (column + 1 + len > HELP_WIDTH) {
            printf("\n%*s", HELP_INDENT, "");
            column = HELP_INDENT;
            space = "";
        }
        column += printf("%s%.*s", space, len, phrase);
        phrase += len + (comma ? 1 : 0);
    }
    putchar('\n');
}

/* tests/man-pages.sh reads the options and their "(default: ...)" from
 * this text and looks for them in lingerclose(1) and lingerclose(7). */
static void print_help(void)
{
    fputs(usage_lines, stdout);
    fputs("Run COMMAND with " LIBRARY_NAME " preloaded, so that the TCP connections it\n"
          "closes while the peer may still be sending get a lingering close: the\n"
          "library drains and discards their input for a while instead of letting an\n"
          "unread byte turn the close into a reset that destroys the response.\n"
          "\n"
          "Settings:\n",
          stdout);
    for (int i = 0; i < LC_SETTING_COUNT; i++)
        print_setting_help(i);
    fputs("\n"
          "Actions:\n"
          "  --check                say whether the preload can work for COMMAND, and\n"
          "                         why not; exit 0 if it can, 1 if not, 2 on misuse\n"
          "  --unit=UNIT            with --check: say what the sandbox of the systemd\n"
          "                         unit UNIT (a name, or a unit file's path) forbids\n"
          "                         the library; COMMAND is then optional\n"
          "  --stats                summarise statistics files written by the library;\n"
          "                         exit 1 if one cannot be read\n"
          "  --status               say whether the library runs in each process PID:\n"
          "                         mapped, its drain thread, version, settings and\n"
          "                         statistics; exit 1 if it does not run in one\n"
          "  --user=USER            check that the account USER, which COMMAND will\n"
          "                         run as, can write the --stats-file directory\n"
          "  probe TARGET           as a client that writes before it reads, try the\n"
          "                         closes that can destroy a response (it sends an\n"
          "                         8 MiB upload); exit 1 if one was lost; see\n"
          "                         'lingerclose probe --help'\n"
          "  --help                 show this help and exit\n"
          "  --version              show the version and exit\n"
          "\n"
          "DUR is a number with an optional ms, s, m or h suffix; a bare number is\n"
          "seconds; timeouts are 1ms to 1h. Each setting sets the LINGERCLOSE_*\n"
          "variable of the same name (--log-target sets LINGERCLOSE_LOG_TARGET), and\n"
          "the library is appended to LD_PRELOAD. Options after COMMAND are\n"
          "COMMAND's. See lingerclose(1) and lingerclose(7).\n"
          "\n"
          "Exit status: 125 if lingerclose itself fails, 126 if COMMAND cannot be run,\n"
          "127 if COMMAND is not found, otherwise the exit status of COMMAND.\n",
          stdout);
}

static _Noreturn void usage_error(int status)
{
    fputs(usage_lines, stderr);
    fputs("Try 'lingerclose --help' for more information.\n", stderr);
    exit(status);
}

static _Noreturn __attribute__((format(printf, 1, 2))) void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lingerclose: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_LAUNCHER);
}

static void set_variable(const char *name, const char *value)
{
    if (setenv(name, value, 1) != 0)
        fail("cannot set %s: %s", name, strerror(errno));
}

/* The library wants an absolute path; the command starts in our working
 * directory, so a relative one means the same file once made absolute. */
static const char *absolute_path(const char *path, char *buf, size_t size)
{
    if (path[0] == '/' || path[0] == '\0')
        return path;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        fail("cannot find the current directory: %s", strerror(errno));
    int len = snprintf(buf, size, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
    return len > 0 && (size_t)len < size ? buf : path;
}

/* --user: the account the command will run as, for the check below. */
static const char *server_user;

/* A directory that cannot take the file is found now rather than by one
 * warning line in the command's log. A directory named with %p is the
 * command's business. */
static void check_stats_directory(const char *option, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || memchr(path, '%', (size_t)(slash - path)))
        return;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    struct stat st;
    if (stat(dir, &st) != 0)
        fail("--%s: %s: %s", option, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        fail("--%s: %s is not a directory", option, dir);
    if (access(dir, W_OK | X_OK) != 0)
        fail("--%s: cannot write in %s: %s", option, dir, strerror(errno));
    char why[PATH_MAX + 256];
    if (server_user && !account_can_write_directory(server_user, dir, why, sizeof why))
        fail("--%s: %s", option, why);
}

static bool stats_file_given;

/* option is the full name, even when the user abbreviated it. */
static void apply_setting(enum lc_setting_id id, const char *option, const char *value)
{
    const struct lc_setting *s = &lc_settings[id];
    char buf[PATH_MAX];
    if (id == LC_SETTING_STATS_FILE) {
        value = absolute_path(value, buf, sizeof buf);
        stats_file_given = true;
    }
    if (!lc_setting_accepts(s, value))
        fail("--%s: '%s' is not valid (accepted: %s)", option, value, s->accepted);
    set_variable(s->variable, value);
}

/* After every option is read, so that --user may come after --stats-file. */
static void check_stats_file_option(void)
{
    const char *path = getenv(lc_settings[LC_SETTING_STATS_FILE].variable);
    char option[OPTION_NAME_MAX];
    lc_setting_option(&lc_settings[LC_SETTING_STATS_FILE], option, sizeof option);
    if (stats_file_given && path && path[0])
        check_stats_directory(option, path);
    else if (server_user)
        fprintf(stderr, "lingerclose: warning: --user is only used to check the --%s "
                        "directory, and there is none\n", option);
}

enum action { ACTION_RUN, ACTION_CHECK, ACTION_STATS, ACTION_STATUS };

/* --unit: the systemd unit whose sandbox --check looks at. */
static const char *unit_to_check;

static void choose_action(enum action *action, enum action chosen)
{
    if (*action != ACTION_RUN && *action != chosen) {
        fputs("lingerclose: --check, --stats and --status cannot be combined\n", stderr);
        usage_error(EXIT_MISUSE);
    }
    *action = chosen;
}

/* What getopt_long would say, and for an unknown option the closest one. */
static void complain_about_option(const char *arg)
{
    if (strncmp(arg, "--", 2) != 0) {
        fprintf(stderr, "lingerclose: invalid option -- '%c'\n", optopt);
        return;
    }
    const char *name = arg + 2;
    size_t len = strcspn(name, "=");
    if (optopt) {
        fprintf(stderr, "lingerclose: option '--%.*s' %s\n", (int)len, name,
                name[len] ? "takes no value" : "requires a value");
        return;
    }
    const char *closest = NULL;
    size_t closest_distance = SIZE_MAX;
    int prefix_of = 0;
    for (const struct option *o = long_options; o->name; o++) {
        prefix_of += strncmp(o->name, name, len) == 0;
        size_t distance = lc_edit_distance(name, len, o->name, strlen(o->name));
        if (distance < closest_distance) {
            closest = o->name;
            closest_distance = distance;
        }
    }
    if (prefix_of > 1)
        fprintf(stderr, "lingerclose: option '--%.*s' is ambiguous\n", (int)len, name);
    else
        fprintf(stderr, "lingerclose: unrecognized option '--%.*s'; did you mean --%s?\n",
                (int)len, name, closest);
}

/* LINGERCLOSE_* variables of our own environment that are no setting.
 * Not when running a command: the library says it there, once. */
static void complain_about_variables(void)
{
    for (char **entry = environ; entry && *entry; entry++) {
        const char *suggestion = lc_unknown_variable_suggestion(*entry);
        if (!suggestion)
            continue;
        char name[LC_VARIABLE_NAME_MAX + 4];
        lc_variable_name_shown(*entry, name, sizeof name);
        fprintf(stderr,
                "lingerclose: warning: %s is not a variable of lingerclose and is ignored; "
                "did you mean %s?\n",
                name, suggestion);
    }
}

/* Returns the index of the first operand (COMMAND or FILE) in argv. */
static int parse_options(int argc, char **argv, enum action *action)
{
    int opt, long_index;
    *action = ACTION_RUN;
    make_setting_options();
    /* "+": the first non-option is COMMAND, and everything after it is
     * COMMAND's own, even if it looks like one of our options. */
    opterr = 0; /* complain_about_option says what was wrong */
    while ((opt = getopt_long(argc, argv, "+", long_options, &long_index)) != -1) {
        if (opt >= 0 && opt < LC_SETTING_COUNT) {
            apply_setting((enum lc_setting_id)opt, long_options[long_index].name, optarg);
        } else if (opt == OPTION_CHECK) {
            choose_action(action, ACTION_CHECK);
        } else if (opt == OPTION_UNIT) {
            choose_action(action, ACTION_CHECK);
            unit_to_check = optarg;
        } else if (opt == OPTION_STATS) {
            choose_action(action, ACTION_STATS);
        } else if (opt == OPTION_STATUS) {
            choose_action(action, ACTION_STATUS);
        } else if (opt == OPTION_USER) {
            if (!account_exists(optarg))
                fail("--user: no account named '%s'", optarg);
            server_user = optarg;
        } else if (opt == OPTION_HELP) {
            print_help();
            exit(EXIT_SUCCESS);
        } else if (opt == OPTION_VERSION) {
            puts("lingerclose " PACKAGE_VERSION);
            exit(EXIT_SUCCESS);
        } else {
            complain_about_option(argv[optind - 1]);
            usage_error(*action == ACTION_RUN ? EXIT_LAUNCHER : EXIT_MISUSE);
        }
    }
    check_stats_file_option();
    if (optind >= argc && unit_to_check)
        return optind;
    if (optind >= argc) {
        fprintf(stderr, "lingerclose: missing %s\n",
                *action == ACTION_STATS    ? "FILE"
                : *action == ACTION_STATUS ? "PID"
                                           : "COMMAND");
        usage_error(*action == ACTION_RUN ? EXIT_LAUNCHER : EXIT_MISUSE);
    }
    return optind;
}

/* A launcher run from the build tree uses the library built next to it, so
 * that it can be tried and tested before it is installed. Only there: an
 * installed launcher must never load whatever sits in a shim/.libs beside
 * its directory. */
static bool build_tree_library(char *path, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return false;
    *slash = '\0';
    struct stat here, build_tree;
    if (stat(exe, &here) != 0 || stat(LC_BUILDDIR, &build_tree) != 0 ||
        here.st_dev != build_tree.st_dev || here.st_ino != build_tree.st_ino)
        return false;
    int len = snprintf(path, size, "%s/shim/.libs/" LIBRARY_NAME, exe);
    return len > 0 && (size_t)len < size;
}

/* The dynamic loader resolves a relative LD_PRELOAD entry against the
 * command's working directory, not ours, hence the absolute path. On
 * failure, tried says where it looked. */
static bool find_library(char resolved[PATH_MAX], char *tried, size_t tried_size)
{
    char in_build_tree[PATH_MAX];
    bool have_build_tree = build_tree_library(in_build_tree, sizeof in_build_tree);
    if (have_build_tree && realpath(in_build_tree, resolved))
        return true;
    if (realpath(LC_PKGLIBDIR "/" LIBRARY_NAME, resolved))
        return true;
    if (have_build_tree)
        snprintf(tried, tried_size, "%s and %s", in_build_tree, LC_PKGLIBDIR "/" LIBRARY_NAME);
    else
        snprintf(tried, tried_size, "%s", LC_PKGLIBDIR "/" LIBRARY_NAME);
    return false;
}

/* Whether list, split the way the dynamic loader splits LD_PRELOAD (at
 * spaces and colons), already holds path. */
static bool preload_contains(const char *list, const char *path)
{
    size_t len = strlen(path);
    for (const char *p = list; *p;) {
        size_t token = strcspn(p, " :");
        if (token == len && memcmp(p, path, len) == 0)
            return true;
        p += token;
        p += strspn(p, " :");
    }
    return false;
}

static bool preload_is_empty(const char *list)
{
    return !list || list[strspn(list, " :")] == '\0';
}

/* Puts path at the end of LD_PRELOAD (at_front: at the start) unless it
 * is there already. */
static void add_to_preload(const char *path, bool at_front)
{
    const char *current = getenv("LD_PRELOAD");
    if (preload_is_empty(current)) {
        set_variable("LD_PRELOAD", path);
        return;
    }
    if (preload_contains(current, path))
        return;
    char *joined;
    if (asprintf(&joined, "%s:%s", at_front ? path : current, at_front ? current : path) < 0)
        fail("cannot set LD_PRELOAD: %s", strerror(ENOMEM));
    set_variable("LD_PRELOAD", joined);
    free(joined);
}

/* The library cannot reach these programs, yet they run: the user is told
 * why lingering close will not happen, and the command still runs. */
static void warn_about_problem(enum finding_kind kind, const char *text, void *context)
{
    (void)context;
    if (kind == FINDING_PROBLEM)
        fprintf(stderr, "lingerclose: warning: %s\n", text);
}

static _Noreturn void run(char **argv)
{
    char library[PATH_MAX], tried[PATH_MAX * 2 + 8];
    if (!find_library(library, tried, sizeof tried))
        fail("cannot find " LIBRARY_NAME " (tried %s)", tried);
    /* Appended: whatever the user already preloads keeps its place in
     * front of us. A library built with sanitizers works only with the
     * sanitizer's runtime loaded before everything else. */
    add_to_preload(library, false);
    if (LC_SANITIZER_RUNTIME[0])
        add_to_preload(LC_SANITIZER_RUNTIME, true);
    char buf[PATH_MAX];
    const char *path = check_resolve_command(argv[0], buf, sizeof buf);
    /* A missing or unrunnable command is execvp's to report. */
    if (path && access(path, X_OK) == 0)
        check_program(path, warn_about_problem, NULL);
    execvp(argv[0], argv);
    int error = errno;
    fprintf(stderr, "lingerclose: %s: %s\n", argv[0], strerror(error));
    exit(error == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

static void print_finding(enum finding_kind kind, const char *text, void *context)
{
    (void)context;
    printf("%s: %s\n", kind == FINDING_PROBLEM ? "no" : "ok", text);
}

/* One line per finding on stdout, the verdict last. */
static _Noreturn void check(const char *command)
{
    char library[PATH_MAX], tried[PATH_MAX * 2 + 8];
    bool can_work = true;
    bool found = find_library(library, tried, sizeof tried);
    if (found) {
        printf("ok: the library is %s\n", library);
    } else {
        printf("no: " LIBRARY_NAME " is not installed (tried %s)\n", tried);
        can_work = false;
    }
    if (unit_to_check && !check_unit(unit_to_check, found ? library : NULL, print_finding, NULL))
        can_work = false;
    char buf[PATH_MAX];
    const char *path = command ? check_resolve_command(command, buf, sizeof buf) : NULL;
    if (!command) {
        command = unit_to_check;
    } else if (!path) {
        printf("no: %s is not found in PATH\n", command);
        can_work = false;
    } else if (!check_program(path, print_finding, NULL)) {
        can_work = false;
    }
    printf("%s: lingering close %s work for %s\n", can_work ? "ok" : "no",
           can_work ? "can" : "cannot", command);
    exit(can_work ? EXIT_SUCCESS : EXIT_FAILURE);
}

int main(int argc, char **argv)
{
    /* A subcommand; a command named probe runs as 'lingerclose -- probe'. */
    if (argc > 1 && strcmp(argv[1], "probe") == 0)
        return probe_main(argc - 1, argv + 1);
    enum action action;
    int operand = parse_options(argc, argv, &action);
    if (action != ACTION_RUN)
        complain_about_variables();
    switch (action) {
    case ACTION_CHECK:
        check(operand < argc ? argv[operand] : NULL);
    case ACTION_STATS:
        return stats_report(argc - operand, argv + operand, stdout, stderr);
    case ACTION_STATUS:
        return status_report(argc - operand, argv + operand, stdout);
    case ACTION_RUN:
        break;
    }
    run(argv + operand);
}
