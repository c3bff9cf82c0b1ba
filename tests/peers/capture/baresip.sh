#!/bin/bash
# Capture the SDP offer in the INVITE that baresip sends.
# usage: baresip.sh plain|ice OUTFILE [SINK_PORT]
#   plain: RTP/AVP, net_interface 127.0.0.1 (opus, G.722, G.711)
#   ice:   ;mediaenc=dtls_srtp;medianat=ice, net_interface 10.77.0.1 (the veth set up by capture-all.sh;
#          baresip's ice module refuses loopback addresses), plus fakevideo+VP8 video
# baresip dials sip:bob@127.0.0.1:SINK_PORT where sip_sink.py stores the INVITE body verbatim and answers 486.
# Must run inside the private network namespace set up by capture-all.sh.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1 OUT=$2
PORT=${3:-$([ "$MODE" = ice ] && echo 5092 || echo 5091)}
PY=${PYTHON:-python3}
CFG=$(mktemp -d /tmp/sb-baresip-$MODE.XXXXXX)
SIP_PORT=$((PORT + 100))
if [ "$MODE" = ice ]; then
  NETIF=10.77.0.1
  ACCT_EXTRA=";mediaenc=dtls_srtp;medianat=ice"
  EXTRA_MODS=$'module\t\t\tice.so\nmodule\t\t\tsrtp.so\nmodule\t\t\tdtls_srtp.so\nmodule\t\t\tvp8.so\nmodule\t\t\tfakevideo.so'
  VIDEO=$'video_source\t\tfakevideo,nil\nvideo_display\t\tfakevideo,nil'
else
  NETIF=127.0.0.1
  ACCT_EXTRA=""
  EXTRA_MODS=""
  VIDEO=""
fi
cat > "$CFG/config" <<EOF
poll_method		epoll
sip_listen		127.0.0.1:$SIP_PORT
call_local_timeout	120
call_max_calls		4
audio_player		aubridge,sinka
audio_source		ausine,440
audio_alert		aubridge,alerta
ausrc_srate		48000
ausrc_channels		2
auplay_srate		48000
rtp_stats		no
net_interface		$NETIF
$VIDEO
module_path		/usr/lib/baresip/modules
module			opus.so
module			g722.so
module			g711.so
module			ausine.so
module			aubridge.so
$EXTRA_MODS
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
EOF
echo "<sip:alice@127.0.0.1:$SIP_PORT>;regint=0;answermode=manual$ACCT_EXTRA" > "$CFG/accounts"
: > "$CFG/contacts"

"$PY" "$HERE/sip_sink.py" 127.0.0.1 "$PORT" "$OUT" --timeout 8 --headers "$CFG/invite.txt" &
SINK=$!
sleep 0.2
baresip -f "$CFG" -e "/dial sip:bob@127.0.0.1:$PORT" > "$CFG/baresip.log" 2>&1 &
BS=$!
wait $SINK; RC=$?
kill $BS 2>/dev/null; wait $BS 2>/dev/null
if [ $RC -ne 0 ]; then echo "baresip $MODE: no INVITE captured; log:" >&2; tail -20 "$CFG/baresip.log" >&2; fi
[ -n "${KEEP_TMP:-}" ] || rm -rf "$CFG"
exit $RC
