#!/bin/sh
# SPDX-License-Identifier: MIT
# A real installation: the distributed sources configured with a temporary
# prefix, built and installed with 'make install'; the installed launcher
# runs the demo's server (an early "413" to uploads, then close) and must
# load the installed library and save every response, while the same
# server without it loses them; 'make uninstall' must leave no file behind.
# A DESTDIR installation (what packagers do) must install the same files,
# its man pages must name the library where it installed it, and its
# uninstallation must leave none of the package's directories.
#
# The build is its own, not this tree's: the launcher has the installed
# library's path compiled in, so it must be configured with the prefix it
# is installed under.
# Needs LC_TOP_BUILDDIR and LC_MAKE (set by 'make check').

if [ -z "${LC_TOP_BUILDDIR:-}" ] || [ -z "${LC_MAKE:-}" ]; then
    echo "LC_TOP_BUILDDIR and LC_MAKE must be set (run this through 'make check')" >&2
    exit 1
fi

# The make running this test must not pass its jobs, flags or command-line
# variables on to the builds below, nor a DESTDIR to the real installation.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES DESTDIR LD_PRELOAD
unset LINGERCLOSE_MODE LINGERCLOSE_LOG LINGERCLOSE_LOG_TARGET LINGERCLOSE_PORTS \
    LINGERCLOSE_EXCLUDE_PORTS LINGERCLOSE_STATS_FILE

. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/man-paths.sh"

tries=20
body_bytes=1000000

use_tmpdir install
server_pid=
at_exit 'stop_process "$server_pid"'

prefix=$tmp/prefix

# step DESCRIPTION LOG COMMAND...: runs COMMAND with its output in LOG;
# on failure shows the end of LOG and stops the test.
step() {
    description=$1
    log=$2
    shift 2
    if "$@" >"$log" 2>&1; then
        pass "$description"
    else
        not_ok "$description"
        tail -n 40 "$log" | sed 's/^/#   /'
        exit 1
    fi
}

# Files and symbolic links under a directory, one relative path a line.
files_under() {
    (cd "$1" 2>/dev/null && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
}

step "copy of the distributed sources (make distdir)" "$tmp/distdir.log" \
    "$LC_MAKE" -C "$LC_TOP_BUILDDIR" distdir distdir="$tmp/src"
mkdir "$tmp/build" || exit 1
step "configure --prefix=$prefix" "$tmp/configure.log" \
    sh -c 'cd "$1" && "$2/configure" --disable-dependency-tracking --prefix="$3"' \
    sh "$tmp/build" "$tmp/src" "$prefix"
step "make" "$tmp/make.log" "$LC_MAKE" -C "$tmp/build"
step "make install" "$tmp/install.log" "$LC_MAKE" -C "$tmp/build" install

files_under "$prefix" >"$tmp/installed"
echo "# installed under $prefix:"
sed 's/^/#   /' "$tmp/installed"

launcher=$prefix/bin/lingerclose
if [ -x "$launcher" ]; then
    pass "the launcher is installed in bindir"
else
    not_ok "the launcher is installed in bindir"
fi

library=
if [ "$(grep -c '/liblingerclose\.so$' "$tmp/installed")" -eq 1 ]; then
    library=$prefix/$(grep '/liblingerclose\.so$' "$tmp/installed")
    case $library in
        */lingerclose/liblingerclose.so) pass "the library is installed in pkglibdir" ;;
        *) not_ok "the library is installed in pkglibdir (found $library)" ;;
    esac
else
    not_ok "exactly one liblingerclose.so is installed"
fi
if grep -q '\.la$' "$tmp/installed"; then
    not_ok "no libtool archive is installed"
else
    pass "no libtool archive is installed"
fi

# Only a launcher in the build tree uses the library built beside it: an
# installed one never loads a file planted in a shim/.libs beside its own
# directory (whoever may write there could run code in every service).
if [ -x "$launcher" ] && [ -n "$library" ]; then
    mkdir -p "$prefix/bin/shim/.libs" &&
        printf 'not a library\n' >"$prefix/bin/shim/.libs/liblingerclose.so"
    preloaded=$("$launcher" -- env 2>/dev/null | sed -n 's/^LD_PRELOAD=//p')
    rm -rf "$prefix/bin/shim"
    case ":$preloaded:" in
        *":$library:"*) pass "the installed launcher preloads the installed library, not a planted one" ;;
        *) not_ok "the installed launcher preloads the installed library, not a planted one (LD_PRELOAD=$preloaded)" ;;
    esac
fi

# Every man page of the sources, in the section its name gives.
for page in "$tmp"/src/doc/*.[1-8]; do
    [ -f "$page" ] || continue
    name=${page##*/}
    if grep -q "/man${name##*.}/$name\$" "$tmp/installed"; then
        pass "man page $name is installed"
    else
        not_ok "man page $name is installed"
    fi
done

# The operators' examples name the library and the launcher where this
# installation put them.
examples_dir=$prefix/share/doc/lingerclose/examples
if [ -d "$examples_dir" ]; then
    named=$(grep -rhoE '/[^[:space:]"=:]*/liblingerclose\.so' "$examples_dir" | sort -u)
    if [ -n "$named" ] && [ "$named" = "$library" ]; then
        pass "the installed examples name the installed library"
    else
        not_ok "the installed examples name the installed library; they name: ${named:-nothing}"
    fi
    named=$(grep -rhoE '/[^[:space:]"=:]*/bin/lingerclose\b' "$examples_dir" | sort -u)
    if [ -z "$named" ] || [ "$named" = "$launcher" ]; then
        pass "the installed examples name the installed launcher, if any"
    else
        not_ok "the installed examples name the installed launcher; they name: $named"
    fi
else
    not_ok "the operators' examples are installed in $examples_dir"
fi

# start_server LOG COMMAND...: starts the demo's server, serving $tries
# connections, and leaves its port in $port and its pid in $server_pid.
start_server() {
    log=$1
    shift
    "$@" "$tmp/build/examples/early-error-server" -n "$tries" >"$tmp/server.out" 2>"$log" &
    server_pid=$!
    wait_ready "$tmp/server.out" "$server_pid" && return 0
    echo "# the server did not start:"
    sed 's/^/#   /' "$log"
    return 1
}

stop_server() {
    stop_process "$server_pid" || not_ok "the server (pid $server_pid) did not stop"
    server_pid=
}

# upload: $tries uploads of $body_bytes; the client's summary in $result
# and its exit status (0: every response arrived) in $rc.
upload() {
    result=$("$tmp/build/examples/upload-client" -p "$port" -n "$tries" -s "$body_bytes")
    rc=$?
    echo "#   $result"
}

if start_server "$tmp/plain.err" env; then
    upload
    stop_server
    if [ "$rc" -eq 1 ]; then
        pass "without the library the server loses responses"
    else
        not_ok "without the library the server loses responses (status $rc: the scenario shows nothing)"
    fi
else
    not_ok "the server starts"
fi

if [ -x "$launcher" ] && [ -n "$library" ] &&
    start_server "$tmp/installed.err" "$launcher" --log=debug --; then
    # The launcher execs the server in place: same pid.
    mapped=$(awk '$6 ~ /liblingerclose\.so$/ { print $6 }' "/proc/$server_pid/maps" | sort -u)
    if [ "$mapped" = "$(cd -P "${library%/*}" && pwd -P)/liblingerclose.so" ]; then
        pass "the installed launcher preloads the installed library ($library)"
    else
        not_ok "the installed launcher preloads the installed library ($library); mapped: ${mapped:-none}"
    fi
    upload
    stop_server
    if [ "$rc" -eq 0 ]; then
        pass "under the installed launcher every response arrives"
    else
        not_ok "under the installed launcher every response arrives (status $rc)"
        sed 's/^/#   server: /' "$tmp/installed.err" | tail -n 20
    fi
    if grep -q 'info: lingerclose .* loaded' "$tmp/installed.err"; then
        pass "the installed library logs its start-up"
    else
        not_ok "the installed library logs its start-up"
        sed 's/^/#   server: /' "$tmp/installed.err" | head -n 5
    fi
fi

step "make uninstall" "$tmp/uninstall.log" "$LC_MAKE" -C "$tmp/build" uninstall
left=$(files_under "$prefix")
if [ -z "$left" ]; then
    pass "make uninstall leaves no file under the prefix"
else
    not_ok "make uninstall leaves no file under the prefix; left:"
    echo "$left" | sed 's/^/#   /'
fi

stage=$tmp/stage
step "make install DESTDIR=..." "$tmp/destdir-install.log" \
    "$LC_MAKE" -C "$tmp/build" install DESTDIR="$stage"
if [ "$(files_under "$stage$prefix")" = "$(cat "$tmp/installed")" ] &&
    [ -z "$(cd "$stage" && find . ! -type d ! -path "./${prefix#/}/*")" ]; then
    pass "a DESTDIR installation installs the same files, under DESTDIR"
else
    not_ok "a DESTDIR installation installs the same files, under DESTDIR"
    (cd "$stage" && find . ! -type d) | sed 's/^/#   /'
fi
check_man_page_paths "$stage" "make install DESTDIR=..."

step "make uninstall DESTDIR=..." "$tmp/destdir-uninstall.log" \
    "$LC_MAKE" -C "$tmp/build" uninstall DESTDIR="$stage"
left=$(files_under "$stage")
if [ -z "$left" ]; then
    pass "make uninstall DESTDIR=... leaves no file"
else
    not_ok "make uninstall DESTDIR=... leaves no file; left:"
    echo "$left" | sed 's/^/#   /'
fi
# The directories of the package's own (its library's, its
# documentation's and the examples' in it) go with their files.
left=$(cd "$stage" && find . -type d -path '*lingerclose*' | LC_ALL=C sort)
if [ -z "$left" ]; then
    pass "make uninstall DESTDIR=... leaves no directory of the package"
else
    not_ok "make uninstall DESTDIR=... leaves no directory of the package; left:"
    echo "$left" | sed 's/^/#   /'
fi

checks_done
