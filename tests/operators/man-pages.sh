#!/bin/sh
# SPDX-License-Identifier: MIT
# The man pages: lint-clean for mandoc and groff, and in step with the
# code. Every long option of 'lingerclose --help' is described in
# lingerclose(1) and every option described there is in --help; every
# LINGERCLOSE_* variable the library reads (found in its sources, so new
# ones are caught) is described in lingerclose(7), and has a launcher
# option; each default --help shows (taken from the library's table of
# settings) is the one both pages give. Finally the comparisons are run on
# a copy of lingerclose(1) with one option taken out and on a copy of
# lingerclose(7) with one default changed, and must fail there.
#
# Environment: LC_LAUNCHER, srcdir (set by 'make check').
# Exit status: 0 pass, 1 fail, 77 skip.

set -u

. "$(dirname "$0")/../lib/test-lib.sh"

[ -x "${LC_LAUNCHER:-}" ] || { echo "LC_LAUNCHER does not name the launcher" >&2; exit 1; }
top_srcdir=${srcdir:-$(dirname "$0")/../..}
man1=$top_srcdir/doc/lingerclose.1
man7=$top_srcdir/doc/lingerclose.7
[ -f "$man1" ] && [ -f "$man7" ] || { echo "no doc/lingerclose.1 or .7 in $top_srcdir" >&2; exit 1; }

command -v mandoc >/dev/null 2>&1 || skip "mandoc is missing (apt-get install mandoc)"
command -v groff >/dev/null 2>&1 || skip "groff is missing (apt-get install groff-base)"
command -v col >/dev/null 2>&1 || skip "col is missing (apt-get install bsdextrautils)"

use_tmpdir man-pages

# ---- lint ------------------------------------------------------------------

for page in "$man1" "$man7"; do
    mandoc -T lint -W warning "$page" >"$tmp/lint" 2>&1
    if [ -s "$tmp/lint" ]; then
        not_ok "mandoc -T lint -W warning complains about $page:"
        cat "$tmp/lint" >&2
    fi
    groff -ww -man -z "$page" >"$tmp/lint" 2>&1
    if [ -s "$tmp/lint" ]; then
        not_ok "groff -ww -man -z complains about $page:"
        cat "$tmp/lint" >&2
    fi
done

# ---- what each side says -----------------------------------------------------

# The man source's text with its escapes turned into what a reader sees.
plain() {
    sed -e 's/\\-/-/g' -e 's/\\%//g' -e 's/\\f[BIRP]//g' -e 's/\\(lq/"/g' -e 's/\\(rq/"/g' \
        -e 's/\\(->/->/g' -e 's/\\ / /g' -e 's/\\e/\\/g'
}

# tags PAGE SECTION: the tags of the tagged paragraphs (.TP) of a section,
# up to a "=" (the option's name without its value).
tags() {
    awk -v section="$2" '
        /^\.SH / { sub(/^\.SH +/, ""); gsub(/"/, ""); inside = ($0 == section); next }
        inside && /^\.TP/ { want = 1; next }
        inside && want {
            want = 0
            line = $0
            if (line ~ /^\./) { sub(/^\.[A-Z]+ +/, "", line); split(line, w, " "); line = w[1] }
            sub(/=.*/, "", line)
            print line
        }
    ' "$1" | plain
}

# paragraph PAGE TAG: the text of the tagged paragraph whose tag is TAG,
# macros dropped, on one line.
paragraph() {
    awk -v want="$2" '
        /^\.(TP|SH|SS|PP|IP)/ { tp = ($0 ~ /^\.TP/); inside = 0; next }
        tp { tp = 0; line = $0; sub(/^\.[A-Z]+ +/, "", line); split(line, w, " ")
             tag = w[1]; gsub(/\\-/, "-", tag); gsub(/\\%/, "", tag); sub(/=.*/, "", tag)
             inside = (tag == want); next }
        inside { line = $0; sub(/^\.[A-Z]+ */, "", line); printf "%s ", line }
    ' "$1" | plain | tr -s ' \t' '  '
}

"$LC_LAUNCHER" --help >"$tmp/help" || not_ok "lingerclose --help failed"
# Option lines are indented by two; their continuations by more.
grep -oE '^  --[a-z][a-z-]*' "$tmp/help" | sed 's/^  //' | sort -u >"$tmp/help-options"
[ -s "$tmp/help-options" ] || not_ok "no options found in lingerclose --help"

# help_default OPTION: the "(default: ...)" of the option's description.
help_default() {
    awk -v want="$1" '
        /^  --/ { split($1, t, "="); inside = (t[1] == want) }
        /^[^ ]/ || /^$/ { inside = 0 }
        inside { printf "%s ", $0 }
    ' "$tmp/help" | tr -s ' ' ' ' | sed -n 's/.*(default: \([^)]*\)).*/\1/p'
}

# options_of_man1 PAGE: the options lingerclose(1) describes.
options_of_man1() {
    tags "$1" OPTIONS | grep -E '^--[a-z]' | sort -u
}

# compare_options PAGE: the options of --help and of the page agree.
compare_options() {
    options_of_man1 "$1" >"$tmp/man1-options"
    missing=$(comm -23 "$tmp/help-options" "$tmp/man1-options")
    extra=$(comm -13 "$tmp/help-options" "$tmp/man1-options")
    [ -z "$missing" ] && [ -z "$extra" ] && return 0
    [ -n "$missing" ] && echo "in --help but not in lingerclose(1): $missing" | tr '\n' ' ' >&2
    [ -n "$extra" ] && echo "in lingerclose(1) but not in --help: $extra" | tr '\n' ' ' >&2
    echo >&2
    return 1
}

# ---- options -----------------------------------------------------------------

compare_options "$man1" || not_ok "lingerclose(1) and --help list different options"

# ---- variables -----------------------------------------------------------------

# Every variable named in a string of the library's sources, as it reads it.
grep -ohE '"LINGERCLOSE_[A-Z_]+"' "$top_srcdir"/shim/*/*.c | tr -d '"' | sort -u >"$tmp/variables"
[ -s "$tmp/variables" ] || not_ok "no LINGERCLOSE_* variable found in $top_srcdir/shim"
tags "$man7" ENVIRONMENT | grep '^LINGERCLOSE_' | sort -u >"$tmp/man7-variables"
missing=$(comm -23 "$tmp/variables" "$tmp/man7-variables")
extra=$(comm -13 "$tmp/variables" "$tmp/man7-variables")
[ -z "$missing" ] || not_ok "read by the library but not in lingerclose(7): $missing"
[ -z "$extra" ] || not_ok "in lingerclose(7) but not read by the library: $extra"

# The launcher's option for a variable: LINGERCLOSE_IDLE_TIMEOUT is --idle-timeout.
option_of() {
    echo "$1" | sed 's/^LINGERCLOSE_//' | tr 'A-Z_' 'a-z-' | sed 's/^/--/'
}
while read -r variable; do
    grep -qxF -e "$(option_of "$variable")" "$tmp/help-options" ||
        not_ok "$variable has no launcher option $(option_of "$variable")"
done <"$tmp/variables"

# ---- defaults ------------------------------------------------------------------

# --help gives each default from the library's table of settings
# (shim/conf/conf.c), so the pages are compared with the defaults in force.
# compare_defaults MAN1 MAN7: each default of --help is the one both pages
# give; says which are not, and counts the defaults in $defaults.
compare_defaults() {
    defaults=0
    differ=0
    while read -r option; do
        value=$(help_default "$option")
        [ -n "$value" ] || continue
        defaults=$((defaults + 1))
        variable=LINGERCLOSE_$(echo "${option#--}" | tr 'a-z-' 'A-Z_')
        if ! paragraph "$1" "$option" | grep -qF -e "Default: $value."; then
            echo "lingerclose(1) does not give $option the default of --help: \"$value\"" >&2
            differ=1
        fi
        if ! paragraph "$2" "$variable" | grep -qE -e "Default: ${value}[.( ]"; then
            echo "lingerclose(7) does not give $variable the default of --help: \"$value\"" >&2
            differ=1
        fi
    done <"$tmp/help-options"
    return $differ
}

compare_defaults "$man1" "$man7" || fail "the pages and --help give different defaults"
[ "$defaults" -ge 10 ] || fail "only $defaults defaults found in --help: its format changed?"

# ---- the comparison can fail -------------------------------------------------

# lingerclose(1) without its --ports paragraph (the .TP and its lines).
awk '/^\.(TP|SS|SH)/ { skipping = 0 }
     /^\.TP$/ { held = $0; next }
     held != "" { if ($0 ~ /^\.BI \\-\\-ports= /) skipping = 1; else print held; held = "" }
     !skipping { print }' "$man1" >"$tmp/without-ports.1"
if grep -qF -e '\-\-ports=' "$tmp/without-ports.1" || [ "$(wc -l <"$tmp/without-ports.1")" -ge "$(wc -l <"$man1")" ]; then
    not_ok "the copy of lingerclose(1) still describes --ports: this test's own check is broken"
elif compare_options "$tmp/without-ports.1" 2>"$tmp/compare.err"; then
    not_ok "a lingerclose(1) without --ports passed the comparison"
else
    echo "as it must, a lingerclose(1) without --ports fails: $(cat "$tmp/compare.err")"
fi

# lingerclose(7) with the default of LINGERCLOSE_TIMEOUT changed.
sed 's/^Default: 30s /Default: 31s /' "$man7" >"$tmp/other-default.7"
if cmp -s "$man7" "$tmp/other-default.7"; then
    fail "the copy of lingerclose(7) still gives LINGERCLOSE_TIMEOUT its default: this test's own check is broken"
elif compare_defaults "$man1" "$tmp/other-default.7" 2>"$tmp/compare.err"; then
    fail "a lingerclose(7) with another default for LINGERCLOSE_TIMEOUT passed the comparison"
else
    echo "as it must, a lingerclose(7) with another default fails: $(cat "$tmp/compare.err")"
fi

[ "$failures" = 0 ] || exit 1
echo "PASS: both pages lint clean; $(wc -l <"$tmp/help-options") options," \
    "$(wc -l <"$tmp/variables") variables and $defaults defaults agree with --help and the library"
