#!/bin/sh
# SPDX-License-Identifier: MIT
# How many system calls the library adds to a close() that ends plainly,
# counted with strace on the closing thread between two markers of
# bench/close-cost --one (built here as tests/integration/close-questions):
# at most one question for a TCP socket the peer has closed or reset, none
# for a socket the library already knows is no candidate (the app set
# SO_LINGER {1, 0}, a second descriptor still holds it, a unix-domain
# socket from accept()). A count, never a time: the decision rule itself
# is the scenarios' business.
#
# Environment: LC_LIBRARY, LC_CLOSE_QUESTIONS. Exit status: 0 pass, 1 fail,
# 77 skip.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ -x "${LC_CLOSE_QUESTIONS:-}" ] || fail "LC_CLOSE_QUESTIONS does not name tests/integration/close-questions"
command -v strace >/dev/null 2>&1 || skip "strace is not installed"
use_tmpdir close-questions

# calls KIND: the system calls of the one marked close of KIND, by name.
calls() {
    strace -qq -o "$tmp/trace" -E "LD_PRELOAD=$lc_preload" -E "$no_leak_check" \
        "$LC_CLOSE_QUESTIONS" --one "$1" \
        >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; return 1; }
    awk '/close-cost:begin/ { inside = 1; next }
         /close-cost:end/ { exit }
         inside && /\(/ { sub(/\(.*/, ""); printf "%s ", $0 }' "$tmp/trace"
}

# expect KIND MOST: the close of KIND makes at most MOST calls besides close.
expect() {
    _calls=$(calls "$1") || { not_ok "$1: the program failed"; return; }
    _extra=$(($(echo "$_calls" | wc -w) - 1))
    if [ "$_extra" -le "$2" ] && echo "$_calls" | grep -q close; then
        pass "$1: $_extra extra ($_calls)"
    else
        not_ok "$1: $_extra extra system calls, at most $2 expected ($_calls)"
    fi
}

expect tcp_peer_closed 1
expect tcp_peer_reset 1
expect tcp_abortive 0
expect tcp_shared 0
expect unix_accepted 0
expect pipe 0
checks_done
