#!/bin/bash
# SIP calls between baresip 1.0 (a real SIP phone, registered with digest auth)
# and browser-protocol clients through `switchboard serve`, both ways:
#   - sip_peer (tools/loadgen) calls baresip and baresip calls sip_peer (plain RTP/AVP, PCMU);
#   - a real Chromium page using /switchboard.js and baresip with its WebRTC
#     account options (medianat=ice, mediaenc=dtls_srtp, rtcp_mux) exchange audio
#     both ways (chromium_baresip.mjs).
# Everything runs in a private network namespace: loopback plus a veth pair whose
# two ends are both inside it (10.77.0.1), because baresip's ice module never uses
# 127.0.0.1 (shared/recipes, baresip section). No packet can leave the namespace.
#   bash tests/sip/baresip_calls.sh BINARY
#   env: SIP_PEER (default target/release/sip_peer), VERBOSE=1
# Prints PASS/FAIL per check and "N passed, M failed"; exits 1 on any failure.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SWITCHBOARD_BINARY"; exit 2; }
BIN=$(realpath "$1")
SIP_PEER=$(realpath "${SIP_PEER:-$ROOT/target/release/sip_peer}")
if [ -z "${SB_BARESIP_CALLS_UNSHARED:-}" ]; then
  SB_BARESIP_CALLS_UNSHARED=1 SIP_PEER="$SIP_PEER" exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
for f in "$BIN" "$SIP_PEER"; do [ -x "$f" ] || { echo "FAIL setup ($f is not an executable)"; echo "0 passed, 1 failed"; exit 1; }; done
command -v baresip > /dev/null || { echo "FAIL setup (baresip is not installed: scripts/install-peers.sh)"; echo "0 passed, 1 failed"; exit 1; }

ip link set lo up
ip link add sbv0 type veth peer name sbv1 || { echo "FAIL setup (cannot create a veth pair in the namespace)"; echo "0 passed, 1 failed"; exit 1; }
ip addr add 10.77.0.1/24 dev sbv0
ip link set sbv0 up
ip link set sbv1 up
ip route add default dev sbv0
# No IPv6 link-local candidates on the veth (only noise for ICE).
sysctl -qw net.ipv6.conf.sbv0.disable_ipv6=1 net.ipv6.conf.sbv1.disable_ipv6=1 2> /dev/null || true

WORK=$(mktemp -d /tmp/sb-baresip-calls.XXXXXX)
PIDS=()
cleanup() {
  [ ${#PIDS[@]} -gt 0 ] && kill -9 "${PIDS[@]}" 2> /dev/null
  wait 2> /dev/null
  [ -n "${KEEP:-}" ] && echo "logs kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
HTTP=127.0.0.1:8090
SIP=127.0.0.1:5070
WS=ws://$HTTP/ws

# --media-anchor never: the sip_peer checks exchange signaling only (sip_peer sends no media), so
# plain RTP/AVP goes end to end instead of being refused for want of a media relay.
RUST_LOG=${RUST_LOG:-switchboard=debug,info} "$BIN" serve --http $HTTP --stun off --sip $SIP --media-anchor never \
  --sip-user bob:secret --sip-user carol:secret > "$WORK/sb.out" 2> "$WORK/sb.log" &
PIDS+=($!)
for _ in $(seq 50); do grep -q "SIP on" "$WORK/sb.out" 2> /dev/null && break; sleep 0.1; done

PASS=0; FAIL=0
pass() { PASS=$((PASS+1)); echo "PASS $1"; }
fail() { FAIL=$((FAIL+1)); echo "FAIL $1"; }
ctrl() { node "$HERE/baresip_ctrl.mjs" "$@"; }

# phone NAME SIP_ADDR CTRL_PORT ACCOUNT_PARAMS [EXTRA_MODULES]: a baresip with SIP trace (-s) on stdout.
phone() {
  local dir=$WORK/$1 ip=${2%:*}
  mkdir -p "$dir"
  cat > "$dir/config" <<CFG
poll_method		epoll
sip_listen		$2
net_interface		$ip
audio_player		aubridge,sink$1
audio_source		ausine,440
audio_alert		aubridge,alert$1
ausrc_srate		48000
ausrc_channels		2
auplay_srate		48000
rtp_stats		yes
rtcp_mux		yes
module_path		/usr/lib/baresip/modules
module			g711.so
module			opus.so
$(for m in ${5:-}; do printf 'module\t\t\t%s.so\n' "$m"; done)
module			ausine.so
module			aubridge.so
module			ctrl_tcp.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
ctrl_tcp_listen		127.0.0.1:$3
CFG
  echo "<sip:$1@$SIP>;auth_pass=secret;regint=60;answermode=auto;$4" > "$dir/accounts"
  baresip -s -f "$dir" > "$dir/log" 2>&1 &
  PIDS+=($!)
  # Every ctrl_tcp event of the phone, one JSON line each.
  ctrl "$3" listen > "$dir/events" 2>&1 &
  PIDS+=($!)
}
bindings() { curl -s --noproxy "*" "http://$HTTP/metrics" | sed -n 's/^switchboard_sip_bindings //p'; }
# wait_event FILE TYPE N SECS: the N-th TYPE event appears in the phone's event log.
wait_event() {
  for _ in $(seq $(( $4 * 10 ))); do
    [ "$(grep -c "\"type\":\"$2\"" "$1" 2> /dev/null)" -ge "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
count_event() { grep -c "\"type\":\"$2\"" "$1" 2> /dev/null; }

# bob: a plain phone (RTP/AVP, PCMU) on loopback. carol: baresip's WebRTC options,
# on the veth address (its ice module refuses 127.0.0.1).
phone bob 127.0.0.1:5171 4471 "audio_codecs=pcmu,pcma"
phone carol 10.77.0.1:5271 4472 "audio_codecs=opus/48000/2,pcmu;medianat=ice;mediaenc=dtls_srtp" "ice srtp dtls_srtp"

# 1. Digest registration of both phones.
ok=no
for _ in $(seq 50); do [ "$(bindings)" = "2" ] && { ok=yes; break; }; sleep 0.1; done
if [ $ok = yes ] && grep -q "^SIP/2.0 401" "$WORK/bob/log" && grep -q "^SIP/2.0 401" "$WORK/carol/log" \
  && grep -q "Authorization: Digest username=\"bob\"" "$WORK/bob/log"; then
  pass "baresip bob and carol register with digest auth (401 challenge, then 200; switchboard_sip_bindings=2)"
else
  fail "baresip registration (bindings=$(bindings); 401 seen: bob=$(grep -c '^SIP/2.0 401' "$WORK/bob/log") carol=$(grep -c '^SIP/2.0 401' "$WORK/carol/log"))"
fi
sleep 0.3 # the ctrl_tcp listeners are connected

# 2. sip_peer calls bob; bob auto-answers; sip_peer hangs up (BYE from the gateway).
OUT=$(timeout 20 "$SIP_PEER" call --url $WS --to bob --calls 1 --hold-ms 1500 --timeout-secs 10 2> "$WORK/call1.err")
RC=$?
if [ $RC -eq 0 ] && [[ "$OUT" == *"ok=1 failed=0"* ]] && wait_event "$WORK/bob/events" CALL_CLOSED 1 5 \
  && grep -q "^BYE sip:bob" "$WORK/bob/log"; then
  pass "sip_peer calls bob: answered (auto-answer), BYE ends baresip's call: $OUT"
else
  fail "sip_peer calls bob (rc=$RC: $OUT $(cat "$WORK/call1.err"); bob CALL_CLOSED events: $(count_event "$WORK/bob/events" CALL_CLOSED))"
fi

# 2b. The same, but baresip hangs up during the call: sip_peer gets `hangup`.
timeout 20 "$SIP_PEER" call --url $WS --to bob --calls 1 --hold-ms 8000 --timeout-secs 12 > "$WORK/call2.out" 2> "$WORK/call2.err" &
CALLER=$!
PIDS+=($CALLER)
if wait_event "$WORK/bob/events" CALL_ESTABLISHED 2 10; then
  sleep 0.5
  ctrl 4471 hangup --wait-event CALL_CLOSED > "$WORK/hangup2.out" 2>&1
fi
wait $CALLER; RC=$?
OUT=$(cat "$WORK/call2.out")
if [ $RC -eq 0 ] && [[ "$OUT" == *"ok=1 failed=0"* ]] && [[ "$OUT" == *"remote_hangups=1"* ]]; then
  pass "sip_peer calls bob, bob hangs up (BYE from baresip): sip_peer's call ends: $(tail -1 <<< "$OUT")"
else
  fail "bob hangs up a call from sip_peer (rc=$RC: $OUT $(cat "$WORK/call2.err"))"
fi

# 2c. A DTLS-SRTP-only phone refuses a plain RTP/AVP offer: the caller gets hangup with sipCode 488.
OUT=$(timeout 20 "$SIP_PEER" call --url $WS --to carol --calls 1 --expect-hangup-code 488 --timeout-secs 10 2> "$WORK/call3.err")
RC=$?
if [ $RC -eq 0 ] && [[ "$OUT" == *"ok=1 failed=0"* ]] && grep -q "^SIP/2.0 488" "$WORK/carol/log"; then
  pass "sip_peer's RTP/AVP offer to carol (mediaenc=dtls_srtp) is refused with 488, seen as hangup sipCode=488"
else
  fail "RTP/AVP offer to carol (rc=$RC: $OUT $(cat "$WORK/call3.err"))"
fi

# 3. bob calls sip_peer registered as alice; bob hangs up.
timeout 20 "$SIP_PEER" answer --url $WS --name alice --ringing --expect 1 --timeout-secs 15 -v \
  > "$WORK/answer1.out" 2> "$WORK/answer1.err" &
ANSWERER=$!
PIDS+=($ANSWERER)
for _ in $(seq 50); do grep -q ready "$WORK/answer1.out" && break; sleep 0.1; done
DIAL=$(ctrl 4471 dial "sip:alice@$SIP" --wait-event CALL_ESTABLISHED 2>&1); DRC=$?
sleep 0.5
ctrl 4471 hangup --wait-event CALL_CLOSED > "$WORK/hangup3.out" 2>&1
wait $ANSWERER; RC=$?
OUT=$(cat "$WORK/answer1.out")
if [ $DRC -eq 0 ] && [ $RC -eq 0 ] && grep -q "answered=1 ended=1 errors=0" <<< "$OUT" && grep -q "hangups_received=1" <<< "$OUT" \
  && grep -q '"type":"CALL_RINGING"' <<< "$DIAL" && grep -q "from=sip:bob@$SIP" <<< "$OUT"; then
  pass "bob dials sip:alice@$SIP: sip_peer gets the offer from sip:bob@$SIP, rings (180), answers; bob's BYE ends it: $(tail -1 <<< "$OUT")"
else
  fail "bob calls alice (dial rc=$DRC, sip_peer rc=$RC: $OUT $(cat "$WORK/answer1.err"); dial events: $(grep -o '"type":"[A-Z_]*"' <<< "$DIAL" | tr '\n' ' '))"
fi

# 3b. bob calls alice; sip_peer hangs up after 1 s: baresip's call closes.
timeout 20 "$SIP_PEER" answer --url $WS --name alice --expect 1 --hangup-after-ms 1000 --timeout-secs 15 \
  > "$WORK/answer2.out" 2> "$WORK/answer2.err" &
ANSWERER=$!
PIDS+=($ANSWERER)
for _ in $(seq 50); do grep -q ready "$WORK/answer2.out" && break; sleep 0.1; done
DIAL=$(ctrl 4471 dial "sip:alice@$SIP" --wait-event CALL_CLOSED --timeout 8 2>&1); DRC=$?
wait $ANSWERER; RC=$?
OUT=$(cat "$WORK/answer2.out")
if [ $DRC -eq 0 ] && [ $RC -eq 0 ] && grep -q "answered=1 ended=1" <<< "$OUT" && grep -q '"type":"CALL_ESTABLISHED"' <<< "$DIAL"; then
  pass "bob calls alice, sip_peer hangs up after 1 s: the gateway's BYE closes baresip's call"
else
  fail "sip_peer hangs up bob's call (dial rc=$DRC, sip_peer rc=$RC: $OUT $(cat "$WORK/answer2.err"); dial events: $(grep -o '"type":"[A-Z_]*"' <<< "$DIAL" | tr '\n' ' '))"
fi

# 4. Chromium <-> carol (ICE + DTLS-SRTP): audio both ways, hangup either way.
NODE_OUT=$(GATEWAY_SIP=$SIP timeout 60 node "$HERE/chromium_baresip.mjs" "http://$HTTP" carol 4472 "$WORK/carol/log" 2>&1)
echo "$NODE_OUT" | grep -vE "^(PASS|FAIL) " | sed 's/^/  chromium: /' | head -20
PASS=$((PASS + $(grep -c "^PASS " <<< "$NODE_OUT")))
NFAIL=$(grep -c "^FAIL " <<< "$NODE_OUT")
grep -E "^(PASS|FAIL) " <<< "$NODE_OUT"
if [ "$NFAIL" -eq 0 ] && [ "$(grep -c "^PASS " <<< "$NODE_OUT")" -ne 2 ]; then
  fail "chromium_baresip.mjs did not run both checks"
fi
FAIL=$((FAIL + NFAIL))

if [ "$FAIL" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
  echo "--- switchboard log (tail)"; tail -30 "$WORK/sb.log"
  for p in bob carol; do echo "--- $p log (tail, without SIP trace)"; grep -vE "^\s*$" "$WORK/$p/log" | tail -25; done
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
