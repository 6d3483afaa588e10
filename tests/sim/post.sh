#!/usr/bin/env bash
# Posting at small N ([5/6]): 200 members of one group, 400 posts from
# random members; every post reaches every other member exactly once, with
# few duplicate transmissions. Then a tenth of the members crash just
# before posts are made: the survivors still get every post once, by
# repair along the ring.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

r=$sim_tmp/steady.json
sim "$r" -s "$SCENARIOS/mesh.scn" --duration 75s -e 'at 40s post 400 over 20s'
note "posting: $(jq -c .posting "$r")"
expect "$r" '.posting.posts == 400 and .posting.refused == 0' "400 posts made"
expect "$r" '.posting.expected == 400 * 199' "each expected at the 199 others"
expect "$r" '.posting.delivery == 1 and .posting.delivered_twice == 0' \
  "every post delivered once at every other member"
expect "$r" '.posting.bad_bytes == 0' "every delivery is the bytes posted"
expect "$r" '.posting.duplicates_per_delivery <= 0.05' \
  "at most 0.05 duplicate POSTs per delivery ($(val "$r" .posting.duplicates_per_delivery))"

# 20 members crash at 40 s, unseen for the first seconds of posting.
r=$sim_tmp/crash.json
sim "$r" -s "$SCENARIOS/mesh.scn" --duration 75s -e 'at 40s crash 180-199' \
  -e 'at 40s post 400 over 20s'
note "posting after crashes: $(jq -c .posting "$r")"
expect "$r" '.posting.delivery == 1 and .posting.delivered_twice == 0' \
  "the 180 survivors get every post once"
expect "$r" '.posting.repairs_asked > 0' "some were repaired along the ring"
