#!/bin/sh
# SPDX-License-Identifier: MIT
# Peers that read slowly or pause are not stalled peers. A server under
# the library (a Python server: it reads each request whole, writes a
# 1 MB response its socket buffers hold, and closes: the close lingers for
# the unacknowledged output) and two kinds of clients, with
# LINGERCLOSE_IDLE_TIMEOUT=1s:
#  - paced: the server's socket is paced to 200 kB/s (a slow path) and the
#    client, with a large receive window, reads as fast as it can: its
#    window's right edge moves all the time, though less than a whole
#    window passes per idle timeout;
#  - paused: the client, with a small receive window (so most of the
#    response still waits on the server's side), reads nothing for 3 s,
#    then everything.
# Each must get all 1,000,000 bytes and a clean end, as without the
# library: nothing was unread at the close, so even a peer that paused
# past the idle timeout (its drain may end as "stalled") is left to the
# kernel as a plain close would leave it, never reset.
#
# Environment: LC_LIBRARY. Exit status: 0 pass, 1 fail.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
# In a sanitizer build the Python server runs under its runtime: Python's
# own allocations at exit are not the library's leaks.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS

result=$(LC_SERVER_PRELOAD=$lc_preload python3 - <<'PY'
import os, select, socket, subprocess, sys, time

SERVER = r"""
import socket, sys
SO_MAX_PACING_RATE = 47
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0))
l.listen(8)
print("listening on 127.0.0.1:%d" % l.getsockname()[1], flush=True)
for pace in (True, False):
    c, _ = l.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    if pace:
        c.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, 200000)
    request = b""
    while not request.endswith(b"\n"):
        request += c.recv(100)
    c.sendall(b"x" * 1000000)
    c.close()
l.close()
"""

env = dict(os.environ, LD_PRELOAD=os.environ["LC_SERVER_PRELOAD"],
           LINGERCLOSE_IDLE_TIMEOUT="1s", LINGERCLOSE_LOG="debug")
server = subprocess.Popen([sys.executable, "-c", SERVER], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
ready, _, _ = select.select([server.stdout], [], [], 20)
if not ready:
    server.kill()
    print("the server did not start")
    sys.exit(0)
port = int(server.stdout.readline().decode().rsplit(":", 1)[1])

def fetch(pause, window):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, window)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET\n")
    time.sleep(pause)
    got, end = 0, "eof"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
    except OSError as e:
        end = e.strerror or str(e)
    s.close()
    return "%d+%s" % (got, end)

paced = fetch(0, 4 << 20)
paused = fetch(3, 64 << 10)
try:
    server.wait(timeout=20)
except subprocess.TimeoutExpired:
    server.kill()
log = server.stderr.read().decode("utf-8", "replace")
stalled = log.count("ended: stalled")
print("paced %s paused %s stalled-drains %d" % (paced, paused, stalled))
PY
)
echo "$result"
case $result in
"paced 1000000+eof paused 1000000+eof stalled-drains "[01]) ;;
*) false ;;
esac ||
    fail "a slow or pausing reader lost its response: $result"
echo "PASS: a paced reader and a pausing reader get their whole response"
