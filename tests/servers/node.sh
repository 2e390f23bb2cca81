#!/bin/sh
# SPDX-License-Identifier: MIT
# Node.js's http server (Debian's nodejs, unmodified; its libuv closes
# sockets with syscall(SYS_close), not close()). Two servers that answer
# before reading the body:
#   - 413 at once, then socket.destroy() (the common "payload too large"
#     handler);
#   - 413 with Connection: close through res.end(), which closes the socket
#     once the response is written.
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

node=$(find_program node) ||
    skip "node is not installed (apt-get install nodejs; ./bootstrap --tests does it as root)"

configure_server() {
    cat >"$tmp/server.js" <<'JS'
'use strict';
const http = require('http');
const server = http.createServer((req, res) => {
    const body = 'too large\n';
    if (req.url === '/destroy') {
        res.writeHead(413, { 'Content-Length': body.length });
        res.end(body, () => req.socket.destroy());
    } else {
        res.writeHead(413, { 'Content-Length': body.length, Connection: 'close' });
        res.end(body);
    }
});
server.listen(Number(process.argv[2]), '127.0.0.1');
JS
}
exec_server() {
    exec "$@" "$node" "$tmp/server.js" "$port"
}

for mode in none preload; do
    start_server "$mode"
    expect_delivery destroy_413 'HTTP/1.1 413' \
        'POST /destroy HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n'
    expect_delivery connection_close_413 'HTTP/1.1 413' \
        'POST /close HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n'
    stop_server
done
finish node preload
