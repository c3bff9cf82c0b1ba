#!/bin/bash
# Real Chromium accepts the SDP Switchboard makes from XMPP clients' Jingle (session-initiate fixtures
# of fixtures/jingle/ and /work/shared/fixtures/jingle/), and the answer Chromium makes converts back
# to Jingle with a concrete DTLS setup (chromium_accepts_jingle.mjs). No server, no ICE connectivity:
# offer/answer only, in a private netns, loopback only.
#   bash tests/xmpp/run_chromium_accepts_jingle.sh BINARY [SHARED_JINGLE_DIR]
#                                                   (VERBOSE=1: every SDP, answer and Jingle answer)
set -u
BIN=$(realpath "$1"); HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SHARED=${2:-/work/shared/fixtures/jingle}
if [ -z "${SB_CHROMIUM_JINGLE_UNSHARED:-}" ]; then
  SB_CHROMIUM_JINGLE_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$BIN" "$SHARED"
fi
ip link set lo up
if ! "$BIN" convert --help > /dev/null 2>&1; then
  echo "FAIL $BIN has no convert subcommand"; echo "0 passed, 1 failed"; exit 1
fi
timeout 60 node "$HERE/chromium_accepts_jingle.mjs" "$BIN" "$SHARED"
RC=$?
[ $RC -eq 124 ] && echo "FAIL timed out after 60 s"
exit $RC
