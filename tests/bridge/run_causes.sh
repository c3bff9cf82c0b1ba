#!/bin/bash
# The hangup cause table (protocols/bridge/MAPPING.md) across every ordered pair of browser, SIP and
# XMPP, with real peers: browser-protocol WebSocket clients, sipp, slixmpp accounts on Prosody 0.12
# (tests/xmpp/prosody.sh). The checks are in causes.py: every cause each callee side can express on
# an unanswered call, answered calls hung up by either side, the caller cancelling, the ring timeout
# (--ring-timeout 3), and GET /api/calls empty after each call and at the end. Private network
# namespace, loopback only. One `PASS name` / `FAIL name (why)` line per check, then
# "N passed, M failed" (exit 1 if any failed). About 40 s.
#   bash tests/bridge/run_causes.sh BINARY   (KEEP=1 keeps the gateway log (RUST_LOG=debug), Prosody's,
#                                             sipp's and the stanza/message trace in /tmp/sb-causes.*;
#                                             ONLY=causes,answered,cancel,timeout runs those groups;
#                                             JOBS=N calls at a time, default 12)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SWITCHBOARD_BINARY"; exit 2; }
BIN=$(realpath "$1")
if [ -z "${SB_CAUSES_UNSHARED:-}" ]; then
  SB_CAUSES_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1
XMPP=$HERE/../xmpp
PY=${PYTHON:-$HERE/../peers/.venv/bin/python}
[ -x "$PY" ] || { echo "no Python venv with slixmpp at $PY (scripts/install-peers.sh)"; exit 1; }
command -v prosody > /dev/null || { echo "prosody is not installed (scripts/install-peers.sh)"; exit 1; }
command -v sipp > /dev/null || { echo "sipp is not installed (scripts/install-peers.sh: sip-tester)"; exit 1; }
ACCOUNTS=16
WORK=$(mktemp -d /tmp/sb-causes.XXXXXX)
SB_PID=
cleanup() {
  [ -n "$SB_PID" ] && { kill "$SB_PID" 2> /dev/null; wait "$SB_PID" 2> /dev/null; }
  bash "$XMPP/prosody.sh" stop "$WORK/prosody" > /dev/null 2>&1
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
START=$SECONDS

if ! bash "$XMPP/prosody.sh" start "$WORK/prosody" > /dev/null 2> "$WORK/prosody.err"; then
  echo "FAIL Prosody start ($(tail -3 "$WORK/prosody.err"))"; echo "0 passed, 1 failed"; exit 1
fi
# the accounts of causes.py: x01..xNN@localhost, password xNNpw
for i in $(seq -w 1 "$ACCOUNTS"); do
  prosodyctl --config "$WORK/prosody/prosody.cfg.lua" register "x$i" localhost "x${i}pw" > /dev/null 2>&1 &
done
wait
RUST_LOG=${RUST_LOG:-debug} "$BIN" serve --http 127.0.0.1:8100 --sip 127.0.0.1:5080 --stun off --ring-timeout 3 --media-anchor never \
  --xmpp-server 127.0.0.1:5347 --xmpp-domain gateway.localhost --xmpp-secret s3cret \
  > "$WORK/sb.out" 2> "$WORK/sb.log" &
SB_PID=$!
for _ in $(seq 100); do grep -q "SIP on" "$WORK/sb.out" 2> /dev/null && break; sleep 0.1; done
if ! grep -q "listening on" "$WORK/sb.out" || ! grep -q "SIP on" "$WORK/sb.out"; then
  echo "FAIL gateway start"; sed 's/^/    | /' "$WORK/sb.out" "$WORK/sb.log" | tail -20; echo "0 passed, 1 failed"; exit 1
fi

timeout 170 "$PY" "$HERE/causes.py" --work "$WORK/sip" --trace "$WORK/trace.log" --accounts "$ACCOUNTS" \
  --jobs "${JOBS:-12}" ${ONLY:+--only "$ONLY"} > "$WORK/checks.out" 2>&1
rc=$?
cat "$WORK/checks.out"
PASS=$(grep -c '^PASS ' "$WORK/checks.out"); FAIL=$(grep -c '^FAIL ' "$WORK/checks.out")
if [ $rc -ne 0 ] && [ "$FAIL" -eq 0 ]; then
  FAIL=$((FAIL + 1)); echo "FAIL causes.py exited with status $rc"
fi
if kill -0 "$SB_PID" 2> /dev/null && ! grep -q 'panicked' "$WORK/sb.log"; then
  PASS=$((PASS + 1)); echo "PASS the gateway is still running, no panic in its log"
else
  FAIL=$((FAIL + 1)); echo "FAIL the gateway exited or panicked during the run ($(grep -m1 'panicked' "$WORK/sb.log"))"
fi
if [ "$FAIL" -gt 0 ]; then
  echo "--- gateway log (warnings and errors, last 20)"
  sed 's/\x1b\[[0-9;]*m//g' "$WORK/sb.log" | grep -E ' (WARN|ERROR) ' | tail -20 | cut -c1-400 | sed 's/^/    | /'
fi
echo "(run_causes.sh took $((SECONDS - START)) s)"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
