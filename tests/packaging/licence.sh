#!/bin/sh
# SPDX-License-Identifier: MIT
# The licence is stated where users, packagers and contributors look: the
# LICENSE file (MIT), an SPDX line in every source file of the distributed
# tree, debian/copyright in Debian's machine-readable format naming the
# same licence, and a real maintainer in debian/control.
# Needs srcdir (set by 'make check').

. "$(dirname "$0")/../lib/test-lib.sh"

[ -n "${srcdir:-}" ] || fail "srcdir must be set (run this through 'make check')"
top=$srcdir

if grep -q '^MIT License$' "$top/LICENSE" 2>/dev/null; then
    pass "LICENSE states the MIT licence"
else
    not_ok "LICENSE is missing or does not start with 'MIT License'"
fi

# Every source of the distributed tree: C, shell, automake, autoconf, man
# pages, templates, and the scripts without a suffix. Built files (in a
# build inside the source tree) are not sources: only what has a source's
# name in a source folder is looked at.
sources=$(cd "$top" && {
    find shim launcher progs tests fuzz bench examples -type f \
        \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.am' -o -name '*.in' \
           -o -name '*.gp' -o -name '*.map' -o -name '*.service' \) \
        -not -path 'tests/*/.libs/*'
    ls Makefile.am configure.ac bootstrap mk/*.am doc/*.1 doc/*.7 bench/run fuzz/run \
        tests/run-sanitizers tests/run-valgrind debian/rules 2>/dev/null
} | sort)
[ -n "$sources" ] || fail "no source files found under $top"

count=0
unlabelled=0
for f in $sources; do
    count=$((count + 1))
    if ! head -n 3 "$top/$f" | grep -q 'SPDX-License-Identifier: MIT'; then
        not_ok "$f: no 'SPDX-License-Identifier: MIT' line in its first three lines"
        unlabelled=$((unlabelled + 1))
    fi
done
[ "$unlabelled" -eq 0 ] && pass "all $count source files carry an SPDX line"
[ "$count" -ge 100 ] || not_ok "only $count source files found: the search is broken?"

copyright=$top/debian/copyright
if [ -f "$copyright" ]; then
    if head -n 1 "$copyright" |
        grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/$' &&
        grep -q '^Files: \*$' "$copyright" && grep -q '^License: Expat$' "$copyright" &&
        ! grep -qi 'unstated' "$copyright"; then
        pass "debian/copyright names the licence (Expat, Debian's name for MIT) machine-readably"
    else
        not_ok "debian/copyright is not machine-readable or does not name the Expat (MIT) licence"
    fi
    maintainer=$(sed -n 's/^Maintainer: //p' "$top/debian/control")
    case "$maintainer" in
        *'<'*@*.*'>'*)
            case "$maintainer" in
                *.invalid\>*|*example*|*placeholder*)
                    not_ok "debian/control's maintainer is a placeholder: $maintainer" ;;
                *) pass "debian/control names its maintainer: $maintainer" ;;
            esac ;;
        *) not_ok "debian/control's Maintainer is not 'Name <address>': '$maintainer'" ;;
    esac
else
    skip_check "debian/copyright" "not in this tree"
fi

checks_done
