# SPDX-License-Identifier: MIT
# What the benchmark scripts share (sourced by bench/http-throughput.sh,
# bench/early-error.sh and bench/close-cost-sandbox.sh; bash). Set `me`
# (the name for messages) first. The tests' library gives them their
# temporary directory (use_tmpdir, at_exit) and servers' readiness
# (wait_ready, stop_process).
#
#   bench_init "$@"             bench_args, then bench_require_library: how every script starts
#   bench_args "$@"             --quick sets quick=1, anything else is a usage error
#   bench_rounds PREFIX         rounds and duration (s per run) from PREFIX_ROUNDS and
#                               PREFIX_DURATION: 5 rounds of 3 s, with --quick 2 of 1 s
#   bench_require_library       LC_LIBRARY set and readable; made absolute
#   bench_require_tools HINT T...   each T on PATH, else exit with the apt-get HINT
#   bench_require_seccomp_run   LC_SECCOMP_RUN an executable (tests/servers/seccomp-run)
#   log MESSAGE...              progress on stderr, "$me: MESSAGE"
#   bench_nginx_tmpdir NAME     the temporary directory, readable by nginx's workers,
#                               bench/nginx-instance.sh loaded, descriptor limit raised
#   bench_dat FILE              dat=$BENCH_OUT/FILE (the directory made), or /dev/null
#   stats                       numbers on stdin -> "median min max"
#   series ARRAY KEY            ARRAY[KEY,ROUND] for each of the $rounds rounds, one a line
#   round_ratios ARRAY A B      the per-round ratios ARRAY[A,ROUND] / ARRAY[B,ROUND]
#                               -> "median min max"
#   verdict MEDIAN [TARGET]     ", target >= TARGET: met" (or MISSED); nothing without TARGET
#   lingering_summary NAME TEXT FILE...   the library's exit summaries in FILEs as
#                               "RESULT NAME L closes lingered of C TEXT"

. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/test-lib.sh"

quick=0
bench_args() {
    local arg
    for arg in "$@"; do
        case $arg in
        --quick) quick=1 ;;
        *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
        esac
    done
}

bench_init() {
    bench_args "$@"
    bench_require_library
}

bench_rounds() {
    local prefix=$1 default_rounds=5 default_duration=3
    [ "$quick" = 1 ] && default_rounds=2 default_duration=1
    local rounds_var=${prefix}_ROUNDS duration_var=${prefix}_DURATION
    rounds=${!rounds_var:-$default_rounds}
    duration=${!duration_var:-$default_duration}
}

log() { echo "$me: $*" >&2; }

bench_require_library() {
    : "${LC_LIBRARY:?set LC_LIBRARY to the path of liblingerclose.so}"
    LC_LIBRARY=$(readlink -f "$LC_LIBRARY")
    [ -r "$LC_LIBRARY" ] || { echo "$me: no library at $LC_LIBRARY" >&2; exit 1; }
}

bench_require_tools() {
    local hint=$1 tool
    shift
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$me: $tool not found ($hint)" >&2; exit 1; }
    done
}

bench_require_seccomp_run() {
    [ -x "${LC_SECCOMP_RUN:-}" ] || {
        echo "$me: set LC_SECCOMP_RUN to tests/servers/seccomp-run (built by make check TESTS= with libseccomp-dev)" >&2
        exit 1
    }
}

bench_nginx_tmpdir() {
    use_tmpdir "$1"
    trap 'exit 130' INT TERM
    chmod 755 "$tmp" # nginx workers may run as nobody
    . "$(dirname "${BASH_SOURCE[0]}")/nginx-instance.sh"
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null
}

bench_dat() {
    dat=/dev/null
    if [ -n "${BENCH_OUT:-}" ]; then
        mkdir -p "$BENCH_OUT"
        dat=$BENCH_OUT/$1
    fi
}

stats() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "0 0 0"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.6g %.6g %.6g\n", m, v[1], v[NR] }'
}

series() {
    local -n series_values=$1
    local r
    for r in $(seq "$rounds"); do echo "${series_values[$2,$r]}"; done
}

round_ratios() {
    local -n ratio_values=$1
    local r
    for r in $(seq "$rounds"); do
        awk -v a="${ratio_values[$2,$r]}" -v b="${ratio_values[$3,$r]}" 'BEGIN { if (b > 0) printf "%.4f\n", a / b }'
    done | stats
}

verdict() {
    [ -n "${2:-}" ] || return 0
    awk -v m="$1" -v t="$2" 'BEGIN { printf ", target >= %s: %s", t, (m >= t ? "met" : "MISSED") }'
}

lingering_summary() {
    local name=$1 text=$2
    shift 2
    grep -h '^lingerclose.*summary' "$@" 2>/dev/null | awk -v name="$name" -v text="$text" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "closes") c += kv[2]; if (kv[1] == "lingering") l += kv[2] } }
        END { if (c) printf "RESULT %s %d closes lingered of %d %s\n", name, l, c, text }'
}
