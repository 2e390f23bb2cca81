#!/bin/sh
# SPDX-License-Identifier: MIT
# LINGERCLOSE_STATS_FILE: a real server under the library, real uploads.
# The file must parse with the Prometheus client library's own parser
# (the text format node_exporter's textfile collector reads), carry HELP
# and TYPE for every metric and the server's pid on every series, count
# what happened (every upload's close lingered and its drain ended), be
# rewritten every LINGERCLOSE_STATS_INTERVAL while the server runs, with no
# temporary file left behind. A path without %p is the service's: written
# at start-up, and once more at exit with the final counts. A path with %p
# is one process's: written once it has closed a socket, removed when it
# ends. A path that cannot be written costs one warning line and nothing
# else.
#
# Environment: LC_LIBRARY, LC_TESTSERVER, LC_UPLOAD_CLIENT, LC_PATTERNS_DIR. Exit status:
# 0 pass, 1 fail, 77 skip.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
[ -x "${LC_TESTSERVER:-}" ] || fail "LC_TESTSERVER does not name lc-testserver"
[ -x "${LC_UPLOAD_CLIENT:-}" ] || fail "LC_UPLOAD_CLIENT does not name upload-client"
[ -x "${LC_PATTERNS_DIR:-}/prefork" ] || fail "no prefork in LC_PATTERNS_DIR"
# Debian's interpreter, where Debian's python3-prometheus-client lives.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] && "$PYTHON" -c 'import prometheus_client.parser' 2>/dev/null ||
    skip "python3-prometheus-client is missing (apt-get install python3-prometheus-client; ./bootstrap --tests does it)"

use_tmpdir stats-file
server_pid=
at_exit 'exec 3>&- 2>/dev/null; stop_process "$server_pid"'

UPLOADS=5

# lc-testserver serving $UPLOADS early-error uploads, with the given
# environment entries.
start_server() {
    launch_server server "$@" "$LC_TESTSERVER" --scenario early-error --connections "$UPLOADS"
}

stop_server() {
    end_server 30 || fail "the server had not ended 30 s after it was told to"
    [ "$waited_status" = 0 ] ||
        fail "the server failed (status $waited_status): $(cat "$tmp/server.err")"
}

# Parses FILE with the Prometheus parser and prints "name{labels} value"
# lines, or fails with the parser's complaint.
check_format() {
    "$PYTHON" - "$1" "$2" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
path, pid = sys.argv[1], sys.argv[2]
text = open(path).read()
expected = {
    "lingerclose_info": "gauge",
    "lingerclose_closes": "counter",
    "lingerclose_lingering_closes": "counter",
    "lingerclose_plain_closes": "counter",
    "lingerclose_drains_ended": "counter",
    "lingerclose_discarded_bytes": "counter",
    "lingerclose_fin_deferred": "counter",
    "lingerclose_capacity_fallbacks": "counter",
    "lingerclose_lingering_sockets": "gauge",
    "lingerclose_stats_written_timestamp_seconds": "gauge",
}
families = {f.name: f for f in text_string_to_metric_families(text)}
for name, kind in expected.items():
    f = families.get(name)
    if f is None:
        sys.exit("metric %s missing" % name)
    if f.type != kind:
        sys.exit("metric %s has type %s, expected %s" % (name, f.type, kind))
    if not f.documentation:
        sys.exit("metric %s has no HELP" % name)
    if not f.samples:
        sys.exit("metric %s has no sample" % name)
extra = set(families) - set(expected)
if extra:
    sys.exit("unexpected metrics: %s" % sorted(extra))
for f in families.values():
    for s in f.samples:
        if s.labels.get("pid") != pid:
            sys.exit("%s lacks pid=%s: %s" % (s.name, pid, s.labels))
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()) if kv[0] != "pid")
        print("%s{%s} %s" % (s.name, labels, repr(s.value) if s.name.endswith("seconds") else int(s.value)))
PY
}

value() {
    awk -v key="$1" '$1 == key { print $2 }' "$2"
}

sum_of() {
    awk -v prefix="$1{" 'index($1, prefix) == 1 { sum += $2 } END { print sum + 0 }' "$2"
}

# ---- periodic and final writes, counts -----------------------------------
mkdir "$tmp/textfile"
start_server LINGERCLOSE_STATS_FILE="$tmp/textfile/lingerclose-%p.prom" LINGERCLOSE_STATS_INTERVAL=1s
pid=$server_pid
stats="$tmp/textfile/lingerclose-$pid.prom"
sleep 1.2 # an interval
[ -z "$(ls "$tmp/textfile")" ] || fail "a %p file before the first close: $(ls "$tmp/textfile")"

"$LC_UPLOAD_CLIENT" -p "$port" -n "$UPLOADS" -s 300000 >"$tmp/client.out" 2>&1
[ "$(responses_in "$tmp/client.out")" = "$UPLOADS" ] ||
    fail "responses lost: $(cat "$tmp/client.out")"
sleep 2.2 # the drains end, then at least one interval passes
check_format "$stats" "$server_pid" >"$tmp/running" || fail "the running server's file does not parse"
grep -q '^lingerclose_info{version=[0-9][0-9.]*} 1$' "$tmp/running" ||
    fail "no version in lingerclose_info: $(cat "$tmp/running")"
first_stamp=$(value 'lingerclose_stats_written_timestamp_seconds{}' "$tmp/running")
[ "$(value 'lingerclose_closes_total{}' "$tmp/running")" -ge "$UPLOADS" ] ||
    fail "fewer closes than uploads: $(cat "$tmp/running")"
lingering=$(sum_of lingerclose_lingering_closes_total "$tmp/running")
ended=$(sum_of lingerclose_drains_ended_total "$tmp/running")
[ "$lingering" = "$UPLOADS" ] || fail "$lingering lingering closes for $UPLOADS uploads"
[ "$ended" = "$UPLOADS" ] || fail "$ended drains ended for $UPLOADS lingering closes"
[ "$(value 'lingerclose_lingering_sockets{}' "$tmp/running")" = 0 ] || fail "sockets still lingering"
[ "$(value 'lingerclose_discarded_bytes_total{}' "$tmp/running")" -gt 0 ] || fail "nothing discarded"
sleep 1.2
check_format "$stats" "$server_pid" >"$tmp/later" || fail "the file does not parse"
second_stamp=$(value 'lingerclose_stats_written_timestamp_seconds{}' "$tmp/later")
[ "$first_stamp" != "$second_stamp" ] || fail "the file was not rewritten within the interval"

[ "$(ls "$tmp/textfile")" = "$(basename "$stats")" ] || fail "files left beside it: $(ls "$tmp/textfile")"
stop_server
[ -z "$(ls "$tmp/textfile")" ] || fail "the %p file outlived its process: $(ls "$tmp/textfile")"
grep -q "warning" "$tmp/server.err" && fail "warnings: $(cat "$tmp/server.err")"

# ---- without %p: at start-up, and at exit with the final counts ----------
launch_server server LINGERCLOSE_STATS_FILE="$tmp/textfile/service.prom" "$LC_TESTSERVER" --connections 0
[ -f "$tmp/textfile/service.prom" ] || fail "no statistics file at start-up: $(ls "$tmp/textfile")"
check_format "$tmp/textfile/service.prom" "$server_pid" >"$tmp/at-start" ||
    fail "the file at start-up does not parse"
[ "$(value 'lingerclose_closes_total{}' "$tmp/at-start")" = 0 ] || fail "closes at start-up: $(cat "$tmp/at-start")"
stop_server
rm "$tmp/textfile/service.prom"

# ---- only at exit (interval 0), written at exit with the final counts ----
start_server LINGERCLOSE_STATS_FILE="$tmp/textfile/final.prom" LINGERCLOSE_STATS_INTERVAL=0
"$LC_UPLOAD_CLIENT" -p "$port" -n "$UPLOADS" -s 300000 >"$tmp/client.out" 2>&1
pid=$server_pid
stop_server
check_format "$tmp/textfile/final.prom" "$pid" >"$tmp/final" || fail "the exit-only file does not parse"
[ "$(sum_of lingerclose_lingering_closes_total "$tmp/final")" = "$UPLOADS" ] ||
    fail "the file written at exit lacks the final counts: $(cat "$tmp/final")"

# ---- a prefork server: %p gives each worker its own file, gone with it --
# (tests/conformance/patterns/prefork: 4 workers, each serving one upload and exiting;
# their files are removed as they end, the parent's, if it has one, when
# it ends)
for per_process in yes no; do
    rm -rf "$tmp/prefork"
    mkdir "$tmp/prefork"
    name=all.prom
    [ "$per_process" = yes ] && name=%p.prom
    launch_server server LINGERCLOSE_STATS_FILE="$tmp/prefork/$name" "$LC_PATTERNS_DIR/prefork"
    "$LC_UPLOAD_CLIENT" -p "$port" -n 4 -s 300000 >"$tmp/client.out" 2>&1
    sleep 0.5
    pid=$server_pid
    stop_server
    files=$(ls "$tmp/prefork" | wc -l)
    if [ "$per_process" = yes ]; then
        [ "$files" = 0 ] || fail "prefork with %p: $files files once every process ended: $(ls "$tmp/prefork")"
    else
        [ "$files" = 1 ] || fail "prefork without %p: $files files (only the parent may write)"
        check_format "$tmp/prefork/all.prom" "$pid" >/dev/null || fail "prefork: all.prom does not parse"
    fi
done

# ---- a path that cannot be written ----------------------------------------
start_server LINGERCLOSE_STATS_FILE="$tmp/no-such-directory/x.prom" LINGERCLOSE_STATS_INTERVAL=1s
"$LC_UPLOAD_CLIENT" -p "$port" -n "$UPLOADS" -s 300000 >"$tmp/client.out" 2>&1
[ "$(responses_in "$tmp/client.out")" = "$UPLOADS" ] ||
    fail "with an unwritable statistics file, responses were lost: $(cat "$tmp/client.out")"
sleep 1.5
stop_server
warnings=$(grep -c "LINGERCLOSE_STATS_FILE" "$tmp/server.err")
[ "$warnings" = 1 ] || fail "$warnings warnings about the unwritable file (want 1): $(cat "$tmp/server.err")"

echo "PASS: statistics file parsed by the Prometheus parser; $UPLOADS lingering closes counted; rewritten each interval; the service's file written at exit, a %p file removed"
