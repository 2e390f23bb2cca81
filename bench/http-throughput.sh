#!/bin/bash
# SPDX-License-Identifier: MIT
# Real server throughput: wrk against private nginx
# instances on loopback (bench/nginx.conf.in), serving one small static file:
#   nolib          lingering_close off, no library
#   lib            lingering_close off, LD_PRELOAD=$LC_LIBRARY (on nginx only)
#   nginx_linger   lingering_close on (nginx's default: it lingers when it
#                  knows the client may still send), no library
#   nginx_always   lingering_close always (nginx lingers on every close, as
#                  the library does for these connections), no library, for
#                  reference
#   lib_sandbox    as lib, under a seccomp filter that allows every system
#   nolib_sandbox  call (tests/servers/seccomp-run, systemd's @known), so that the
#                  library's drain thread stays SCHED_OTHER; and nolib under
#                  the same filter, for what the filter costs by itself;
#                  only with HTTP_SANDBOX=1 (see bench/close-cost-sandbox.sh)
#   lib_sandbox_batch  as lib_sandbox, nginx SCHED_BATCH as a whole (chrt -b
#                  0 inside the filter, a unit's CPUSchedulingPolicy=batch):
#                  the drain thread inherits SCHED_BATCH
# Two loads: "close" (a new connection per request, wrk -H 'Connection:
# close') and "keepalive", each at every number of connections of
# HTTP_CONNECTIONS. The servers run side by side for the whole item; each
# round runs every load and number of connections against every server, in
# an order that rotates from round to round. Figures are medians over the
# rounds with the min-max spread; a ratio is taken within each round (same
# conditions), and the median of the per-round ratios is reported. Also the
# CPU time (user + system, /proc/PID/stat) nginx's workers spent per
# request, split into nginx's own threads and the library's drain thread
# (the thread named "lingerclose", /proc/PID/task/TID/stat): the cost
# itself, less sensitive than req/s to whatever else the machine runs.
#
#   LC_LIBRARY=/path/to/liblingerclose.so bench/http-throughput.sh [--quick]
#
# Environment: LC_LIBRARY (required), BENCH_OUT (directory for
# NAME.dat, optional), HTTP_NAME (prefix of the RESULT names and of the
# .dat file, http), HTTP_ROUNDS (5; --quick 2), HTTP_DURATION (seconds per
# wrk run, 3; --quick 1), HTTP_WORKERS (nginx worker_processes, 1),
# HTTP_WRK_THREADS (1), HTTP_CONNECTIONS (wrk's connections, a list: "50 500"),
# HTTP_SANDBOX (1: add lib_sandbox, nolib_sandbox and lib_sandbox_batch;
# needs LC_SECCOMP_RUN, systemd-analyze and chrt).
# Needs nginx (Debian: nginx-light), wrk, ss (iproute2). RESULT lines on
# stdout, progress on stderr. About 3 minutes; --quick about 30 s.
set -u

here=$(cd "$(dirname "$0")" && pwd)
me=http-throughput
. "$here/common.sh"
bench_init "$@"
bench_require_tools "apt-get install nginx-light wrk iproute2" nginx wrk ss

bench_rounds HTTP
workers=${HTTP_WORKERS:-1}
threads=${HTTP_WRK_THREADS:-1}
conns_list=${HTTP_CONNECTIONS:-50 500}
name=${HTTP_NAME:-http}
loads="close keepalive"
declare -A configs=([close]="nolib lib nginx_linger nginx_always" [keepalive]="nolib lib nginx_linger nginx_always")
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

# CPU time (user + system, clock ticks) of an instance's workers:
# "all_threads drain_thread". stat's fields 14 and 15 count every thread of
# the process; the drain thread is the one the library names "lingerclose".
worker_ticks() {
    local pid task all=0 drain=0
    for pid in $(nginx_workers "$1"); do
        all=$((all + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
        for task in /proc/"$pid"/task/*; do
            [ "$(cat "$task/comm" 2>/dev/null)" = lingerclose ] || continue
            drain=$((drain + $(awk '{ print $14 + $15 }' "$task/stat" 2>/dev/null || echo 0)))
        done
    done
    echo "$all $drain"
}

# run_wrk CONFIG LOAD CONNECTIONS SECONDS
#   -> "rps p50_us p99_us errors cpu_us_per_request drain_cpu_us_per_request"
run_wrk() {
    local config=$1 load=$2 conns=$3 secs=$4 hdr=() out t0 t1
    [ "$load" = close ] && hdr=(-H 'Connection: close')
    t0=$(worker_ticks "$config")
    out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 5s "${hdr[@]}" \
        -s "$tmp/report.lua" "http://127.0.0.1:${nginx_port[$config]}/" 2>&1 | grep '^WRK ')
    t1=$(worker_ticks "$config")
    if [ -z "$out" ]; then
        log "wrk failed against $config"
        echo "0 0 0 -1 0 0"
        return
    fi
    echo "$out $t0 $t1" | awk -v hz="$hz" '{
        per_req = $2 > 0 ? 1e6 / hz / $2 : 0
        printf "%.1f %d %d %d %.2f %.2f\n", $2 * 1e6 / $3, $4, $5, $6 + $7 + $8 + $9 + $10,
            ($13 - $11) * per_req, ($14 - $12) * per_req }'
}


log "nginx $(nginx -v 2>&1 | sed 's/.*version: //'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')," \
    "$workers worker(s); wrk -t$threads -c{${conns_list// /,}} -d${duration}s; $rounds rounds"
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
            run_wrk $c $l "${conns_list%% *}" 1 >/dev/null
        done
    done
fi

declare -A rps p50 p99 cpu drain_cpu nginx_cpu errs
for r in $(seq "$rounds"); do
    for l in $loads; do
        for k in $conns_list; do
            list=(${configs[$l]})
            n=${#list[@]}
            for i in $(seq 0 $((n - 1))); do
                c=${list[$(((i + r) % n))]}
                set -- $(run_wrk $c $l "$k" "$duration")
                rps[$c,$l,$k,$r]=$1
                p50[$c,$l,$k,$r]=$2
                p99[$c,$l,$k,$r]=$3
                errs[$c,$l,$k]=$((${errs[$c,$l,$k]:-0} + $4))
                cpu[$c,$l,$k,$r]=$5
                drain_cpu[$c,$l,$k,$r]=$6
                nginx_cpu[$c,$l,$k,$r]=$(awk -v a="$5" -v b="$6" 'BEGIN { printf "%.2f", a - b }')
                log "round $r/$rounds $l c$k $c: $1 req/s, p50 $2 us, p99 $3 us," \
                    "$5 us CPU/request ($6 drain thread), errors $4"
            done
        done
    done
done

# Results.
bench_dat "$name.dat"
{
    echo "# nginx $workers worker(s), wrk -t$threads -d${duration}s, $rounds rounds; req/s median min max; latency and CPU medians"
    echo "# config load connections rps_median rps_min rps_max p50_us p99_us cpu_us_per_req nginx_cpu_us_per_req drain_cpu_us_per_req"
} >"$dat"
for l in $loads; do
    for k in $conns_list; do
        note="median of $rounds rounds of wrk -t$threads -c$k -d${duration}s"
        for c in ${configs[$l]}; do
            key=$c,$l,$k
            tag=${c}_${l}_c$k
            read -r med lo hi < <(series rps "$key" | stats)
            read -r m50 _ _ < <(series p50 "$key" | stats)
            read -r m99 lo99 hi99 < <(series p99 "$key" | stats)
            read -r mcpu locpu hicpu < <(series cpu "$key" | stats)
            read -r mngx longx hingx < <(series nginx_cpu "$key" | stats)
            read -r mdrn lodrn hidrn < <(series drain_cpu "$key" | stats)
            printf 'RESULT %s_rps_%s %.0f req/s %s, spread %.0f-%.0f, wrk errors %d\n' \
                "$name" "$tag" "$med" "$note" "$lo" "$hi" "${errs[$key]}"
            printf 'RESULT %s_p50_%s %.0f us median of %d\n' "$name" "$tag" "$m50" "$rounds"
            printf 'RESULT %s_p99_%s %.0f us median of %d, spread %.0f-%.0f\n' \
                "$name" "$tag" "$m99" "$rounds" "$lo99" "$hi99"
            printf 'RESULT %s_cpu_per_req_%s %.1f us nginx workers CPU time (user+sys) per request, all threads, median of %d, spread %.1f-%.1f\n' \
                "$name" "$tag" "$mcpu" "$rounds" "$locpu" "$hicpu"
            printf 'RESULT %s_nginx_cpu_per_req_%s %.1f us the same without the drain thread, median of %d, spread %.1f-%.1f\n' \
                "$name" "$tag" "$mngx" "$rounds" "$longx" "$hingx"
            [ "$c" = lib ] &&
                printf 'RESULT %s_drain_cpu_per_req_%s %.2f us the library'"'"'s drain thread CPU time (user+sys) per request, median of %d, spread %.2f-%.2f\n' \
                    "$name" "$tag" "$mdrn" "$rounds" "$lodrn" "$hidrn"
            printf '%s %s %s %.0f %.0f %.0f %.0f %.0f %.1f %.1f %.2f\n' \
                "$c" "$l" "$k" "$med" "$lo" "$hi" "$m50" "$m99" "$mcpu" "$mngx" "$mdrn" >>"$dat"
        done
    done
done
# ratio NAME ARRAY KEY_A KEY_B [TARGET] -> median over rounds of A/B
ratio() {
    local name=$1 arr=$2 a=$3 b=$4 target=${5:-} med lo hi
    read -r med lo hi < <(round_ratios "$arr" "$a" "$b")
    printf 'RESULT %s %.3f x median of %d per-round ratios, spread %.3f-%.3f%s\n' \
        "$name" "$med" "$rounds" "$lo" "$hi" "$(verdict "$med" "$target")"
}
for l in $loads; do
    for k in $conns_list; do
        ratio ${name}_ratio_lib_vs_nginx_linger_${l}_c$k rps lib,$l,$k nginx_linger,$l,$k 0.98
        ratio ${name}_ratio_lib_vs_nolib_${l}_c$k rps lib,$l,$k nolib,$l,$k 0.97
        ratio ${name}_ratio_lib_vs_nginx_always_${l}_c$k rps lib,$l,$k nginx_always,$l,$k
        ratio ${name}_ratio_cpu_lib_vs_nolib_${l}_c$k cpu lib,$l,$k nolib,$l,$k
        ratio ${name}_ratio_cpu_lib_vs_nginx_linger_${l}_c$k cpu lib,$l,$k nginx_linger,$l,$k
        if [ "$sandbox" = 1 ]; then
            ratio ${name}_ratio_lib_sandbox_vs_lib_${l}_c$k rps lib_sandbox,$l,$k lib,$l,$k
            ratio ${name}_ratio_cpu_lib_sandbox_vs_lib_${l}_c$k cpu lib_sandbox,$l,$k lib,$l,$k
            ratio ${name}_ratio_nolib_sandbox_vs_nolib_${l}_c$k rps nolib_sandbox,$l,$k nolib,$l,$k
            ratio ${name}_ratio_lib_sandbox_batch_vs_lib_${l}_c$k rps lib_sandbox_batch,$l,$k lib,$l,$k
            ratio ${name}_ratio_cpu_lib_sandbox_batch_vs_lib_${l}_c$k cpu lib_sandbox_batch,$l,$k lib,$l,$k
            ratio ${name}_ratio_cpu_nolib_sandbox_vs_nolib_${l}_c$k cpu nolib_sandbox,$l,$k nolib,$l,$k
        fi
    done
done

# What the library did in the "lib" instance (its summary, printed when
# nginx's processes exit).
nginx_stop lib
lingering_summary ${name}_lib_lingering_closes "seen by the library in the lib instance (all runs)" \
    "$tmp/lib/error.log" "$tmp/lib/stderr"
