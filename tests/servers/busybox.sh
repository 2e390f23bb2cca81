#!/bin/sh
# SPDX-License-Identifier: MIT
# BusyBox httpd (Debian's busybox, unmodified): one process forked per
# connection. It answers a POST to a static file with 501 and the child
# exits with the body unread, so it is the library's exit path that must
# deliver the response.
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

busybox=$(find_program busybox) ||
    skip "busybox is not installed (apt-get install busybox; ./bootstrap --tests does it as root)"
"$busybox" --list 2>/dev/null | grep -qx httpd || skip "this busybox has no httpd applet"

configure_server() {
    mkdir -p "$tmp/www"
    echo ok >"$tmp/www/index.html"
}

exec_server() {
    exec "$@" "$busybox" httpd -f -p "127.0.0.1:$port" -h "$tmp/www"
}

for mode in none preload; do
    start_server "$mode"
    expect_delivery post_to_static_file_501 'HTTP/1.1 501' \
        'POST /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n'
    stop_server
done
finish busybox-httpd preload
