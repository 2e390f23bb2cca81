/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "log/log.h"
#include "log/stats.h"
#include "log/stats_file.h"
#include "sys/raw.h"

#ifndef GRND_NONBLOCK
#define GRND_NONBLOCK 0x0001
#endif

/* The exit path may run in a signal handler on a small alternate stack:
 * buffers are sized for that (see README, "When the process ends"). */
#define WRITE_CHUNK 512
/* A random 64-bit name that is taken means someone plants names: give up
 * for this round after a few. */
#define CREATE_TRIES 4
/* A write takes microseconds; one stuck on a slow file system must not
 * hold up the end of the process for longer than this. */
#define WRITER_WAIT_MS 100

/* What report_failure() remembers besides errno values. */
enum {
    REFUSED_OPEN_DIRECTORY = -1,
    REFUSED_FOREIGN_DIRECTORY = -2,
};

static pid_t started_in;
/* Given at start-up by the part of the library that knows. */
static uint32_t (*lingering_now)(void);
static _Atomic int last_failure;
/* The process that is ending, not a flag: a vfork() child shares this
 * memory with its parent and must not stop the parent's writes. */
static _Atomic pid_t ending_pid;
static _Atomic int writers_active;

struct target {
    char path[LC_STATS_PATH_MAX];
    size_t directory_len; /* of path's directory part ("/" for the root) */
    const char *name;     /* in path, after the last '/' */
    bool per_process; /* "%p": the file of one process, gone with it */
};

bool lc_stats_file_enabled(void)
{
    return lc_conf.stats_path[0] != '\0';
}

/* "%p" becomes the process id. False if the path grew too long. */
static bool expand_path(struct target *t, pid_t pid)
{
    const char *in = lc_conf.stats_path;
    size_t n = 0, size = sizeof t->path;
    t->per_process = false;
    for (; *in; in++) {
        if (in[0] == '%' && in[1] == 'p') {
            char digits[24];
            size_t len = lc_formatf(digits, sizeof digits, "%ld", (long)pid);
            if (n + len >= size)
                return false;
            for (size_t i = 0; i < len; i++)
                t->path[n++] = digits[i];
            t->per_process = true;
            in++;
            continue;
        }
        if (n + 1 >= size)
            return false;
        t->path[n++] = *in;
    }
    t->path[n] = '\0';
    /* The configuration accepts absolute paths only. */
    size_t slash = 0;
    for (size_t i = 0; i < n; i++)
        if (t->path[i] == '/')
            slash = i;
    t->directory_len = slash ? slash : 1;
    t->name = t->path + slash + 1;
    size_t name_len = n - slash - 1;
    return name_len > 0 && name_len <= NAME_MAX;
}

/* One line per new kind of failure, not one per interval. */
static bool first_report(int kind)
{
    return atomic_exchange(&last_failure, kind) != kind;
}

static void report_failure(const char *path, const char *what, int error)
{
    if (first_report(error))
        lc_log(LC_LOG_WARN, "LINGERCLOSE_STATS_FILE: cannot %s %s: %s (errno %d); will retry",
               what, path, lc_errno_text(error), error);
}

/* Another user who can write the directory can put anything at any name
 * in it, or rename the file away and put their own in its place; in a
 * sticky directory (like /tmp) they can only touch names of their own,
 * which the random, exclusive temporary name and the rename cover. The
 * owner of a directory can always do all of that. */
static bool directory_trusted(const struct stat *dir, const char *path, bool quiet)
{
    uid_t self = geteuid();
    if (dir->st_uid != 0 && dir->st_uid != self) {
        if (!quiet && first_report(REFUSED_FOREIGN_DIRECTORY))
            lc_log(LC_LOG_WARN,
                   "LINGERCLOSE_STATS_FILE: not writing %s: its directory belongs to uid %u; "
                   "accepted: a directory owned by root or by uid %u, the user this process runs as",
                   path, (unsigned)dir->st_uid, (unsigned)self);
        return false;
    }
    if ((dir->st_mode & (S_IWGRP | S_IWOTH)) && !(dir->st_mode & S_ISVTX)) {
        if (!quiet && first_report(REFUSED_OPEN_DIRECTORY))
            lc_log(LC_LOG_WARN,
                   "LINGERCLOSE_STATS_FILE: not writing %s: other users can write to its directory, "
                   "which is not sticky; accepted: a directory only its owner can write, or a "
                   "sticky one such as /tmp",
                   path);
        return false;
    }
    return true;
}

/* The directory as a descriptor, so that every later step acts on the
 * directory that was checked; -1 if it cannot be opened or is refused.
 * O_NOFOLLOW: its last component must not be a symbolic link someone put
 * there either. */
static int open_directory(struct target *t, bool quiet)
{
    /* The path cut at its last '/' for the call (no copy: small stacks). */
    char *end = t->path + t->directory_len;
    char saved = *end;
    *end = '\0';
    int dir = lc_raw_openat(AT_FDCWD, t->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    int open_errno = errno;
    if (dir < 0 && !quiet)
        report_failure(t->path, "open the directory", open_errno);
    *end = saved;
    if (dir < 0)
        return -1;
    struct stat st;
    if (lc_raw_fstat(dir, &st) != 0) {
        if (!quiet)
            report_failure(t->path, "examine the directory of", errno);
        lc_raw_close(dir);
        return -1;
    }
    if (!directory_trusted(&st, t->path, quiet)) {
        lc_raw_close(dir);
        return -1;
    }
    return dir;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Sixteen hex digits nobody can predict, so that nobody can plant
 * anything at the temporary name beforehand (O_EXCL would refuse it, but
 * each refusal costs a round). */
static void random_suffix(char out[17])
{
    uint64_t bits = 0;
    if (lc_raw_getrandom(&bits, sizeof bits, GRND_NONBLOCK) != (ssize_t)sizeof bits) {
        /* No getrandom (Linux before 3.17, a filter that refuses it) or
         * no entropy yet, early at boot. */
        static _Atomic uint64_t calls;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        bits = mix((uint64_t)now.tv_nsec ^ ((uint64_t)now.tv_sec << 32) ^
                   mix((uint64_t)lc_raw_gettid() ^ (uint64_t)(uintptr_t)&now) ^
                   mix(atomic_fetch_add(&calls, 1)));
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        out[i] = hex[(bits >> (60 - 4 * i)) & 0xf];
    out[16] = '\0';
}

static bool write_all(int fd, const char *text, size_t len)
{
    while (len) {
        long n = lc_raw_write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        text += n;
        len -= (size_t)n;
    }
    return true;
}

struct chunked_file {
    int fd;
    size_t used;
    char chunk[WRITE_CHUNK];
};

static bool chunked_write(const char *text, size_t len, void *data)
{
    struct chunked_file *f = data;
    if (f->used + len > sizeof f->chunk) {
        if (!write_all(f->fd, f->chunk, f->used))
            return false;
        f->used = 0;
    }
    if (len > sizeof f->chunk)
        return write_all(f->fd, text, len);
    for (size_t i = 0; i < len; i++)
        f->chunk[f->used++] = text[i];
    return true;
}

/* A new file under a random name beside the target, then renameat() over
 * it, so that a reader sees the old or the new file, never a part. Never
 * opens anything that already exists: O_EXCL refuses a FIFO, a hard link,
 * a symbolic link or a file planted at the name, and renameat() replaces
 * whatever sits at the final name without following it. The temporary
 * name does not end in ".prom", so the textfile collector never reads it. */
/* What publish() needs besides the target: on the drain thread's stack,
 * or static for the exit path, which runs once per process, maybe in a
 * signal handler on a small alternate stack. */
struct scratch {
    char temporary[NAME_MAX + 32];
    struct chunked_file out;
};

static bool publish(int dir, const struct target *t, pid_t pid, struct scratch *scratch)
{
    char *temporary = scratch->temporary;
    const size_t temporary_size = sizeof scratch->temporary;
    char suffix[17];
    int fd = -1;
    for (int try = 0; try < CREATE_TRIES && fd < 0; try++) {
        random_suffix(suffix);
        lc_formatf(temporary, temporary_size, "%s.%s.tmp", t->name, suffix);
        fd = lc_raw_openat(dir, temporary,
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        report_failure(t->path, "create a temporary file beside", errno);
        return false;
    }
    /* A file system that does not honour O_EXCL (old NFS) could have
     * handed back whatever was there. */
    struct stat st;
    if (lc_raw_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        lc_raw_close(fd);
        report_failure(t->path, "get a fresh temporary file beside", EEXIST);
        return false;
    }

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct lc_stats_context ctx = {
        .pid = (long)pid,
        .version = PACKAGE_VERSION,
        .lingering_now = lingering_now ? lingering_now() : 0,
        .written_unix_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
    };
    struct chunked_file *out = &scratch->out;
    out->fd = fd;
    out->used = 0;
    bool written = lc_stats_format_prometheus(&ctx, chunked_write, out) &&
                   write_all(fd, out->chunk, out->used);
    int write_errno = errno;
    lc_raw_close(fd);
    if (!written) {
        report_failure(temporary, "write", write_errno);
        lc_raw_unlinkat(dir, temporary, 0);
        return false;
    }
    if (lc_raw_renameat(dir, temporary, dir, t->name) != 0) {
        report_failure(t->path, "rename the new statistics to", errno);
        lc_raw_unlinkat(dir, temporary, 0);
        return false;
    }
    atomic_store(&last_failure, 0);
    return true;
}

/* A path without %p is the service's: written by the process the library
 * started in only, not by its children. A %p file is one process's, and
 * only a process that has closed a socket has anything to show in it:
 * the others (a fork-per-connection server's parent before its first
 * connection, every helper it runs) write none, so that the number of
 * files follows the processes that served, not every process started. */
static bool has_file(const struct target *t, pid_t pid)
{
    if (!t->per_process)
        return pid == started_in;
    return atomic_load_explicit(&lc_stats.closes_seen, memory_order_relaxed) > 0;
}

void lc_stats_file_write(void)
{
    if (!lc_stats_file_enabled())
        return;
    int saved_errno = errno;
    pid_t pid = getpid();
    atomic_fetch_add(&writers_active, 1);
    struct target t;
    struct scratch scratch;
    if (atomic_load(&ending_pid) != pid && expand_path(&t, pid) && has_file(&t, pid)) {
        int dir = open_directory(&t, false);
        if (dir >= 0) {
            /* The end of the process came while this write was too slow
             * to wait for: its removal may have come before the rename. */
            if (publish(dir, &t, pid, &scratch) && t.per_process && atomic_load(&ending_pid) == pid)
                lc_raw_unlinkat(dir, t.name, 0);
            lc_raw_close(dir);
        }
    }
    atomic_fetch_sub(&writers_active, 1);
    errno = saved_errno;
}

/* Lets a write the drain thread has begun finish (or give up on it), so
 * that it cannot put a file back after the removal or leave its
 * temporary file behind when the process ends under it. */
static void wait_for_writers(void)
{
    for (int waited = 0; atomic_load(&writers_active) > 0 && waited < WRITER_WAIT_MS; waited++) {
        struct timespec pause = { 0, 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
}

void lc_stats_file_at_exit(void)
{
    if (!lc_stats_file_enabled())
        return;
    pid_t pid = getpid();
    if (atomic_exchange(&ending_pid, pid) == pid)
        return;
    int saved_errno = errno;
    wait_for_writers();
    static struct target t;
    static struct scratch scratch;
    if (expand_path(&t, pid) && (t.per_process || pid == started_in)) {
        /* Removing a %p file costs no warning: a process that never
         * wrote one has nothing to say about its directory. It goes even
         * if this program image did not write it: the same process before
         * an exec() did, or a dead one with the same id. */
        int dir = open_directory(&t, t.per_process);
        if (dir >= 0) {
            if (t.per_process)
                lc_raw_unlinkat(dir, t.name, 0);
            else
                publish(dir, &t, pid, &scratch);
            lc_raw_close(dir);
        }
    }
    errno = saved_errno;
}

void lc_stats_file_atfork_child(void)
{
    /* Only the forking thread goes on in the child, and it was not
     * writing: a write the drain thread was in the middle of stays with
     * the parent. */
    if (atomic_load(&writers_active))
        atomic_store(&writers_active, 0);
}

void lc_stats_file_init(uint32_t (*lingering_sockets)(void))
{
    lingering_now = lingering_sockets;
    started_in = getpid();
    lc_stats_file_write();
}
