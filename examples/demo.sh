#!/bin/sh
# SPDX-License-Identifier: MIT
# The demo: a legacy server that answers an early "413" and closes, against
# a write-then-read client uploading a body; first without lingerclose,
# then under it. For each run: responses received and lost, and how many
# resets the kernel sent because the server closed with unread data.
#
# Environment: LINGERCLOSE_LAUNCHER and EXAMPLES_DIR (set by 'make demo'),
# DEMO_TRIES (default 50), DEMO_BODY_BYTES (default 1000000).
set -eu

launcher=${LINGERCLOSE_LAUNCHER:?run this through 'make demo'}
# Not a setting: the library would say so in every server it starts.
unset LINGERCLOSE_LAUNCHER
examples=${EXAMPLES_DIR:?run this through 'make demo'}
tries=${DEMO_TRIES:-50}
body=${DEMO_BODY_BYTES:-1000000}

workdir=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

# The kernel's own count of resets sent because of unread data (what
# 'nstat' shows as TcpExtTCPAbortOnClose and TcpExtTCPAbortOnData): at
# close() time, and when data reached a socket already closed.
tcp_counter() {
    awk -v name="$1" '$1 == "TcpExt:" {
             if (!names) { for (i = 2; i <= NF; i++) col[$i] = i; names = 1 }
             else { print $(col[name]) }
         }' /proc/net/netstat
}

run() {
    label=$1
    shift
    : >"$workdir/server.out"
    timeout 120 "$@" "$examples/early-error-server" >"$workdir/server.out" 2>"$workdir/server.err" &
    server_pid=$!
    port=
    for _ in $(seq 50); do
        port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$workdir/server.out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "demo: the server did not start:" >&2
        cat "$workdir/server.err" >&2
        exit 1
    fi

    close_before=$(tcp_counter TCPAbortOnClose)
    data_before=$(tcp_counter TCPAbortOnData)
    result=$(timeout 120 "$examples/upload-client" -p "$port" -n "$tries" -s "$body" || true)
    sleep 0.2 # let the last drain end before the counters are read
    close_after=$(tcp_counter TCPAbortOnClose)
    data_after=$(tcp_counter TCPAbortOnData)

    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=

    printf '%-26s %s\n' "$label" "$result"
    printf '%-26s kernel resets: TcpExtTCPAbortOnClose +%d, TcpExtTCPAbortOnData +%d\n' "" \
        $((close_after - close_before)) $((data_after - data_before))
}

echo "lingerclose demo: $tries uploads of $body bytes to a server that answers 413 early and closes"
echo
run "without lingerclose:" env
run "with lingerclose:" "$launcher" --
