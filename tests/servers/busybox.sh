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

# Its status line says HTTP/1.0 before BusyBox 1.33 and HTTP/1.1 since: the
# version it answers a GET with is the one its 501 carries.
answered_version() {
    "$LC_UPLOAD_CLIENT" -p "$port" -n 1 -s 0 -e HTTP/ -H 'GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n' |
        sed -n 's|^first response line: \(HTTP/1\.[01]\) .*|\1|p'
}

for mode in none preload; do
    start_server "$mode"
    version=$(answered_version)
    [ -n "$version" ] || fail "busybox httpd did not answer a GET with an HTTP/1.x status line"
    expect_delivery post_to_static_file_501 "$version 501" \
        'POST /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n'
    stop_server
done
finish busybox-httpd preload
