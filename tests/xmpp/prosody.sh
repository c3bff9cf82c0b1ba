#!/bin/bash
# Starts and stops a throwaway Prosody for the XMPP tests. Run inside the test's private network
# namespace (unshare -n): everything listens on 127.0.0.1 only.
#
#   prosody.sh start DIR   writes DIR/prosody.cfg.lua, registers alice, bob, carol and dave on
#                          `localhost` (password = name + "pw"), starts Prosody in the background,
#                          waits until c2s (5222), the component port (5347) and HTTP (5280, WebSocket
#                          at ws://127.0.0.1:5280/xmpp-websocket) accept connections. Prints the pid.
#   prosody.sh stop DIR    stops it (SIGTERM, then SIGKILL) and waits.
#   prosody.sh kill DIR    SIGKILL, no wait for a clean shutdown (the "server crashed" case).
#
# The component is `gateway.localhost` with secret `s3cret` (the tests' --xmpp-* flags).
# Logs: DIR/prosody.log (debug) and DIR/console.log.
set -euo pipefail
cmd=${1:?start|stop|kill}; DIR=$(mkdir -p "${2:?DIR}" && cd "$2" && pwd)
pidof_dir() { cat "$DIR/prosody.pid" 2> /dev/null || true; }
# alive PID: running and not a zombie (a killed Prosody stays a zombie until init reaps it, which
# can take a second or, under an init that does not reap, forever)
alive() { kill -0 "$1" 2> /dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2> /dev/null; }
wait_port() { # wait_port PORT: up to 10 s
  for _ in $(seq 100); do
    (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
    sleep 0.1
  done
  echo "prosody.sh: port $1 not listening after 10 s; see $DIR/console.log" >&2; return 1
}
case $cmd in
start)
  mkdir -p "$DIR/data"
  cat > "$DIR/prosody.cfg.lua" << CFG
-- Prosody for Switchboard's XMPP tests: loopback only, no TLS, no s2s.
run_as_root = true
pidfile = "$DIR/prosody.pid"
data_path = "$DIR/data"
log = { { levels = { min = "info" }, to = "console" }; { levels = { min = "debug" }, to = "file", filename = "$DIR/prosody.log" } }
interfaces = { "127.0.0.1" }
c2s_ports = { 5222 }
c2s_interfaces = { "127.0.0.1" }
component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }
s2s_ports = {}
http_ports = { 5280 }
http_interfaces = { "127.0.0.1" }
https_ports = {}
c2s_direct_tls_ports = {}
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "presence"; "message"; "iq"; "posix"; "websocket"; "carbons" }
modules_disabled = { "s2s"; "tls"; "offline"; "c2s_direct_tls" }
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
consider_websocket_secure = true
cross_domain_websocket = true
authentication = "internal_hashed"
storage = "internal"
allow_registration = false
use_libevent = false
VirtualHost "localhost"
Component "gateway.localhost"
    component_secret = "s3cret"
CFG
  for u in alice bob carol dave; do
    prosodyctl --config "$DIR/prosody.cfg.lua" register "$u" localhost "${u}pw" > /dev/null
  done
  prosody --config "$DIR/prosody.cfg.lua" -F >> "$DIR/console.log" 2>&1 &
  echo $! > "$DIR/prosody.pid"
  wait_port 5222 && wait_port 5347 && wait_port 5280
  pidof_dir
  ;;
stop | kill)
  pid=$(pidof_dir)
  [ -n "$pid" ] || exit 0
  if [ "$cmd" = kill ]; then kill -KILL "$pid" 2> /dev/null || true
  else
    kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null || true
  fi
  for _ in $(seq 200); do alive "$pid" || break; sleep 0.05; done
  rm -f "$DIR/prosody.pid"
  ;;
*) echo "usage: prosody.sh start|stop|kill DIR" >&2; exit 2 ;;
esac
