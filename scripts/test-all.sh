#!/bin/bash
# The whole test suite, on a fresh Debian 12 machine as root:
#   installs the real peers (scripts/install-peers.sh), builds once, runs every Rust test
#   (unit, fixtures, property, CLI, live captures from the real peers, benchmarks run once).
# Ends with one "N passed, N failed" line.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=never
LOG=$(mktemp -d /tmp/switchboard-test.XXXXXX)
PASSED=0; FAILED=0; FAILURES=()
step() { # step NAME COMMAND...: runs a step, counts it
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  if "$@"; then
    PASSED=$((PASSED + 1)); echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    FAILED=$((FAILED + 1)); FAILURES+=("$name"); echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

step "install real peers" bash scripts/install-peers.sh
# Fresh SDPs from the installed Chromium, aiortc, baresip, sipp, rtpengine, JsSIP and SIP.js.
step "capture live SDPs" bash tests/peers/capture/capture-all.sh "$LOG/live-sdp"
export SWITCHBOARD_LIVE_SDP_DIR=$LOG/live-sdp
# stanza.js's Jingle for those fresh Chromium SDPs (checked by protocols/jingle/tests/fixtures.rs).
step "stanza.js Jingle from the live SDPs" env SDP_DIR="$LOG/live-sdp" node tests/peers/capture/stanza_jingle.mjs "$LOG/live-jingle"
export SWITCHBOARD_LIVE_JINGLE_DIR=$LOG/live-jingle
# --all-targets includes benches/sdp.rs, which criterion runs once in test mode: every compared
# parser must accept the fixtures.
step "cargo test" cargo test --workspace --all-targets --no-fail-fast
step "doc tests" cargo test --workspace --doc
# The binaries the real-peer tests start (tests build bins only in test mode): the gateway and
# sip_peer, the browser-protocol client of the SIP call tests.
step "build binaries" cargo build --workspace --bins
# Two headless Chromium pages call each other through `switchboard serve` (private netns);
# the demo-page screenshot lands in target/browser/demo-call.png.
step "browser tests (Chromium)" bash tests/browser/run.sh target/debug/switchboard target/browser
# A real SIP phone registers with digest auth (private netns).
step "SIP registrar with baresip" bash tests/sip/baresip_register.sh target/debug/switchboard
# JsSIP in Chromium registers over SIP WebSocket (/sip, RFC 7118).
step "SIP over WebSocket with JsSIP" bash tests/sip/run_jssip.sh target/debug/switchboard
# SIP calls (sipp scenarios: calls in and out over UDP and TCP, CANCEL, late offer, re-INVITE,
# digest challenges, trunk registration, packet loss) against browser-protocol clients (sip_peer).
step "SIP calls with sipp" env SIP_PEER=target/debug/sip_peer bash tests/sipp/run.sh target/debug/switchboard
# SIP over TLS with Python's ssl (OpenSSL) as the peer.
step "SIP over TLS" env SIP_PEER=target/debug/sip_peer bash tests/sip/run_tls.sh target/debug/switchboard
# baresip 1.0 phones: calls both ways with a browser-protocol client, and Chromium <-> baresip audio
# (ICE + DTLS-SRTP).
step "SIP calls with baresip and Chromium" env SIP_PEER=target/debug/sip_peer bash tests/sip/baresip_calls.sh target/debug/switchboard
# JsSIP in Chromium over /sip <-> a Chromium page using /switchboard.js: audio both ways.
step "SIP calls with JsSIP and Chromium" bash tests/sip/run_jssip_calls.sh target/debug/switchboard
# XMPP: slixmpp accounts on Prosody call a browser-protocol client through the component (JMI,
# Jingle, disco, presence, reasons, bad input), and Prosody is killed and restarted mid-call.
step "XMPP calls with slixmpp and Prosody" bash tests/xmpp/run_slixmpp.sh target/debug/switchboard
# Real Chromium takes the SDP made from each client's Jingle (Conversations, Dino, stanza.js, Jitsi,
# the XEPs' examples) and its answer converts back (no actpass, content names kept).
step "Chromium accepts SDP made from Jingle" bash tests/xmpp/run_chromium_accepts_jingle.sh target/debug/switchboard
# stanza.js (its own Jingle) in headless Chromium via Prosody's WebSocket <-> a Chromium page using
# /switchboard.js: calls both ways (JMI and direct), audio both ways, data channels, hangups, reasons.
step "XMPP calls with stanza.js and Chromium" bash tests/xmpp/run_stanza_calls.sh target/debug/switchboard
# SIP <-> XMPP through the bridge: sipp UAC -> slixmpp callee 100 calls, calls both ways, causes,
# CANCEL, the ring timeout, a killed XMPP client (protocols/bridge/BRIDGE.md).
step "SIP <-> XMPP with sipp and slixmpp" bash tests/bridge/run_sip_xmpp.sh target/debug/switchboard
# JsSIP in Chromium <-> stanza.js in Chromium through the bridge: audio both ways, hangups, rejects,
# ring timeout, each page killed mid-call.
step "SIP <-> XMPP with JsSIP and stanza.js (Chromium)" bash tests/bridge/run_jssip_stanza.sh target/debug/switchboard
# [[dial_plan]] rules from switchboard.toml with slixmpp, sipp and a browser client: a captured
# number rewritten onto a SIP URI, a reject rule, a route list falling back, a rule from SIP.
step "dial plan rules" bash tests/bridge/run_dialplan.sh target/debug/switchboard
# Calls whose legs speak different media (plain RTP <-> WebRTC) without a relay: refused fast with
# the reason, never connected without audio (protocols/bridge/BRIDGE.md, "Media profiles").
step "media profiles differ, no relay" bash tests/bridge/run_media_mismatch.sh target/debug/switchboard
# The rtpengine ng client (protocols/rtpengine) against a real rtpengine-daemon in userspace.
step "rtpengine ng client against rtpengine" bash tests/rtpengine/run_ng.sh
# Media anchored in rtpengine (issue #7): Chromium <-> baresip with a plain RTP/AVP account, audio
# both ways through a real rtpengine, rtpengine killed and restarted under a running gateway.
step "media anchored in rtpengine (Chromium <-> baresip plain RTP)" bash tests/media/run_anchor.sh target/debug/switchboard
# stanza.js in Chromium (XMPP) <-> baresip plain RTP through rtpengine: audio both ways, both directions.
step "media anchored in rtpengine (stanza.js <-> baresip plain RTP)" bash tests/media/run_anchor_xmpp.sh target/debug/switchboard
# The hangup cause table across every ordered pair of browser, SIP (sipp) and XMPP (slixmpp on
# Prosody): every cause each callee can express, answered calls, cancels, the ring timeout, and
# /api/calls empty after each call (protocols/bridge/MAPPING.md, BRIDGE.md).
step "causes across browser, SIP and XMPP" bash tests/bridge/run_causes.sh target/debug/switchboard

echo
[ ${#FAILURES[@]} -eq 0 ] || echo "failed steps: ${FAILURES[*]}"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
