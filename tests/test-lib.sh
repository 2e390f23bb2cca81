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
