# Sourced by the shell tests: the automake test protocol's two outcomes
# besides a pass (exit 1: failed, exit 77: skipped, with the reason).

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}

# preload_with LIST: the LD_PRELOAD value for LIST (colon-separated). In a
# sanitizer build the library needs the sanitizer's runtime loaded before
# anything else, so LC_PRELOAD_FIRST goes in front, as an operator would
# put it.
preload_with() {
    echo "${LC_PRELOAD_FIRST:+$LC_PRELOAD_FIRST${1:+:}}$1"
}

# The library as the tests preload it.
lc_preload=$(preload_with "${LC_LIBRARY:-}")

# wait_bounded PID SECONDS: waits for a child of this shell to end, at most
# SECONDS, and kills it (KILL) if it did not; false then. Its exit status
# is left in $waited_status. A test never waits without a bound.
wait_bounded() {
    _deadline=$(($(date +%s) + $2))
    while kill -0 "$1" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$_deadline" ]; then
            kill -KILL "$1" 2>/dev/null
            wait "$1" 2>/dev/null
            waited_status=$?
            return 1
        fi
        sleep 0.1
    done
    wait "$1" 2>/dev/null
    waited_status=$?
    return 0
}

# launch_server [NAME=VALUE]... COMMAND [ARG]...: starts COMMAND (through
# env) with the library preloaded, its stdin a fifo in $tmp held open on
# fd 3 (the server exits once that closes), its output in $tmp/server.out
# and $tmp/server.err, and waits for its "PORT n" line. Sets $server_pid
# and $port.
launch_server() {
    mkfifo "$tmp/stdin"
    env LD_PRELOAD="$lc_preload" "$@" <"$tmp/stdin" >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    exec 3>"$tmp/stdin"
    port=
    for _ in $(seq 50); do
        port=$(sed -n 's/^PORT //p' "$tmp/server.out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || fail "the server did not start: $(cat "$tmp/server.err")"
}

# xinetd_config SERVICE PORT SERVER [LINES]: prints an xinetd configuration
# with one "nowait" TCP service on 127.0.0.1:PORT that runs SERVER as root
# for each connection, logging to $tmp/xinetd.log. LINES are more
# attributes, one per line, each starting with a tab (server_args, env,
# passenv...).
xinetd_config() {
    printf 'defaults\n{\n}\nservice %s\n{\n' "$1"
    printf '\t%-11s = %s\n' type UNLISTED socket_type stream protocol tcp wait no user root \
        bind 127.0.0.1 port "$2" server "$3" instances UNLIMITED cps "1000 1" \
        log_type "FILE $tmp/xinetd.log"
    [ -n "${4:-}" ] && printf '%s\n' "$4"
    printf '}\n'
}
