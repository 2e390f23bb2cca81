#!/bin/sh
# SPDX-License-Identifier: MIT
# The library must export exactly the functions it interposes: the defined
# dynamic symbols of the built library must be the global names of the
# version script, no more, no fewer.
#
# Environment: LC_LIBRARY (the built library, absolute path), LC_MAPFILE
# (shim/liblingerclose.map), NM (optional, default nm).
# Exit status: 0 pass, 1 fail.

set -u

NM=${NM:-nm} # may be a command with options, such as "nm -B"

. "$(dirname "$0")/../lib/test-lib.sh"

[ -n "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY is not set"
[ -n "${LC_MAPFILE:-}" ] || fail "LC_MAPFILE is not set"
[ -f "$LC_LIBRARY" ] || fail "no library at LC_LIBRARY=$LC_LIBRARY"
[ -f "$LC_MAPFILE" ] || fail "no version script at LC_MAPFILE=$LC_MAPFILE"

use_tmpdir exported

# The names between "global:" and "local:", without comments, semicolons and
# blanks, one per line.
awk '
    {
        line = $0
        # comments: /* ... */ (also across lines) and # or // to end of line
        out = ""
        while (line != "") {
            if (incomment) {
                end = index(line, "*/")
                if (end == 0) { line = ""; break }
                line = substr(line, end + 2)
                incomment = 0
            } else {
                start = index(line, "/*")
                if (start == 0) { out = out line; line = ""; break }
                out = out substr(line, 1, start - 1) " "
                line = substr(line, start + 2)
                incomment = 1
            }
        }
        sub(/(#|\/\/).*/, "", out)
        gsub(/[{};]/, " ; ", out)
        n = split(out, words, /[ \t]+/)
        for (i = 1; i <= n; i++) {
            w = words[i]
            if (w == "" || w == ";")
                continue
            if (w == "global:") { inglobal = 1; continue }
            if (w == "local:") { inglobal = 0; continue }
            if (w ~ /^global:/) { inglobal = 1; w = substr(w, 8) }
            else if (w ~ /^local:/) { inglobal = 0; continue }
            if (inglobal && w != "")
                print w
        }
    }
' "$LC_MAPFILE" | LC_ALL=C sort -u >"$tmp/expected"

[ -s "$tmp/expected" ] || fail "no global names found in $LC_MAPFILE"

# $NM may hold options (libtool sets "nm -B"): split it.
# shellcheck disable=SC2086
$NM -D --defined-only "$LC_LIBRARY" >"$tmp/nm.out" 2>"$tmp/nm.err" || {
    cat "$tmp/nm.err" >&2
    fail "$NM -D --defined-only $LC_LIBRARY failed"
}
# "0000000000003fc0 T close"; type A symbols are version definitions, not
# exports; drop any @VERSION or @@VERSION suffix.
awk 'NF >= 3 && $2 != "A" { name = $3; sub(/@.*/, "", name); print name }' \
    "$tmp/nm.out" | LC_ALL=C sort -u >"$tmp/actual"

if cmp -s "$tmp/expected" "$tmp/actual"; then
    echo "PASS: $LC_LIBRARY exports exactly the $(wc -l <"$tmp/expected" | tr -d ' ')" \
        "global names of $LC_MAPFILE"
    exit 0
fi

echo "--- expected (version script)  +++ actual (nm -D --defined-only)" >&2
diff -u "$tmp/expected" "$tmp/actual" | tail -n +3 >&2
fail "the defined dynamic symbols of $LC_LIBRARY differ from the global names of $LC_MAPFILE"
