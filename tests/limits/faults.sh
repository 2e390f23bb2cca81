#!/bin/sh
# SPDX-License-Identifier: MIT
# The library's own system calls failing, one call and one error at a
# time, injected by strace into the early-error server (the program
# examples/upload-client streams uploads to, which answers 413 at once and
# closes with the body unread). The server makes none of these calls
# itself except around its own sockets, so each failure lands on the
# library: starting the drain thread (socketpair, fcntl, clone3, unshare,
# close_range, epoll), handing a socket over (sendmsg) and the drain
# thread's side (recvmmsg, epoll_ctl), deciding (getsockopt, ioctl,
# shutdown), and the statistics file (openat, renameat).
# For every case:
#   - the server serves every upload and ends by itself (no crash, no
#     hang), with status 0;
#   - its descriptor count after the uploads is the one before (nothing
#     leaks per close), but for what may wait in the park (16 at most)
#     while the drain thread cannot start;
#   - every close is counted, lingering or plain with a reason;
#   - no warning or error is logged twice (one line per kind, not per
#     close);
#   - where the failure is transient (one EINTR, one EAGAIN, one failed
#     hand-off, one failed start), every response still arrives.
# Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/test-lib.sh"

command -v strace >/dev/null 2>&1 ||
    skip "strace is not installed (apt-get install strace; ./bootstrap --tests does it as root)"
[ -x "${LC_EARLY_ERROR_SERVER:-}" ] || fail "LC_EARLY_ERROR_SERVER does not name the server"
use_tmpdir faults

ROUND=2
BODY=200000

# server_of PID: the program strace runs (its only child).
server_of() {
    cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{ print $1 }'
}

fd_count() {
    ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# inject CASE SYSCALL ERRNO WHEN [STRACE-OPTION]...: one run ($expect_line,
# if set, is what the log must say); WHEN is
# strace's (1: the first call only; 1+: every call); -P PATH limits the
# failure to calls on PATH. CASE "transient" also asks for
# every response.
inject() {
    kind=$1 call=$2 error=$3 when=$4
    shift 4
    name="$call-$error-$when"
    failures_before=$failures
    launch_server "$name" LD_PRELOAD= strace -f -qq -o /dev/null -e trace="$call" \
        -e inject="$call:error=$error:when=$when" -E "LD_PRELOAD=$lc_preload" -E "$no_leak_check" \
        -E LINGERCLOSE_LOG=info -E LINGERCLOSE_STATS_FILE="$tmp/stats/$name.prom" \
        -E LINGERCLOSE_STATS_INTERVAL=1s "$@" "$LC_EARLY_ERROR_SERVER" -n $((2 * ROUND + 2))
    server=$(server_of "$server_pid")
    fds_before=$(fd_count "$server")
    got1=$(received "$LC_UPLOAD_CLIENT" -p "$port" -n "$ROUND" -s "$BODY" 2>/dev/null)
    got2=$(received "$LC_UPLOAD_CLIENT" -p "$port" -n "$ROUND" -s "$BODY" 2>/dev/null)
    # Past the retry delay of a failed start: the last connection lets the
    # drain thread start and take what waited in the park.
    ! grep -q 'cannot start the drain thread' "$tmp/$name.err" || sleep 1.2
    received "$LC_UPLOAD_CLIENT" -p "$port" -n 1 -s 0 >/dev/null 2>&1
    # One more for the hand-off socket of a drain thread that started late;
    # where it never starts, what waits in the park (16 at most) until the
    # process ends or the drain's total timeout passes. (The server may
    # still be closing the last connection: a bounded wait.)
    allowed=$((fds_before + 1))
    [ "$kind" = parks ] && allowed=$((allowed + 16))
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        fds_after=$(fd_count "$server")
        [ "${fds_after:-0}" -le "$allowed" ] && break
        sleep 0.2
    done
    [ -n "$fds_after" ] && [ "$fds_after" -gt 0 ] || not_ok "$name: the server ended too early"
    # The last connection, which ends the server.
    received "$LC_UPLOAD_CLIENT" -p "$port" -n 1 -s 0 >/dev/null 2>&1
    if ! end_server 30; then
        not_ok "$name: the server hung (killed after 30 s)"
        return
    fi
    [ "$waited_status" = 0 ] ||
        not_ok "$name: the server ended with status $waited_status: $(tail -n 5 "$tmp/$name.err")"
    [ "${fds_after:-0}" -le "$allowed" ] ||
        not_ok "$name: descriptors grew from $fds_before to $fds_after over $((2 * ROUND + 1)) closes"
    summary=$(grep 'summary: ' "$tmp/$name.err" | tail -n 1)
    closes=$(echo "$summary" | sed -n 's/.* closes=\([0-9]*\) lingering=\([0-9]*\) plain=\([0-9]*\).*/\1 \2 \3/p')
    set -- $closes
    if [ "$kind" = silent ]; then
        [ $# = 0 ] || not_ok "$name: a log line got through: $summary"
    elif [ $# != 3 ] || [ $(($2 + $3)) != "$1" ]; then
        not_ok "$name: closes not all counted: $summary"
        tail -n 5 "$tmp/$name.err" >&2
    fi
    twice=$(grep -E ': (warning|error): ' "$tmp/$name.err" | sed 's/^[^:]*: //; s/[0-9][0-9]*/N/g' |
        sort | uniq -d)
    [ -z "$twice" ] || not_ok "$name: logged more than once: $twice"
    [ -z "${expect_line:-}" ] || grep -q "$expect_line" "$tmp/$name.err" ||
        not_ok "$name: no line says '$expect_line'"
    delivered=$((${got1:-0} + ${got2:-0}))
    if [ "$kind" = transient ] && [ "$delivered" != $((2 * ROUND)) ]; then
        not_ok "$name: a transient failure lost responses: $delivered of $((2 * ROUND)) arrived"
        cat "$tmp/$name.err" >&2
    fi
    echo "$call $error (when=$when): $delivered of $((2 * ROUND)) delivered;" \
        "$(echo "$summary" | sed 's/.*summary: //; s/; drains.*//')"
    grep -E ': (warning|error): ' "$tmp/$name.err" | sed 's/^/    /'
    [ "$failures" != "$failures_before" ] || pass "$name"
}

mkdir "$tmp/stats"
# What a service gets by default: without close_range the drain thread's
# start closes each number up to the limit, which strace makes slow.
server_nofile=1024
# Transient: one failure, then the call works again.
inject transient sendmsg EAGAIN 1
inject transient sendmsg EINTR 1
inject transient sendmsg ENOBUFS 1
inject transient clone3 EAGAIN 1
inject transient socketpair EMFILE 1
# strace counts calls per thread: every new drain thread's first unshare
# or epoll_create1 fails again, as if the shortage lasted.
inject parks unshare ENOMEM 1
inject parks epoll_create1 EMFILE 1
inject transient openat EMFILE 1 -P "$tmp/stats"
inject transient renameat EACCES 1 -P "$tmp/stats"
# Lasting: every call fails; the server goes on with plain closes.
for error in EMFILE ENFILE ENOMEM; do inject parks socketpair "$error" 1+; done
for error in EAGAIN ENOMEM; do inject parks clone3 "$error" 1+; done
inject lasting clone3 EPERM 1+
# The log cannot take its copy of stderr either: every line is lost.
inject silent fcntl EMFILE 1+
inject parks unshare ENOMEM 1+
for error in EPERM EINVAL; do inject lasting unshare "$error" 1+; done
inject lasting close_range EPERM 1+
inject lasting close_range ENOSYS 1+
for error in EMFILE ENOMEM; do inject parks epoll_create1 "$error" 1+; done
inject parks epoll_ctl ENOMEM 1+
for error in ENOSPC EPERM; do inject lasting epoll_ctl "$error" 1+; done
for error in EAGAIN ENOBUFS EPERM EINTR; do inject lasting sendmsg "$error" 1+; done
expect_line='the drain thread cannot receive sockets'
for error in EINTR ENOMEM; do inject lasting recvmmsg "$error" 1+; done
# A filter that allows only recvmsg: the hand-offs are taken one at a time.
expect_line='taking hand-offs one at a time'
inject transient recvmmsg EPERM 1+
expect_line=
# The accepted sockets cannot be recognised: the library leaves them
# alone, and their closes are the program's own, uncounted.
for error in EPERM ENOMEM; do inject lasting getsockopt "$error" 1+; done
inject lasting ioctl EPERM 1+
inject lasting shutdown EPERM 1+
for error in EMFILE ENFILE EACCES; do inject lasting openat "$error" 1+ -P "$tmp/stats"; done
inject lasting openat EMFILE 1+ -P /dev/null
inject lasting renameat EACCES 1+ -P "$tmp/stats"
checks_done
