#!/bin/sh
# SPDX-License-Identifier: MIT
# When systemd connects stderr to the journal it says so in JOURNAL_STREAM
# ("DEVICE:INODE" of that stream); the library's lines then start with
# their priority ("<4>" warning, "<7>" debug) so the journal files them at
# the right level. When JOURNAL_STREAM names another file (stderr was
# redirected since), lines stay plain.
#
# Environment: LC_LIBRARY. Exit status: 0 pass, 1 fail.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"

use_tmpdir log-journal

: >"$tmp/journal"
stream=$(stat -c '%d:%i' "$tmp/journal")
JOURNAL_STREAM=$stream LD_PRELOAD=$lc_preload LINGERCLOSE_LOG=debug LINGERCLOSE_MODE=bogus \
    /bin/true 2>>"$tmp/journal"
grep -q "^<4>lingerclose\[[0-9]*\]: warning: LINGERCLOSE_MODE='bogus'" "$tmp/journal" ||
    fail "no <4> prefix on the warning: $(cat "$tmp/journal")"
grep -q "^<6>lingerclose\[[0-9]*\]: info: lingerclose .* loaded" "$tmp/journal" ||
    fail "no <6> prefix on the start-up line: $(cat "$tmp/journal")"
[ "$(grep -c -v '^<[467]>lingerclose\[' "$tmp/journal")" = 0 ] ||
    fail "a line without its prefix: $(cat "$tmp/journal")"

for other in "$stream"1 "1:1" "garbage" "$stream:" ""; do
    JOURNAL_STREAM=$other LD_PRELOAD=$lc_preload LINGERCLOSE_MODE=bogus \
        /bin/true 2>"$tmp/plain"
    grep -q "^lingerclose\[[0-9]*\]: warning: LINGERCLOSE_MODE='bogus'" "$tmp/plain" ||
        fail "JOURNAL_STREAM='$other' (not stderr) changed the line: $(cat "$tmp/plain")"
done
echo "PASS: priority prefixes when stderr is the journal, plain lines otherwise"
