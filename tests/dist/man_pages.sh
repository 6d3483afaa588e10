#!/usr/bin/env bash
# man_pages.sh: every man page in doc/ renders with `man -l` without a
# single warning, has a NAME line that whatis can read, and names every
# option, command and environment variable its program's --help lists.
# A deliberately broken page must fail the same checks, so they are known
# to catch what they are for.
set -euo pipefail
# shellcheck source=tests/common.sh
. "$(dirname "$0")/../common.sh"

for tool in man lexgrog; do
  command -v "$tool" >/dev/null ||
    fail "$tool is required (./tools/check installs man-db)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# render PAGE: the page as plain text in $tmp/out. Fails, with the
# warnings in $tmp/err, when man or troff says anything at all on stderr.
# troff's "w" is every warning; its "all" leaves out undefined macros.
# man-db's seccomp sandbox is off: some containers refuse to load it.
render() {
  MAN_DISABLE_SECCOMP=1 MANWIDTH=80 LC_ALL=C.UTF-8 \
    man --warnings=w -E UTF-8 -l "$1" \
    >"$tmp/out" 2>"$tmp/err" || return 1
  [ ! -s "$tmp/err" ]
}

# names_ok PAGE: lexgrog (what mandb and whatis use) parses its NAME.
names_ok() {
  lexgrog "$1" >"$tmp/lexgrog" 2>&1 && ! grep -q 'parse failed' "$tmp/lexgrog"
}

# help_words HELP-FILE: the options (-x, --long-name), the $VARIABLES, and
# the lowercase words of the synopsis lines with alternatives (a|b).
help_words() {
  grep -oE -- '(^|[][ ,(])(-[a-zA-Z]\b|--[a-z][a-z-]*)' "$1" | sed 's/^[][ ,(]//'
  grep -oE -- '\$[A-Z][A-Z_]+' "$1" | sed 's/^\$//'
  grep -E '^  [a-z]' "$1" | sed -E 's/^  (show [a-z]+|[a-z][a-z-]*).*/\1/'
  grep -F '|' "$1" | sed 's/[ |]/\n/g' | grep -E '^[a-z][a-z_-]+$' || true
}

# has_word TEXT-FILE WORD: WORD as a whole word in the rendered page.
has_word() {
  grep -qE -- "(^|[^a-zA-Z0-9_-])$2([^a-zA-Z0-9_-]|\$)" "$1"
}

# check_page PAGE BINARY: all of the above for one page.
check_page() {
  local page=$1 bin=$2 word missing=()
  render "$page" || {
    cat "$tmp/err" >&2
    fail "$page: man -l warns (above)"
  }
  cp "$tmp/out" "$tmp/text"
  names_ok "$page" || {
    cat "$tmp/lexgrog" >&2
    fail "$page: lexgrog cannot read its NAME section"
  }
  "$bin" --help >"$tmp/help"
  while read -r word; do
    has_word "$tmp/text" "$word" || missing+=("$word")
  done < <(help_words "$tmp/help" | sort -u)
  [ ${#missing[@]} -eq 0 ] ||
    fail "$page lacks what $(basename "$bin") --help lists: ${missing[*]}"
  note "ok: $(basename "$page"): no warning, NAME readable, $(help_words "$tmp/help" | sort -u | wc -l) words of --help present"
}

# The checks fail on a broken page: an unknown macro, a bad escape, and no
# NAME section for whatis; and on a page that lacks an option.
printf '.TH BROKEN 1\n.SH NAME\nbroken \\- a test\n.BOGUS\nan \\q escape\n' \
  >"$tmp/warns.1"
! render "$tmp/warns.1" || fail "self-check: a page with warnings passed"
grep -q "macro 'BOGUS' not defined" "$tmp/err" ||
  fail "self-check: man printed no warning for .BOGUS: $(cat "$tmp/err")"
printf '.TH BROKEN 1\n.SH DESCRIPTION\nNo name.\n' >"$tmp/noname.1"
! names_ok "$tmp/noname.1" || fail "self-check: a page without NAME passed"
printf -- '--listen --state-dir\n' >"$tmp/text"
! has_word "$tmp/text" --stats-socket || fail "self-check: word match"
! has_word "$tmp/text" --state || fail "self-check: prefix matched a word"
note "ok: a broken page fails every check"

check_page "$top_srcdir/doc/stratocastd.8" "$top_builddir/src/shell/stratocastd"
check_page "$top_srcdir/doc/stratoctl.1" "$top_builddir/tools/stratoctl"
check_page "$top_srcdir/doc/stratosim.1" \
  "$top_builddir/tools/stratosim/stratosim"
