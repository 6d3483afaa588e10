# shellcheck shell=bash
# common.sh: what every test script shares: fail and note, and the paths
# of the build and source trees ($top_builddir and $top_srcdir, exported by
# `make check`; the repository root for manual runs).

sc_common_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_builddir=${top_builddir:-$(cd "$sc_common_here/.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$sc_common_here/.." && pwd)}

fail() {
  sc_failure="$*"
  echo "FAIL: $*" >&2
  exit 1
}

note() {
  echo "# $*"
}
