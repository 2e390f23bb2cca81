# SPDX-License-Identifier: MIT
# Shared by hostile.sh and soak.sh (sourced): an early-error server
# (hostile-server) under the library, a watcher of its sockets and
# resources (hostile-watch), the client driver (hostile-clients), and
# reading their counts.

. "$(dirname "$0")/../lib/test-lib.sh"

# Resident memory may move by a few pages (stdio, the allocator's bins). A
# sanitizer's runtime moves it by more (its shadow memory, its allocator's
# caches and quarantine); there, leaks are LeakSanitizer's to find.
RSS_TOLERANCE_KB=512
[ -n "${LC_PRELOAD_FIRST:-}" ] && RSS_TOLERANCE_KB=4096

# A failed measurement is reported with not_ok and the test goes on: every
# measurement of a run is reported.

say() {
    echo "$*"
}

hostile_setup() {
    if [ -z "${LC_LIBRARY:-}" ] || [ -z "${LC_HOSTILE_DIR:-}" ]; then
        echo "run through make check (or make soak): LC_LIBRARY and LC_HOSTILE_DIR are unset" >&2
        exit 99
    fi
    [ -f "$LC_LIBRARY" ] || { echo "the library is not built: $LC_LIBRARY" >&2; exit 99; }
    for program in hostile-server hostile-clients hostile-watch; do
        [ -x "$LC_HOSTILE_DIR/$program" ] || { echo "not built: $LC_HOSTILE_DIR/$program" >&2; exit 99; }
    done
    use_tmpdir hostile
    at_exit hostile_cleanup
    # Without sock_diag (a sandbox may refuse NETLINK_SOCK_DIAG) socket lives cannot be measured.
    "$LC_HOSTILE_DIR/hostile-watch" -p $$ -P 1 </dev/null >/dev/null 2>"$tmp/probe.err"
    [ $? -eq 77 ] && skip "$(cat "$tmp/probe.err") (needs a kernel with NETLINK_SOCK_DIAG and inet_diag, tcp_diag)"
    # Thousands of clients at once: the server must be able to hold them itself.
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt 4200 ]; then
        skip "the hard RLIMIT_NOFILE is $hard; these tests need 4200 (raise it with ulimit -Hn or limits.conf)"
    fi
    server_pid=
    watch_job=
}

hostile_cleanup() {
    [ -n "$watch_job" ] && { exec 8>&-; wait_bounded "$watch_job" 10; }
    [ -n "$server_pid" ] && { exec 3>&-; stop_process "$server_pid"; }
    if [ "$failures" -gt 0 ] || [ -n "${KEEP_WORK:-}" ]; then
        for f in "$tmp"/*.out "$tmp"/*.err "$tmp"/*.clients "$tmp"/*.watch "$tmp"/*.prom; do
            [ -s "$f" ] && { echo "==== ${f##*/}"; tail -n 30 "$f"; }
        done
    fi
}

# The value after KEY on the first line of FILE that has it (and, with a
# third argument, that starts with it).
field() {
    awk -v key="$1" -v first="${3:-}" '
        first != "" && $1 != first { next }
        { for (i = 1; i < NF; i++) if ($i == key) { print $(i + 1); exit } }' "$2"
}

# server_start NAME [VAR=VALUE...]: hostile-server with that environment
# (LD_PRELOAD of the library unless the environment says LD_PRELOAD=) and
# the options in $server_options, able to hold thousands of clients. Sets
# server_pid and port.
server_start() {
    name=$1
    shift
    # shellcheck disable=SC2086
    server_nofile=4200 launch_server "$name" "$@" "$LC_HOSTILE_DIR/hostile-server" ${server_options:-}
}

# Closes the server's stdin; it prints its counts and exits. Sets server_rc.
server_stop() {
    end_server 60 || not_ok "the server had not ended 60 s after its stdin closed"
    server_rc=$waited_status
}

# watch_start NAME LIMIT_MS: sock_diag and /proc samples of the server
# until watch_stop; the summary lands in $tmp/NAME.watch.
watch_start() {
    mkfifo "$tmp/$1.watch-in"
    "$LC_HOSTILE_DIR/hostile-watch" -p "$server_pid" -P "$port" -l "$2" \
        <"$tmp/$1.watch-in" >"$tmp/$1.watch" 2>&1 &
    watch_job=$!
    exec 8>"$tmp/$1.watch-in"
}

watch_stop() {
    exec 8>&-
    wait_bounded "$watch_job" 30 || not_ok "hostile-watch had not ended 30 s after its stdin closed"
    watch_job=""
}

# usage: sets fds, drain_fds, threads, rss_kb of the server now.
usage() {
    "$LC_HOSTILE_DIR/hostile-watch" -p "$server_pid" -1 >"$tmp/usage" || exit 1
    fds=$(field fds "$tmp/usage")
    drain_fds=$(field drain-fds "$tmp/usage")
    threads=$(field threads "$tmp/usage")
    rss_kb=$(field rss-kb "$tmp/usage")
}

# expect_baseline: after usage, the server holds the descriptors and
# threads it held after the warm-up (base_fds, base_drain_fds,
# base_threads), and its resident memory is within RSS_TOLERANCE_KB of
# base_rss_kb.
expect_baseline() {
    [ "$fds" = "$base_fds" ] || not_ok "descriptors: $fds now, $base_fds after the warm-up"
    [ "$drain_fds" = "$base_drain_fds" ] || not_ok "drain thread descriptors: $drain_fds now, $base_drain_fds after the warm-up"
    [ "$threads" = "$base_threads" ] || not_ok "threads: $threads now, $base_threads after the warm-up"
    [ "$rss_kb" -le $((base_rss_kb + RSS_TOLERANCE_KB)) ] ||
        not_ok "VmRSS: $rss_kb kB now, $base_rss_kb kB after the warm-up (tolerance $RSS_TOLERANCE_KB kB)"
}

# Waits (at most SECONDS) until the drain thread holds no socket, i.e. its
# descriptor count is back to BASE. False on time-out.
drains_settle() {
    base=$1
    deadline=$(($(date +%s) + $2))
    while :; do
        usage
        [ "$drain_fds" -le "$base" ] && return 0
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# clients NAME ARGS...: the driver against the server; output in NAME.clients.
clients() {
    name=$1
    shift
    "$LC_HOSTILE_DIR/hostile-clients" -p "$port" "$@" >"$tmp/$name.clients" 2>"$tmp/$name.clients-err"
    clients_rc=$?
    [ $clients_rc -eq 0 ] || not_ok "$name: the client driver exited $clients_rc: $(cat "$tmp/$name.clients-err")"
}

# The library's counter REASON from its exit summary (LINGERCLOSE_LOG=info)
# in the server's stderr: "summary: closes=N lingering=N plain=N reason=N ...".
summary_counter() {
    sed -n 's/.*summary: //p' "$tmp/$server_name.err" | tr ' ;' '\n\n' |
        sed -n "s/^$1=//p" | head -n 1
}

# A counter from the stats file (Prometheus text): metric name and an
# optional label selector such as reason="capacity".
stats_value() {
    awk -v metric="$2" -v label="${3:-}" '
        $1 ~ "^" metric "[{]" && (label == "" || index($1, label)) { print $2; exit }' "$1"
}
