# SPDX-License-Identifier: MIT
"""An HTTP server from Python's standard library that answers each POST
and closes the connection, as legacy servers do: close() alone, no
shutdown() of its own first (socketserver's default sends the FIN with
shutdown(SHUT_WR) before close, which would decide the matter before the
library is asked).

    close-after-response.py

POST /length is answered with a Content-Length response; any other path
with a response whose end is the close (HTTP/1.0, no length). Prints
"listening on 127.0.0.1:PORT" once it listens on a free port, and ends
when its standard input is closed."""
import http.server
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b"response of %d bytes\n" % 21
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if self.path == "/length":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.HTTPServer):
    def shutdown_request(self, request):
        self.close_request(request)


server = Server(("127.0.0.1", 0), Handler)
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
