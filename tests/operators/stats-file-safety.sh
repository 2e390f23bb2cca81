#!/bin/sh
# SPDX-License-Identifier: MIT
# LINGERCLOSE_STATS_FILE in hostile places, with a real server under the
# library:
#
#  - Whatever another user plants where the writer once put its temporary
#    file (the statistics path, then ".<thread id>.tmp": a name anyone can
#    predict) is never opened: a FIFO does not hang the drain thread (a
#    lingering connection still ends at LINGERCLOSE_TIMEOUT, the process
#    still exits), a hard link does not redirect the write into its
#    target, a planted file never becomes the published one, and a
#    symbolic link at the final name is replaced, not followed.
#  - A directory other users can write (not sticky), or one owned by
#    another user, is refused with one warning line and gets no file; a
#    sticky one such as /tmp is used.
#  - With %p in the path, a fork-per-connection server leaves no file per
#    connection: a process that ends removes its own, and one that never
#    closed a socket writes none.
#
# The part that needs a second user (a directory owned by "nobody") runs
# as root only. Environment: LC_LIBRARY, LC_TESTSERVER, LC_UPLOAD_CLIENT.
# Exit status: 0 pass, 1 fail, 77 skip.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ -x "${LC_TESTSERVER:-}" ] || fail "LC_TESTSERVER does not name lc-testserver"
[ -x "${LC_UPLOAD_CLIENT:-}" ] || fail "LC_UPLOAD_CLIENT does not name upload-client"
command -v python3 >/dev/null || skip "python3 is missing (the lingering client is written in it)"

use_tmpdir stats-safety
server_pid=
# A writer stuck on a FIFO never ends by itself.
at_exit 'exec 3>&- 2>/dev/null; [ -z "$server_pid" ] || { kill -9 "$server_pid"; wait "$server_pid"; } 2>/dev/null'

# Every case runs even when an earlier one failed (not_ok), so that one
# run shows each that fails.

TIMEOUT=2
INTERVAL=1

# The server under the library, writing its statistics every INTERVAL.
launch() {
    launch_server server LINGERCLOSE_STATS_INTERVAL=${INTERVAL}s "$@"
}

# Closes the server's stdin and waits for it to end; fails if it has not
# after 10 s (a writer blocked on a FIFO never would).
stop_server() {
    if ! end_server 10; then
        not_ok "$1: the server had not ended 10 s after it was told to"
        return
    fi
    [ "$waited_status" = 0 ] ||
        fail "$1: the server failed (status $waited_status): $(cat "$tmp/server.err")"
}

# The ids of the server's threads, the drain thread ("lingerclose") among
# them once it runs: the old writer named its temporary file after them.
thread_ids() {
    for _ in $(seq 50); do
        grep -qx lingerclose /proc/"$server_pid"/task/*/comm 2>/dev/null && break
        sleep 0.1
    done
    grep -qx lingerclose /proc/"$server_pid"/task/*/comm || fail "no drain thread in the server"
    ls /proc/"$server_pid"/task
}

uploads() {
    [ "$(received "$LC_UPLOAD_CLIENT" -p "$port" -n "$1" -s 300000)" = "$1" ] ||
        fail "responses lost: $(cat "$tmp/client.out")"
}

warnings() {
    grep -c "LINGERCLOSE_STATS_FILE" "$tmp/server.err"
}

is_published() {
    [ -f "$1" ] && [ ! -L "$1" ] && grep -q '^lingerclose_closes_total' "$1"
}

# ---- (a) FIFOs at the predictable names ------------------------------------
# Sends an upload the server answers early, reads the answer up to the
# server's FIN, then one byte every 100 ms, which keeps the drain from
# going idle: the library closes the connection at LINGERCLOSE_TIMEOUT, and
# the next byte gets a reset. Prints the seconds from the FIN to the reset,
# or "still-open" after LIMIT seconds.
lingering_client() {
    python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 16384)
s.settimeout(limit)
answer = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    answer += chunk
if b" 413 " not in answer:
    sys.exit("no early answer: %r" % answer)
fin = time.monotonic()
while time.monotonic() - fin < limit:
    try:
        s.send(b"x")
    except (ConnectionResetError, BrokenPipeError):
        print("%.1f" % (time.monotonic() - fin))
        sys.exit(0)
    time.sleep(0.1)
print("still-open")
PY
}

dir="$tmp/fifo"
mkdir "$dir"
launch LINGERCLOSE_STATS_FILE="$dir/stats.prom" LINGERCLOSE_TIMEOUT=${TIMEOUT}s \
    LINGERCLOSE_IDLE_TIMEOUT=${TIMEOUT}s "$LC_TESTSERVER" --scenario early-error --connections 1
for tid in $(thread_ids); do
    mkfifo "$dir/stats.prom.$tid.tmp"
done
sleep 1.5 # at least one interval: the drain thread writes the file meanwhile
ended=$(lingering_client "$port" $((TIMEOUT + 3))) || fail "the lingering client failed: $ended"
[ "$ended" != still-open ] ||
    not_ok "FIFO: a lingering connection was still open $((TIMEOUT + 3)) s after its close (LINGERCLOSE_TIMEOUT=${TIMEOUT}s): the drain thread hangs"
stop_server "FIFO"
is_published "$dir/stats.prom" || not_ok "FIFO: no statistics published: $(ls -l "$dir")"
for fifo in "$dir"/*.tmp; do
    [ -p "$fifo" ] || not_ok "FIFO: $fifo was replaced"
done

# ---- (b) hard links at the predictable names, a symlink at the final name -
dir="$tmp/links"
mkdir "$dir"
echo precious >"$tmp/victim"
echo "precious too" >"$tmp/symlink-victim"
launch LINGERCLOSE_STATS_FILE="$dir/stats.prom" "$LC_TESTSERVER" --scenario early-error --connections 1
for tid in $(thread_ids); do
    ln "$tmp/victim" "$dir/stats.prom.$tid.tmp"
done
ln -sf "$tmp/symlink-victim" "$dir/stats.prom"
uploads 1
sleep 1.5
stop_server "hard link"
[ "$(cat "$tmp/victim")" = precious ] || not_ok "hard link: the file it points to was overwritten: $(head -3 "$tmp/victim")"
[ "$(cat "$tmp/symlink-victim")" = "precious too" ] ||
    not_ok "symbolic link: the file it points to was overwritten: $(head -3 "$tmp/symlink-victim")"
is_published "$dir/stats.prom" || not_ok "hard link: no statistics published: $(ls -l "$dir")"

# ---- (c) planted files at the predictable names ----------------------------
dir="$tmp/planted"
mkdir "$dir"
launch LINGERCLOSE_STATS_FILE="$dir/stats.prom" "$LC_TESTSERVER" --scenario early-error --connections 1
planted=
for tid in $(thread_ids); do
    printf 'planted 1\n' >"$dir/stats.prom.$tid.tmp"
    chmod 0666 "$dir/stats.prom.$tid.tmp"
    [ "$(id -u)" = 0 ] && chown nobody "$dir/stats.prom.$tid.tmp"
    planted="$planted $(stat -c %i "$dir/stats.prom.$tid.tmp")"
done
uploads 1
sleep 1.5
published=$(stat -c %i "$dir/stats.prom")
stop_server "planted file"
published="$published $(stat -c %i "$dir/stats.prom")"
for inode in $published; do
    for bad in $planted; do
        [ "$inode" != "$bad" ] ||
            not_ok "planted file: the file planted at a temporary name became the published one (inode $inode, $(stat -c '%U %A' "$dir/stats.prom"))"
    done
done
is_published "$dir/stats.prom" || not_ok "planted file: no statistics published"

# ---- (d) directories other users can write ---------------------------------
# Runs a server with its file in DIR, expecting WANT: "refused" (one
# warning line, no file) or "written".
directory_case() {
    what=$1 dir=$2 want=$3
    launch LINGERCLOSE_STATS_FILE="$dir/stats.prom" "$LC_TESTSERVER" --scenario early-error --connections 1
    uploads 1
    sleep 1.5
    stop_server "$what"
    if [ "$want" = refused ]; then
        [ -z "$(ls -A "$dir")" ] || not_ok "$what: the directory got files: $(ls -A "$dir")"
        [ "$(warnings)" = 1 ] || not_ok "$what: $(warnings) warning lines (want 1): $(cat "$tmp/server.err")"
    else
        is_published "$dir/stats.prom" || not_ok "$what: no statistics file: $(cat "$tmp/server.err")"
        [ "$(ls -A "$dir")" = stats.prom ] || not_ok "$what: files left beside it: $(ls -A "$dir")"
        [ "$(warnings)" = 0 ] || not_ok "$what: warnings: $(cat "$tmp/server.err")"
    fi
}

mkdir "$tmp/world-writable" "$tmp/sticky"
chmod 0777 "$tmp/world-writable"
chmod 1777 "$tmp/sticky"
directory_case "world-writable directory" "$tmp/world-writable" refused
grep -q "other users can write" "$tmp/server.err" || not_ok "the warning does not say what is wrong: $(cat "$tmp/server.err")"
directory_case "sticky directory" "$tmp/sticky" written
mkdir -m 0775 "$tmp/group-writable"
directory_case "group-writable directory" "$tmp/group-writable" refused
if [ "$(id -u)" = 0 ]; then
    mkdir "$tmp/foreign"
    chown nobody "$tmp/foreign"
    directory_case "directory owned by nobody" "$tmp/foreign" refused
else
    echo "not root: the directory owned by another user is not tried"
fi

# ---- (e) %p with a fork-per-connection server ------------------------------
CONNECTIONS=30
dir="$tmp/per-process"
mkdir "$dir"
launch LINGERCLOSE_STATS_FILE="$dir/lc-%p.prom" "$LC_TESTSERVER" --scenario fork-per-connection \
    --connections $CONNECTIONS
uploads $CONNECTIONS
for _ in $(seq 100); do
    [ "$(ps -o stat= --ppid "$server_pid" | grep -vc '^Z')" = 0 ] && break
    sleep 0.1
done
[ "$(ps -o stat= --ppid "$server_pid" | grep -vc '^Z')" = 0 ] || not_ok "%p: the children did not end"
sleep 1.5 # an interval: the parent writes its file if it has one to write
left=$(ls -A "$dir")
count=$(echo "$left" | grep -c .)
for f in $left; do
    if [ "$f" != "lc-$server_pid.prom" ]; then
        not_ok "%p: $count files after $CONNECTIONS connections, the children gone (want at most the parent's, lc-$server_pid.prom): $(echo $left | cut -c1-300)"
        break
    fi
done
stop_server "%p"
[ -z "$(ls -A "$dir")" ] ||
    not_ok "%p: $(ls -A "$dir" | wc -l) files left once every process ended: $(ls -A "$dir" | head -5 | tr '\n' ' ')..."

[ "$failures" = 0 ] || fail "$failures problem(s)"
echo "PASS: planted FIFOs, hard links, files and symlinks ignored (a lingering connection ended ${ended} s after its close, LINGERCLOSE_TIMEOUT=${TIMEOUT}s); other-writable directories refused, sticky used; $CONNECTIONS fork-per-connection children left $count file(s), none at the end"
