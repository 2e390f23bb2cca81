#!/bin/sh
# SPDX-License-Identifier: MIT
# Clients that never read cannot pin the server's memory. hostile-server
# answers every request with a 2 MiB download it writes at once and
# closes; silent clients (a partial upload, then nothing, no FIN) and
# flooding clients (an endless upload) never read a byte of it, so each
# server socket keeps most of its download in the send queue. Under the
# library with a 1 s idle timeout and a 20 s total cap, the drain must see
# that the peer takes none of it and end with a reset, so that the server's
# socket memory is back to what it was within the idle timeout + 1 s.
# Without that, a silent client's socket becomes a kernel orphan that
# keeps its send queue for minutes, and a flooding client keeps its drain
# (and send queue) alive for the whole total cap.
#
# Measured from outside: the send-queue memory (ss -tm, skmem w:
# wmem_queued) of every socket on the server's port, sampled every 0.1 s
# while the clients are still there. The ends are counted as "stalled" in
# the library's summary.
#
# Then LINGERCLOSE_MAX_QUEUED: with room for about one download, further
# closes with a full send queue are plain ("queue-cap") while the first
# ones linger.
#
# Control: without the library the same clients' sockets are reset at
# once (their upload is unread), so the measure is back to the baseline at
# the same point.
set -u
. "$(dirname "$0")/../lib/hostile.sh"
hostile_setup
command -v ss >/dev/null 2>&1 || skip "ss is missing (apt-get install iproute2)"

DOWNLOAD=$((2 << 20))
CLIENTS=20
IDLE_MS=1000
LIMIT_MS=$((IDLE_MS + 1000))
# Once every socket is gone or reset the port holds no send queue; a
# little room for a socket that is being torn down as the sample is taken.
TOLERANCE=65536
server_options="-R $DOWNLOAD"

# Sum of wmem_queued over the sockets of the server's port.
queued_bytes() {
    ss -tmnH state all "( sport = :$port )" 2>/dev/null |
        awk '{ if (match($0, /skmem:\([^)]*\)/)) {
                   m = substr($0, RSTART, RLENGTH)
                   if (match(m, /[(,]w[0-9]+/)) sum += substr(m, RSTART + 2, RLENGTH - 2)
               } }
             END { print sum + 0 }'
}

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# measure NAME: runs the never-reading clients against the server and
# samples the port's send queue until LIMIT_MS after they started. Sets
# peak, held (the last sample, at the limit) and back_ms (when the
# measure first came back to the baseline after its peak, or "never").
measure() {
    base=$(queued_bytes)
    "$LC_HOSTILE_DIR/hostile-clients" -p "$port" -m silent=1,flood=1 -n $CLIENTS -c $CLIENTS \
        -H 6000 -L 7000 -T 30 >"$tmp/$1.clients" 2>"$tmp/$1.clients-err" &
    clients_job=$!
    start=$(now_ms)
    peak=0 back_ms=never
    while :; do
        q=$(queued_bytes)
        t=$(($(now_ms) - start))
        echo "$t $q" >>"$tmp/$1.samples"
        [ "$q" -gt "$peak" ] && { peak=$q; back_ms=never; }
        [ "$back_ms" = never ] && [ "$peak" -gt $((base + TOLERANCE)) ] &&
            [ "$q" -le $((base + TOLERANCE)) ] && back_ms=$t
        [ "$t" -ge $LIMIT_MS ] && break
        sleep 0.1
    done
    held=$q
    if ! wait_bounded "$clients_job" 120; then
        not_ok "$1: the client driver had not ended after 120 s"
    elif [ "$waited_status" != 0 ]; then
        not_ok "$1: the client driver exited $waited_status: $(cat "$tmp/$1.clients-err")"
    fi
    say "$1: baseline $base bytes, peak $peak bytes, $held bytes held at $t ms (limit $LIMIT_MS ms), back to the baseline at $back_ms ms"
}

expect_filled() { # name
    [ "$peak" -ge $((CLIENTS * DOWNLOAD / 4)) ] ||
        not_ok "$1: the send queues never filled (peak $peak bytes): the clients test nothing"
}

expect_released() { # name
    [ "$held" -le $((base + TOLERANCE)) ] ||
        not_ok "$1: $held bytes of send queue still held $LIMIT_MS ms after the clients started (baseline $base)"
}

server_start stalled LINGERCLOSE_IDLE_TIMEOUT=${IDLE_MS}ms LINGERCLOSE_TIMEOUT=20s LINGERCLOSE_LOG=info
measure stalled
expect_filled stalled
expect_released stalled
server_stop
say "library summary: $(sed -n 's/.*summary: //p' "$tmp/stalled.err")"
stalled=$(summary_counter stalled)
[ "${stalled:-0}" -gt 0 ] || not_ok "no drain ended as stalled"

# Room for about one download: the first close lingers, those that would
# go beyond the bound close plainly.
server_start capped LINGERCLOSE_IDLE_TIMEOUT=${IDLE_MS}ms LINGERCLOSE_MAX_QUEUED=$((DOWNLOAD + DOWNLOAD / 2)) \
    LINGERCLOSE_LOG=info
clients capped -m silent=1 -n 8 -c 8 -H 1500 -L 5000 -T 30
server_stop
say "capped: library summary: $(sed -n 's/.*summary: //p' "$tmp/capped.err")"
grep -q 'LINGERCLOSE_MAX_QUEUED' "$tmp/capped.err" && not_ok "LINGERCLOSE_MAX_QUEUED was refused: $(cat "$tmp/capped.err")"
[ "$(summary_counter queue-cap)" -gt 0 ] 2>/dev/null || not_ok "capped: no close was plain for the queue bound"
[ "$(summary_counter lingering)" -gt 0 ] 2>/dev/null || not_ok "capped: no close lingered under the queue bound"

# Control: without the library the unread uploads reset the sockets at
# once, often before the first sample.
server_start plain LD_PRELOAD=
measure plain
expect_released plain
server_stop

[ "$failures" -eq 0 ] || exit 1
echo "PASS: clients that never read do not pin the server's memory"
