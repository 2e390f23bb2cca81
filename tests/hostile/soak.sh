#!/bin/sh
# SPDX-License-Identifier: MIT
# Soak: SOAK_CONNECTIONS connections (20000 in make check, a million in
# make soak) through an early-error server (hostile-server) under the
# library, from one epoll client driver with SOAK_CONCURRENCY connections
# open at once: normal requests and uploads answered early, with a share of
# every hostile kind (half-closing, resetting mid-drain, silent without a
# FIN, dripping, flooding). Bounds: idle 1 s, total 3 s, room for
# SOAK_PLACES lingering sockets: far more than the clients hold at once,
# since a drain thread that falls behind under load keeps sockets whose
# clients are long gone; a close that finds no place is plain and may cost
# an answer, which the delivery check would catch.
#
# Checks: the server neither crashes nor fails an accept(); every socket of
# its port is let go within the total cap + 1 s (sock_diag); every upload
# and every half-closing client gets its 413; resident memory sampled
# during the run stays within SOAK_RSS_MARGIN_KB of the post-warm-up
# baseline; descriptors (the server's and the drain thread's) and threads
# are back to the baseline at the end; and the library's counters (its
# stats file) agree with the server's own count of closes and add up.
set -u
. "$(dirname "$0")/../lib/hostile.sh"
hostile_setup

CONNECTIONS=${SOAK_CONNECTIONS:-20000}
CONCURRENCY=${SOAK_CONCURRENCY:-256}
TIME_LIMIT=${SOAK_TIME_LIMIT:-90}
PLACES=${SOAK_PLACES:-4096}
RSS_MARGIN_KB=${SOAK_RSS_MARGIN_KB:-4096}
BODY=${SOAK_BODY:-65536}
# Weights: per 10000 connections, interleaved. Flooders and dripping
# clients hold their drain for the whole cap (3 s), silent ones for the
# idle timeout: their shares keep the driver's slots mostly busy with
# short connections.
MIX=${SOAK_MIX:-normal=4500,early=4500,halfclose=500,rst=200,silent=100,drip=100,flood=1}
CAP_MS=3000
LIMIT_MS=$((CAP_MS + 1000))
stats_file="$tmp/stats.prom"

server_start soak LINGERCLOSE_IDLE_TIMEOUT=1s LINGERCLOSE_TIMEOUT=3s LINGERCLOSE_MAX_SOCKETS="$PLACES" \
    LINGERCLOSE_LOG=info LINGERCLOSE_STATS_FILE="$stats_file" LINGERCLOSE_STATS_INTERVAL=1s
say "server pid $server_pid on port $port; $CONNECTIONS connections, $CONCURRENCY at once, mix $MIX"

clients warmup -m normal=1,early=1 -n $((CONCURRENCY * 4)) -c "$CONCURRENCY" -b "$BODY" -s 16 -T 30
sleep 1.5 # these drains end at the clients' EOF, or else at the idle timeout
usage
base_fds=$fds base_drain_fds=$drain_fds base_threads=$threads base_rss_kb=$rss_kb
say "baseline after warm-up: fds $fds, drain thread fds $drain_fds, threads $threads, VmRSS $rss_kb kB"

watch_start soak $LIMIT_MS
started_at=$(date +%s)
"$LC_HOSTILE_DIR/hostile-clients" -p "$port" -m "$MIX" -n "$CONNECTIONS" -c "$CONCURRENCY" -b "$BODY" \
    -H 1500 -d 800 -r 50 -L 8000 -s 16 -T "$TIME_LIMIT" -P 30 >"$tmp/soak.clients"
clients_rc=$?
[ $clients_rc -eq 0 ] || not_ok "the client driver exited $clients_rc"
drains_settle "$base_drain_fds" $((LIMIT_MS / 1000 + 2)) ||
    not_ok "the drain thread still holds $((drain_fds - base_drain_fds)) socket(s)"
watch_stop
w="$tmp/soak.watch"
c="$tmp/soak.clients"
say "clients ($(field elapsed-ms "$c") ms, the drains' end $(($(date +%s) - started_at)) s after the start):"
grep -v '^elapsed' "$c"
say "server side: $(grep '^sockets' "$w")"

kill -0 "$server_pid" 2>/dev/null || not_ok "the server died"
over=$(field over-limit "$w" sockets)
[ "$over" = 0 ] || not_ok "$over socket(s) held longer than $LIMIT_MS ms (max $(field max-life-ms "$w" sockets) ms)"
max_rss_kb=$(field max-rss-kb "$w" sockets)
[ "$max_rss_kb" -le $((base_rss_kb + RSS_MARGIN_KB)) ] ||
    not_ok "VmRSS reached $max_rss_kb kB during the run, over the bound $((base_rss_kb + RSS_MARGIN_KB)) kB"
for kind in normal early halfclose; do
    started=$(field started "$c" $kind)
    [ -n "$started" ] || continue
    delivered=$(field delivered "$c" $kind)
    [ "$delivered" = "$started" ] || not_ok "$kind: $delivered responses delivered of $started"
done
[ "$(field outlived "$c" total)" = 0 ] || not_ok "some clients were still connected after 8 s"
[ "$(field connect-errors "$c" total)" = 0 ] || not_ok "some clients could not connect"

sleep 1.1 # a fresh stats file
usage
say "at the end: fds $fds, drain thread fds $drain_fds, threads $threads, VmRSS $rss_kb kB (max $max_rss_kb kB)"
expect_baseline
[ -f "$stats_file" ] && cp "$stats_file" "$tmp/final.prom"

server_stop
say "server: $(sed -n 2p "$tmp/soak.out")"
[ "$server_rc" = 0 ] || not_ok "the server exited $server_rc"
[ "$(field accept-errors "$tmp/soak.out")" = 0 ] || not_ok "the server's accept() failed"
served=$(field served "$tmp/soak.out")
expected=$(($(field started "$c" total) + CONCURRENCY * 4 - $(field connect-errors "$c" total)))
[ "$served" = "$expected" ] || not_ok "the server served $served connections, the clients made $expected"

# The library's counters, from its stats file as it stood before the
# server ended (nothing was closed after it).
f="$tmp/final.prom"
if [ -f "$f" ]; then
    sum() { awk -v m="$1" '$1 ~ "^" m "[{]" { s += $2 } END { printf "%.0f\n", s }' "$f"; }
    closes=$(stats_value "$f" lingerclose_closes_total)
    lingering=$(sum lingerclose_lingering_closes_total)
    plain=$(sum lingerclose_plain_closes_total)
    ended=$(sum lingerclose_drains_ended_total)
    now_lingering=$(stats_value "$f" lingerclose_lingering_sockets)
    capacity=$(stats_value "$f" lingerclose_capacity_fallbacks_total)
    server_closes=$(field closes "$tmp/soak.out")
    say "stats file: closes $closes (server: $server_closes), lingering $lingering, plain $plain," \
        "drains ended $ended, lingering now $now_lingering, capacity fallbacks $capacity"
    say "  $(grep -E '^lingerclose_(lingering_closes|drains_ended)_total' "$f" |
        sed 's/{pid="[0-9]*",/{/' | tr '\n' ' ')"
    [ "$closes" = "$server_closes" ] || not_ok "the library counted $closes closes, the server made $server_closes"
    [ $((lingering + plain)) = "$closes" ] || not_ok "lingering $lingering + plain $plain != closes $closes"
    [ "$ended" = "$lingering" ] || not_ok "$ended drains ended of $lingering lingering closes"
    [ "$now_lingering" = 0 ] || not_ok "the library still counts $now_lingering lingering sockets"
    plain_capacity=$(stats_value "$f" lingerclose_plain_closes_total 'reason="capacity"')
    [ "$capacity" = "$plain_capacity" ] ||
        not_ok "capacity fallbacks $capacity, plain closes for capacity $plain_capacity"
    # Each hostile kind ends its drain its own way: a reset in an error,
    # silent, dripping and flooding clients in a timeout (never an EOF);
    # those whose close found no place did not linger at all, and a reset
    # that came before the server's close (its answer's write may have
    # failed, or not) made that close a plain one ("not-connected").
    rst_started=$(field started "$c" rst)
    rst_started=${rst_started:-0}
    early_resets=$(stats_value "$f" lingerclose_plain_closes_total 'reason="not-connected"')
    error_ends=$(stats_value "$f" lingerclose_drains_ended_total 'end="error"')
    [ "$error_ends" -le "$rst_started" ] && [ "$error_ends" -ge $((rst_started - capacity - early_resets)) ] ||
        not_ok "$error_ends drains ended in an error for $rst_started resetting clients" \
            "($capacity capacity fallbacks, $early_resets resets before the close)"
    holders=0
    for kind in silent drip flood; do
        n=$(field started "$c" $kind)
        holders=$((holders + ${n:-0}))
    done
    timeouts=$(($(stats_value "$f" lingerclose_drains_ended_total 'end="idle-timeout"') +
        $(stats_value "$f" lingerclose_drains_ended_total 'end="total-timeout"')))
    [ "$timeouts" -ge $((holders - capacity)) ] || not_ok "$timeouts drains timed out for $holders silent, dripping and flooding clients"
    early=$(field started "$c" early)
    [ "$lingering" -ge "${early:-0}" ] || not_ok "only $lingering lingering closes for $early early errors"
else
    say "no stats file: this library does not write one (LINGERCLOSE_STATS_FILE); counters not compared"
fi

[ "$failures" -eq 0 ] || exit 1
echo "PASS: soak of $CONNECTIONS connections"
