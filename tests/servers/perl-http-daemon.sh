#!/bin/sh
# SPDX-License-Identifier: MIT
# Perl's HTTP::Daemon (Debian's libhttp-daemon-perl, unmodified): a handler
# that reads the request head only, answers 413 and closes the connection,
# the way a Perl service rejects an upload it will not take.
# Environment: see tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

perl -MHTTP::Daemon -e 1 2>/dev/null ||
    skip "Perl's HTTP::Daemon is not installed (apt-get install libhttp-daemon-perl;" \
        "./bootstrap --tests does it as root)"

configure_server() {
    cat >"$tmp/server.pl" <<'PERL'
use strict;
use warnings;
use HTTP::Daemon;
use HTTP::Response;
my $daemon = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $ARGV[0], ReuseAddr => 1)
    or die "listen: $!";
while (my $connection = $daemon->accept) {
    # true: the head only, the body is left where it is
    if ($connection->get_request(1)) {
        my $response = HTTP::Response->new(413, 'Payload Too Large');
        $response->header(Connection => 'close');
        $response->content("too large\n");
        $connection->send_response($response);
    }
    $connection->close;
}
PERL
}
exec_server() {
    exec "$@" perl "$tmp/server.pl" "$port"
}

for mode in none preload; do
    start_server "$mode"
    expect_post_413
    stop_server
done
finish perl-http-daemon preload
