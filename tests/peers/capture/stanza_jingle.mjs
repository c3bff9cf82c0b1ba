// Jingle fixtures produced by stanza.js (npm `stanza`) from real Chromium SDPs in fixtures/sdp/.
//
//   node tests/peers/capture/stanza_jingle.mjs OUTDIR        (e.g. fixtures/jingle)
//   node tests/peers/capture/stanza_jingle.mjs --roundtrip   (print what SDP -> Jingle -> SDP loses, per file)
//
// No network and no browser: stanza's own Jingle session code (MediaSession from stanza/jingle, the
// code a stanza.js client runs when it calls or answers) is given an RTCPeerConnection stand-in whose
// createOffer()/createAnswer() return a captured Chromium SDP. MediaSession converts that SDP the way
// it always does (importFromSDP -> convertIntermediateToRequest -> its stream compatibility step) and
// emits the IQ it would send; that IQ is serialized by the JXT registry with stanza's protocol
// definitions (what client.stanzas.export('iq', ...) puts on the WebSocket). The `<jingle>` child of
// that IQ is written, as stanza's XMLElement.toString() gives it, plus a final LF.
// Answers (session-accept) need the offer first: the offer's IQ is serialized, parsed back with
// stanza's XML parser and registry (as a received stanza is) and processed by a SessionManager, whose
// MediaSession then accept()s with the captured answer.
// The sid is fixed (`stanza-fixture`) so the files are reproducible; everything else is stanza's.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../package.json'));
const stanza = require('stanza');
const { SessionManager } = require('stanza/jingle');
const { importFromSDP, exportToSDP } = require('stanza/jingle/sdp/Intermediate');
const { convertIntermediateToRequest, convertRequestToIntermediate } = require('stanza/jingle/sdp/Protocol');
const STANZA_VERSION = require('stanza/package.json').version;
// The SDPs to convert (SDP_DIR=... to use freshly captured ones before they are copied into fixtures/sdp).
const SDP_DIR = process.env.SDP_DIR ?? path.join(here, '../../../fixtures/sdp');

export const SID = 'stanza-fixture';
export const CALLER = 'alice@localhost/stanza';
export const CALLEE = 'web@gateway.localhost/switchboard';

/** The registry a stanza client uses for the wire (Client.js: new JXT.Registry(); define(protocol)). */
export function makeRegistry() {
  const registry = new stanza.JXT.Registry();
  registry.define(stanza.Stanzas.default);
  return registry;
}

/** An RTCPeerConnection stand-in: the SDPs it "creates" are the captured ones. */
class CannedPeerConnection {
  constructor(sdp) { this.sdp = sdp; this.signalingState = 'stable'; this.localDescription = null; this.remoteDescription = null; }
  addEventListener() {}
  removeEventListener() {}
  addTrack() {}
  getReceivers() { return []; }
  getSenders() { return []; }
  close() { this.signalingState = 'closed'; }
  async createOffer() { return { type: 'offer', sdp: this.sdp }; }
  async createAnswer() { return { type: 'answer', sdp: this.sdp }; }
  async setLocalDescription(d) { this.localDescription = d; this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable'; }
  async setRemoteDescription(d) { this.remoteDescription = d; this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable'; }
  async addIceCandidate() {}
}

/** A SessionManager whose peer connections return `sdp`; resolves the IQs it sends through `sent`. */
function manager(selfID, sdp) {
  const sent = [];
  const jingle = new SessionManager({
    selfID, iceServers: [], hasRTCPeerConnection: true,
    createPeerConnection: () => new CannedPeerConnection(sdp),
  });
  jingle.on('send', (iq) => sent.push(iq));
  return { jingle, sent };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

/** The session-initiate IQ (JSON) stanza's MediaSession sends for offer SDP `offer`. */
export async function sessionInitiate(offer, sid = SID) {
  const { jingle, sent } = manager(CALLER, offer);
  const session = jingle.createMediaSession(CALLEE, sid);
  await session.start();
  const iq = sent.find((s) => s.jingle && s.jingle.action === 'session-initiate');
  if (!iq) throw new Error('MediaSession sent no session-initiate');
  return iq;
}

/**
 * The session-accept IQ (JSON) stanza's MediaSession sends when it answers `offer` (received as the
 * XML of stanza's own session-initiate, parsed back) with answer SDP `answer`.
 */
export async function sessionAccept(offer, answer, registry) {
  const init = await sessionInitiate(offer);
  const xml = registry.export('iq', { ...init, from: CALLER, to: CALLEE }).toString();
  const received = registry.import(stanza.JXT.parse(xml));
  const { jingle, sent } = manager(CALLEE, answer);
  let incoming = null;
  jingle.on('incoming', (s) => { incoming = s; });
  jingle.process(received);
  for (let i = 0; i < 50 && !incoming; i++) await settle();
  if (!incoming) throw new Error(`no incoming session; stanza sent ${JSON.stringify(sent.map((s) => s.error || s.type))}`);
  await incoming.accept();
  const iq = sent.find((s) => s.jingle && s.jingle.action === 'session-accept');
  if (!iq) throw new Error('MediaSession sent no session-accept');
  return iq;
}

/** The transport-info IQ stanza's ICESession sends for a trickled candidate line (as onicecandidate gives it). */
export async function transportInfo(offer, candidateLine, sdpMid) {
  const { jingle, sent } = manager(CALLER, offer);
  const session = jingle.createMediaSession(CALLEE, SID);
  await session.start();
  sent.length = 0;
  session.onIceCandidate({ candidate: { candidate: candidateLine, sdpMid } });
  session.onIceEndOfCandidates();
  return sent.filter((s) => s.jingle && s.jingle.action === 'transport-info');
}

/** The `<jingle>` element of the IQ as stanza serializes it. */
export function jingleXml(registry, iq) {
  const el = registry.export('iq', iq);
  const j = el.children.find((c) => typeof c !== 'string' && c.name === 'jingle');
  if (!j) throw new Error('no <jingle> in the exported IQ');
  return j.toString();
}

/**
 * SDP -> Jingle JSON -> XML (stanza's serializer) -> parsed back (stanza's parser + registry) ->
 * JSON -> SDP, with stanza alone (jingle/sdp Intermediate + Protocol, the functions MediaSession uses).
 * `role` is the role of the side that wrote the SDP.
 */
export function roundTrip(registry, sdp, role = 'initiator', action = 'session-initiate') {
  const request = convertIntermediateToRequest(importFromSDP(sdp), role, 'urn:xmpp:jingle:transports:ice-udp:1');
  request.sid = SID;
  request.action = action;
  const xml = registry.export('iq', { type: 'set', id: '1', to: CALLEE, jingle: request }).toString();
  const back = registry.import(stanza.JXT.parse(xml));
  // The receiver converts with its peer's role (MediaSession: convertRequestToIntermediate(changes, this.peerRole)).
  return { xml, sdp: exportToSDP(convertRequestToIntermediate(back.jingle, role)) };
}

/** Lines of `a` missing from `b` (as multisets), and lines of `b` not in `a`. */
export function lineDiff(a, b) {
  const split = (s) => s.split(/\r?\n/).filter((l) => l !== '');
  const count = new Map();
  for (const l of split(b)) count.set(l, (count.get(l) || 0) + 1);
  const lost = [];
  for (const l of split(a)) {
    const n = count.get(l) || 0;
    if (n > 0) count.set(l, n - 1); else lost.push(l);
  }
  const added = [];
  for (const [l, n] of count) for (let i = 0; i < n; i++) added.push(l);
  // Longest common subsequence: what `diff` keeps; original lines outside it are lost, changed or moved.
  const x = split(a), y = split(b);
  let prev = new Array(y.length + 1).fill(0);
  for (let i = 1; i <= x.length; i++) {
    const cur = new Array(y.length + 1).fill(0);
    for (let j = 1; j <= y.length; j++) cur[j] = x[i - 1] === y[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    prev = cur;
  }
  return { lost, added, total: x.length, outputLines: y.length, notInOrder: x.length - prev[y.length] };
}

// What is made: [output name, kind, SDP file(s)].
export const FIXTURES = [
  ['session-initiate-chromium-156-audio-video-datachannel', 'initiate', 'chromium-156-offer-audio-video-datachannel.sdp'],
  ['session-accept-chromium-156-audio-video-datachannel', 'accept', 'chromium-156-offer-audio-video-datachannel.sdp', 'chromium-156-answer-audio-video-datachannel.sdp'],
  ['session-initiate-chromium-156-datachannel-only', 'initiate', 'chromium-156-offer-datachannel-only.sdp'],
  ['session-initiate-chromium-156-simulcast-rids', 'initiate', 'chromium-156-offer-simulcast-rids.sdp'],
  ['session-initiate-chromium-156-non-trickle-candidates', 'initiate', 'chromium-156-offer-non-trickle-candidates.sdp'],
  ['session-initiate-chromium-156-datachannel-mdns-candidates', 'initiate', 'chromium-156-offer-datachannel-mdns-candidates.sdp'],
  ['session-accept-chromium-156-audio-datachannel-to-aiortc-1.16.0', 'accept', 'aiortc-1.16.0-offer-audio-datachannel.sdp', 'chromium-156-answer-to-aiortc-audio-datachannel.sdp'],
  // Trickle: the first candidate line of the non-trickle offer, as onicecandidate would hand it over, then end of candidates.
  ['transport-info-chromium-156-candidate', 'trickle', 'chromium-156-offer-non-trickle-candidates.sdp'],
  ['transport-info-chromium-156-end-of-candidates', 'eoc', 'chromium-156-offer-non-trickle-candidates.sdp'],
];

const read = (f) => fs.readFileSync(path.join(SDP_DIR, f), 'utf8');

async function make(registry, [name, kind, f1, f2]) {
  if (kind === 'initiate') return jingleXml(registry, await sessionInitiate(read(f1)));
  if (kind === 'accept') return jingleXml(registry, await sessionAccept(read(f1), read(f2), registry));
  const sdp = read(f1);
  const section = sdp.split(/\r\n(?=m=)/)[1];
  const mid = section.match(/^a=mid:(.*)$/m)[1];
  const cand = section.match(/^a=(candidate:.*)$/m)[1];
  const [ti, eoc] = await transportInfo(sdp, cand, mid);
  return jingleXml(registry, kind === 'trickle' ? ti : eoc);
}

async function main() {
  const registry = makeRegistry();
  if (process.argv[2] === '--roundtrip') {
    for (const f of fs.readdirSync(SDP_DIR).filter((n) => n.startsWith('chromium-')).sort()) {
      const sdp = read(f);
      const role = /answer/.test(f) ? 'responder' : 'initiator';
      const { sdp: back } = roundTrip(registry, sdp, role, role === 'initiator' ? 'session-initiate' : 'session-accept');
      const d = lineDiff(sdp, back);
      console.log(`== ${f}: ${d.total} lines in, ${d.outputLines} out; ${d.lost.length} lost or changed, ${d.added.length} new;`
        + ` diff (LCS) keeps ${d.total - d.notInOrder}: ${d.notInOrder} input lines lost, changed or moved`);
      for (const l of d.lost) console.log(`- ${l}`);
      for (const l of d.added) console.log(`+ ${l}`);
    }
    return;
  }
  const out = process.argv[2];
  if (!out) { console.error('usage: node stanza_jingle.mjs OUTDIR | --roundtrip'); process.exit(2); }
  fs.mkdirSync(out, { recursive: true });
  let failed = 0;
  for (const fx of FIXTURES) {
    const file = path.join(out, `stanza-${STANZA_VERSION}-${fx[0]}.xml`);
    try {
      const xml = await make(registry, fx);
      // Sanity: stanza's own parser reads it back as a Jingle element.
      const back = registry.import(stanza.JXT.parse(`<iq xmlns="jabber:client" type="set" id="x">${xml}</iq>`));
      if (!back || !back.jingle || !back.jingle.action) throw new Error('stanza cannot parse its own output back');
      fs.writeFileSync(file, xml + '\n');
      console.log(`ok    ${path.basename(file)} ${xml.length} bytes, ${(back.jingle.contents || []).length} contents`);
    } catch (e) {
      failed++;
      console.log(`FAIL  ${path.basename(file)} (${e.message})`);
    }
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
