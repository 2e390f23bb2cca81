# SPDX-License-Identifier: MIT
# Shared by the tests/servers/*.sh scripts (sourced, POSIX sh): an
# unmodified server program from Debian runs on loopback, on a free
# unprivileged port, from its own configuration in a temporary directory,
# in the foreground and in a process group of its own (so that stopping it
# also ends every process it forked). examples/upload-client sends requests
# the server answers early, while the client is still streaming, and
# counts the responses that arrive.
#
# A script defines configure_server (writes the server's configuration
# for $port into $tmp; $mode is "none", "preload" or "launcher") and
# exec_server PREFIX... (execs PREFIX followed by the server's command line,
# the server in the foreground), then calls expect_delivery NAME EXPECT HEAD
# per scenario and finish: with the library (LD_PRELOAD, or the launcher)
# every one of the $TRIES responses must arrive; without it at least one
# must be lost, else the scenario proves nothing.
#
# Environment: LC_LIBRARY, LC_LAUNCHER, LC_UPLOAD_CLIENT.

set -u

TRIES=${TRIES:-10}
BODY=${BODY:-1000000}

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ -x "${LC_LAUNCHER:-}" ] || fail "LC_LAUNCHER does not name the launcher"
[ -x "${LC_UPLOAD_CLIENT:-}" ] || fail "LC_UPLOAD_CLIENT does not name examples/upload-client"

# find_program NAME: its path (daemons live in sbin, which a user's PATH
# may lack), or status 1.
find_program() {
    command -v "$1" 2>/dev/null && return 0
    for dir in /usr/sbin /sbin /usr/bin /bin; do
        [ -x "$dir/$1" ] && { echo "$dir/$1"; return 0; }
    done
    return 1
}

use_tmpdir real-server
# Servers that drop privileges must still read their files there.
chmod 755 "$tmp"
server_pid=
# Signals go to the server's whole process group; dash's kill builtin
# cannot address a group, procps' kill can.
env kill -l >/dev/null 2>&1 ||
    fail "procps' kill is missing (apt-get install procps; ./bootstrap --tests does it as root)"
stop_server() {
    [ -n "$server_pid" ] || return 0
    env kill -TERM -- "-$server_pid" 2>/dev/null
    # The library gives the connections of an ending process up to
    # LINGERCLOSE_EXIT_TIMEOUT (2 s) to finish.
    for _ in $(seq 50); do
        env kill -0 -- "-$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    env kill -KILL -- "-$server_pid" 2>/dev/null
    stopping=$server_pid
    server_pid=
    wait_bounded "$stopping" 10 || fail "the server (pid $stopping) did not stop"
    server_status=$waited_status
}
at_exit stop_server

# start_server MODE [PREFIX...]: picks a free port below the ephemeral
# range (so that no client connection takes it), configures the server and
# waits until it listens. Sets $mode, $port and $server_pid. MODE "custom"
# runs the server behind PREFIX (stop_server then sets $server_status).
start_server() {
    mode=$1
    shift
    case "$mode" in
        none) set -- setsid ;;
        # The exit bound is generous: on a machine busy with other tests a
        # client may need more than the default 2 s to finish streaming to
        # a server process that ends (busybox httpd, inetd services). Its
        # lines (info) show what ended each connection if one is lost.
        preload) set -- setsid env "LD_PRELOAD=$lc_preload" LINGERCLOSE_EXIT_TIMEOUT=10s \
            LINGERCLOSE_LOG=info ;;
        launcher) set -- setsid "$LC_LAUNCHER" ;;
        custom) set -- setsid "$@" ;;
    esac
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        configure_server
        # A background subshell is not a process group leader, so setsid
        # needs no fork: $! is the server and its process group.
        (exec_server "$@") >"$tmp/server-$mode.out" 2>&1 &
        server_pid=$!
        wait_listening "$port" "$server_pid" 5 && return 0
        stop_server
    done
    cat "$tmp/server-$mode.out" >&2
    # (a caller that goes on after a failure names its own handler)
    "${on_start_failure:-fail}" "the server did not start listening (exit status $server_status)"
    return 1
}

# streamed EXPECT HEAD: how many of TRIES requests (HEAD, then a BODY-byte
# stream) got a response starting with EXPECT.
streamed() {
    received "$LC_UPLOAD_CLIENT" -p "$port" -n "$TRIES" -s "$BODY" -e "$1" -H "$2"
}

# Each scenario runs once per mode; the results are kept by name until
# finish compares them.
scenarios=
expect_delivery() { # expect_delivery NAME EXPECT HEAD
    echo "== $1, $mode" >&2
    count=$(streamed "$2" "$3")
    [ -n "$count" ] || fail "$1: upload-client printed no count"
    eval "result_${mode}_$1=\$count"
    case " $scenarios " in *" $1 "*) ;; *) scenarios="$scenarios $1" ;; esac
}

# The runtimes' servers (tests/servers/jdk-httpserver.sh and the like)
# answer 413 to a 1 MB POST without reading it.
expect_post_413() {
    expect_delivery post_413 'HTTP/1.1 413' \
        'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n'
}

# finish SERVER WITH_MODE: compares the counts and reports.
finish() {
    for name in $scenarios; do
        eval "without=\${result_none_$name:-}; with=\${result_$2_$name:-}"
        echo "$1, $name: $TRIES requests streaming $BODY bytes, with the library ($2)" \
            "$with received, without $without"
        if [ -z "$with" ] || [ -z "$without" ]; then
            not_ok "$1, $name: not run both with and without the library"
        elif [ "$with" != "$TRIES" ]; then
            not_ok "$1, $name: with the library only $with of $TRIES responses arrived"
        fi
        if [ "$without" = "$TRIES" ]; then
            not_ok "$1, $name: without the library every response arrived:" \
                "the scenario proves nothing"
        fi
    done
    if [ "$failures" != 0 ]; then
        for log in "$tmp"/server-*.out; do
            [ -s "$log" ] && { echo "==== $(basename "$log")"; tail -n 40 "$log"; } >&2
        done
        exit 1
    fi
    echo "PASS: $1 delivers every early response under the library"
}

# ---- the servers' configurations, shared by the real-server tests and
# tests/servers/sandbox.sh (each takes the program's path in $nginx, $redis or
# $webfsd, the port in $port, and writes under $tmp) ----------------------

# nginx: a server that lingers itself (nginx's default) and one that does
# not (server_name no-lingering).
nginx_configure() {
    mkdir -p "$tmp/nginx/www"
    echo ok >"$tmp/nginx/www/index.html"
    chmod -R a+rX "$tmp/nginx"
    cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events {
    worker_connections 64;
}
http {
    access_log off;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    root $tmp/nginx/www;
    server {
        listen 127.0.0.1:$port;
        server_name localhost;
    }
    server {
        listen 127.0.0.1:$port;
        server_name no-lingering;
        lingering_close off;
    }
}
CONF
}
# -e (nginx 1.19.5 and later) keeps nginx from opening its default error
# log before it reads the configuration; older ones open it and go on.
nginx_exec() {
    if "$nginx" -h 2>&1 | grep -q -e '-e filename'; then
        set -- "$@" "$nginx" -e "$tmp/nginx/error.log"
    else
        set -- "$@" "$nginx"
    fi
    exec "$@" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;'
}

redis_configure() {
    cat >"$tmp/redis.conf" <<CONF
bind 127.0.0.1
port $port
daemonize no
save ""
appendonly no
dir $tmp
logfile ""
CONF
}
redis_exec() {
    exec "$@" "$redis" "$tmp/redis.conf"
}

webfsd_configure() {
    mkdir -p "$tmp/www"
    echo ok >"$tmp/www/index.html"
}
# -F: foreground. The MIME types file is given so that the server reads
# nothing outside its directory.
webfsd_exec() {
    : >"$tmp/mime.types"
    exec "$@" "$webfsd" -F -4 -i 127.0.0.1 -p "$port" -r "$tmp/www" -m "$tmp/mime.types"
}

# Whatever the caller's environment holds must not tune the library here.
unset LD_PRELOAD LINGERCLOSE_MODE LINGERCLOSE_IDLE_TIMEOUT LINGERCLOSE_TIMEOUT \
    LINGERCLOSE_EXIT_TIMEOUT LINGERCLOSE_MAX_SOCKETS LINGERCLOSE_MAX_BYTES LINGERCLOSE_LOG \
    LINGERCLOSE_LOG_TARGET LINGERCLOSE_PORTS LINGERCLOSE_EXCLUDE_PORTS LINGERCLOSE_STATS_FILE \
    LINGERCLOSE_STATS_INTERVAL
# In a sanitizer build, what a server program leaks itself is not ours to
# report (webfsd keeps its getaddrinfo result); the library's leaks are
# looked for under this project's own servers.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
