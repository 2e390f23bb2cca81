/* SPDX-License-Identifier: MIT */
/* Runs a program under a seccomp filter built the way systemd builds the
 * filters of a unit's SystemCallFilter=, SystemCallArchitectures= and
 * MemoryDenyWriteExecute= (src/shared/seccomp-util.c, systemd 252), so
 * that the tests can put a real server, with the library loaded, into the
 * sandbox a Debian unit gives it without a running systemd.
 *
 *   seccomp-run [--allow-file FILE] [--deny-file FILE] [--native-only]
 *               [--mdwe] [--errno] -- PROGRAM ARGS...
 *
 * --allow-file: an allow list (systemd's SystemCallFilter=NAMES): every
 *     system call named in FILE, minus those in --deny-file, is allowed;
 *     any other one takes the negative action. systemd puts @default into
 *     every allow list itself (at parse time); the caller does the same by
 *     listing @default's calls in FILE, since this program knows no groups.
 * --deny-file alone: a deny list (SystemCallFilter=~NAMES): the calls
 *     named take the negative action, every other one is allowed.
 * The negative action is systemd's default, SCMP_ACT_KILL_PROCESS (the
 * whole process dies of SIGSYS), or with --errno SCMP_ACT_ERRNO(EPERM)
 * (SystemCallErrorNumber=EPERM).
 * FILE: one name a line; blank lines, lines starting with '#' or '@' (a
 * group's name as systemd-analyze prints it) and leading blanks are
 * ignored; names libseccomp does not know are skipped, as systemd skips
 * them.
 * --native-only: SystemCallArchitectures=native: a system call made
 *     through another ABI (x86 or x32 on x86-64) kills.
 * --mdwe: MemoryDenyWriteExecute=yes: systemd's rules answer EPERM to
 *     mmap of memory both writable and executable, to mprotect and
 *     pkey_mprotect adding execute, and to shmat with SHM_EXEC.
 *
 * As systemd does, one filter is loaded for each ABI the machine runs
 * (each allowing the calls of the other ABIs, which their own filters
 * judge), the architecture restriction before the system call filter,
 * and no_new_privs is set first (NoNewPrivileges=yes, implied by any of
 * these settings in a unit that lacks CAP_SYS_ADMIN).
 *
 * Exit: the program's, or 125 if the filter could not be made, 126/127
 * if the program could not be started. */
#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#include "progs/progs.h"

#define MAX_CALLS 2048

/* The ABIs systemd filters on this machine (seccomp_local_archs), the
 * native one last. */
static const uint32_t local_archs[] = {
#if defined(__x86_64__) && !defined(__ILP32__)
    SCMP_ARCH_X86, SCMP_ARCH_X32, SCMP_ARCH_X86_64,
#elif defined(__aarch64__)
    SCMP_ARCH_ARM, SCMP_ARCH_AARCH64,
#else
    SCMP_ARCH_NATIVE,
#endif
};
#define N_LOCAL_ARCHS (sizeof local_archs / sizeof local_archs[0])

struct call_set {
    int ids[MAX_CALLS];
    size_t count;
};

static bool set_has(const struct call_set *set, int id)
{
    for (size_t i = 0; i < set->count; i++)
        if (set->ids[i] == id)
            return true;
    return false;
}

static void read_names(const char *path, struct call_set *set)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot read %s: %s", path, strerror(errno));
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *name = line + strspn(line, " \t");
        name[strcspn(name, " \t\r\n")] = '\0';
        if (!*name || *name == '#' || *name == '@')
            continue;
        int id = seccomp_syscall_resolve_name(name);
        if (id == __NR_SCMP_ERROR || set_has(set, id))
            continue;
        if (set->count == MAX_CALLS)
            die("too many system calls in the lists");
        set->ids[set->count++] = id;
    }
    fclose(f);
}

/* seccomp_init_for_arch: a filter for one ABI that lets the others pass. */
static scmp_filter_ctx filter_for_arch(uint32_t arch, uint32_t default_action)
{
    scmp_filter_ctx ctx = seccomp_init(default_action);
    if (!ctx)
        die("seccomp_init failed");
    if (arch != SCMP_ARCH_NATIVE && arch != seccomp_arch_native()) {
        if (seccomp_arch_remove(ctx, seccomp_arch_native()) != 0 || seccomp_arch_add(ctx, arch) != 0)
            die("cannot make a filter for another ABI");
    }
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW) != 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0)
        die("seccomp_attr_set failed");
    return ctx;
}

/* A rule the ABI does not have (-EDOM) is skipped, as systemd skips it. */
static void add_rule(scmp_filter_ctx ctx, uint32_t action, int id, unsigned arg_count,
                     struct scmp_arg_cmp arg)
{
    int rc = arg_count ? seccomp_rule_add_exact(ctx, action, id, 1, arg)
                       : seccomp_rule_add_exact(ctx, action, id, 0);
    if (rc != 0 && rc != -EDOM) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, id);
        die("cannot add a rule for %s: %s", name ? name : "?", strerror(-rc));
    }
}

static void load(scmp_filter_ctx ctx)
{
    int rc = seccomp_load(ctx);
    if (rc != 0)
        die("seccomp_load failed: %s", strerror(-rc));
    seccomp_release(ctx);
}

/* seccomp_memory_deny_write_execute, for the 64-bit ABIs that have a
 * plain mmap (the only ones these tests run programs of). */
static void load_memory_deny_write_execute(void)
{
    for (size_t i = 0; i < N_LOCAL_ARCHS; i++) {
        uint32_t arch = local_archs[i];
        if (arch == SCMP_ARCH_X86 || arch == SCMP_ARCH_ARM)
            continue;
        scmp_filter_ctx ctx = filter_for_arch(arch, SCMP_ACT_ALLOW);
        uint32_t refuse = SCMP_ACT_ERRNO(EPERM);
        add_rule(ctx, refuse, SCMP_SYS(mmap), 1,
                 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC | PROT_WRITE));
        add_rule(ctx, refuse, SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
        add_rule(ctx, refuse, SCMP_SYS(pkey_mprotect), 1,
                 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
        add_rule(ctx, refuse, SCMP_SYS(shmat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC));
        load(ctx);
    }
}

/* seccomp_restrict_archs with only "native": no rules, every other ABI
 * takes libseccomp's bad-architecture action, a kill. */
static void load_native_only(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        die("seccomp_init failed");
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0)
        die("seccomp_attr_set failed");
    load(ctx);
}

/* seccomp_load_syscall_filter_set_raw */
static void load_call_filter(const struct call_set *allow, const struct call_set *deny,
                             bool allow_list, uint32_t negative)
{
    for (size_t i = 0; i < N_LOCAL_ARCHS; i++) {
        scmp_filter_ctx ctx = filter_for_arch(local_archs[i], allow_list ? negative : SCMP_ACT_ALLOW);
        const struct call_set *listed = allow_list ? allow : deny;
        for (size_t k = 0; k < listed->count; k++) {
            if (allow_list && set_has(deny, listed->ids[k]))
                continue;
            add_rule(ctx, allow_list ? SCMP_ACT_ALLOW : negative, listed->ids[k], 0,
                     (struct scmp_arg_cmp){ 0 });
        }
        load(ctx);
    }
}

int main(int argc, char **argv)
{
    die_status = 125; /* its own failures, told apart from the program's (see Exit above) */
    static struct call_set allow, deny;
    bool allow_list = false, native_only = false, mdwe = false;
    uint32_t negative = SCMP_ACT_KILL_PROCESS;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--allow-file") == 0 && i + 1 < argc) {
            read_names(argv[++i], &allow);
            allow_list = true;
        } else if (strcmp(argv[i], "--deny-file") == 0 && i + 1 < argc) {
            read_names(argv[++i], &deny);
        } else if (strcmp(argv[i], "--native-only") == 0) {
            native_only = true;
        } else if (strcmp(argv[i], "--mdwe") == 0) {
            mdwe = true;
        } else if (strcmp(argv[i], "--errno") == 0) {
            negative = SCMP_ACT_ERRNO(EPERM);
        } else {
            die("unknown argument %s; usage: seccomp-run [--allow-file FILE] [--deny-file FILE]"
                " [--native-only] [--mdwe] [--errno] -- PROGRAM ARGS...",
                argv[i]);
        }
    }
    if (i + 1 >= argc)
        die("no program after --");
    char **program = argv + i + 1;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("cannot set no_new_privs");
    /* systemd's order in exec_child: MemoryDenyWriteExecute=, then
     * SystemCallArchitectures=, then SystemCallFilter= last, so that the
     * earlier seccomp() calls are not themselves filtered. */
    if (mdwe)
        load_memory_deny_write_execute();
    if (native_only)
        load_native_only();
    if (allow_list || deny.count)
        load_call_filter(&allow, &deny, allow_list, negative);

    execvp(program[0], program);
    int saved = errno;
    fprintf(stderr, "seccomp-run: cannot run %s: %s\n", program[0], strerror(saved));
    return saved == ENOENT ? 127 : 126;
}
