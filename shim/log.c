#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define SYSLOG_SOCKET "/dev/log"
#define SYSLOG_FACILITY_DAEMON (3 << 3)

static _Atomic int log_level = LC_LOG_WARN;
static enum lc_log_target log_target = LC_LOG_TARGET_STDERR;
static bool stderr_is_journal;
static __thread bool in_own_table __attribute__((tls_model("initial-exec")));
static __thread int own_process_pidfd __attribute__((tls_model("initial-exec"))) = -1;

void lc_log_from_own_table(void)
{
    in_own_table = true;
    own_process_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
}

/* A thread with a descriptor table of its own has no stderr: it borrows
 * the program's current one for each line (pidfd_getfd gives the same
 * open file, so the line lands where the program's own lines go, at the
 * same offset). Raw system calls, so that no close() hook sees a number
 * from the wrong table. Without pidfd_getfd the line is dropped. */
static void write_line(const char *line, size_t n)
{
    ssize_t ignored;
    if (!in_own_table) {
        ignored = write(STDERR_FILENO, line, n);
        (void)ignored;
        return;
    }
    if (own_process_pidfd < 0)
        return;
    int fd = (int)syscall(SYS_pidfd_getfd, own_process_pidfd, STDERR_FILENO, 0);
    if (fd < 0)
        return;
    syscall(SYS_write, fd, line, n);
    syscall(SYS_close, fd);
}

/* systemd's rule: JOURNAL_STREAM is "DEVICE:INODE" of the stream it
 * connected to stderr, and counts only while stderr is still that file. */
static bool names_stderr(const char *journal_stream)
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
    struct stat st;
    return fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void lc_log_configure(enum lc_log_target target, const char *journal_stream)
{
    log_target = target;
    stderr_is_journal = target == LC_LOG_TARGET_STDERR && names_stderr(journal_stream);
}

/* A datagram socket for each line, so that no descriptor of ours stays in
 * the program's table and the drain thread can log from its own. Never
 * waits: a stalled logger loses the line, it does not stall a close(). */
static bool send_to_syslog(const char *line, size_t n)
{
    int fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = SYSLOG_SOCKET };
    long sent = syscall(SYS_sendto, fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL,
                        (struct sockaddr *)&addr, (socklen_t)sizeof addr);
    int saved = errno;
    syscall(SYS_close, fd);
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

static void vlog(enum lc_log_level level, const char *fmt, va_list ap)
{
    int saved_errno = errno;
    char line[520];
    size_t prefix = 0;
    if (log_target == LC_LOG_TARGET_SYSLOG)
        prefix = lc_formatf(line, 8, "<%d>", SYSLOG_FACILITY_DAEMON + severities[level]);
    else if (stderr_is_journal)
        prefix = lc_formatf(line, 8, "<%d>", severities[level]);
    char *text = line + prefix;
    size_t size = sizeof line - prefix - 1;
    size_t n = lc_formatf(text, size, "lingerclose[%d]: %s: ", (int)getpid(), level_names[level]);
    n += lc_format(text + n, size - n, fmt, ap);
    if (log_target == LC_LOG_TARGET_SYSLOG && send_to_syslog(line, prefix + n)) {
        errno = saved_errno;
        return;
    }
    /* No system logger listening: the line goes to stderr rather than nowhere. */
    text[n++] = '\n';
    if (log_target == LC_LOG_TARGET_SYSLOG)
        write_line(text, n);
    else
        write_line(line, prefix + n);
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
