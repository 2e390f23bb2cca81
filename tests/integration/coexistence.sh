#!/bin/sh
# SPDX-License-Identifier: MIT
# lingerclose beside other preloads, under valgrind, and after a library
# that closes descriptors before lingerclose's constructor ran. Each case
# runs tests/lib/lc-testserver's early-error scenario under the given
# LD_PRELOAD and uploads to it: every response must arrive and the server
# must exit cleanly.
#
# Environment: LC_LIBRARY, LC_TESTSERVER, LC_UPLOAD_CLIENT, LC_EARLY_CLOSE
# (tests/integration/.libs/early-close.so), LC_SYSCALL_WRAPPER
# (tests/integration/.libs/syscall-wrapper.so). Cases whose tool is not installed are
# skipped with a message; the script skips (77) only if all are.

set -u

. "$(dirname "$0")/../lib/test-lib.sh"

for var in LC_LIBRARY LC_TESTSERVER LC_UPLOAD_CLIENT LC_EARLY_CLOSE LC_SYSCALL_WRAPPER; do
    eval "value=\${$var:-}"
    [ -e "$value" ] || fail "$var does not name a file"
done

use_tmpdir coexistence
at_exit 'exec 3>&- 2>/dev/null'

TRIES=3
BODY=1000000
ran=0

libdir=$(dirname "$(gcc -print-file-name=libc.so.6 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/libc.so.6)")
first_existing() {
    for f in "$@"; do
        [ -f "$f" ] && { echo "$f"; return; }
    done
}
faketime=$(first_existing /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
    "$libdir/faketime/libfaketime.so.1")
socket_wrapper=$(first_existing /usr/lib/x86_64-linux-gnu/libsocket_wrapper.so \
    "$libdir/libsocket_wrapper.so")
asan=$(gcc -print-file-name=libasan.so 2>/dev/null)
[ -f "$asan" ] || asan=

# run_case NAME PRELOAD [VAR=VALUE...] -- [WRAPPER...]
# The client runs with the same environment (without LD_PRELOAD unless the
# case needs it for the client too: socket_wrapper). Sets $received. Unless
# $at_least is set, every response must arrive. The server runs
# $scenario.
at_least=
scenario=early-error
run_case() {
    name=$1 preload=$2
    shift 2
    envs=
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        envs="$envs $1"
        shift
    done
    [ $# -gt 0 ] && shift
    ran=$((ran + 1))
    rm -f "$tmp/fifo" "$tmp/out" "$tmp/err"
    mkfifo "$tmp/fifo"
    # shellcheck disable=SC2086 # envs is a list of words
    env $envs LD_PRELOAD="$(preload_with "$preload")" LINGERCLOSE_LOG=debug "$@" "$LC_TESTSERVER" \
        --scenario "$scenario" --connections "$TRIES" <"$tmp/fifo" >"$tmp/out" 2>"$tmp/err" &
    server=$!
    exec 3>"$tmp/fifo"
    if ! wait_ready "$tmp/out" "$server" 30; then
        exec 3>&-
        wait_bounded "$server" 10
        not_ok "$name: the server did not start"
        cat "$tmp/err" >&2
        return
    fi
    client_preload=
    case $name in *socket_wrapper*) client_preload=$socket_wrapper ;; esac
    # shellcheck disable=SC2086
    env $envs LD_PRELOAD="$client_preload" "$LC_UPLOAD_CLIENT" -p "$port" -n "$TRIES" \
        -s "$BODY" >"$tmp/client" 2>&1
    client_status=$?
    exec 3>&-
    wait_bounded "$server" 30 || not_ok "$name: the server did not end within 30 s"
    server_status=$waited_status
    received=$(responses_in "$tmp/client")
    [ -n "$at_least" ] && [ "${received:-0}" -ge "$at_least" ] && client_status=0
    if [ "$client_status" -ne 0 ] || [ "$server_status" -ne 0 ]; then
        not_ok "$name: client status $client_status, server status $server_status"
        cat "$tmp/client" "$tmp/err" >&2
        return
    fi
    if [ "$preload" != "$socket_wrapper" ] && ! grep -q "lingerclose.*loaded" "$tmp/err"; then
        not_ok "$name: the library was not loaded"
        cat "$tmp/err" >&2
        return
    fi
    echo "ok:   $name: $(cat "$tmp/client")"
}

lib=$LC_LIBRARY

# A library whose constructor runs before ours must find close() and
# socket() working: listed after ours, it is initialised first.
run_case "early-close constructor, listed after the library" "$lib:$LC_EARLY_CLOSE" --
if [ "$failures" -eq 0 ]; then
    early_line=$(grep -n "early-close: constructor ran" "$tmp/err" | cut -d: -f1)
    loaded_line=$(grep -n "lingerclose.*loaded" "$tmp/err" | cut -d: -f1)
    [ -n "$early_line" ] && [ -n "$loaded_line" ] && [ "$early_line" -lt "$loaded_line" ] ||
        fail "the early library's constructor did not run before the library's: $(cat "$tmp/err")"
fi
run_case "early-close constructor, listed before the library" "$LC_EARLY_CLOSE:$lib" --

# Another wrapper of syscall(), around a server that closes with
# syscall(SYS_close): whichever comes first, no call loops back into it (it
# aborts then) and the library still sees the closes.
scenario=syscall-close
run_case "a syscall() wrapper before the library" "$LC_SYSCALL_WRAPPER:$lib" --
run_case "a syscall() wrapper after the library" "$lib:$LC_SYSCALL_WRAPPER" --
scenario=early-error

if [ -n "$faketime" ] && [ -n "${LC_PRELOAD_FIRST:-}" ]; then
    # The sanitizer's allocator reads the clock; libfaketime's clock_gettime
    # calls dlsym, which allocates: the host hangs before lingerclose runs.
    echo "SKIP: libfaketime: it deadlocks under a sanitizer runtime (allocator -> clock_gettime -> dlsym -> malloc)"
elif [ -n "$faketime" ]; then
    run_case "libfaketime after the library" "$lib:$faketime" \
        FAKETIME=+1d FAKETIME_DONT_FAKE_MONOTONIC=1 --
    run_case "libfaketime before the library" "$faketime:$lib" \
        FAKETIME=+1d FAKETIME_DONT_FAKE_MONOTONIC=1 --
else
    echo "SKIP: libfaketime is not installed (apt-get install libfaketime)"
fi

# socket_wrapper turns the "TCP" sockets into Unix ones (it even answers
# TCP_INFO for them). Listed before the library it calls libc directly and
# the library sees nothing: the outcome must be socket_wrapper's own.
if [ -n "$socket_wrapper" ]; then
    mkdir -p "$tmp/swrap"
    swrap_env="SOCKET_WRAPPER_DIR=$tmp/swrap SOCKET_WRAPPER_DEFAULT_IFACE=1"
    # Its dlopen(RTLD_DEEPBIND) of libc is refused by the sanitizers' runtimes.
    [ -n "${LC_PRELOAD_FIRST:-}" ] && swrap_env="$swrap_env SOCKET_WRAPPER_DISABLE_DEEPBIND=1"
    at_least=0
    # shellcheck disable=SC2086 # swrap_env is a list of words
    run_case "socket_wrapper alone (baseline)" "$socket_wrapper" $swrap_env --
    at_least=${received:-0}
    # shellcheck disable=SC2086
    run_case "socket_wrapper after the library" "$lib:$socket_wrapper" $swrap_env --
    # shellcheck disable=SC2086
    run_case "socket_wrapper before the library" "$socket_wrapper:$lib" $swrap_env --
    at_least=
else
    echo "SKIP: socket_wrapper is not installed (apt-get install libsocket-wrapper)"
fi

if [ -n "${LC_PRELOAD_FIRST:-}" ]; then
    echo "SKIP: AddressSanitizer's runtime first: this build preloads $LC_PRELOAD_FIRST first already"
elif [ -n "$asan" ]; then
    run_case "AddressSanitizer's runtime first" "$asan:$lib" ASAN_OPTIONS=detect_leaks=0 --
else
    echo "SKIP: the compiler has no libasan.so"
fi

if [ -n "${LC_PRELOAD_FIRST:-}" ]; then
    echo "SKIP: valgrind: a sanitizer build does not run under valgrind"
elif command -v valgrind >/dev/null 2>&1; then
    run_case "under valgrind (memcheck)" "$lib" -- \
        valgrind --quiet --error-exitcode=99 --trace-children=no
else
    echo "SKIP: valgrind is not installed (apt-get install valgrind)"
fi

[ "$failures" -eq 0 ] || fail "$failures of $ran cases failed"
[ "$ran" -gt 0 ] || { echo "SKIP: nothing to run"; exit 77; }
echo "PASS: $ran cases"
