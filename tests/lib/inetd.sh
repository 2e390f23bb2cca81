# SPDX-License-Identifier: MIT
# Sourced by the real-inetd tests: a real inetd on loopback, configured
# from the example in examples/inetd (with this build's launcher, a test
# service and a free port in place of the example's), starts
# tests/conformance/patterns/stdio-service for each connection, with the connection
# on its stdin, stdout and stderr. The service answers an upload early with
# 413 and returns from main without closing anything. Under the launcher,
# as the example runs it, every response must arrive; with the service run
# directly, responses must be lost (or the test would prove nothing).
#
# The sourcing script defines:
#   inetd_name                    for messages
#   inetd_config PRELOAD PORT     writes $tmp/inetd.conf (PRELOAD yes|no)
#   run_inetd                     execs the inetd on $tmp/inetd.conf in the foreground
# Environment: LC_LAUNCHER, LC_PATTERNS_DIR, LC_UPLOAD_CLIENT,
# LC_OPERATOR_EXAMPLES, LC_INSTALLED_BINDIR, LC_INSTALLED_PKGLIBDIR.
# shellcheck shell=sh
# The sourcing script uses SERVICE, SERVICE_ARGS and sets inetd_name:
# shellcheck disable=SC2034,SC2154

set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -x "${LC_LAUNCHER:-}" ] || fail "LC_LAUNCHER does not name the launcher"
[ -x "${LC_PATTERNS_DIR:-}/stdio-service" ] || fail "no stdio-service in LC_PATTERNS_DIR"
[ -x "${LC_UPLOAD_CLIENT:-}" ] || fail "LC_UPLOAD_CLIENT does not name upload-client"
[ -d "${LC_OPERATOR_EXAMPLES:-}/inetd" ] || fail "no generated examples in LC_OPERATOR_EXAMPLES"
[ -n "${LC_INSTALLED_BINDIR:-}" ] || fail "LC_INSTALLED_BINDIR is not set"

# What the examples name, and what the tests put in its place.
EXAMPLE_LAUNCHER=$LC_INSTALLED_BINDIR/lingerclose
EXAMPLE_SERVICE=/usr/local/libexec/upload-service
EXAMPLE_PORT=8080
EXAMPLE_USER=nobody
SERVICE=$LC_PATTERNS_DIR/stdio-service
SERVICE_ARGS=--end=return

TRIES=5
BODY=1000000

use_tmpdir real-inetd
daemon_pid=
at_exit 'stop_process "$daemon_pid"'

# example FILE: the generated example without its comments, and checked to
# name what the tests replace.
example() {
    file=$LC_OPERATOR_EXAMPLES/inetd/$1
    [ -f "$file" ] || fail "no example $file"
    for name in "$EXAMPLE_LAUNCHER" "$EXAMPLE_SERVICE" "$EXAMPLE_PORT" "$EXAMPLE_USER"; do
        grep -v '^#' "$file" | grep -qF -e "$name" || fail "the example $file does not name $name"
    done
    grep -v '^#' "$file"
}

# start_inetd PRELOAD: sets $port and $daemon_pid
start_inetd() {
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        inetd_config "$1" "$port"
        start_daemon "$port" "$tmp/inetd.out" run_inetd && return 0
    done
    cat "$tmp/inetd.conf" "$tmp/inetd.out" >&2
    fail "$inetd_name did not start listening"
}

# uploads PRELOAD: how many of TRIES responses arrived
uploads() {
    start_inetd "$1"
    count=$(received "$LC_UPLOAD_CLIENT" -p "$port" -n "$TRIES" -s "$BODY")
    stop_daemon "$inetd_name"
    echo "$count"
}

run_inetd_test() {
    with=$(uploads yes)
    without=$(uploads no)
    echo "$inetd_name + stdio-service from the example, $TRIES uploads of $BODY bytes:" \
        "under the launcher $with received, without it $without"
    [ -n "$with" ] && [ -n "$without" ] || fail "upload-client printed no count"
    [ "$with" -eq "$TRIES" ] || fail "under the launcher only $with of $TRIES responses arrived"
    [ "$without" -lt "$TRIES" ] ||
        fail "without the library every response arrived: the test proves nothing"
    echo "PASS: a service started by $inetd_name as the example says delivers its early response"
}
