/* SPDX-License-Identifier: MIT */
/* Messages, each one line written with a single system call, on stderr or
 * to the system logger. The formatter is our own so that logging is
 * async-signal-safe: it knows %s %d %u %ld %lu %lld %llu %zu %c and %%,
 * nothing else. */
#ifndef LINGERCLOSE_LOG_H
#define LINGERCLOSE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum lc_log_level { LC_LOG_ERROR, LC_LOG_WARN, LC_LOG_INFO, LC_LOG_DEBUG };
enum lc_log_target { LC_LOG_TARGET_STDERR, LC_LOG_TARGET_SYSLOG };

/* Where lines go from now on. Also records what descriptor 2 is: the
 * library's lines go there only while it stays that file, and never if it
 * is a socket (an inetd service's client connection) other than the
 * journal's stream. journal_stream is $JOURNAL_STREAM (may be NULL): when
 * it names stderr, stderr is the journal and each line gets its priority
 * as a "<N>" prefix. A line that cannot go to its target goes to the other
 * one (syslog or stderr), or nowhere. */
void lc_log_configure(enum lc_log_target target, const char *journal_stream);

void lc_log_set_level(enum lc_log_level level);
int lc_log_enabled(enum lc_log_level level);
void lc_log(enum lc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For what an operator must see whatever LINGERCLOSE_LOG says: rejected
 * configuration. */
void lc_log_always(enum lc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The text of an errno value, for "... failed: TEXT (errno N)". A table of
 * our own: strerror() is not async-signal-safe (it may translate and
 * allocate), and strerrordesc_np() needs glibc 2.32. Errors it does not
 * know are "error" (the number follows anyway). */
const char *lc_errno_text(int error);

/* Called by a thread that has just left the process's descriptor table
 * (unshare), whose descriptor 2 is still the program's: returns 2 if the
 * thread must keep that copy to log (it is the start-up stderr, a regular
 * file or the journal), else -1 (the thread closes it). */
int lc_log_enter_own_table(void);

/* Formats into buf (always NUL-terminated when size > 0); returns the
 * length written. Exposed for the tests and for the launcher. */
size_t lc_format(char *buf, size_t size, const char *fmt, va_list ap);
size_t lc_formatf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
