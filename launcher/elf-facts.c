/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf-facts.h"

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ELFDATA ELFDATA2LSB
#else
#define NATIVE_ELFDATA ELFDATA2MSB
#endif

#if UINTPTR_MAX == UINT64_MAX
#define NATIVE_ELFCLASS ELFCLASS64
#else
#define NATIVE_ELFCLASS ELFCLASS32
#endif

/* The machine the launcher (and so the library beside it) was built for. */
#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__i386__)
#define NATIVE_MACHINE EM_386
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#elif defined(__arm__)
#define NATIVE_MACHINE EM_ARM
#elif defined(__powerpc64__)
#define NATIVE_MACHINE EM_PPC64
#elif defined(__s390x__)
#define NATIVE_MACHINE EM_S390
#elif defined(__riscv)
#define NATIVE_MACHINE EM_RISCV
#else
#define NATIVE_MACHINE EM_NONE /* unknown: the machine is not compared */
#endif

/* The file, mapped; every access goes through in_file(), so that a damaged
 * or hostile file cannot make the reader look outside it. */
struct image {
    const unsigned char *data;
    uint64_t size;
    bool is64;
};

static bool in_file(const struct image *im, uint64_t offset, uint64_t length)
{
    return offset <= im->size && length <= im->size - offset;
}

/* Program and section headers and dynamic entries of either class, widened. */
struct segment {
    uint32_t type;
    uint64_t offset, vaddr, filesz;
};

struct section {
    uint32_t name, type;
    uint64_t offset, size;
};

struct layout {
    uint64_t phoff, shoff;
    uint16_t phentsize, phnum, shentsize, shnum, shstrndx, machine;
};

static bool read_layout(const struct image *im, struct layout *l)
{
    if (im->is64) {
        if (!in_file(im, 0, sizeof(Elf64_Ehdr)))
            return false;
        Elf64_Ehdr h;
        memcpy(&h, im->data, sizeof h);
        *l = (struct layout){ h.e_phoff, h.e_shoff, h.e_phentsize, h.e_phnum,
                              h.e_shentsize, h.e_shnum, h.e_shstrndx, h.e_machine };
    } else {
        if (!in_file(im, 0, sizeof(Elf32_Ehdr)))
            return false;
        Elf32_Ehdr h;
        memcpy(&h, im->data, sizeof h);
        *l = (struct layout){ h.e_phoff, h.e_shoff, h.e_phentsize, h.e_phnum,
                              h.e_shentsize, h.e_shnum, h.e_shstrndx, h.e_machine };
    }
    return true;
}

static bool read_segment(const struct image *im, const struct layout *l, unsigned i,
                         struct segment *s)
{
    uint64_t at = l->phoff + (uint64_t)i * l->phentsize;
    if (im->is64) {
        Elf64_Phdr p;
        if (l->phentsize < sizeof p || !in_file(im, at, sizeof p))
            return false;
        memcpy(&p, im->data + at, sizeof p);
        *s = (struct segment){ p.p_type, p.p_offset, p.p_vaddr, p.p_filesz };
    } else {
        Elf32_Phdr p;
        if (l->phentsize < sizeof p || !in_file(im, at, sizeof p))
            return false;
        memcpy(&p, im->data + at, sizeof p);
        *s = (struct segment){ p.p_type, p.p_offset, p.p_vaddr, p.p_filesz };
    }
    return in_file(im, s->offset, s->filesz) || s->type == PT_LOAD;
}

static bool read_section(const struct image *im, const struct layout *l, unsigned i,
                         struct section *s)
{
    uint64_t at = l->shoff + (uint64_t)i * l->shentsize;
    if (im->is64) {
        Elf64_Shdr h;
        if (l->shentsize < sizeof h || !in_file(im, at, sizeof h))
            return false;
        memcpy(&h, im->data + at, sizeof h);
        *s = (struct section){ h.sh_name, h.sh_type, h.sh_offset, h.sh_size };
    } else {
        Elf32_Shdr h;
        if (l->shentsize < sizeof h || !in_file(im, at, sizeof h))
            return false;
        memcpy(&h, im->data + at, sizeof h);
        *s = (struct section){ h.sh_name, h.sh_type, h.sh_offset, h.sh_size };
    }
    return true;
}

/* The string at offset in a table of size bytes, or NULL if it does not
 * end inside the table. */
static const char *string_at(const struct image *im, uint64_t table, uint64_t size,
                             uint64_t offset)
{
    if (!in_file(im, table, size) || offset >= size)
        return NULL;
    const char *s = (const char *)im->data + table + offset;
    return memchr(s, '\0', size - offset) ? s : NULL;
}

/* Dynamic entries name addresses; the file offset is found through the
 * PT_LOAD segment that maps the address. */
static bool vaddr_to_offset(const struct image *im, const struct layout *l, uint64_t vaddr,
                            uint64_t *offset, uint64_t *room)
{
    for (unsigned i = 0; i < l->phnum; i++) {
        struct segment s;
        if (!read_segment(im, l, i, &s) || s.type != PT_LOAD)
            continue;
        if (vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) {
            *offset = s.offset + (vaddr - s.vaddr);
            *room = s.filesz - (vaddr - s.vaddr);
            return in_file(im, *offset, 1);
        }
    }
    return false;
}

static void read_dynamic(const struct image *im, const struct layout *l,
                         const struct segment *dyn, struct elf_facts *facts)
{
    size_t entsize = im->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
    uint64_t strtab = 0, strsz = 0;
    bool have_strtab = false;
    /* Two passes: DT_STRTAB may come after the DT_NEEDED entries. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t at = dyn->offset; at + entsize <= dyn->offset + dyn->filesz;
             at += entsize) {
            int64_t tag;
            uint64_t val;
            if (im->is64) {
                Elf64_Dyn d;
                memcpy(&d, im->data + at, sizeof d);
                tag = d.d_tag;
                val = d.d_un.d_val;
            } else {
                Elf32_Dyn d;
                memcpy(&d, im->data + at, sizeof d);
                tag = d.d_tag;
                val = d.d_un.d_val;
            }
            if (tag == DT_NULL)
                break;
            if (pass == 0) {
                if (tag == DT_STRTAB)
                    have_strtab = vaddr_to_offset(im, l, val, &strtab, &strsz);
                continue;
            }
            if (tag != DT_NEEDED)
                continue;
            facts->needed_count++;
            const char *name = have_strtab ? string_at(im, strtab, strsz, val) : NULL;
            if (name && strncmp(name, "libc.so.", 8) == 0)
                facts->needs_libc = true;
        }
    }
}

/* The Go linker marks every binary it writes with a note named "Go" of type
 * 4 (its build ID). */
#define GO_NOTE_NAME "Go"
#define GO_NOTE_BUILDID 4

static bool has_go_note(const struct image *im, const struct segment *note)
{
    uint64_t at = note->offset, end = note->offset + note->filesz;
    while (at + 12 <= end) {
        uint32_t word[3]; /* namesz, descsz, type: 32-bit words in both classes */
        memcpy(word, im->data + at, sizeof word);
        uint64_t name = at + 12;
        uint64_t desc = name + ((word[0] + 3ull) & ~3ull);
        uint64_t next = desc + ((word[1] + 3ull) & ~3ull);
        if (next > end)
            return false;
        if (word[2] == GO_NOTE_BUILDID && word[0] == sizeof GO_NOTE_NAME &&
            memcmp(im->data + name, GO_NOTE_NAME, sizeof GO_NOTE_NAME) == 0)
            return true;
        at = next;
    }
    return false;
}

static bool has_go_section(const struct image *im, const struct layout *l)
{
    struct section names;
    if (l->shnum == 0 || l->shstrndx >= l->shnum || !read_section(im, l, l->shstrndx, &names))
        return false;
    for (unsigned i = 0; i < l->shnum; i++) {
        struct section s;
        if (!read_section(im, l, i, &s))
            return false;
        const char *name = string_at(im, names.offset, names.size, s.name);
        if (name && (strcmp(name, ".go.buildinfo") == 0 || strcmp(name, ".note.go.buildid") == 0))
            return true;
    }
    return false;
}

static const char *machine_name(uint16_t machine)
{
    switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_386: return "i386";
    case EM_AARCH64: return "aarch64";
    case EM_ARM: return "arm";
    case EM_PPC64: return "ppc64";
    case EM_PPC: return "ppc";
    case EM_S390: return "s390";
    case EM_RISCV: return "riscv";
    case EM_MIPS: return "mips";
    default: return NULL;
    }
}

const char *elf_native_machine(void)
{
    const char *name = machine_name(NATIVE_MACHINE);
    return name ? name : "this machine";
}

static void read_image(const struct image *im, struct elf_facts *facts)
{
    struct layout l;
    if (!read_layout(im, &l)) {
        facts->kind = ELF_DAMAGED;
        return;
    }
    const char *machine = machine_name(l.machine);
    if (machine)
        snprintf(facts->machine, sizeof facts->machine, "%s", machine);
    else
        snprintf(facts->machine, sizeof facts->machine, "machine %u", l.machine);
    if (facts->kind == ELF_FOREIGN || (NATIVE_MACHINE != EM_NONE && l.machine != NATIVE_MACHINE)) {
        facts->kind = ELF_FOREIGN;
        return;
    }
    for (unsigned i = 0; i < l.phnum; i++) {
        struct segment s;
        if (!read_segment(im, &l, i, &s)) {
            facts->kind = ELF_DAMAGED;
            return;
        }
        if (s.type == PT_INTERP) {
            const char *interp = string_at(im, s.offset, s.filesz, 0);
            if (!interp) {
                facts->kind = ELF_DAMAGED;
                return;
            }
            facts->has_interpreter = true;
            snprintf(facts->interpreter, sizeof facts->interpreter, "%s", interp);
        } else if (s.type == PT_DYNAMIC) {
            read_dynamic(im, &l, &s, facts);
        } else if (s.type == PT_NOTE && has_go_note(im, &s)) {
            facts->is_go = true;
        }
    }
    if (!facts->is_go)
        facts->is_go = has_go_section(im, &l);
}

bool elf_read_facts(const char *path, struct elf_facts *facts)
{
    *facts = (struct elf_facts){ .kind = ELF_NOT_ELF };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int error = errno;
        close(fd);
        errno = error;
        return false;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < EI_NIDENT) {
        close(fd);
        return true;
    }
    void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int error = errno;
    close(fd);
    if (data == MAP_FAILED) {
        errno = error;
        return false;
    }
    struct image im = { data, (uint64_t)st.st_size, false };
    const unsigned char *ident = data;
    if (memcmp(ident, ELFMAG, SELFMAG) == 0) {
        facts->kind = ELF_NATIVE;
        facts->bits = ident[EI_CLASS] == ELFCLASS64 ? 64 : 32;
        im.is64 = ident[EI_CLASS] == ELFCLASS64;
        if (ident[EI_CLASS] != NATIVE_ELFCLASS || ident[EI_DATA] != NATIVE_ELFDATA)
            facts->kind = ELF_FOREIGN;
        if (ident[EI_DATA] == NATIVE_ELFDATA &&
            (ident[EI_CLASS] == ELFCLASS64 || ident[EI_CLASS] == ELFCLASS32))
            read_image(&im, facts);
    }
    munmap(data, (size_t)st.st_size);
    return true;
}
