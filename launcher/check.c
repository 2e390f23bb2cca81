/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"
#include "elf-facts.h"

/* The kernel follows at most this many nested #! interpreters. */
#define MAX_INTERPRETER_DEPTH 4
/* The kernel reads this much of a file to find the #! line. */
#define SHEBANG_BUFFER 256

struct reporter {
    finding_fn report;
    void *context;
    bool problem_found;
};

static __attribute__((format(printf, 3, 4))) void say(struct reporter *r, enum finding_kind kind,
                                                    const char *fmt, ...)
{
    char text[PATH_MAX * 2 + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (kind == FINDING_PROBLEM)
        r->problem_found = true;
    r->report(kind, text, r->context);
}

static bool is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

const char *check_resolve_command(const char *name, char *buf, size_t size)
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

/* Secure-execution mode (AT_SECURE) makes the dynamic loader ignore
 * LD_PRELOAD entries outside the trusted directories: the library would
 * have to be there and be setuid itself, which it never is. */
static void check_privileges(const char *path, const struct stat *st, struct reporter *r)
{
    /* Without group execute permission S_ISGID means mandatory locking. */
    bool setgid = (st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP);
    if (st->st_mode & S_ISUID)
        say(r, FINDING_PROBLEM,
            "%s is setuid: when it runs with raised privileges the dynamic loader ignores "
            "LD_PRELOAD outside the system directories, so lingering close will not apply",
            path);
    if (setgid)
        say(r, FINDING_PROBLEM,
            "%s is setgid: when it runs with raised privileges the dynamic loader ignores "
            "LD_PRELOAD outside the system directories, so lingering close will not apply",
            path);
    if (getxattr(path, "security.capability", NULL, 0) >= 0)
        say(r, FINDING_PROBLEM,
            "%s has file capabilities (security.capability): it runs in secure-execution "
            "mode, where the dynamic loader ignores LD_PRELOAD",
            path);
}

static bool is_glibc_loader(const char *interpreter)
{
    const char *base = strrchr(interpreter, '/');
    base = base ? base + 1 : interpreter;
    /* ld-linux.so.2, ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ...;
     * ld64.so.1 and ld64.so.2 on s390x and ppc64; ld.so.1 on mips. */
    return strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld64.so.", 8) == 0 ||
           strcmp(base, "ld.so.1") == 0;
}

static void report_go(const char *path, const struct elf_facts *f, struct reporter *r)
{
    if (f->is_go)
        say(r, FINDING_PROBLEM,
            "%s is a Go program: Go makes its system calls itself, so its closes never "
            "reach the library",
            path);
}

static void check_elf(const char *path, const struct elf_facts *f, struct reporter *r)
{
    switch (f->kind) {
    case ELF_NOT_ELF:
        say(r, FINDING_PROBLEM, "%s is neither an ELF program nor a #! script", path);
        return;
    case ELF_DAMAGED:
        say(r, FINDING_PROBLEM, "%s is a damaged ELF file: its headers point outside it", path);
        return;
    case ELF_FOREIGN:
        say(r, FINDING_PROBLEM,
            "%s is a %d-bit %s program: the library is built for %d-bit %s, so the dynamic "
            "loader would skip it",
            path, f->bits, f->machine[0] ? f->machine : "other-byte-order",
            (int)sizeof(void *) * 8, elf_native_machine());
        return;
    case ELF_NATIVE:
        break;
    }
    if (!f->has_interpreter) {
        report_go(path, f, r);
        say(r, FINDING_PROBLEM,
            "%s is statically linked: it never runs the dynamic loader, so LD_PRELOAD and "
            "lingering close will not apply",
            path);
        return;
    }
    if (strstr(f->interpreter, "musl")) {
        say(r, FINDING_PROBLEM,
            "%s is a musl program (loaded by %s): the library is built for glibc", path,
            f->interpreter);
        return;
    }
    if (!is_glibc_loader(f->interpreter)) {
        say(r, FINDING_PROBLEM,
            "%s is loaded by %s, which is not glibc's dynamic loader: the library is built "
            "for glibc",
            path, f->interpreter);
        return;
    }
    say(r, FINDING_FACT, "%s is a %d-bit %s ELF program loaded by glibc's %s", path, f->bits,
        f->machine, f->interpreter);
    report_go(path, f, r);
    if (!f->needs_libc)
        say(r, FINDING_PROBLEM,
            "%s does not link libc.so dynamically (%u shared libraries needed): its closes "
            "cannot go through the library",
            path, f->needed_count);
}

/* The program env(1) would run for "#!/usr/bin/env [-S] [-opts] [VAR=x] prog":
 * the first word that is neither an option nor an assignment. */
static bool env_target(const char *argument, char *name, size_t size)
{
    const char *p = argument;
    for (;;) {
        p += strspn(p, " \t");
        size_t len = strcspn(p, " \t");
        if (len == 0)
            return false;
        bool option = p[0] == '-';
        bool assignment = memchr(p, '=', len) != NULL;
        if (!option && !assignment) {
            if (len >= size)
                return false;
            memcpy(name, p, len);
            name[len] = '\0';
            return true;
        }
        p += len;
    }
}

/* The kernel's reading of a #! line: the interpreter is the first word,
 * the rest (trimmed) is one argument. false if the file is no script. */
static bool read_shebang(const char *path, char *interpreter, size_t isize, char *argument,
                         size_t asize)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[SHEBANG_BUFFER + 1];
    ssize_t n = read(fd, buf, SHEBANG_BUFFER);
    close(fd);
    if (n < 2 || buf[0] != '#' || buf[1] != '!')
        return false;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    char *p = buf + 2;
    p += strspn(p, " \t");
    size_t len = strcspn(p, " \t");
    snprintf(interpreter, isize, "%.*s", (int)len, p);
    p += len;
    p += strspn(p, " \t");
    len = strlen(p);
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
        len--;
    snprintf(argument, asize, "%.*s", (int)len, p);
    return true;
}

static void check_file(const char *path, int depth, struct reporter *r);

static void check_script(const char *path, const char *interpreter, const char *argument,
                         int depth, struct reporter *r)
{
    if (interpreter[0] == '\0') {
        say(r, FINDING_PROBLEM, "%s has an empty #! line", path);
        return;
    }
    const char *base = strrchr(interpreter, '/');
    base = base ? base + 1 : interpreter;
    char target_name[PATH_MAX], found[PATH_MAX];
    if (strcmp(base, "env") == 0 && env_target(argument, target_name, sizeof target_name)) {
        const char *target = check_resolve_command(target_name, found, sizeof found);
        if (!target) {
            say(r, FINDING_PROBLEM, "%s is a #! script run by %s through %s, not found in PATH",
                path, target_name, interpreter);
            return;
        }
        say(r, FINDING_FACT,
            "%s is a #! script run by %s through %s; the programs it starts inherit "
            "LD_PRELOAD and need their own check",
            path, target, interpreter);
        check_file(target, depth + 1, r);
        return;
    }
    say(r, FINDING_FACT,
        "%s is a #! script run by %s; the programs it starts inherit LD_PRELOAD and need "
        "their own check",
        path, interpreter);
    check_file(interpreter, depth + 1, r);
}

static void check_file(const char *path, int depth, struct reporter *r)
{
    if (depth > MAX_INTERPRETER_DEPTH) {
        say(r, FINDING_PROBLEM, "%s: too many levels of #! interpreters", path);
        return;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        say(r, FINDING_PROBLEM, "%s: %s", path, strerror(errno));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        say(r, FINDING_PROBLEM, "%s is not a regular file", path);
        return;
    }
    if (access(path, X_OK) != 0) {
        say(r, FINDING_PROBLEM, "%s is not executable", path);
        return;
    }
    char interpreter[SHEBANG_BUFFER], argument[SHEBANG_BUFFER];
    if (read_shebang(path, interpreter, sizeof interpreter, argument, sizeof argument)) {
        /* The kernel ignores the setuid bit of scripts. */
        check_script(path, interpreter, argument, depth, r);
        return;
    }
    check_privileges(path, &st, r);
    struct elf_facts facts;
    if (!elf_read_facts(path, &facts)) {
        say(r, FINDING_PROBLEM, "cannot read %s: %s", path, strerror(errno));
        return;
    }
    check_elf(path, &facts, r);
}

bool check_program(const char *path, finding_fn report, void *context)
{
    struct reporter r = { report, context, false };
    check_file(path, 0, &r);
    return !r.problem_found;
}
