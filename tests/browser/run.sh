#!/bin/bash
# Real-browser tests: starts `switchboard serve` and headless Chromium inside a
# private network namespace (loopback only), then runs chromium_calls.mjs.
#   bash tests/browser/run.sh BINARY [SCREENSHOT_DIR]
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$(realpath "$1"); SHOTS=$(realpath -m "${2:-$HERE/../../target/browser}")
if [ -z "${SB_BROWSER_UNSHARED:-}" ]; then
  SB_BROWSER_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN" "$SHOTS"
fi
ip link set lo up
mkdir -p "$SHOTS"
LOG=$(mktemp /tmp/switchboard-serve.XXXXXX.log)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null' EXIT
# coturn with TURN REST credentials (use-auth-secret), as shared/recipes runs it.
TURN_SECRET=switchboard-test-secret
TURN_ARGS=()
if command -v turnserver > /dev/null; then
  turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port=3479 --min-port=49160 --max-port=49200 \
    --use-auth-secret --static-auth-secret=$TURN_SECRET --realm=switchboard.test --fingerprint --no-tls --no-dtls \
    --no-cli --allow-loopback-peers --no-multicast-peers --log-file=stdout --simple-log \
    --pidfile="$LOG.turn.pid" > "$LOG.turn" 2>&1 &
  PIDS+=($!)
  export TURN_URL="turn:127.0.0.1:3479?transport=udp"
  TURN_ARGS=(--turn-url "$TURN_URL" --turn-secret "$TURN_SECRET")
elif [ -n "${CI:-}" ]; then
  echo "turnserver (coturn) is not installed (scripts/install-peers.sh installs it)"; exit 1
else
  echo "SKIPPED: turnserver (coturn) not installed: relay-only test not run"
fi
"$BIN" serve --http 127.0.0.1:0 --stun "[::]:0" "${TURN_ARGS[@]}" > "$LOG.out" 2> "$LOG" &
PIDS+=($!)
for _ in $(seq 50); do grep -q "STUN on" "$LOG.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^switchboard listening on //p' "$LOG.out")
[ -n "$URL" ] || { echo "server did not start:"; cat "$LOG"; exit 1; }
STUN_PORT=$(sed -n 's/^switchboard STUN on udp .*:\([0-9]*\)$/\1/p' "$LOG.out")
"$HERE/../peers/.venv/bin/python" "$HERE/../peers/stun_binding.py" "$STUN_PORT"
STUN_RC=$?
node "$HERE/chromium_calls.mjs" "$URL" "$SHOTS"
RC=$(( $? | STUN_RC ))
# The same calls over HTTPS/WSS with a certificate the server makes at start.
"$BIN" serve --http 127.0.0.1:0 --stun off --sip off --tls self-signed > "$LOG.tls.out" 2> "$LOG.tls" &
PIDS+=($!)
for _ in $(seq 50); do grep -q "listening on" "$LOG.tls.out" 2>/dev/null && break; sleep 0.1; done
TLS_URL=$(sed -n 's/^switchboard listening on //p' "$LOG.tls.out")
grep "TLS certificate SHA-256" "$LOG.tls.out"
case "$TLS_URL" in
  https://*) ONLY=datachannel,audio node "$HERE/chromium_calls.mjs" "$TLS_URL" "$SHOTS" || RC=1 ;;
  *) echo "TLS server did not start:"; cat "$LOG.tls"; RC=1 ;;
esac
# --hide-host-candidates (issue #6 item 5): a gateway that relays no private-address host candidate;
# the pages still connect through coturn's relay candidates.
if [ ${#TURN_ARGS[@]} -gt 0 ]; then
  "$BIN" serve --http 127.0.0.1:0 --stun off --sip off --hide-host-candidates "${TURN_ARGS[@]}" > "$LOG.hide.out" 2> "$LOG.hide" &
  PIDS+=($!)
  for _ in $(seq 50); do grep -q "listening on" "$LOG.hide.out" 2>/dev/null && break; sleep 0.1; done
  HIDE_URL=$(sed -n 's/^switchboard listening on //p' "$LOG.hide.out")
  ONLY=hidehost node "$HERE/chromium_calls.mjs" "$HIDE_URL" "$SHOTS" || RC=1
fi
[ $RC -eq 0 ] || { echo "--- server log"; tail -50 "$LOG"; }
exit $RC
