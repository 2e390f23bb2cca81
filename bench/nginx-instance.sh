# SPDX-License-Identifier: MIT
# Private nginx instances for the benchmarks (sourced by bench/http-throughput.sh
# and bench/early-error.sh; bash). Each instance lives in its own directory
# (configuration from bench/nginx.conf.in, pid file, logs, temporary files),
# listens on 127.0.0.1 on a free port and runs in the foreground as a child
# of the calling shell (free_port, wait_listening and stop_process are the
# tests' library's, which bench/common.sh sources):
#   nginx -p DIR -e DIR/error.log -c DIR/nginx.conf -g 'daemon off;'
#
#   nginx_start NAME DIR LINGERING MAX_BODY WORKERS [LIBRARY [WRAPPER...]]
#       LIBRARY: preload it (LD_PRELOAD on nginx only; "" for none).
#       WRAPPER: a command that runs nginx (seccomp-run with a filter). Sets
#       nginx_pid[NAME] and nginx_port[NAME]; exits the script on failure.
#   nginx_workers NAME       the worker processes' pids
#   nginx_stop NAME          TERM, wait; prints what the library logged
#   nginx_stop_all

declare -gA nginx_pid nginx_port nginx_dir
nginx_template=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/nginx.conf.in

nginx_start() {
    local name=$1 dir=$2 lingering=$3 max_body=$4 workers=$5 library=${6:-} p _ pid
    local wrapper=("${@:7}") preload=()
    [ -n "$library" ] && preload=(env LD_PRELOAD="$library" LINGERCLOSE_LOG=info)
    mkdir -p "$dir/www"
    chmod 755 "$dir" "$dir/www" # the workers may run as nobody
    # A small static file, the size of nginx's welcome page.
    head -c 612 /dev/zero | tr '\0' 'x' >"$dir/www/index.html"
    chmod 644 "$dir/www/index.html"
    for _ in 1 2 3 4 5; do
        p=$(free_port)
        sed -e "s|@DIR@|$dir|g; s|@PORT@|$p|g; s|@WORKERS@|$workers|g" \
            -e "s|@LINGERING@|$lingering|g; s|@MAX_BODY@|$max_body|g" \
            "$nginx_template" >"$dir/nginx.conf"
        "${wrapper[@]}" "${preload[@]}" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;' \
            >"$dir/stdout" 2>"$dir/stderr" &
        pid=$!
        if wait_listening "$p" "$pid" 5; then
            nginx_pid[$name]=$pid
            nginx_port[$name]=$p
            nginx_dir[$name]=$dir
            return 0
        fi
        stop_process "$pid"
    done
    echo "nginx ($name) did not start:" >&2
    cat "$dir/stderr" "$dir/error.log" >&2 2>/dev/null
    exit 1
}

nginx_workers() {
    local pid=${nginx_pid[$1]}
    # The kernel's list of the master's children: pgrep reads every
    # process of the machine, a tenth of a second per call here.
    if [ -r "/proc/$pid/task/$pid/children" ]; then
        cat "/proc/$pid/task/$pid/children"
    else
        pgrep -P "$pid"
    fi
}

nginx_stop() {
    local name=$1
    [ -n "${nginx_pid[$name]:-}" ] || return 0
    kill -TERM "${nginx_pid[$name]}" 2>/dev/null
    wait "${nginx_pid[$name]}" 2>/dev/null
    unset "nginx_pid[$name]"
    # nginx points its stderr at the error log: the library writes there.
    grep -h '^lingerclose' "${nginx_dir[$name]}/stderr" "${nginx_dir[$name]}/error.log" 2>/dev/null | sed "s/^/  nginx $name: /" >&2
}

nginx_stop_all() {
    local name
    for name in "${!nginx_pid[@]}"; do
        nginx_stop "$name"
    done
}
