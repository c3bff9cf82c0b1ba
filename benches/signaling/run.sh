#!/bin/bash
# Signaling load benchmark: Switchboard against PeerJS server (npm `peer` 1.0.2), same load, same run.
#   bash benches/signaling/run.sh        (root: needs unshare and a raised open-file limit)
# Runs in a private network namespace, loopback only. Prints one JSON line per measurement.
# Loads: 10,000 idle peers in 1,000 rooms (server RSS per peer); 1,000 pairs relaying
# offer/answer/candidate with one message in flight per pair (closed loop, messages/s);
# a fixed offered load of 20,000 messages/s (latency percentiles). Offers and answers carry
# fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp (5.7 KB).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -z "${SB_BENCH_UNSHARED:-}" ]; then
  cd "$ROOT"
  cargo build --release -q -p switchboard -p switchboard-loadgen
  SB_BENCH_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$@"
fi
ip link set lo up
ulimit -n "$(ulimit -Hn)"
cd "$ROOT"
SDP=fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp
LOAD=target/release/switchboard-loadgen
PEERS=${PEERS:-10000} ROOMS=${ROOMS:-1000} PAIRS=${PAIRS:-1000} SECS=${SECS:-10} RATE=${RATE:-20000}

start_switchboard() {
  # Benchmark limits: the per-connection rate limit would cap the closed loop, not the server.
  target/release/switchboard serve --http 127.0.0.1:8080 --stun off --sip off --rate-per-second 1000000 --rate-burst 1000000 \
    > /tmp/sb-bench.out 2> /tmp/sb-bench.log &
  PID=$!
  for _ in $(seq 50); do grep -q listening /tmp/sb-bench.out 2>/dev/null && break; sleep 0.1; done
  URL=ws://127.0.0.1:8080
}
start_peerjs() {
  node benches/signaling/peerjs_server.mjs 9000 > /tmp/peerjs-bench.out 2>&1 &
  PID=$!
  for _ in $(seq 100); do grep -q listening /tmp/peerjs-bench.out 2>/dev/null && break; sleep 0.1; done
  URL=ws://127.0.0.1:9000
}
stop() { kill $PID 2>/dev/null; wait $PID 2>/dev/null || true; sleep 0.5; }

for target in switchboard peerjs; do
  for mode in idle closed open; do
    "start_$target"
    sleep 0.5
    $LOAD --target $target --mode $mode --url $URL --pid $PID --sdp $SDP \
      --peers "$PEERS" --rooms "$ROOMS" --pairs "$PAIRS" --secs "$SECS" --rate "$RATE" || echo "{\"target\":\"$target\",\"mode\":\"$mode\",\"failed\":true}"
    stop
  done
done
