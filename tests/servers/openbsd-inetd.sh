#!/bin/sh
# SPDX-License-Identifier: MIT
# A real openbsd-inetd, configured from examples/inetd/inetd.conf: the
# launcher as the service program, as the example says (inetd removes
# LD_PRELOAD from its services' environment), delivers every early
# response; the service run directly loses them. See tests/lib/inetd.sh.
# openbsd-inetd conflicts with xinetd, which the other tests use, so when
# it is not installed its package is fetched with 'apt-get download' and
# unpacked for this run only.
# Exit status: 0 pass, 1 fail, 77 skip.

# shellcheck source=tests/lib/inetd.sh
. "$(dirname "$0")/../lib/inetd.sh"

inetd_name=openbsd-inetd
if [ -x /usr/sbin/inetd ] && dpkg-query -S /usr/sbin/inetd 2>/dev/null | grep -q '^openbsd-inetd:'; then
    INETD=/usr/sbin/inetd
else
    command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 ||
        skip "openbsd-inetd is not installed and there is no apt-get to fetch it"
    (cd "$tmp" && timeout 120 apt-get download openbsd-inetd) >"$tmp/download.log" 2>&1 &&
        dpkg-deb -x "$tmp"/openbsd-inetd_*.deb "$tmp/openbsd-inetd" 2>>"$tmp/download.log" ||
        skip "openbsd-inetd is not installed and 'apt-get download openbsd-inetd' failed:" \
            "$(grep -m 1 -E '^(E|W):' "$tmp/download.log")"
    INETD=$tmp/openbsd-inetd/usr/sbin/inetd
fi
# An invalid option: it prints its usage and exits, if it can run at all.
"$INETD" -h >"$tmp/probe.out" 2>&1
grep -q 'error while loading shared libraries' "$tmp/probe.out" &&
    skip "openbsd-inetd cannot run: $(head -n 1 "$tmp/probe.out") (apt-get install libwrap0 libevent-2.1-7)"
user=$(id -un)

# The example's line with this test's port (on loopback), user, launcher
# and service; without the library, the service is the server itself.
inetd_config() { # PRELOAD PORT
    if [ "$1" = yes ]; then
        service_line="s|\\([[:space:]]\\)-- $EXAMPLE_SERVICE\$|\\1-- $SERVICE $SERVICE_ARGS|"
    else
        service_line="s|${EXAMPLE_LAUNCHER}[[:space:]][[:space:]]*lingerclose .* -- $EXAMPLE_SERVICE\$|$SERVICE	stdio-service $SERVICE_ARGS|"
    fi
    example inetd.conf | sed -e "$service_line" \
        -e "s|$EXAMPLE_LAUNCHER|$LC_LAUNCHER|" \
        -e "s|^$EXAMPLE_PORT\\([[:space:]]\\)|127.0.0.1:$2\\1|" \
        -e "s|\\([[:space:]]\\)$EXAMPLE_USER\\([[:space:]]\\)|\\1$user\\2|" >"$tmp/inetd.conf"
    grep -qF -e "$SERVICE" "$tmp/inetd.conf" || fail "the example's service line did not match"
}

# -d: in the foreground, with its log on stderr.
run_inetd() {
    exec "$INETD" -d "$tmp/inetd.conf"
}

run_inetd_test
