/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>

#include "decide/linger.h"
#include "holders/fdtable.h"
#include "sys/export.h"
#include "sys/real.h"

/* glibc's fclose closes the descriptor internally, past any close() hook.
 * The stream's buffered output is flushed first, as fclose would, so that
 * it leaves before the FIN; then the real fclose does everything else. */
LC_EXPORT int fclose(FILE *stream)
{
    /* glibc declares the argument nonnull, so gcc may fold a plain test of
     * it away (and gcc 14 warns that it would); broken programs pass NULL
     * all the same. The empty asm makes the copy's value unknown to the
     * compiler, which then keeps the test, at no cost in the code. */
    FILE *maybe_null = stream;
    __asm__("" : "+r"(maybe_null));
    if (lc_ready() && maybe_null) {
        int saved_errno = errno;
        int fd = fileno(stream);
        uint64_t state = fd >= 0 ? lc_fdtable_state(fd) : 0;
        if (state && !(state & LC_FD_PRIVATE)) {
            if (__fpending(stream) > 0)
                fflush(stream);
            lc_close_begin(fd, "fclose");
        }
        errno = saved_errno;
    }
    return lc_real_fclose(stream);
}
