#!/bin/bash
# SPDX-License-Identifier: MIT
# Real server throughput (issue 4, item 2): wrk against private nginx
# instances on loopback (bench/nginx.conf.in), serving one small static file:
#   nolib          lingering_close off, no library
#   lib            lingering_close off, LD_PRELOAD=$LC_LIBRARY (on nginx only)
#   nginx_linger   lingering_close on (nginx's default: it lingers when it
#                  knows the client may still send), no library
#   nginx_always   lingering_close always (nginx lingers on every close, as
#                  the library does for these connections), no library;
#                  "close" load only, for reference
#   lib_sandbox    as lib, under a seccomp filter that allows every system
#   nolib_sandbox  call (tests/servers/seccomp-run, systemd's @known), so that the
#                  library's drain thread stays SCHED_OTHER; and nolib under
#                  the same filter, for what the filter costs by itself;
#                  only with HTTP_SANDBOX=1 (see bench/close-cost-sandbox.sh)
#   lib_sandbox_batch  as lib_sandbox, nginx SCHED_BATCH as a whole (chrt -b
#                  0 inside the filter, a unit's CPUSchedulingPolicy=batch):
#                  the drain thread inherits SCHED_BATCH
# Two loads: "close" (a new connection per request, wrk -H 'Connection:
# close') and "keepalive". The servers run side by side for the whole item;
# each round runs every load against every server, in an order that rotates
# from round to round. Figures are medians over the rounds with the min-max
# spread; a ratio is taken within each round (same conditions), and the
# median of the per-round ratios is reported. Also the CPU time nginx's
# workers (all their threads, the library's drain thread included) spent
# per request: the cost itself, less sensitive than req/s to whatever else
# the machine runs.
#
#   LC_LIBRARY=/path/to/liblingerclose.so bench/http-throughput.sh [--quick]
#
# Environment: LC_LIBRARY (required), BENCH_OUT (directory for
# http-throughput.dat, optional), HTTP_ROUNDS (5; --quick 2),
# HTTP_DURATION (seconds per wrk run, 3; --quick 1), HTTP_WORKERS (nginx
# worker_processes, 1), HTTP_WRK_THREADS (1), HTTP_WRK_CONNECTIONS (50),
# HTTP_SANDBOX (1: add lib_sandbox, nolib_sandbox and lib_sandbox_batch;
# needs LC_SECCOMP_RUN, systemd-analyze and chrt).
# Needs nginx (Debian: nginx-light), wrk, ss (iproute2). RESULT lines on
# stdout, progress on stderr. About 2 minutes; --quick about 15 s.
set -u

here=$(cd "$(dirname "$0")" && pwd)
me=http-throughput
. "$here/common.sh"
bench_init "$@"
bench_require_tools "apt-get install nginx-light wrk iproute2" nginx wrk ss

bench_rounds HTTP
workers=${HTTP_WORKERS:-1}
threads=${HTTP_WRK_THREADS:-1}
conns=${HTTP_WRK_CONNECTIONS:-50}
loads="close keepalive"
declare -A configs=([close]="nolib lib nginx_linger nginx_always" [keepalive]="nolib lib nginx_linger")
sandbox=${HTTP_SANDBOX:-0}
if [ "$sandbox" = 1 ]; then
    bench_require_seccomp_run
    bench_require_tools "apt-get install systemd" systemd-analyze
    configs[close]+=" lib_sandbox nolib_sandbox lib_sandbox_batch"
    configs[keepalive]+=" lib_sandbox nolib_sandbox lib_sandbox_batch"
fi

bench_nginx_tmpdir bench-http
at_exit 'nginx_stop_all 2>/dev/null'
hz=$(getconf CLK_TCK)

cat >"$tmp/report.lua" <<'LUA'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "WRK %d %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.status, e.timeout))
end
LUA

# CPU time (clock ticks) of an instance's workers, all threads.
worker_ticks() {
    local pid sum=0
    for pid in $(nginx_workers "$1"); do
        sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo $sum
}

# run_wrk CONFIG LOAD SECONDS -> "rps p50_us p99_us errors cpu_us_per_request"
run_wrk() {
    local config=$1 load=$2 secs=$3 hdr=() out t0 t1
    [ "$load" = close ] && hdr=(-H 'Connection: close')
    t0=$(worker_ticks "$config")
    out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 5s "${hdr[@]}" \
        -s "$tmp/report.lua" "http://127.0.0.1:${nginx_port[$config]}/" 2>&1 | grep '^WRK ')
    t1=$(worker_ticks "$config")
    if [ -z "$out" ]; then
        log "wrk failed against $config"
        echo "0 0 0 -1 0"
        return
    fi
    echo "$out" | awk -v ticks=$((t1 - t0)) -v hz="$hz" '{
        printf "%.1f %d %d %d %.2f\n", $2 * 1e6 / $3, $4, $5, $6 + $7 + $8 + $9 + $10,
            ($2 > 0 ? ticks / hz * 1e6 / $2 : 0) }'
}


log "nginx $(nginx -v 2>&1 | sed 's/.*version: //'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')," \
    "$workers worker(s); wrk -t$threads -c$conns -d${duration}s; $rounds rounds"
nginx_start nolib "$tmp/nolib" off 1m "$workers"
nginx_start lib "$tmp/lib" off 1m "$workers" "$LC_LIBRARY"
nginx_start nginx_linger "$tmp/nginx_linger" on 1m "$workers"
nginx_start nginx_always "$tmp/nginx_always" always 1m "$workers"
if [ "$sandbox" = 1 ]; then
    systemd-analyze syscall-filter @known | sed -n '2,$s/^ *\([^ #]\)/\1/p' >"$tmp/known.allow"
    nginx_start lib_sandbox "$tmp/lib_sandbox" off 1m "$workers" "$LC_LIBRARY" \
        "$LC_SECCOMP_RUN" --allow-file "$tmp/known.allow" --
    nginx_start nolib_sandbox "$tmp/nolib_sandbox" off 1m "$workers" "" \
        "$LC_SECCOMP_RUN" --allow-file "$tmp/known.allow" --
    nginx_start lib_sandbox_batch "$tmp/lib_sandbox_batch" off 1m "$workers" "$LC_LIBRARY" \
        "$LC_SECCOMP_RUN" --allow-file "$tmp/known.allow" -- chrt -b 0
fi
log "ports: nolib ${nginx_port[nolib]}, lib ${nginx_port[lib]}," \
    "nginx_linger ${nginx_port[nginx_linger]}, nginx_always ${nginx_port[nginx_always]}"

# Warm-up (page cache, lazy binding, the library's drain thread): discarded.
if [ $quick = 0 ]; then
    for l in $loads; do
        for c in ${configs[$l]}; do
            run_wrk $c $l 1 >/dev/null
        done
    done
fi

declare -A rps p50 p99 cpu errs
for r in $(seq "$rounds"); do
    for l in $loads; do
        list=(${configs[$l]})
        n=${#list[@]}
        for i in $(seq 0 $((n - 1))); do
            c=${list[$(((i + r) % n))]}
            set -- $(run_wrk $c $l "$duration")
            rps[$c,$l,$r]=$1
            p50[$c,$l,$r]=$2
            p99[$c,$l,$r]=$3
            errs[$c,$l]=$((${errs[$c,$l]:-0} + $4))
            cpu[$c,$l,$r]=$5
            log "round $r/$rounds $l $c: $1 req/s, p50 $2 us, p99 $3 us, $5 us CPU/request, errors $4"
        done
    done
done

# Results.
bench_dat http-throughput.dat
{
    echo "# nginx $workers worker(s), wrk -t$threads -c$conns -d${duration}s, $rounds rounds; req/s median min max; latency and CPU medians"
    echo "# config load rps_median rps_min rps_max p50_us p99_us cpu_us_per_req"
} >"$dat"
note="median of $rounds rounds of wrk -t$threads -c$conns -d${duration}s"
for l in $loads; do
    for c in ${configs[$l]}; do
        read -r med lo hi < <(series rps "$c,$l" | stats)
        read -r m50 _ _ < <(series p50 "$c,$l" | stats)
        read -r m99 lo99 hi99 < <(series p99 "$c,$l" | stats)
        read -r mcpu locpu hicpu < <(series cpu "$c,$l" | stats)
        printf 'RESULT http_rps_%s_%s %.0f req/s %s, spread %.0f-%.0f, wrk errors %d\n' \
            "$c" "$l" "$med" "$note" "$lo" "$hi" "${errs[$c,$l]}"
        printf 'RESULT http_p50_%s_%s %.0f us median of %d\n' "$c" "$l" "$m50" "$rounds"
        printf 'RESULT http_p99_%s_%s %.0f us median of %d, spread %.0f-%.0f\n' \
            "$c" "$l" "$m99" "$rounds" "$lo99" "$hi99"
        printf 'RESULT http_cpu_per_req_%s_%s %.1f us nginx workers CPU time per request, median of %d, spread %.1f-%.1f\n' \
            "$c" "$l" "$mcpu" "$rounds" "$locpu" "$hicpu"
        printf '%s %s %.0f %.0f %.0f %.0f %.0f %.1f\n' "$c" "$l" "$med" "$lo" "$hi" "$m50" "$m99" "$mcpu" >>"$dat"
    done
done
# ratio NAME ARRAY LOAD A B [TARGET] -> median over rounds of A/B
ratio() {
    local name=$1 arr=$2 l=$3 a=$4 b=$5 target=${6:-} med lo hi
    read -r med lo hi < <(round_ratios "$arr" "$a,$l" "$b,$l")
    printf 'RESULT %s %.3f x median of %d per-round ratios, spread %.3f-%.3f%s\n' \
        "$name" "$med" "$rounds" "$lo" "$hi" "$(verdict "$med" "$target")"
}
for l in $loads; do
    ratio http_ratio_lib_vs_nginx_linger_$l rps $l lib nginx_linger 0.98
    ratio http_ratio_lib_vs_nolib_$l rps $l lib nolib 0.97
done
ratio http_ratio_lib_vs_nginx_always_close rps close lib nginx_always
if [ "$sandbox" = 1 ]; then
    for l in $loads; do
        ratio http_ratio_lib_sandbox_vs_lib_$l rps $l lib_sandbox lib
        ratio http_ratio_cpu_lib_sandbox_vs_lib_$l cpu $l lib_sandbox lib
        ratio http_ratio_nolib_sandbox_vs_nolib_$l rps $l nolib_sandbox nolib
        ratio http_ratio_lib_sandbox_batch_vs_lib_$l rps $l lib_sandbox_batch lib
        ratio http_ratio_cpu_lib_sandbox_batch_vs_lib_$l cpu $l lib_sandbox_batch lib
        ratio http_ratio_cpu_nolib_sandbox_vs_nolib_$l cpu $l nolib_sandbox nolib
    done
fi
ratio http_ratio_cpu_lib_vs_nolib_close cpu close lib nolib
ratio http_ratio_cpu_lib_vs_nolib_keepalive cpu keepalive lib nolib

# What the library did in the "lib" instance (its summary, printed when
# nginx's processes exit).
nginx_stop lib
lingering_summary http_lib_lingering_closes "seen by the library in the lib instance (all runs)" \
    "$tmp/lib/error.log" "$tmp/lib/stderr"
