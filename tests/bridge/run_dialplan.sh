#!/bin/bash
# `[[dial_plan]]` rules (protocols/bridge/BRIDGE.md) with real peers: slixmpp on Prosody, sipp and a
# browser-protocol client around `switchboard serve --config` with the rules of dialplan.py's
# docstring; and a SIP phone over UDP killed mid-call, found dead by the in-dialog OPTIONS checks
# (--sip-keepalive 2). Private network namespace, loopback only. `PASS`/`FAIL` lines, then "N passed, M failed".
#   bash tests/bridge/run_dialplan.sh BINARY   (KEEP=1 keeps the logs in /tmp/sb-dialplan.*)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SWITCHBOARD_BINARY"; exit 2; }
BIN=$(realpath "$1")
if [ -z "${SB_DIALPLAN_UNSHARED:-}" ]; then
  SB_DIALPLAN_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1
PY=${PYTHON:-$HERE/../peers/.venv/bin/python}
[ -x "$PY" ] || { echo "no Python venv with slixmpp at $PY (scripts/install-peers.sh)"; exit 1; }
WORK=$(mktemp -d /tmp/sb-dialplan.XXXXXX)
SB_PID=
cleanup() {
  [ -n "$SB_PID" ] && { kill "$SB_PID" 2> /dev/null; wait "$SB_PID" 2> /dev/null; }
  bash "$HERE/../xmpp/prosody.sh" stop "$WORK/prosody" > /dev/null 2>&1
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
cat > "$WORK/dialplan.toml" <<'TOML'
[[dial_plan]]
match = "xmpp:+1*@gateway.localhost"
from = "xmpp"
route = "sip:+1$1@127.0.0.1:5090"

[[dial_plan]]
match = "xmpp:premium*@gateway.localhost"
reject = "decline"

[[dial_plan]]
match = "xmpp:support@gateway.localhost"
route = ["browser:agent", "sip:desk@127.0.0.1:5091"]

[[dial_plan]]
match = "sip:helpdesk@*"
route = "browser:agent2"
TOML
if ! bash "$HERE/../xmpp/prosody.sh" start "$WORK/prosody" > /dev/null 2> "$WORK/prosody.err"; then
  echo "FAIL Prosody start ($(tail -3 "$WORK/prosody.err"))"; echo "0 passed, 1 failed"; exit 1
fi
RUST_LOG=${RUST_LOG:-info} "$BIN" serve --config "$WORK/dialplan.toml" --http 127.0.0.1:8098 --sip 127.0.0.1:5078 --media-anchor never \
  --stun off --sip-keepalive 2 --xmpp-server 127.0.0.1:5347 --xmpp-domain gateway.localhost --xmpp-secret s3cret \
  > "$WORK/sb.out" 2> "$WORK/sb.log" &
SB_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/sb.out" 2> /dev/null && break; sleep 0.1; done
grep -q "listening on" "$WORK/sb.out" || { echo "FAIL gateway start"; tail -20 "$WORK/sb.log"; echo "0 passed, 1 failed"; exit 1; }
timeout 120 "$PY" "$HERE/dialplan.py" --work "$WORK" --trace "$WORK/trace.log" > "$WORK/out" 2>&1
RC=$?
cat "$WORK/out"
P=$(grep -c '^PASS ' "$WORK/out"); F=$(grep -c '^FAIL ' "$WORK/out")
[ $RC -ne 0 ] && [ "$F" -eq 0 ] && { F=1; echo "FAIL dialplan.py exited with status $RC"; }
[ "$F" -gt 0 ] && { echo "--- gateway log (last 20 lines)"; tail -20 "$WORK/sb.log" | cut -c1-300; }
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
