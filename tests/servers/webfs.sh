#!/bin/sh
# SPDX-License-Identifier: MIT
# webfsd (Debian's webfs, unmodified), a single-process static file
# server. It answers with an error and closes while the client is still
# sending:
#   - a POST, which it does not implement: 501;
#   - a header that outgrows its request buffer: 400.
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

webfsd=$(find_program webfsd) ||
    skip "webfsd is not installed (apt-get install webfs; ./bootstrap --tests does it as root)"

configure_server() { webfsd_configure; }
exec_server() { webfsd_exec "$@"; }

for mode in none preload; do
    start_server "$mode"
    expect_delivery post_501 'HTTP/1.1 501' \
        'POST /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n'
    expect_delivery header_too_large_400 'HTTP/1.1 400' \
        'GET / HTTP/1.1\r\nHost: localhost\r\nCookie: '
    stop_server
done
finish webfsd preload
