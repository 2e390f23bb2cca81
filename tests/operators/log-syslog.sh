#!/bin/sh
# SPDX-License-Identifier: MIT
# LINGERCLOSE_LOG_TARGET=syslog: every line, the start-up complaints and the
# drain thread's own lines included, reaches the system logger's socket
# with the daemon facility and its severity ("<28>" warning, "<31>"
# debug), and nothing goes to stderr. Without a logger listening, the
# lines go to stderr instead of being lost.
#
# The logger is a datagram socket this test binds at /dev/log inside a
# private mount namespace (a tmpfs /dev holding the usual device nodes),
# so the machine's own /dev/log, if any, is neither used nor disturbed.
#
# Environment: LC_LIBRARY, LC_EXAMPLES_DIR. Exit status: 0 pass, 1 fail,
# 77 skip.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ -x "${LC_EXAMPLES_DIR:-}/early-error-server" ] || fail "no early-error-server in LC_EXAMPLES_DIR"
[ "$(id -u)" = 0 ] || skip "a private /dev/log needs root (a mount namespace)"
command -v unshare >/dev/null || skip "unshare is missing (util-linux)"
command -v python3 >/dev/null || skip "python3 is missing (apt-get install python3; ./bootstrap --tests does it)"
unshare -m true 2>/dev/null || skip "cannot create a mount namespace here"

use_tmpdir log-syslog

# Runs inside the namespace: $1 = "listening" or "absent".
cat >"$tmp/inside.sh" <<'INSIDE'
. "$LC_TEST_LIB"
set -u
tmp=$1
logger_mode=$2
mount --make-rprivate / || exit 3
mkdir "$tmp/dev" && mount -t tmpfs tmpfs "$tmp/dev" || exit 3
for node in null zero full random urandom; do
    : >"$tmp/dev/$node" && mount --bind "/dev/$node" "$tmp/dev/$node" || exit 3
done
mount --bind "$tmp/dev" /dev || exit 3

logger_pid=
if [ "$logger_mode" = listening ]; then
    python3 - "$tmp/received" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(30)
with open(sys.argv[1], "w") as out:
    while True:
        out.write(s.recv(65536).decode("utf-8", "replace").rstrip("\n") + "\n")
        out.flush()
PY
    logger_pid=$!
    for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
    [ -S /dev/log ] || exit 4
fi

LD_PRELOAD=$LC_PRELOAD LINGERCLOSE_LOG_TARGET=syslog LINGERCLOSE_LOG=debug \
    LINGERCLOSE_IDLE_TIMEOUT=bogus \
    "$LC_EXAMPLES_DIR/early-error-server" >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
wait_ready "$tmp/server.out" "$server_pid" || exit 5
"$LC_EXAMPLES_DIR/upload-client" -p "$port" -n 2 -s 200000 >"$tmp/client.out" 2>&1
# The drains end when the client closes; their lines come from the drain
# thread, which may run late on a loaded machine.
log="$tmp/server.err"
[ "$logger_mode" = listening ] && log="$tmp/received"
for _ in $(seq 100); do
    [ "$(grep -c "drain of fd" "$log" 2>/dev/null)" -ge 2 ] && break
    sleep 0.1
done
kill "$server_pid"
wait_bounded "$server_pid" 10 || exit 6
[ -n "$logger_pid" ] && { sleep 0.2; kill "$logger_pid"; wait_bounded "$logger_pid" 10; }
exit 0
INSIDE

check_run() {
    mode=$1
    rm -f "$tmp/received" "$tmp/server.err"
    rm -rf "$tmp/dev"
    LC_PRELOAD=$lc_preload LC_EXAMPLES_DIR=$LC_EXAMPLES_DIR \
        LC_TEST_LIB="$(cd "$(dirname "$0")/../lib" && pwd)/test-lib.sh" \
        unshare -m sh "$tmp/inside.sh" "$tmp" "$mode"
    status=$?
    [ "$status" = 0 ] || fail "$mode: the run in the namespace failed (status $status): $(cat "$tmp/server.err" 2>/dev/null)"
}

check_run listening
received=$(cat "$tmp/received" 2>/dev/null)
[ -n "$received" ] || fail "the logger received nothing"
echo "$received" | grep -q "^<28>lingerclose\[[0-9]*\]: warning: LINGERCLOSE_IDLE_TIMEOUT='bogus' is not valid" ||
    fail "no warning at daemon.warning for the bad value; received: $received"
echo "$received" | grep -q "^<30>lingerclose\[[0-9]*\]: info: lingerclose .* loaded" ||
    fail "no start-up line at daemon.info; received: $received"
echo "$received" | grep -q "^<31>lingerclose\[[0-9]*\]: debug: drain of fd [0-9]* ended" ||
    fail "no line from the drain thread; received: $received"
[ -s "$tmp/server.err" ] && fail "lines went to stderr as well: $(cat "$tmp/server.err")"
[ "$(responses_in "$tmp/client.out")" = 2 ] ||
    fail "the responses did not all arrive: $(cat "$tmp/client.out")"

check_run absent
grep -q "^lingerclose\[[0-9]*\]: warning: LINGERCLOSE_IDLE_TIMEOUT='bogus'" "$tmp/server.err" ||
    fail "without a logger the warning was lost: $(cat "$tmp/server.err")"
grep -q "^lingerclose\[[0-9]*\]: debug: drain of fd [0-9]* ended" "$tmp/server.err" ||
    fail "without a logger the drain thread's lines were lost: $(cat "$tmp/server.err")"

echo "PASS: syslog target: $(echo "$received" | wc -l) lines at the logger, none on stderr; stderr without a logger"
