#!/bin/sh
# SPDX-License-Identifier: MIT
# The library's log lines never stall the program: a server under
# LINGERCLOSE_LOG=debug whose stderr is a pipe that is full and never read
# (a supervisor that stopped reading) serves every connection, lingers on
# each, and forks a helper after each while drains are in flight (fork()
# waits for the drain thread's lock, so the drain thread must never hold it
# while it writes). The lines that find the pipe full are lost, not waited
# for. The server itself never writes to stderr.
#
# Environment: LC_LIBRARY, LC_PATTERNS_DIR. Exit status: 0 pass, 1 fail.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ -x "${LC_PATTERNS_DIR:-}/quiet-forker" ] || fail "no quiet-forker in LC_PATTERNS_DIR"

CONNECTIONS=20
result=$(LC_SERVER_PRELOAD=$lc_preload python3 - "$LC_PATTERNS_DIR/quiet-forker" \
    "$CONNECTIONS" <<'PY'
import fcntl, os, select, socket, subprocess, sys

server, connections = sys.argv[1], int(sys.argv[2])
F_SETPIPE_SZ = 1031
read_end, write_end = os.pipe()
fcntl.fcntl(write_end, F_SETPIPE_SZ, 4096)
os.set_blocking(write_end, False)
try:
    while True:
        os.write(write_end, b"x" * 4096)
except BlockingIOError:
    pass
os.set_blocking(write_end, True)

env = dict(os.environ, LD_PRELOAD=os.environ["LC_SERVER_PRELOAD"], LINGERCLOSE_LOG="debug")
p = subprocess.Popen([server, "--connections", str(connections)], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=write_end, env=env)
def line_within(seconds):
    ready, _, _ = select.select([p.stdout], [], [], seconds)
    return p.stdout.readline().decode().strip() if ready else "nothing within %d s" % seconds

line = line_within(20)
if not line.startswith("listening on 127.0.0.1:"):
    p.kill()
    p.wait()
    print("the server never said its port: %s" % line)
    sys.exit(0)
port = int(line.rsplit(":", 1)[1])
answered = 0
for i in range(connections):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 200000\r\n\r\n" + b"x" * 200000)
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        answered += data.startswith(b"HTTP/1.1 413")
    except OSError as e:
        print("connection %d: %s" % (i, e))
        break
    finally:
        s.close()
p.stdin.close()
report = line_within(20)
try:
    p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
    p.wait()
    report += ", and it did not end"
print("answered %d; server: %s; status %s" % (answered, report, p.returncode))
PY
)
echo "$result"
expected="answered $CONNECTIONS; server: served $CONNECTIONS forked $CONNECTIONS; status 0"
[ "$(echo "$result" | tail -n 1)" = "$expected" ] ||
    fail "with a full stderr pipe the server stalled or lost answers: $result"
echo "PASS: a full stderr pipe loses log lines, never stalls the server or its fork()"
