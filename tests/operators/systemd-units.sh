#!/bin/sh
# SPDX-License-Identifier: MIT
# The systemd examples are units systemd accepts: examples/systemd's
# service and drop-in, installed in a unit directory of their own, pass
# "systemd-analyze verify" (systemd's own parser: unknown keys, bad lines
# and missing programs are all reported) without a single complaint; the
# drop-in preloads the library from the configured pkglibdir. Then a
# misspelt key in the drop-in, a line without "=" in the unit and a
# missing program must each be reported: this test must be able to fail.
#
# Environment: LC_OPERATOR_EXAMPLES (the build's examples/, with the
# generated drop-in), LC_INSTALLED_PKGLIBDIR, srcdir (set by 'make check').
# Exit status: 0 pass, 1 fail, 77 skip.

set -u

. "$(dirname "$0")/../lib/test-lib.sh"

top_srcdir=${srcdir:-$(dirname "$0")/../..}
unit_in=$top_srcdir/examples/systemd/upload-service.service
dropin_built=${LC_OPERATOR_EXAMPLES:-}/systemd/lingerclose.conf
server=${LC_OPERATOR_EXAMPLES:-}/early-error-server
[ -f "$unit_in" ] || { echo "no $unit_in" >&2; exit 1; }
[ -f "$dropin_built" ] || { echo "no generated drop-in $dropin_built (run through 'make check')" >&2; exit 1; }
[ -x "$server" ] || { echo "no $server" >&2; exit 1; }
[ -n "${LC_INSTALLED_PKGLIBDIR:-}" ] || { echo "LC_INSTALLED_PKGLIBDIR is not set" >&2; exit 1; }

command -v systemd-analyze >/dev/null 2>&1 ||
    skip "systemd-analyze is missing (apt-get install systemd)"

use_tmpdir systemd-units

# install_units DIR: the example unit, its program replaced by the demo
# server of this build (verify checks that it exists), and the drop-in.
install_units() {
    mkdir -p "$1/upload-service.service.d"
    sed "s|^ExecStart=/usr/local/libexec/upload-service|ExecStart=$server|" "$unit_in" \
        >"$1/upload-service.service"
    cp "$dropin_built" "$1/upload-service.service.d/lingerclose.conf"
    grep -q "^ExecStart=$server\$" "$1/upload-service.service" ||
        not_ok "the example unit has no ExecStart=/usr/local/libexec/upload-service to replace"
}

# verify DIR: systemd-analyze verify of DIR's service, DIR first in the
# unit search path (the trailing ":" keeps systemd's own directories, for
# network.target and multi-user.target). Leaves its output in $tmp/verify.
verify() {
    (cd "$1" && SYSTEMD_UNIT_PATH="$1:" systemd-analyze verify --man=no \
        "$1/upload-service.service") >"$tmp/verify" 2>&1
}

# A container without systemd as PID 1 still runs verify: it only loads
# units. If it cannot run at all here, that is a skip, not a pass.
mkdir -p "$tmp/probe"
printf '[Service]\nExecStart=/bin/true\n' >"$tmp/probe/probe.service"
(cd "$tmp/probe" && SYSTEMD_UNIT_PATH="$tmp/probe:" systemd-analyze verify --man=no \
    "$tmp/probe/probe.service") >"$tmp/probe.out" 2>&1 ||
    skip "systemd-analyze verify cannot run here: $(head -n 1 "$tmp/probe.out")"

good=$tmp/good
install_units "$good"
if verify "$good" && [ ! -s "$tmp/verify" ]; then
    echo "ok: the example service and its drop-in pass systemd-analyze verify"
else
    not_ok "systemd-analyze verify complains about the examples:"
    cat "$tmp/verify" >&2
fi

preload=$(sed -n 's/^Environment=LD_PRELOAD=//p' "$good/upload-service.service.d/lingerclose.conf")
if [ "$preload" = "$LC_INSTALLED_PKGLIBDIR/liblingerclose.so" ]; then
    echo "ok: the drop-in preloads $preload, where 'make install' puts the library"
else
    not_ok "the drop-in preloads '$preload', not $LC_INSTALLED_PKGLIBDIR/liblingerclose.so"
fi
grep -q '^Environment=LINGERCLOSE_STATS_FILE=.*%%p' "$good/upload-service.service.d/lingerclose.conf" ||
    not_ok "the drop-in's statistics file has no %%p (one file per process, escaped for systemd)"

# must_complain NAME DIR PATTERN: verify of DIR reports PATTERN.
must_complain() {
    verify "$2"
    if grep -q -e "$3" "$tmp/verify"; then
        echo "ok: $1 is reported: $(grep -m 1 -e "$3" "$tmp/verify")"
    else
        not_ok "$1 is not reported by systemd-analyze verify; it said:"
        cat "$tmp/verify" >&2
    fi
}

broken=$tmp/misspelt-key
install_units "$broken"
sed -i 's/^Environment=LINGERCLOSE_STATS_INTERVAL=/Enviroment=LINGERCLOSE_STATS_INTERVAL=/' \
    "$broken/upload-service.service.d/lingerclose.conf"
must_complain "a misspelt key in the drop-in" "$broken" "Unknown key 'Enviroment'"

broken=$tmp/no-equals
install_units "$broken"
sed -i 's/^Restart=on-failure$/Restart on-failure/' "$broken/upload-service.service"
must_complain "a line without '=' in the unit" "$broken" "Missing '='"

broken=$tmp/missing-program
install_units "$broken"
sed -i "s|^ExecStart=.*|ExecStart=$tmp/no-such-program|" "$broken/upload-service.service"
must_complain "a missing program" "$broken" "no-such-program.*not executable"

[ "$failures" = 0 ] || exit 1
echo "PASS: the systemd examples are valid units, and broken ones are caught"
