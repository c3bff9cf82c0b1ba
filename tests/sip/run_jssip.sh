#!/bin/bash
# JsSIP in headless Chromium registers over /sip (SIP WebSocket) with digest auth. Private netns.
#   bash tests/sip/run_jssip.sh BINARY
set -u
BIN=$(realpath "$1"); HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${SB_JSSIP_UNSHARED:-}" ]; then
  SB_JSSIP_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
OUT=$(mktemp /tmp/sb-jssip.XXXXXX)
"$BIN" serve --http 127.0.0.1:0 --stun off --sip off --sip-user alice:s3cret > "$OUT" 2> "$OUT.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$OUT" "$OUT.log"' EXIT
for _ in $(seq 50); do grep -q "listening on" "$OUT" 2>/dev/null && break; sleep 0.1; done
node "$HERE/jssip_register.mjs" "$(sed -n 's/^switchboard listening on //p' "$OUT")"
