#!/bin/sh
# SPDX-License-Identifier: MIT
# syscall() under the library: tests/integration/syscall-probe calls it
# with numbers the library passes on (and with the ones it routes, on
# descriptors that are not sockets) and checks results and errno. It runs
# without the library, with it, and beside another preload that wraps
# syscall() too (tests/integration/syscall-wrapper), listed before and
# after it: a call that came back into that wrapper in a loop aborts.
# Listed first, the wrapper must count exactly the program's calls: the
# library's own system calls must not reach it (or come back into the
# library's hooks) through syscall().
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
program_calls=$(sed -n 's/^syscall() calls: //p' "$tmp/out")
wrapper_calls=$(sed -n 's/^syscall-wrapper: \([0-9]*\) calls$/\1/p' "$tmp/err")
if [ -n "$program_calls" ] && [ "$program_calls" = "$wrapper_calls" ]; then
    pass "the wrapper listed first saw the program's $program_calls calls, no more"
else
    not_ok "the wrapper listed first saw ${wrapper_calls:-no} calls, the program made" \
        "${program_calls:-an unknown number}: the library's own calls went through syscall()"
fi
probe "a syscall() wrapper after the library" "$(preload_with "$LC_LIBRARY:$LC_SYSCALL_WRAPPER")"
grep -q "syscall-wrapper: saw a call" "$tmp/err" ||
    not_ok "the wrapper listed after the library saw no call passed on to it"
checks_done
