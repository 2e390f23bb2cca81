#!/bin/sh
# SPDX-License-Identifier: MIT
# One version everywhere: AC_INIT in configure.ac is the source; the
# launcher's --version, the library's start-up line (LINGERCLOSE_LOG=debug)
# and its stats file, debian/changelog's latest entry, NEWS's latest entry
# and the man pages' headers must all say the same.
# Needs LC_LAUNCHER and LC_LIBRARY (set by 'make check'), and srcdir.

if [ -z "${LC_LAUNCHER:-}" ] || [ -z "${LC_LIBRARY:-}" ] || [ -z "${srcdir:-}" ]; then
    echo "LC_LAUNCHER, LC_LIBRARY and srcdir must be set (run this through 'make check')" >&2
    exit 1
fi

# lc_preload: the library as preloaded here
. "$(dirname "$0")/../lib/test-lib.sh"

unset LD_PRELOAD JOURNAL_STREAM LINGERCLOSE_MODE LINGERCLOSE_LOG LINGERCLOSE_LOG_TARGET \
    LINGERCLOSE_STATS_FILE LINGERCLOSE_STATS_INTERVAL

use_tmpdir version

# same WHAT FOUND: FOUND must be the version of configure.ac.
same() {
    if [ "$2" = "$version" ]; then
        pass "$1: $2"
    else
        not_ok "$1: '$2', configure.ac says $version"
    fi
}

version=$(sed -n 's/^AC_INIT(\[lingerclose\], *\[\([^]]*\)\].*/\1/p' "$srcdir/configure.ac")
if [ -z "$version" ]; then
    fail "no version in AC_INIT([lingerclose], [VERSION], ...) of $srcdir/configure.ac"
fi
echo "# configure.ac: $version"

same "the launcher's --version" "$("$LC_LAUNCHER" --version | sed -n 's/^lingerclose //p')"

LD_PRELOAD=$lc_preload LINGERCLOSE_LOG=debug sh -c 'exit 0' 2>"$tmp/debug"
same "the library's start-up line" \
    "$(sed -n 's/^lingerclose\[[0-9]*\]: info: lingerclose \([^ ]*\) loaded.*/\1/p' "$tmp/debug")"

# The stats file is written at exit; a library without its writer (no
# lingerclose_info series in it) cannot be asked.
if grep -q lingerclose_info "$LC_LIBRARY"; then
    LD_PRELOAD=$lc_preload LINGERCLOSE_STATS_FILE=$tmp/stats.prom LINGERCLOSE_STATS_INTERVAL=0 \
        sh -c 'exit 0'
    same "the library's stats file (lingerclose_info)" \
        "$(sed -n 's/^lingerclose_info{.*version="\([^"]*\)".*/\1/p' "$tmp/stats.prom" 2>/dev/null)"
else
    skip_check "the library's stats file" "this library writes no stats file"
fi

# Native or not, the package's version starts with the upstream one.
debian=$(sed -n '1s/^lingerclose (\([^)]*\)).*/\1/p' "$srcdir/debian/changelog")
debian=${debian#*:}
same "debian/changelog's latest entry" "${debian%-*}"

same "NEWS's latest entry" "$(sed -n 's/^\([0-9][0-9.]*\) .*/\1/p' "$srcdir/NEWS" | head -n 1)"

for page in "$srcdir"/doc/*.[1-8]; do
    [ -f "$page" ] || continue
    same "${page##*/}'s .TH header" \
        "$(sed -n 's/^\.TH .*"lingerclose \([^"]*\)".*/\1/p' "$page" | head -n 1)"
done

checks_done
