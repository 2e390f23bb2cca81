#!/bin/sh
# SPDX-License-Identifier: MIT
# syscall() under the library: tests/integration/syscall-probe calls it
# with numbers the library passes on (and with the ones it routes, on
# descriptors that are not sockets) and checks results and errno. It runs
# without the library, with it, and beside another preload that wraps
# syscall() too (tests/integration/syscall-wrapper), listed before and
# after it: a call that came back into that wrapper in a loop aborts.
#
# Environment: LC_LIBRARY, LC_SYSCALL_PROBE, LC_SYSCALL_WRAPPER.

set -u

. "$(dirname "$0")/../lib/test-lib.sh"

for var in LC_LIBRARY LC_SYSCALL_PROBE LC_SYSCALL_WRAPPER; do
    eval "value=\${$var:-}"
    [ -e "$value" ] || fail "$var does not name a file"
done
use_tmpdir syscall-passthrough

probe() { # probe NAME PRELOAD
    if LD_PRELOAD=$2 "$LC_SYSCALL_PROBE" >"$tmp/out" 2>"$tmp/err"; then
        pass "$1: $(grep -c '^ok' "$tmp/out") checks"
    else
        not_ok "$1: exit status $?"
        cat "$tmp/out" "$tmp/err" >&2
    fi
}

probe "without the library" "${LC_PRELOAD_FIRST:-}"
probe "with the library" "$lc_preload"
probe "a syscall() wrapper before the library" "$(preload_with "$LC_SYSCALL_WRAPPER:$LC_LIBRARY")"
grep -q "syscall-wrapper: saw a call" "$tmp/err" ||
    not_ok "the wrapper listed first saw no call"
probe "a syscall() wrapper after the library" "$(preload_with "$LC_LIBRARY:$LC_SYSCALL_WRAPPER")"
grep -q "syscall-wrapper: saw a call" "$tmp/err" ||
    not_ok "the wrapper listed after the library saw no call passed on to it"
checks_done
