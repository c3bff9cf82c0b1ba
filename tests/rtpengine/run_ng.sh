#!/bin/bash
# The ng client (protocols/rtpengine) against a real rtpengine, in userspace,
# on loopback of a private network namespace: ping, offer (browser -> plain
# RTP), answer (plain RTP -> browser), query, list, delete, SDES-SRTP offer,
# duplicate reply, and a port where nothing listens (timeout after retries).
# Prints PASS/FAIL lines and "N passed, M failed"; exits 1 on any failure.
#
#   bash tests/rtpengine/run_ng.sh     (as root, or where `unshare -rn` works)
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NG_PORT=2223
DEAD_PORT=2299

if [[ "${RUN_NG_IN_NS:-}" != 1 ]]; then
    command -v rtpengine >/dev/null || { echo "FAIL rtpengine (not installed: apt-get install rtpengine-daemon)"; echo "0 passed, 1 failed"; exit 1; }
    # Build outside the namespace (the build may need the network).
    (cd "$ROOT" && cargo build -q -p switchboard-rtpengine --example ng_probe) || {
        echo "FAIL build (cargo build --example ng_probe)"; echo "0 passed, 1 failed"; exit 1; }
    if [[ $(id -u) == 0 ]]; then
        exec env RUN_NG_IN_NS=1 unshare -n bash "$0" "$@"
    else
        exec env RUN_NG_IN_NS=1 unshare -rn bash "$0" "$@"
    fi
fi

ip link set lo up
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PROBE="$TARGET_DIR/debug/examples/ng_probe"
LOG="$(mktemp /tmp/rtpengine-ng.XXXXXX.log)"
passed=0
failed=0

rtpengine --config-file=none --foreground --log-stderr --table=-1 --interface=lo/127.0.0.1 \
    --listen-ng=127.0.0.1:$NG_PORT --port-min=30000 --port-max=30100 2>"$LOG" &
RTPENGINE_PID=$!
trap 'kill "$RTPENGINE_PID" 2>/dev/null; wait "$RTPENGINE_PID" 2>/dev/null' EXIT

# Wait until it listens on the ng port.
for _ in $(seq 50); do
    ss -lun 2>/dev/null | grep -q "127.0.0.1:$NG_PORT " && break
    kill -0 "$RTPENGINE_PID" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$RTPENGINE_PID" 2>/dev/null; then
    echo "PASS rtpengine started ($(rtpengine --version 2>&1 | head -1))"; passed=$((passed + 1))
else
    echo "FAIL rtpengine started (exited; log: $LOG)"; tail -5 "$LOG"
    echo "0 passed, 1 failed"; exit 1
fi

OUT="$("$PROBE" "127.0.0.1:$NG_PORT" "127.0.0.1:$DEAD_PORT" 2>&1)"
echo "$OUT" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
p=$(echo "$OUT" | grep -c '^PASS ')
f=$(echo "$OUT" | grep -c '^FAIL ')
passed=$((passed + p)); failed=$((failed + f))
if ! echo "$OUT" | grep -qE '^[0-9]+ passed, [0-9]+ failed$'; then
    echo "FAIL ng_probe (did not finish)"; failed=$((failed + 1))
fi

# rtpengine must still be alive and hold no call.
if kill -0 "$RTPENGINE_PID" 2>/dev/null; then
    echo "PASS rtpengine still running"; passed=$((passed + 1))
else
    echo "FAIL rtpengine still running (died; log: $LOG)"; failed=$((failed + 1))
fi
if grep -qiE 'segfault|assertion|critical' "$LOG"; then
    echo "FAIL rtpengine log clean ($(grep -iE 'segfault|assertion|critical' "$LOG" | head -1))"; failed=$((failed + 1))
else
    echo "PASS rtpengine log clean"; passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
