#!/bin/sh
# SPDX-License-Identifier: MIT
# 'lingerclose --status PID...' on a real server running under the
# library: the library is mapped, its drain thread runs, its version, the
# settings from the server's environment (defaults for the rest), its
# statistics file and a summary of it. A process without the library, a
# process id that does not exist and a process the caller may not look
# into each get their own line, and a nonzero exit.
#
# Environment: LC_LAUNCHER, LC_LIBRARY, LC_TESTSERVER, LC_UPLOAD_CLIENT.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -x "${LC_LAUNCHER:-}" ] || fail "LC_LAUNCHER does not name the launcher"
[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ -x "${LC_TESTSERVER:-}" ] || fail "LC_TESTSERVER does not name lc-testserver"
[ -x "${LC_UPLOAD_CLIENT:-}" ] || fail "LC_UPLOAD_CLIENT does not name upload-client"

use_tmpdir status
server_pid=
other_pid=
at_exit 'exec 3>&- 2>/dev/null; stop_process "$server_pid"; stop_process "$other_pid"'

version=$("$LC_LAUNCHER" --version | sed -n 's/^lingerclose //p')

# status PID...: runs --status, its output in $tmp/status.out, its exit
# status in $status.
status() {
    "$LC_LAUNCHER" --status "$@" >"$tmp/status.out" 2>&1
    status=$?
    sed 's/^/#   /' "$tmp/status.out"
}

# has DESCRIPTION PATTERN: a check that the last --status output has a
# line matching PATTERN (grep -E).
has() {
    if grep -qE "$2" "$tmp/status.out"; then
        pass "$1"
    else
        not_ok "$1 (no line matching: $2)"
    fi
}

# started PID: waits (at most 10 s) until the background command PID has
# exec'd sleep, so that what --status reads is sleep's.
started() {
    _deadline=$(($(date +%s) + 10))
    until [ "$(cat "/proc/$1/comm" 2>/dev/null)" = sleep ]; do
        [ "$(date +%s)" -lt "$_deadline" ] || fail "sleep (pid $1) did not start"
        sleep 0.05
    done
}

launch_server server LINGERCLOSE_TIMEOUT=7s LINGERCLOSE_MODE=always \
    LINGERCLOSE_STATS_FILE="$tmp/server.prom" \
    "$LC_TESTSERVER" --scenario early-error --connections 2
received "$LC_UPLOAD_CLIENT" -p "$port" -n 2 -s 100000 >/dev/null

status "$server_pid"
if [ "$status" = 0 ]; then
    pass "--status on a server running the library exits 0"
else
    not_ok "--status on a server running the library exits 0 (status $status)"
fi
library=$(cd -P "$(dirname "$LC_LIBRARY")" && pwd -P)/liblingerclose.so
has "it says the library is loaded, its version and from where" \
    "^$server_pid \(lc-testserver\): lingerclose $version is loaded from $library\$"
has "it says the drain thread runs" "^  drain thread: running\$"
has "it gives the settings of the server's environment" \
    "^  settings:.* mode=always .*timeout=7s .*stats-file=$tmp/server.prom"
has "it gives the defaults for the settings left unset" \
    "^  settings:.* idle-timeout=2s .*max-queued=64M "
has "it names the statistics file" "^  statistics file: $tmp/server.prom\$"
has "it summarises the statistics file" "^ +closes examined +[0-9]+\$"
end_server 30 || not_ok "the server ended"

# A process without the library.
sleep 60 &
other_pid=$!
started "$other_pid"
status "$other_pid"
if [ "$status" = 1 ]; then
    pass "--status on a process without the library exits 1"
else
    not_ok "--status on a process without the library exits 1 (status $status)"
fi
has "it says the library is not loaded" "^$other_pid \(sleep\): lingerclose is not loaded "
stop_process "$other_pid"

# The library loaded but switched off, in a process with a misspelt
# setting and no TCP socket.
env LD_PRELOAD="$lc_preload" LINGERCLOSE_MODE=off LINGERCLOSE_TIMOUT=1s sleep 60 2>/dev/null &
other_pid=$!
started "$other_pid"
status "$other_pid"
[ "$status" = 1 ] || not_ok "--status on a process where the library is off exits 1 (status $status)"
has "it says the library does nothing there" "^  mode=off: the library does nothing in this process\$"
has "it says the drain thread does not run" "^  drain thread: not running "
has "it names a misspelt setting and the closest one" \
    "^  LINGERCLOSE_TIMOUT is not a variable of lingerclose and is ignored; did you mean LINGERCLOSE_TIMEOUT\?\$"
stop_process "$other_pid"

# A process id that is no longer in use.
status "$other_pid"
[ "$status" = 1 ] || not_ok "--status on a process that ended exits 1 (status $status)"
has "it says there is no such process" "^$other_pid: no such process\$"

status 12x
has "it says what is not a process id" "^12x: not a process id\$"

# A process of another account, looked at by an account that may not.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    sleep 60 &
    other_pid=$!
    started "$other_pid"
    setpriv --reuid=65534 --regid=65534 --clear-groups "$LC_LAUNCHER" --status "$other_pid" \
        >"$tmp/status.out" 2>&1
    status=$?
    sed 's/^/#   /' "$tmp/status.out"
    [ "$status" = 1 ] || not_ok "--status without permission exits 1 (status $status)"
    has "it says permission is denied" \
        "^$other_pid: cannot read /proc/$other_pid/maps: Permission denied"
    stop_process "$other_pid"
    other_pid=
else
    skip_check "it says permission is denied" "needs root and setpriv"
fi

checks_done
