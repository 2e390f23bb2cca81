#!/bin/bash
# SPDX-License-Identifier: MIT
# What a seccomp filter costs the lingering close(). Without a filter the
# library makes its drain thread SCHED_BATCH, so that a hand-off (the
# sendmsg of the socket inside the program's close()) does not let the
# woken drain thread preempt the program's thread in the middle of that
# close(). sched_setscheduler is in systemd's @resources group, which a
# sandboxed unit forbids on pain of death, so under any seccomp filter the
# library leaves the thread SCHED_OTHER. This measures the difference.
#
# Runs bench/close-cost (see its header) alternately without a filter
# ("open") and under tests/servers/seccomp-run with a filter that allows every
# system call systemd knows (@known, so the filter itself refuses nothing)
# in ABBA order, and reports for each mode the median and min-max over the
# runs of:
#   - the lingering close(), back to back and 100 us apart: p50 and p99 of
#     close-cost's library figures;
#   - controls, made without the library in the same runs: the plain
#     close() of the same sockets (a RST), and the lingering close's own
#     system calls timed one by one (peek, shutdown, sendmsg to a
#     SCHED_OTHER thread in both modes): what the filter's evaluation
#     costs by itself;
# and the per-pair ratio filter / open (median and min-max of the pairs).
# With SANDBOX_BATCH=1 a third mode, filter_batch, runs close-cost under
# the same filter and SCHED_BATCH as a whole (chrt -b 0 inside the filter),
# as a unit with CPUSchedulingPolicy=batch would: the drain thread then
# inherits SCHED_BATCH though the library does not ask for it. The order
# then rotates ABC, CBA.
# First, the policy the library's drain thread has in each mode is read
# from /proc (a shell with the library makes one socket, which starts the
# thread): 3 (SCHED_BATCH) is expected without the filter, 0 (SCHED_OTHER)
# under it, 3 in filter_batch; anything else fails the run (status 1).
#
#   LC_LIBRARY=/path/to/liblingerclose.so LC_SECCOMP_RUN=/path/to/tests/servers/seccomp-run \
#       bench/close-cost-sandbox.sh [--quick]
#
# Environment: LC_LIBRARY and LC_SECCOMP_RUN (required; seccomp-run is
# built by `make check TESTS=` when libseccomp-dev is installed),
# SANDBOX_PAIRS (pairs of runs, 6; --quick 2), SANDBOX_HOGS (processes
# that spin meanwhile, a busy machine: 0), SANDBOX_BATCH (1: add
# filter_batch; needs chrt, util-linux), CLOSE_COST (the close-cost
# program; else close-cost on PATH; else built here from close-cost.c),
# BENCH_OUT (a directory: every run's RESULT lines go to
# close-cost-sandbox.raw there). Each run is a full close-cost run (about
# 10 s here, 2 minutes in all), or a --quick one (2 s) with --quick. Needs
# systemd-analyze (Debian: systemd). RESULT lines on stdout, progress on
# stderr.
set -u

here=$(cd "$(dirname "$0")" && pwd)
me=close-cost-sandbox
. "$here/common.sh"
bench_init "$@"
export LC_LIBRARY
bench_require_tools "apt-get install systemd procps" systemd-analyze pgrep
bench_require_seccomp_run

if [ $quick = 1 ]; then
    pairs=${SANDBOX_PAIRS:-2}
    run_flags=--quick
else
    pairs=${SANDBOX_PAIRS:-6}
    run_flags=
fi
case $pairs in '' | *[!0-9]* | 0) echo "$me: SANDBOX_PAIRS must be a positive whole number, not '$pairs'" >&2; exit 2 ;; esac
hog_count=${SANDBOX_HOGS:-0}
case $hog_count in '' | *[!0-9]*) echo "$me: SANDBOX_HOGS must be a whole number (0 or more), not '$hog_count'" >&2; exit 2 ;; esac


use_tmpdir bench-sandbox
hogs=()
at_exit 'kill "${hogs[@]}" 2>/dev/null'

close_cost=${CLOSE_COST:-$(command -v close-cost || true)}
if [ -z "$close_cost" ]; then
    cc -O2 -std=gnu11 -pthread -o "$tmp/close-cost" "$here/close-cost.c" -lm || exit 1
    close_cost=$tmp/close-cost
fi

# Every name systemd knows, one a line (seccomp-run skips the "@group"
# lines and the names this machine's ABIs lack).
systemd-analyze syscall-filter @known | sed -n '2,$s/^ *\([^ #]\)/\1/p' >"$tmp/known.allow"
grep -qx sched_setscheduler "$tmp/known.allow" || { log "systemd-analyze @known lacks sched_setscheduler?"; exit 1; }

# mode_prefix MODE: sets prefix to the command that runs a program in MODE.
# filter_batch: the filter, and the whole process SCHED_BATCH from its
# start (a unit's CPUSchedulingPolicy=batch: systemd sets it before the
# filter, and every thread inherits it).
mode_prefix() {
    case $1 in
        open) prefix=() ;;
        filter) prefix=("$LC_SECCOMP_RUN" --allow-file "$tmp/known.allow" --) ;;
        filter_batch) prefix=("$LC_SECCOMP_RUN" --allow-file "$tmp/known.allow" -- chrt -b 0) ;;
    esac
}

# drain_policy MODE: the scheduling policy the library's drain thread gets
# in MODE, from /proc, in a shell that makes one socket (which starts the
# thread: a connect to a closed port on loopback) and reads its own tasks.
drain_policy() {
    local probe='exec 3<>/dev/tcp/127.0.0.1/1 || :
        for task in /proc/$$/task/*; do
            read -r name <"$task/comm"
            [ "$name" = lingerclose ] || continue
            read -r stat <"$task/stat"
            set -- ${stat##*) }
            echo "${39}" # field 41, the policy, counted after the name
        done'
    mode_prefix "$1"
    "${prefix[@]}" env LD_PRELOAD="$LC_LIBRARY" bash -c "$probe" 2>/dev/null
}

modes="open filter"
[ "${SANDBOX_BATCH:-0}" = 1 ] && modes="$modes filter_batch"
declare -A policy expected=([open]=3 [filter]=0 [filter_batch]=3)
policy_ok=yes
for mode in $modes; do
    policy[$mode]=$(drain_policy "$mode")
    [ "${policy[$mode]}" = "${expected[$mode]}" ] || policy_ok=no
    log "drain thread policy, $mode: ${policy[$mode]:-none seen} (expected ${expected[$mode]}; 3 SCHED_BATCH, 0 SCHED_OTHER)"
done

figures="close_linger_p50_ns close_linger_p99_ns close_linger_paced_p50_ns close_linger_paced_p99_ns
close_linger_nolib_p50_ns close_linger_nolib_p99_ns close_syscall_peek_ns close_syscall_shutdown_wr_ns
close_syscall_sendmsg_scm_rights_ns"

# one_run MODE INDEX: one close-cost run; its RESULT lines in
# $tmp/MODE.INDEX.
one_run() {
    local mode=$1 index=$2 out=$tmp/$1.$2
    mode_prefix "$mode"
    "${prefix[@]}" "$close_cost" $run_flags >"$out" 2>"$out.err" &
    wait $! || { log "$mode run $index failed (status $?):"; tail -5 "$out.err" >&2; exit 1; }
    grep -q '^RESULT close_linger_p50_ns ' "$out" || { log "$mode run $index printed no figures"; exit 1; }
    [ -n "${BENCH_OUT:-}" ] && sed "s/^RESULT /$mode $index: /" "$out" >>"$BENCH_OUT/close-cost-sandbox.raw"
    log "$mode run $index: linger p50 $(value "$out" close_linger_p50_ns) ns, p99 $(value "$out" close_linger_p99_ns) ns"
}
value() { awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$1"; }

# A busy machine: SANDBOX_HOGS processes that only spin, at the same
# priority, for the whole measurement (both modes alike).
hogs=()
for ((h = 0; h < hog_count; h++)); do
    (while :; do :; done) &
    hogs+=($!)
done
((hog_count)) && log "$hog_count spinning process(es) run meanwhile"

[ -n "${BENCH_OUT:-}" ] && : >"$BENCH_OUT/close-cost-sandbox.raw"
started=$(date +%s)
for ((p = 1; p <= pairs; p++)); do
    if ((p % 2)); then order=$modes; else order=$(echo "$modes" | tr ' ' '\n' | tac); fi
    for mode in $order; do one_run "$mode" "$p"; done
done
log "$pairs rounds of $modes in $(($(date +%s) - started)) s"

for figure in $figures; do
    for ((p = 1; p <= pairs; p++)); do value "$tmp/open.$p" "$figure"; done | stats >"$tmp/s.open"
    read -r om olo ohi <"$tmp/s.open"
    for mode in ${modes#open }; do
        for ((p = 1; p <= pairs; p++)); do value "$tmp/$mode.$p" "$figure"; done | stats >"$tmp/s.mode"
        for ((p = 1; p <= pairs; p++)); do
            awk -v a="$(value "$tmp/open.$p" "$figure")" -v b="$(value "$tmp/$mode.$p" "$figure")" \
                'BEGIN { if (a > 0) printf "%.4f\n", b / a }'
        done | stats >"$tmp/s.ratio"
        read -r fm flo fhi <"$tmp/s.mode"
        read -r rm rlo rhi <"$tmp/s.ratio"
        name=${figure#close_}
        name=${name%_ns}
        case $mode in filter) name=sandbox_$name ;; *) name=sandbox_batch_$name ;; esac
        case $figure in
            *nolib* | close_syscall_*) role="control (no library)" ;;
            *) role="library" ;;
        esac
        printf 'RESULT %s_ratio %.3f x %s/open, %s, per-pair median (%.3f-%.3f); open %.0f ns (%.0f-%.0f), %s %.0f ns (%.0f-%.0f); medians of %d ABBA rounds of close-cost%s runs%s\n' \
            "$name" "$rm" "$mode" "$role" "$rlo" "$rhi" "$om" "$olo" "$ohi" "$mode" "$fm" "$flo" "$fhi" "$pairs" \
            "${run_flags:+ $run_flags}" "$( ((hog_count)) && echo ", $hog_count spinning process(es) meanwhile")"
    done
done
policies= wanted=
for mode in $modes; do
    policies="$policies, $mode ${policy[$mode]:-none seen}"
    wanted="$wanted${wanted:+, }$mode ${expected[$mode]}"
done
echo "RESULT sandbox_drain_policy_ok $policy_ok - the drain thread's policy${policies} (expected: $wanted; 3 SCHED_BATCH, 0 SCHED_OTHER)"
[ "$policy_ok" = yes ]
