#!/bin/sh
# SPDX-License-Identifier: MIT
# lingerclose probe against real servers (busybox httpd, webfsd, nginx with
# "lingering_close off") and the early-error server, each without and with
# the library: without it the probe must report a lost response (a case
# "reset" or "cut") and exit 1; with it every response whole and exit 0.
# Which case loses without the library is each server's own: busybox httpd
# and webfsd answer an upload early (501), the early-error server answers
# 413; nginx reads an upload it refuses, but still closes on a large
# response with the client's pipelined requests unread.
# Also --request (the early-error server, and Redis, spoken to from a
# file) and the probe's answers to bad input.
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail.

. "$(dirname "$0")/../lib/real-servers.sh"

# Larger than the socket buffers on both sides, so that the large response
# is still partly queued at the server when it closes.
LARGE_FILE_BYTES=8000000

# make_site DIR: the files every HTTP server here serves.
make_site() {
    mkdir -p "$1"
    echo ok >"$1/index.html"
    head -c "$LARGE_FILE_BYTES" /dev/zero | tr '\0' x >"$1/large.bin"
    chmod -R a+rX "$1"
}

# probe NAME [OPTION]... TARGET: runs the probe, its lines on stdout and in
# $tmp/probe.out, its exit status in $probe_status.
probe() {
    _name=$1
    shift
    "$LC_LAUNCHER" probe --timeout=2s --large-path=/large.bin "$@" >"$tmp/probe.out" 2>&1
    probe_status=$?
    sed "s/^/    $_name, $mode: /" "$tmp/probe.out"
}

# case_verdict CASE: the verdict the probe gave CASE.
case_verdict() {
    sed -n "s/^$1: \([a-z]*\):.*/\1/p" "$tmp/probe.out"
}

# judge NAME LOSING_CASE: without the library LOSING_CASE must have been
# lost and the status be 1; with it, every case whole (idle: open or
# closed) and the status 0.
judge() {
    if [ "$mode" = none ]; then
        case "$(case_verdict "$2")" in
            reset | cut) pass "$1 without the library: the probe reports the $2 response lost" ;;
            *) not_ok "$1 without the library: the $2 case is not reported lost" ;;
        esac
        if [ "$probe_status" = 1 ]; then
            pass "$1 without the library: the probe exits 1"
        else
            not_ok "$1 without the library: the probe exited $probe_status, not 1"
        fi
        return
    fi
    lost=$(grep -E '^[a-z-]+: (reset|cut|none|error):' "$tmp/probe.out")
    if [ -z "$lost" ]; then
        pass "$1 with the library: the probe reports every response whole"
    else
        not_ok "$1 with the library: the probe reports $lost"
    fi
    if [ "$probe_status" = 0 ]; then
        pass "$1 with the library: the probe exits 0"
    else
        not_ok "$1 with the library: the probe exited $probe_status, not 0"
    fi
}

run_server() { # run_server NAME LOSING_CASE PATH
    for mode in none preload; do
        on_start_failure=not_ok start_server "$mode" || continue
        probe "$1" "http://127.0.0.1:$port$3"
        judge "$1" "$2"
        stop_server
    done
}

if busybox=$(find_program busybox) && "$busybox" --list 2>/dev/null | grep -qx httpd; then
    configure_server() { make_site "$tmp/www"; }
    exec_server() { exec "$@" "$busybox" httpd -f -p "127.0.0.1:$port" -h "$tmp/www"; }
    run_server busybox-httpd upload /index.html
else
    skip_check "busybox httpd" "busybox or its httpd applet is not installed (apt-get install busybox)"
fi

if webfsd=$(find_program webfsd); then
    configure_server() { webfsd_configure; make_site "$tmp/www"; }
    exec_server() { webfsd_exec "$@"; }
    run_server webfsd upload /index.html
else
    skip_check webfsd "webfsd is not installed (apt-get install webfs)"
fi

if nginx=$(find_program nginx); then
    configure_server() {
        nginx_configure
        make_site "$tmp/nginx/www"
        sed -i 's/^http {$/http {\n    lingering_close off;/' "$tmp/nginx/nginx.conf"
    }
    exec_server() { nginx_exec "$@"; }
    run_server nginx large-response /index.html
else
    skip_check nginx "nginx is not installed (apt-get install nginx-light)"
fi

configure_server() { :; }
exec_server() { exec "$@" "$LC_EARLY_ERROR_SERVER" -p "$port"; }
run_server early-error-server upload /

# --request: the same early answer, spoken in a request of the user's.
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000000\r\n\r\n' >"$tmp/request"
for mode in none preload; do
    on_start_failure=not_ok start_server "$mode" || continue
    probe early-error-server --request="$tmp/request" "127.0.0.1:$port"
    cases=$(sed -n 's/^\([a-z-]*\):.*/\1/p' "$tmp/probe.out" | tr '\n' ' ')
    if [ "$cases" = "request upload idle " ]; then
        pass "--request, $mode: the cases are request, upload and idle"
    else
        not_ok "--request, $mode: the cases are not request, upload and idle"
    fi
    judge "--request to the early-error server" upload
    stop_server
done

# --request in another protocol: a Redis SET whose declared value is
# larger than Redis accepts. Alone, it gets "-ERR Protocol error" and a
# clean close; followed by the value being streamed, the close resets.
if redis=$(find_program redis-server); then
    configure_server() { redis_configure; }
    exec_server() { redis_exec "$@"; }
    printf '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$99999999999\r\n' >"$tmp/request"
    for mode in none preload; do
        on_start_failure=not_ok start_server "$mode" || continue
        probe redis-server --request="$tmp/request" "127.0.0.1:$port"
        if grep -q "^request: whole: '-ERR Protocol error" "$tmp/probe.out"; then
            pass "--request to redis-server, $mode: the error reply arrives whole"
        else
            not_ok "--request to redis-server, $mode: the error reply is not reported whole"
        fi
        judge "--request to redis-server" upload
        stop_server
    done
else
    skip_check "--request to redis-server" "redis-server is not installed (apt-get install redis-server)"
fi

# Bad input: one line on stderr naming what is wrong and what is accepted,
# exit 2, and nothing sent.
mode=misuse
for bad in 'localhost' 'https://localhost/' 'localhost:0' 'localhost:http' 'localhost:99999' \
    '--timeout=soon localhost:80' '--upload-bytes=0 localhost:80' \
    "--request=$tmp/missing localhost:80" '--large-path=big localhost:80'; do
    # shellcheck disable=SC2086
    "$LC_LAUNCHER" probe $bad >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ "$status" = 2 ] && [ ! -s "$tmp/out" ] && grep -q 'accepted\|No such file' "$tmp/err"; then
        pass "probe $bad: exit 2, $(head -n 1 "$tmp/err")"
    else
        not_ok "probe $bad: exit $status, stdout '$(cat "$tmp/out")', stderr '$(cat "$tmp/err")'"
    fi
done
port=$(free_port)
"$LC_LAUNCHER" probe --timeout=1s "127.0.0.1:$port" >"$tmp/out" 2>&1
status=$?
if [ "$status" = 2 ] && grep -q 'Connection refused' "$tmp/out"; then
    pass "a port nobody listens on: exit 2, $(head -n 1 "$tmp/out")"
else
    not_ok "a port nobody listens on: exit $status, $(cat "$tmp/out")"
fi

checks_done
