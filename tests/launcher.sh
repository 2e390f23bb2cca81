#!/bin/sh
# The launcher, run for real: its options, its exit statuses, the
# environment the command receives and the warnings about programs that
# LD_PRELOAD cannot reach.
# Needs LC_LAUNCHER and LC_LIBRARY (set by 'make check').
#
# The checks are functions run through check(), and the single-quoted
# $variables are meant for the command or for eval:
# shellcheck disable=SC2016,SC2317

if [ -z "$LC_LAUNCHER" ] || [ -z "$LC_LIBRARY" ]; then
    echo "LC_LAUNCHER and LC_LIBRARY must be set (run this through 'make check')" >&2
    exit 1
fi
if [ ! -x "$LC_LAUNCHER" ] || [ ! -f "$LC_LIBRARY" ]; then
    echo "launcher or library not built: $LC_LAUNCHER $LC_LIBRARY" >&2
    exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# What the caller's environment holds must not leak into the checks.
unset LD_PRELOAD LINGERCLOSE_MODE LINGERCLOSE_IDLE_TIMEOUT LINGERCLOSE_TIMEOUT \
    LINGERCLOSE_MAX_SOCKETS LINGERCLOSE_MAX_BYTES LINGERCLOSE_LOG

# The launcher puts the library's real path in LD_PRELOAD; the build
# directory may be reached through a symbolic link.
library=$(cd -P "$(dirname "$LC_LIBRARY")" && pwd -P)/$(basename "$LC_LIBRARY")

failed=0

pass() {
    echo "ok - $1"
}

fail() {
    echo "not ok - $1"
    failed=1
}

skip() {
    echo "ok - $1 # SKIP $2"
}

# Runs the launcher with the given arguments; leaves its exit status in
# $rc, its stdout in $tmp/out and its stderr in $tmp/err.
launch() {
    "$LC_LAUNCHER" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# The same, with LD_PRELOAD set to $1 for the launcher.
launch_preloading() {
    preload=$1
    shift
    LD_PRELOAD=$preload "$LC_LAUNCHER" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds; on failure
# shows what the last launch printed.
check() {
    description=$1
    shift
    if "$@"; then
        pass "$description"
    else
        fail "$description"
        sed 's/^/#   stdout: /' "$tmp/out"
        sed 's/^/#   stderr: /' "$tmp/err"
        echo "#   exit status: $rc"
    fi
}

status_is() {
    [ "$rc" -eq "$1" ]
}

out_has_line() {
    grep -qxF -e "$1" "$tmp/out"
}

out_lacks() {
    ! grep -qF -e "$1" "$tmp/out"
}

err_has() {
    grep -qF -e "$1" "$tmp/err"
}

no_warning() {
    status_is 0 && ! err_has "lingerclose: warning:"
}

help_is_complete() {
    status_is 0 || return 1
    for option in --mode --idle-timeout --timeout --exit-timeout --max-sockets --max-bytes \
        --log --help --version; do
        grep -qF -e "$option" "$tmp/out" || return 1
    done
}

launch --help
check "--help exits 0 and mentions every option" help_is_complete

version_is_printed() {
    status_is 0 && [ "$(wc -l <"$tmp/out")" -eq 1 ] &&
        grep -qE '^lingerclose [0-9]+\.[0-9]+' "$tmp/out"
}
launch --version
check "--version prints the version line" version_is_printed

bad_value_is_reported() {
    status_is 125 && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
        err_has "lingerclose: --idle-timeout: 'abc' is not valid (accepted: "
}
launch --idle-timeout=abc true
check "--idle-timeout=abc exits 125 naming the option and the value" bad_value_is_reported
launch --idle-timeout abc true
check "--idle-timeout abc exits 125 naming the option and the value" bad_value_is_reported

launch --max-sockets=0 true
check "--max-sockets=0 exits 125" eval 'status_is 125 && err_has "--max-sockets"'

launch --no-such-option true
check "an unknown option exits 125" status_is 125

launch
check "a missing command exits 125" eval 'status_is 125 && err_has "missing COMMAND"'

launch --mode=off
check "a missing command after options exits 125" status_is 125

launch "lc-no-such-command-$$"
check "a command not in PATH exits 127" \
    eval 'status_is 127 && err_has "lingerclose: lc-no-such-command-$$: "'

launch "$tmp/no-such-file"
check "a nonexistent file exits 127" status_is 127

: >"$tmp/not-executable"
chmod 644 "$tmp/not-executable"
launch "$tmp/not-executable"
check "a file that is not executable exits 126" status_is 126

launch sh -c 'exit 3'
check "the command's exit status is passed on" status_is 3

launch --mode always --idle-timeout=5s --timeout 1m --exit-timeout=0 --max-sockets=64 \
    --max-bytes=1M --log=error env
check "the command sees LD_PRELOAD set to the library" out_has_line "LD_PRELOAD=$library"
for pair in LINGERCLOSE_MODE=always LINGERCLOSE_IDLE_TIMEOUT=5s LINGERCLOSE_TIMEOUT=1m \
    LINGERCLOSE_EXIT_TIMEOUT=0 LINGERCLOSE_MAX_SOCKETS=64 LINGERCLOSE_MAX_BYTES=1M \
    LINGERCLOSE_LOG=error; do
    check "the command sees $pair" out_has_line "$pair"
done

launch --mode=off env
check "only the variables of the options given are set" \
    eval 'out_has_line LINGERCLOSE_MODE=off && out_lacks LINGERCLOSE_TIMEOUT &&
          out_lacks LINGERCLOSE_LOG'

# Some harmless library that is not ours, to stand for a user's preload.
existing=$(gcc -print-file-name=libm.so.6 2>/dev/null)
case $existing in
/*) ;;
*) existing=$(ldconfig -p 2>/dev/null | awk '$1 == "libm.so.6" { print $NF; exit }') ;;
esac
if [ -n "$existing" ] && [ -f "$existing" ]; then
    launch_preloading "$existing" sh -c 'echo "$LD_PRELOAD"'
    check "an existing LD_PRELOAD is kept and the library appended" \
        out_has_line "$existing:$library"
else
    skip "an existing LD_PRELOAD is kept and the library appended" "no libm.so.6 found"
fi

launch_preloading "$library" sh -c 'echo "$LD_PRELOAD"'
check "the library is not added to LD_PRELOAD twice" out_has_line "$library"

launch -- sh -c 'echo "$1"' x --mode=off
check "options after -- COMMAND are the command's" out_has_line "--mode=off"
launch sh -c 'echo "$1"' x --mode=off
check "options after COMMAND are the command's" out_has_line "--mode=off"

launch true
check "no warning for an ordinary program" no_warning

printf '#!/bin/sh\nexit 0\n' >"$tmp/script"
chmod 755 "$tmp/script"
launch "$tmp/script"
check "no warning for a #! script" no_warning

cp /bin/true "$tmp/setuid-true" && chmod u+s "$tmp/setuid-true"
launch "$tmp/setuid-true"
check "a setuid program is warned about and still run" \
    eval 'status_is 0 && err_has "lingerclose: warning: $tmp/setuid-true is setuid"'

if printf 'int main(void){return 0;}' |
    gcc -static -x c - -o "$tmp/static" >/dev/null 2>&1; then
    launch "$tmp/static"
    check "a statically linked program is warned about and still run" \
        eval 'status_is 0 && err_has "lingerclose: warning: $tmp/static is statically linked"'
else
    skip "a statically linked program is warned about and still run" \
        "gcc cannot link statically here"
fi

exit $failed
