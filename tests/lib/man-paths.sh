# SPDX-License-Identifier: MIT
# Sourced after test-lib.sh by the installation tests (POSIX sh).
#
#   check_man_page_paths ROOT DESCRIPTION
#
# Every man page installed under ROOT (a DESTDIR or an unpacked package;
# compressed or not) must name the library only at paths that exist in
# that installation: what a reader copies into LD_PRELOAD or a systemd
# drop-in must work. A '$LIB' in a path (which ld.so expands) may stand
# for lib, lib64 or lib/TRIPLET; a path under a placeholder (DIR/shim/...)
# is none. One check per page, named with DESCRIPTION.

# The text of a man page as a reader sees it: rendered without wrapping
# or hyphenation, so that a path stays on one line.
man_page_text() {
    if command -v groff >/dev/null 2>&1; then
        zcat -f "$1" | groff -man -Tascii -rLL=2000n -rHY=0 -P-cbou 2>/dev/null
    else
        zcat -f "$1" | sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g'
    fi
}

# ROOT/PATH exists, with '$LIB' tried as each of the usual directories.
installed_path_exists() {
    case $2 in
        *'$LIB'*)
            for _lib in lib lib64 lib32 $(cd "$1/usr/lib" 2>/dev/null && ls -d ./*-linux-gnu* 2>/dev/null |
                sed 's|^\./|lib/|'); do
                [ -e "$1$(printf '%s\n' "$2" | sed "s|\\\$LIB|$_lib|g")" ] && return 0
            done
            return 1 ;;
        *) [ -e "$1$2" ] ;;
    esac
}

check_man_page_paths() {
    _root=$1
    _pages=$(find "$_root" -path '*/share/man/man[1-8]/*' -type f | LC_ALL=C sort)
    [ -n "$_pages" ] || { not_ok "$2: man pages are installed under $_root"; return; }
    for _page in $_pages; do
        _name=${_page##*/}
        _paths=$(man_page_text "$_page" |
            grep -oE "(^|[[:space:]\"'=:])/[^[:space:]\"'=:]*/liblingerclose\.so" |
            sed 's|^[^/]*||' | sort -u)
        if [ -z "$_paths" ]; then
            pass "$2: $_name names no path of the library"
            continue
        fi
        _missing=
        for _path in $_paths; do
            installed_path_exists "$_root" "$_path" || _missing="$_missing $_path"
        done
        if [ -z "$_missing" ]; then
            pass "$2: $_name names the library where it is installed ($(echo $_paths))"
        else
            not_ok "$2: $_name names the library where it is installed; not installed:$_missing"
        fi
    done
}
