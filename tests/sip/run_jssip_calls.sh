#!/bin/bash
# JsSIP in headless Chromium (SIP over WebSocket at /sip, registered as carol with digest auth)
# calls a Chromium page using /switchboard.js (alice) and is called by it, with fake-device
# audio both ways, hangups from both sides and a rejected call. Private netns, loopback only.
#   bash tests/sip/run_jssip_calls.sh BINARY        (VERBOSE=1 for page consoles and SIP traces)
set -u
BIN=$(realpath "$1"); HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${SB_JSSIP_CALLS_UNSHARED:-}" ]; then
  SB_JSSIP_CALLS_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
OUT=$(mktemp /tmp/sb-jssip-calls.XXXXXX)
RUST_LOG=${RUST_LOG:-info} "$BIN" serve --http 127.0.0.1:8095 --sip 127.0.0.1:5075 --stun off \
  --sip-user carol:secret > "$OUT" 2> "$OUT.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; [ -n "${KEEP_LOG:-}" ] && cp "$OUT.log" "$KEEP_LOG"; rm -f "$OUT" "$OUT.log"' EXIT
for _ in $(seq 50); do grep -q "listening on" "$OUT" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^switchboard listening on //p' "$OUT")
[ -n "$URL" ] || { echo "FAIL server start"; cat "$OUT.log"; exit 1; }
timeout 120 node "$HERE/jssip_calls.mjs" "$URL"
RC=$?
[ $RC -eq 0 ] || { echo "--- server log (last 40 lines)"; tail -40 "$OUT.log"; }
exit $RC
