# Sourced by the shell tests: the automake test protocol's two outcomes
# besides a pass (exit 1: failed, exit 77: skipped, with the reason).

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}

# preload_with LIST: the LD_PRELOAD value for LIST (colon-separated). In a
# sanitizer build the library needs the sanitizer's runtime loaded before
# anything else, so LC_PRELOAD_FIRST goes in front, as an operator would
# put it.
preload_with() {
    echo "${LC_PRELOAD_FIRST:+$LC_PRELOAD_FIRST${1:+:}}$1"
}

# The library as the tests preload it.
lc_preload=$(preload_with "${LC_LIBRARY:-}")

# wait_bounded PID SECONDS: waits for a child of this shell to end, at most
# SECONDS, and kills it (KILL) if it did not; false then. Its exit status
# is left in $waited_status. A test never waits without a bound.
wait_bounded() {
    _deadline=$(($(date +%s) + $2))
    while kill -0 "$1" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$_deadline" ]; then
            kill -KILL "$1" 2>/dev/null
            wait "$1" 2>/dev/null
            waited_status=$?
            return 1
        fi
        sleep 0.1
    done
    wait "$1" 2>/dev/null
    waited_status=$?
    return 0
}
