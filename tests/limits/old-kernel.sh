#!/bin/sh
# SPDX-License-Identifier: MIT
# The library on Linux 4.18 (RHEL 8's kernel): the integration scenarios,
# the conformance suites and real servers (webfsd, nginx, redis: early
# errors, pipelined requests, large responses) run unchanged under
# syscall-filter --old-kernel, where every system call newer than 4.18
# answers ENOSYS, as on that kernel. The filter is inherited by every
# process and thread the suites start, the library's drain thread
# included. What degrades there: a program's own close_range fails with
# ENOSYS, as it would without the library (the conformance tests of it
# skip), and the library then touches none of the sockets in the range;
# the drain thread closes its copies of the program's descriptors one by
# one instead of with close_range.
# Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/test-lib.sh"

[ -x "${LC_SYSCALL_FILTER:-}" ] ||
    skip "built without libseccomp (./bootstrap --tests installs libseccomp-dev as root; then ./configure)"
[ -d "${LC_BUILDDIR:-}" ] || fail "LC_BUILDDIR does not name the build tree"
use_tmpdir old-kernel

old_kernel() { "$LC_SYSCALL_FILTER" --old-kernel -- "$@"; }

old_kernel true || fail "syscall-filter cannot run a program"

# run_suite NAME COMMAND...: a whole suite under the filter; 77 (skipped
# here too) counts as skipped, not failed.
run_suite() {
    _name=$1
    shift
    old_kernel "$@" >"$tmp/suite.log" 2>&1
    case $? in
        0) pass "$_name passes on Linux 4.18" ;;
        77) skip_check "$_name on Linux 4.18" "$(grep -m1 SKIP "$tmp/suite.log")" ;;
        *) tail -n 30 "$tmp/suite.log" >&2
           not_ok "$_name fails on Linux 4.18" ;;
    esac
}

for suite in integration/scenarios conformance/fds conformance/processes \
    conformance/threads conformance/shared-counts; do
    [ -x "$LC_BUILDDIR/tests/$suite" ] ||
        { skip_check "$suite" "not built (Criterion missing)"; continue; }
    run_suite "$suite" "$LC_BUILDDIR/tests/$suite"
done
# Real servers: early errors (all three), pipelined requests (redis),
# large responses (nginx), each with and without the library; fewer tries
# than their own suites make (each scenario still has to lose a response
# without the library).
TRIES=5
export TRIES
for server in webfs nginx redis; do
    run_suite "servers/$server.sh" sh "$LC_SRCDIR/tests/servers/$server.sh"
done

# The drain thread starts and logs, and lingering works.
LINGERCLOSE_LOG=debug launch_server degraded "$LC_SYSCALL_FILTER" --old-kernel -- \
    "$LC_EARLY_ERROR_SERVER" -n 3
got=$(received "$LC_UPLOAD_CLIENT" -p "$port" -n 3 -s 200000)
end_server 20 || not_ok "the early-error server did not end"
if [ "$got" = 3 ]; then
    pass "early responses delivered on Linux 4.18 with the drain thread logging"
else
    not_ok "on Linux 4.18 only ${got:-no} of 3 early responses arrived"
fi
grep -q 'drain of fd .* ended' "$tmp/degraded.err" ||
    not_ok "the log lines are missing on Linux 4.18: $(cat "$tmp/degraded.err")"
echo "--- the library's log on Linux 4.18:" >&2
cat "$tmp/degraded.err" >&2
checks_done
