#!/bin/sh
# SPDX-License-Identifier: MIT
# What the library says when it starts, in a real program:
# - at LINGERCLOSE_LOG=info, one line with its version and main settings,
#   once per program: a forked child does not repeat it, a program exec'd
#   with the library loads it anew and says it for itself;
# - a LINGERCLOSE_* variable that is no setting gets one line naming it and
#   the closest setting, from the library and from the launcher (for its
#   environment and for a misspelt option);
# - an errno value is printed as its text.
#
# Environment: LC_LAUNCHER, LC_LIBRARY.
set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -x "${LC_LAUNCHER:-}" ] || fail "LC_LAUNCHER does not name the launcher"
[ -f "${LC_LIBRARY:-}" ] || fail "LC_LIBRARY does not name the library"
unset LINGERCLOSE_LOG LINGERCLOSE_MODE LINGERCLOSE_STATS_FILE

use_tmpdir startup-lines
# A program, not the shell's builtin; run directly (env would load the
# library twice: once in env, once in the program it execs).
true_program=$(command -v -p true 2>/dev/null || echo /bin/true)
[ -x "$true_program" ] || true_program=/bin/true
version=$("$LC_LAUNCHER" --version | sed -n 's/^lingerclose //p')

# expect_lines DESCRIPTION COUNT PATTERN FILE: FILE has COUNT lines
# matching PATTERN (grep -E).
expect_lines() {
    found=$(grep -cE "$3" "$4")
    if [ "$found" = "$2" ]; then
        pass "$1"
    else
        not_ok "$1 ($found lines match, not $2: $3)"
        sed 's/^/#   /' "$4"
    fi
}

started="^lingerclose\[[0-9]+\]: info: lingerclose $version loaded in"

# A shell whose subshell is a fork without exec.
LD_PRELOAD=$lc_preload LINGERCLOSE_LOG=info LINGERCLOSE_TIMEOUT=9s \
    sh -c '( : ); ( : ) & wait' 2>"$tmp/fork.err"
expect_lines "at info, one start-up line for a program and its forked children" 1 \
    "$started sh: mode=auto idle-timeout=2000ms timeout=9000ms .*max-sockets=[0-9]+ stats-file=none\$" \
    "$tmp/fork.err"

LD_PRELOAD=$lc_preload LINGERCLOSE_LOG=info sh -c 'exec true' 2>"$tmp/exec.err"
expect_lines "a program exec'd with the library says it for itself" 1 "$started true: " "$tmp/exec.err"

LD_PRELOAD=$lc_preload sh -c 'exec true' 2>"$tmp/warn.err"
if [ -s "$tmp/warn.err" ]; then
    not_ok "at the default level (warn), nothing"
    sed 's/^/#   /' "$tmp/warn.err"
else
    pass "at the default level (warn), nothing"
fi

unknown="LINGERCLOSE_TIMOUT is not a variable of lingerclose and is ignored; did you mean LINGERCLOSE_TIMEOUT\?\$"
LD_PRELOAD=$lc_preload LINGERCLOSE_TIMOUT=10s "$true_program" 2>"$tmp/unknown.err"
expect_lines "LINGERCLOSE_TIMOUT=10s: one line from the library, suggesting LINGERCLOSE_TIMEOUT" 1 \
    "^lingerclose\[[0-9]+\]: warning: $unknown" "$tmp/unknown.err"
[ "$(wc -l <"$tmp/unknown.err")" = 1 ] || not_ok "LINGERCLOSE_TIMOUT=10s: nothing else"

LD_PRELOAD=$lc_preload LINGERCLOSE_TIMEOUT=10s LINGERCLOSE_SHARED= "$true_program" 2>"$tmp/known.err"
expect_lines "the library's own variables get no such line" 0 "is not a variable" "$tmp/known.err"

# Untrusted: a very long name is cut, an unprintable byte shown as '?'.
long=LINGERCLOSE_$(printf '%0300d' 0)
LD_PRELOAD=$lc_preload env "$long=1" "$(printf 'LINGERCLOSE_MO\001DE')=off" true 2>"$tmp/odd.err"
expect_lines "a long name is cut short" 1 "warning: LINGERCLOSE_0{52}\.\.\. is not a variable" \
    "$tmp/odd.err"
expect_lines "an unprintable byte in a name is shown as '?'" 1 \
    "warning: LINGERCLOSE_MO\?DE is not a variable .* did you mean LINGERCLOSE_MODE\?\$" "$tmp/odd.err"

LINGERCLOSE_TIMOUT=10s "$LC_LAUNCHER" --check true >/dev/null 2>"$tmp/launcher.err"
expect_lines "the launcher's --check says it for its own environment" 1 \
    "^lingerclose: warning: $unknown" "$tmp/launcher.err"

LINGERCLOSE_TIMOUT=10s "$LC_LAUNCHER" true 2>"$tmp/run.err"
expect_lines "running a command, it is said once (by the library)" 1 "$unknown" "$tmp/run.err"

"$LC_LAUNCHER" --timout=10s true 2>"$tmp/option.err"
expect_lines "a misspelt option gets the closest option" 1 \
    "^lingerclose: unrecognized option '--timout'; did you mean --timeout\?\$" "$tmp/option.err"

# An error from a system call, in words.
LD_PRELOAD=$lc_preload LINGERCLOSE_STATS_FILE="$tmp/no-such-dir/stats.prom" "$true_program" 2>"$tmp/errno.err"
expect_lines "an errno is printed as text" 1 \
    "^lingerclose\[[0-9]+\]: warning: LINGERCLOSE_STATS_FILE: cannot .*$tmp/no-such-dir: No such file or directory \(errno 2\)" \
    "$tmp/errno.err"

checks_done
