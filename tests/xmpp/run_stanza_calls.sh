#!/bin/bash
# stanza.js (npm `stanza`, in headless Chromium, logged in to Prosody over WebSocket as alice@localhost)
# calls a Chromium page using /switchboard.js registered as `web` through the gateway's XMPP component
# (gateway.localhost), and is called by it: Jingle with fake-device audio both ways, hangups from both
# sides, JMI ringing/reject/retract, data channels. Private netns, loopback only; Prosody is started
# here (tests/xmpp/prosody.sh) and stopped at the end.
#   bash tests/xmpp/run_stanza_calls.sh BINARY     (VERBOSE=1: page consoles and every stanza;
#                                                  KEEP_LOG=DIR: keep gateway/Prosody logs and the stanza trace)
set -u
BIN=$(realpath "$1"); HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${SB_STANZA_CALLS_UNSHARED:-}" ]; then
  SB_STANZA_CALLS_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
WORK=$(mktemp -d /tmp/sb-stanza-calls.XXXXXX)
PID=
finish() {
  [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
  bash "$HERE/prosody.sh" stop "$WORK/prosody" > /dev/null 2>&1
  if [ -n "${KEEP_LOG:-}" ]; then mkdir -p "$KEEP_LOG" && cp -r "$WORK"/. "$KEEP_LOG"/; fi
  rm -rf "$WORK"
}
trap finish EXIT
bash "$HERE/prosody.sh" start "$WORK/prosody" > /dev/null || { echo "FAIL prosody start"; cat "$WORK/prosody/console.log"; exit 1; }
XMPP_FLAGS=(--xmpp-server 127.0.0.1:5347 --xmpp-domain gateway.localhost --xmpp-secret s3cret)
if ! "$BIN" serve --help 2>/dev/null | grep -q -- '--xmpp-server'; then
  echo "NOTE $BIN has no --xmpp-server (no XMPP component in this build): starting it without; the calls will fail"
  XMPP_FLAGS=()
fi
RUST_LOG=${RUST_LOG:-info} "$BIN" serve --http 127.0.0.1:8096 --sip off --stun off "${XMPP_FLAGS[@]}" \
  > "$WORK/gateway.out" 2> "$WORK/gateway.log" &
PID=$!
for _ in $(seq 50); do grep -q "listening on" "$WORK/gateway.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^switchboard listening on //p' "$WORK/gateway.out")
[ -n "$URL" ] || { echo "FAIL server start"; cat "$WORK/gateway.log"; exit 1; }
STANZA_TRACE=$WORK/stanza-trace.txt timeout 180 node "$HERE/stanza_calls.mjs" "$URL" ws://127.0.0.1:5280/xmpp-websocket
RC=$?
if [ $RC -ne 0 ]; then
  echo "--- gateway log (last 40 lines)"; tail -40 "$WORK/gateway.log"
  echo "--- prosody log (component lines, last 20)"; grep -i 'gateway.localhost\|component' "$WORK/prosody/prosody.log" | tail -20
fi
exit $RC
