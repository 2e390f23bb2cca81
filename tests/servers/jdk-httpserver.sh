#!/bin/sh
# SPDX-License-Identifier: MIT
# The JDK's own HTTP server (com.sun.net.httpserver, unmodified), which
# closes through libc and replaces descriptors with dup2 in its pre-close.
# Its handler answers 413 without reading the body and closes the
# exchange: the server drains a little of the body, then closes the
# connection with the rest unread.
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

javac=$(find_program javac) ||
    skip "javac is not installed (apt-get install default-jdk-headless; ./bootstrap --tests does it as root)"
java=$(find_program java) ||
    skip "java is not installed (apt-get install default-jdk-headless; ./bootstrap --tests does it as root)"

mkdir -p "$tmp/classes"
cat >"$tmp/EarlyAnswer.java" <<'JAVA'
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;

public class EarlyAnswer {
    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(
            new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 16);
        server.createContext("/", exchange -> {
            byte[] body = "too large\n".getBytes();
            exchange.getResponseHeaders().set("Connection", "close");
            exchange.sendResponseHeaders(413, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }
}
JAVA
"$javac" -d "$tmp/classes" "$tmp/EarlyAnswer.java" >"$tmp/javac.out" 2>&1 ||
    fail "javac could not compile the server: $(cat "$tmp/javac.out")"

configure_server() { :; }
exec_server() {
    exec "$@" "$java" -Xshare:auto -cp "$tmp/classes" EarlyAnswer "$port"
}

for mode in none preload; do
    start_server "$mode"
    expect_post_413
    stop_server
done
finish jdk-httpserver preload
