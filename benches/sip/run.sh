#!/bin/bash
# SIP call benchmark: sipp UAC -> Switchboard -> browser-protocol answerers (tools/loadgen `sip_peer`),
# with sipp UAC -> sipp UAS as the baseline, in the same run.
#   bash benches/sip/run.sh          (root: unshare -n; needs sipp, Debian package sip-tester;
#                                     perf and heaptrack optional)
# Builds `switchboard` and `sip_peer` in release (in $CARGO_TARGET_DIR, default target/), then runs
# everything in a private network namespace on loopback. Prints one JSON line per measurement, then
# a summary (medians over REPEAT runs), and keeps every log, sipp statistics file and perf report in
# $OUT (printed at the start). PARTS chooses what runs (default: all, in this order):
#  baseline  sipp -> sipp (benches/sip/uas_answer.xml answers as the gateway does) at BASE_RATES;
#  gateway   sipp -> `switchboard serve` -> PEERS sip_peer answerers at GW_RATES for SECS each, BYE
#            right after the ACK (-d 0): calls/s achieved, failed calls, retransmissions, INVITE->200
#            time, gateway CPU and peak RSS, UDP drops at the gateway's socket;
#  long      the same at LONG_RATES for LONG_SECS: past the 32 s (64*T1) that the gateway keeps
#            each INVITE and BYE transaction over UDP, so that their number reaches its steady state;
#  profile   the gateway steps of PERF_RATES again, under `perf record` (not counted in the summary);
#  hold      HOLD_CALLS calls set up at HOLD_RATE and held together: gateway RSS per active call
#            (HEAPTRACK=1: under heaptrack, with the peak allocation sites).
# Each step starts a fresh gateway and fresh answerers. UACS sipp processes share each step's rate;
# every sipp rotates over the answerers' names (benches/sip/uac_call.xml reads them with -inf).
# The gateway, the answerers and sipp share the machine's cores: the JSON lines give the gateway's
# and the answerers' CPU (% of one core) and the whole machine's busy time.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $CARGO_TARGET_DIR in /*) ;; *) CARGO_TARGET_DIR=$ROOT/$CARGO_TARGET_DIR ;; esac
if [ -z "${SB_BENCH_UNSHARED:-}" ]; then
  command -v sipp > /dev/null || { echo "sipp is not installed (apt-get install sip-tester)"; exit 1; }
  cd "$ROOT"
  cargo build --release -q -p switchboard -p switchboard-loadgen --bin switchboard --bin sip_peer
  SB_BENCH_UNSHARED=1 exec unshare -n -- bash "${BASH_SOURCE[0]}" "$@"
fi
ip link set lo up
ulimit -n "$(ulimit -Hn)"

PARTS=${PARTS:-"baseline gateway long profile hold"}
SECS=${SECS:-10}                                   # seconds of calls per rate step
BASE_RATES=${BASE_RATES:-"500 1000 2000 3000 4000"}
GW_RATES=${GW_RATES:-"500 750 1000 1250 1500 2000 3000"}
UACS=${UACS:-2}                                    # sipp UAC processes per step
PEERS=${PEERS:-4}                                  # sip_peer answerers (one WebSocket each)
REPEAT=${REPEAT:-1}                                # runs of each rate step
PERF_RATES=${PERF_RATES:-"500 2000"}               # gateway steps run again under perf (if installed)
LONG_RATES=${LONG_RATES:-"250 500"}               # gateway steps run for LONG_SECS (past the 32 s timers)
LONG_SECS=${LONG_SECS:-60}
HOLD_CALLS=${HOLD_CALLS:-10000}                    # (c): calls held at once
HOLD_RATE=${HOLD_RATE:-500}                        # (c): calls set up per second
# HEAPTRACK=1: run the gateway of (c) under heaptrack (slower: RSS then includes heaptrack's own);
# its peak allocation sites go to $OUT/hold.heaptrack.txt
BIN=$CARGO_TARGET_DIR/release
SF_UAC=$HERE/uac_call.xml
SF_UAS=$HERE/uas_answer.xml
OUT=${OUT:-$(mktemp -d /tmp/sb-sip-bench.XXXXXX)}
mkdir -p "$OUT"
echo "# logs and statistics in $OUT" >&2
GW=""; UAS=""; PEER_PIDS=()
cleanup() {
  kill "${PEER_PIDS[@]}" $GW $UAS 2> /dev/null || true
  wait 2> /dev/null || true
}
trap cleanup EXIT

# The answerers' names, one per line, for sipp's -inf (SEQUENTIAL: call i goes to name i mod PEERS).
{ echo SEQUENTIAL; for i in $(seq "$PEERS"); do echo "bench$i"; done; } > "$OUT/names.csv"

ticks() { # PID: user+system CPU time in clock ticks (0 once the process is gone)
  local s; s=$(cat "/proc/$1/stat" 2> /dev/null) || { echo 0; return; }
  s=${s##*) }; set -- $s; echo $(( ${12} + ${13} ))
}
idle() { # ticks the cores spent idle, all cores together (the busy counters of /proc/stat lag here)
  local _cpu u n s i w; read -r _cpu u n s i w _ < /proc/stat; echo $(( i + w ))
}
NCPU=$(nproc)
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; } # PID FIELD (VmRSS, VmHWM)
udp_drops() { awk '/^Udp:/ { n++; if (n == 2) print $6 }' /proc/net/snmp; } # RcvbufErrors
gw_udp_drops() { awk '$2 == "0100007F:13C4" { print $NF }' /proc/net/udp; } # drops at the gateway's socket
loadavg() { cut -d' ' -f1 /proc/loadavg; }
HZ=$(getconf CLK_TCK)

start_gateway() { # LABEL [heaptrack]
  local wrap=()
  [ "${2:-}" = heaptrack ] && wrap=(heaptrack -o "$OUT/$1.heaptrack")
  "${wrap[@]}" "$BIN/switchboard" serve --http 127.0.0.1:8080 --sip 127.0.0.1:5060 --stun off --media-anchor never \
    --rate-per-second 1000000 --rate-burst 1000000 > "$OUT/$1.gw.out" 2> "$OUT/$1.gw.log" &
  GW=$!
  if [ ${#wrap[@]} -gt 0 ]; then # the gateway is heaptrack's child
    HEAPTRACK_PID=$GW
    for _ in $(seq 100); do GW=$(pgrep -P "$HEAPTRACK_PID" -x switchboard) && break; sleep 0.1; done
  fi
  for _ in $(seq 100); do grep -q "SIP listening" "$OUT/$1.gw.log" 2> /dev/null && break; sleep 0.1; done
  PEER_PIDS=()
  for i in $(seq "$PEERS"); do
    "$BIN/sip_peer" answer --url ws://127.0.0.1:8080/ws --name "bench$i" \
      > "$OUT/$1.peer$i.out" 2> "$OUT/$1.peer$i.err" &
    PEER_PIDS+=($!)
  done
  for i in $(seq "$PEERS"); do
    for _ in $(seq 100); do grep -q ready "$OUT/$1.peer$i.out" 2> /dev/null && break; sleep 0.1; done
  done
  sleep 0.5
}
stop_gateway() {
  kill -TERM "${PEER_PIDS[@]}" 2> /dev/null || true
  for p in "${PEER_PIDS[@]}"; do wait "$p" 2> /dev/null || true; done
  PEER_PIDS=()
  kill "$GW" 2> /dev/null || true; wait "$GW" 2> /dev/null || true; GW=""
  if [ -n "${HEAPTRACK_PID:-}" ]; then wait "$HEAPTRACK_PID" 2> /dev/null || true; HEAPTRACK_PID=""; fi
}
start_uas() { # LABEL
  sipp -sf "$SF_UAS" -i 127.0.0.1 -p 5070 -t u1 -buff_size 4194304 -nostdin \
    -trace_stat -stf "$OUT/$1.uas.csv" -fd 1 > "$OUT/$1.uas.out" 2>&1 &
  UAS=$!
  sleep 0.5
}
stop_uas() { kill "$UAS" 2> /dev/null || true; wait "$UAS" 2> /dev/null || true; UAS=""; }

# Runs UACS sipp UACs against TARGET, RATE calls/s in all, CALLS calls in all, each held HOLD_MS,
# and waits for them. Files: $OUT/LABEL.uacN.{csv,out,err}. Sets UAC_PIDS while they run.
run_uacs() { # LABEL TARGET RATE CALLS HOLD_MS
  local label=$1 target=$2 rate=$3 calls=$4 hold=$5 i r m limit
  UAC_PIDS=()
  limit=$(( 60 + calls / rate + hold / 1000 + 30 ))
  for i in $(seq "$UACS"); do
    r=$(( rate / UACS + (i <= rate % UACS ? 1 : 0) ))
    m=$(( calls / UACS + (i <= calls % UACS ? 1 : 0) ))
    timeout -s INT "$limit" sipp "$target" -sf "$SF_UAC" -inf "$OUT/names.csv" -i 127.0.0.1 -p $((5100 + i)) \
      -t u1 -r "$r" -m "$m" -d "$hold" -l 100000 -buff_size 4194304 -nostdin -recv_timeout 10s \
      -trace_stat -stf "$OUT/$label.uac$i.csv" -fd 1 -trace_err -error_file "$OUT/$label.uac$i.err" \
      > "$OUT/$label.uac$i.out" 2>&1 &
    UAC_PIDS+=($!)
  done
}
wait_uacs() { local p; for p in "${UAC_PIDS[@]}"; do wait "$p" || true; done; }

# JSON summary of the UACs' statistics files of LABEL (sipp's last cumulative line of each).
uac_summary() { # LABEL
  python3 - "$OUT/$1".uac*.csv << 'EOF'
import csv, json, sys
tot = dict(created=0, successful=0, failed=0, retransmissions=0)
starts, ends, rt = [], [], []
for f in sys.argv[1:]:
    rows = list(csv.reader(open(f), delimiter=';'))
    if len(rows) < 2:
        continue
    h, last = rows[0], rows[-1]
    col = lambda k: last[h.index(k)]
    tot['created'] += int(col('TotalCallCreated'))
    tot['successful'] += int(col('SuccessfulCall(C)'))
    tot['failed'] += int(col('FailedCall(C)'))
    tot['retransmissions'] += int(col('Retransmissions(C)'))
    starts.append(float(col('StartTime').split('\t')[-1]))
    ends.append(float(col('CurrentTime').split('\t')[-1]))
    hh, mm, ss, us = col('ResponseTime1(C)').split(':')
    rt.append((int(hh) * 3600 + int(mm) * 60 + int(ss)) * 1000 + int(us) / 1000)
elapsed = max(ends) - min(starts) if starts else 0
tot['unfinished'] = tot['created'] - tot['successful'] - tot['failed']
tot['elapsed_s'] = round(elapsed, 2)
tot['calls_per_s'] = round(tot['successful'] / elapsed, 1) if elapsed else 0
tot['setup_ms_avg'] = round(sum(rt) / len(rt), 1) if rt else None
print(json.dumps(tot)[1:-1])
EOF
}

baseline_step() { # RATE RUN
  local rate=$1 run=$2 label="base-$1-r$2" b0 d0 u0 s0 s1 cs la
  start_uas "$label"
  la=$(loadavg); b0=$(idle); d0=$(udp_drops); u0=$(ticks "$UAS"); s0=$(date +%s%N)
  run_uacs "$label" 127.0.0.1:5070 "$rate" $(( rate * SECS )) 0
  wait_uacs
  s1=$(date +%s%N); cs=$(( (s1 - s0) / 10000000 ))
  local uas_cpu=$(( ($(ticks "$UAS") - u0) * 100 * 100 / HZ / cs ))
  local machine=$(( NCPU * 100 - ($(idle) - b0) * 100 * 100 / HZ / cs ))
  echo "{\"part\":\"baseline\",\"offered_cps\":$rate,\"run\":$run,$(uac_summary "$label"),\"uas_cpu_pct\":$uas_cpu,\"machine_cpu_pct\":$machine,\"udp_rcvbuf_drops\":$(( $(udp_drops) - d0 )),\"loadavg_before\":$la}"
  stop_uas
}

gateway_step() { # PART RATE RUN SECONDS: PART gateway (measured), gateway-long, or profile (under perf)
  local part=$1 rate=$2 run=$3 secs=$4 label="$1-$2-r$3" b0 d0 g0 p0 s0 s1 cs la rss0 perf_pid="" p
  start_gateway "$label"
  rss0=$(status_kb "$GW" VmRSS)
  la=$(loadavg); b0=$(idle); d0=$(udp_drops); g0=$(ticks "$GW"); s0=$(date +%s%N)
  p0=0; for p in "${PEER_PIDS[@]}"; do p0=$(( p0 + $(ticks "$p") )); done
  run_uacs "$label" 127.0.0.1:5060 "$rate" $(( rate * secs )) 0
  if [ "$part" = profile ]; then
    sleep 2
    perf record -q -F 499 --call-graph dwarf,16384 -p "$GW" -o "$OUT/$label.perf.data" -- sleep $(( secs > 5 ? secs - 4 : 1 )) \
      > "$OUT/$label.perf.log" 2>&1 &
    perf_pid=$!
  fi
  wait_uacs
  s1=$(date +%s%N); cs=$(( (s1 - s0) / 10000000 ))
  local gw_cpu=$(( ($(ticks "$GW") - g0) * 100 * 100 / HZ / cs ))
  local p1=0; for p in "${PEER_PIDS[@]}"; do p1=$(( p1 + $(ticks "$p") )); done
  local peers_cpu=$(( (p1 - p0) * 100 * 100 / HZ / cs ))
  local machine=$(( NCPU * 100 - ($(idle) - b0) * 100 * 100 / HZ / cs ))
  local hwm; hwm=$(status_kb "$GW" VmHWM)
  local gw_drops; gw_drops=$(gw_udp_drops)
  local calls_left; calls_left=$(curl -s http://127.0.0.1:8080/metrics | awk '$1 == "switchboard_sip_calls" || $1 == "sip_calls" { print $2 }')
  [ -n "$perf_pid" ] && wait "$perf_pid" || true
  stop_gateway
  local answered=0 errs=0 f n
  for f in "$OUT/$label".peer*.out; do
    n=$(sed -n 's/.*answered=\([0-9]*\).*/\1/p' "$f" | tail -n 1); answered=$(( answered + ${n:-0} ))
    n=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$f" | tail -n 1); errs=$(( errs + ${n:-0} ))
  done
  echo "{\"part\":\"$part\",\"offered_cps\":$rate,\"run\":$run,\"secs\":$secs,$(uac_summary "$label"),\"gateway_cpu_pct\":$gw_cpu,\"answerers_cpu_pct\":$peers_cpu,\"machine_cpu_pct\":$machine,\"gateway_rss_idle_kb\":$rss0,\"gateway_hwm_kb\":$hwm,\"gateway_calls_at_end\":${calls_left:-null},\"answered\":$answered,\"answerer_errors\":$errs,\"udp_rcvbuf_drops\":$(( $(udp_drops) - d0 )),\"gateway_socket_drops\":${gw_drops:-null},\"loadavg_before\":$la}"
  if [ -f "$OUT/$label.perf.data" ]; then
    # Self time by symbol, and time including callees for the named (non-generic) functions.
    perf report -i "$OUT/$label.perf.data" --no-children --stdio --percent-limit 0.5 -g none --sort dso,symbol \
      2> /dev/null | grep -v '^#' | sed 's/  */ /g; s/ - - *$//' | grep . > "$OUT/$label.perf.self.txt" || true
    perf report -i "$OUT/$label.perf.data" --children --stdio --percent-limit 1 -g none --sort symbol 2> /dev/null \
      | grep -v '^#' | grep -v '(inlined)' | sed 's/  */ /g; s/ - - *$//' \
      | awk '{ sym = ""; for (i = 4; i <= NF; i++) sym = sym " " $i; if (sym !~ /[<{]/) print $1, $2, sym }' \
      | grep -v -E 'tokio::runtime|std::|core::ops|clone3|start_thread' > "$OUT/$label.perf.children.txt" || true
    echo "# perf profile of the gateway at $rate calls/s: $OUT/$label.perf.{self,children}.txt" >&2
  fi
}

metric() { curl -s http://127.0.0.1:8080/metrics | awk -v k="$1" '$1 ~ k"$" { print $2 }'; }

hold_test() {
  local label=hold calls=$HOLD_CALLS rate=$HOLD_RATE ramp hold_ms t0 idle peak steady hwm n_peak n_steady
  ramp=$(( (calls + rate - 1) / rate ))
  # Held until 40 s after the last call is set up: the INVITE transactions (kept 64*T1 = 32 s
  # after the 2xx, RFC 6026) are gone by then, so the dialogs alone can be measured too.
  hold_ms=$(( (ramp + 40) * 1000 ))
  start_gateway "$label" "$([ "${HEAPTRACK:-0}" = 1 ] && command -v heaptrack > /dev/null && echo heaptrack)"
  idle=$(status_kb "$GW" VmRSS)
  : > "$OUT/$label.samples"
  ( while kill -0 "$GW" 2> /dev/null; do
      echo "$(date +%s.%N) $(status_kb "$GW" VmRSS) $(metric sip_calls)" >> "$OUT/$label.samples"; sleep 1
    done ) &
  local sampler=$!
  t0=$(date +%s)
  run_uacs "$label" 127.0.0.1:5060 "$rate" "$calls" "$hold_ms"
  sleep $(( ramp + 2 ))
  peak=$(status_kb "$GW" VmRSS); n_peak=$(metric sip_calls)
  sleep 35
  steady=$(status_kb "$GW" VmRSS); n_steady=$(metric sip_calls)
  wait_uacs
  sleep 1
  local after; after=$(status_kb "$GW" VmRSS); local n_after; n_after=$(metric sip_calls)
  hwm=$(status_kb "$GW" VmHWM)
  kill "$sampler" 2> /dev/null || true; wait "$sampler" 2> /dev/null || true
  stop_gateway
  local ht; ht=$(ls "$OUT"/hold.heaptrack*.zst "$OUT"/hold.heaptrack*.gz 2> /dev/null | head -n 1) || true
  if [ -n "$ht" ]; then
    heaptrack_print -f "$ht" --print-peaks 1 --peak-limit 25 --print-allocators 0 --print-temporary 0 --print-leaks 0 \
      > "$OUT/hold.heaptrack.full.txt" 2>&1 || true
    # One line per peak allocation site: size, count, the allocating frame, then our frames above it.
    python3 - "$ROOT" "$OUT/hold.heaptrack.full.txt" > "$OUT/hold.heaptrack.txt" << 'EOF'
import os, re, sys
root, path = sys.argv[1], sys.argv[2]
lines = open(path, errors='replace').read().split('\n')
out, i = [], 0
while i < len(lines):
    m = re.match(r'^\s*([\d.]+[KMG]?B?) consumed over (\d+) calls from:', lines[i])
    if not m:
        i += 1; continue
    size, calls = m.group(1), m.group(2)
    frames, j = [], i + 1
    while j < len(lines) and lines[j].startswith('    ') and 'consumed over' not in lines[j]:
        if not lines[j].startswith('      '):
            fn = lines[j].strip(); at = ''
            if j + 1 < len(lines) and lines[j + 1].strip().startswith('at '):
                at = lines[j + 1].strip()[3:]
            frames.append((fn, at))
        j += 1
    ours = [f"{fn} ({at})" for fn, at in frames if at and not at.startswith('/') and os.path.exists(os.path.join(root, at.rsplit(':', 1)[0]))]
    first = frames[0][0] + (f" ({frames[0][1].split('/')[-1]})" if frames and frames[0][1] else '') if frames else ''
    out.append(f"{size:>8} in {calls:>6} allocations: {first} <- " + ' <- '.join(ours[:4]))
    i = j
print('\n'.join(out))
EOF
    grep -E '^(peak heap|peak RSS|calls to allocation)' "$OUT/hold.heaptrack.full.txt" >> "$OUT/hold.heaptrack.txt" || true
    echo "# heaptrack of the hold test: $OUT/hold.heaptrack.txt" >&2
  fi
  echo "{\"part\":\"hold\",\"calls\":$calls,\"setup_cps\":$rate,$(uac_summary "$label"),\"rss_idle_kb\":$idle,\"rss_all_up_kb\":$peak,\"calls_all_up\":${n_peak:-null},\"rss_per_call_all_up_b\":$(( (peak - idle) * 1024 / ${n_peak:-$calls} )),\"rss_35s_later_kb\":$steady,\"calls_35s_later\":${n_steady:-null},\"rss_per_call_35s_later_b\":$(( (steady - idle) * 1024 / (${n_steady:-$calls} > 0 ? ${n_steady:-$calls} : 1) )),\"hwm_kb\":$hwm,\"hwm_per_call_b\":$(( (hwm - idle) * 1024 / calls )),\"rss_after_bye_kb\":$after,\"calls_after_bye\":${n_after:-null},\"loadavg\":$(loadavg)}"
}

{
  echo "{\"machine\":\"$NCPU cores\",\"sipp\":\"$(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -n 1)\",\"secs\":$SECS,\"uacs\":$UACS,\"peers\":$PEERS,\"date\":\"$(date -u +%FT%TZ)\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
  for part in $PARTS; do
    case $part in
      baseline) for run in $(seq "$REPEAT"); do for r in $BASE_RATES; do baseline_step "$r" "$run"; sleep 1; done; done ;;
      gateway) for run in $(seq "$REPEAT"); do for r in $GW_RATES; do gateway_step gateway "$r" "$run" "$SECS"; sleep 1; done; done ;;
      long) for r in $LONG_RATES; do gateway_step gateway-long "$r" 1 "$LONG_SECS"; sleep 1; done ;;
      profile) command -v perf > /dev/null && for r in $PERF_RATES; do gateway_step profile "$r" 1 "$SECS"; sleep 1; done ;;
      hold) hold_test ;;
    esac
  done
} | tee "$OUT/results.jsonl"

# Summary: per part and offered rate, the median over the runs; "sustained" = 0 failed calls, none
# left unfinished, and at least 95 % of the offered rate achieved.
python3 - "$OUT/results.jsonl" << 'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
med = lambda xs: statistics.median(xs) if xs else None
for part, cpu in (('baseline', 'uas_cpu_pct'), ('gateway', 'gateway_cpu_pct'), ('gateway-long', 'gateway_cpu_pct')):
    steps = [r for r in rows if r.get('part') == part]
    if not steps:
        continue
    print(f"\n{part}: offered cps | runs | achieved cps (median) | failed (per run) | retransmissions (median) | setup ms avg (median) | {cpu} (median) | sustained in every run")
    best = None
    for rate in sorted({r['offered_cps'] for r in steps}):
        rs = [r for r in steps if r['offered_cps'] == rate]
        ok = all(r['failed'] == 0 and r['unfinished'] == 0 and r['calls_per_s'] >= 0.95 * rate for r in rs)
        if ok and (best is None or rate > best):
            best = rate
        print(f"  {rate} | {len(rs)} | {med([r['calls_per_s'] for r in rs])} | {[r['failed'] + r['unfinished'] for r in rs]} | "
              f"{med([r['retransmissions'] for r in rs])} | {med([r['setup_ms_avg'] for r in rs])} | {med([r[cpu] for r in rs])} | {'yes' if ok else 'no'}")
    print(f"  highest rate sustained: {best} calls/s")
for r in rows:
    if r.get('part') == 'hold':
        print(f"\nhold: {r['calls']} calls held; gateway RSS {r['rss_idle_kb']} KiB idle, {r['rss_all_up_kb']} KiB with all up "
              f"({r['rss_per_call_all_up_b']} B per call), {r['rss_35s_later_kb']} KiB 35 s later ({r['rss_per_call_35s_later_b']} B per call); "
              f"failed {r['failed'] + r['unfinished']}")
EOF
