#!/bin/sh
# SPDX-License-Identifier: MIT
# A shell-script service under real inetds (xinetd, tcpserver), the
# commonest kind: the script runs helpers (/bin/echo, date, cat, a
# subshell, a pipeline) between its reads and after its writes. Each helper
# finds the connection on its stdin and stdout, but the script still holds
# it: a helper's end must not send the FIN nor drain the client's next
# line. Every byte must arrive, with the library as without it. The
# script's own end still lingers: an early answer to an upload arrives.
#
# Environment: LC_LIBRARY. Exit status: 0 pass, 1 fail, 77 skip.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ "$(id -u)" = 0 ] || skip "xinetd must run as root to start its services"
XINETD=$(command -v xinetd || echo /usr/sbin/xinetd)
[ -x "$XINETD" ] || skip "xinetd is not installed (apt-get install xinetd; ./bootstrap --tests does it)"
command -v tcpserver >/dev/null ||
    skip "tcpserver is not installed (apt-get install ucspi-tcp; ./bootstrap --tests does it)"

# In a sanitizer build the helpers (date, cat) run under its runtime too:
# their own leaks at exit are not the library's.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS

use_tmpdir inetd-helpers
daemon_pid=
at_exit 'stop_process "$daemon_pid"'

cat >"$tmp/service.sh" <<'SCRIPT'
read a
if [ "$a" = upload ]; then
    echo early
    exit 0
fi
echo "got $a"
/bin/echo helper
date -u -d @0 +%Y
(echo sub)
echo pipe | cat
read b
echo "got $b"
cat /dev/null
echo done
SCRIPT
EXPECTED='got line1
helper
1970
sub
pipe
got line2
done'

# client PORT lines|upload: what the client received, then "RESET" if the
# connection was reset. "lines" sends two lines 0.3 s apart and reads;
# "upload" sends a line and 4 MiB before it reads anything.
client() {
    python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
out, reset = b"", False
try:
    if mode == "lines":
        s.sendall(b"line1\n")
        time.sleep(0.3)
        s.sendall(b"line2\n")
    else:
        s.sendall(b"upload\n" + b"x" * (4 << 20))
except OSError:
    reset = True
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except OSError:
    reset = True
sys.stdout.write(out.decode("utf-8", "replace") + ("RESET\n" if reset else ""))
PY
}

# start_inetd xinetd|tcpserver yes|no: sets $port and $daemon_pid
start_inetd() {
    port=$(free_port)
    preload=
    [ "$2" = yes ] && preload=$lc_preload
    case $1 in
    xinetd)
        lines=$(printf '\tserver_args = %s' "$tmp/service.sh")
        [ -n "$preload" ] && lines=$(printf '%s\n\tenv         = LD_PRELOAD=%s ASAN_OPTIONS=%s' \
            "$lines" "$preload" "$ASAN_OPTIONS")
        xinetd_config lc-helpers "$port" /bin/sh "$lines" >"$tmp/xinetd.conf"
        set -- "$1" "$XINETD" -f "$tmp/xinetd.conf" -dontfork -pidfile "$tmp/xinetd.pid"
        ;;
    tcpserver)
        set -- "$1" tcpserver -q -R -H 127.0.0.1 "$port" ${preload:+env LD_PRELOAD="$preload"} \
            /bin/sh "$tmp/service.sh"
        ;;
    esac
    inetd=$1
    shift
    start_daemon "$port" "$tmp/inetd.out" "$@" && return 0
    cat "$tmp/inetd.out" >&2
    fail "$inetd did not start listening on $port"
}

for inetd in xinetd tcpserver; do
    start_inetd $inetd no
    without=$(client "$port" lines)
    stop_daemon "the inetd"
    [ "$without" = "$EXPECTED" ] || fail "$inetd without the library: the service's output: $without"

    start_inetd $inetd yes
    with=$(client "$port" lines)
    early=$(client "$port" upload)
    stop_daemon "the inetd"
    [ "$with" = "$EXPECTED" ] ||
        fail "$inetd: with the library the client received
$with
instead of
$EXPECTED"
    [ "$early" = early ] || fail "$inetd: the script's early answer to an upload was lost: $early"
    echo "$inetd: all $(echo "$with" | wc -l) lines with helpers between reads, and the early answer"
done

# The marker comes from the environment: a value the library did not write
# costs one line naming it, and nothing else.
for bad in garbage "1:2:3" ":5" "12:" "1:2,,3:4"; do
    lines=$(LINGERCLOSE_SHARED=$bad LD_PRELOAD=$lc_preload /bin/true 2>&1)
    [ "$(echo "$lines" | grep -c "LINGERCLOSE_SHARED is not valid (accepted: ")" = 1 ] &&
        [ "$(echo "$lines" | wc -l)" = 1 ] ||
        fail "LINGERCLOSE_SHARED='$bad' gave: $lines"
done

# Without the library the early answer is lost (or the last check proves nothing).
start_inetd tcpserver no
early=$(client "$port" upload)
stop_daemon "the inetd"
[ "$early" != early ] || fail "without the library the early answer arrived: the test proves nothing"
echo "PASS: helpers leave the service's connection alone; the service's own end lingers"
