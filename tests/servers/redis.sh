#!/bin/sh
# SPDX-License-Identifier: MIT
# redis-server (Debian's, unmodified) started through the launcher. Redis
# answers a request it cannot parse with "-ERR Protocol error: ..." and
# closes the connection right after the reply, with the rest of the
# client's request unread:
#   - a bulk length above proto-max-bulk-len, while the client streams the
#     value;
#   - an inline request that outgrows 64 KiB without a line end.
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

redis=$(find_program redis-server) ||
    skip "redis-server is not installed (apt-get install redis-server; ./bootstrap --tests does it as root)"

configure_server() { redis_configure; }
exec_server() { redis_exec "$@"; }

for mode in none launcher; do
    start_server "$mode"
    expect_delivery bulk_length_too_large '-ERR Protocol error' \
        '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$99999999999\r\n'
    expect_delivery inline_request_too_big '-ERR Protocol error' ''
    stop_server
done
finish redis-server launcher
