#!/bin/bash
# SIP over TLS (`serve --sip-tls`): OPTIONS and a whole call (INVITE, 200, ACK, BYE) to a
# browser-protocol client, with Python's ssl module (OpenSSL) as the TLS peer.
# Usage: run_tls.sh BIN   (SIP_PEER: the sip_peer binary, default target/debug/sip_peer)
# Runs in a private network namespace on loopback; ends with "N passed, M failed".
set -uo pipefail
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIP_PEER=$(realpath "${SIP_PEER:-$ROOT/target/debug/sip_peer}")
if [ -z "${SB_IN_NETNS:-}" ]; then
  exec env SB_IN_NETNS=1 SIP_PEER="$SIP_PEER" unshare -n bash "$0" "$BIN"
fi
ip link set lo up
LOG=$(mktemp -d /tmp/sb-tls.XXXXXX)
"$BIN" serve --http 127.0.0.1:8085 --sip 127.0.0.1:5065 --sip-tls 127.0.0.1:5066 --stun off --media-anchor never >"$LOG/gw.log" 2>&1 &
GW=$!
"$SIP_PEER" answer --url ws://127.0.0.1:8085/ws --name alice >"$LOG/peer.log" 2>&1 &
PEER=$!
trap 'kill $GW $PEER 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q "SIP on tls" "$LOG/gw.log" && grep -q ready "$LOG/peer.log" && break; sleep 0.1; done
python3 "$ROOT/tests/sip/tls_call.py" 127.0.0.1 5066 alice | tee "$LOG/out.txt"
rc=${PIPESTATUS[0]}
passed=$(grep -c '^PASS' "$LOG/out.txt"); failed=$(grep -c '^FAIL' "$LOG/out.txt")
[ "$rc" -eq 0 ] || { failed=$((failed + 1)); tail -20 "$LOG/gw.log"; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
