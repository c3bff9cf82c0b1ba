#!/bin/bash
# Instructions per message of the SIP parsing benchmark, counted by callgrind: repeatable whatever
# else the machine is doing (wall-time medians are in BENCHMARKS.md).
# usage: bash tools/sip-eval/icount.sh        (needs valgrind: apt-get install valgrind)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
cargo build --profile bench --example sip_parse_loop -q
BIN=target/release/examples/sip_parse_loop
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" "$2" 2>&1 | awk '/Collected/ {print $4}'; }
for f in ../../fixtures/sip/invite-chromium-156-offer.sip ../../fixtures/sip/register-no-body.sip; do
  base=$(count none "$f")
  ours=$(( ($(count switchboard "$f") - base) / 100 ))
  echo "$(basename "$f") ($(wc -c < "$f") bytes)"
  for p in switchboard switchboard-typed switchboard-screen rsip rsip-typed rsip-typed-from-to \
           rsipstack rsipstack-typed rsipstack-typed-from-to; do
    n=$(( ($(count "$p" "$f") - base) / 100 ))
    printf '  %-24s %8d instructions/message  (%s x switchboard parse)\n' "$p" "$n" "$(echo "scale=2; $n / $ours" | bc)"
  done
done
