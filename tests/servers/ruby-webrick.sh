#!/bin/sh
# SPDX-License-Identifier: MIT
# Ruby's WEBrick (Debian's ruby-webrick, unmodified): a servlet that
# answers 413 with Connection: close without reading the body, the way a
# Ruby service rejects an upload it will not take.
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

ruby=$(find_program ruby) ||
    skip "ruby is not installed (apt-get install ruby ruby-webrick; ./bootstrap --tests does it as root)"
"$ruby" -rwebrick -e 1 2>/dev/null ||
    skip "WEBrick is not installed (apt-get install ruby-webrick; ./bootstrap --tests does it as root)"

configure_server() {
    cat >"$tmp/server.rb" <<'RUBY'
require 'webrick'
server = WEBrick::HTTPServer.new(BindAddress: '127.0.0.1', Port: ARGV[0].to_i,
                                 Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN),
                                 AccessLog: [])
server.mount_proc('/') do |_request, response|
  response.status = 413
  response.keep_alive = false
  response.body = "too large\n"
end
trap('TERM') { server.shutdown }
server.start
RUBY
}
exec_server() {
    exec "$@" "$ruby" "$tmp/server.rb" "$port"
}

for mode in none preload; do
    start_server "$mode"
    expect_post_413
    stop_server
done
finish ruby-webrick preload
