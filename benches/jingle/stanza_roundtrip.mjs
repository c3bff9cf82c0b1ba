// SDP <-> Jingle round trips per second with stanza.js (npm `stanza`), the node side of the Jingle
// translation benchmark.
//
//   node benches/jingle/stanza_roundtrip.mjs [SDP_FILE] [--runs N] [--seconds S]
//
// One round trip, all of it stanza's own code (what a stanza.js client runs to send and receive a
// session-initiate):
//   SDP text -> importFromSDP + convertIntermediateToRequest (stanza/jingle/sdp)  -> Jingle JSON
//   -> registry.export('iq', ...).toString() (JXT registry with stanza's protocol) -> XML string
//   -> JXT.parse + registry.import (stanza's XML parser)                         -> Jingle JSON
//   -> convertRequestToIntermediate + exportToSDP                                 -> SDP text
// Default input: fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp (5,737 bytes, 171 lines).
// Timing: 1 s warm-up, then N runs (default 7) of about S seconds (default 2); the median rate is
// reported. Losses: the SDP that comes back is compared line by line with the input:
//   lines_lost        input lines that are not in the output at all (as a multiset; a changed line counts)
//   lines_added       output lines that were not in the input
//   lines_not_in_order input lines outside the longest common subsequence (what `diff` shows: lost,
//                     changed or moved)
// Last line, machine-readable:
//   stanza_roundtrips_per_sec=NNN lines_lost=N lines_added=N lines_not_in_order=N sdp_lines=N sdp_bytes=N
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '../..');
const require = createRequire(path.join(root, 'tests/peers/package.json'));
const stanza = require('stanza');
const { importFromSDP, exportToSDP } = require('stanza/jingle/sdp/Intermediate');
const { convertIntermediateToRequest, convertRequestToIntermediate } = require('stanza/jingle/sdp/Protocol');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return Number(v);
};
const RUNS = opt('--runs', 7);
const SECONDS = opt('--seconds', 2);
const file = args[0] ?? path.join(root, 'fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp');
const sdp = fs.readFileSync(file, 'utf8');

const registry = new stanza.JXT.Registry();
registry.define(stanza.Stanzas.default);
const ICE_UDP = 'urn:xmpp:jingle:transports:ice-udp:1';

/** One round trip; returns the SDP that comes back. */
function roundTrip(text) {
  const jingle = convertIntermediateToRequest(importFromSDP(text), 'initiator', ICE_UDP);
  jingle.sid = 'bench';
  jingle.action = 'session-initiate';
  const xml = registry.export('iq', { type: 'set', id: 'b1', to: 'web@gateway.localhost/switchboard', jingle }).toString();
  const iq = registry.import(stanza.JXT.parse(xml));
  // The receiver converts with its peer's role, as MediaSession.onSessionInitiate does.
  return exportToSDP(convertRequestToIntermediate(iq.jingle, 'initiator'));
}

function lineDiff(a, b) {
  const split = (s) => s.split(/\r?\n/).filter((l) => l !== '');
  const x = split(a), y = split(b);
  const count = new Map();
  for (const l of y) count.set(l, (count.get(l) || 0) + 1);
  const lost = [];
  for (const l of x) {
    const n = count.get(l) || 0;
    if (n > 0) count.set(l, n - 1); else lost.push(l);
  }
  const added = [...count].flatMap(([l, n]) => Array(n).fill(l));
  let prev = new Array(y.length + 1).fill(0);
  for (let i = 1; i <= x.length; i++) {
    const cur = new Array(y.length + 1).fill(0);
    for (let j = 1; j <= y.length; j++) cur[j] = x[i - 1] === y[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    prev = cur;
  }
  return { lost, added, lines: x.length, notInOrder: x.length - prev[y.length] };
}

/** Round trips per second over about `seconds` (checks the clock every 16 round trips). */
function measure(seconds) {
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let n = 0, now = start, sink = 0;
  do {
    for (let i = 0; i < 16; i++) sink += roundTrip(sdp).length;
    n += 16;
    now = process.hrtime.bigint();
  } while (now < end);
  if (sink === 0) throw new Error('empty output');
  return n / (Number(now - start) / 1e9);
}

const back = roundTrip(sdp);
const d = lineDiff(sdp, back);
measure(1); // warm-up: JIT
const rates = [];
for (let r = 0; r < RUNS; r++) {
  const rate = measure(SECONDS);
  rates.push(rate);
  console.log(`run ${r + 1}/${RUNS}: ${rate.toFixed(1)} round trips/s (${(1e6 / rate).toFixed(0)} us each)`);
}
const sorted = [...rates].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
console.log(`stanza ${require('stanza/package.json').version}, node ${process.version}, input ${path.relative(root, file)} `
  + `(${Buffer.byteLength(sdp)} bytes, ${d.lines} lines), XML ${roundTripXmlBytes()} bytes`);
console.log(`median ${median.toFixed(1)} round trips/s (min ${sorted[0].toFixed(1)}, max ${sorted.at(-1).toFixed(1)})`);
console.log(`per stage (us, mean of 200 after the runs): ${stages()}`);
console.log(`SDP back: ${d.lost.length} input lines lost or changed, ${d.added.length} new, ${d.notInOrder} not in order (diff)`);
for (const l of d.lost) console.log(`  - ${l}`);
for (const l of d.added) console.log(`  + ${l}`);
console.log(`stanza_roundtrips_per_sec=${Math.round(median)} lines_lost=${d.lost.length} lines_added=${d.added.length} `
  + `lines_not_in_order=${d.notInOrder} sdp_lines=${d.lines} sdp_bytes=${Buffer.byteLength(sdp)}`);

/** Mean time of each step of the round trip, to show where it goes. */
function stages() {
  const t = Object.create(null);
  const time = (name, f) => {
    const s0 = process.hrtime.bigint();
    const r = f();
    t[name] = (t[name] || 0) + Number(process.hrtime.bigint() - s0) / 1e3;
    return r;
  };
  const N = 200;
  for (let i = 0; i < N; i++) {
    const inter = time('importFromSDP', () => importFromSDP(sdp));
    const jingle = time('toJingle', () => convertIntermediateToRequest(inter, 'initiator', ICE_UDP));
    jingle.sid = 'bench';
    jingle.action = 'session-initiate';
    const el = time('export', () => registry.export('iq', { type: 'set', id: 'b1', to: 'web@gateway.localhost/switchboard', jingle }));
    const xml = time('toString', () => el.toString());
    const parsed = time('parse', () => stanza.JXT.parse(xml));
    const iq = time('import', () => registry.import(parsed));
    const back = time('fromJingle', () => convertRequestToIntermediate(iq.jingle, 'initiator'));
    time('exportToSDP', () => exportToSDP(back));
  }
  return Object.entries(t).map(([k, v]) => `${k} ${(v / N).toFixed(0)}`).join(', ');
}

function roundTripXmlBytes() {
  const jingle = convertIntermediateToRequest(importFromSDP(sdp), 'initiator', ICE_UDP);
  jingle.sid = 'bench';
  jingle.action = 'session-initiate';
  return Buffer.byteLength(registry.export('iq', { type: 'set', id: 'b1', to: 'web@gateway.localhost/switchboard', jingle }).toString());
}
