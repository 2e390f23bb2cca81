#!/bin/sh
# SPDX-License-Identifier: MIT
# Every LINGERCLOSE_* variable the library reads (taken from shim/conf/conf.c,
# so that a new one is covered the day it is added) set to values an
# operator could get wrong: empty, garbage, signed, huge, overflowing,
# scientific notation, a bad suffix, a leading blank, a 5000-character
# string, bytes that are not UTF-8 and an embedded line end. Each runs
# against a live host: examples/early-error-server under the library,
# with real clients. For each, the host must:
#   - say so in exactly one line naming the variable, if the variable
#     rejects the value, and say nothing at all if it accepts it;
#   - keep working: answer a small upload with 200;
#   - keep its safe defaults: the early 413 to a streamed upload still
#     arrives (lingering stays on), unless the value legitimately turns
#     lingering off for this port;
#   - serve its connections and exit 0 (no crash, no hang).
#
# Environment: LC_LIBRARY, LC_UPLOAD_CLIENT, LC_EARLY_ERROR_SERVER.
# Exit status: 0 pass, 1 fail.

set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ -x "${LC_UPLOAD_CLIENT:-}" ] || fail "LC_UPLOAD_CLIENT does not name upload-client"
[ -x "${LC_EARLY_ERROR_SERVER:-}" ] || fail "LC_EARLY_ERROR_SERVER does not name early-error-server"
conf_source=$(dirname "$0")/../../shim/conf/conf.c
[ -f "$conf_source" ] || fail "cannot find shim/conf/conf.c beside the tests"

variables=$(grep -o '"LINGERCLOSE_[A-Z_]*"' "$conf_source" | tr -d '"' | sort -u)
case " $(echo $variables) " in
    *" LINGERCLOSE_MODE "*) ;;
    *) fail "no LINGERCLOSE_* names found in $conf_source" ;;
esac

use_tmpdir bad-input
server_pid=
at_exit '[ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null'

# The caller's own settings must not mix in.
for variable in $variables; do
    unset "$variable"
done
unset LD_PRELOAD

long_value=$(printf '%05000d' 7)
not_utf8=$(printf '\377\376\300abc')
line_end=$(printf '5\nLINGERCLOSE_MODE=off')

value_names="empty letters negative huge overflow exponent bad_suffix leading_blank long not_utf8 line_end"
value_of() {
    case "$1" in
        empty) printf '' ;;
        letters) printf 'abc' ;;
        negative) printf '%s' -5 ;;
        huge) printf '99999999999999999999' ;;
        overflow) printf '18446744073709551616' ;;
        exponent) printf '1e3' ;;
        bad_suffix) printf '10sx' ;;
        leading_blank) printf ' 5' ;;
        long) printf '%s' "$long_value" ;;
        not_utf8) printf '%s' "$not_utf8" ;;
        line_end) printf '%s' "$line_end" ;;
    esac
}

# What a variable does with a value, where it is not "rejected, one line,
# lingering on": the port lists and the statistics file take an empty
# value as "not set", and a port list allows blanks around an item, so
# " 5" is port 5, and with LINGERCLOSE_PORTS=5 the server's own port may
# not linger: its early response must be lost, as without the library.
#   VARIABLE VALUE MESSAGES EARLY_RESPONSE(delivered|lost)
exceptions='
LINGERCLOSE_PORTS empty 0 delivered
LINGERCLOSE_EXCLUDE_PORTS empty 0 delivered
LINGERCLOSE_STATS_FILE empty 0 delivered
LINGERCLOSE_PORTS leading_blank 0 lost
LINGERCLOSE_EXCLUDE_PORTS leading_blank 0 delivered
'

expected() { # expected VARIABLE VALUE: "MESSAGES EARLY_RESPONSE"
    line=$(echo "$exceptions" | grep "^$1 $2 ")
    if [ -n "$line" ]; then
        echo "$line" | cut -d' ' -f3-
    else
        echo "1 delivered"
    fi
}

# upload BODY_BYTES: 1 if the response arrived, else 0
upload() {
    received "$LC_UPLOAD_CLIENT" -p "$port" -n 1 -s "$1"
}

# try VARIABLE VALUE_NAME: prints nothing and returns 0 if the host
# behaved, else prints what went wrong.
try() {
    value=$(value_of "$2")
    set -- "$1" "$2" $(expected "$1" "$2")
    : >"$tmp/server.out"
    env "LD_PRELOAD=$lc_preload" "$1=$value" "$LC_EARLY_ERROR_SERVER" -p 0 -n 2 \
        >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    if ! wait_ready "$tmp/server.out" "$server_pid"; then
        echo "the server did not start: $(cat "$tmp/server.err")"
        return 1
    fi
    early=$(upload 1000000)
    small=$(upload 100)
    status=
    for _ in $(seq 250); do
        kill -0 "$server_pid" 2>/dev/null || { wait "$server_pid"; status=$?; break; }
        sleep 0.02
    done
    [ -n "$status" ] || { kill -KILL "$server_pid"; wait_bounded "$server_pid" 10; }
    server_pid=

    problems=
    named=$(grep -c "$1='" "$tmp/server.err")
    lines=$(wc -l <"$tmp/server.err")
    [ "$named" = "$3" ] && [ "$lines" = "$3" ] ||
        problems="$problems; $lines stderr lines, $named naming $1, expected $3"
    [ "$small" = 1 ] || problems="$problems; a small upload got no answer"
    case "$4" in
        delivered) [ "$early" = 1 ] || problems="$problems; the early 413 was lost" ;;
        lost) [ "$early" = 0 ] || problems="$problems; the early 413 arrived: still lingering" ;;
    esac
    [ -n "$status" ] || problems="$problems; the server hung after its connections"
    [ -z "$status" ] || [ "$status" = 0 ] || problems="$problems; the server exited with $status"
    if [ -n "$problems" ]; then
        echo "${problems#; }"
        sed 's/^/    stderr: /' "$tmp/server.err" | cut -c1-300
        return 1
    fi
    return 0
}

failures=0
cases=0
for variable in $variables; do
    for name in $value_names; do
        cases=$((cases + 1))
        if report=$(try "$variable" "$name"); then
            echo "ok - $variable $name"
        else
            echo "not ok - $variable $name: $report"
            failures=$((failures + 1))
        fi
    done
done
echo "$cases cases ($(echo $variables | wc -w) variables), $failures failed"
[ "$failures" = 0 ] || exit 1
echo "PASS: every bad value gives its one line and leaves the host serving with safe defaults"
