/* SPDX-License-Identifier: MIT */
/* For each symbol name given as an argument, prints "name path" where path
 * is the object that dlsym(RTLD_DEFAULT, name) resolves the name to, or
 * "name -" when the name does not resolve. tests/packaging/libbsd-scope.sh runs it
 * under LD_PRELOAD to see which definitions the host program gets.
 *
 * Linked with -ldl only, never with libbsd, so that any libbsd in the
 * process comes from the preloaded library. */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SYMBOL...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        void *addr = dlsym(RTLD_DEFAULT, name);
        Dl_info info;
        if (addr && dladdr(addr, &info) != 0 && info.dli_fname && info.dli_fname[0])
            printf("%s %s\n", name, info.dli_fname);
        else if (addr)
            printf("%s ?\n", name); /* resolved, but no object owns it */
        else
            printf("%s -\n", name);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
