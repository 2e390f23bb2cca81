#!/bin/sh
# SPDX-License-Identifier: MIT
# The launcher, run for real: its options, its exit statuses, the
# environment the command receives, the warnings about programs that
# LD_PRELOAD cannot reach, --check on real programs of each kind and
# --stats on statistics files.
# Needs LC_LAUNCHER and LC_LIBRARY (set by 'make check').
#
# The checks are functions run through check(), and the single-quoted
# $variables are meant for the command or for eval:
# shellcheck disable=SC2016,SC2317,SC2034

if [ -z "$LC_LAUNCHER" ] || [ -z "$LC_LIBRARY" ]; then
    echo "LC_LAUNCHER and LC_LIBRARY must be set (run this through 'make check')" >&2
    exit 1
fi
if [ ! -x "$LC_LAUNCHER" ] || [ ! -f "$LC_LIBRARY" ]; then
    echo "launcher or library not built: $LC_LAUNCHER $LC_LIBRARY" >&2
    exit 1
fi

# What the caller's environment holds must not leak into the checks.
unset LD_PRELOAD LINGERCLOSE_MODE LINGERCLOSE_IDLE_TIMEOUT LINGERCLOSE_TIMEOUT \
    LINGERCLOSE_EXIT_TIMEOUT LINGERCLOSE_MAX_SOCKETS LINGERCLOSE_MAX_BYTES LINGERCLOSE_MAX_QUEUED \
    LINGERCLOSE_LOG \
    LINGERCLOSE_LOG_TARGET LINGERCLOSE_PORTS LINGERCLOSE_EXCLUDE_PORTS LINGERCLOSE_STATS_FILE \
    LINGERCLOSE_STATS_INTERVAL

# The launcher puts the library's real path in LD_PRELOAD; the build
# directory may be reached through a symbolic link.
library=$(cd -P "$(dirname "$LC_LIBRARY")" && pwd -P)/$(basename "$LC_LIBRARY")
# A launcher built with sanitizers puts their runtime (LC_PRELOAD_FIRST)
# in front of everything.
first=${LC_PRELOAD_FIRST:+$LC_PRELOAD_FIRST:}

. "$(dirname "$0")/../lib/test-lib.sh"
use_tmpdir launcher

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
        not_ok "$description"
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
    for option in --mode --idle-timeout --timeout --exit-timeout --max-sockets --max-bytes --max-queued \
        --ports --exclude-ports --stats-file --stats-interval --log --log-target --check \
        --unit --stats --help --version; do
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

for bad in --ports=0 --ports=80,x --ports=90-80 --exclude-ports=65536 --log-target=file \
    --stats-interval=500ms --stats-interval=2h --stats-file="$tmp/no-such-dir/stats.prom"; do
    launch "$bad" true
    check "$bad exits 125 naming the option" \
        eval 'status_is 125 && [ "$(wc -l <"$tmp/err")" -eq 1 ] && err_has "${bad%%=*}"'
done

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
    --max-bytes=1M --max-queued=16M --log=error --log-target=syslog --ports=80,8000-8099 --exclude-ports=8080 \
    --stats-file="$tmp/lc-%p.prom" --stats-interval=0 env
check "the command sees LD_PRELOAD set to the library" out_has_line "LD_PRELOAD=$first$library"
for pair in LINGERCLOSE_MODE=always LINGERCLOSE_IDLE_TIMEOUT=5s LINGERCLOSE_TIMEOUT=1m \
    LINGERCLOSE_EXIT_TIMEOUT=0 LINGERCLOSE_MAX_SOCKETS=64 LINGERCLOSE_MAX_BYTES=1M \
    LINGERCLOSE_MAX_QUEUED=16M LINGERCLOSE_LOG=error LINGERCLOSE_LOG_TARGET=syslog LINGERCLOSE_PORTS=80,8000-8099 \
    LINGERCLOSE_EXCLUDE_PORTS=8080 "LINGERCLOSE_STATS_FILE=$tmp/lc-%p.prom" \
    LINGERCLOSE_STATS_INTERVAL=0; do
    check "the command sees $pair" out_has_line "$pair"
done

(cd "$tmp" && "$LC_LAUNCHER" --stats-file=relative.prom env) >"$tmp/out" 2>"$tmp/err"
rc=$?
tmp_real=$(cd -P "$tmp" && pwd -P)
check "a relative --stats-file is made absolute" \
    eval 'out_has_line "LINGERCLOSE_STATS_FILE=$tmp/relative.prom" ||
          out_has_line "LINGERCLOSE_STATS_FILE=$tmp_real/relative.prom"'

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
        out_has_line "$first$existing:$library"
else
    skip_check "an existing LD_PRELOAD is kept and the library appended" "no libm.so.6 found"
fi

launch_preloading "$first$library" sh -c 'echo "$LD_PRELOAD"'
check "the library is not added to LD_PRELOAD twice" out_has_line "$first$library"
if [ -n "$first" ]; then
    launch_preloading "$LC_PRELOAD_FIRST" sh -c 'echo "$LD_PRELOAD"'
    check "the sanitizer runtime is not added to LD_PRELOAD twice" out_has_line "$first$library"
fi

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
    skip_check "a statically linked program is warned about and still run" \
        "gcc cannot link statically here"
fi

if command -v setcap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
    cp /bin/true "$tmp/cap-true" && setcap cap_net_bind_service+ep "$tmp/cap-true" 2>/dev/null; then
    launch "$tmp/cap-true"
    check "a program with file capabilities is warned about and still run" \
        eval 'status_is 0 && err_has "lingerclose: warning: $tmp/cap-true has file capabilities"'
else
    rm -f "$tmp/cap-true"
    skip_check "a program with file capabilities is warned about and still run" \
        "needs root and setcap (apt-get install libcap2-bin)"
fi

# ---- --check: one real file of each kind ------------------------------

verdict_is() { # verdict_is STATUS can|cannot COMMAND
    status_is "$1" && [ "$(tail -n 1 "$tmp/out")" = "$([ "$2" = can ] && echo ok || echo no): lingering close $2 work for $3" ]
}

launch --check true
check "--check true: can work, loaded by glibc's loader" \
    eval 'verdict_is 0 can true && grep -q "^ok: /.*/true is a .* ELF program loaded by glibc" "$tmp/out"'

launch --check "lc-no-such-command-$$"
check "--check of a missing command: cannot, not found" \
    eval 'verdict_is 1 cannot lc-no-such-command-$$ &&
          out_has_line "no: lc-no-such-command-$$ is not found in PATH"'

launch --check
check "--check without COMMAND is a usage error (2)" status_is 2
launch --check --stats true
check "--check with --stats is a usage error (2)" status_is 2

# ---- --check --unit: a unit's sandbox, from unit files written here ----

mkdir -p "$tmp/units"
# A deny list that takes a call of every close, then an allow list that
# never had it; the line that decided is named, file and line number.
printf '[Unit]\nDescription=test\n[Service]\nExecStart=/bin/true\nSystemCallFilter=~@mount\nSystemCallFilter=~shutdown socketpair\n' \
    >"$tmp/units/deny.service"
launch --check --unit "$tmp/units/deny.service"
check "--check --unit: a deny list without shutdown: cannot, naming the line" \
    eval 'verdict_is 1 cannot "$tmp/units/deny.service" &&
          grep -q "^no: unit $tmp/units/deny.service: SystemCallFilter=~shutdown socketpair ($tmp/units/deny.service:6) denies shutdown(), .*killed (SIGSYS)$" "$tmp/out" &&
          [ "$(grep -c "^no: unit" "$tmp/out")" = 2 ]'
printf '[Service]\nSystemCallFilter=@basic-io @file-system\nSystemCallErrorNumber=EPERM\n' \
    >"$tmp/units/allow.service"
launch --check --unit "$tmp/units/allow.service" true
check "--check --unit: an allow list without @network-io: cannot, the allow line named" \
    eval 'verdict_is 1 cannot true &&
          grep -q "^no: unit $tmp/units/allow.service: SystemCallFilter=@basic-io @file-system ($tmp/units/allow.service:2) does not allow shutdown(), .*: fails there$" "$tmp/out" &&
          grep -q "^ok: /.*/true is a .* ELF program" "$tmp/out"'
# A drop-in's empty assignment resets the filter.
mkdir -p "$tmp/units/deny.service.d"
printf '[Service]\nSystemCallFilter=\n' >"$tmp/units/deny.service.d/reset.conf"
launch --check --unit "$tmp/units/deny.service"
check "--check --unit: a drop-in that resets the filter: can work" \
    eval 'verdict_is 0 can "$tmp/units/deny.service" &&
          out_has_line "ok: unit $tmp/units/deny.service: its sandbox allows every system call the library makes"'
printf '[Service]\nRestrictAddressFamilies=AF_INET AF_INET6\nEnvironment=LINGERCLOSE_LOG_TARGET=syslog\n' \
    >"$tmp/units/families.service"
launch --check --unit "$tmp/units/families.service"
check "--check --unit: no AF_UNIX with the syslog target: cannot, the line named" \
    eval 'verdict_is 1 cannot "$tmp/units/families.service" &&
          grep -q "^no: unit $tmp/units/families.service: RestrictAddressFamilies=AF_INET AF_INET6 ($tmp/units/families.service:2) leaves out AF_UNIX" "$tmp/out"'
printf '[Service]\nRestrictAddressFamilies=~AF_UNIX\n' >"$tmp/units/families-stderr.service"
launch --check --unit "$tmp/units/families-stderr.service"
check "--check --unit: no AF_UNIX, logging to stderr: can work, noted" \
    eval 'verdict_is 0 can "$tmp/units/families-stderr.service" &&
          grep -q "^ok: unit $tmp/units/families-stderr.service: RestrictAddressFamilies=~AF_UNIX (.*:2) leaves out AF_UNIX" "$tmp/out"'
# NoExecPaths= over the library: the loader would silently ignore it,
# unless a more specific ExecPaths= names it (as Debian's redis unit does
# for /usr/lib).
printf '[Service]\nNoExecPaths=/\nExecPaths=/usr/bin/true\n' >"$tmp/units/noexec.service"
launch --check --unit "$tmp/units/noexec.service"
check "--check --unit: NoExecPaths=/ over the library: cannot, the line named" \
    eval 'verdict_is 1 cannot "$tmp/units/noexec.service" &&
          grep -q "^no: unit $tmp/units/noexec.service: NoExecPaths=/ ($tmp/units/noexec.service:2) covers $library: .*add ExecPaths=" "$tmp/out"'
mkdir -p "$tmp/units/noexec.service.d"
printf '[Service]\nExecPaths=%s\n' "$(dirname "$library")" >"$tmp/units/noexec.service.d/lib.conf"
launch --check --unit "$tmp/units/noexec.service"
check "--check --unit: an ExecPaths= for the library's directory: can work" \
    eval 'verdict_is 0 can "$tmp/units/noexec.service"'
launch --check --unit "$tmp/units/missing.service"
check "--check --unit of a unit that cannot be read: cannot, said so" \
    eval 'verdict_is 1 cannot "$tmp/units/missing.service" &&
          grep -q "^no: unit $tmp/units/missing.service: cannot be read" "$tmp/out"'

launch --check "$tmp/setuid-true"
check "--check of a setuid program: cannot, setuid" \
    eval 'verdict_is 1 cannot "$tmp/setuid-true" && grep -q "^no: $tmp/setuid-true is setuid:" "$tmp/out"'

if [ -f "$tmp/static" ]; then
    launch --check "$tmp/static"
    check "--check of a static program: cannot, statically linked" \
        eval 'verdict_is 1 cannot "$tmp/static" &&
              grep -q "^no: $tmp/static is statically linked:" "$tmp/out"'
    printf '#!%s\n' "$tmp/static" >"$tmp/script-on-static"
    chmod 755 "$tmp/script-on-static"
    launch --check "$tmp/script-on-static"
    check "--check follows #! to a static interpreter: cannot" \
        eval 'verdict_is 1 cannot "$tmp/script-on-static" &&
              grep -q "^ok: $tmp/script-on-static is a #! script run by $tmp/static" "$tmp/out" &&
              grep -q "^no: $tmp/static is statically linked" "$tmp/out"'
else
    skip_check "--check of a static program" "gcc cannot link statically here (apt-get install libc6-dev)"
fi

if [ -f "$tmp/cap-true" ]; then
    launch --check "$tmp/cap-true"
    check "--check of a program with file capabilities: cannot" \
        eval 'verdict_is 1 cannot "$tmp/cap-true" &&
              grep -q "^no: $tmp/cap-true has file capabilities" "$tmp/out"'
else
    skip_check "--check of a program with file capabilities" \
        "needs root and setcap (apt-get install libcap2-bin)"
fi

launch --check "$tmp/script"
check "--check of a #! /bin/sh script: can work, through its interpreter" \
    eval 'verdict_is 0 can "$tmp/script" &&
          grep -q "^ok: $tmp/script is a #! script run by /bin/sh" "$tmp/out" &&
          grep -q "^ok: /bin/sh is a .* ELF program loaded by glibc" "$tmp/out"'

printf '#!/usr/bin/env -S sh -e\nexit 0\n' >"$tmp/env-script"
chmod 755 "$tmp/env-script"
launch --check "$tmp/env-script"
check "--check of a #!/usr/bin/env script follows env to the program" \
    eval 'verdict_is 0 can "$tmp/env-script" &&
          grep -q "^ok: $tmp/env-script is a #! script run by /.*/sh through /usr/bin/env" "$tmp/out"'

printf 'echo no interpreter line\n' >"$tmp/not-elf"
chmod 755 "$tmp/not-elf"
launch --check "$tmp/not-elf"
check "--check of a file that is neither ELF nor script: cannot" \
    eval 'verdict_is 1 cannot "$tmp/not-elf" &&
          out_has_line "no: $tmp/not-elf is neither an ELF program nor a #! script"'

# A real program whose only difference from /bin/true is its loader's
# name: musl's instead of glibc's (same length, so the file stays valid).
true_path=/bin/true
interp=$(awk 'BEGIN { RS = "\0" } /^\/lib.*\/ld-linux-x86-64\.so\.2$/ { print; exit }' "$true_path")
if [ "$(uname -m)" = x86_64 ] && [ -n "$interp" ] && command -v perl >/dev/null 2>&1; then
    perl -0777 -pe 's{ld-linux-x86-64\.so\.2\0}{ld-musl-x86_64.so.1\0\0}' "$true_path" >"$tmp/musl-true"
    chmod 755 "$tmp/musl-true"
    launch --check "$tmp/musl-true"
    check "--check of a musl program: cannot" \
        eval 'verdict_is 1 cannot "$tmp/musl-true" && grep -q "^no: $tmp/musl-true is a musl program" "$tmp/out"'
else
    skip_check "--check of a musl program" "needs an x86-64 /bin/true and perl"
fi

# A Go program: built for real when the Go toolchain is here (with cgo, so
# that it is dynamically linked against glibc and only its Go-ness can
# make the check fail); otherwise a C program given the section the Go
# linker writes into every binary, which is what --check looks for.
if command -v go >/dev/null 2>&1 && cat >"$tmp/cgo.go" <<'GO' &&
package main

// #include <unistd.h>
import "C"

func main() { C.getpid() }
GO
    (cd "$tmp" && GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOFLAGS='' CGO_ENABLED=1 \
        go build -o go-program cgo.go) >"$tmp/go-build.log" 2>&1; then
    go_kind="a real cgo program"
else
    printf 'int main(void){return 0;}' | gcc -x c - -o "$tmp/go-program-c" &&
        objcopy --add-section .go.buildinfo=/dev/null "$tmp/go-program-c" "$tmp/go-program"
    go_kind="a C program with a .go.buildinfo section (no Go toolchain: apt-get install golang-go)"
fi
launch --check "$tmp/go-program"
check "--check of $go_kind: cannot, a Go program" \
    eval 'verdict_is 1 cannot "$tmp/go-program" &&
          grep -q "^ok: $tmp/go-program is a .* ELF program loaded by glibc" "$tmp/out" &&
          grep -q "^no: $tmp/go-program is a Go program" "$tmp/out"'
launch "$tmp/go-program"
check "a Go program is warned about and still run" \
    eval 'status_is 0 && err_has "lingerclose: warning: $tmp/go-program is a Go program"'

# ---- --stats --------------------------------------------------------------

now=$(date +%s)
# stats_sample PID CLOSES UNREAD: the library's format, every series.
stats_sample() {
    cat <<STATS
# HELP lingerclose_info The library's version in this process.
# TYPE lingerclose_info gauge
lingerclose_info{pid="$1",version="0.1.0"} 1
# TYPE lingerclose_closes_total counter
lingerclose_closes_total{pid="$1"} $2
lingerclose_lingering_closes_total{pid="$1",reason="unread-input"} $3
lingerclose_lingering_closes_total{pid="$1",reason="mode-always"} 0
lingerclose_lingering_closes_total{pid="$1",reason="recent-data"} 10
lingerclose_plain_closes_total{pid="$1",reason="peer-closed"} $(($2 - $3 - 10))
lingerclose_plain_closes_total{pid="$1",reason="quiet"} 0
lingerclose_drains_ended_total{pid="$1",end="eof"} $3
lingerclose_drains_ended_total{pid="$1",end="idle-timeout"} 10
lingerclose_discarded_bytes_total{pid="$1"} 1572864
lingerclose_capacity_fallbacks_total{pid="$1"} 2
lingerclose_lingering_sockets{pid="$1"} 3
lingerclose_stats_written_timestamp_seconds{pid="$1"} $((now - 125)).250
STATS
}
stats_sample 101 1000 200 >"$tmp/a.prom"
stats_sample 202 500 40 >"$tmp/b.prom"

launch --stats "$tmp/a.prom"
check "--stats summarises one file" \
    eval 'status_is 0 && grep -qxE "$tmp/a.prom: pid 101, library 0\.1\.0, written 2m [4-9]s ago" "$tmp/out" &&
          grep -qE "^  closes examined +1000$" "$tmp/out" &&
          grep -qE "^  lingering closes +210  unread-input 200, recent-data 10$" "$tmp/out" &&
          grep -qE "^  plain closes +790  peer-closed 790$" "$tmp/out" &&
          grep -qE "^  drains ended +210  eof 200, idle-timeout 10$" "$tmp/out" &&
          grep -qE "^  input discarded +1\.5 MiB  1572864 bytes$" "$tmp/out" &&
          grep -qE "^  capacity fallbacks +2$" "$tmp/out" &&
          grep -qE "^  lingering now +3$" "$tmp/out" && out_lacks total'

launch --stats "$tmp/a.prom" "$tmp/b.prom"
check "--stats of two files adds a total" \
    eval 'status_is 0 && grep -q "^total of 2 files" "$tmp/out" &&
          [ "$(sed -n "/^total/,\$p" "$tmp/out" | grep -cE "^  closes examined +1500$|^  lingering closes +260  unread-input 240, recent-data 20$|^  lingering now +6$")" -eq 3 ]'

printf 'lingerclose_closes_total{pid="1"} 5\nthis is not a metric\n' >"$tmp/garbled.prom"
printf '# HELP node_load1 1m load average.\nnode_load1 0.5\n' >"$tmp/other.prom"
launch --stats "$tmp/a.prom" "$tmp/missing.prom" "$tmp/garbled.prom" "$tmp/other.prom" "$tmp/b.prom"
check "--stats reports each bad file on one line, summarises the others, exits 1" \
    eval 'status_is 1 && [ "$(wc -l <"$tmp/err")" -eq 3 ] &&
          err_has "lingerclose: $tmp/missing.prom: No such file or directory" &&
          err_has "lingerclose: $tmp/garbled.prom: line 2 is not a metric line" &&
          err_has "lingerclose: $tmp/other.prom: no lingerclose_closes_total" &&
          grep -q "^$tmp/a.prom: pid 101" "$tmp/out" && grep -q "^$tmp/b.prom: pid 202" "$tmp/out" &&
          grep -q "^total of 2 files" "$tmp/out"'

launch --stats
check "--stats without FILE is a usage error (2)" status_is 2

# A file the library itself wrote: the early-error server under the
# launcher, three real uploads answered early and lingered on (for unread
# input or data moved in the last second, as the timing falls).
server="$(dirname "$LC_LAUNCHER")/examples/early-error-server"
if ! grep -q lingerclose_closes_total "$library"; then
    skip_check "--stats of a file the library wrote" "this library writes no statistics file yet"
elif [ ! -x "$server" ] || [ ! -x "${LC_UPLOAD_CLIENT:-}" ]; then
    not_ok "--stats of a file the library wrote: no examples/early-error-server or LC_UPLOAD_CLIENT"
else
    "$LC_LAUNCHER" --stats-file="$tmp/real.prom" --stats-interval=0 -- \
        "$server" -n 3 >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    wait_ready "$tmp/server.out" "$server_pid" && "$LC_UPLOAD_CLIENT" -p "$port" -n 3 -s 200000 >"$tmp/client.out" 2>&1
    wait_bounded "$server_pid" 30 || not_ok "the server did not end"
    launch --stats "$tmp/real.prom"
    check "--stats of a file the library wrote: three lingering closes, three drains" \
        eval 'status_is 0 && grep -q "^$tmp/real.prom: pid $server_pid, library " "$tmp/out" &&
              grep -qE "^  lingering closes +3  " "$tmp/out" &&
              grep -qE "^  drains ended +3  " "$tmp/out"'
fi

checks_done
