#!/bin/bash
# Checks the sipp scenarios of tests/sipp/ against each other, without the gateway: each uac_*
# runs against a sipp stand-in for the gateway (selftest/gw_*.xml, or a uas_* of ours), each uas_*
# against a sipp stand-in for the gateway's outbound calls, over UDP and TCP, plus 20% UDP loss on
# loopback. Validates the scenarios' syntax, headers, transactions and retransmission handling; the
# gateway itself is tested by run.sh. Runs in a private network namespace on loopback.
#   bash tests/sipp/selftest.sh            (needs sipp: Debian package sip-tester; root for unshare)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${SB_SIPP_SELFTEST_UNSHARED:-}" ]; then
  SB_SIPP_SELFTEST_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$@"
fi
ip link set lo up
command -v sipp > /dev/null || { echo "sipp is not installed (apt-get install sip-tester)"; exit 1; }
WORK=$(mktemp -d /tmp/sb-sipp-selftest.XXXXXX)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
PASS=0; FAIL=0; SKIP=0
COMMON=(-i 127.0.0.1 -nostdin -timeout 60s -recv_timeout 20s -trace_err -trace_logs -trace_screen)

sippx() { # LABEL ARGS...: one sipp run, its files named after LABEL; prints nothing. `exec`: run
  local label=$1; shift # it in a subshell, `( sippx ... ) &`, and $! is sipp itself.
  exec sipp "$@" "${COMMON[@]}" -error_file "$WORK/$label.err" -log_file "$WORK/$label.log" \
    -screen_file "$WORK/$label.screen" > "$WORK/$label.out" 2>&1
}
show() { # LABEL: what sipp said about a failed run
  for f in "$WORK/$1".out "$WORK/$1".err "$WORK/$1".log; do
    [ -s "$f" ] && { echo "  --- $(basename "$f")"; tail -40 "$f" | sed 's/^/  | /'; }
  done
  [ -s "$WORK/$1.screen" ] && { echo "  --- $1.screen"; grep -E "Successful call|Failed call|Retrans|Timeout|Unexp" "$WORK/$1.screen" | head -20 | sed 's/^/  | /'; }
}
verdict() { # NAME RC_SERVER RC_CLIENT SERVER_LABEL CLIENT_LABEL WANT_SERVER_RC WANT_CLIENT_RC (- = any)
  if { [ "$6" = - ] || [ "$2" -eq "$6" ]; } && [ "$3" -eq "$7" ]; then PASS=$((PASS+1)); echo "PASS $1"
  else FAIL=$((FAIL+1)); echo "FAIL $1 (server sipp rc=$2, want $6; client sipp rc=$3, want $7)"; show "$4"; show "$5"; fi
}

pair() { # NAME TRANSPORT CALLS SERVER_SF "SERVER_ARGS" CLIENT_SF "CLIENT_ARGS" [WANT_SERVER_RC WANT_CLIENT_RC]
  local name=$1 t=$2 n=$3 ssf=$4 sargs=$5 csf=$6 cargs=$7 want_s=${8:-0} want_c=${9:-0}
  local label=${name//[^A-Za-z0-9_.+-]/_}
  local sl="$label.server" cl="$label.client"
  # The server side runs without -m and stops gracefully (SIGUSR1) once the client is done: a sipp
  # that exits closes its TCP connection, and sipp fails the calls the other side still has open
  # on it (the gateway never does that).
  # shellcheck disable=SC2086
  ( sippx "$sl" -sf "$ssf" -p 5060 -t "$t" -mi 127.0.0.1 -mp 16000 $sargs ) &
  local spid=$!
  PIDS+=("$spid")
  sleep 0.3
  if [ "$t" = t1 ]; then
    # A sipp that exits closes its TCP connection, and the sipp at the other end fails every call
    # still open on it (the gateway never closes first). Over TCP the client's calls linger 1 s
    # at their end (a copy of the scenario with a final pause), so the server's calls end first.
    sed '0,/<ResponseTimeRepartition\|<\/scenario>/s//<pause milliseconds="1000"\/>\n&/' "$csf" > "$WORK/$label.client.xml"
    csf="$WORK/$label.client.xml"
  fi
  # shellcheck disable=SC2086
  ( sippx "$cl" 127.0.0.1:5060 -sf "$csf" -p 5061 -t "$t" -m "$n" -mi 127.0.0.1 -mp 17000 $cargs )
  local crc=$?
  if [ "$want_s" = - ]; then
    kill -KILL "$spid" 2>/dev/null # its verdict does not count: no need to wait for its calls
  else
    sleep 1
    kill -USR1 "$spid" 2>/dev/null # graceful: the calls in progress end first
  fi
  wait "$spid"; local src=$?
  verdict "$name" "$src" "$crc" "$sl" "$cl" "$want_s" "$want_c"
}

S=$HERE; G=$HERE/selftest
# sipp reads a response's code when it loads the scenario: one copy of gw_reject.xml per code.
reject() { sed -e "s/\[code\]/$1/" -e "s/\[reason\]/$2/" "$G/gw_reject.xml" > "$WORK/gw_reject_$1.xml"; echo "$WORK/gw_reject_$1.xml"; }
for t in u1 t1; do
  tr=$([ $t = u1 ] && echo udp || echo tcp)
  # How long a server-side call stays after the BYE's 200 OK (retransmitted BYEs on UDP).
  SD="-d 500"
  pair "uac_call_bye+uas_answer/$tr" $t 20 "$S/uas_answer.xml" "$SD" "$S/uac_call_bye.xml" "-s alice -r 20 -d 200"
  pair "uac_call_bye+uas_early_media/$tr" $t 5 "$S/uas_early_media.xml" "$SD" "$S/uac_call_bye.xml" "-s alice -r 10 -d 100"
  pair "uac_call_remote_bye+uas_bye/$tr" $t 5 "$S/uas_bye.xml" "-d 300" "$S/uac_call_remote_bye.xml" "-s alice -r 10"
  pair "uac_expect_486+uas_busy/$tr" $t 3 "$S/uas_busy.xml" "" "$S/uac_expect_486.xml" "-s busy -r 10"
  pair "uac_cancel/$tr" $t 3 "$G/gw_ring_cancel.xml" "" "$S/uac_cancel.xml" "-s slow -r 10"
  pair "uac_late_offer/$tr" $t 3 "$G/gw_late_offer.xml" "$SD" "$S/uac_late_offer.xml" "-s alice -r 10 -d 100"
  pair "uac_reinvite_hold/$tr" $t 2 "$G/gw_reinvite.xml" "$SD" "$S/uac_reinvite_hold.xml" "-s alice -r 10 -d 100"
  pair "uac_expect_404/$tr" $t 2 "$(reject 404 "Not Found")" "" "$S/uac_expect_404.xml" "-s nobody"
  pair "uac_expect_480/$tr" $t 2 "$(reject 480 "Temporarily Unavailable")" "" "$S/uac_expect_480.xml" "-s bob"
  pair "uac_expect_603/$tr" $t 2 "$(reject 603 Decline)" "" "$S/uac_expect_603.xml" "-s decline"
  pair "uac_expect_404 gets 480: fails/$tr" $t 1 "$(reject 480 "Temporarily Unavailable")" "" "$S/uac_expect_404.xml" "-s nobody" - 1
  pair "uac_register_auth/$tr" $t 2 "$G/gw_registrar.xml" "" "$S/uac_register_auth.xml" "-s bob -au bob -ap secret"
  pair "uas_auth_401/$tr" $t 3 "$S/uas_auth_401.xml" "$SD" "$G/gw_caller_auth.xml" "-au trunk -ap trunkpw -r 10"
  pair "uas_auth_407/$tr" $t 3 "$S/uas_auth_407.xml" "$SD" "$G/gw_caller_auth.xml" "-au trunk -ap trunkpw -r 10"
  pair "uas_auth_401 refuses a wrong password/$tr" $t 1 "$S/uas_auth_401.xml" "$SD" "$G/gw_caller_auth.xml" "-au trunk -ap wrong" 1 1
done

# 20% loss on UDP over loopback: tc netem where the kernel has it, else iptables' statistic match.
loss_on() {
  if tc qdisc add dev lo root netem loss 20% 2> "$WORK/netem.err"; then LOSS="tc netem loss 20% (all of lo)"; return 0; fi
  if iptables -A INPUT -i lo -p udp -m statistic --mode random --probability 0.2 -j DROP 2> "$WORK/ipt.err"; then
    LOSS="iptables statistic 20% on UDP (netem: $(tr -d '\n' < "$WORK/netem.err"))"; return 0
  fi
  LOSS_WHY="netem: $(tr -d '\n' < "$WORK/netem.err"); iptables: $(tr -d '\n' < "$WORK/ipt.err")"; return 1
}
loss_off() { tc qdisc del dev lo root 2>/dev/null; iptables -F INPUT 2>/dev/null; }
if loss_on; then
  echo "loss: $LOSS"
  RETRANS="-max_invite_retrans 12 -max_non_invite_retrans 12"
  pair "loss 20%: uac_call_bye+uas_answer 50 calls at 5 cps/udp" u1 50 "$S/uas_answer.xml" "-d 32000 $RETRANS" \
    "$S/uac_call_bye.xml" "-s alice -r 5 -d 500 $RETRANS" - 0
  # (the stand-in's verdict is not checked: sipp as a UAS fails a call whose ACK was lost when the
  # BYE arrives, "unexpected BYE", where a real UA takes the BYE; the UAC side must succeed)
  grep -h "Retransmissions" "$WORK"/loss*.screen 2>/dev/null | head -2
  loss_off
else
  SKIP=$((SKIP+1)); echo "SKIP loss 20% ($LOSS_WHY)"
fi
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
