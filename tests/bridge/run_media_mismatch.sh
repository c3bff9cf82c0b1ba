#!/bin/bash
# Calls whose two legs speak different media profiles (plain RTP sipp <-> browser / Jingle), with the
# default --media-anchor auto and no media relay: refused fast with a clear cause, never connected
# without audio (media_mismatch.py). Private network namespace, loopback only; Prosody, sipp and the
# gateway are started here. `PASS`/`FAIL` lines, then "N passed, M failed".
#   bash tests/bridge/run_media_mismatch.sh BINARY   (KEEP=1 keeps the logs in /tmp/sb-media.*)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SWITCHBOARD_BINARY"; exit 2; }
BIN=$(realpath "$1")
if [ -z "${SB_MEDIA_UNSHARED:-}" ]; then
  SB_MEDIA_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1
PY=${PYTHON:-$HERE/../peers/.venv/bin/python}
[ -x "$PY" ] || { echo "no Python venv with slixmpp at $PY (scripts/install-peers.sh)"; exit 1; }
WORK=$(mktemp -d /tmp/sb-media.XXXXXX)
SB_PID=
cleanup() {
  [ -n "$SB_PID" ] && { kill "$SB_PID" 2> /dev/null; wait "$SB_PID" 2> /dev/null; }
  bash "$HERE/../xmpp/prosody.sh" stop "$WORK/prosody" > /dev/null 2>&1
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
if ! bash "$HERE/../xmpp/prosody.sh" start "$WORK/prosody" > /dev/null 2> "$WORK/prosody.err"; then
  echo "FAIL Prosody start ($(tail -3 "$WORK/prosody.err"))"; echo "0 passed, 1 failed"; exit 1
fi
RUST_LOG=${RUST_LOG:-info} "$BIN" serve --http 127.0.0.1:8098 --sip 127.0.0.1:5078 \
  --stun off --xmpp-server 127.0.0.1:5347 --xmpp-domain gateway.localhost --xmpp-secret s3cret \
  > "$WORK/sb.out" 2> "$WORK/sb.log" &
SB_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/sb.out" 2> /dev/null && break; sleep 0.1; done
grep -q "listening on" "$WORK/sb.out" || { echo "FAIL gateway start"; tail -20 "$WORK/sb.log"; echo "0 passed, 1 failed"; exit 1; }
timeout 120 "$PY" "$HERE/media_mismatch.py" --work "$WORK" --trace "$WORK/trace.log" > "$WORK/out" 2>&1
RC=$?
cat "$WORK/out"
P=$(grep -c '^PASS ' "$WORK/out"); F=$(grep -c '^FAIL ' "$WORK/out")
[ $RC -ne 0 ] && [ "$F" -eq 0 ] && { F=1; echo "FAIL media_mismatch.py exited with status $RC"; }
[ "$F" -gt 0 ] && { echo "--- gateway log (last 20 lines)"; tail -20 "$WORK/sb.log" | cut -c1-300; }
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
