#!/bin/sh
# SPDX-License-Identifier: MIT
# The host keeps serving under resource limits that leave the library
# without what it needs, with plain closes where it cannot linger:
#   - RLIMIT_NOFILE 64, and at exactly what the server needs itself
#     (tests/lib/lc-testserver --hold-files: its files, its listener and one
#     connection; every descriptor is its own, and the library must give
#     its one back rather than let the server's accept fail);
#   - RLIMIT_NPROC that forbids the drain thread (as an unprivileged
#     user: root is not held by it);
#   - a small RLIMIT_AS, just above what the server itself needs;
#   - a seccomp filter refusing unshare (EPERM), as sandboxes do.
# Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/test-lib.sh"

[ -x "${LC_TESTSERVER:-}" ] || fail "LC_TESTSERVER does not name tests/lib/lc-testserver"
use_tmpdir rlimits
chmod 755 "$tmp"

CONNECTIONS=3
BODY=200000

# serve NAME WANT [VAR=VALUE]... COMMAND...: the server serves CONNECTIONS
# uploads and ends with status 0; WANT "all" also asks for every early
# response (where the library can still linger).
serve() {
    name=$1 want=$2
    shift 2
    launch_server "$name" LINGERCLOSE_LOG=info "$@"
    got=$(received "$LC_UPLOAD_CLIENT" -p "$port" -n "$CONNECTIONS" -s "$BODY" 2>/dev/null)
    if ! end_server 20; then
        not_ok "$name: the server hung"
    elif [ "$waited_status" != 0 ]; then
        not_ok "$name: the server failed (status $waited_status): $(grep -v 'debug:' "$tmp/$name.err" | tail -n 3)"
    elif [ "$want" = all ] && [ "${got:-0}" != "$CONNECTIONS" ]; then
        not_ok "$name: ${got:-0} of $CONNECTIONS early responses arrived"
    else
        pass "$name: served $CONNECTIONS connections, ${got:-0} early responses arrived"
    fi
    grep -E 'warning:|error:|summary:' "$tmp/$name.err" | sed 's/^/    /'
}

server_nofile=64
serve nofile-64 all "$LC_TESTSERVER" --connections "$CONNECTIONS"

# 0-2, the listener, 10 files, one connection: the soft limit, which is
# what the program lives by (the hard one, above it, is what an
# administrator allows it to raise that to).
serve nofile-exact all sh -c 'ulimit -S -n 15 && exec "$@"' sh \
    "$LC_TESTSERVER" --connections "$CONNECTIONS" --hold-files 10

# A user id no account has and no process runs as: RLIMIT_NPROC counts
# every process of the user, so with nobody another test's (or a daemon's)
# process would keep the server itself from starting.
unused_uid() {
    uid=$((60000 + $$ % 4000))
    while getent passwd "$uid" >/dev/null 2>&1 ||
        grep -qs "^Uid:[[:space:]]*$uid[[:space:]]" /proc/[0-9]*/status; do
        uid=$((uid + 1))
    done
    echo "$uid"
}

# The drain thread is a task of the user's; one is all this user may have.
if command -v setpriv >/dev/null 2>&1 && command -v prlimit >/dev/null 2>&1; then
    uid=$(unused_uid)
    serve nproc-1 some "$no_leak_check" prlimit --nproc=1 setpriv --reuid="$uid" --regid="$uid" --clear-groups \
        "$LC_TESTSERVER" --connections "$CONNECTIONS"
    grep -q 'cannot start the drain thread' "$tmp/nproc-1.err" ||
        not_ok "nproc-1: no line says the drain thread could not start"
else
    skip_check "RLIMIT_NPROC" "setpriv or prlimit (util-linux) is missing"
fi

# Address space: the least the server starts in without the library (a
# few MiB of libraries), then that with the library's own mappings.
as_kib=
# A sanitizer's runtime reserves terabytes of address space for its shadow
# memory: no small RLIMIT_AS can hold it.
[ -z "${LC_PRELOAD_FIRST:-}" ] || kibs=
for kib in ${kibs-8192 12288 16384 24576 32768}; do
    if (ulimit -v "$kib" && exec "$LC_TESTSERVER" --connections 0 </dev/null) >/dev/null 2>&1; then
        as_kib=$kib
        break
    fi
done
if [ -n "$as_kib" ]; then
    serve "as-$as_kib-KiB" some sh -c 'ulimit -v "$0" && exec "$@"' "$((as_kib + 4096))" \
        "$LC_TESTSERVER" --connections "$CONNECTIONS"
elif [ -n "${LC_PRELOAD_FIRST:-}" ]; then
    skip_check "RLIMIT_AS" "a sanitizer's runtime ($LC_PRELOAD_FIRST) cannot run in a small address space"
else
    skip_check "RLIMIT_AS" "the server did not start under 32 MiB"
fi

if [ -x "${LC_SYSCALL_FILTER:-}" ]; then
    serve unshare-refused some "$LC_SYSCALL_FILTER" --fail unshare=EPERM -- \
        "$LC_TESTSERVER" --connections "$CONNECTIONS"
    grep -q 'cannot start the drain thread' "$tmp/unshare-refused.err" ||
        not_ok "unshare-refused: no line says the drain thread could not start"
else
    skip_check "unshare refused" "built without libseccomp"
fi
checks_done
