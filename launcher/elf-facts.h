/* SPDX-License-Identifier: MIT */
/* What a program file says about how it will be loaded, read from its ELF
 * headers directly (no external tool): enough to tell whether the dynamic
 * loader will preload a library into it. */
#ifndef LINGERCLOSE_ELF_FACTS_H
#define LINGERCLOSE_ELF_FACTS_H

#include <limits.h>
#include <stdbool.h>

enum elf_kind {
    ELF_NOT_ELF,   /* no ELF magic */
    ELF_DAMAGED,   /* ELF magic, but headers point outside the file */
    ELF_FOREIGN,   /* an ELF file for another class, byte order or machine */
    ELF_NATIVE,
};

struct elf_facts {
    enum elf_kind kind;
    int bits;               /* 32 or 64 */
    char machine[32];       /* "x86-64", "i386", ... */
    bool has_interpreter;   /* PT_INTERP: runs the dynamic loader */
    char interpreter[PATH_MAX];
    unsigned needed_count;  /* DT_NEEDED entries */
    bool needs_libc;        /* one of them is libc.so.* */
    bool is_go;             /* .go.buildinfo section or Go build-id note */
};

/* Fills facts from the file at path; false (errno set) if it cannot be
 * opened or read. A file that is not ELF is not an error. */
bool elf_read_facts(const char *path, struct elf_facts *facts);

/* The machine the launcher and the library were built for, as in machine. */
const char *elf_native_machine(void);

#endif
