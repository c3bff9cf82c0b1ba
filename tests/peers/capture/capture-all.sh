#!/bin/bash
# Capture real SDPs from third-party WebRTC/SIP implementations into OUTDIR/<name>.sdp.
#
# usage: bash tests/peers/capture/capture-all.sh OUTDIR        (as root; see scripts/install-peers.sh)
#
# Everything runs inside a private network namespace: the script re-executes itself under
# `unshare -n` unless it already is in a fresh one (only `lo`), then sets up
#   lo up + 127.0.0.2/8 (aiortc ignores 127.0.0.1),
#   veth pair v0/v1 with 10.77.0.1/24 and fd77::1/64 on v0, default routes via v0
#   (baresip's ICE refuses loopback; Chromium gathers the veth + IPv6 addresses; without media
#   permission it hides them behind mDNS names). v1 has no address: nothing leaves the namespace.
# Peers: headless Chromium (playwright-core), JsSIP and SIP.js inside Chromium, aiortc, baresip, sipp,
# rtpengine. Each SDP is written byte for byte as the peer produced it (CRLF), SDP only (no SIP headers).
# Prints one line per capture; exits non-zero if any capture failed. Logs: kept in a temp dir on failure.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$(dirname "$HERE")

if [ $# -ne 1 ]; then echo "usage: $0 OUTDIR" >&2; exit 2; fi

# --- enter a private network namespace -----------------------------------------------------------
# (ask netlink, not /sys/class/net: sysfs keeps showing the namespace it was mounted in)
if [ "$(ip -o link show | awk -F': ' '{print $2}' | grep -vx lo | wc -l)" -ne 0 ]; then
  if [ -n "${SB_CAPTURE_UNSHARED:-}" ]; then echo "capture-all.sh: not in a fresh network namespace after unshare" >&2; exit 2; fi
  if [ "$(id -u)" -ne 0 ]; then echo "capture-all.sh: needs root (unshare -n, ip link add)" >&2; exit 2; fi
  SB_CAPTURE_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$@"
fi
T0=$(date +%s.%N)
mkdir -p "$1"; OUT=$(cd "$1" && pwd)
ip link set lo up
ip addr add 127.0.0.2/8 dev lo 2>/dev/null
ip link add v0 type veth peer name v1
ip addr add 10.77.0.1/24 dev v0
ip -6 addr add fd77::1/64 dev v0 nodad
ip link set v0 up; ip link set v1 up
ip route add default dev v0
ip -6 route add default dev v0

# --- prerequisites and versions ------------------------------------------------------------------
PY=$PEERS/.venv/bin/python
for f in "$PEERS/node_modules/playwright-core" "$PY" /usr/bin/chromium /usr/bin/baresip /usr/bin/sipp /usr/bin/rtpengine; do
  [ -e "$f" ] || { echo "capture-all.sh: missing $f; run: bash scripts/install-peers.sh" >&2; exit 2; }
done
CHROMIUM_VER=$(/usr/bin/chromium --version 2>/dev/null | awk '/Chromium/ {print $2}')   # 156.0.8078.79
CM=${CHROMIUM_VER%%.*}
AIORTC_VER=$("$PY" "$HERE/aiortc_capture.py" version)
BARESIP_VER=$(baresip -h 2>&1 | sed -n 's/^baresip v\([0-9.]*\).*/\1/p' | head -1)
SIPP_VER=$(sipp -v 2>&1 | sed -n 's/.*SIPp v\([0-9.]*\).*/\1/p' | head -1)
RTPENGINE_VER=$(rtpengine --version 2>&1 | sed -n 's/^Version: \([0-9.]*\).*/\1/p' | head -1)
JSSIP_VER=$(cd "$PEERS" && node -p "require('jssip/package.json').version")
SIPJS_VER=$(cd "$PEERS" && node -p "require('sip.js/package.json').version")

N_CHR_OFFER=chromium-$CM-offer-audio-video-datachannel.sdp
N_CHR_ANSWER=chromium-$CM-answer-audio-video-datachannel.sdp
N_CHR_SIMULCAST=chromium-$CM-offer-simulcast-rids.sdp
N_CHR_NONTRICKLE=chromium-$CM-offer-non-trickle-candidates.sdp
N_CHR_DC=chromium-$CM-offer-datachannel-only.sdp
N_CHR_MDNS=chromium-$CM-offer-datachannel-mdns-candidates.sdp
N_CHR_ANS_AIORTC=chromium-$CM-answer-to-aiortc-audio-datachannel.sdp
N_JSSIP=jssip-$JSSIP_VER-invite-offer-chromium-$CM.sdp
N_SIPJS=sipjs-$SIPJS_VER-invite-offer-audio-video-chromium-$CM.sdp
N_AIO_OFFER=aiortc-$AIORTC_VER-offer-audio-datachannel.sdp
N_AIO_ANSWER=aiortc-$AIORTC_VER-answer-to-chromium-$CM-audio-video-datachannel.sdp
N_BS_PLAIN=baresip-$BARESIP_VER-invite-offer-rtp-avp.sdp
N_BS_ICE=baresip-$BARESIP_VER-invite-offer-ice-dtls-srtp.sdp
N_SIPP=sipp-$SIPP_VER-invite-offer-builtin-uac.sdp
N_RTPE_WEBRTC=rtpengine-$RTPENGINE_VER-offer-webrtc-profile.sdp
N_RTPE_PLAIN=rtpengine-$RTPENGINE_VER-offer-plain-rtp.sdp
ALL=($N_CHR_OFFER $N_CHR_ANSWER $N_CHR_SIMULCAST $N_CHR_NONTRICKLE $N_CHR_DC $N_CHR_MDNS $N_CHR_ANS_AIORTC
     $N_JSSIP $N_SIPJS $N_AIO_OFFER $N_AIO_ANSWER $N_BS_PLAIN $N_BS_ICE $N_SIPP $N_RTPE_WEBRTC $N_RTPE_PLAIN)
for n in "${ALL[@]}"; do rm -f "$OUT/$n"; done   # never report a stale file as captured

WORK=$(mktemp -d /tmp/sb-capture.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

# --- captures (logs in $WORK) ----------------------------------------------------------------------
# rtpengine: userspace only (--table=-1), no config file, media ports on 127.0.0.1.
rtpengine --config-file=none --foreground --log-stderr --table=-1 --interface=lo/127.0.0.1 \
  --listen-ng=127.0.0.1:2223 --port-min=30000 --port-max=30999 --pidfile="$WORK/rtpengine.pid" \
  > "$WORK/rtpengine.log" 2>&1 &
PIDS+=($!)

timeout -k 3 30 "$PY" "$HERE/aiortc_capture.py" offer "$OUT/$N_AIO_OFFER" > "$WORK/aiortc-offer.log" 2>&1

AIORTC_OFFER=$OUT/$N_AIO_OFFER timeout -k 5 90 node "$HERE/chromium.js" \
  offer-av-dc="$OUT/$N_CHR_OFFER" answer-av-dc="$OUT/$N_CHR_ANSWER" offer-simulcast="$OUT/$N_CHR_SIMULCAST" \
  offer-non-trickle="$OUT/$N_CHR_NONTRICKLE" offer-dc-only="$OUT/$N_CHR_DC" offer-dc-mdns="$OUT/$N_CHR_MDNS" \
  answer-aiortc="$OUT/$N_CHR_ANS_AIORTC" jssip-invite="$OUT/$N_JSSIP" sipjs-invite="$OUT/$N_SIPJS" \
  > "$WORK/chromium.log" 2>&1

[ -s "$OUT/$N_CHR_OFFER" ] && timeout -k 3 30 "$PY" "$HERE/aiortc_capture.py" answer "$OUT/$N_CHR_OFFER" "$OUT/$N_AIO_ANSWER" \
  > "$WORK/aiortc-answer.log" 2>&1

PYTHON=$PY timeout -k 3 30 bash "$HERE/baresip.sh" plain "$OUT/$N_BS_PLAIN" 5091 > "$WORK/baresip-plain.log" 2>&1
PYTHON=$PY timeout -k 3 30 bash "$HERE/baresip.sh" ice "$OUT/$N_BS_ICE" 5092 > "$WORK/baresip-ice.log" 2>&1

# sipp's built-in UAC scenario ("-sn uac") sends one INVITE to sip_sink.py, which answers 486.
"$PY" "$HERE/sip_sink.py" 127.0.0.1 5093 "$OUT/$N_SIPP" --timeout 6 > "$WORK/sipp-sink.log" 2>&1 &
SINK=$!
sleep 0.2
(cd "$WORK" && sipp -sn uac 127.0.0.1:5093 -i 127.0.0.1 -p 5094 -t u1 -m 1 -nostdin -timeout 5s > "$WORK/sipp.log" 2>&1)
wait $SINK

if "$PY" "$HERE/rtpengine_capture.py" 127.0.0.1:2223 ping > "$WORK/rtpengine-ng.log" 2>&1; then
  [ -s "$OUT/$N_BS_PLAIN" ] && "$PY" "$HERE/rtpengine_capture.py" 127.0.0.1:2223 webrtc \
    "$OUT/$N_BS_PLAIN" "$OUT/$N_RTPE_WEBRTC" >> "$WORK/rtpengine-ng.log" 2>&1
  [ -s "$OUT/$N_CHR_NONTRICKLE" ] && "$PY" "$HERE/rtpengine_capture.py" 127.0.0.1:2223 plain \
    "$OUT/$N_CHR_NONTRICKLE" "$OUT/$N_RTPE_PLAIN" >> "$WORK/rtpengine-ng.log" 2>&1
fi
cleanup; PIDS=()

# --- report: one line per capture --------------------------------------------------------------------
FAILED=0
check() {  # file must exist, start with v=0, use CRLF only, end with CRLF
  local f=$OUT/$1 why=
  if [ ! -s "$f" ]; then why="not captured"
  elif [ "$(head -c 5 "$f" | od -An -c | tr -d ' ')" != 'v=0\r\n' ]; then why="does not start with v=0 CRLF"
  elif [ "$(tail -c 2 "$f" | od -An -tx1 | tr -d ' ')" != 0d0a ]; then why="does not end with CRLF"
  elif [ "$(grep -c $'[^\r]$\|^$' "$f")" -ne 0 ]; then why="bare LF line endings"
  fi
  if [ -n "$why" ]; then
    FAILED=$((FAILED + 1)); printf 'FAIL  %-64s %s\n' "$1" "($why)"
  else
    printf 'ok    %-64s %3d lines %2d m= %2d a=candidate\n' "$1" "$(wc -l < "$f")" \
      "$(grep -c '^m=' "$f")" "$(grep -c '^a=candidate:' "$f")"
  fi
}
for n in "${ALL[@]}"; do check "$n"; done
ELAPSED=$(echo "$(date +%s.%N) - $T0" | bc)
if [ $FAILED -ne 0 ]; then
  echo "$FAILED of ${#ALL[@]} captures FAILED in ${ELAPSED%.*}s; logs kept in $WORK" >&2
  exit 1
fi
rm -rf "$WORK"
echo "${#ALL[@]} SDPs captured in $(printf '%.1f' "$ELAPSED")s into $OUT" >&2
exit 0
