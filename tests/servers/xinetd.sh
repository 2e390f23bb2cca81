#!/bin/sh
# SPDX-License-Identifier: MIT
# A real xinetd, configured from examples/inetd/upload-service.xinetd:
# the launcher as the service program, as the example says, delivers every
# early response; the service run directly loses them. See tests/lib/inetd.sh.
# Exit status: 0 pass, 1 fail, 77 skip.

# shellcheck source=tests/lib/inetd.sh
. "$(dirname "$0")/../lib/inetd.sh"

inetd_name=xinetd
XINETD=$(command -v xinetd || echo /usr/sbin/xinetd)
[ -x "$XINETD" ] || skip "xinetd is not installed (apt-get install xinetd; ./bootstrap --tests does it as root)"
# xinetd starts every service as the user its configuration names, which
# only root may do.
[ "$(id -u)" = 0 ] || skip "xinetd must run as root to start its services"

# The example's service with this test's launcher, service and port, bound
# to loopback; without the library, the service is the server itself.
inetd_config() { # PRELOAD PORT
    if [ "$1" = yes ]; then
        service_lines="s|^\\([[:space:]]*server_args[[:space:]]*=.* -- \\)$EXAMPLE_SERVICE\$|\\1$SERVICE $SERVICE_ARGS|"
    else
        service_lines="s|^\\([[:space:]]*server[[:space:]]*=[[:space:]]*\\)$EXAMPLE_LAUNCHER\$|\\1$SERVICE|
s|^\\([[:space:]]*server_args[[:space:]]*=[[:space:]]*\\).* -- $EXAMPLE_SERVICE\$|\\1$SERVICE_ARGS|"
    fi
    {
        printf 'defaults\n{\n}\n'
        example upload-service.xinetd | sed -e "$service_lines" \
            -e "s|$EXAMPLE_LAUNCHER|$LC_LAUNCHER|" \
            -e "s|^\\([[:space:]]*port[[:space:]]*=[[:space:]]*\\)$EXAMPLE_PORT\$|\\1$2|" \
            -e "s|^\\([[:space:]]*user[[:space:]]*=[[:space:]]*\\)$EXAMPLE_USER\$|\\1root|" \
            -e "/^{/a\\
	bind        = 127.0.0.1\\
	instances   = UNLIMITED\\
	cps         = 1000 1\\
	log_type    = FILE $tmp/xinetd.log"
    } >"$tmp/inetd.conf"
    grep -qF -e "$SERVICE" "$tmp/inetd.conf" || fail "the example's service line did not match"
}

run_inetd() {
    exec "$XINETD" -f "$tmp/inetd.conf" -dontfork -pidfile "$tmp/xinetd.pid"
}

run_inetd_test
