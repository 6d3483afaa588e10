#!/usr/bin/env bash
# systemd_units.sh: the units make writes from contrib/systemd/*.service.in
# pass `systemd-analyze verify` (with ExecStart pointed at the build's
# daemon and the man pages of Documentation= on MANPATH), keep their
# hardening (`systemd-analyze security` exposure at most 2.0, the two units
# hardened alike), and the sysusers.d file makes the stratocast user. A
# broken unit must fail the same checks. Without systemd-analyze the test
# is skipped (exit 77).
set -euo pipefail
# shellcheck source=tests/common.sh
. "$(dirname "$0")/../common.sh"

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed (Debian package systemd):" \
    "the systemd units were not verified"
  exit 77
fi

units=$top_builddir/contrib/systemd
daemon=$top_builddir/src/shell/stratocastd
for f in "$units/stratocastd.service" "$units/stratocastd@.service" "$daemon"; do
  [ -f "$f" ] || fail "$f is missing: build first (make)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/units" "$tmp/man/man1" "$tmp/man/man8"
ln -s "$top_srcdir/doc/stratocastd.8" "$tmp/man/man8/"
ln -s "$top_srcdir/doc/stratoctl.1" "$tmp/man/man1/"

# The installed units name the installed daemon; these copies name the
# build's, so that verify finds an executable.
for u in stratocastd.service stratocastd@.service; do
  sed -e "s|^ExecStart=[^ ]*/stratocastd |ExecStart=$daemon |" \
    "$units/$u" >"$tmp/units/$u"
  grep -q "^ExecStart=$daemon --config " "$tmp/units/$u" ||
    fail "$u: no ExecStart= running stratocastd --config"
done

# verify UNIT-FILE: systemd-analyze verify says nothing and exits 0.
verify() {
  local status=0
  MANPATH=$tmp/man SYSTEMD_COLORS=0 systemd-analyze verify "$1" \
    >"$tmp/out" 2>"$tmp/err" || status=$?
  [ "$status" -eq 0 ] && [ ! -s "$tmp/err" ] && [ ! -s "$tmp/out" ]
}

# exposure UNIT-FILE: systemd-analyze security's overall exposure (0 is
# best, 10 worst) is at most 2.0.
exposure() {
  SYSTEMD_COLORS=0 systemd-analyze security --offline=yes --threshold=20 \
    "$1" >"$tmp/security" 2>&1
}

# hardening UNIT-FILE: the [Service] lines from User= on, but the
# directories (which name the instance).
hardening() {
  sed -n '/^User=/,/^\[Install\]/p' "$1" |
    grep -v -e '^StateDirectory=' -e '^RuntimeDirectory=' -e '^#' -e '^$'
}

# The checks fail on broken units: an unknown key, a missing binary, a
# unit that lost its hardening.
sed 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' \
  "$tmp/units/stratocastd.service" >"$tmp/typo.service"
! verify "$tmp/typo.service" || fail "self-check: an unknown key passed"
sed "s|^ExecStart=$daemon|ExecStart=$tmp/none/stratocastd|" \
  "$tmp/units/stratocastd.service" >"$tmp/nobin.service"
! verify "$tmp/nobin.service" || fail "self-check: a missing binary passed"
grep -v -e '^Protect' -e '^Private' -e '^SystemCall' -e '^Restrict' \
  "$tmp/units/stratocastd.service" >"$tmp/soft.service"
! exposure "$tmp/soft.service" || fail "self-check: a soft unit passed"
note "ok: broken units fail (an unknown key, a missing binary, no hardening)"

for u in stratocastd.service stratocastd@.service; do
  verify "$tmp/units/$u" || {
    cat "$tmp/out" "$tmp/err" >&2
    fail "$u: systemd-analyze verify complains (above)"
  }
  exposure "$tmp/units/$u" || {
    tail -n 25 "$tmp/security" >&2
    fail "$u: exposure above 2.0 (above)"
  }
  note "ok: $u: verify is silent; $(grep -o 'Overall exposure level.*' "$tmp/security")"
done
diff <(hardening "$tmp/units/stratocastd.service") \
  <(hardening "$tmp/units/stratocastd@.service") >&2 ||
  fail "the two units are not hardened alike (diff above)"
note "ok: both units have the same $(hardening "$tmp/units/stratocastd.service" | wc -l) lines of user and hardening"

# The instance unit's paths are its own.
grep -q '^ExecStart=.*--config [^ ]*/stratocast/%i\.conf ' \
  "$tmp/units/stratocastd@.service" ||
  fail "stratocastd@.service: the config file is not per instance"
grep -q -- '--state-dir /var/lib/stratocast-%i --stats-socket /run/stratocast-%i/stats.sock$' \
  "$tmp/units/stratocastd@.service" ||
  fail "stratocastd@.service: state or socket not per instance"

# The user the units run as.
mkdir -p "$tmp/root/etc"
systemd-sysusers --root="$tmp/root" \
  "$top_srcdir/contrib/systemd/sysusers.d/stratocast.conf" >/dev/null 2>&1 ||
  fail "systemd-sysusers refuses contrib/systemd/sysusers.d/stratocast.conf"
grep -q '^stratocast:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' \
  "$tmp/root/etc/passwd" || fail "sysusers made no stratocast user"
grep -q '^stratocast:x:' "$tmp/root/etc/group" ||
  fail "sysusers made no stratocast group"
grep -q '^User=stratocast$' "$tmp/units/stratocastd.service" ||
  fail "stratocastd.service does not run as stratocast"
note "ok: systemd-sysusers makes the user stratocast the units run as"
