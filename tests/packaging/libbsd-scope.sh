#!/bin/sh
# SPDX-License-Identifier: MIT
# The library links libbsd.so.0. Preloading it puts libbsd into the host
# program's global symbol scope, and libbsd defines some names glibc also
# defines (closefrom, arc4random, ...). This test proves that the host
# program still gets glibc's definitions of all of them, except a name the
# library itself interposes (closefrom), which must be the library's.
#
# Environment: LC_LIBRARY (the built library, absolute path), LC_SCOPE_PROBE
# (tests/packaging/libbsd-scope-probe), LC_MAPFILE (shim/liblingerclose.map), NM
# (optional).
# Exit status: 0 pass, 1 fail, 77 skip (the library does not link libbsd).

set -u

NM=${NM:-nm} # may be a command with options, such as "nm -B"

. "$(dirname "$0")/../lib/test-lib.sh"

[ -n "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY is not set"
[ -n "${LC_SCOPE_PROBE:-}" ] || fail "LC_SCOPE_PROBE is not set"
[ -f "${LC_MAPFILE:-}" ] || fail "LC_MAPFILE does not name the version script"
[ -f "$LC_LIBRARY" ] || fail "no library at LC_LIBRARY=$LC_LIBRARY"
[ -x "$LC_SCOPE_PROBE" ] || fail "no probe program at LC_SCOPE_PROBE=$LC_SCOPE_PROBE"

use_tmpdir libbsd-scope

ldd "$LC_LIBRARY" >"$tmp/ldd" 2>&1 || {
    cat "$tmp/ldd" >&2
    fail "ldd $LC_LIBRARY failed"
}

# "	libbsd.so.0 => /lib/x86_64-linux-gnu/libbsd.so.0 (0x...)"
resolved() {
    awk -v want="$1" '$1 == want && $2 == "=>" && $3 ~ /^\// { print $3; exit }' "$tmp/ldd"
}

libbsd=$(resolved libbsd.so.0)
if [ -z "$libbsd" ]; then
    echo "SKIP: ldd does not show libbsd.so.0 resolved for $LC_LIBRARY;" \
        "the library does not link libbsd here, so there is nothing to check" >&2
    cat "$tmp/ldd" >&2
    exit 77
fi
libc=$(resolved libc.so.6)
[ -n "$libc" ] || {
    cat "$tmp/ldd" >&2
    fail "ldd does not show libc.so.6 resolved for $LC_LIBRARY"
}

# The names an object defines for linking: defined dynamic symbols that are
# unversioned or have their default version (name@@VERSION), without the
# version; not the version-definition symbols (type A), not compatibility-only
# versions (name@VERSION) that no new program can bind to, and not names that
# start with '_'.
exported_names() {
    # $NM may hold options (libtool sets "nm -B"): split it.
    # shellcheck disable=SC2086
    $NM -D --defined-only "$1" >"$tmp/nm.out" 2>"$tmp/nm.err" || {
        cat "$tmp/nm.err" >&2
        fail "$NM -D --defined-only $1 failed"
    }
    awk 'NF >= 3 && $2 != "A" {
             name = $3
             if (name ~ /@/ && name !~ /@@/)
                 next
             sub(/@.*/, "", name)
             if (name != "" && substr(name, 1, 1) != "_")
                 print name
         }' "$tmp/nm.out" | LC_ALL=C sort -u
}

exported_names "$libc" >"$tmp/libc.names"
exported_names "$libbsd" >"$tmp/libbsd.names"
[ -s "$tmp/libc.names" ] || fail "no symbols found in $libc"
[ -s "$tmp/libbsd.names" ] || fail "no symbols found in $libbsd"

LC_ALL=C comm -12 "$tmp/libc.names" "$tmp/libbsd.names" >"$tmp/both"
LC_ALL=C comm -13 "$tmp/libc.names" "$tmp/libbsd.names" >"$tmp/bsd-only"

if [ ! -s "$tmp/both" ]; then
    fail "no symbol is defined by both $libc and $libbsd (closefrom was expected" \
        "to be in both); the test would check nothing"
fi

echo "libc:   $libc"
echo "libbsd: $libbsd"
echo "symbols defined by both, checked: $(tr '\n' ' ' <"$tmp/both")"

# Controls that show the probe sees the preload at all: a symbol the library
# interposes must resolve to the library, and one only libbsd defines to
# libbsd (so the check below would notice libbsd winning).
bsd_only=$(head -n 1 "$tmp/bsd-only")
[ -n "$bsd_only" ] || fail "libbsd defines no symbol that libc lacks; no control symbol"
echo "controls: close (expect the library), $bsd_only (expect libbsd)"

# shellcheck disable=SC2046 # one argument per line of the list
LD_PRELOAD="$lc_preload" "$LC_SCOPE_PROBE" close "$bsd_only" $(cat "$tmp/both") \
    >"$tmp/probe.out" 2>"$tmp/probe.err"
status=$?
if [ "$status" -ne 0 ]; then
    cat "$tmp/probe.out" "$tmp/probe.err" >&2
    fail "the probe exited with status $status"
fi

libc_base=${libc##*/}
libbsd_base=${libbsd##*/}
lib_base=${LC_LIBRARY##*/}

# where NAME: the object the probe reported for NAME
where() {
    awk -v n="$1" '$1 == n { print $2; found = 1; exit } END { if (!found) print "" }' \
        "$tmp/probe.out"
}

check() { # check NAME EXPECTED-BASENAME
    path=$(where "$1")
    case "$path" in
    */"$2" | "$2")
        pass "$1 -> $path"
        ;;
    "${LC_PRELOAD_FIRST:-/}")
        pass "$1 -> $path (the sanitizer's runtime, in front of everything)"
        ;;
    "")
        not_ok "$1: no answer from the probe"
        ;;
    *)
        not_ok "$1 -> $path, expected $2"
        ;;
    esac
}

check close "$lib_base"
check "$bsd_only" "$libbsd_base"
while IFS= read -r name; do
    # A name the library interposes on purpose (closefrom) is the library's.
    if grep -qx "    $name;" "$LC_MAPFILE"; then
        check "$name" "$lib_base"
    else
        check "$name" "$libc_base"
    fi
done <"$tmp/both"

if [ "$failures" -ne 0 ]; then
    echo "probe output:" >&2
    cat "$tmp/probe.out" >&2
    exit 1
fi
echo "PASS: every symbol defined by both libc and libbsd resolves to $libc_base," \
    "or to $lib_base where the library interposes it"
exit 0
