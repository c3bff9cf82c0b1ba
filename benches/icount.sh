#!/bin/bash
# Instructions per parse of the Chromium offer fixtures, counted by callgrind:
# repeatable whatever else the machine is doing (wall-time medians are in BENCHMARKS.md).
# usage: bash benches/icount.sh        (needs valgrind: apt-get install valgrind)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --example sdp_parse_loop -q
BIN=target/release/examples/sdp_parse_loop
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" "$2" 2>&1 | awk '/Collected/ {print $4}'; }
for f in fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp fixtures/sdp/chromium-156-offer-non-trickle-candidates.sdp; do
  base=$(count none "$f")
  ours=$(( ($(count switchboard "$f") - base) / 100 ))
  echo "$(basename "$f") ($(wc -c < "$f") bytes)"
  for p in switchboard webrtc-sdp sdp memchr; do
    n=$(( ($(count "$p" "$f") - base) / 100 ))
    printf '  %-12s %8d instructions/parse  (%s x switchboard)\n' "$p" "$n" "$(echo "scale=2; $n / $ours" | bc)"
  done
done
