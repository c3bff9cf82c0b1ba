#!/bin/bash
# Issue #7, third acceptance point, with real peers only: stanza.js in headless Chromium
# (alice@localhost, logged in to Prosody over WebSocket, stanza's own Jingle) and baresip 1.0 with a
# PLAIN account (RTP/AVP, no ICE, no DTLS, digest-registered to the gateway as carol) call each other
# through `switchboard serve --rtpengine --xmpp-server ...`, which anchors the media in a real
# rtpengine (userspace, interface lo):
#   1. stanza rings carol@gateway.localhost (JMI), then session-initiate: baresip gets RTP/AVP from
#      rtpengine, stanza a session-accept with rtpengine's candidate and fingerprint; audio both ways
#      (stanza getStats, baresip RTP stats, rtpengine `query` on both legs); stanza hangs up; rtpengine
#      `list` empty;
#   2. baresip dials sip:alice%40localhost@gateway: stanza gets JMI propose and a session-initiate
#      with rtpengine's WebRTC description, answers; audio both ways; baresip hangs up;
#   3. /api/calls empty, rtpengine list empty, no panic in the gateway's log.
# Everything (Prosody, rtpengine, the gateway, baresip, Chromium) runs in a private network
# namespace (unshare -n), on loopback only, started and stopped here.
#   bash tests/media/run_anchor_xmpp.sh BINARY          (as root)
#   env: VERBOSE=1 (every stanza, logs at the end), KEEP=1 (keep the work directory)
# Prints PASS/FAIL per check and "N passed, M failed"; exits 1 on any failure.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SWITCHBOARD_BINARY"; exit 2; }
BIN=$(realpath "$1")
if [ -z "${SB_ANCHOR_XMPP_UNSHARED:-}" ]; then
  SB_ANCHOR_XMPP_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
setup_fail() { echo "FAIL setup ($1)"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$BIN" ] || setup_fail "$BIN is not an executable"
for c in baresip rtpengine prosody node curl; do command -v $c > /dev/null || setup_fail "$c is not installed (scripts/install-peers.sh)"; done
ip link set lo up

PROSODY_SH=$HERE/../xmpp/prosody.sh
WORK=$(mktemp -d /tmp/sb-anchor-xmpp.XXXXXX)
SB_PID=; RTPE_PID=; PHONE_PID=
cleanup() {
  exec 2> /dev/null # no "Killed" job notices
  for p in $PHONE_PID $SB_PID $RTPE_PID; do kill "$p"; done
  for _ in $(seq 20); do
    local alive=
    for p in $PHONE_PID $SB_PID $RTPE_PID; do kill -0 "$p" && alive=1; done
    [ -n "$alive" ] || break
    sleep 0.1
  done
  for p in $PHONE_PID $SB_PID $RTPE_PID; do kill -9 "$p"; done
  bash "$PROSODY_SH" stop "$WORK/prosody" > /dev/null 2>&1
  wait 2> /dev/null
  [ -n "${KEEP:-}" ] && echo "logs kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
HTTP=127.0.0.1:8102
SIP=127.0.0.1:5082
NG=127.0.0.1:2223
PHONE_SIP=127.0.0.1:5182
CTRL=4482
START=$(date +%s)

PASS=0; FAIL=0
pass() { PASS=$((PASS+1)); echo "PASS $1"; }
fail() { FAIL=$((FAIL+1)); echo "FAIL $1"; }
ng() { node "$HERE/ng.mjs" $NG "$@"; }
metric() { curl -s --noproxy "*" "http://$HTTP/metrics" | sed -n "s/^$1 //p"; }

# Prosody (alice, bob, carol, dave on localhost; component gateway.localhost, secret s3cret).
if bash "$PROSODY_SH" start "$WORK/prosody" > /dev/null; then
  pass "Prosody started (c2s, component port 5347, WebSocket on 5280)"
else
  setup_fail "prosody start: $(tail -3 "$WORK/prosody/console.log")"
fi

# rtpengine, userspace, as in run_anchor.sh.
rtpengine --config-file=none --foreground --log-stderr --table=-1 --interface=lo/127.0.0.1 \
  --listen-ng=$NG --port-min=30000 --port-max=30100 > "$WORK/rtpengine.log" 2>&1 &
RTPE_PID=$!
UP=
for _ in $(seq 50); do ng ping > /dev/null 2>&1 && { UP=1; break; }; kill -0 $RTPE_PID 2> /dev/null || break; sleep 0.1; done
[ -n "$UP" ] && pass "rtpengine started, answers ng ping on $NG ($(rtpengine --version 2>&1 | head -1))" \
  || setup_fail "rtpengine start (log: $(tail -3 "$WORK/rtpengine.log"))"

# The gateway: SIP with carol's account, the relay, the XMPP component.
RUST_LOG=${RUST_LOG:-switchboard=debug,info} "$BIN" serve --http $HTTP --sip $SIP --stun off \
  --sip-user carol:secret --rtpengine $NG \
  --xmpp-server 127.0.0.1:5347 --xmpp-domain gateway.localhost --xmpp-secret s3cret \
  > "$WORK/sb.out" 2> "$WORK/sb.log" &
SB_PID=$!
for _ in $(seq 50); do grep -q "SIP on" "$WORK/sb.out" 2> /dev/null && break; sleep 0.1; done
grep -q "SIP on" "$WORK/sb.out" || setup_fail "gateway did not start ($(tail -3 "$WORK/sb.log"))"
for _ in $(seq 50); do [ "$(metric switchboard_xmpp_up)" = "1" ] && [ "$(metric switchboard_rtpengine_up)" = "1" ] && break; sleep 0.1; done
X=$(metric switchboard_xmpp_up); R=$(metric switchboard_rtpengine_up)
[ "$X" = 1 ] && [ "$R" = 1 ] && pass "gateway up: /metrics switchboard_xmpp_up 1, switchboard_rtpengine_up 1" \
  || fail "gateway: switchboard_xmpp_up '$X', switchboard_rtpengine_up '$R' (want 1, 1)"

# The phone: baresip, plain account (no medianat, no mediaenc), SIP trace (-s) in its log, ctrl_tcp.
mkdir -p "$WORK/carol"
cat > "$WORK/carol/config" <<CFG
poll_method		epoll
sip_listen		$PHONE_SIP
net_interface		127.0.0.1
audio_player		aubridge,sinkcarol
audio_source		ausine,440
audio_alert		aubridge,alertcarol
ausrc_srate		48000
ausrc_channels		2
auplay_srate		48000
rtp_stats		yes
module_path		/usr/lib/baresip/modules
module			g711.so
module			opus.so
module			ausine.so
module			aubridge.so
module			ctrl_tcp.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
ctrl_tcp_listen		127.0.0.1:$CTRL
CFG
echo "<sip:carol@$SIP>;auth_pass=secret;regint=60;answermode=auto;audio_codecs=opus/48000/2,pcmu" > "$WORK/carol/accounts"
PHONE_LOG=$WORK/carol/log
baresip -s -f "$WORK/carol" > "$PHONE_LOG" 2>&1 &
PHONE_PID=$!
for _ in $(seq 50); do [ "$(metric switchboard_sip_bindings)" = "1" ] && break; sleep 0.1; done
if [ "$(metric switchboard_sip_bindings)" = "1" ] && grep -q 'Authorization: Digest username="carol"' "$PHONE_LOG"; then
  pass "baresip (plain RTP/AVP account) registers as carol with digest auth (bindings=1)"
else
  fail "baresip registration (bindings=$(metric switchboard_sip_bindings))"
fi

# The calls.
OUT=$(GATEWAY_SIP=$SIP XMPP_DOMAIN=gateway.localhost timeout 75 node "$HERE/anchor_xmpp.mjs" "http://$HTTP" \
  ws://127.0.0.1:5280/xmpp-websocket carol $CTRL "$PHONE_LOG" $NG 2>&1)
RC=$?
# In order; the driver's other lines (stanzas of a failed step, page errors) indented.
echo "$OUT" | sed -E '/^(PASS|FAIL) /!s/^/  /' | cut -c1-2000
PASS=$((PASS + $(grep -c "^PASS " <<< "$OUT")))
N=$(grep -c "^FAIL " <<< "$OUT")
FAIL=$((FAIL + N))
if [ "$RC" -ne 0 ] && [ "$N" -eq 0 ]; then fail "anchor_xmpp.mjs ended with rc $RC and no FAIL line (timeout or crash)"; fi

# The end state.
API=
for _ in $(seq 30); do API=$(curl -s --noproxy "*" "http://$HTTP/api/calls"); [ "$API" = '{"calls":[]}' ] && break; sleep 0.1; done
[ "$API" = '{"calls":[]}' ] && pass "GET /api/calls: $API" || fail "GET /api/calls not empty: $API"
LEFT=$(ng list 2>&1)
[ -z "$LEFT" ] && pass "rtpengine list empty at the end" || fail "rtpengine holds calls at the end: $LEFT"
if grep -qiE 'segfault|assertion|critical' "$WORK/rtpengine.log"; then
  fail "rtpengine log: $(grep -hiE 'segfault|assertion|critical' "$WORK/rtpengine.log" | head -1)"
fi
if kill -0 $SB_PID 2> /dev/null && ! grep -qE "panicked|ERROR" "$WORK/sb.log"; then
  pass "gateway still running, no panic or ERROR in its log"
else
  fail "gateway exited or logged errors: $(grep -E 'panicked|ERROR' "$WORK/sb.log" | head -2)"
fi

if [ "$FAIL" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
  echo "--- switchboard log (relay, xmpp and call lines)"
  sed 's/\x1b\[[0-9;]*m//g' "$WORK/sb.log" | grep -iE "rtpengine|relay|call ended|jingle|xmpp|WARN|ERROR" | tail -40 | cut -c1-500
  echo "--- baresip log (tail, without SIP trace)"; grep -vE "^\s*$" "$PHONE_LOG" | grep -E "call|audio|packets|error|SIP/2.0 [3-6]" | tail -20
  echo "--- prosody log (component lines, last 10)"; grep -i 'gateway.localhost' "$WORK/prosody/prosody.log" | tail -10 | cut -c1-300
fi
echo "INFO took $(( $(date +%s) - START )) s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
