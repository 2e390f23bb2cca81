#!/bin/sh
# SPDX-License-Identifier: MIT
# micro_httpd (Debian's micro-httpd, unmodified), an HTTP server run from
# inetd: xinetd on loopback starts it for each connection, on its stdin and
# stdout. It reads the request line and headers, answers and exits, and
# never reads a body:
#   - a POST, which it does not implement: 501;
#   - a GET that carries a body: 200 with the file, a success response
#     lost as well.
# The library reaches the service through xinetd's own "env" attribute,
# as an operator would set it; xinetd itself runs without it.
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

xinetd=$(find_program xinetd) ||
    skip "xinetd is not installed (apt-get install xinetd; ./bootstrap --tests does it as root)"
micro_httpd=$(find_program micro-httpd) || micro_httpd=$(find_program micro_httpd) ||
    skip "micro-httpd is not installed (apt-get install micro-httpd; ./bootstrap --tests does it as root)"
# xinetd starts every service as the user its configuration names, which
# only root may do.
[ "$(id -u)" = 0 ] || skip "xinetd must run as root to start its services"

configure_server() {
    mkdir -p "$tmp/www"
    echo ok >"$tmp/www/index.html"
    env_line=
    # (the exit bound generous for a loaded machine, as in tests/lib/real-servers.sh)
    [ "$mode" = preload ] &&
        env_line="	env         = LD_PRELOAD=$lc_preload LINGERCLOSE_EXIT_TIMEOUT=10s
	passenv     = ASAN_OPTIONS TSAN_OPTIONS UBSAN_OPTIONS"
    xinetd_config lingerclose-micro-httpd "$port" "$micro_httpd" \
        "$(printf '\tserver_args = %s\n%s' "$tmp/www" "$env_line")" >"$tmp/xinetd.conf"
}

# Only setsid from the prefix: the library goes to the service, not to
# xinetd.
exec_server() {
    exec setsid "$xinetd" -f "$tmp/xinetd.conf" -dontfork -pidfile "$tmp/xinetd.pid"
}

for mode in none preload; do
    start_server "$mode"
    expect_delivery post_501 'HTTP/1.0 501' \
        'POST /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n'
    expect_delivery get_with_body_200 'HTTP/1.0 200' \
        'GET /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n'
    stop_server
done
finish xinetd+micro-httpd preload
