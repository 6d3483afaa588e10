#!/usr/bin/env bash
# Runs each fuzz harness over its seed corpus (and any crash reproducers
# kept beside it). Built without libFuzzer, the harnesses are plain
# programs that read the files; built with it, they take the same paths.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$here/../..}
top_srcdir=${top_srcdir:-$here/../..}
status=0
for name in packet handshake scenario streamin mcast groupmsg api; do
  corpus="$top_srcdir/tests/fuzz/corpus/$name"
  count=$(find "$corpus" -type f | wc -l)
  if [ "$count" -eq 0 ]; then
    echo "replay_corpus: $corpus is empty" >&2
    status=1
    continue
  fi
  if ! "$top_builddir/tests/fuzz/fuzz_$name" "$corpus"; then
    echo "replay_corpus: fuzz_$name failed on its corpus" >&2
    status=1
  fi
done
exit $status
