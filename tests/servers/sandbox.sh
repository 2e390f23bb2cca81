#!/bin/sh
# SPDX-License-Identifier: MIT
# Never killed by a sandbox: real servers with the library loaded, inside
# the seccomp filters systemd gives Debian's units, with systemd's default
# action (the whole process dies of SIGSYS on any system call the filter
# does not allow). tests/servers/seccomp-run builds each filter as systemd does;
# the system calls of each group come from systemd-analyze at test time.
#
# Cells: filter {@system-service; @system-service minus @privileged
# @resources; the filter, SystemCallArchitectures= and
# MemoryDenyWriteExecute= of the server's own Debian unit when the
# installed unit has one} x log level {default, debug} (debug makes the
# drain thread write lines), each with a statistics file, for redis-server,
# nginx, webfsd, and a fork-per-connection service under xinetd whose
# processes end through exit() or _exit(). In every cell the server must
# stay alive, deliver every early answer to a client that writes its whole
# request before it reads, not die of SIGSYS when it is stopped, and have
# written its statistics.
#
# The other hardening settings of such units, and what they mean for the
# library (systemd 252, src/shared/seccomp-util.c and systemd.exec(5)):
#   RestrictNamespaces=yes  filters unshare(), clone() and setns() only on
#       namespace flags (CLONE_NEWNS, CLONE_NEWUSER, ...): the drain
#       thread's unshare(CLONE_FILES) has none and passes. clone3() gets
#       ENOSYS, and glibc's pthread_create falls back to clone().
#   RestrictAddressFamilies=  filters socket() only: socketpair(), the
#       hand-off pair between the program's threads and the drain thread,
#       is never refused. Without AF_UNIX in the list, the syslog target
#       (LINGERCLOSE_LOG_TARGET=syslog, socket(AF_UNIX) to /dev/log) loses
#       its lines; the default target, stderr, is unaffected.
#   ProtectProc=invisible  hides other users' processes in /proc; the
#       library reads nothing there.
#   NoExecPaths=/ with ExecPaths=  forbids executing files outside the
#       listed paths; the library is mapped by ld.so, which needs read and
#       mmap(PROT_EXEC) of it, and NoExecPaths= mounts noexec, which
#       forbids that too: the library must lie under an ExecPaths= entry
#       (redis-server.service lists /usr/lib and /lib, where the package
#       installs it).
#   ProtectSystem=strict, PrivateTmp=, ReadWritePaths=  make the file
#       system read-only but for the listed paths: LINGERCLOSE_STATS_FILE
#       must name a directory the unit may write (its RuntimeDirectory=,
#       StateDirectory= or a ReadWritePaths= entry), and a statistics file
#       under /tmp lands in the unit's private /tmp, where no collector
#       reads it.
#   MemoryDenyWriteExecute=yes  refuses (EPERM) mappings both writable
#       and executable; the library makes none.
#   SystemCallArchitectures=native  the library makes only native calls.
#
# Environment: LC_SECCOMP_RUN, LC_PATTERNS_DIR, LC_UPLOAD_CLIENT and those
# of tests/lib/real-servers.sh. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

[ -x "${LC_SECCOMP_RUN:-}" ] ||
    skip "tests/servers/seccomp-run is not built (libseccomp-dev is missing: ./bootstrap --tests installs it as root, then ./configure)"
command -v systemd-analyze >/dev/null 2>&1 ||
    skip "systemd-analyze is not installed (apt-get install systemd)"
[ -x "${LC_PATTERNS_DIR:-}/stdio-service" ] || fail "no stdio-service in LC_PATTERNS_DIR"
[ -x "${LC_UPLOAD_CLIENT:-}" ] || fail "LC_UPLOAD_CLIENT does not name upload-client"

# The cells that drop to nobody must reach the runner and the library,
# wherever the build tree is (a clone in a private directory is not
# theirs to enter): copies in the test's own directory, which they may read.
mkdir -p "$tmp/bin" && cp "$LC_SECCOMP_RUN" "$LC_LIBRARY" "$tmp/bin/" && chmod 755 "$tmp/bin" ||
    fail "cannot copy the runner and the library to $tmp/bin"
LC_SECCOMP_RUN=$tmp/bin/${LC_SECCOMP_RUN##*/}
lc_preload=$(preload_with "$tmp/bin/${LC_LIBRARY##*/}")

TRIES=2
BODY=1000000
UNIT_DIR=${LC_SANDBOX_UNIT_DIR:-/lib/systemd/system}
set -f

# expand_calls NAME...: the system calls NAME stands for, one a line; a
# group's nested groups are resolved through systemd-analyze as well.
expand_calls() {
    for item in "$@"; do
        case "$item" in
            @*)
                names=$(systemd-analyze syscall-filter "$item" 2>/dev/null |
                    sed -n '2,$s/^ *\([^ #]\)/\1/p')
                [ -n "$names" ] || fail "systemd-analyze knows no group $item"
                # (a name may carry ":ERRNO" in a unit; the call is what counts)
                for name in $names; do expand_calls "${name%%:*}"; done
                ;;
            *) echo "${item%%:*}" ;;
        esac
    done
}

# systemd puts @default into every allow list (load-fragment.c), before
# the unit's own names; a later "~" line removes from the result.
expand_calls @default @system-service | sort -u >"$tmp/system-service.allow"
expand_calls @privileged @resources | sort -u >"$tmp/privileged-resources.deny"
grep -qx execve "$tmp/system-service.allow" || fail "systemd-analyze: @default without execve?"

# unit_filter UNIT NAME: prints seccomp-run's options for the unit's
# SystemCallFilter= lines (in order, as systemd merges them),
# SystemCallErrorNumber=, SystemCallArchitectures= and
# MemoryDenyWriteExecute=; nothing if the unit sets none of them.
unit_filter() {
    set_file=$tmp/$2.calls list=
    : >"$set_file"
    sed -n 's/^[[:space:]]*SystemCallFilter=[[:space:]]*//p' "$1" >"$tmp/$2.lines"
    while IFS= read -r value; do
        invert=no
        case "$value" in
            "") list= ; : >"$set_file"; continue ;;
            "~"*) invert=yes; value=${value#"~"} ;;
        esac
        if [ -z "$list" ]; then
            list=allow
            [ "$invert" = yes ] && list=deny
            [ "$list" = allow ] && expand_calls @default >"$set_file"
        fi
        # shellcheck disable=SC2086
        expand_calls $value | sort -u >"$tmp/$2.items"
        if { [ "$list" = allow ] && [ "$invert" = no ]; } || { [ "$list" = deny ] && [ "$invert" = yes ]; }
        then sort -u "$set_file" "$tmp/$2.items" -o "$set_file"
        else sort -u "$set_file" | comm -23 - "$tmp/$2.items" >"$set_file.new" && mv "$set_file.new" "$set_file"
        fi
    done <"$tmp/$2.lines"
    [ -n "$list" ] && printf ' --%s-file %s' "$list" "$set_file"
    setting() { sed -n "s/^[[:space:]]*$1=[[:space:]]*//p" "$unit" | tail -n 1; }
    unit=$1
    case "$(setting SystemCallArchitectures)" in native) printf ' --native-only' ;; esac
    case "$(setting MemoryDenyWriteExecute)" in yes|true|on|1) printf ' --mdwe' ;; esac
    case "$(setting SystemCallErrorNumber)" in ""|kill) ;; *) printf ' --errno' ;; esac
}

filter_system_service="--allow-file $tmp/system-service.allow"
filter_minus="--allow-file $tmp/system-service.allow --deny-file $tmp/privileged-resources.deny"

cells=0
cell_failed() {
    not_ok "$cell: $*"
}
on_start_failure=cell_failed

# library_env LOG: the library's settings for a cell.
library_env() {
    set -- "LD_PRELOAD=$lc_preload" LINGERCLOSE_EXIT_TIMEOUT=10s "LINGERCLOSE_STATS_FILE=$tmp/stats/service.prom"
    [ "$log" = debug ] && set -- "$@" LINGERCLOSE_LOG=debug
    echo "$@"
}

# check_cell EXPECTED_COUNT: what every cell must show once its clients
# are done; the server is still running.
check_cell() {
    [ "$1" = "$TRIES" ] || cell_failed "only ${1:-no} of $TRIES early answers arrived"
    kill -0 "$server_pid" 2>/dev/null || cell_failed "the server is gone"
}

# check_stopped: after stop_server.
check_stopped() {
    [ "$server_status" = 159 ] && cell_failed "the server died of SIGSYS (exit status 159)"
    # Without %p the file is the service's: written at start-up and at
    # the end by the process started, and left (a %p file goes with its
    # process).
    [ -s "$tmp/stats/service.prom" ] || cell_failed "no statistics file was written"
    if [ "$failures" != "$failed_before" ]; then
        for server_log in "$tmp/server-custom.out" "$tmp/nginx/error.log" "$tmp/xinetd.log" \
            "$tmp/service.err"; do
            [ -s "$server_log" ] && { echo "==== $server_log"; tail -n 30 "$server_log"; } >&2
        done
    fi
    rm -rf "$tmp/stats" "$tmp/nginx/error.log" "$tmp/xinetd.log" "$tmp/service.err"
}

# run_cell SERVER FILTER_NAME FILTER_OPTIONS EXPECT HEAD: one server in one
# filter at one log level ($log), answering early to TRIES streaming clients.
run_cell() {
    cell="$1, $2, log ${log}"
    cells=$((cells + 1)) failed_before=$failures server_status=
    # (writable for the workers of a server that drops its privileges)
    mkdir -p "$tmp/stats" && chmod 1777 "$tmp/stats"
    # A unit that denies @privileged starts its server as a user of its
    # own (User=): a server started as root would drop its privileges
    # with calls the filter denies, library or not.
    as_user=
    case "$3" in *--deny-file*|*.calls*)
        [ "$(id -u)" = 0 ] && as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups --" ;;
    esac
    configure_server() {
        "${server}_configure"
        [ -z "$as_user" ] || chown -R nobody "$tmp/nginx" 2>/dev/null || true
    }
    exec_server() { "${server}_exec" "$@"; }
    server=$1
    # A server that cannot start in the filter on its own (webfsd calls
    # setgroups(), which @privileged denies, whoever it runs as) has no
    # cell there: that is not the library's doing.
    eval "fits=\${fits_$1_$2:-}"
    if [ -z "$fits" ]; then
        fits=yes
        # shellcheck disable=SC2086
        on_start_failure=true
        start_server custom $as_user "$LC_SECCOMP_RUN" $3 -- || fits=no
        on_start_failure=cell_failed
        stop_server
        eval "fits_$1_$2=\$fits"
    fi
    if [ "$fits" = no ]; then
        echo "cell: $cell: $1 does not start in this filter without the library either: not run"
        cells=$((cells - 1))
        return
    fi
    # shellcheck disable=SC2046,SC2086
    if start_server custom $as_user "$LC_SECCOMP_RUN" $3 -- env $(library_env); then
        check_cell "$(streamed "$4" "$5")"
    fi
    # nginx's master outlives a worker killed by the filter, and says so.
    grep -s 'exited on signal 31' "$tmp/nginx/error.log" >&2 && cell_failed "an nginx worker died of SIGSYS"
    stop_server
    check_stopped
    echo "cell: $cell: done"
}

# A fork-per-connection service: xinetd (unfiltered, as the system's own
# inetd would be) starts the filtered service for each connection, the
# way a unit with Accept=yes starts one filtered instance per connection.
xinetd_configure() {
    # shellcheck disable=SC2046,SC2086
    # Its stderr goes to a file, which the test shows when a cell fails.
    printf '#!/bin/sh\nexec %s 2>>%s\n' \
        "$LC_SECCOMP_RUN $filter -- env $(library_env) $LC_PATTERNS_DIR/stdio-service --end=$end" \
        "$tmp/service.err" \
        >"$tmp/service"
    chmod 755 "$tmp/service"
    xinetd_config lingerclose-sandbox "$port" "$tmp/service" \
        "$(printf '\tlog_on_success = PID EXIT')" >"$tmp/xinetd.conf"
}
xinetd_exec() {
    exec setsid "$xinetd" -f "$tmp/xinetd.conf" -dontfork -pidfile "$tmp/xinetd.pid"
}

run_service_cell() { # run_service_cell FILTER_NAME
    cell="xinetd service ending with $end(), $1, log $log"
    cells=$((cells + 1)) failed_before=$failures server_status=
    # (writable for the workers of a server that drops its privileges)
    mkdir -p "$tmp/stats" && chmod 1777 "$tmp/stats"
    configure_server() { xinetd_configure; }
    exec_server() { xinetd_exec; }
    start_server custom || { check_stopped; return; }
    check_cell "$(received "$LC_UPLOAD_CLIENT" -p "$port" -n "$TRIES" -s "$BODY")"
    # xinetd reports each service process that ended, and how (a process
    # still finishing its lingering closes has not ended yet).
    for _ in $(seq 150); do
        [ "$(grep -c ' START: ' "$tmp/xinetd.log")" = "$(grep -c ' EXIT: ' "$tmp/xinetd.log")" ] && break
        sleep 0.1
    done
    grep -s 'signal=31' "$tmp/xinetd.log" >&2 && cell_failed "a service process died of SIGSYS"
    stop_server
    check_stopped
    echo "cell: $cell: done"
}

ran_servers=
ran() { case " $ran_servers " in *" $1 "*) ;; *) ran_servers="$ran_servers $1" ;; esac; }
for log in default debug; do
    if redis=$(find_program redis-server); then
        ran "redis-server"
        for f in system_service minus; do
            eval "filter=\$filter_$f"
            run_cell redis "$f" "$filter" '-ERR Protocol error' '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$99999999999\r\n'
        done
        if [ -f "$UNIT_DIR/redis-server.service" ]; then
            filter=$(unit_filter "$UNIT_DIR/redis-server.service" redis-unit)
            echo "redis-server.service's filter:$filter"
            [ -n "$filter" ] && run_cell redis unit "$filter" \
                '-ERR Protocol error' '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$99999999999\r\n'
        fi
    fi
    if nginx=$(find_program nginx); then
        ran "nginx"
        for f in system_service minus; do
            eval "filter=\$filter_$f"
            run_cell nginx "$f" "$filter" 'HTTP/1.1 400' 'GET / HTTP/1.1\r\nHost: no-lingering\r\nCookie: '
        done
        if [ -f "$UNIT_DIR/nginx.service" ]; then
            filter=$(unit_filter "$UNIT_DIR/nginx.service" nginx-unit)
            if [ -n "$filter" ]; then
                echo "nginx.service's filter:$filter"
                run_cell nginx unit "$filter" \
                    'HTTP/1.1 400' 'GET / HTTP/1.1\r\nHost: no-lingering\r\nCookie: '
            else
                echo "nginx.service sets no system call filter: no cell of its own"
            fi
        fi
    fi
    if webfsd=$(find_program webfsd); then
        ran "webfsd"
        for f in system_service minus; do
            eval "filter=\$filter_$f"
            run_cell webfsd "$f" "$filter" 'HTTP/1.1 501' \
                'POST /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n'
        done
    fi
    if xinetd=$(find_program xinetd) && [ "$(id -u)" = 0 ]; then
        ran "xinetd"
        for end in exit _exit; do
            for f in system_service minus; do
                eval "filter=\$filter_$f"
                run_service_cell "$f"
            done
        done
    fi
done

[ -n "$ran_servers" ] ||
    skip "none of redis-server, nginx, webfsd, xinetd (as root) is here (./bootstrap --tests installs them as root)"
echo "$cells cells ($ran_servers), $failures failures"
[ "$failures" = 0 ] || exit 1
echo "PASS: no server was killed by its sandbox, and every early answer arrived"
