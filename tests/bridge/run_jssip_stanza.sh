#!/bin/bash
# SIP <-> XMPP calls through the gateway's bridge, real peers only: JsSIP in headless Chromium
# (a SIP phone registered as `carol` over the gateway's /sip WebSocket, digest auth) and stanza.js in
# another Chromium page (alice@localhost, logged in to Prosody over WebSocket) call each other with
# fake-device audio both ways; hangups from both sides, rejects with their causes, the ring timeout,
# a page killed mid-call on each side, and /api/calls empty after every scenario.
# Private netns, loopback only; Prosody (tests/xmpp/prosody.sh) and the gateway are started here and
# stopped at the end.
#   bash tests/bridge/run_jssip_stanza.sh BINARY   (VERBOSE=1: page consoles, every stanza and SIP
#                                                   message; KEEP_LOG=DIR: keep gateway/Prosody logs
#                                                   and the stanza/SIP traces)
set -u
BIN=$(realpath "$1"); HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${SB_JSSIP_STANZA_UNSHARED:-}" ]; then
  SB_JSSIP_STANZA_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
PROSODY_SH=$HERE/../xmpp/prosody.sh
WORK=$(mktemp -d /tmp/sb-jssip-stanza.XXXXXX)
PID=
finish() {
  [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
  bash "$PROSODY_SH" stop "$WORK/prosody" > /dev/null 2>&1
  if [ -n "${KEEP_LOG:-}" ]; then mkdir -p "$KEEP_LOG" && cp -r "$WORK"/. "$KEEP_LOG"/; fi
  rm -rf "$WORK"
}
trap finish EXIT
bash "$PROSODY_SH" start "$WORK/prosody" > /dev/null || { echo "FAIL prosody start"; cat "$WORK/prosody/console.log"; exit 1; }
EXTRA=(--ring-timeout 5)
if ! "$BIN" serve --help 2>/dev/null | grep -q -- '--ring-timeout'; then
  echo "NOTE $BIN has no --ring-timeout (bridge not in this build?): starting it without"
  EXTRA=()
fi
RUST_LOG=${RUST_LOG:-info} "$BIN" serve --http 127.0.0.1:8099 --sip 127.0.0.1:5079 --stun off \
  --sip-user carol:secret "${EXTRA[@]}" \
  --xmpp-server 127.0.0.1:5347 --xmpp-domain gateway.localhost --xmpp-secret s3cret \
  > "$WORK/gateway.out" 2> "$WORK/gateway.log" &
PID=$!
for _ in $(seq 50); do grep -q "listening on" "$WORK/gateway.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^switchboard listening on //p' "$WORK/gateway.out")
[ -n "$URL" ] || { echo "FAIL server start"; cat "$WORK/gateway.log"; exit 1; }
TRACE_DIR=$WORK RING_TIMEOUT=$([ ${#EXTRA[@]} -gt 0 ] && echo 5) \
  timeout 150 node "$HERE/jssip_stanza.mjs" "$URL" ws://127.0.0.1:5280/xmpp-websocket 127.0.0.1:5079 > "$WORK/node.out"
RC=$?
# The driver's count line is printed after the gateway's own check, which it includes.
COUNT=$(tail -n 1 "$WORK/node.out")
P=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' <<< "$COUNT"); F=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' <<< "$COUNT")
if [ -n "$P" ]; then head -n -1 "$WORK/node.out"
else cat "$WORK/node.out"; echo "FAIL test driver ended early (rc $RC)"; P=$(grep -c '^PASS' "$WORK/node.out"); F=$(( $(grep -c '^FAIL' "$WORK/node.out") + 1 )); fi
if kill -0 "$PID" 2>/dev/null && ! grep -q 'panicked' "$WORK/gateway.log"; then
  echo "PASS gateway still running, no panic in its log"; P=$((P + 1))
else
  echo "FAIL gateway (exited or panicked: $(grep -m1 'panicked' "$WORK/gateway.log"))"; F=$((F + 1))
fi
echo "$P passed, $F failed"
if [ "$F" -ne 0 ]; then
  echo "--- gateway log (warnings, errors, call lines; last 60)"
  sed 's/\x1b\[[0-9;]*m//g' "$WORK/gateway.log" | grep -E 'WARN|ERROR|panicked|call ended|bridge' | tail -60
  echo "--- prosody log (component lines, last 20)"; grep -i 'gateway.localhost\|component' "$WORK/prosody/prosody.log" | tail -20
fi
[ "$F" -eq 0 ]
