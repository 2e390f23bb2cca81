# What the benchmark scripts share (sourced by bench/http-throughput.sh,
# bench/early-error.sh and bench/close-cost-sandbox.sh; bash). Set `me`
# (the name for messages) first. The tests' library gives them their
# temporary directory (use_tmpdir, at_exit) and servers' readiness
# (wait_ready, stop_process).
#
#   bench_args "$@"             --quick sets quick=1, anything else is a usage error
#   bench_require_library       LC_LIBRARY set and readable; made absolute
#   bench_require_tools HINT T...   each T on PATH, else exit with the apt-get HINT
#   stats                       numbers on stdin -> "median min max"

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

stats() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "0 0 0"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.6g %.6g %.6g\n", m, v[1], v[NR] }'
}
