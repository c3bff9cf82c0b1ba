#!/bin/bash
# SDP <-> Jingle round trips per second: Switchboard (protocols/jingle, release build) against
# stanza.js's own conversion and XML layer (node), on the same Chromium offer, in the same run,
# alternating the two ROUNDS times. Prints each side's median rate and lines lost, and the ratio of
# the medians. Needs the npm peers (scripts/install-peers.sh).
#   bash benches/jingle/run.sh [ROUNDS] [SDP_FILE]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROUNDS=${1:-3}
SDP=${2:-$ROOT/fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp}
cd "$ROOT"
cargo build -q --release -p switchboard-jingle --example roundtrip_rate
BIN=${CARGO_TARGET_DIR:-target}/release/examples/roundtrip_rate
ours=(); theirs=(); ol=; tl=
for i in $(seq "$ROUNDS"); do
  line=$("$BIN" "$SDP" --runs 5 --seconds 1 | tail -1); echo "round $i: $line"
  ours+=("$(sed -n 's/.*switchboard_roundtrips_per_sec=\([0-9]*\).*/\1/p' <<< "$line")"); ol=$line
  line=$(node benches/jingle/stanza_roundtrip.mjs "$SDP" --runs 5 --seconds 1 | tail -1); echo "round $i: $line"
  theirs+=("$(sed -n 's/.*stanza_roundtrips_per_sec=\([0-9]*\).*/\1/p' <<< "$line")"); tl=$line
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}"); mt=$(median "${theirs[@]}")
echo "switchboard: median ${mo} round trips/s ($(grep -o 'lines_lost=[0-9]*' <<< "$ol"))"
echo "stanza.js:   median ${mt} round trips/s ($(grep -o 'lines_lost=[0-9]*' <<< "$tl"))"
echo "ratio: $(echo "scale=1; $mo / $mt" | bc)x"
