#!/bin/bash
# SPDX-License-Identifier: MIT
# Where TIME_WAIT lands: bench/timewait-load opens about 700
# connections a second from one client address (127.0.0.1), each a small
# POST with Connection: close, for longer than the 60 s a TIME_WAIT entry
# lives, against nginx (lingering_close off, `return 200` with a
# Content-Length) in three configurations:
#   nolib    no library
#   lib      the library with its defaults: the server's FIN goes at once
#   wait     the library with LINGERCLOSE_PEER_FIN_WAIT=$TW_WAIT: the
#            server holds its FIN back until the client has closed
# One after the other, each on a port of its own; every 5 s it counts the
# TIME_WAIT entries of the server's side (local port: nginx's) and of the
# client's side (remote port: nginx's) with `ss -tan state time-wait`, and
# reports their peak and their steady level (the mean of the samples after
# the first 60 s). Every response must arrive; the latency is reported.
#
# Then the latency of a response that ends at the close (no length: the
# client waits for the server's FIN) under each configuration, against
# Python's http.server (tests/integration/close-after-response.py), and
# the server's TIME_WAIT entries under the early-error load
# (bench/early-error-load against examples/early-error-server), where a
# plain close ends in a reset and so in no TIME_WAIT at all.
#
#   LC_LIBRARY=/path/to/liblingerclose.so bench/timewait.sh [--quick]
#
# Environment: LC_LIBRARY (required), BENCH_OUT (directory for
# timewait.dat, optional), CC (cc), TW_RATE (700), TW_DURATION (seconds per
# configuration, 75; --quick 10), TW_WAIT (the wait of "wait", 1s),
# TW_THREADS (the load's threads, 8), TW_CLOSE_RATE (close-delimited
# requests a second, 10), TW_EARLY_DURATION (seconds of early-error load,
# 5). Needs a C compiler, nginx (Debian: nginx-light), python3, ss
# (iproute2). RESULT lines on stdout, progress on stderr. About 4.5
# minutes; --quick about 1 minute.
set -u

here=$(cd "$(dirname "$0")" && pwd)
me=timewait
. "$here/common.sh"
bench_init "$@"
bench_require_tools "apt-get install nginx-light python3 iproute2 gcc" nginx python3 ss "${CC:-cc}"

rate=${TW_RATE:-700}
duration=${TW_DURATION:-75}
[ "$quick" = 1 ] && duration=${TW_DURATION:-10}
wait_for_peer=${TW_WAIT:-1s}
threads=${TW_THREADS:-8}
close_rate=${TW_CLOSE_RATE:-10}
early_duration=${TW_EARLY_DURATION:-5}
[ "$quick" = 1 ] && early_duration=${TW_EARLY_DURATION:-2}
sample_every=5
configs=(nolib lib wait)

bench_nginx_tmpdir bench-timewait
declare -A server_pids
stop_servers() {
    local c
    for c in "${!server_pids[@]}"; do
        kill -TERM "${server_pids[$c]}" 2>/dev/null
        wait "${server_pids[$c]}" 2>/dev/null
    done
    nginx_stop_all 2>/dev/null
}
at_exit stop_servers

build() { # build NAME SOURCE
    "${CC:-cc}" -O2 -Wall -Wextra -std=gnu11 -pthread -I"$here/.." -o "$tmp/$1" "$2" \
        "$here/../progs/progs.c" || { log "cannot build $2"; exit 1; }
}
build timewait-load "$here/timewait-load.c"
build early-error-load "$here/early-error-load.c"
build early-error-server "$here/../examples/early-error-server.c"

# with_config CONFIG COMMAND...: COMMAND with the configuration's
# environment (the library preloaded or not, the wait on or not).
with_config() {
    local config=$1
    shift
    case $config in
    nolib) env -u LD_PRELOAD "$@" ;;
    lib) env LD_PRELOAD="$LC_LIBRARY" LINGERCLOSE_LOG=info "$@" ;;
    wait) env LD_PRELOAD="$LC_LIBRARY" LINGERCLOSE_LOG=info LINGERCLOSE_PEER_FIN_WAIT="$wait_for_peer" "$@" ;;
    esac
}

# The servers' standard input: close-after-response.py ends when it
# closes, and this script's read-write descriptor keeps it open.
mkfifo "$tmp/stdin"
exec 4<>"$tmp/stdin"

# start_server NAME CONFIG COMMAND...: the server prints "listening on
# 127.0.0.1:PORT"; sets $port.
start_server() {
    local name=$1 config=$2
    shift 2
    (trap '' PIPE; with_config "$config" "$@") <"$tmp/stdin" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    server_pids[$name]=$!
    wait_ready "$tmp/$name.out" "${server_pids[$name]}" && return 0
    log "$name did not start:"
    cat "$tmp/$name.err" >&2
    exit 1
}

stop_server() {
    kill -TERM "${server_pids[$1]}" 2>/dev/null
    wait "${server_pids[$1]}" 2>/dev/null
    unset "server_pids[$1]"
}

server_tw() { ss -Htan state time-wait "( sport = :$1 )" | wc -l; }
client_tw() { ss -Htan state time-wait "( dport = :$1 )" | wc -l; }

bench_dat timewait.dat
{
    echo "# $rate new connections/s from 127.0.0.1, ${duration} s per configuration, wait $wait_for_peer"
    echo "# TIME_WAIT entries every ${sample_every} s; one block per configuration (gnuplot index)"
    echo "# seconds server_side client_side"
} >"$dat"

# ---- 1. the load of the report, length-delimited responses ----------------
log "$rate connections/s for ${duration} s per configuration (${configs[*]}), wait $wait_for_peer"
for c in "${configs[@]}"; do
    # nginx_start preloads nothing itself here: with_config does, so that
    # the three run the same nginx the same way.
    nginx_start "tw_$c" "$tmp/nginx_$c" off 1m 1 "" with_config "$c"
    p=${nginx_port[tw_$c]}
    "$tmp/timewait-load" -p "$p" -r "$rate" -d "$duration" -t "$threads" -u /post \
        >"$tmp/load_$c.out" 2>"$tmp/load_$c.err" &
    load=$!
    peak_s=0 peak_c=0 sum_s=0 sum_c=0 steady_n=0 t=0
    echo "# $c" >>"$dat"
    while kill -0 "$load" 2>/dev/null; do
        sleep "$sample_every"
        t=$((t + sample_every))
        s=$(server_tw "$p")
        k=$(client_tw "$p")
        echo "$t $s $k" >>"$dat"
        [ "$s" -gt "$peak_s" ] && peak_s=$s
        [ "$k" -gt "$peak_c" ] && peak_c=$k
        if [ "$t" -gt 60 ]; then
            sum_s=$((sum_s + s)) sum_c=$((sum_c + k)) steady_n=$((steady_n + 1))
        fi
    done
    wait "$load"
    printf '\n\n' >>"$dat"
    read -r ok tries refused lost l50 l99 lmax < <(sed -n 's/^TIMEWAIT //p' "$tmp/load_$c.out")
    nginx_stop "tw_$c"
    steady_s=-1 steady_c=-1
    if [ "$steady_n" -gt 0 ]; then
        steady_s=$((sum_s / steady_n)) steady_c=$((sum_c / steady_n))
    fi
    log "$c: ${ok:-0} of ${tries:-0} responses, $refused connects failed, $lost lost;" \
        "p50 $l50 ms, p99 $l99 ms, max $lmax ms; server TIME_WAIT peak $peak_s steady $steady_s;" \
        "client TIME_WAIT peak $peak_c steady $steady_c"
    printf 'RESULT timewait_server_peak_%s %d sockets server-side TIME_WAIT, peak of 5 s samples; steady (after 60 s) %d\n' \
        "$c" "$peak_s" "$steady_s"
    printf 'RESULT timewait_client_peak_%s %d sockets client-side TIME_WAIT, peak of 5 s samples; steady (after 60 s) %d\n' \
        "$c" "$peak_c" "$steady_c"
    printf 'RESULT timewait_responses_%s %s of %s responses at %s/s for %s s; %s connects failed, %s lost\n' \
        "$c" "${ok:-0}" "${tries:-0}" "$rate" "$duration" "${refused:-?}" "${lost:-?}"
    printf 'RESULT timewait_latency_%s %s ms p50 connect to last byte, Content-Length responses; p99 %s ms, max %s ms\n' \
        "$c" "${l50:-?}" "${l99:-?}" "${lmax:-?}"
done

# ---- 2. a response that ends at the close -----------------------------------
log "close-delimited responses, $close_rate/s for 5 s per configuration"
for c in "${configs[@]}"; do
    start_server "py_$c" "$c" python3 "$here/../tests/integration/close-after-response.py"
    read -r ok tries _ _ l50 l99 lmax < <("$tmp/timewait-load" -p "$port" -r "$close_rate" -d 5 \
        -t 16 -u /no-length 2>/dev/null | sed -n 's/^TIMEWAIT //p')
    stop_server "py_$c"
    log "$c: close-delimited ${ok:-0} of ${tries:-0} responses, p50 $l50 ms, p99 $l99 ms, max $lmax ms"
    printf 'RESULT timewait_close_delimited_latency_%s %s ms p50 connect to the close; p99 %s ms, max %s ms; %s of %s responses\n' \
        "$c" "${l50:-?}" "${l99:-?}" "${lmax:-?}" "${ok:-0}" "${tries:-0}"
done

# ---- 3. the early-error load --------------------------------------------------
log "early-error load, ${early_duration} s per configuration"
for c in "${configs[@]}"; do
    start_server "ee_$c" "$c" "$tmp/early-error-server"
    before=$(server_tw "$port")
    read -r ok tries _ < <("$tmp/early-error-load" -p "$port" -c 16 -d "$early_duration" -b 32768 \
        2>/dev/null | sed -n 's/^EARLY //p')
    sleep 2 # the drains that were still waiting end (or send their FIN)
    after=$(server_tw "$port")
    stop_server "ee_$c"
    log "$c: early-error ${ok:-0} of ${tries:-0} responses received; server TIME_WAIT $((after - before))"
    printf 'RESULT timewait_early_error_server_%s %d sockets server-side TIME_WAIT after %s early-error exchanges (%s responses received)\n' \
        "$c" "$((after - before))" "${tries:-0}" "${ok:-0}"
done
