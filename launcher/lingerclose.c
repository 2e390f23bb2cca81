/* lingerclose: runs a command with liblingerclose.so preloaded and its
 * configuration given as options rather than as LINGERCLOSE_* variables.
 * Like env(1) it execs the command in place, so signals, the exit status
 * and the process id are the command's own. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

#define LIBRARY_NAME "liblingerclose.so"

/* env(1)'s exit statuses, so that a caller can tell the launcher's failures
 * from the command's. */
enum {
    EXIT_LAUNCHER = 125,
    EXIT_CANNOT_RUN = 126,
    EXIT_NOT_FOUND = 127,
};

struct setting {
    const char *variable;
    bool (*valid)(const char *text);
    const char *accepted;
};

/* The launcher only checks a value and passes the text on: the library
 * parses it again with the same parsers, so both always agree. */
static bool valid_mode(const char *text)
{
    enum lc_mode mode;
    return lc_parse_mode(text, &mode);
}

static bool valid_duration(const char *text)
{
    uint32_t ms;
    return lc_parse_duration_ms(text, LC_MIN_TIMEOUT_MS, LC_MAX_TIMEOUT_MS, &ms);
}

static bool valid_exit_duration(const char *text)
{
    uint32_t ms;
    return lc_parse_duration_ms(text, 0, LC_MAX_EXIT_TIMEOUT_MS, &ms);
}

static bool valid_count(const char *text)
{
    uint32_t count;
    return lc_parse_count(text, LC_MIN_MAX_SOCKETS, LC_MAX_MAX_SOCKETS, &count);
}

static bool valid_size(const char *text)
{
    uint64_t size;
    return lc_parse_size(text, LC_MAX_MAX_BYTES, &size);
}

static bool valid_log_level(const char *text)
{
    enum lc_log_level level;
    return lc_parse_log_level(text, &level);
}

/* getopt_long returns a setting's index in settings[], or one of the
 * options after SETTING_COUNT. */
enum option_id {
    SETTING_MODE,
    SETTING_IDLE_TIMEOUT,
    SETTING_TIMEOUT,
    SETTING_EXIT_TIMEOUT,
    SETTING_MAX_SOCKETS,
    SETTING_MAX_BYTES,
    SETTING_LOG,
    SETTING_COUNT,
    OPTION_HELP = SETTING_COUNT,
    OPTION_VERSION,
};

static const struct setting settings[SETTING_COUNT] = {
    [SETTING_MODE] = { "LINGERCLOSE_MODE", valid_mode, LC_ACCEPTED_MODE },
    [SETTING_IDLE_TIMEOUT] = { "LINGERCLOSE_IDLE_TIMEOUT", valid_duration, LC_ACCEPTED_DURATION },
    [SETTING_TIMEOUT] = { "LINGERCLOSE_TIMEOUT", valid_duration, LC_ACCEPTED_DURATION },
    [SETTING_EXIT_TIMEOUT] = { "LINGERCLOSE_EXIT_TIMEOUT", valid_exit_duration,
                               LC_ACCEPTED_EXIT_DURATION },
    [SETTING_MAX_SOCKETS] = { "LINGERCLOSE_MAX_SOCKETS", valid_count, LC_ACCEPTED_COUNT },
    [SETTING_MAX_BYTES] = { "LINGERCLOSE_MAX_BYTES", valid_size, LC_ACCEPTED_SIZE },
    [SETTING_LOG] = { "LINGERCLOSE_LOG", valid_log_level, LC_ACCEPTED_LOG_LEVEL },
};

static const struct option long_options[] = {
    { "mode", required_argument, NULL, SETTING_MODE },
    { "idle-timeout", required_argument, NULL, SETTING_IDLE_TIMEOUT },
    { "timeout", required_argument, NULL, SETTING_TIMEOUT },
    { "exit-timeout", required_argument, NULL, SETTING_EXIT_TIMEOUT },
    { "max-sockets", required_argument, NULL, SETTING_MAX_SOCKETS },
    { "max-bytes", required_argument, NULL, SETTING_MAX_BYTES },
    { "log", required_argument, NULL, SETTING_LOG },
    { "help", no_argument, NULL, OPTION_HELP },
    { "version", no_argument, NULL, OPTION_VERSION },
    { NULL, 0, NULL, 0 },
};

static const char usage_line[] =
    "Usage: lingerclose [OPTION]... [--] COMMAND [ARG]...\n";

static void print_help(void)
{
    fputs(usage_line, stdout);
    fputs("Run COMMAND with " LIBRARY_NAME " preloaded, so that the TCP connections it\n"
          "closes while the peer may still be sending get a lingering close: the\n"
          "library drains and discards their input for a while instead of letting an\n"
          "unread byte turn the close into a reset that destroys the response.\n"
          "\n"
          "  --mode=MODE          auto (linger only when needed), always, or off\n"
          "  --idle-timeout=DUR   end a lingering close after DUR without input (2s)\n"
          "  --timeout=DUR        end a lingering close after DUR in total (30s)\n"
          "  --exit-timeout=DUR   when COMMAND ends holding connections, wait at most\n"
          "                       DUR for their peers; 0 to 60s, 0 for no wait (2s)\n"
          "  --max-sockets=N      linger on at most N sockets at once, 1 to 1048576\n"
          "                       (a quarter of the open-file limit, 16 to 16384)\n"
          "  --max-bytes=SIZE     discard at most SIZE bytes per socket; SIZE takes\n"
          "                       a K, M or G suffix, 0 or 'unlimited' for no cap (unlimited)\n"
          "  --log=LEVEL          error, warn, info or debug (warn)\n"
          "  --help               show this help and exit\n"
          "  --version            show the version and exit\n"
          "\n"
          "DUR is 1ms to 1h: a number with an optional ms, s or m suffix; a bare\n"
          "number is seconds. Each option sets the LINGERCLOSE_* variable of the\n"
          "same name (LINGERCLOSE_MODE, LINGERCLOSE_IDLE_TIMEOUT, LINGERCLOSE_TIMEOUT,\n"
          "LINGERCLOSE_EXIT_TIMEOUT, LINGERCLOSE_MAX_SOCKETS, LINGERCLOSE_MAX_BYTES,\n"
          "LINGERCLOSE_LOG), and the library is appended to LD_PRELOAD. Options\n"
          "after COMMAND are COMMAND's.\n"
          "\n"
          "Exit status: 125 if lingerclose itself fails, 126 if COMMAND cannot be run,\n"
          "127 if COMMAND is not found, otherwise the exit status of COMMAND.\n",
          stdout);
}

static _Noreturn void usage_error(void)
{
    fputs(usage_line, stderr);
    fputs("Try 'lingerclose --help' for more information.\n", stderr);
    exit(EXIT_LAUNCHER);
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

/* option is the full name, even when the user abbreviated it. */
static void apply_setting(const struct setting *s, const char *option, const char *value)
{
    if (!s->valid(value))
        fail("--%s: '%s' is not valid (accepted: %s)", option, value, s->accepted);
    set_variable(s->variable, value);
}

/* Returns the index of COMMAND in argv. */
static int parse_options(int argc, char **argv)
{
    int opt, long_index;
    /* "+": the first non-option is COMMAND, and everything after it is
     * COMMAND's own, even if it looks like one of our options. */
    while ((opt = getopt_long(argc, argv, "+", long_options, &long_index)) != -1) {
        if (opt >= 0 && opt < SETTING_COUNT) {
            apply_setting(&settings[opt], long_options[long_index].name, optarg);
        } else if (opt == OPTION_HELP) {
            print_help();
            exit(EXIT_SUCCESS);
        } else if (opt == OPTION_VERSION) {
            puts("lingerclose " PACKAGE_VERSION);
            exit(EXIT_SUCCESS);
        } else {
            usage_error(); /* getopt_long has said what was wrong */
        }
    }
    if (optind >= argc) {
        fputs("lingerclose: missing COMMAND\n", stderr);
        usage_error();
    }
    return optind;
}

/* A launcher run from the build tree uses the library built next to it, so
 * that it can be tried and tested before it is installed. */
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
    int len = snprintf(path, size, "%s/shim/.libs/" LIBRARY_NAME, exe);
    return len > 0 && (size_t)len < size;
}

/* The dynamic loader resolves a relative LD_PRELOAD entry against the
 * command's working directory, not ours, hence the absolute path. */
static void find_library(char resolved[PATH_MAX])
{
    char in_build_tree[PATH_MAX];
    bool have_build_tree = build_tree_library(in_build_tree, sizeof in_build_tree);
    if (have_build_tree && realpath(in_build_tree, resolved))
        return;
    if (realpath(LC_PKGLIBDIR "/" LIBRARY_NAME, resolved))
        return;
    if (have_build_tree)
        fail("cannot find " LIBRARY_NAME " (tried %s and %s)", in_build_tree,
             LC_PKGLIBDIR "/" LIBRARY_NAME);
    fail("cannot find " LIBRARY_NAME " (tried %s)", LC_PKGLIBDIR "/" LIBRARY_NAME);
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

/* Appended rather than prepended: whatever the user already preloads keeps
 * its place in front of us. */
static void add_to_preload(const char *library)
{
    const char *current = getenv("LD_PRELOAD");
    if (!current || current[strspn(current, " :")] == '\0') {
        set_variable("LD_PRELOAD", library);
        return;
    }
    if (preload_contains(current, library))
        return;
    char *joined;
    if (asprintf(&joined, "%s:%s", current, library) < 0)
        fail("cannot set LD_PRELOAD: %s", strerror(ENOMEM));
    set_variable("LD_PRELOAD", joined);
    free(joined);
}

static bool is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The file execvp() will run, found the same way, so that it can be
 * checked first; NULL if there is none (execvp will then report why). */
static const char *resolve_command(const char *name, char *buf, size_t size)
{
    if (strchr(name, '/'))
        return name;
    const char *search = getenv("PATH");
    if (!search)
        search = "/bin:/usr/bin"; /* glibc execvp's default */
    const char *dir = search;
    for (;;) {
        const char *end = strchrnul(dir, ':');
        int dirlen = (int)(end - dir);
        /* An empty entry is the current directory. */
        int len = snprintf(buf, size, "%.*s%s%s", dirlen, dir, dirlen ? "/" : "", name);
        if (len > 0 && (size_t)len < size && is_executable_file(buf))
            return buf;
        if (*end == '\0')
            return NULL;
        dir = end + 1;
    }
}

enum linkage { LINKAGE_UNKNOWN, LINKAGE_DYNAMIC, LINKAGE_STATIC };

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ELFDATA ELFDATA2LSB
#else
#define NATIVE_ELFDATA ELFDATA2MSB
#endif

/* A program is dynamically linked when it names an interpreter (the
 * dynamic loader) in a PT_INTERP program header. p_type is the first
 * 32-bit field of a program header in both ELF classes. */
static enum linkage scan_program_headers(int fd, uint64_t offset, uint16_t entsize, uint16_t count)
{
    if (entsize < sizeof(uint32_t))
        return LINKAGE_UNKNOWN;
    for (uint16_t i = 0; i < count; i++) {
        uint32_t type;
        if (pread(fd, &type, sizeof type, (off_t)(offset + (uint64_t)i * entsize)) !=
            (ssize_t)sizeof type)
            return LINKAGE_UNKNOWN;
        if (type == PT_INTERP)
            return LINKAGE_DYNAMIC;
    }
    return LINKAGE_STATIC;
}

/* Anything that is not a readable native ELF file, such as a "#!" script,
 * is LINKAGE_UNKNOWN: there is nothing to warn about. */
static enum linkage elf_linkage(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return LINKAGE_UNKNOWN;
    union {
        unsigned char ident[EI_NIDENT];
        Elf32_Ehdr h32;
        Elf64_Ehdr h64;
    } ehdr;
    enum linkage linkage = LINKAGE_UNKNOWN;
    ssize_t n = pread(fd, &ehdr, sizeof ehdr, 0);
    if (n >= EI_NIDENT && memcmp(ehdr.ident, ELFMAG, SELFMAG) == 0 &&
        ehdr.ident[EI_DATA] == NATIVE_ELFDATA) {
        if (ehdr.ident[EI_CLASS] == ELFCLASS64 && (size_t)n >= sizeof ehdr.h64)
            linkage = scan_program_headers(fd, ehdr.h64.e_phoff, ehdr.h64.e_phentsize,
                                           ehdr.h64.e_phnum);
        else if (ehdr.ident[EI_CLASS] == ELFCLASS32 && (size_t)n >= sizeof ehdr.h32)
            linkage = scan_program_headers(fd, ehdr.h32.e_phoff, ehdr.h32.e_phentsize,
                                           ehdr.h32.e_phnum);
    }
    close(fd);
    return linkage;
}

/* The library cannot reach these programs, yet they run: the user is told
 * why lingering close will not happen, and the command still runs. */
static void warn_if_preload_ignored(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    bool is_setuid = st.st_mode & S_ISUID;
    /* Without group execute permission S_ISGID means mandatory locking. */
    bool is_setgid = (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP);
    if (is_setuid || is_setgid)
        fprintf(stderr,
                "lingerclose: warning: %s is %s: when it runs with raised privileges the "
                "dynamic loader ignores LD_PRELOAD outside the system directories, so "
                "lingering close will not apply\n",
                path, is_setuid ? "setuid" : "setgid");
    if (elf_linkage(path) == LINKAGE_STATIC)
        fprintf(stderr,
                "lingerclose: warning: %s is statically linked: it never runs the dynamic "
                "loader, so LD_PRELOAD and lingering close will not apply\n",
                path);
}

static _Noreturn void run(char **argv)
{
    char buf[PATH_MAX];
    const char *path = resolve_command(argv[0], buf, sizeof buf);
    if (path)
        warn_if_preload_ignored(path);
    execvp(argv[0], argv);
    int error = errno;
    fprintf(stderr, "lingerclose: %s: %s\n", argv[0], strerror(error));
    exit(error == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

int main(int argc, char **argv)
{
    int command = parse_options(argc, argv);
    char library[PATH_MAX];
    find_library(library);
    add_to_preload(library);
    run(argv + command);
}
