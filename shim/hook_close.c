#include "config.h"

#include <unistd.h>

#include "export.h"
#include "linger.h"
#include "real.h"

/* Async-signal-safe: no lock, no allocation, only system calls and atomics. */
LC_EXPORT int close(int fd)
{
    if (!lc_ready())
        return lc_real_close(fd);
    return lc_close(fd);
}
