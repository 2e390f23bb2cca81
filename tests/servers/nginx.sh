#!/bin/sh
# SPDX-License-Identifier: MIT
# nginx (Debian's nginx-light, unmodified) under the library. Two requests
# it answers with an error while the client is still sending, without
# reading the rest first (only a body it has accepted gets nginx's own
# discarding and lingering close, e.g. after a 413):
#   - a body in a transfer coding nginx does not know: 501, with nginx's
#     default "lingering_close on";
#   - a header that outgrows large_client_header_buffers: 400, with
#     "lingering_close off" (its own lingering turned off, as the library
#     is meant to take it over).
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

nginx=$(find_program nginx) ||
    skip "nginx is not installed (apt-get install nginx-light; ./bootstrap --tests does it as root)"

configure_server() { nginx_configure; }
exec_server() { nginx_exec "$@"; }

for mode in none preload; do
    start_server "$mode"
    expect_delivery unknown_coding_501 'HTTP/1.1 501' \
        'POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n'
    expect_delivery header_too_large_400 'HTTP/1.1 400' \
        'GET / HTTP/1.1\r\nHost: no-lingering\r\nCookie: '
    stop_server
done
finish nginx preload
