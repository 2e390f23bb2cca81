/* The library is built with -fvisibility=hidden; only the interposed
 * functions carry this mark (and liblingerclose.map lists the same names). */
#ifndef LINGERCLOSE_EXPORT_H
#define LINGERCLOSE_EXPORT_H

#include <stdatomic.h>
#include <stdbool.h>

#define LC_EXPORT __attribute__((visibility("default")))

extern _Atomic bool lc_initialised;

/* False until the constructor has resolved the real functions and read the
 * configuration: until then every hook is a plain pass-through. */
static inline bool lc_ready(void)
{
    return atomic_load_explicit(&lc_initialised, memory_order_acquire);
}

#endif
