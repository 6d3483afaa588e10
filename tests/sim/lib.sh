# shellcheck shell=bash
# lib.sh: helpers for the simulation scenario tests. Source it from a test
# script that runs under `set -euo pipefail`.
#
# It finds stratosim through $top_builddir and the scenarios through
# $top_srcdir (both exported by `make check`; the repository root for
# manual runs), and gives each test a private temporary directory.

. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
STRATOSIM=$top_builddir/tools/stratosim/stratosim
SCENARIOS=$top_srcdir/tests/sim

[ -x "$STRATOSIM" ] || fail "$STRATOSIM is missing: build first (make)"
command -v jq >/dev/null || fail "jq is required (./tools/check installs it)"

sim_tmp=$(mktemp -d "${TMPDIR:-/tmp}/scsim.XXXXXX")
trap 'rm -rf "$sim_tmp"' EXIT

# sim REPORT ARGS...: runs stratosim with ARGS, report into REPORT, summary
# echoed for the test log.
sim() {
  local report=$1
  shift
  "$STRATOSIM" -r "$report" "$@" 2>"$sim_tmp/summary" ||
    { cat "$sim_tmp/summary" >&2; fail "stratosim $* failed"; }
  sed 's/^/# /' "$sim_tmp/summary"
}

# expect REPORT JQ_FILTER WHAT: the filter must yield true.
expect() {
  local got
  got=$(jq -e "$2" "$1") || fail "$3 (jq: $2 gave ${got:-nothing})"
  note "ok: $3"
}

# val REPORT PATH: prints one value of the report.
val() {
  jq -r "$2" "$1"
}
