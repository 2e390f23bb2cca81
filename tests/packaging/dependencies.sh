#!/bin/sh
# SPDX-License-Identifier: MIT
# The library needs the C library and nothing else. Everything a preloaded
# library needs is loaded into every program it is preloaded in, with its
# names in the program's global scope: another library (libbsd defines
# closefrom and arc4random, as glibc does) could change what the program
# calls, and costs every process its start-up. Only glibc's own parts are
# accepted: libc, and before glibc 2.34 libpthread and libdl, which held
# pthread_create and dlsym then.
#
# Environment: LC_LIBRARY (the built library), READELF (optional).
# Exit status: 0 pass, 1 fail.

set -u

. "$(dirname "$0")/../lib/test-lib.sh"

READELF=${READELF:-readelf}
[ -f "${LC_LIBRARY:-}" ] || fail "no library at LC_LIBRARY=${LC_LIBRARY:-}"

needed=$($READELF -d "$LC_LIBRARY" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
[ -n "$needed" ] || fail "$READELF -d $LC_LIBRARY lists no NEEDED entry (not even libc)"
echo "$LC_LIBRARY needs: $(echo $needed)"
for library in $needed; do
    case "$library" in
        libc.so.6 | libpthread.so.0 | libdl.so.2 | ld-linux*.so.*) ;;
        # A sanitizer build links the sanitizer's runtime (and what it
        # needs), which the test environment preloads first anyway.
        lib[atl]san.so.* | libubsan.so.* | libstdc++.so.* | libm.so.6 | libgcc_s.so.*)
            [ -n "${LC_PRELOAD_FIRST:-}" ] ||
                not_ok "the library needs $library, but this is no sanitizer build" ;;
        *) not_ok "the library needs $library: only glibc's own libraries are accepted" ;;
    esac
done
echo "$needed" | grep -qx 'libc.so.6' || not_ok "the library does not need libc.so.6: $(echo $needed)"
[ "$failures" != 0 ] || pass "the library needs only glibc"
checks_done
