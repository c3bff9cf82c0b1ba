#!/bin/bash
# XMPP calls through `switchboard serve --xmpp-*` with real peers: Prosody 0.12 (tests/xmpp/prosody.sh)
# and slixmpp accounts on one side, a browser-protocol client (Python websockets) on the other. Checks
# protocols/jingle/GATEWAY.md: disco, presence, JMI and direct Jingle calls both ways, hangup reasons,
# errors (slixmpp_calls.py), then a Prosody crash and restart during calls (prosody_restart.py).
# Private network namespace, loopback only. One `PASS name` / `FAIL name (why)` line per check,
# then "N passed, N failed" (exit 1 if any failed).
#   bash tests/xmpp/run_slixmpp.sh BINARY      (KEEP=1 keeps the logs and the stanza trace in /tmp/sb-xmpp.*;
#                                               ONLY=x2b,b2x runs only those scenarios of slixmpp_calls.py;
#                                               NO_RESTART=1 skips prosody_restart.py)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SWITCHBOARD_BINARY"; exit 2; }
BIN=$(realpath "$1")
if [ -z "${SB_XMPP_UNSHARED:-}" ]; then
  SB_XMPP_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1
PY=${PYTHON:-$HERE/../peers/.venv/bin/python}
[ -x "$PY" ] || { echo "no Python venv with slixmpp at $PY (scripts/install-peers.sh)"; exit 1; }
command -v prosody > /dev/null || { echo "prosody is not installed (scripts/install-peers.sh)"; exit 1; }
WORK=$(mktemp -d /tmp/sb-xmpp.XXXXXX)
SB_PID=
cleanup() {
  [ -n "$SB_PID" ] && { kill "$SB_PID" 2> /dev/null; wait "$SB_PID" 2> /dev/null; }
  bash "$HERE/prosody.sh" stop "$WORK/prosody" > /dev/null 2>&1
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
START=$SECONDS
HTTP=127.0.0.1:8097

if ! bash "$HERE/prosody.sh" start "$WORK/prosody" > /dev/null 2> "$WORK/prosody.err"; then
  echo "FAIL Prosody start ($(tail -3 "$WORK/prosody.err"))"; echo "0 passed, 1 failed"; exit 1
fi
RUST_LOG=${RUST_LOG:-info} "$BIN" serve --http "$HTTP" --sip 127.0.0.1:5077 --stun off \
  --xmpp-server 127.0.0.1:5347 --xmpp-domain gateway.localhost --xmpp-secret s3cret \
  > "$WORK/sb.out" 2> "$WORK/sb.log" &
SB_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/sb.out" 2> /dev/null && break; sleep 0.1; done
if ! grep -q "listening on" "$WORK/sb.out"; then
  echo "FAIL gateway start"; sed 's/^/    | /' "$WORK/sb.out" "$WORK/sb.log" | tail -20; echo "0 passed, 1 failed"; exit 1
fi

PASS=0; FAIL=0
run() { # run NAME SCRIPT ARGS...: a Python check script; its PASS/FAIL lines are counted
  local name=$1 script=$2; shift 2
  timeout 150 "$PY" "$HERE/$script" "$@" --trace "$WORK/trace.log" > "$WORK/$name.out" 2>&1
  local rc=$?
  cat "$WORK/$name.out"
  local p f
  p=$(grep -c '^PASS ' "$WORK/$name.out"); f=$(grep -c '^FAIL ' "$WORK/$name.out")
  PASS=$((PASS + p)); FAIL=$((FAIL + f))
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    FAIL=$((FAIL + 1)); echo "FAIL $script exited with status $rc"
  fi
}
run calls slixmpp_calls.py --ws "ws://$HTTP/ws" ${ONLY:+--only "$ONLY"}
if [ -z "${NO_RESTART:-}" ]; then
  run restart prosody_restart.py --ws "ws://$HTTP/ws" --prosody-dir "$WORK/prosody" --prosody-sh "$HERE/prosody.sh"
fi
if [ "$FAIL" -gt 0 ]; then
  echo "--- gateway log (last 30 lines)"; tail -30 "$WORK/sb.log" | cut -c1-400 | sed 's/^/    | /'
fi
echo "(run_slixmpp.sh took $((SECONDS - START)) s)"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
