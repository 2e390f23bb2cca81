#!/bin/sh
# SPDX-License-Identifier: MIT
# LINGERCLOSE_PEER_FIN_WAIT: a real HTTP server (Python's http.server,
# closing after each response) under the library, Python and curl as the
# clients. With the wait on, a client that reads a Content-Length response
# and closes sends the first FIN, so the TIME_WAIT entries are the
# client's and none is the server's; a response that ends at the close still
# arrives whole (held back by at most the wait). With the wait off, the
# server's close is the active one and the server holds a TIME_WAIT for
# each connection it closed first. (A client may close before the server
# does, the first connection to a fresh Python process often does: that
# close is the plain, passive one either way. The statistics file says
# how many closes the server made first: those are the ones that count.)
set -u
. "$(dirname "$0")/../lib/test-lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

[ -n "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY is not set"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (apt-get install python3)"
command -v curl >/dev/null 2>&1 || skip "curl is not installed (apt-get install curl)"
command -v ss >/dev/null 2>&1 || skip "ss is not installed (apt-get install iproute2)"
use_tmpdir peer-fin-wait
at_exit 'stop_process "${server_pid:-}"'

CONNECTIONS=5
WAIT=3s
BODY=response

# states_on_server_port: the TCP states of the server side of its
# connections (local port $port), the listener left out.
states_on_server_port() {
    ss -Htan "( sport = :$port )" | awk '$1 != "LISTEN" { print $1 }'
}

# settle: until the server's side of every connection has closed or sits
# in TIME_WAIT (the drains have ended), at most 20 s.
settle() {
    _deadline=$(($(date +%s) + 20))
    while states_on_server_port | grep -qv '^TIME-WAIT$'; do
        [ "$(date +%s)" -ge "$_deadline" ] && return 1
        sleep 0.1
    done
}

# closes_made_first FILE: the server's closes that lingered, as its
# statistics file counts them: those it made before the client's.
closes_made_first() {
    sed -n 's/^lingerclose_lingering_closes_total{.*} //p' "$1" | awk '{ n += $1 } END { print n + 0 }'
}

# counted FILE OUTCOME: lingerclose_fin_deferred_total{outcome=OUTCOME}.
counted() {
    sed -n "s/^lingerclose_fin_deferred_total{.*outcome=\"$2\"} //p" "$1"
}

server_time_waits() {
    states_on_server_port | grep -c '^TIME-WAIT$'
}

client_time_waits() {
    ss -Htan state time-wait "( dport = :$port )" | wc -l
}

# post PATH: one upload; the response's body on stdout, the seconds it took
# in $tmp/seconds.
post() {
    curl -sS --max-time 20 -H 'Expect:' --data-binary "@$tmp/upload" -w '%{stderr}%{time_total}' \
        "http://127.0.0.1:$port$1" 2>"$tmp/seconds"
}

head -c 4096 /dev/zero >"$tmp/upload"

# post_length: one upload to /length, the Content-Length response's body
# on stdout; the client closes half a second after the response is whole,
# as a client busy with it would. So whichever side closes first is
# decided by the library alone, however slow the server (a sanitizer
# build): the server's FIN comes first unless the wait holds it back.
post_length() {
    python3 - "$port" "$tmp/upload" <<'EOF_CLIENT'
import socket, sys, time
port, upload = int(sys.argv[1]), open(sys.argv[2], "rb").read()
s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(b"POST /length HTTP/1.0\r\nHost: test\r\nContent-Length: %d\r\n\r\n"
          % len(upload) + upload)
data = b""
while b"\r\n\r\n" not in data:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(1)
    data += chunk
head, body = data.split(b"\r\n\r\n", 1)
length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
              if line.lower().startswith(b"content-length:"))
while len(body) < length:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(1)
    body += chunk
sys.stdout.write(body.decode())
time.sleep(0.5)
s.close()
EOF_CLIENT
}

# How many of CONNECTIONS uploads got their Content-Length response whole.
length_responses_arrived() {
    _arrived=0
    _i=0
    while [ "$_i" -lt "$CONNECTIONS" ]; do
        post_length | grep -q "^$BODY" && _arrived=$((_arrived + 1))
        _i=$((_i + 1))
    done
    echo "$_arrived"
}

# ---- the wait on, Content-Length responses ---------------------------------
launch_server on LINGERCLOSE_PEER_FIN_WAIT=$WAIT LINGERCLOSE_STATS_FILE="$tmp/on.prom" \
    LINGERCLOSE_STATS_INTERVAL=0 python3 "$here/close-after-response.py"
arrived=$(length_responses_arrived)
if [ "$arrived" -eq "$CONNECTIONS" ]; then
    pass "wait on: every Content-Length response arrived ($arrived of $CONNECTIONS)"
else
    not_ok "wait on: $arrived of $CONNECTIONS Content-Length responses arrived"
fi
settle || not_ok "wait on: the server's connections did not end: $(states_on_server_port | tr '\n' ' ')"
server_tw=$(server_time_waits)
client_tw=$(client_time_waits)
if [ "$server_tw" -eq 0 ]; then
    pass "wait on: no TIME_WAIT on the server ($client_tw on the client)"
else
    not_ok "wait on: $server_tw TIME_WAIT entries on the server for $CONNECTIONS connections" \
        "($client_tw on the client): the server's close was the active one"
fi

# ---- the wait on, a response that ends at the close --------------------------
if post /no-length | grep -q "^$BODY"; then
    pass "wait on: a close-delimited response arrived, in $(cat "$tmp/seconds") s (wait $WAIT)"
else
    not_ok "wait on: the close-delimited response did not arrive: $(cat "$tmp/seconds")"
fi
end_server 10 || not_ok "wait on: the server did not end"
first=$(closes_made_first "$tmp/on.prom")
peer_first=$(counted "$tmp/on.prom" peer-first)
timeout=$(counted "$tmp/on.prom" timeout)
# Without a close the server made first, no TIME_WAIT would prove nothing.
# (A close that found the client's FIN already there, with input unread,
# lingers without holding anything back: at most one deferral a close.)
if [ "$first" -ge 2 ] && [ "${peer_first:-0}" -ge 1 ] && [ "${timeout:-}" = 1 ] &&
    [ $((peer_first + timeout)) -le "$first" ]; then
    pass "wait on: of the $first closes the server made first, $peer_first saw the client's FIN first and $timeout sent its own when the wait was over"
else
    not_ok "wait on: of $first closes the server made first, lingerclose_fin_deferred_total" \
        "counts peer-first=${peer_first:-none} timeout=${timeout:-none}: $(cat "$tmp/on.err")"
fi

# The operator's summary of the same file.
if [ -x "${LC_LAUNCHER:-}" ]; then
    "$LC_LAUNCHER" --stats "$tmp/on.prom" >"$tmp/summary" 2>&1
    if grep -q "FIN deferred .*peer-first $peer_first, timeout $timeout" "$tmp/summary"; then
        pass "lingerclose --stats shows the FINs deferred by outcome"
    else
        not_ok "lingerclose --stats does not show peer-first $peer_first, timeout $timeout: $(cat "$tmp/summary")"
    fi
else
    skip_check "lingerclose --stats shows the FINs deferred by outcome" "LC_LAUNCHER is not set"
fi

# ---- the wait off (the default) ----------------------------------------------
launch_server off LINGERCLOSE_STATS_FILE="$tmp/off.prom" LINGERCLOSE_STATS_INTERVAL=0 \
    python3 "$here/close-after-response.py"
arrived=$(length_responses_arrived)
[ "$arrived" -eq "$CONNECTIONS" ] ||
    not_ok "wait off: $arrived of $CONNECTIONS Content-Length responses arrived"
settle || not_ok "wait off: the server's connections did not end: $(states_on_server_port | tr '\n' ' ')"
server_tw=$(server_time_waits)
end_server 10 || not_ok "wait off: the server did not end"
first=$(closes_made_first "$tmp/off.prom")
# A lingering close is not always the first: a slow server (a sanitizer
# build) may find the client's FIN already there with input unread. So the
# control asks for some server TIME_WAIT entries, at most one a lingering
# close: what the wait, above, brings to none.
if [ "$first" -ge 1 ] && [ "$server_tw" -ge 1 ] && [ "$server_tw" -le "$first" ]; then
    pass "wait off: the server holds $server_tw TIME_WAIT entries for its $first lingering closes"
else
    not_ok "wait off: $server_tw TIME_WAIT entries on the server for $first lingering closes"
fi

checks_done
