#!/bin/bash
# baresip (a real SIP phone) registers to `switchboard serve` with digest auth:
# the right password gives a binding (seen in /metrics), a wrong one does not.
# Runs in a private network namespace on loopback.
#   bash tests/sip/baresip_register.sh BINARY
set -u
BIN=$(realpath "$1")
if [ -z "${SB_SIP_UNSHARED:-}" ]; then
  SB_SIP_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN"
fi
ip link set lo up
WORK=$(mktemp -d /tmp/sb-baresip.XXXXXX)
PIDS=()
trap 'kill -9 "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
"$BIN" serve --http 127.0.0.1:8088 --stun off --sip 127.0.0.1:5060 --sip-user alice:s3cret --sip-user bob:other \
  > "$WORK/sb.out" 2> "$WORK/sb.log" &
PIDS+=($!)
for _ in $(seq 50); do grep -q "SIP on" "$WORK/sb.out" 2>/dev/null && break; sleep 0.1; done

phone() { # phone DIR PORT ACCOUNT
  mkdir -p "$1"
  cat > "$1/config" <<CFG
poll_method		epoll
sip_listen		127.0.0.1:$2
net_interface		127.0.0.1
audio_player		aubridge,sinka
audio_source		ausine,440
ausrc_srate		48000
ausrc_channels		2
auplay_srate		48000
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			aubridge.so
module_tmp		uuid.so
module_tmp		account.so
CFG
  echo "$3" > "$1/accounts"
  baresip -f "$1" > "$1/log" 2>&1 &
  PIDS+=($!)
}
bindings() { curl -s --noproxy "*" http://127.0.0.1:8088/metrics | sed -n 's/^switchboard_sip_bindings //p'; }

PASS=0; FAIL=0
phone "$WORK/alice" 5170 "<sip:alice@127.0.0.1:5060>;auth_pass=s3cret;regint=60;answermode=auto"
ok=no
for _ in $(seq 50); do [ "$(bindings)" = "1" ] && { ok=yes; break; }; sleep 0.1; done
if [ $ok = yes ]; then PASS=$((PASS+1)); echo "ok     baresip registers with digest auth (binding seen)"
else FAIL=$((FAIL+1)); echo "FAILED baresip registration: bindings=$(bindings)"; tail -20 "$WORK/alice/log"; fi

phone "$WORK/bob" 5180 "<sip:bob@127.0.0.1:5060>;auth_pass=wrong;regint=60"
sleep 2
if [ "$(bindings)" = "1" ] && grep -qiE "403|Forbidden|401" "$WORK/bob/log"; then
  PASS=$((PASS+1)); echo "ok     baresip with a wrong password gets no binding"
else FAIL=$((FAIL+1)); echo "FAILED wrong password: bindings=$(bindings)"; tail -20 "$WORK/bob/log"; fi
[ "$FAIL" -eq 0 ] || { echo "--- switchboard log"; tail -20 "$WORK/sb.log"; cat "$WORK/sb.out"; }
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
