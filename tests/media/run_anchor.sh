#!/bin/bash
# Issue #7, first acceptance point, with real peers only: a Chromium page using
# /switchboard.js and baresip 1.0 with a PLAIN account (RTP/AVP, no ICE, no
# DTLS, opus/PCMU, digest-registered as carol) call each other through
# `switchboard serve --rtpengine`, which anchors the media in a real rtpengine
# (userspace, interface lo):
#   0. without --rtpengine the same calls are refused at once (`incompatible`, SIP 488);
#   1. Chromium calls carol: baresip gets RTP/AVP from rtpengine, Chromium a WebRTC
#      answer from rtpengine; audio both ways (Chromium getStats, baresip's RTP stats,
#      rtpengine `query` on both legs); Chromium hangs up; rtpengine `list` empty;
#   2. carol calls alice: the same, baresip hangs up;
#   3. rtpengine SIGKILLed: calls both ways fail fast with a clear cause;
#   4. rtpengine restarted: switchboard_rtpengine_up is back to 1 within 12 s and calls
#      both ways work again, without restarting the gateway;
#   5. /api/calls empty, /metrics has switchboard_rtpengine_up.
# Everything runs in a private network namespace (unshare -n), on loopback only:
# without medianat=ice baresip needs no veth (its ice module is not loaded).
#   bash tests/media/run_anchor.sh BINARY          (as root)
#   env: VERBOSE=1 (logs at the end), KEEP=1 (keep the work directory)
# Prints PASS/FAIL per check and "N passed, M failed"; exits 1 on any failure.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SWITCHBOARD_BINARY"; exit 2; }
BIN=$(realpath "$1")
if [ -z "${SB_ANCHOR_UNSHARED:-}" ]; then
  SB_ANCHOR_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
setup_fail() { echo "FAIL setup ($1)"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$BIN" ] || setup_fail "$BIN is not an executable"
for c in baresip rtpengine node curl; do command -v $c > /dev/null || setup_fail "$c is not installed (scripts/install-peers.sh)"; done
ip link set lo up

WORK=$(mktemp -d /tmp/sb-anchor.XXXXXX)
PIDS=()
SB_PID=; RTPE_PID=; PHONE_PID=
cleanup() {
  for p in "${PIDS[@]}" $SB_PID $RTPE_PID $PHONE_PID; do kill -9 "$p" 2> /dev/null; done
  wait 2> /dev/null
  [ -n "${KEEP:-}" ] && echo "logs kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
HTTP=127.0.0.1:8101
SIP=127.0.0.1:5081
NG=127.0.0.1:2223
PHONE_SIP=127.0.0.1:5181
CTRL=4481
START=$(date +%s)

PASS=0; FAIL=0
pass() { PASS=$((PASS+1)); echo "PASS $1"; }
fail() { FAIL=$((FAIL+1)); echo "FAIL $1"; }
ng() { node "$HERE/ng.mjs" $NG "$@"; }
metric() { curl -s --noproxy "*" "http://$HTTP/metrics" | sed -n "s/^$1 //p"; }

RTPE_RUNS=0
start_rtpengine() {
  RTPE_RUNS=$((RTPE_RUNS+1))
  rtpengine --config-file=none --foreground --log-stderr --table=-1 --interface=lo/127.0.0.1 \
    --listen-ng=$NG --port-min=30000 --port-max=30100 > "$WORK/rtpengine.$RTPE_RUNS.log" 2>&1 &
  RTPE_PID=$!
  for _ in $(seq 50); do ng ping > /dev/null 2>&1 && return 0; kill -0 $RTPE_PID 2> /dev/null || return 1; sleep 0.1; done
  return 1
}
# gateway LOGNAME [ARGS...]: switchboard serve on $HTTP/$SIP with carol's account.
gateway() {
  local log=$1; shift
  RUST_LOG=${RUST_LOG:-switchboard=debug,info} "$BIN" serve --http $HTTP --sip $SIP --stun off \
    --sip-user carol:secret "$@" > "$WORK/$log.out" 2> "$WORK/$log.log" &
  SB_PID=$!
  for _ in $(seq 50); do grep -q "SIP on" "$WORK/$log.out" 2> /dev/null && return 0; sleep 0.1; done
  return 1
}
stop_gateway() { kill $SB_PID 2> /dev/null; wait $SB_PID 2> /dev/null; SB_PID=; }
# The phone: baresip, plain account (no medianat, no mediaenc; ice/srtp/dtls modules not loaded),
# SIP trace (-s) in its log, ctrl_tcp on $CTRL.
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
PHONE_RUNS=0
start_phone() {
  PHONE_RUNS=$((PHONE_RUNS+1))
  PHONE_LOG=$WORK/carol/log.$PHONE_RUNS
  baresip -s -f "$WORK/carol" > "$PHONE_LOG" 2>&1 &
  PHONE_PID=$!
  for _ in $(seq 50); do [ "$(metric switchboard_sip_bindings)" = "1" ] && return 0; sleep 0.1; done
  return 1
}
stop_phone() { kill $PHONE_PID 2> /dev/null; wait $PHONE_PID 2> /dev/null; PHONE_PID=; }
# calls MODE [LABEL]: one anchor_calls.mjs run; its PASS/FAIL lines count here.
calls() {
  local out n
  out=$(GATEWAY_SIP=$SIP timeout 60 node "$HERE/anchor_calls.mjs" "$1" "http://$HTTP" carol $CTRL "$PHONE_LOG" $NG "${2:-}" 2>&1)
  echo "$out" | grep -vE "^(PASS|FAIL|INFO) " | sed 's/^/  chromium: /' | head -20
  grep -E "^(PASS|FAIL) " <<< "$out"
  PASS=$((PASS + $(grep -c "^PASS " <<< "$out")))
  n=$(grep -c "^FAIL " <<< "$out")
  FAIL=$((FAIL + n))
  if [ "$n" -eq 0 ] && ! grep -q "^PASS " <<< "$out"; then fail "anchor_calls.mjs $1 ran no check"; fi
}

# 0. Without --rtpengine: refused at once as `incompatible` (SIP 488), documented in BRIDGE.md.
if gateway sb-norelay --media-anchor auto && start_phone; then
  pass "without --rtpengine: baresip (plain account) registers as carol with digest auth ($(grep -c '^SIP/2.0 401' "$PHONE_LOG") 401, then bindings=1)"
  EXPECT_REASONS=incompatible EXPECT_SIP=488 EXPECT_MS=3000 calls refused "without --rtpengine"
else
  fail "without --rtpengine: gateway or baresip registration (bindings=$(metric switchboard_sip_bindings))"
fi
stop_phone
stop_gateway

# 1. rtpengine and the gateway with --rtpengine; the phone registers again.
if start_rtpengine; then
  pass "rtpengine started, answers ng ping on $NG ($(rtpengine --version 2>&1 | head -1))"
else
  fail "rtpengine started (log: $(tail -3 "$WORK/rtpengine.$RTPE_RUNS.log"))"
fi
gateway sb --rtpengine $NG || fail "gateway with --rtpengine did not start ($(tail -3 "$WORK/sb.log"))"
if start_phone && grep -q "^SIP/2.0 401" "$PHONE_LOG" && grep -q 'Authorization: Digest username="carol"' "$PHONE_LOG"; then
  pass "baresip (plain RTP/AVP account) registers as carol with digest auth (401, then bindings=1)"
else
  fail "baresip registration (bindings=$(metric switchboard_sip_bindings))"
fi
for _ in $(seq 30); do [ "$(metric switchboard_rtpengine_up)" = "1" ] && break; sleep 0.1; done
UP=$(metric switchboard_rtpengine_up)
[ "$UP" = "1" ] && pass "/metrics: switchboard_rtpengine_up 1" || fail "/metrics switchboard_rtpengine_up is '$UP', not 1"

calls browser-calls
calls phone-calls

# 3. rtpengine killed: the next calls fail fast with a clear cause.
kill -9 $RTPE_PID; wait $RTPE_PID 2> /dev/null; RTPE_PID=
EXPECT_REASONS=unavailable EXPECT_SIP=480 EXPECT_MS=6000 calls refused "rtpengine killed"
UP=$(metric switchboard_rtpengine_up)
[ "$UP" = "0" ] && pass "/metrics: switchboard_rtpengine_up 0 while rtpengine is dead" || fail "/metrics switchboard_rtpengine_up is '$UP' with rtpengine dead"

# 4. rtpengine restarted: anchoring resumes within ~12 s, without restarting the gateway.
if start_rtpengine; then
  RESTARTED=$(date +%s.%N)
  for _ in $(seq 130); do [ "$(metric switchboard_rtpengine_up)" = "1" ] && break; sleep 0.1; done
  UPAT=$(date +%s.%N)
  SECS=$(printf '%.1f' "$(echo "$UPAT - $RESTARTED" | bc)")
  if [ "$(metric switchboard_rtpengine_up)" = "1" ]; then
    pass "rtpengine restarted: switchboard_rtpengine_up back to 1 after ${SECS} s (gateway pid $SB_PID unchanged)"
  else
    fail "rtpengine restarted: switchboard_rtpengine_up still '$(metric switchboard_rtpengine_up)' after ${SECS} s"
  fi
else
  fail "rtpengine restart (log: $(tail -3 "$WORK/rtpengine.$RTPE_RUNS.log"))"
fi
calls browser-calls
calls phone-calls
kill -0 $SB_PID 2> /dev/null && [ "$(grep -c 'SIP on' "$WORK/sb.out")" = 1 ] \
  || fail "the gateway was restarted or died"

# 5. The end state.
API=$(curl -s --noproxy "*" "http://$HTTP/api/calls")
[ "$API" = '{"calls":[]}' ] && pass "GET /api/calls: $API" || fail "GET /api/calls not empty: $API"
LEFT=$(ng list 2>&1)
[ -z "$LEFT" ] && pass "rtpengine list empty at the end" || fail "rtpengine holds calls at the end: $LEFT"
M=$(curl -s --noproxy "*" "http://$HTTP/metrics" | grep -E "^switchboard_rtpengine_up |^switchboard_calls_total\{pair=\"browser-sip\"" | tr '\n' ';')
grep -q "^switchboard_rtpengine_up 1;" <<< "$M" && pass "/metrics: $M" || fail "/metrics has no 'switchboard_rtpengine_up 1': $M"
if grep -qiE 'segfault|assertion|critical' "$WORK"/rtpengine.*.log; then
  fail "rtpengine log: $(grep -hiE 'segfault|assertion|critical' "$WORK"/rtpengine.*.log | head -1)"
fi
if grep -qE "panicked|ERROR" "$WORK/sb.log"; then fail "gateway log has errors: $(grep -E 'panicked|ERROR' "$WORK/sb.log" | head -2)"; fi

if [ "$FAIL" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
  echo "--- switchboard log (relay and call lines)"; grep -iE "rtpengine|relay|call ended|WARN|ERROR" "$WORK/sb.log" | tail -30 | cut -c1-400
  echo "--- baresip log (tail, without SIP trace)"; grep -vE "^\s*$" "$PHONE_LOG" | grep -E "call|audio|packets|error|SIP/2.0 [3-6]" | tail -20
fi
echo "INFO took $(( $(date +%s) - START )) s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
