#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "drain.h"
#include "log.h"
#include "stats.h"
#include "stats_file.h"

#define WRITE_CHUNK 2048

static pid_t started_in;
static _Atomic int last_failure_errno;
static _Atomic bool final_written;

bool lc_stats_file_enabled(void)
{
    return lc_conf.stats_path[0] != '\0';
}

/* "%p" becomes the process id; false if this process must not write (a
 * child of the one the path was meant for) or the path grew too long. */
static bool expand_path(char *out, size_t size, pid_t pid)
{
    const char *in = lc_conf.stats_path;
    bool per_process = false;
    size_t n = 0;
    for (; *in; in++) {
        if (in[0] == '%' && in[1] == 'p') {
            char digits[24];
            size_t len = lc_formatf(digits, sizeof digits, "%ld", (long)pid);
            if (n + len >= size)
                return false;
            for (size_t i = 0; i < len; i++)
                out[n++] = digits[i];
            per_process = true;
            in++;
            continue;
        }
        if (n + 1 >= size)
            return false;
        out[n++] = *in;
    }
    out[n] = '\0';
    return per_process || pid == started_in;
}

/* One line per new kind of failure, not one per interval. */
static void report_failure(const char *path, const char *what, int error)
{
    if (atomic_exchange(&last_failure_errno, error) == error)
        return;
    lc_log(LC_LOG_WARN, "LINGERCLOSE_STATS_FILE: cannot %s %s (errno %d); will retry", what, path,
           error);
}

static bool write_all(int fd, const char *text, size_t len)
{
    while (len) {
        long n = syscall(SYS_write, fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        text += n;
        len -= (size_t)n;
    }
    return true;
}

/* A small buffer on the stack: this may run in a signal handler on a
 * small alternate stack (_exit). */
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

void lc_stats_file_write(void)
{
    if (!lc_stats_file_enabled())
        return;
    int saved_errno = errno;
    pid_t pid = getpid();
    char path[LC_STATS_PATH_MAX + 32];
    if (!expand_path(path, LC_STATS_PATH_MAX, pid)) {
        errno = saved_errno;
        return;
    }
    /* Per thread: the drain thread and an exiting thread may write at once.
     * Not ending in ".prom", so the textfile collector never reads it. */
    char temporary[sizeof path];
    lc_formatf(temporary, sizeof temporary, "%s.%ld.tmp", path, (long)syscall(SYS_gettid));

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct lc_stats_context ctx = {
        .pid = (long)pid,
        .version = PACKAGE_VERSION,
        .lingering_now = lc_drain_in_flight(),
        .written_unix_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
    };
    int fd = (int)syscall(SYS_openat, AT_FDCWD, temporary,
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        report_failure(temporary, "create", errno);
        errno = saved_errno;
        return;
    }
    struct chunked_file out = { .fd = fd, .used = 0 };
    bool written = lc_stats_format_prometheus(&ctx, chunked_write, &out) &&
                   write_all(fd, out.chunk, out.used);
    int write_errno = errno;
    syscall(SYS_close, fd);
    if (!written) {
        report_failure(temporary, "write", write_errno);
        syscall(SYS_unlinkat, AT_FDCWD, temporary, 0);
    } else if (syscall(SYS_renameat, AT_FDCWD, temporary, AT_FDCWD, path) != 0) {
        report_failure(path, "rename the new statistics to", errno);
        syscall(SYS_unlinkat, AT_FDCWD, temporary, 0);
    } else {
        atomic_store(&last_failure_errno, 0);
    }
    errno = saved_errno;
}

void lc_stats_file_write_final(void)
{
    if (!lc_stats_file_enabled() || atomic_exchange(&final_written, true))
        return;
    lc_stats_file_write();
}

void lc_stats_file_init(void)
{
    started_in = getpid();
    lc_stats_file_write();
}
