#!/bin/sh
# A real inetd: xinetd on loopback starts tests/patterns/stdio-service for
# each connection, with the connection on its stdin, stdout and stderr.
# The service answers an upload early with 413 and returns from main
# without closing anything. Through xinetd's own "env" attribute the
# service runs with the library preloaded, and every response must arrive;
# without it, responses must be lost (or the test would prove nothing).
#
# Environment: LC_LIBRARY, LC_PATTERNS_DIR, LC_UPLOAD_CLIENT
# (examples/upload-client). Exit status: 0 pass, 1 fail, 77 skip.

set -u

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
skip() {
    echo "SKIP: $*"
    exit 77
}

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ -x "${LC_PATTERNS_DIR:-}/stdio-service" ] || fail "no stdio-service in LC_PATTERNS_DIR"
[ -x "${LC_UPLOAD_CLIENT:-}" ] || fail "LC_UPLOAD_CLIENT does not name upload-client"

XINETD=$(command -v xinetd || echo /usr/sbin/xinetd)
[ -x "$XINETD" ] || skip "xinetd is not installed (apt-get install xinetd; ./bootstrap does it as root)"
# xinetd starts every service as the user its configuration names, which
# only root may do.
[ "$(id -u)" = 0 ] || skip "xinetd must run as root to start its services"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lc-real-inetd.XXXXXX") || fail "mktemp failed"
xinetd_pid=
cleanup() {
    [ -n "$xinetd_pid" ] && kill "$xinetd_pid" 2>/dev/null && wait "$xinetd_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

TRIES=5
BODY=1000000

listening() { # listening PORT
    grep -qi ":$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp
}

# start_xinetd PRELOAD(yes|no): sets $port and $xinetd_pid
start_xinetd() {
    env_line=
    [ "$1" = yes ] && env_line="	env         = LD_PRELOAD=$LC_LIBRARY"
    for attempt in 1 2 3 4 5; do
        port=$((20000 + ($$ * 7 + attempt * 131) % 30000))
        listening "$port" && continue
        cat >"$tmp/xinetd.conf" <<CONF
defaults
{
}
service lingerclose-test
{
	type        = UNLISTED
	socket_type = stream
	protocol    = tcp
	wait        = no
	user        = root
	bind        = 127.0.0.1
	port        = $port
	server      = $LC_PATTERNS_DIR/stdio-service
	server_args = --end=return
$env_line
	instances   = UNLIMITED
	cps         = 1000 1
	log_type    = FILE $tmp/xinetd.log
}
CONF
        "$XINETD" -f "$tmp/xinetd.conf" -dontfork -pidfile "$tmp/xinetd.pid" \
            >"$tmp/xinetd.out" 2>&1 &
        xinetd_pid=$!
        for _ in $(seq 50); do
            listening "$port" && return 0
            kill -0 "$xinetd_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$xinetd_pid" 2>/dev/null
        wait "$xinetd_pid" 2>/dev/null
        xinetd_pid=
    done
    cat "$tmp/xinetd.out" "$tmp/xinetd.log" >&2 2>/dev/null
    fail "xinetd did not start listening"
}

stop_xinetd() {
    kill "$xinetd_pid" 2>/dev/null
    wait "$xinetd_pid" 2>/dev/null
    xinetd_pid=
}

# received PRELOAD: how many of TRIES responses arrived
received() {
    start_xinetd "$1"
    "$LC_UPLOAD_CLIENT" -p "$port" -n "$TRIES" -s "$BODY" >"$tmp/client.out" 2>&1
    stop_xinetd
    cat "$tmp/client.out" >&2
    sed -n 's/^responses received: \([0-9]*\) of .*/\1/p' "$tmp/client.out"
}

with=$(received yes)
without=$(received no)
echo "xinetd + stdio-service, $TRIES uploads of $BODY bytes:" \
    "with the library $with received, without $without"
[ -n "$with" ] && [ -n "$without" ] || fail "upload-client printed no count"
[ "$with" -eq "$TRIES" ] || fail "with the library only $with of $TRIES responses arrived"
[ "$without" -lt "$TRIES" ] ||
    fail "without the library every response arrived: the test proves nothing"
echo "PASS: a service started by xinetd delivers its early response under the library"
