#!/bin/bash
# SIP <-> XMPP calls through Switchboard's bridge (issue #6) with real peers: sipp on the SIP side
# (tests/sipp/*.xml and the scenarios here), slixmpp accounts on Prosody 0.12 (tests/xmpp/prosody.sh)
# on the XMPP side. The checks are in sip_xmpp.py: 100 calls SIP -> XMPP, XMPP -> SIP calls hung up
# by either side, the hangup cause rows of protocols/bridge/MAPPING.md both ways, CANCEL before the
# answer both ways, --ring-timeout both ways, an XMPP callee killed mid-call, /api/calls empty after
# each. Private network namespace, loopback only. One `PASS name` / `FAIL name (why)` line per
# check, then "N passed, M failed" (exit 1 if any failed). About 35 s.
#   bash tests/bridge/run_sip_xmpp.sh BINARY   (KEEP=1 keeps the logs, sipp's messages and the stanza
#                                               trace in /tmp/sb-bridge.*; ONLY=load,x2s,... runs only
#                                               those scenarios of sip_xmpp.py)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SWITCHBOARD_BINARY"; exit 2; }
BIN=$(realpath "$1")
if [ -z "${SB_BRIDGE_UNSHARED:-}" ]; then
  SB_BRIDGE_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1
XMPP=$HERE/../xmpp
PY=${PYTHON:-$HERE/../peers/.venv/bin/python}
[ -x "$PY" ] || { echo "no Python venv with slixmpp at $PY (scripts/install-peers.sh)"; exit 1; }
command -v prosody > /dev/null || { echo "prosody is not installed (scripts/install-peers.sh)"; exit 1; }
command -v sipp > /dev/null || { echo "sipp is not installed (scripts/install-peers.sh: sip-tester)"; exit 1; }
WORK=$(mktemp -d /tmp/sb-bridge.XXXXXX)
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
RUST_LOG=${RUST_LOG:-info} "$BIN" serve --http 127.0.0.1:8098 --sip 127.0.0.1:5078 --stun off --ring-timeout 4 --media-anchor never \
  --xmpp-server 127.0.0.1:5347 --xmpp-domain gateway.localhost --xmpp-secret s3cret \
  > "$WORK/sb.out" 2> "$WORK/sb.log" &
SB_PID=$!
for _ in $(seq 100); do grep -q "SIP on" "$WORK/sb.out" 2> /dev/null && break; sleep 0.1; done
if ! grep -q "listening on" "$WORK/sb.out" || ! grep -q "SIP on" "$WORK/sb.out"; then
  echo "FAIL gateway start"; sed 's/^/    | /' "$WORK/sb.out" "$WORK/sb.log" | tail -20; echo "0 passed, 1 failed"; exit 1
fi

timeout 170 "$PY" "$HERE/sip_xmpp.py" --work "$WORK/sip" --trace "$WORK/trace.log" ${ONLY:+--only "$ONLY"} \
  > "$WORK/checks.out" 2>&1
rc=$?
cat "$WORK/checks.out"
PASS=$(grep -c '^PASS ' "$WORK/checks.out"); FAIL=$(grep -c '^FAIL ' "$WORK/checks.out")
if [ $rc -ne 0 ] && [ "$FAIL" -eq 0 ]; then
  FAIL=$((FAIL + 1)); echo "FAIL sip_xmpp.py exited with status $rc"
fi
if ! kill -0 "$SB_PID" 2> /dev/null; then
  FAIL=$((FAIL + 1)); echo "FAIL the gateway exited during the run"
fi
if [ "$FAIL" -gt 0 ]; then
  echo "--- gateway log (warnings and errors, last 30)"
  grep -E ' (WARN|ERROR) ' "$WORK/sb.log" | tail -30 | cut -c1-400 | sed 's/^/    | /'
  echo "--- gateway log (last 20 lines)"; tail -20 "$WORK/sb.log" | cut -c1-400 | sed 's/^/    | /'
fi
echo "(run_sip_xmpp.sh took $((SECONDS - START)) s)"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
