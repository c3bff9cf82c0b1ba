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
"$BIN" serve --http 127.0.0.1:0 --stun "[::]:0" > "$LOG.out" 2> "$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q "STUN on" "$LOG.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^switchboard listening on //p' "$LOG.out")
[ -n "$URL" ] || { echo "server did not start:"; cat "$LOG"; exit 1; }
STUN_PORT=$(sed -n 's/^switchboard STUN on udp .*:\([0-9]*\)$/\1/p' "$LOG.out")
"$HERE/../peers/.venv/bin/python" "$HERE/../peers/stun_binding.py" "$STUN_PORT"
STUN_RC=$?
node "$HERE/chromium_calls.mjs" "$URL" "$SHOTS"
RC=$(( $? | STUN_RC ))
[ $RC -eq 0 ] || { echo "--- server log"; tail -50 "$LOG"; }
exit $RC
