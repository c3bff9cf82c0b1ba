#!/bin/bash
# SIP calls through `switchboard serve` with real peers: sipp (the scenarios in this folder) on
# the SIP side, sip_peer (tools/loadgen/src/bin/sip_peer.rs, a browser-protocol client) on the
# browser side. Runs in a private network namespace on loopback; prints `PASS name` or
# `FAIL name (why)` per check, then "N passed, M failed" (exit 1 if any failed).
#   bash tests/sipp/run.sh BINARY        (LOADGEN=dir holding sip_peer, default: BINARY's dir;
#                                          KEEP=1 keeps the logs in /tmp/sb-sipp.*)
# Needs sipp (Debian sip-tester), iproute2; iptables or a kernel with sch_netem for the loss check.
# tests/sipp/selftest.sh checks the scenarios against each other without the gateway.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SWITCHBOARD_BINARY"; exit 2; }
BIN=$(realpath "$1")
LOADGEN=$(realpath "${LOADGEN:-$(dirname "$BIN")}")
if [ -z "${SB_SIPP_UNSHARED:-}" ]; then
  SB_SIPP_UNSHARED=1 LOADGEN=$LOADGEN exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up

# >>> Outbound digest credentials: the `serve` flags that make the gateway answer a 401/407 from
# >>> the sipp UAS at 127.0.0.1:5092 (uas_auth_401.xml, uas_auth_407.xml) as user `trunk`,
# >>> password `trunkpw`. `--sip-account user:password@host` is the flag in the working tree at the
# >>> time of writing (issue #4); change it here if it is renamed. Empty: the outbound-challenge
# >>> checks print SKIP (FAIL under CI).
OUTBOUND_AUTH_ARGS=(--sip-account "trunk:trunkpw@127.0.0.1")
read -r -a EXTRA <<< "${SB_SIPP_SERVE_ARGS:-}" # more serve flags from the environment, if needed

SIP_PEER=$LOADGEN/sip_peer
command -v sipp > /dev/null || { echo "sipp is not installed (scripts/install-peers.sh: sip-tester)"; exit 1; }
[ -x "$SIP_PEER" ] || { echo "no sip_peer in $LOADGEN (cargo build -p switchboard-loadgen)"; exit 1; }
WORK=$(mktemp -d /tmp/sb-sipp.XXXXXX)
PIDS=()
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
cd "$WORK" || exit 1
START=$SECONDS

"$BIN" serve --http 127.0.0.1:8080 --sip 127.0.0.1:5060 --stun off --sip-user bob:secret --media-anchor never \
  --rate-per-second 100000 --rate-burst 100000 "${OUTBOUND_AUTH_ARGS[@]}" "${EXTRA[@]}" \
  > "$WORK/sb.out" 2> "$WORK/sb.log" &
SB_PID=$!
PIDS+=("$SB_PID")
for _ in $(seq 100); do grep -q "SIP on" "$WORK/sb.out" 2>/dev/null && break; sleep 0.1; done
grep -q "SIP on" "$WORK/sb.out" || { echo "the gateway did not start:"; cat "$WORK/sb.out" "$WORK/sb.log"; exit 1; }
WS=ws://127.0.0.1:8080/ws

PASS=0; FAIL=0; SKIP=0
pass() { PASS=$((PASS+1)); echo "PASS $1"; }
skip() { if [ -n "${CI:-}" ]; then fail "$1" "$2"; else SKIP=$((SKIP+1)); echo "SKIP $1 ($2)"; fi; }
DETAILS=()
fail() { # NAME WHY [LABEL...]: the details of the runs named LABEL follow
  local name=$1 why=$2; shift 2
  FAIL=$((FAIL+1)); echo "FAIL $name ($why)"
  local l f
  for l in "$@"; do
    for f in "$WORK/$l".err "$WORK/$l".stderr "$WORK/$l".out "$WORK/$l".log; do
      [ -s "$f" ] || continue
      echo "  --- $(basename "$f")"; tr '\r' '\n' < "$f" | sed 's/\(20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]\t\)/\n\1/g' \
        | grep -v '^$' | tail -25 | cut -c1-400 | sed 's/^/  | /'
    done
    [ -s "$WORK/$l.screen" ] && { echo "  --- $l.screen (sipp)"; sed -n '/Messages  Retrans/,/^---.*Statistics/p' "$WORK/$l.screen" | head -30 | sed 's/^/  | /'; }
    [ -s "$WORK/$l.msg" ] && { echo "  --- $l.msg (sipp, last messages)"; tail -60 "$WORK/$l.msg" | sed 's/^/  | /'; }
  done
  echo "  --- gateway log (last lines)"; tail -15 "$WORK/sb.log" | cut -c1-400 | sed 's/^/  | /'
}

PORT=5100
# run_sipp LABEL ARGS...: a sipp run; its error log, screen, log and message trace are $WORK/LABEL.*
# (`-trace_msg` unless NOMSG=1). Each run gets its own media ports. `( exec run_sipp ... ) &` is not
# possible with a function: sipp_cmd LABEL ARGS... sets SIPP_CMD, for a background `exec`.
sipp_cmd() {
  local label=$1; shift
  PORT=$((PORT+4))
  local msg=(-trace_msg -message_file "$WORK/$label.msg")
  [ -n "${NOMSG:-}" ] && msg=()
  SIPP_CMD=(sipp "$@" -i 127.0.0.1 -mi 127.0.0.1 -mp $((PORT+10000)) -nostdin -trace_err -error_file "$WORK/$label.err"
    -trace_screen -screen_file "$WORK/$label.screen" -trace_logs -log_file "$WORK/$label.log" "${msg[@]}")
}
run_sipp() { local label=$1; sipp_cmd "$@"; "${SIPP_CMD[@]}" > "$WORK/$label.out" 2>&1; }
# uac LABEL SCENARIO SERVICE TRANSPORT ARGS...: a sipp UAC against the gateway
uac() {
  local label=$1 sf=$2 svc=$3 t=$4; shift 4
  run_sipp "$label" 127.0.0.1:5060 -sf "$HERE/$sf" -s "$svc" -p $((PORT+4)) -t "$t" -timeout 60s -recv_timeout 15s "$@"
}
# uas_start LABEL SCENARIO PORT TRANSPORT ARGS...: a sipp UAS in the background ($UAS_PID)
uas_start() {
  local label=$1 sf=$2 port=$3 t=$4; shift 4
  sipp_cmd "$label" -sf "$HERE/$sf" -p "$port" -t "$t" -timeout 90s "$@"
  ( exec "${SIPP_CMD[@]}" > "$WORK/$label.out" 2>&1 ) &
  UAS_PID=$!; PIDS+=("$UAS_PID")
  sleep 0.5
}
# answerer LABEL NAME ARGS...: sip_peer answer in the background ($ANS_PID), once it is ready
answerer() {
  local label=$1 name=$2; shift 2
  "$SIP_PEER" answer --url "$WS" --name "$name" "$@" > "$WORK/$label.out" 2> "$WORK/$label.stderr" &
  ANS_PID=$!; PIDS+=("$ANS_PID")
  for _ in $(seq 100); do grep -q '^ready' "$WORK/$label.out" 2>/dev/null && return 0; sleep 0.05; done
  echo "  (sip_peer answer --name $name not ready: $(tail -3 "$WORK/$label.stderr"))"
}
summary() { grep -E '^(answered|ok)=' "$WORK/$1.out" | tail -1; }
field() { summary "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; } # field LABEL KEY: a summary value

# inbound CHECK LABEL SCENARIO NAME TRANSPORT "SIPP ARGS" EXPECT "ANSWER ARGS" [FIELD=VALUE...]:
# sip_peer answers as NAME (--expect EXPECT), a sipp UAC runs SCENARIO; both must succeed, and each
# FIELD=VALUE must hold in sip_peer's summary line, and errors=0 (no `error` from the gateway).
inbound() {
  local check=$1 label=$2 sf=$3 name=$4 t=$5 sargs=$6 expect=$7 aargs=$8; shift 8
  # shellcheck disable=SC2086
  answerer "$label.peer" "$name" --expect "$expect" --timeout-secs 100 $aargs
  local apid=$ANS_PID
  # shellcheck disable=SC2086
  uac "$label.sipp" "$sf" "$name" "$t" $sargs
  local src=$?
  # the browser side learns of the last hangup a moment after sipp's last 200 OK
  for _ in $(seq 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.05; done
  kill -TERM "$apid" 2>/dev/null
  wait "$apid"; local arc=$?
  local why=() kv
  [ $src -eq 0 ] || why+=("sipp rc=$src")
  [ $arc -eq 0 ] || why+=("sip_peer answer rc=$arc")
  for kv in errors=0 "$@"; do [ "$(field "$label.peer" "${kv%%=*}")" = "${kv#*=}" ] || why+=("want $kv"); done
  if [ ${#why[@]} -eq 0 ]; then pass "$check"
  else fail "$check" "$(IFS=';'; echo "${why[*]}"); sip_peer: $(summary "$label.peer")" "$label.sipp" "$label.peer"; fi
}

# outbound CHECK LABEL SCENARIO PORT TRANSPORT CALLS "SIPP ARGS" "CALL ARGS" [FIELD=VALUE...]:
# a sipp UAS runs SCENARIO on PORT for CALLS calls; sip_peer calls sip:uas@127.0.0.1:PORT CALLS
# times; both must succeed, and each FIELD=VALUE must hold in sip_peer's summary line, and
# stray_errors=0 (no `error` from the gateway outside a call).
outbound() {
  local check=$1 label=$2 sf=$3 port=$4 t=$5 calls=$6 sargs=$7 cargs=$8; shift 8
  local to="sip:uas@127.0.0.1:$port"
  [ "$t" = t1 ] && to="$to;transport=tcp"
  # shellcheck disable=SC2086
  uas_start "$label.sipp" "$sf" "$port" "$t" -m "$calls" $sargs
  local upid=$UAS_PID
  # shellcheck disable=SC2086
  "$SIP_PEER" call --url "$WS" --to "$to" --calls "$calls" --timeout-secs 80 $cargs \
    > "$WORK/$label.peer.out" 2> "$WORK/$label.peer.stderr"
  local crc=$?
  for _ in $(seq 100); do kill -0 "$upid" 2>/dev/null || break; sleep 0.1; done
  kill -USR1 "$upid" 2>/dev/null
  wait "$upid"; local src=$?
  local why=() kv
  [ $crc -eq 0 ] || why+=("sip_peer call rc=$crc")
  [ $src -eq 0 ] || why+=("sipp UAS rc=$src")
  for kv in stray_errors=0 "$@"; do [ "$(field "$label.peer" "${kv%%=*}")" = "${kv#*=}" ] || why+=("want $kv"); done
  if [ ${#why[@]} -eq 0 ]; then pass "$check"
  else fail "$check" "$(IFS=';'; echo "${why[*]}"); sip_peer: $(summary "$label.peer")" "$label.sipp" "$label.peer"; fi
}

# --- the browser-side client's SDP passes the gateway's validator
if "$SIP_PEER" print-offer > "$WORK/offer.sdp" && "$BIN" sdp "$WORK/offer.sdp" > "$WORK/offer.check" 2>&1 \
  && "$SIP_PEER" print-answer "$WORK/offer.sdp" > "$WORK/answer.sdp" && "$BIN" sdp "$WORK/answer.sdp" >> "$WORK/offer.check" 2>&1; then
  pass "sip_peer offer and answer SDP pass switchboard sdp"
else
  fail "sip_peer offer and answer SDP pass switchboard sdp" "$(tail -1 "$WORK/offer.check")"
fi

# --- calls in: sipp UAC -> gateway -> sip_peer
NOMSG=1 inbound "500 calls at 50 cps, sipp UAC -> browser, UDP, 0 failed" load-udp uac_call_bye.xml load-udp u1 \
  "-r 50 -m 500 -d 1000" 500 "--ringing" answered=500 ended=500 hangups_received=500
NOMSG=1 inbound "500 calls at 50 cps, sipp UAC -> browser, TCP, 0 failed" load-tcp uac_call_bye.xml load-tcp t1 \
  "-r 50 -m 500 -d 1000" 500 "--ringing" answered=500 ended=500 hangups_received=500
inbound "BYE from the SIP caller reaches the browser (hangup)" bye-caller uac_call_bye.xml caller-byes u1 \
  "-r 10 -m 3 -d 300" 3 "--ringing" answered=3 hangups_received=3
inbound "BYE from the browser side (hangup -> BYE to the caller)" bye-browser uac_call_remote_bye.xml hangs-up u1 \
  "-r 10 -m 3" 3 "--hangup-after-ms 500" answered=3
inbound "BYE from the browser side over TCP" bye-browser-tcp uac_call_remote_bye.xml hangs-up-tcp t1 \
  "-r 10 -m 3" 3 "--hangup-after-ms 500" answered=3
inbound "CANCEL before answer: 200, 487, browser hangup reason cancel" cancel uac_cancel.xml slow u1 \
  "-m 1" 1 "--ringing --answer-delay-ms 30000 --expect-reason cancel" answered=0
inbound "CANCEL before answer over TCP" cancel-tcp uac_cancel.xml slow-tcp t1 \
  "-m 1" 1 "--ringing --answer-delay-ms 30000 --expect-reason cancel" answered=0
inbound "late offer: INVITE without SDP, offer in 200 OK, answer in ACK" late uac_late_offer.xml late u1 \
  "-m 1 -d 500" 1 "" late_offers=1 answers_received=1
inbound "re-INVITE hold (sendonly -> recvonly) and resume" hold uac_reinvite_hold.xml hold u1 \
  "-m 1 -d 300" 1 "" reoffers=2
inbound "browser rejects busy: 486" busy uac_expect_486.xml busy u1 "-m 1" 1 "--reject busy" rejected=1
inbound "browser rejects decline: 603" decline uac_expect_603.xml decline u1 "-m 1" 1 "--reject decline" rejected=1

uac not-found.sipp uac_expect_404.xml nobody u1 -m 1
rc=$?; if [ $rc -eq 0 ]; then pass "unknown name: 404"; else fail "unknown name: 404" "sipp rc=$rc" not-found.sipp; fi
uac offline.sipp uac_expect_480.xml bob u1 -m 1
rc=$?; if [ $rc -eq 0 ]; then pass "SIP user without binding: 480"; else fail "SIP user without binding: 480" "sipp rc=$rc" offline.sipp; fi
for t in u1 t1; do
  uac "register-$t.sipp" uac_register_auth.xml bob $t -m 1 -au bob -ap secret
  rc=$?; name="REGISTER: 401 challenge, digest, 200; unregister ($([ $t = u1 ] && echo UDP || echo TCP))"
  if [ $rc -eq 0 ]; then pass "$name"; else fail "$name" "sipp rc=$rc" "register-$t.sipp"; fi
done

# --- phone to phone: a sipp phone registers as bob with its Contact on port 5096 (and stays
# registered), a sipp UAS answers there, and a sipp UAC calls bob through the gateway.
run_sipp p2p-register.sipp 127.0.0.1:5060 -sf "$HERE/uac_register_keep.xml" -s bob -p 5096 -t u1 -m 1 \
  -au bob -ap secret -timeout 30s -recv_timeout 10s
rc=$?
if [ $rc -eq 0 ]; then
  uas_start p2p-uas.sipp uas_answer.xml 5096 u1 -m 1 -d 300
  p2p_uas=$UAS_PID
  uac p2p-call.sipp uac_call_bye.xml bob u1 -m 1 -d 300
  rc=$?; wait "$p2p_uas"; urc=$?
  if [ $rc -eq 0 ] && [ $urc -eq 0 ]; then pass "phone to registered phone (bob) through the gateway"
  else fail "phone to registered phone (bob) through the gateway" "caller rc=$rc, callee rc=$urc" p2p-call.sipp p2p-uas.sipp; fi
  # Early media phone to phone: the callee's 183 with SDP reaches the caller as a 183 with SDP.
  uas_start p2p-early-uas.sipp uas_early_media.xml 5096 u1 -m 1 -mi 127.0.0.1 -mp 16100
  p2p_uas=$UAS_PID
  uac p2p-early.sipp uac_early_media.xml bob u1 -m 1 -d 300
  rc=$?; wait "$p2p_uas"; urc=$?
  if [ $rc -eq 0 ] && [ $urc -eq 0 ]; then pass "phone to phone: the callee's 183 with SDP reaches the caller (early media)"
  else fail "phone to phone: the callee's 183 with SDP reaches the caller (early media)" "caller rc=$rc, callee rc=$urc" p2p-early.sipp p2p-early-uas.sipp; fi
else
  fail "phone to registered phone (bob) through the gateway" "registration rc=$rc" p2p-register.sipp
fi

# --- trunk: a second gateway registers to a sipp registrar (digest) and refreshes before expiry.
uas_start trunk-registrar.sipp uas_registrar_trunk.xml 5098 u1 -m 1
trunk_uas=$UAS_PID
"$BIN" serve --http 127.0.0.1:8081 --sip 127.0.0.1:5062 --stun off --media-anchor never --sip-trunk trunk:trunkpw@127.0.0.1:5098 \
  > "$WORK/sb-trunk.out" 2> "$WORK/sb-trunk.log" &
trunk_gw=$!; PIDS+=("$trunk_gw")
wait "$trunk_uas"; rc=$?
metric=$(curl -s --noproxy '*' http://127.0.0.1:8081/metrics | sed -n 's/^switchboard_sip_trunks_registered //p')
kill "$trunk_gw" 2>/dev/null
if [ $rc -eq 0 ] && [ "$metric" = 1 ]; then pass "trunk: outbound REGISTER with digest, refreshed before expiry"
else fail "trunk: outbound REGISTER with digest, refreshed before expiry" "registrar rc=$rc, trunks_registered=$metric" trunk-registrar.sipp; fi

# --- calls out: sip_peer -> gateway -> sipp UAS
NOMSG=1 outbound "browser -> sipp UAS 200 calls, UDP, 0 failed" out-udp uas_answer.xml 5090 u1 200 "-d 1000" \
  "--rate 50 --hold-ms 500" ok=200 failed=0 ringing=200
outbound "browser -> sipp UAS 20 calls, TCP (;transport=tcp)" out-tcp uas_answer.xml 5090 t1 20 "-d 1000" \
  "--rate 20 --hold-ms 300" ok=20 failed=0 ringing=20
outbound "BYE from the SIP callee reaches the browser (remote hangup)" out-bye uas_bye.xml 5090 u1 3 "-d 500" \
  "--rate 10 --hold-ms 10000" ok=3 remote_hangups=3
outbound "callee busy: 486 -> browser hangup with sipCode 486" out-busy uas_busy.xml 5090 u1 2 "" \
  "--rate 10 --expect-hangup-code 486" ok=2
outbound "183 with SDP -> early answer, then 200" out-early uas_early_media.xml 5090 u1 2 "-d 1000" \
  "--rate 10 --hold-ms 300" ok=2 early=2
if [ ${#OUTBOUND_AUTH_ARGS[@]} -gt 0 ]; then
  outbound "outbound INVITE challenged 401: digest (trunk)" out-401 uas_auth_401.xml 5092 u1 2 "-d 1000" \
    "--rate 10 --hold-ms 300" ok=2
  outbound "outbound INVITE challenged 407: digest (trunk)" out-407 uas_auth_407.xml 5092 u1 2 "-d 1000" \
    "--rate 10 --hold-ms 300" ok=2
else
  skip "outbound INVITE challenged 401/407" "OUTBOUND_AUTH_ARGS is empty in tests/sipp/run.sh"
fi

# --- 20% packet loss on loopback: every call completes through retransmissions
LOSS=""
if tc qdisc add dev lo root netem loss 20% 2> "$WORK/netem.err"; then
  LOSS="tc netem loss 20% on lo"
elif iptables -A INPUT -i lo -p udp -m statistic --mode random --probability 0.2 -j DROP 2> "$WORK/iptables.err"; then
  LOSS="iptables statistic 20% on UDP over lo (no netem: $(head -1 "$WORK/netem.err"))"
fi
if [ -n "$LOSS" ]; then
  echo "     loss: $LOSS"
  inbound "20% loss: 50 calls at 5 cps, UDP, all complete" loss uac_call_bye.xml lossy u1 \
    "-r 5 -m 50 -d 1000 -max_invite_retrans 12 -max_non_invite_retrans 12 -recv_timeout 60s -timeout 120s" \
    50 "" answered=50 ended=50 hangups_received=50
  grep -E "^ +(INVITE|ACK|BYE|100|180|200) +(-+>|<-+)" "$WORK/loss.sipp.screen" 2>/dev/null | sed 's/^/     | /'
  tc qdisc del dev lo root 2>/dev/null; iptables -F INPUT 2>/dev/null
else
  skip "20% loss" "netem: $(head -1 "$WORK/netem.err"); iptables: $(head -1 "$WORK/iptables.err" 2>/dev/null)"
fi

# --- the gateway survived all of it
if kill -0 "$SB_PID" 2>/dev/null && ! grep -q "panicked" "$WORK/sb.log"; then pass "gateway still running, no panic"
else fail "gateway still running, no panic" "$(grep -m1 panicked "$WORK/sb.log")"; fi

echo "($((SECONDS - START)) s; $SKIP skipped)"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
