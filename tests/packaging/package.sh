#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian package, checked as built: lintian finds no error or warning,
# it holds the launcher, the library where the launcher looks for it and
# the man pages, which name the library where the package puts it, and,
# installed (over the system's /usr in a private mount namespace, so that
# the system itself is left alone), its launcher runs
# the demo's server with its library and every response arrives, while the
# same server without it loses them.
#
#   tests/packaging/package.sh DIR EXAMPLES_DIR
#
# DIR holds the .deb and .changes and the sources they were built from (as
# 'make deb' leaves them); EXAMPLES_DIR the built early-error-server and
# upload-client. Run by 'make deb-check'.
# Exit 77 when a tool it needs is missing.

if [ $# -ne 2 ]; then
    echo "usage: $0 DIR EXAMPLES_DIR" >&2
    exit 2
fi
dir=$1
examples=$2

. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/man-paths.sh"

for tool in dpkg-deb lintian unshare; do
    command -v "$tool" >/dev/null 2>&1 ||
        skip "$tool is missing (apt-get install dpkg lintian util-linux)"
done

deb=$(ls "$dir"/lingerclose_*.deb 2>/dev/null)
changes=$(ls "$dir"/lingerclose_*.changes 2>/dev/null)
if [ "$(echo "$deb" | wc -w)" -ne 1 ] || [ "$(echo "$changes" | wc -w)" -ne 1 ]; then
    echo "expected one lingerclose_*.deb and one .changes in $dir (run 'make deb')" >&2
    exit 1
fi

use_tmpdir package

# Informational tags are hints, not findings.
if lintian --allow-root --fail-on error,warning "$changes" >"$tmp/lintian" 2>&1; then
    pass "lintian: no error or warning"
else
    not_ok "lintian: no error or warning"
fi
sed 's/^/#   /' "$tmp/lintian"

dpkg-deb --contents "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$tmp/contents"
library=$(grep '/lingerclose/liblingerclose\.so$' "$tmp/contents")
# Every man page of the sources the package was built from.
pages=
for page in "$dir"/lingerclose-*/doc/*.[1-8]; do
    [ -f "$page" ] && pages="$pages /usr/share/man/man${page##*.}/${page##*/}.gz"
done
for wanted in /usr/bin/lingerclose "$library" $pages; do
    if [ -n "$wanted" ] && grep -qx "$wanted" "$tmp/contents"; then
        pass "the package holds $wanted"
    else
        not_ok "the package holds ${wanted:-the library in a lingerclose/ directory}"
    fi
done
if grep -q '\.la$' "$tmp/contents"; then
    not_ok "the package holds no libtool archive"
else
    pass "the package holds no libtool archive"
fi

root=$tmp/root
dpkg-deb --extract "$deb" "$root" || exit 1
# The launcher looks for the library at the path compiled into it.
if [ -n "$library" ] && grep -qaF "$library" "$root/usr/bin/lingerclose"; then
    pass "the launcher looks for the library at $library"
else
    not_ok "the launcher looks for the library at ${library:-its packaged path}"
fi

# The man pages name the library where the package installs it.
check_man_page_paths "$root" "the package"

# The operators' examples name the packaged library (dh_compress may have
# compressed the larger ones).
named=$(find "$root/usr/share/doc/lingerclose/examples" -type f -exec zcat -f {} + 2>/dev/null |
    grep -oE '/[^[:space:]"=:]*/liblingerclose\.so' | sort -u)
if [ -n "$named" ] && [ "$named" = "$library" ]; then
    pass "the packaged examples name the packaged library"
else
    not_ok "the packaged examples name the packaged library; they name: ${named:-nothing}"
fi

# In a mount namespace of its own, the package's /usr laid over the
# system's: the launcher and library run from the paths they were built for.
cat >"$tmp/installed-run" <<'EOF'
set -u
. "$LC_TEST_LIB"
root=$1 examples=$2 library=$3 tmp=$4
mount -t overlay overlay -o "lowerdir=$root/usr:/usr" /usr || exit 77
tries=20

# serve LOG COMMAND...: the demo's server for $tries connections against
# $tries uploads of 1 MB; prints the client's summary, returns its status.
serve() {
    log=$1
    shift
    "$@" "$examples/early-error-server" -n "$tries" >"$tmp/server.out" 2>"$log" &
    pid=$!
    wait_ready "$tmp/server.out" $pid ||
        { echo "the server did not start"; cat "$log"; stop_process $pid; return 2; }
    awk '$6 ~ /liblingerclose\.so$/ { print $6 }' "/proc/$pid/maps" | sort -u >"$tmp/mapped"
    { "$examples/upload-client" -p "$port" -n "$tries" -s 1000000
      echo $? >"$tmp/client.status"; } | sed 's/^/#   /'
    status=$(cat "$tmp/client.status")
    stop_process $pid
    return $status
}

if serve "$tmp/plain.err" env; then
    not_ok "without the library the server loses responses"
else
    pass "without the library the server loses responses"
fi
if serve "$tmp/installed.err" /usr/bin/lingerclose --log=debug --; then
    pass "under the packaged launcher every response arrives"
else
    not_ok "under the packaged launcher every response arrives"
fi
if [ "$(cat "$tmp/mapped")" = "$library" ]; then
    pass "the server ran with the packaged library $library"
else
    not_ok "the server ran with the packaged library $library (mapped: $(cat "$tmp/mapped"))"
fi
checks_done
EOF
if unshare --mount true 2>/dev/null; then
    LC_TEST_LIB="$(cd "$(dirname "$0")/../lib" && pwd)/test-lib.sh" \
        unshare --mount --propagation private sh "$tmp/installed-run" "$root" "$examples" "$library" \
        "$tmp"
    status=$?
else
    status=77
fi
case $status in
    0) ;;
    77)
        [ "$failures" -eq 0 ] && skip "the packaged launcher was not run: laying the package over" \
            "/usr needs root (unshare --mount) and overlayfs"
        skip_check "the packaged launcher runs" \
            "laying the package over /usr needs root (unshare --mount) and overlayfs"
        ;;
    *) not_ok "the packaged launcher runs as installed" ;;
esac

checks_done
