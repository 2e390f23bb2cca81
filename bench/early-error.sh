#!/bin/bash
# SPDX-License-Identifier: MIT
# The load lingering exists for: bench/early-error-load
# (C clients uploading a body that gets an early 413, write-then-read)
# against five servers on loopback, counting the responses correctly
# received per second:
#   ee_nolib        examples/early-error-server (one connection at a time,
#                   reads 1 KiB, answers 413, close()), no library
#   ee_lib          the same binary with LD_PRELOAD=$LC_LIBRARY
#   nginx_linger    nginx, client_max_body_size 1k, lingering_close on
#                   (its own lingering close), no library
#   prefork_linger  bench/prefork-server -m linger: 4 processes, each doing
#                   Apache's blocking lingering close in process
#                   (shutdown(SHUT_WR), read until EOF / 2 s idle / 30 s)
#   prefork_lib     bench/prefork-server -m close (plain close) with the
#                   library
# The servers run side by side for the whole item; each round loads every
# server once, in an order that rotates from round to round. Figures are
# medians over the rounds with the min-max spread; ratios are taken within
# each round and their median reported.
#
#   LC_LIBRARY=/path/to/liblingerclose.so bench/early-error.sh [--quick]
#
# Environment: LC_LIBRARY (required), BENCH_OUT (directory for
# early-error.dat, optional), CC (cc), EARLY_ROUNDS (5; --quick 2),
# EARLY_DURATION (seconds per run, 3; --quick 1), EARLY_CLIENTS (64),
# EARLY_BODY (bytes, 262144), EARLY_CHUNK (16384), EARLY_INTERVAL_US (1000:
# with 16 KiB chunks, 16 MB/s per client), EARLY_SNDBUF (the clients'
# SO_SNDBUF, 32768: the body then flows at the client's pace, as over a
# network, instead of vanishing at once into loopback's 4 MB send buffers),
# EARLY_PREFORK_WORKERS (4), HTTP_WORKERS (nginx worker_processes, 1).
# Needs a C compiler, nginx (Debian: nginx-light), ss (iproute2). RESULT
# lines on stdout, progress on stderr. About 90 s; --quick about 15 s.
set -u

here=$(cd "$(dirname "$0")" && pwd)
me=early-error
. "$here/common.sh"
bench_init "$@"
bench_require_tools "apt-get install nginx-light iproute2 gcc" nginx ss "${CC:-cc}"

bench_rounds EARLY
clients=${EARLY_CLIENTS:-64}
body=${EARLY_BODY:-262144}
chunk=${EARLY_CHUNK:-16384}
interval=${EARLY_INTERVAL_US:-1000}
sndbuf=${EARLY_SNDBUF:-32768}
prefork_workers=${EARLY_PREFORK_WORKERS:-4}
nginx_workers=${HTTP_WORKERS:-1}
configs=(ee_nolib ee_lib nginx_linger prefork_linger prefork_lib)

bench_nginx_tmpdir bench-early
declare -A server_pids server_port
stop_servers() {
    local c
    for c in "${!server_pids[@]}"; do
        kill -TERM "${server_pids[$c]}" 2>/dev/null
    done
    for c in "${!server_pids[@]}"; do
        wait "${server_pids[$c]}" 2>/dev/null
    done
    nginx_stop_all 2>/dev/null
}
at_exit stop_servers

build() { # build NAME SOURCE [CFLAGS...]
    local name=$1 source=$2
    shift 2
    "${CC:-cc}" -O2 -Wall -Wextra -std=gnu11 -pthread -I"$here/.." "$@" -o "$tmp/$name" "$source" \
        "$here/../progs/progs.c" ||
        { log "cannot build $source"; exit 1; }
}
build early-error-load "$here/early-error-load.c"
build prefork-server "$here/prefork-server.c"
build early-error-server "$here/../examples/early-error-server.c"

# start_server NAME PRELOAD(0|1) COMMAND... : the server prints
# "listening on 127.0.0.1:PORT". SIGPIPE is ignored for it (a client cut
# at the deadline must not kill examples/early-error-server mid-write).
start_server() {
    local name=$1 preload=$2
    shift 2
    if [ "$preload" = 1 ]; then
        (trap '' PIPE; LD_PRELOAD="$LC_LIBRARY" LINGERCLOSE_LOG=info exec "$@") \
            >"$tmp/$name.out" 2>"$tmp/$name.err" &
    else
        (trap '' PIPE; exec "$@") >"$tmp/$name.out" 2>"$tmp/$name.err" &
    fi
    server_pids[$name]=$!
    if wait_ready "$tmp/$name.out" "${server_pids[$name]}"; then
        server_port[$name]=$port
        return 0
    fi
    log "$name did not start:"
    cat "$tmp/$name.err" >&2
    exit 1
}

start_server ee_nolib 0 "$tmp/early-error-server"
start_server ee_lib 1 "$tmp/early-error-server"
start_server prefork_linger 0 "$tmp/prefork-server" -w "$prefork_workers" -m linger
start_server prefork_lib 1 "$tmp/prefork-server" -w "$prefork_workers" -m close
nginx_start nginx_linger "$tmp/nginx" on 1k "$nginx_workers"
server_port[nginx_linger]=${nginx_port[nginx_linger]}
log "$clients clients, $body-byte bodies in $chunk-byte chunks every $interval us," \
    "SO_SNDBUF $sndbuf; ${duration} s per run, $rounds rounds; nginx $nginx_workers worker(s)," \
    "prefork $prefork_workers workers"

# run CONFIG -> "correct attempts seconds rate reset pipe timeout other wrong p50 p99"
run() {
    local out
    out=$("$tmp/early-error-load" -p "${server_port[$1]}" -c "$clients" -d "$duration" -s "$body" \
        -k "$chunk" -i "$interval" -b "$sndbuf" 2>/dev/null | sed -n 's/^EARLY //p')
    echo "${out:-0 0 $duration 0 0 0 0 0 0 0 0}"
    # Let what the cut left behind (lingering workers, drains) end.
    sleep 0.3
}

declare -A rate attempts correct lost p50 p99
n=${#configs[@]}
for r in $(seq "$rounds"); do
    for i in $(seq 0 $((n - 1))); do
        c=${configs[$(((i + r) % n))]}
        read -r ok tries _ rt reset pipe tmo other wrong l50 l99 < <(run "$c")
        rate[$c,$r]=$rt
        p50[$c,$r]=$l50
        p99[$c,$r]=$l99
        correct[$c]=$((${correct[$c]:-0} + ok))
        attempts[$c]=$((${attempts[$c]:-0} + tries))
        lost[$c]=$((${lost[$c]:-0} + tries - ok))
        log "round $r/$rounds $c: $rt correct/s ($ok of $tries; lost: reset $reset, broken pipe $pipe," \
            "timeout $tmo, other $other; not 413: $wrong), p50 $l50 ms, p99 $l99 ms"
    done
done

bench_dat early-error.dat
{
    echo "# $clients clients, $body-byte bodies ($chunk every $interval us, SO_SNDBUF $sndbuf), ${duration} s x $rounds rounds"
    echo "# config rate_median rate_min rate_max p50_ms p99_ms correct_fraction"
} >"$dat"
for c in "${configs[@]}"; do
    read -r med lo hi < <(series rate "$c" | stats)
    read -r m50 _ _ < <(series p50 "$c" | stats)
    read -r m99 _ _ < <(series p99 "$c" | stats)
    frac=$(awk -v a="${correct[$c]}" -v t="${attempts[$c]}" 'BEGIN { printf "%.4f", (t > 0 ? a / t : 0) }')
    printf 'RESULT early_rate_%s %.1f correct/s median of %d rounds, spread %.1f-%.1f; %d of %d responses received, p50 %.1f ms, p99 %.1f ms\n' \
        "$c" "$med" "$rounds" "$lo" "$hi" "${correct[$c]}" "${attempts[$c]}" "$m50" "$m99"
    printf 'RESULT early_correct_fraction_%s %s fraction of all %d exchanges\n' "$c" "$frac" "${attempts[$c]}"
    printf '%s %.1f %.1f %.1f %.2f %.2f %s\n' "$c" "$med" "$lo" "$hi" "$m50" "$m99" "$frac" >>"$dat"
done

# ratio NAME A B [TARGET [NOTE]] -> median over rounds of rate A / rate B
ratio() {
    local name=$1 a=$2 b=$3 target=${4:-} note=${5:-} med lo hi
    read -r med lo hi < <(round_ratios rate "$a" "$b")
    printf 'RESULT %s %.2f x median of %d per-round ratios %s/%s, spread %.2f-%.2f%s%s\n' \
        "$name" "$med" "$rounds" "$a" "$b" "$lo" "$hi" "$(verdict "$med" "$target")" "$note"
}
ratio early_ratio_prefork_lib_vs_prefork_linger prefork_lib prefork_linger 5
ratio early_ratio_prefork_lib_vs_nginx_linger prefork_lib nginx_linger "" \
    " (nginx's own lingering as the reference)"
ratio early_ratio_ee_lib_vs_nginx_linger ee_lib nginx_linger "" \
    " (a one-connection-at-a-time server with the library)"

# What the library did in prefork_lib (its workers print a summary as they
# exit).
kill -TERM "${server_pids[prefork_lib]}" 2>/dev/null
wait "${server_pids[prefork_lib]}" 2>/dev/null
unset "server_pids[prefork_lib]"
grep -h '^lingerclose.*summary' "$tmp/prefork_lib.err" | sed 's/^/early-error: prefork_lib: /' >&2
lingering_summary early_lib_lingering_closes "seen by the library in prefork_lib (all runs)" \
    "$tmp/prefork_lib.err"
