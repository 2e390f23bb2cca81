# SPDX-License-Identifier: MIT
# The shell tests' library, sourced by every script under tests/ (POSIX sh).
#
# Outcomes follow automake's test protocol: exit 0 passed, 1 failed,
# 77 skipped, 99 could not run (a broken setup, not a finding).
#   fail MESSAGE       the test failed: says so and stops (exit 1)
#   skip REASON        the test cannot run here: says why and stops (77)
# A script that makes many checks and reports each on its own line (TAP's
# wording: "ok - ...", "not ok - ...") goes on after a failed one, so that
# one run shows every check that fails, and ends with checks_done:
#   pass DESCRIPTION            one check passed
#   not_ok DESCRIPTION          one check failed; the script goes on
#   skip_check DESCRIPTION WHY  one check cannot run here
#   checks_done                 exit 1 if any check failed, else 0
#
# Also: a temporary directory removed at exit (use_tmpdir, at_exit),
# bounded waits (wait_bounded, stop_process), servers started under the
# library and their readiness (launch_server, end_server, wait_ready,
# listening, wait_listening, free_port, start_daemon, stop_daemon), and
# what a client received (received).

failures=0

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}

pass() {
    echo "ok - $1"
}

not_ok() {
    echo "not ok - $*"
    failures=$((failures + 1))
}

skip_check() {
    echo "ok - $1 # SKIP $2"
}

checks_done() {
    [ "$failures" -eq 0 ] || exit 1
    exit 0
}

# preload_with LIST: the LD_PRELOAD value for LIST (colon-separated). In a
# sanitizer build the library needs the sanitizer's runtime loaded before
# anything else, so LC_PRELOAD_FIRST goes in front, as an operator would
# put it.
preload_with() {
    echo "${LC_PRELOAD_FIRST:+$LC_PRELOAD_FIRST${1:+:}}$1"
}

# The library as the tests preload it.
lc_preload=$(preload_with "${LC_LIBRARY:-}")

# An environment assignment that turns LeakSanitizer off, for a process it
# cannot check: one run under strace (ptrace) or one that may not start a
# thread (RLIMIT_NPROC), where it would fail the process at exit instead.
# The other checks of an AddressSanitizer build stay on; in other builds it
# changes nothing.
no_leak_check="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# ---- the temporary directory -----------------------------------------------

# use_tmpdir NAME: makes $tmp, a directory of this test's own, removed
# when the script exits, however it exits, after the commands at_exit
# registered have run (stopping what the test started).
use_tmpdir() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/lc-$1.XXXXXX") || fail "mktemp failed"
    trap lc_exit_cleanup EXIT
    trap 'exit 1' HUP INT TERM
}

lc_at_exit=
# at_exit COMMAND: runs COMMAND (eval'd) at exit, before $tmp goes; the
# last registered runs first.
at_exit() {
    lc_at_exit="$1
$lc_at_exit"
}

lc_exit_cleanup() {
    eval "$lc_at_exit"
    # A copy of a read-only source tree keeps its modes.
    [ -n "${tmp:-}" ] && { chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"; }
}

# ---- processes -------------------------------------------------------------

# wait_bounded PID SECONDS: waits for a child of this shell to end, at most
# SECONDS, and kills it (KILL) if it did not; false then. Its exit status
# is left in $waited_status. A test never waits without a bound.
wait_bounded() {
    _deadline=$(($(date +%s) + $2))
    while kill -0 "$1" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$_deadline" ]; then
            kill -KILL "$1" 2>/dev/null
            wait "$1" 2>/dev/null
            waited_status=$?
            return 1
        fi
        sleep 0.1
    done
    wait "$1" 2>/dev/null
    waited_status=$?
    return 0
}

# stop_process PID [SECONDS]: asks a child of this shell to end (TERM) and
# waits for it, at most SECONDS (10), then kills it; false then. Nothing
# to do if PID is empty.
stop_process() {
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null
    wait_bounded "$1" "${2:-10}"
}

# ---- readiness -------------------------------------------------------------

# wait_ready FILE PID [SECONDS]: waits until the server PID has written its
# readiness line to FILE, "listening on 127.0.0.1:PORT" (what every test
# and example server prints), and sets $port. False if the server ended
# first or SECONDS (20) passed.
wait_ready() {
    port=
    _deadline=$(($(date +%s) + ${3:-20}))
    while :; do
        port=$(sed -n -e 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$1" 2>/dev/null |
            head -n 1)
        [ -n "$port" ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(date +%s)" -ge "$_deadline" ] && return 1
        sleep 0.05
    done
}

# listening PORT: something listens on TCP port PORT (IPv4 or IPv6, any
# address).
listening() {
    _hex=$(printf '%04X' "$1")
    grep -qi "^ *[0-9]*: [0-9A-F]*:$_hex [0-9A-F]*:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# port_in_use PORT: anything on TCP port PORT, in any state.
port_in_use() {
    grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# wait_listening PORT PID [SECONDS]: waits until something listens on PORT;
# false if PID ended first or SECONDS (10) passed.
wait_listening() {
    _deadline=$(($(date +%s) + ${3:-10}))
    until listening "$1"; do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(date +%s)" -ge "$_deadline" ] && return 1
        sleep 0.05
    done
}

# free_port: a TCP port nothing uses, below the kernel's ephemeral range
# (20000-31999), so that no client connection takes it meanwhile.
free_port() {
    while :; do
        _port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
        port_in_use "$_port" || { echo "$_port"; return 0; }
    done
}

# ---- servers ---------------------------------------------------------------

# launch_server NAME [VAR=VALUE]... COMMAND [ARG]...: starts COMMAND (through
# env) with the library preloaded, its stdin a fifo held open on fd 3 (the
# test programs end once it closes), its output in $tmp/NAME.out and
# $tmp/NAME.err, with at most $server_nofile descriptors if that is set,
# and waits for its readiness line. Sets $server_pid and $port; fails the
# test if the server did not start.
launch_server() {
    server_name=$1
    shift
    rm -f "$tmp/$server_name.in"
    mkfifo "$tmp/$server_name.in"
    (
        [ -z "${server_nofile:-}" ] || ulimit -n "$server_nofile" || exit 126
        exec env LD_PRELOAD="$lc_preload" "$@"
    ) <"$tmp/$server_name.in" >"$tmp/$server_name.out" 2>"$tmp/$server_name.err" &
    server_pid=$!
    exec 3>"$tmp/$server_name.in"
    wait_ready "$tmp/$server_name.out" "$server_pid" ||
        fail "$server_name: the server did not start: $(cat "$tmp/$server_name.err")"
}

# end_server SECONDS: closes the server's stdin, which tells it to end, and
# waits at most SECONDS; false if it had not ended (it is killed then). Its
# exit status is left in $waited_status.
end_server() {
    exec 3>&-
    rm -f "$tmp/$server_name.in"
    _pid=$server_pid
    server_pid=
    wait_bounded "$_pid" "$1"
}

# start_daemon PORT LOG COMMAND...: starts COMMAND (a program or a
# function), which is to listen on PORT, in the background with its output
# in LOG, and waits until it listens. Sets $daemon_pid; false if it ended
# or did not listen within 10 s (it is stopped then).
start_daemon() {
    _port=$1
    _log=$2
    shift 2
    "$@" >"$_log" 2>&1 &
    daemon_pid=$!
    wait_listening "$_port" "$daemon_pid" && return 0
    stop_process "$daemon_pid"
    daemon_pid=
    return 1
}

# stop_daemon NAME: stops $daemon_pid; fails the test if it would not end.
stop_daemon() {
    [ -n "${daemon_pid:-}" ] || return 0
    _pid=$daemon_pid
    daemon_pid=
    stop_process "$_pid" || fail "$1 (pid $_pid) did not stop"
}

# ---- clients ---------------------------------------------------------------

# received CLIENT [ARG]...: runs a client of the examples or tests/lib
# (upload-client: it ends with "responses received: N of
# M"), its output in $tmp/client.out and on stderr, and prints N (nothing
# if the client printed no count).
received() {
    "$@" >"$tmp/client.out" 2>&1
    cat "$tmp/client.out" >&2
    responses_in "$tmp/client.out"
}

# responses_in FILE: N of the "responses received: N of M" line such a
# client wrote to FILE.
responses_in() {
    sed -n 's/^responses received: \([0-9]*\) of .*/\1/p' "$1"
}

# ---- inetds ----------------------------------------------------------------

# xinetd_config SERVICE PORT SERVER [LINES]: prints an xinetd configuration
# with one "nowait" TCP service on 127.0.0.1:PORT that runs SERVER as root
# for each connection, logging to $tmp/xinetd.log. LINES are more
# attributes, one per line, each starting with a tab (server_args, env,
# passenv...).
xinetd_config() {
    printf 'defaults\n{\n}\nservice %s\n{\n' "$1"
    printf '\t%-11s = %s\n' type UNLISTED socket_type stream protocol tcp wait no user root \
        bind 127.0.0.1 port "$2" server "$3" instances UNLIMITED cps "1000 1" \
        log_type "FILE $tmp/xinetd.log"
    [ -n "${4:-}" ] && printf '%s\n' "$4"
    printf '}\n'
}
