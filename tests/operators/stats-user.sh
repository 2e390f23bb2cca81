#!/bin/sh
# SPDX-License-Identifier: MIT
# --stats-file with --user ACCOUNT: the launcher checks that the account
# the server will run as (a server that drops privileges, such as nginx's
# workers running as nobody) can reach and write the statistics
# directory, which the launcher's own account (root) always can. The
# library in a process of that account fails there, with the error in
# words; the launcher says so before the server starts. --check --unit
# takes the account from the unit's User=.
#
# Environment: LC_LAUNCHER, LC_LIBRARY.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -x "${LC_LAUNCHER:-}" ] || fail "LC_LAUNCHER does not name the launcher"
[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ "$(id -u)" = 0 ] || skip "needs root, to make a directory only root can write"
id nobody >/dev/null 2>&1 || skip "no account named nobody"
command -v setpriv >/dev/null 2>&1 || skip "setpriv is missing (util-linux)"

use_tmpdir stats-user
nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)
true_program=$(command -v -p true 2>/dev/null || echo /bin/true)
chmod 755 "$tmp"
mkdir -m 700 "$tmp/root-only" "$tmp/nobodys"
chown nobody "$tmp/nobodys"

# launch ARG...: the launcher, its output in $tmp/out and $tmp/err, its
# exit status in $status.
launch() {
    "$LC_LAUNCHER" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    sed 's/^/#   /' "$tmp/err"
}

# What the check is for: the library, in a process of nobody's, cannot
# write there.
setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups \
    env LD_PRELOAD="$lc_preload" LINGERCLOSE_STATS_FILE="$tmp/root-only/stats.prom" \
    "$true_program" 2>"$tmp/library.err"
if grep -q "LINGERCLOSE_STATS_FILE: cannot .*$tmp/root-only/.*: Permission denied (errno 13)" \
    "$tmp/library.err"; then
    pass "the library running as nobody cannot write in a root-only directory, and says why in words"
else
    not_ok "the library running as nobody cannot write in a root-only directory, and says why in words"
    sed 's/^/#   /' "$tmp/library.err"
fi

launch --stats-file="$tmp/root-only/stats.prom" "$true_program"
if [ "$status" = 0 ]; then
    pass "without --user, root's own check passes"
else
    not_ok "without --user, root's own check passes (status $status)"
fi

for order in "--stats-file=$tmp/root-only/stats.prom --user=nobody" \
    "--user=nobody --stats-file=$tmp/root-only/stats.prom"; do
    # shellcheck disable=SC2086 # two options, split on purpose
    launch $order "$true_program"
    if [ "$status" = 125 ] &&
        grep -q "^lingerclose: --stats-file: the account nobody (uid $nobody_uid) cannot write in $tmp/root-only: Permission denied" "$tmp/err"; then
        pass "$order: refused, naming the account and the directory"
    else
        not_ok "$order: refused, naming the account and the directory (status $status)"
    fi
done

launch --check --user nobody --stats-file="$tmp/root-only/stats.prom" "$true_program"
if [ "$status" = 125 ] && grep -q "the account nobody .* cannot write in $tmp/root-only" "$tmp/err"; then
    pass "--check makes the same check"
else
    not_ok "--check makes the same check (status $status)"
fi

chmod 711 "$tmp/root-only"
mkdir -m 1777 "$tmp/root-only/open"
launch --user nobody --stats-file="$tmp/root-only/open/stats.prom" "$true_program"
if [ "$status" = 0 ]; then
    pass "a writable directory behind a directory nobody may only search is accepted"
else
    not_ok "a writable directory behind a directory nobody may only search is accepted (status $status)"
fi
chmod 700 "$tmp/root-only"
launch --user nobody --stats-file="$tmp/root-only/open/stats.prom" "$true_program"
if [ "$status" = 125 ] && grep -q "the account nobody .* cannot search $tmp/root-only:" "$tmp/err"; then
    pass "a directory on the way that nobody may not search is named"
else
    not_ok "a directory on the way that nobody may not search is named (status $status)"
fi

launch --user nobody --stats-file="$tmp/nobodys/stats.prom" "$true_program"
if [ "$status" = 0 ]; then
    pass "a directory the account owns is accepted"
else
    not_ok "a directory the account owns is accepted (status $status)"
fi

# A systemd unit's User= tells the account without --user.
for user in nobody "$nobody_uid"; do
    printf '[Service]\nUser=%s\nEnvironment="LINGERCLOSE_STATS_FILE=%s" LINGERCLOSE_LOG=info\nExecStart=%s\n' \
        "$user" "$tmp/root-only/stats.prom" "$true_program" >"$tmp/service.service"
    launch --check --unit "$tmp/service.service"
    sed 's/^/#   /' "$tmp/out"
    if [ "$status" = 1 ] &&
        grep -q "^no: unit $tmp/service.service: User=$user cannot write the statistics file's directory: the account nobody (uid $nobody_uid) cannot write in $tmp/root-only: Permission denied" "$tmp/out"; then
        pass "--check --unit: a unit with User=$user and a root-only statistics directory cannot work"
    else
        not_ok "--check --unit: a unit with User=$user and a root-only statistics directory cannot work (status $status)"
    fi
done
sed -i "s|$tmp/root-only/stats.prom|$tmp/nobodys/stats.prom|" "$tmp/service.service"
launch --check --unit "$tmp/service.service"
if grep -q "^ok: unit $tmp/service.service: User=$nobody_uid can write the statistics file's directory $tmp/nobodys\$" "$tmp/out"; then
    pass "--check --unit: a statistics directory the unit's User= can write is fine"
else
    not_ok "--check --unit: a statistics directory the unit's User= can write is fine"
    sed 's/^/#   /' "$tmp/out"
fi

launch --user no-such-account-here --stats-file="$tmp/nobodys/stats.prom" "$true_program"
if [ "$status" = 125 ] && grep -q "^lingerclose: --user: no account named 'no-such-account-here'" "$tmp/err"; then
    pass "an unknown account is named"
else
    not_ok "an unknown account is named (status $status)"
fi

checks_done
