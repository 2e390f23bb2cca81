#!/bin/sh
# SPDX-License-Identifier: MIT
# Clients nobody here wrote, uploading to webfsd (Debian's webfs,
# unmodified), which answers a POST with 501 at once and closes with the
# body unread: curl (-H 'Expect:'), wget (--post-file), Python's urllib and
# requests, Go's net/http, Node's http and fetch(), and headless Chromium's
# fetch(). Each uploads a body larger than the socket buffers on a new
# connection each time.
#   - With the library every response must arrive, in each of $TRIES tries.
#   - Without it, the clients that write the whole request before they read
#     must lose a response: each tries until one is lost, at most
#     $BASELINE_TRIES times.
#   - curl reads while it uploads, and Chromium has been seen to get its
#     answer in time on other machines: a response they lose without the
#     library is not certain, so their losses are reported, not required.
# A client that is not installed is skipped with a line saying so.
# Environment: see tests/lib/real-servers.sh; LC_CLIENTS_BUILDDIR, where
# the Go client is built and kept. Exit: 0 pass, 1 fail, 77 skip.

. "$(dirname "$0")/../lib/real-servers.sh"

clients_srcdir=$(cd "$(dirname "$0")" && pwd)
TRIES=3
BASELINE_TRIES=12
BODY=$((8 * 1024 * 1024))

webfsd=$(find_program webfsd) ||
    skip "webfsd is not installed (apt-get install webfs; ./bootstrap --tests does it as root)"

configure_server() {
    mkdir -p "$tmp/www"
    echo ok >"$tmp/www/index.html"
    cp "$clients_srcdir/upload.html" "$tmp/www/upload.html"
    chmod -R a+rX "$tmp/www"
    printf 'text/html\thtml\n' >"$tmp/www.types"
}
exec_server() {
    exec "$@" "$webfsd" -F -4 -i 127.0.0.1 -p "$port" -r "$tmp/www" -m "$tmp/www.types"
}

head -c "$BODY" /dev/zero >"$tmp/body"

# ---- the clients: each CLIENT_run URL N posts the body N times and prints
# one line per try, "status CODE" or "error: WHAT" ------------------------

curl_run() {
    for _ in $(seq "$2"); do
        _code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Expect:' --max-time 30 \
            --data-binary @"$tmp/body" "$1" 2>"$tmp/curl.err")
        case "$_code" in
            [1-9][0-9][0-9]) echo "status $_code" ;;
            *) echo "error: $(head -n 1 "$tmp/curl.err")" ;;
        esac
    done
}

# wget takes a 501 for a failure too: -S shows whether the status arrived.
# --tries=1: its retries would hide a lost response.
wget_run() {
    for _ in $(seq "$2"); do
        wget -S -O /dev/null --tries=1 --timeout=30 --post-file="$tmp/body" "$1" \
            >"$tmp/wget.out" 2>&1
        _exit=$?
        _status=$(sed -n 's/^ *HTTP\/1\.[01] \([0-9][0-9][0-9]\).*/\1/p' "$tmp/wget.out" | head -n 1)
        if [ -n "$_status" ]; then
            echo "status $_status"
        else
            echo "error: exit status $_exit: $(grep -v '^--\|^Connecting\|^$' "$tmp/wget.out" |
                tr '\n' ' ' | head -c 200)"
        fi
    done
}

urllib_run() { "$python" "$clients_srcdir/upload.py" urllib "$1" "$tmp/body" "$2"; }
requests_run() { "$python_requests" "$clients_srcdir/upload.py" requests "$1" "$tmp/body" "$2"; }
go_run() { "$go_client" "$1" "$tmp/body" "$2"; }
node_http_run() { node "$clients_srcdir/upload.js" http "$1" "$tmp/body" "$2"; }
node_fetch_run() { node "$clients_srcdir/upload.js" fetch "$1" "$tmp/body" "$2"; }

# The page posts with fetch() and writes its lines into the document,
# which --dump-dom prints once the virtual time budget is spent (virtual
# time stands still while a request is pending).
chromium_run() {
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$tmp/chromium-profile" --virtual-time-budget=60000 --dump-dom \
        "${1%/index.html}/upload.html?size=$BODY&tries=$2" 2>"$tmp/chromium.err" |
        sed -n '/<pre id="results">/,/<\/pre>/p' | sed 's/<[^>]*>//g' | grep -v '^done$' | grep .
}

# The Go client, built once into the build tree with the installed Go.
build_go_client() {
    go_client=${LC_CLIENTS_BUILDDIR:-$tmp}/upload-go
    [ -x "$go_client" ] && [ -n "$(find "$go_client" -newer "$clients_srcdir/upload.go")" ] &&
        return 0
    mkdir -p "$(dirname "$go_client")"
    GOCACHE="$tmp/go-cache" GOPATH="$tmp/go-path" GO111MODULE=off GOFLAGS='' \
        go build -o "$go_client" "$clients_srcdir/upload.go" >"$tmp/go-build.out" 2>&1
}

# ---- which clients are here ---------------------------------------------

clients=
absent() { skip_check "$1" "$2"; }
command -v curl >/dev/null && clients="$clients curl" ||
    absent curl "curl is not installed (apt-get install curl)"
command -v wget >/dev/null && clients="$clients wget" ||
    absent wget "wget is not installed (apt-get install wget)"
python=$(command -v python3) && clients="$clients urllib" ||
    absent urllib "python3 is not installed (apt-get install python3)"
python_requests=
for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c 'import requests' 2>/dev/null; then
        python_requests=$candidate
        break
    fi
done
[ -n "$python_requests" ] && clients="$clients requests" ||
    absent requests "Python's requests is not installed (apt-get install python3-requests)"
if ! command -v go >/dev/null; then
    absent go "Go is not installed (apt-get install golang-go)"
elif build_go_client; then
    clients="$clients go"
else
    not_ok "go: the client does not build: $(cat "$tmp/go-build.out")"
fi
if command -v node >/dev/null; then
    clients="$clients node_http"
    node -e 'if (typeof fetch !== "function") process.exit(1)' 2>/dev/null &&
        clients="$clients node_fetch" ||
        absent node_fetch "this node has no fetch() (Node 18 or later has it)"
else
    absent node_http "node is not installed (apt-get install nodejs)"
    absent node_fetch "node is not installed (apt-get install nodejs)"
fi
chromium=$(command -v chromium || command -v chromium-browser) && clients="$clients chromium" ||
    absent chromium "Chromium is not installed (apt-get install chromium)"

# ---- the runs ------------------------------------------------------------

# arrived FILE: how many of the lines of FILE are a response's status.
arrived() { grep -c '^status [0-9]' "$1"; }

# A response lost by luck only: see above.
loss_required() { case "$1" in curl | chromium) return 1 ;; *) return 0 ;; esac; }

url=
for mode in none preload; do
    start_server "$mode"
    url="http://127.0.0.1:$port/index.html"
    for client in $clients; do
        out="$tmp/$client-$mode.out"
        if [ "$mode" = preload ]; then
            "${client}_run" "$url" "$TRIES" >"$out" 2>&1
            got=$(arrived "$out")
            echo "$client with the library: $got of $TRIES responses arrived"
            if [ "$got" = "$TRIES" ]; then
                pass "$client with the library: every response arrives"
            else
                not_ok "$client with the library: $got of $TRIES responses arrived:" \
                    "$(grep -v '^status' "$out" | head -n 3)"
            fi
            continue
        fi
        if [ "$client" = chromium ]; then
            # One browser start for all its tries: it is slow to start.
            chromium_run "$url" "$TRIES" >"$out" 2>&1
        else
            : >"$out"
            for _ in $(seq "$BASELINE_TRIES"); do
                "${client}_run" "$url" 1 >>"$out" 2>&1
                loss_required "$client" && grep -q '^error' "$out" && break
                [ "$(wc -l <"$out")" -ge "$TRIES" ] && ! loss_required "$client" && break
            done
        fi
        tried=$(grep -c . "$out")
        lost=$((tried - $(arrived "$out")))
        echo "$client without the library: $lost of $tried responses lost" \
            "($(grep -m 1 '^error' "$out" || echo "none lost"))"
        if ! loss_required "$client"; then
            pass "$client without the library: $lost of $tried lost (reported only: its loss is not certain)"
        elif [ "$tried" -gt 0 ] && [ "$lost" -gt 0 ]; then
            pass "$client without the library: a response is lost"
        else
            not_ok "$client without the library: no response lost in $tried tries"
        fi
    done
    stop_server
done
checks_done
