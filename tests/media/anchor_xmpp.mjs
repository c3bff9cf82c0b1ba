// Calls between stanza.js (npm `stanza`, bundled with esbuild from tests/xmpp/stanza_page.js, in
// headless Chromium, logged in to Prosody over WebSocket as alice@localhost, stanza's own Jingle) and
// baresip 1.0 with a PLAIN account (RTP/AVP, no ICE, no DTLS) registered to the gateway as carol,
// through the gateway's XMPP component (gateway.localhost) with the media anchored in a real
// rtpengine (--rtpengine). Issue #7, third acceptance point. Run by run_anchor_xmpp.sh inside its
// private network namespace; drives baresip over ctrl_tcp and asks rtpengine itself (ng.mjs) what
// it holds.
//
//   node anchor_xmpp.mjs BASE_URL XMPP_WS_URL PHONE CTRL_PORT PHONE_LOG NG_ADDR
//     env GATEWAY_SIP (the gateway's SIP address), XMPP_DOMAIN (the component), VERBOSE=1
//
// Scenarios:
//   xmpp-calls:  stanza rings PHONE@XMPP_DOMAIN with JMI (propose/proceed), then session-initiate;
//                baresip gets an RTP/AVP INVITE from rtpengine and auto-answers; stanza gets a
//                session-accept with rtpengine's candidate and fingerprint; audio both ways; stanza
//                hangs up; baresip's call closes; rtpengine empty.
//   phone-calls: baresip dials sip:alice%40localhost@GATEWAY_SIP; stanza gets a JMI propose (or a
//                direct session-initiate) with rtpengine's WebRTC description, answers; audio both
//                ways; baresip hangs up; stanza's session ends; rtpengine empty.
// Prints `PASS name` / `FAIL name (why)` per check (a failed step skips the rest of its scenario and
// prints the Jingle/JMI stanzas of that step); exits 1 on any failure.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaresipCtrl } from '../sip/baresip_ctrl.mjs';
import { anchoredCalls, listCalls } from './ng.mjs';
import { assertPlainFromRelay, baresipLog, cline, mline } from './baresip_side.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = require('../peers/node_modules/playwright-core');
const esbuild = require('../peers/node_modules/esbuild');

const [base, xmppWs, phone, ctrlPort, phoneLog, ngAddr] = process.argv.slice(2);
const gatewaySip = process.env.GATEWAY_SIP || '127.0.0.1:5082';
const domain = process.env.XMPP_DOMAIN || 'gateway.localhost';
const verbose = !!process.env.VERBOSE;
const started = Date.now();
// rtpengine offers 127.0.0.1 candidates (interface lo): Chromium must accept loopback.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failed = 0;
function report(name, ok, why) {
  if (!ok) failed++;
  const t = ((Date.now() - started) / 1000).toFixed(1);
  console.log(ok ? `PASS ${name}${why ? ` [${why}]` : ''} (t=${t}s)` : `FAIL ${name} (${String(why).replace(/\s*\n\s*/g, ' ')})`);
}

// ---- baresip's side
const { size: logSize, since: logSince, stats: phoneStats, sdp: sipSdp } = baresipLog(phoneLog);
/** A WebRTC SDP (as stanza made it from the gateway's Jingle) that describes rtpengine. */
function assertWebRtcFromRelay(sdp, what) {
  if (!sdp) throw new Error(`${what}: no SDP`);
  const m = mline(sdp);
  const problems = [];
  if (m?.[2] !== 'UDP/TLS/RTP/SAVPF') problems.push(`proto ${m?.[2]}`);
  const cand = /a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/i.exec(sdp);
  if (!cand || cand[1] !== '127.0.0.1' || !(Number(cand[2]) >= 30000 && Number(cand[2]) <= 30100)) {
    problems.push(`no rtpengine host candidate (127.0.0.1:30000-30100): ${cand?.[0]}`);
  }
  const fp = /a=fingerprint:(\S+) /.exec(sdp);
  if (!fp) problems.push('no a=fingerprint');
  if (problems.length) {
    const lines = sdp.split(/\r?\n/).filter((l) => /^(m=|c=|a=(setup|fingerprint|candidate|ice-|rtcp|crypto|mid))/.test(l));
    throw new Error(`${what} is not WebRTC from rtpengine: ${problems.join(', ')}; SDP: ${lines.join(' | ')}`);
  }
  return `${m[0].trim()}, candidate ${cand[1]}:${cand[2]}, fingerprint ${fp[1]}, ${/a=setup:\S+/.exec(sdp)?.[0]}`;
}

// ---- rtpengine (copied from anchor_calls.mjs)
async function relayBothWays() {
  let calls = [];
  for (let i = 0; i < 20; i++) {
    calls = await anchoredCalls(ngAddr);
    if (calls.length === 1 && calls[0].legs.length >= 2 && calls[0].legs.every((l) => l.packets > 0)) {
      const c = calls[0];
      return `${c.callId}: ${c.legs.map((l) => `${l.proto} port ${l.port} from ${l.endpoint} ${l.packets} pkts`).join('; ')}`;
    }
    await sleep(200);
  }
  throw new Error(`rtpengine does not show one call with packets on both legs: ${JSON.stringify(calls)}`);
}
async function relayEmpty() {
  let calls = [];
  for (let i = 0; i < 30; i++) {
    calls = await listCalls(ngAddr);
    if (calls.length === 0) return;
    await sleep(100);
  }
  throw new Error(`rtpengine still holds ${calls.length} call(s) after the hangup: ${calls.join(', ')}`);
}

// ---- the stanza.js page (tests/xmpp/stanza_page.js, as stanza_calls.mjs loads it)
const bundle = esbuild.buildSync({
  entryPoints: [path.join(here, '../xmpp/stanza_page.js')], bundle: true, format: 'iife', platform: 'browser',
  nodePaths: [path.join(here, '../peers/node_modules')], write: false, logLevel: 'silent',
}).outputFiles[0].text;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
const context = await browser.newContext();
await context.grantPermissions(['microphone']);
const a = await context.newPage();
a.on('console', (m) => verbose && console.log('A:', m.text()));
a.on('pageerror', (e) => console.log('A page error:', e.message));
await a.goto(`${base}/healthz`);
await a.addScriptTag({ content: bundle });
if (verbose) {
  await a.exposeFunction('__trace', (dir, data) => console.log(`A ${dir === 'in' ? '<-' : '->'} ${data}`));
  await a.evaluate(() => { const push = trace.push.bind(trace); trace.push = (x) => { __trace(x.dir, x.data); return push(x); }; });
}
const ctrl = await BaresipCtrl.connect(Number(ctrlPort));

/** Jingle, JMI and error stanzas stanza.js exchanged since `mark` (long ones cut). */
async function stanzasSince(mark) {
  const rows = await a.evaluate((m) => trace.slice(m.trace), mark).catch(() => []);
  const out = [];
  for (const { t, dir, data } of rows) {
    if (!/<jingle\b|jingle-message|type=["']error["']/.test(data)) continue;
    const cut = data.length > 1500 ? `${data.slice(0, 1300)} ...[${data.length} bytes]... ${data.slice(-150)}` : data;
    out.push(`    ${new Date(t).toISOString().slice(11, 23)} ${dir === 'in' ? '<-' : '->'} ${cut}`);
  }
  return out;
}
/** Steps in order, each a check; after a failure the rest are skipped and both ends drop the call. */
async function scenario(steps) {
  let broken = null;
  for (const [name, fn] of steps) {
    if (broken) { report(name, false, `skipped: ${broken} failed`); continue; }
    const m = await a.evaluate(() => mark()).catch(() => ({ ev: 0, trace: 0 }));
    try {
      report(name, true, await fn());
    } catch (e) {
      report(name, false, String(e?.message ?? e).replace(/^page\.evaluate: (Error: )?/, ''));
      broken = name;
      const lines = await stanzasSince(m);
      if (lines.length) console.log(`  stanzas during that step (stanza.js side):\n${lines.join('\n')}`);
    }
  }
  if (broken) {
    await a.evaluate(() => endAll()).catch(() => {});
    await ctrl.command('hangup').catch(() => {});
    await sleep(1000);
  }
}
const since = () => a.evaluate(() => ev.length);
/** stanza's audio counters on session `sid` now. */
const stanzaStats = (sid) => a.evaluate(async (sid) => {
  let inbound = 0, outbound = 0, transport = {};
  const pc = sessions.get(sid)?.pc;
  if (!pc) return { inbound: -1, outbound: -1, transport };
  for (const s of (await pc.getStats()).values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') inbound = s.packetsReceived;
    if (s.type === 'outbound-rtp' && s.kind === 'audio') outbound = s.packetsSent;
    if (s.type === 'transport') transport = { dtls: s.dtlsState, srtp: s.srtpCipher, ice: s.iceState };
  }
  return { inbound, outbound, transport };
}, sid);
/** Two samples 1 s apart: stanza's inbound packets grow, it sends. */
async function stanzaAudio(sid) {
  let x = await stanzaStats(sid);
  for (let i = 0; i < 40 && !(x.inbound > 0); i++) { await sleep(200); x = await stanzaStats(sid); }
  await sleep(1000);
  const y = await stanzaStats(sid);
  if (!(y.inbound > x.inbound && x.inbound > 0)) throw new Error(`stanza's inbound-rtp packetsReceived did not grow: ${x.inbound} -> ${y.inbound} (transport ${JSON.stringify(y.transport)})`);
  if (!(y.outbound > 0)) throw new Error(`stanza sent no audio (outbound packetsSent=${y.outbound})`);
  return `stanza packetsReceived ${x.inbound}->${y.inbound}, sent ${y.outbound} (${y.transport.srtp}, DTLS ${y.transport.dtls})`;
}
/** Error replies to stanza's Jingle IQs, and stanza's error replies to the gateway's, since `s0`. */
const jingleErrors = (s0) => a.evaluate((s0) => ev.slice(s0).filter((e) => (e.kind === 'iq-reply' && e.type === 'error' || e.kind === 'our-error') && !e.late)
  .map((e) => `${e.kind} ${e.action}: ${(e.data || '').slice(0, 400)}`), s0);

// ------------------------------------------------------------------------------------------------
await scenario([
  ['stanza.js logs in to Prosody over WebSocket as alice@localhost', async () => {
    const r = await a.evaluate(([u, p]) => startXmpp(u, 'alice', p), [xmppWs, 'alicepw']);
    if (r.jid !== 'alice@localhost/stanza') throw new Error(`bound ${r.jid}`);
    return `bound ${r.jid}, SASL ${r.mechanism}`;
  }],
  [`disco#info on ${phone}@${domain} (the phone registered at the gateway) answers`, async () => {
    let info = {};
    for (let i = 0; i < 50; i++) {
      info = await a.evaluate((j) => disco(j), `${phone}@${domain}`);
      if (!info.error) break;
      await sleep(100);
    }
    if (info.error) throw new Error(`disco#info ${phone}@${domain}: ${info.error}`);
    return `identities ${info.identities.map((i) => `${i.category}/${i.type}`).join(',')}, ${info.features.length} features`;
  }],
]);

// (1) XMPP -> SIP: stanza rings carol@gateway.localhost (JMI), then calls it (Jingle).
let sid = null, target = null, mark1 = 0, s1 = 0, ctrl1 = 0;
await scenario([
  [`XMPP->SIP: JMI propose to ${phone}@${domain} is answered with proceed`, async () => {
    const s0 = await since();
    const id = `anchor-${Date.now()}`;
    await a.evaluate(([to, id]) => jmi(to, { type: 'propose', id, media: ['audio'] }, { processingHints: { store: true } }), [`${phone}@${domain}`, id]);
    const p = await a.evaluate(([s0, id]) => waitEvent(s0, (e) => e.kind === 'jmi' && e.id === id && ['proceed', 'reject'].includes(e.type),
      8000, 'no JMI proceed'), [s0, id]);
    if (p.type !== 'proceed') throw new Error(`got ${p.type} (${p.reason}) from ${p.from}`);
    if (!String(p.from).startsWith(`${phone}@${domain}/`)) throw new Error(`proceed from ${p.from}, want a full JID of ${phone}@${domain}`);
    sid = id; target = p.from;
    return `proceed from ${p.from}`;
  }],
  ["XMPP->SIP: session-initiate (sid = propose id) -> baresip gets a plain RTP/AVP INVITE from rtpengine and answers; stanza gets session-accept with rtpengine's candidate and fingerprint", async () => {
    mark1 = logSize(); ctrl1 = ctrl.events.length; s1 = await since();
    await a.evaluate(([to, sid]) => callOut(to, { sid }), [target, sid]);
    const ack = await a.evaluate(([s0, sid]) => waitEvent(s0, (e) => e.kind === 'iq-reply' && e.action === 'session-initiate' && e.sid === sid, 8000, 'no reply to our session-initiate'), [s1, sid]);
    if (ack.type === 'error') throw new Error(`session-initiate answered with an error: ${ack.data}`);
    // baresip answers, unless the gateway ends the session first (then say how).
    await Promise.race([
      ctrl.waitEvent('CALL_ESTABLISHED', 10000, ctrl1),
      a.evaluate(([s0, sid]) => waitEvent(s0, (e) => e.kind === 'terminated' && e.sid === sid, 10000, 'x'), [s1, sid])
        .then((t) => { throw new Error(`stanza's session terminated (<${t.reason}/> ${t.text || ''}) before baresip answered; baresip ${/^INVITE sip:/m.test(logSince(mark1)) ? 'got an INVITE' : 'got no INVITE'}`); }, () => new Promise(() => {})),
    ]);
    const accepted = await a.evaluate(([s0, sid]) => waitEvent(s0, (e) => (e.kind === 'accepted' || e.kind === 'terminated') && e.sid === sid, 10000, 'no session-accept on stanza'), [s1, sid]);
    if (accepted.kind !== 'accepted') throw new Error(`session terminated (${accepted.reason} ${accepted.text || ''}) instead of accepted`);
    const invite = assertPlainFromRelay(sipSdp(mark1, /^INVITE sip:/), 'the INVITE baresip received');
    const remote = await a.evaluate((sid) => sessions.get(sid).pc.remoteDescription?.sdp, sid);
    const toStanza = assertWebRtcFromRelay(remote, 'the session-accept stanza got (as SDP)');
    await a.evaluate(([s0, sid]) => waitEvent(s0, (e) => e.kind === 'connection' && e.sid === sid && e.state === 'connected', 10000,
      'stanza session not connected'), [s1, sid]);
    return `INVITE to baresip: ${invite}; session-accept to stanza: ${toStanza}; connected`;
  }],
  ['XMPP->SIP: audio both ways (stanza getStats, rtpengine query on both legs)', async () => {
    const st = await stanzaAudio(sid);
    const relay = await relayBothWays();
    return `${st}; rtpengine: ${relay}`;
  }],
  ["XMPP->SIP: stanza hangs up (session-terminate) -> baresip's call closes (rx/tx > 0), rtpengine list empty", async () => {
    const t0 = Date.now();
    await a.evaluate((sid) => hangup(sid), sid);
    const closed = await ctrl.waitEvent('CALL_CLOSED', 5000, ctrl1);
    const ms = Date.now() - t0;
    const b = await phoneStats(mark1);
    if (!(b.rx > 0 && b.tx > 0)) throw new Error(`baresip RTP rx=${b.rx} tx=${b.tx}`);
    await relayEmpty();
    const bye = /^BYE sip:/m.test(logSince(mark1));
    const errs = await jingleErrors(s1);
    if (errs.length) throw new Error(`Jingle IQ errors during the call: ${errs.join(' || ')}`);
    return `baresip CALL_CLOSED "${closed.param}" after ${ms} ms${bye ? ' (BYE received)' : ''}; baresip rx=${b.rx} tx=${b.tx}; rtpengine list empty; no Jingle IQ errors`;
  }],
]);

// (2) SIP -> XMPP: baresip dials alice%40localhost at the gateway.
let mark2 = 0, ctrl2 = 0, s2 = 0, propose = null, incoming = null;
await scenario([
  [`SIP->XMPP: baresip dials sip:alice%40localhost@${gatewaySip} -> stanza is rung (JMI propose or session-initiate)`, async () => {
    mark2 = logSize(); ctrl2 = ctrl.events.length; s2 = await since();
    await ctrl.command('dial', `sip:alice%40localhost@${gatewaySip}`);
    const e = await Promise.race([
      a.evaluate((s0) => waitEvent(s0, (e) => (e.kind === 'jmi' && e.type === 'propose') || e.kind === 'incoming', 10000,
        'neither a JMI propose nor a session-initiate on stanza'), s2),
      ctrl.waitEvent('CALL_CLOSED', 10000, ctrl2).then((c) => {
        const final = /^SIP\/2\.0 ([3-6]\d\d .*)$/m.exec(logSince(mark2))?.[1]?.trim();
        throw new Error(`baresip's call closed ("${c.param}", final response ${final || 'none'}) and stanza was not rung`);
      }, () => new Promise(() => {})),
    ]);
    if (e.kind === 'jmi') {
      propose = e;
      if (!e.media?.includes('audio')) throw new Error(`propose media ${JSON.stringify(e.media)}`);
      return `JMI propose id=${e.id} from ${e.from} to ${e.to} media=${e.media}`;
    }
    incoming = e;
    return `direct session-initiate sid=${e.sid} from ${e.from}`;
  }],
  ["SIP->XMPP: stanza answers (JMI ringing, proceed; session-initiate with rtpengine's WebRTC description; session-accept) -> baresip gets a plain 200 OK from rtpengine", async () => {
    if (propose) {
      await a.evaluate((p) => jmi(p.from, { type: 'ringing', id: p.id }), propose);
      await a.evaluate((p) => jmi(p.from, { type: 'proceed', id: p.id }), propose);
      incoming = await a.evaluate((s0) => waitEvent(s0, (e) => e.kind === 'incoming', 10000, 'no session-initiate after JMI proceed'), s2);
      if (incoming.sid !== propose.id) throw new Error(`session-initiate sid ${incoming.sid}, propose id ${propose.id}`);
      if (incoming.from !== propose.from) throw new Error(`session-initiate from ${incoming.from}, propose from ${propose.from}`);
    }
    sid = incoming.sid;
    const offer = assertWebRtcFromRelay(incoming.remoteSdp || await a.evaluate((sid) => sessions.get(sid).pc.remoteDescription?.sdp, sid),
      'the session-initiate stanza got (as SDP)');
    await a.evaluate((sid) => answer(sid), sid);
    await ctrl.waitEvent('CALL_ESTABLISHED', 10000, ctrl2);
    const ok200 = assertPlainFromRelay(sipSdp(mark2, /^SIP\/2\.0 200 /), 'the 200 OK baresip received');
    await a.evaluate(([s0, sid]) => waitEvent(s0, (e) => e.kind === 'connection' && e.sid === sid && e.state === 'connected', 10000,
      'stanza session not connected'), [s2, sid]);
    return `session-initiate sid=${sid} from ${incoming.from}: ${offer}; 200 OK to baresip: ${ok200}; connected`;
  }],
  ['SIP->XMPP: audio both ways (stanza getStats, rtpengine query on both legs)', async () => {
    const st = await stanzaAudio(sid);
    const relay = await relayBothWays();
    return `${st}; rtpengine: ${relay}`;
  }],
  ["SIP->XMPP: baresip hangs up -> stanza's session ends (session-terminate), baresip rx/tx > 0, rtpengine list empty", async () => {
    const t0 = await since();
    await ctrl.command('hangup');
    const t = await a.evaluate(([s0, sid]) => waitEvent(s0, (e) => e.kind === 'terminated' && e.sid === sid, 5000, 'stanza session not terminated'), [t0, sid]);
    await ctrl.waitEvent('CALL_CLOSED', 5000, ctrl2);
    const b = await phoneStats(mark2);
    if (!(b.rx > 0 && b.tx > 0)) throw new Error(`baresip RTP rx=${b.rx} tx=${b.tx}`);
    await relayEmpty();
    if (t.reason !== 'success') throw new Error(`stanza terminated with ${t.reason}, want success`);
    const errs = await jingleErrors(s2);
    if (errs.length) throw new Error(`Jingle IQ errors during the call: ${errs.join(' || ')}`);
    return `stanza terminated: ${t.reason}; baresip rx=${b.rx} tx=${b.tx}; rtpengine list empty; no Jingle IQ errors`;
  }],
]);

await a.evaluate(() => client.disconnect()).catch(() => {});
ctrl.close();
await browser.close();
process.exit(failed ? 1 : 0);
