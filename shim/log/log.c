/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log/log.h"
#include "sys/raw.h"

#define SYSLOG_SOCKET "/dev/log"
#define SYSLOG_FACILITY_DAEMON (3 << 3)

static _Atomic int log_level = LC_LOG_WARN;
static enum lc_log_target log_target = LC_LOG_TARGET_STDERR;
static bool stderr_is_journal;

/* What descriptor 2 was when the library started: the only file its lines
 * are ever written to. A socket there is an inetd service's client
 * connection (or a daemon's, after it closed 2 and accepted), never a
 * place for text, unless systemd says it is the journal's stream. */
static struct {
    bool writable;
    dev_t dev;
    ino_t ino;
    mode_t type;
} startup_stderr;

/* The drain thread works in a descriptor table of its own. A regular file
 * or the journal's stream it keeps a copy of, at number 2 of that table; a
 * pipe or a terminal it opens anew for each line, through the program's
 * descriptor in /proc (a copy held for good would keep a pipe's reader
 * from ever seeing its end). */
enum own_table_stderr { OWN_STDERR_NONE, OWN_STDERR_KEPT, OWN_STDERR_REOPENED };
static __thread bool in_own_table __attribute__((tls_model("initial-exec")));
static _Atomic int own_table_stderr = OWN_STDERR_NONE;

#define PROGRAM_STDERR "/proc/self/fd/2"

static bool is_startup_stderr(const struct stat *st)
{
    return startup_stderr.writable && st->st_dev == startup_stderr.dev &&
           st->st_ino == startup_stderr.ino;
}

static bool reopens(mode_t type)
{
    return S_ISFIFO(type) || S_ISCHR(type);
}

int lc_log_enter_own_table(void)
{
    in_own_table = true;
    struct stat st;
    if (lc_raw_fstat(STDERR_FILENO, &st) != 0 || !is_startup_stderr(&st))
        return -1;
    if (reopens(st.st_mode)) {
        atomic_store(&own_table_stderr, OWN_STDERR_REOPENED);
        return -1;
    }
    atomic_store(&own_table_stderr, OWN_STDERR_KEPT);
    return STDERR_FILENO;
}

/* A socket (the journal's stream) is never waited for: a stalled journal
 * loses the line rather than stall the caller. */
static bool write_whole(int fd, const char *line, size_t n, bool socket)
{
    long written = socket ? lc_raw_send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL)
                          : lc_raw_write(fd, line, n);
    return written == (long)n;
}

/* Writes to fd only if it is the start-up stderr. */
static bool write_if_startup_stderr(int fd, const char *line, size_t n)
{
    struct stat st;
    return lc_raw_fstat(fd, &st) == 0 && is_startup_stderr(&st) &&
           write_whole(fd, line, n, S_ISSOCK(st.st_mode));
}

/* A pipe or a terminal is opened anew, non-blocking, through the program's
 * descriptor: a full pipe or a stopped terminal loses the line instead of
 * stalling a close() or the drain thread, and the program's own descriptor
 * keeps its mode. Looked at before it is opened, so that nothing but the
 * start-up stderr is ever opened. -1 when it cannot be opened: no /proc,
 * or a process that dropped its privileges may not open its own pipe. */
static int write_reopened(const char *line, size_t n)
{
    struct stat st;
    if (stat(PROGRAM_STDERR, &st) != 0)
        return -1;
    if (!is_startup_stderr(&st))
        return 0;
    int fd = lc_raw_openat(AT_FDCWD, PROGRAM_STDERR, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    bool written = write_if_startup_stderr(fd, line, n);
    lc_raw_close(fd);
    return written;
}

static bool write_from_own_table(const char *line, size_t n)
{
    struct stat st;
    switch (atomic_load(&own_table_stderr)) {
    case OWN_STDERR_KEPT:
        /* The program moved its stderr elsewhere since: the kept copy goes
         * (it would keep a rotated log file alive) and so do its lines. */
        if (stat(PROGRAM_STDERR, &st) == 0 && !is_startup_stderr(&st)) {
            atomic_store(&own_table_stderr, OWN_STDERR_NONE);
            lc_raw_close(STDERR_FILENO);
            return false;
        }
        return write_if_startup_stderr(STDERR_FILENO, line, n);
    case OWN_STDERR_REOPENED:
        return write_reopened(line, n) == 1;
    default:
        return false;
    }
}

/* The program's descriptor 2, if it is still the file it was at start-up.
 * Looked at through a copy, so that another thread closing 2 and accepting
 * a client onto it between the look and the write cannot get the line. */
static bool write_to_stderr(const char *line, size_t n)
{
    if (!startup_stderr.writable)
        return false;
    if (in_own_table)
        return write_from_own_table(line, n);
    /* Where it cannot be opened anew, the program's own descriptor: it may
     * block on a full pipe, as the program's own writes do. */
    if (reopens(startup_stderr.type)) {
        int written = write_reopened(line, n);
        if (written >= 0)
            return written == 1;
    }
    int fd = lc_raw_fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    if (fd < 0)
        return false;
    bool written = write_if_startup_stderr(fd, line, n);
    lc_raw_close(fd);
    return written;
}

/* systemd's rule: JOURNAL_STREAM is "DEVICE:INODE" of the stream it
 * connected to stderr, and counts only while stderr is still that file. */
static bool names_file(const char *journal_stream, const struct stat *st)
{
    if (!journal_stream || !*journal_stream)
        return false;
    char *end;
    errno = 0;
    unsigned long long dev = strtoull(journal_stream, &end, 10);
    if (errno || *end != ':')
        return false;
    unsigned long long ino = strtoull(end + 1, &end, 10);
    if (errno || *end)
        return false;
    return st->st_dev == dev && st->st_ino == ino;
}

void lc_log_configure(enum lc_log_target target, const char *journal_stream)
{
    log_target = target;
    struct stat st;
    if (lc_raw_fstat(STDERR_FILENO, &st) != 0) {
        startup_stderr.writable = false;
        stderr_is_journal = false;
        return;
    }
    bool journal = names_file(journal_stream, &st);
    startup_stderr.writable = !S_ISSOCK(st.st_mode) || journal;
    startup_stderr.dev = st.st_dev;
    startup_stderr.ino = st.st_ino;
    startup_stderr.type = st.st_mode & S_IFMT;
    stderr_is_journal = journal;
}

/* A datagram socket for each line, so that no descriptor of ours stays in
 * the program's table and the drain thread can log from its own. Never
 * waits: a stalled logger loses the line, it does not stall a close(). */
static bool send_to_syslog(const char *line, size_t n)
{
    int fd = lc_raw_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = SYSLOG_SOCKET };
    long sent = lc_raw_sendto(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr,
                              (socklen_t)sizeof addr);
    int saved = errno;
    lc_raw_close(fd);
    return sent >= 0 || saved == EAGAIN;
}

void lc_log_set_level(enum lc_log_level level)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

int lc_log_enabled(enum lc_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put_char(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s)
{
    if (!s)
        s = "(null)";
    while (*s)
        put_char(o, *s++);
}

static void put_unsigned(struct out *o, unsigned long long v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put_char(o, digits[--n]);
}

static void put_signed(struct out *o, long long v)
{
    if (v < 0) {
        put_char(o, '-');
        put_unsigned(o, 0ULL - (unsigned long long)v);
    } else {
        put_unsigned(o, (unsigned long long)v);
    }
}

size_t lc_format(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put_char(&o, *p);
            continue;
        }
        int longs = 0, size_t_arg = 0;
        for (p++; *p == 'l' || *p == 'z'; p++) {
            if (*p == 'l')
                longs++;
            else
                size_t_arg = 1;
        }
        switch (*p) {
        case 'd':
            if (longs >= 2)
                put_signed(&o, va_arg(ap, long long));
            else if (longs == 1 || size_t_arg)
                put_signed(&o, va_arg(ap, long));
            else
                put_signed(&o, va_arg(ap, int));
            break;
        case 'u':
            if (longs >= 2)
                put_unsigned(&o, va_arg(ap, unsigned long long));
            else if (longs == 1 || size_t_arg)
                put_unsigned(&o, va_arg(ap, unsigned long));
            else
                put_unsigned(&o, va_arg(ap, unsigned int));
            break;
        case 's':
            put_str(&o, va_arg(ap, const char *));
            break;
        case 'c':
            put_char(&o, (char)va_arg(ap, int));
            break;
        case '%':
            put_char(&o, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            put_char(&o, '%');
            put_char(&o, *p);
            break;
        }
    }
    if (size)
        buf[o.len] = '\0';
    return o.len;
}

size_t lc_formatf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = lc_format(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static const char *const level_names[] = {
    [LC_LOG_ERROR] = "error",
    [LC_LOG_WARN] = "warning",
    [LC_LOG_INFO] = "info",
    [LC_LOG_DEBUG] = "debug",
};

/* syslog(3)'s severities. */
static const int severities[] = {
    [LC_LOG_ERROR] = 3,
    [LC_LOG_WARN] = 4,
    [LC_LOG_INFO] = 6,
    [LC_LOG_DEBUG] = 7,
};

#define PRIORITY_ROOM 8

/* text has PRIORITY_ROOM bytes before it and one after it for our use. */
static bool to_syslog(char *text, size_t n, enum lc_log_level level)
{
    char priority[PRIORITY_ROOM];
    size_t k = lc_formatf(priority, sizeof priority, "<%d>", SYSLOG_FACILITY_DAEMON + severities[level]);
    memcpy(text - k, priority, k);
    return send_to_syslog(text - k, n + k);
}

static bool to_stderr(char *text, size_t n, enum lc_log_level level)
{
    char priority[PRIORITY_ROOM];
    size_t k = stderr_is_journal ? lc_formatf(priority, sizeof priority, "<%d>", severities[level]) : 0;
    memcpy(text - k, priority, k);
    text[n] = '\n';
    return write_to_stderr(text - k, n + k + 1);
}

/* Each line goes to its target, else to the other one (no system logger
 * listening, or no stderr that may be written to), else nowhere. */
static void vlog(enum lc_log_level level, const char *fmt, va_list ap)
{
    int saved_errno = errno;
    char line[PRIORITY_ROOM + 512 + 1];
    char *text = line + PRIORITY_ROOM;
    size_t size = sizeof line - PRIORITY_ROOM - 1;
    size_t n = lc_formatf(text, size, "lingerclose[%d]: %s: ", (int)getpid(), level_names[level]);
    n += lc_format(text + n, size - n, fmt, ap);
    if (log_target == LC_LOG_TARGET_SYSLOG) {
        if (!to_syslog(text, n, level))
            to_stderr(text, n, level);
    } else if (!to_stderr(text, n, level)) {
        to_syslog(text, n, level);
    }
    errno = saved_errno;
}

void lc_log(enum lc_log_level level, const char *fmt, ...)
{
    if (!lc_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

void lc_log_always(enum lc_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

const char *lc_errno_text(int error)
{
    switch (error) {
    case EPERM: return "Operation not permitted";
    case ENOENT: return "No such file or directory";
    case ESRCH: return "No such process";
    case EINTR: return "Interrupted system call";
    case EIO: return "Input/output error";
    case EBADF: return "Bad file descriptor";
    case EAGAIN: return "Resource temporarily unavailable";
    case ENOMEM: return "Cannot allocate memory";
    case EACCES: return "Permission denied";
    case EFAULT: return "Bad address";
    case EBUSY: return "Device or resource busy";
    case EEXIST: return "File exists";
    case ENOTDIR: return "Not a directory";
    case EISDIR: return "Is a directory";
    case EINVAL: return "Invalid argument";
    case ENFILE: return "Too many open files in system";
    case EMFILE: return "Too many open files";
    case ETXTBSY: return "Text file busy";
    case EFBIG: return "File too large";
    case ENOSPC: return "No space left on device";
    case EROFS: return "Read-only file system";
    case EPIPE: return "Broken pipe";
    case ENAMETOOLONG: return "File name too long";
    case ENOSYS: return "Function not implemented";
    case ELOOP: return "Too many levels of symbolic links";
    case ENXIO: return "No such device or address";
    case ENOTSOCK: return "Socket operation on non-socket";
    case EOPNOTSUPP: return "Operation not supported";
    case ECONNRESET: return "Connection reset by peer";
    case ENOTCONN: return "Transport endpoint is not connected";
    case EDQUOT: return "Disk quota exceeded";
    case ENOBUFS: return "No buffer space available";
    default: return "error";
    }
}
