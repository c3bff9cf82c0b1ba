#!/bin/bash
# Install the third-party peers used by tests/peers/ (SDP capture, interop tests). Idempotent; a no-op
# taking well under a second when everything is already installed. Run as root on Debian 12.
#
#   apt:  chromium sip-tester baresip-core rtpengine-daemon coturn iproute2 bc iptables prosody lua-unbound  (+ nodejs npm / python3-venv if absent)
#         (rtpengine-daemon, not the `rtpengine` metapackage, which pulls in the kernel module via DKMS)
#   npm:  tests/peers/package.json + package-lock.json (playwright-core, ws, jssip, sip.js, esbuild), `npm ci`
#   pip:  tests/peers/.venv from tests/peers/requirements.txt (aiortc, websockets, pinned with dependencies)
#
# No browser is downloaded: playwright-core drives Debian's /usr/bin/chromium (executablePath).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=$ROOT/tests/peers
export DEBIAN_FRONTEND=noninteractive
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
log() { echo "install-peers: $*" >&2; }

# --- Debian packages ------------------------------------------------------------------------------------
PKGS=(chromium sip-tester baresip-core rtpengine-daemon coturn iproute2 bc curl iptables prosody lua-unbound)
command -v node > /dev/null || PKGS+=(nodejs)
command -v npm > /dev/null || PKGS+=(npm)
PY=${PYTHON:-python3}
if ! command -v "$PY" > /dev/null; then PKGS+=(python3 python3-venv); PY=python3
elif ! "$PY" -c 'import ensurepip, venv' 2> /dev/null; then PKGS+=(python3-venv); fi
MISSING=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2> /dev/null | grep -qx installed || MISSING+=("$p")
done
if [ ${#MISSING[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { log "need root to apt-get install ${MISSING[*]}"; exit 1; }
  log "apt-get install ${MISSING[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${MISSING[@]}"
fi

# --- npm packages (pinned by package-lock.json) ----------------------------------------------------------
stamp() { sha256sum "$@" | sha256sum | cut -c1-64; }
NPM_STAMP=$(stamp "$PEERS/package.json" "$PEERS/package-lock.json")
if [ "$(cat "$PEERS/node_modules/.sb-installed" 2> /dev/null)" != "$NPM_STAMP" ]; then
  log "npm ci in tests/peers"
  (cd "$PEERS" && npm ci --no-audit --no-fund)
  echo "$NPM_STAMP" > "$PEERS/node_modules/.sb-installed"
fi

# --- Python venv (pinned by requirements.txt) ------------------------------------------------------------
PIP_STAMP=$(stamp "$PEERS/requirements.txt")
if [ "$(cat "$PEERS/.venv/.sb-installed" 2> /dev/null)" != "$PIP_STAMP" ]; then
  log "python venv tests/peers/.venv"
  [ -x "$PEERS/.venv/bin/python" ] || "$PY" -m venv "$PEERS/.venv"
  "$PEERS/.venv/bin/pip" install -q --disable-pip-version-check -r "$PEERS/requirements.txt"
  echo "$PIP_STAMP" > "$PEERS/.venv/.sb-installed"
fi

log "ok: $(/usr/bin/chromium --version 2> /dev/null | grep -o 'Chromium [0-9.]*'), sipp $(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -1)," \
  "baresip $(baresip -h 2>&1 | grep -o 'v[0-9.]*' | head -1), rtpengine $(rtpengine --version 2>&1 | sed -n 's/^Version: //p')," \
  "aiortc $("$PEERS/.venv/bin/python" -c 'from importlib.metadata import version; print(version("aiortc"))')"
