#!/usr/bin/env bash
# install.sh: `make install DESTDIR=...` gives a working daemon and tools:
# the installed stratocastd starts with the installed example config and
# answers the installed `stratoctl show info`, `stratosim --version` runs,
# the man pages are under share/man where man finds them, the systemd
# units name the installed daemon, and `make uninstall` removes it all.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

dest=$sc_tmp/dest
# The test may run under make check: a make of its own, not the parent's
# job server.
submake() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" "$@" \
    DESTDIR="$dest" >"$sc_tmp/make.log" 2>&1 || {
    cat "$sc_tmp/make.log" >&2
    fail "make $* DESTDIR=$dest failed"
  }
}

# installed PATH-PATTERN: the one installed file whose path matches.
installed() {
  local found
  found=$(find "$dest" -path "$dest$1" \( -type f -o -type l \))
  [ -n "$found" ] || fail "make install installed nothing like $1"
  [ "$(wc -l <<<"$found")" -eq 1 ] || fail "several files match $1: $found"
  echo "$found"
}

submake install
STRATOCASTD=$(installed '*/bin/stratocastd')
STRATOCTL=$(installed '*/bin/stratoctl')
stratosim=$(installed '*/bin/stratosim')
for bin in "$STRATOCASTD" "$STRATOCTL" "$stratosim"; do
  [ -x "$bin" ] || fail "$bin is not executable"
done
note "ok: installed ${STRATOCASTD#"$dest"}, ${STRATOCTL#"$dest"}, ${stratosim#"$dest"}"

version=$("$STRATOCASTD" --version)
[ "$("$STRATOCTL" --version)" = "stratoctl ${version#stratocastd }" ] ||
  fail "stratoctl --version differs from '$version'"
[ "$("$stratosim" --version)" = "stratosim ${version#stratocastd }" ] ||
  fail "stratosim --version differs from '$version'"
note "ok: $version, and stratoctl and stratosim of the same version"

# The installed daemon, configured by the installed example (the command
# line overrides its listen address, state dir and stats socket).
example=$(installed '*/share/doc/stratocast/stratocastd.conf.example')
start_node a --config "$example"
[ "$(info a version)" = "${version#stratocastd }" ] ||
  fail "show info gives version $(info a version)"
peer=$(info a peer_id)
[[ $peer =~ ^[0-9a-f]{64}$ ]] || fail "show info gives peer_id '$peer'"
note "ok: the installed stratocastd answers the installed stratoctl: peer $peer"
stop_node a

# The man pages, where man finds them.
for page in man8/stratocastd.8 man1/stratoctl.1 man1/stratosim.1; do
  path=$(installed "*/share/man/$page")
  name=${page#*/}
  found=$(MAN_DISABLE_SECCOMP=1 MANPATH=${path%/"$page"} \
    man -w "${name##*.}" "${name%.*}")
  [ "$found" = "$path" ] || fail "man -w finds '$found', not $path"
done
note "ok: man pages in ${path%/man1/*}"

# The units and the user, naming the installed daemon and config file.
bindir=$(dirname "${STRATOCASTD#"$dest"}")
for unit in stratocastd.service stratocastd@.service; do
  path=$(installed "*/lib/systemd/system/$unit")
  grep -q "^ExecStart=$bindir/stratocastd --config /" "$path" ||
    fail "$unit does not run $bindir/stratocastd --config"
done
installed '*/lib/sysusers.d/stratocast.conf' >/dev/null
note "ok: units in ${path%/*}"

submake uninstall
left=$(find "$dest" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
note "ok: make uninstall removes every file"
