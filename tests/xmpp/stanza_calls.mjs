// Calls between stanza.js (npm `stanza`, bundled with esbuild, in headless Chromium, logged in to
// Prosody over WebSocket as alice@localhost, using stanza's own Jingle: client.jingle / MediaSession)
// and a Chromium page using /switchboard.js registered as `web`, through the gateway's XMPP component
// (gateway.localhost, protocols/jingle/GATEWAY.md), both ways, with fake-device audio: packets
// counted on both RTCPeerConnections, hangup from either side, JMI ringing/reject/retract, and data
// channels. Run inside a private network namespace by run_stanza_calls.sh.
//
//   node stanza_calls.mjs BASE_URL [XMPP_WS_URL]     (VERBOSE=1: page consoles and every stanza)
//
// What stanza 12.22.1 supports, and how this test copes:
// - Jingle Message Initiation (XEP-0353): not at all (no element definitions; the one namespace
//   constant it has, `urn:xmpp:jingle:jingle-message:0`, is an outdated one). stanza_page.js defines
//   the XEP-0353 elements in stanza's JXT registry and sends/answers propose, ringing, proceed,
//   reject itself; the Jingle session that follows is stanza's.
// - XEP-0343 data channels: partly. MediaSession has no data channel API, but stanza's SDP<->Jingle
//   conversion carries an `m=application` section as a content with no <description> and an
//   <sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1'> in the ICE-UDP transport (XEP-0343 up
//   to 0.3), and reads it back. So the page opens the channel on stanza's RTCPeerConnection
//   (session.pc.createDataChannel) before start(). stanza knows nothing of
//   `urn:xmpp:jingle:transports:webrtc-datachannel:1` (<sctp-port>, XEP-0343 0.3.1). An incoming
//   session-initiate whose contents have no rtp <description> gets a generic stanza Session, not a
//   MediaSession, so data-channel-only calls cannot work with stanza; the test uses audio + data.
// - Trickle ICE: yes (transport-info per candidate, and end of candidates as <gathering-complete/>).
//
// Prints `PASS name` / `FAIL name (why)` per check and `N passed, M failed`; exits 1 on failure. A
// failed check is followed by the Jingle/JMI stanzas stanza.js sent and received during it.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = require('../peers/node_modules/playwright-core');
const esbuild = require('../peers/node_modules/esbuild');

const base = process.argv[2];
const xmppWs = process.argv[3] || 'ws://127.0.0.1:5280/xmpp-websocket';
const verbose = !!process.env.VERBOSE;
const traceFile = process.env.STANZA_TRACE;
const started = Date.now();
const WEB = 'web@gateway.localhost/switchboard';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Loopback-only namespace: host candidates on 127.0.0.1 need these (shared/recipes, Chromium section).
  '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

let passed = 0, failed = 0;
const failures = [];
function report(name, ok, why) {
  ok ? passed++ : failed++;
  const t = ((Date.now() - started) / 1000).toFixed(1);
  console.log(ok ? `PASS ${name}${why ? ` [${why}]` : ''} (t=${t}s)` : `FAIL ${name} (${why})`);
  if (!ok) failures.push(name);
}

/** Jingle, JMI and error stanzas stanza.js exchanged since `mark`, one line each (long ones cut). */
async function stanzasSince(mark) {
  const rows = await a.evaluate((m) => trace.slice(m.trace), mark).catch(() => []);
  const out = [];
  for (const { t, dir, data } of rows) {
    if (!/<jingle\b|jingle-message|type=["']error["']|<iq\b[^>]*type=["']result["']/.test(data)) continue;
    if (/xmlns=["']jabber:iq:roster["']|<query xmlns=["']http:\/\/jabber.org\/protocol\/disco/.test(data)) continue;
    const cut = data.length > 700 ? `${data.slice(0, 560)} ...[${data.length} bytes]... ${data.slice(-120)}` : data;
    out.push(`    ${new Date(t).toISOString().slice(11, 23)} ${dir === 'in' ? '<-' : '->'} ${cut}`);
  }
  return out;
}
/** Protocol messages the browser page received since `mark` (SDP cut). */
async function browserSince(mark) {
  const rows = await b.evaluate((m) => received.slice(m), mark).catch(() => []);
  return rows.map((m) => `    browser <- ${JSON.stringify({ ...m, sdp: m.sdp ? `[${m.sdp.length} bytes]` : undefined })}`);
}

/** Identical consecutive lines once, with a count. */
function collapse(lines) {
  const out = [];
  for (const l of lines) {
    const last = out.at(-1);
    if (last && last.line === l) last.n++; else out.push({ line: l, n: 1 });
  }
  return out.map((x) => (x.n > 1 ? `${x.line} (x${x.n})` : x.line));
}

/**
 * Runs the steps of one scenario in order; each is a check. After a failed step the remaining ones
 * fail as skipped, the stanzas of the failed step are printed, and both pages drop their calls.
 */
async function scenario(steps) {
  let broken = null;
  for (const [name, fn] of steps) {
    if (broken) { report(name, false, `skipped: ${broken} failed`); continue; }
    const m = await a.evaluate(() => mark()).catch(() => ({ ev: 0, trace: 0 }));
    const mb = await b.evaluate(() => received.length).catch(() => 0);
    try {
      report(name, true, await fn());
    } catch (e) {
      report(name, false, String(e?.message ?? e).split('\n')[0].replace(/^page\.evaluate: (Error: )?/, ''));
      broken = name;
      const lines = collapse([...await stanzasSince(m), ...await browserSince(mb)]);
      if (lines.length) console.log(`  stanzas during that step (stanza.js side), then the browser's messages:\n${lines.join('\n')}`);
    }
  }
  if (broken) await cleanup();
}

const bundle = esbuild.buildSync({
  entryPoints: [path.join(here, 'stanza_page.js')], bundle: true, format: 'iife', platform: 'browser',
  nodePaths: [path.join(here, '../peers/node_modules')], write: false, logLevel: 'silent',
}).outputFiles[0].text;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
const context = await browser.newContext();
await context.grantPermissions(['microphone', 'camera']);

// Page A: stanza.js, alice@localhost/stanza.
const a = await context.newPage();
a.on('console', (m) => verbose && console.log('A:', m.text()));
a.on('pageerror', (e) => console.log('A page error:', e.message));
await a.goto(`${base}/healthz`);
await a.addScriptTag({ content: bundle });
if (verbose) {
  await a.exposeFunction('__trace', (dir, data) => console.log(`A ${dir === 'in' ? '<-' : '->'} ${data}`));
  await a.evaluate(() => { const push = trace.push.bind(trace); trace.push = (x) => { __trace(x.dir, x.data); return push(x); }; });
}

// Page B: /switchboard.js, the browser `web`.
const b = await context.newPage();
b.on('console', (m) => verbose && console.log('B:', m.text()));
b.on('pageerror', (e) => console.log('B page error:', e.message));
await b.goto(`${base}/healthz`);
await b.addScriptTag({ type: 'module', content: "import * as m from '/switchboard.js'; window.SB = m;" });
await b.waitForFunction(() => window.SB);
await b.addScriptTag({ content: `
window.within = (p, ms, what) => Promise.race([p, new Promise((_, reject) =>
  setTimeout(() => reject(new Error(what + ' within ' + ms + ' ms')), ms))]);
window.audioIn = async (pc, ms = 10000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!pc || pc.connectionState === 'closed') return -1;
    for (const s of (await pc.getStats()).values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.packetsReceived > 0) return s.packetsReceived;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return 0;
};
/** A Call with its events as promises. */
window.record = (call) => {
  call.events = [];
  call.rang = new Promise((resolve) => call.addEventListener('ringing', () => { call.events.push('ringing'); resolve(); }));
  call.connected = new Promise((resolve) => call.addEventListener('connected', () => { call.events.push('connected'); resolve(); }));
  call.done = new Promise((resolve) => call.addEventListener('ended', (e) => resolve(e.detail)));
  call.got = [];
  call.channel = new Promise((resolve) => {
    const watch = (ch) => {
      ch.addEventListener('message', (e) => call.got.push(e.data));
      if (ch.readyState === 'open') resolve(ch); else ch.addEventListener('open', () => resolve(ch));
    };
    if (call.dataChannel) watch(call.dataChannel);
    call.addEventListener('datachannel', (e) => watch(e.detail));
  });
  return call;
};
window.received = [];
window.incoming = [];
window.waiters = [];
window.nextCall = (ms) => within(new Promise((resolve) => {
  if (incoming.length) resolve(incoming.shift()); else waiters.push(resolve);
}), ms, 'no incoming call (offer) on the browser');
window.startSb = async () => {
  window.sb = new SB.Switchboard();
  await sb.connect();
  await sb.register('web');
  sb.addEventListener('message', (e) => received.push(e.detail));
  sb.addEventListener('call', (e) => {
    const call = record(e.detail);
    if (waiters.length) waiters.shift()(call); else incoming.push(call);
  });
  sb.addEventListener('error', (e) => console.log('switchboard error', JSON.stringify(e.detail)));
};
window.metrics = async () => {
  const text = await (await fetch('/metrics')).text();
  const g = (n) => { const m = text.match(new RegExp('^switchboard_' + n + ' (\\\\d+)$', 'm')); return m ? Number(m[1]) : undefined; };
  return { sessions: g('sessions'), xmpp_up: g('xmpp_up'), xmpp_calls: g('xmpp_calls') };
};` });

/** Drops every call on both pages (after a failed step). */
async function cleanup() {
  await a.evaluate(() => endAll()).catch(() => {});
  await b.evaluate(() => {
    for (const c of sb.calls.values()) c.hangup('cleanup');
    window.incoming = []; window.waiters = []; window.call = undefined;
  }).catch(() => {});
  await a.waitForTimeout(500);
}

const audioBothWays = async (sid) => {
  const [ra, rb] = await Promise.all([
    a.evaluate((sid) => audioIn(sessions.get(sid)?.pc), sid),
    b.evaluate(() => audioIn(call.pc)),
  ]);
  if (!(ra > 0 && rb > 0)) throw new Error(`inbound-rtp audio packetsReceived stanza=${ra} browser=${rb}`);
  return `packetsReceived stanza=${ra} browser=${rb}`;
};
/** A Jingle IQ stanza sent since `since` got its reply; throws with the error stanza if it was an error. */
const acked = (since, action) => a.evaluate(async ([since, action]) => {
  const r = await waitEvent(since, (e) => e.kind === 'iq-reply' && e.action === action, 8000, `no reply to our ${action}`);
  if (r.type === 'error') throw new Error(`${action} answered with an error: ${r.data}`);
  return r.type;
}, [since, action]);
const since = () => a.evaluate(() => ev.length);

/** The codec lines (a=rtpmap, a=fmtp, a=rtcp-fb) of an SDP, each prefixed with its section's mid. */
function codecLines(sdp) {
  const out = [];
  for (const section of sdp.split(/\r?\n(?=m=)/).slice(1)) {
    const mid = (section.match(/^a=mid:(.*)$/m) || [])[1];
    for (const l of section.split(/\r?\n/)) if (/^a=(rtpmap|fmtp|rtcp-fb):/.test(l)) out.push(`mid ${mid}: ${l}`);
  }
  return out;
}
/** Codec lines of the SDP `from` that the SDP `to` lacks, and lines of `to` that `from` lacks. */
function codecDiff(from, to) {
  const count = new Map();
  for (const l of codecLines(to)) count.set(l, (count.get(l) || 0) + 1);
  const lost = [];
  for (const l of codecLines(from)) {
    const n = count.get(l) || 0;
    if (n > 0) count.set(l, n - 1); else lost.push(l);
  }
  return { lost, added: [...count].flatMap(([l, n]) => Array(n).fill(l)), total: codecLines(from).length };
}
/** SDPs of the first connected call each way, kept for the codec checks. */
const sdps = {};
const codecCheck = (key, fromName, toName) => async () => {
  const s = sdps[key];
  if (!s) throw new Error('no SDPs recorded (the call did not connect)');
  const d = codecDiff(s.from, s.to);
  if (d.lost.length || d.added.length) {
    // The <payload-type> elements the gateway sent for those payload types, as stanza.js received them.
    const pts = [...new Set([...d.lost, ...d.added].map((l) => (l.match(/a=\w[\w-]*:(\d+)/) || [])[1]).filter(Boolean))];
    const xml = await a.evaluate((pts) => {
      const found = [];
      for (const { dir, data } of trace) {
        if (dir !== 'in' || !/from=["'][^"']*@gateway\.localhost/.test(data) || !/<jingle\b/.test(data)) continue;
        for (const pt of pts) {
          const m = data.match(new RegExp(`<payload-type\\b[^>]*\\bid=["']${pt}["'][^>]*?(/>|>.*?</payload-type>)`));
          if (m && !found.includes(m[0])) found.push(m[0]);
        }
      }
      return found;
    }, pts);
    throw new Error(`${d.lost.length} of ${d.total} codec lines of ${fromName} missing or changed in ${toName}: `
      + `${d.lost.join(' | ')}${d.added.length ? `; instead: ${d.added.join(' | ')}` : ''}`
      + `${xml.length ? `; the gateway sent ${xml.join(' ')}` : ''}`);
  }
  return `${d.total} rtpmap/fmtp/rtcp-fb lines identical`;
};


// --- changes to a call in progress (protocols/jingle/src/component/renegotiate.rs)
const ufragOf = (sdp) => (sdp.match(/^a=ice-ufrag:(.*)$/m) || [])[1];
const audioDir = (sdp) => {
  const audio = sdp.split(/\r?\n(?=m=)/).find((sec) => sec.startsWith('m=audio')) || '';
  return (audio.match(/^a=(sendrecv|sendonly|recvonly|inactive)$/m) || [])[1] || 'sendrecv';
};
/** Audio packets received on both sides now. */
const packets = async () => Promise.all([
  a.evaluate(async (sid) => {
    let n = 0;
    for (const st of (await sessions.get(sid).pc.getStats()).values()) if (st.type === 'inbound-rtp' && st.kind === 'audio') n += st.packetsReceived;
    return n;
  }, sid),
  b.evaluate(async () => {
    let n = 0;
    for (const st of (await call.pc.getStats()).values()) if (st.type === 'inbound-rtp' && st.kind === 'audio') n += st.packetsReceived;
    return n;
  }),
]);
/** Waits until `fn` (evaluated in `page`) returns a truthy value. */
const until = (page, fn, arg, ms, what) => page.evaluate(async ([src, arg, ms, what]) => {
  const f = eval(src);
  const end = Date.now() + ms;
  for (;;) {
    const v = await f(arg);
    if (v) return v;
    if (Date.now() > end) throw new Error(what + ' within ' + ms + ' ms');
    await new Promise((r) => setTimeout(r, 100));
  }
}, [fn.toString(), arg, ms, what]);
/** After an ICE restart: new credentials on both sides, and audio still arriving both ways. */
const afterRestart = async (before) => {
  const [sa, sb2] = await Promise.all([
    a.evaluate((sid) => sessions.get(sid).pc.remoteDescription.sdp, sid),
    b.evaluate(() => call.pc.remoteDescription.sdp),
  ]);
  if (ufragOf(sa) === before.a || ufragOf(sb2) === before.b) {
    throw new Error(`credentials unchanged: stanza sees ${ufragOf(sa)} (was ${before.a}), browser sees ${ufragOf(sb2)} (was ${before.b})`);
  }
  const p0 = await packets();
  await a.waitForTimeout(1500);
  const p1 = await packets();
  if (!(p1[0] > p0[0] + 10 && p1[1] > p0[1] + 10)) throw new Error(`audio after the restart: stanza ${p0[0]}->${p1[0]}, browser ${p0[1]}->${p1[1]}`);
  const states = await b.evaluate(() => call.pc.iceConnectionState);
  return `ufrag stanza-side ${before.a}->${ufragOf(sa)}, browser-side ${before.b}->${ufragOf(sb2)}; packets stanza ${p0[0]}->${p1[0]}, browser ${p0[1]}->${p1[1]}; browser ICE ${states}`;
};
const ufrags = async () => ({
  a: ufragOf(await a.evaluate((sid) => sessions.get(sid).pc.remoteDescription.sdp, sid)),
  b: ufragOf(await b.evaluate(() => call.pc.remoteDescription.sdp)),
});
/** The browser makes a new offer itself (an app using call.pc): ICE restart, or audio `direction`. */
const browserReoffers = (opts) => b.evaluate(async (opts) => {
  if (opts.direction) {
    const t = call.pc.getTransceivers().find((x) => x.receiver.track.kind === 'audio');
    t.direction = opts.direction;
  }
  const offer = await call.pc.createOffer({ iceRestart: !!opts.iceRestart });
  await call.pc.setLocalDescription(offer);
  sb.send({ type: 'offer', to: call.remote, session: call.session, sdp: call.pc.localDescription.sdp });
}, opts);
const browserStable = () => until(b, () => call.pc.signalingState === 'stable' && call.pc.remoteDescription, null, 8000, 'the browser got no answer to its new offer');
const stanzaSaw = (what, since) => until(a, ([what, since]) => trace.slice(since).some((r) => r.dir === 'in' && r.data.includes(`<${what} xmlns="urn:xmpp:jingle:apps:rtp:info:1"`) || r.dir === 'in' && r.data.includes(`<${what} xmlns='urn:xmpp:jingle:apps:rtp:info:1'`)), [what, since], 8000, `stanza got no session-info <${what}/>`);
const traceLen = () => a.evaluate(() => trace.length);
const restartByStanza = async () => {
  const before = await ufrags();
  await a.evaluate((sid) => sessions.get(sid).restartIce(), sid);
  await until(b, (u) => call.pc.signalingState === 'stable' && ((call.pc.remoteDescription.sdp.match(/^a=ice-ufrag:(.*)$/m) || [])[1] !== u), before.b, 8000, 'no new offer from stanza\'s restart on the browser');
  await until(a, ([sid, u]) => { const pc = sessions.get(sid).pc; return pc.signalingState === 'stable' && ((pc.remoteDescription.sdp.match(/^a=ice-ufrag:(.*)$/m) || [])[1] !== u); }, [sid, before.a], 8000, 'stanza got no new credentials back');
  return afterRestart(before);
};
const restartByBrowser = async () => {
  const before = await ufrags();
  await browserReoffers({ iceRestart: true });
  await browserStable();
  await until(a, ([sid, u]) => ((sessions.get(sid).pc.remoteDescription.sdp.match(/^a=ice-ufrag:(.*)$/m) || [])[1] !== u), [sid, before.a], 8000, 'stanza did not take the new credentials');
  return afterRestart(before);
};
const holdByBrowser = async () => {
  const t0 = await traceLen();
  await browserReoffers({ direction: 'sendonly' });
  await browserStable();
  await stanzaSaw('hold', t0);
  const held = audioDir(await b.evaluate(() => call.pc.remoteDescription.sdp));
  if (held !== 'recvonly') throw new Error(`the answer to the hold offer is ${held}, want recvonly`);
  const t1 = await traceLen();
  await browserReoffers({ direction: 'sendrecv' });
  await browserStable();
  await stanzaSaw('active', t1);
  const back = audioDir(await b.evaluate(() => call.pc.remoteDescription.sdp));
  if (back !== 'sendrecv') throw new Error(`the answer to the resume offer is ${back}`);
  return 'stanza got <hold/> then <active/>; the browser got recvonly then sendrecv answers';
};
const holdByStanza = async () => {
  await a.evaluate((sid) => sessions.get(sid).hold(), sid);
  await until(b, () => call.pc.signalingState === 'stable' && /a=sendonly/.test(call.pc.remoteDescription.sdp.split(/\r?\n(?=m=)/).find((x) => x.startsWith('m=audio')) || ''), null, 8000, 'no sendonly offer on the browser');
  const answered = audioDir(await b.evaluate(() => call.pc.localDescription.sdp));
  await a.evaluate((sid) => sessions.get(sid).resume(), sid);
  await until(b, () => call.pc.signalingState === 'stable' && !/a=sendonly/.test(call.pc.remoteDescription.sdp.split(/\r?\n(?=m=)/).find((x) => x.startsWith('m=audio')) || ''), null, 8000, 'no offer back to sendrecv on the browser');
  if (answered !== 'recvonly') throw new Error(`the browser answered the hold with ${answered}`);
  return 'the browser got a sendonly offer (answered recvonly), then sendrecv again';
};

// ------------------------------------------------------------------------------------------------
// Setup: log in, register, the component is there.
await scenario([
  ['stanza.js logs in to Prosody over WebSocket as alice@localhost', async () => {
    const r = await a.evaluate(([u, p]) => startXmpp(u, 'alice', p), [xmppWs, 'alicepw']);
    if (r.jid !== 'alice@localhost/stanza') throw new Error(`bound ${r.jid}`);
    return `bound ${r.jid}, SASL ${r.mechanism}`;
  }],
]);
// Control, no gateway involved: a second stanza.js page (bob) rings alice with JMI through Prosody and
// calls her with stanza's Jingle, audio + data channel. Shows that stanza's Jingle, the page code and
// Chromium work here, so that failures below are the gateway's.
const c = await context.newPage();
c.on('pageerror', (e) => console.log('C page error:', e.message));
await c.goto(`${base}/healthz`);
await c.addScriptTag({ content: bundle });
await scenario([
  ['control (no gateway): stanza bob rings alice (JMI propose/proceed via Prosody), calls her with audio + data channel; audio and messages both ways, hangup', async () => {
    await c.evaluate(([u, p]) => startXmpp(u, 'bob', p), [xmppWs, 'bobpw']);
    const s0 = await since();
    const id = `control-${Date.now()}`;
    await c.evaluate((id) => jmi('alice@localhost', { type: 'propose', id, media: ['audio'] }, { processingHints: { store: true } }), id);
    const p = await a.evaluate(([s0, id]) => waitEvent(s0, (e) => e.kind === 'jmi' && e.type === 'propose' && e.id === id, 5000, 'alice got no propose'), [s0, id]);
    await a.evaluate((p) => jmi(p.from, { type: 'proceed', id: p.id }), p);
    await c.evaluate((id) => waitEvent(0, (e) => e.kind === 'jmi' && e.type === 'proceed' && e.id === id, 5000, 'bob got no proceed'), id);
    await c.evaluate((id) => callOut('alice@localhost/stanza', { sid: id, data: true }), id);
    const inc = await a.evaluate((s0) => waitEvent(s0, (e) => e.kind === 'incoming', 5000, 'alice got no session-initiate'), s0);
    if (inc.sid !== id) throw new Error(`sid ${inc.sid}, want ${id}`);
    await a.evaluate((sid) => answer(sid), id);
    const [ra, rc] = await Promise.all([a.evaluate((sid) => audioIn(sessions.get(sid).pc), id), c.evaluate((sid) => audioIn(sessions.get(sid).pc), id)]);
    if (!(ra > 0 && rc > 0)) throw new Error(`inbound-rtp audio packetsReceived alice=${ra} bob=${rc}`);
    await c.evaluate((sid) => waitEvent(0, (e) => e.kind === 'dc-open' && e.sid === sid, 5000, 'bob: no open data channel'), id);
    await a.evaluate((sid) => waitEvent(0, (e) => e.kind === 'dc-open' && e.sid === sid, 5000, 'alice: no data channel'), id);
    await c.evaluate((sid) => channels.get(sid).channel.send('hi alice'), id);
    await a.evaluate((sid) => channels.get(sid).channel.send('hi bob'), id);
    const ga = await a.evaluate((sid) => waitEvent(0, (e) => e.kind === 'dc-message' && e.sid === sid, 5000, 'alice got no message'), id);
    const gc = await c.evaluate((sid) => waitEvent(0, (e) => e.kind === 'dc-message' && e.sid === sid, 5000, 'bob got no message'), id);
    const s1 = await since();
    await c.evaluate((sid) => hangup(sid), id);
    const t = await a.evaluate(([s1, sid]) => waitEvent(s1, (e) => e.kind === 'terminated' && e.sid === sid, 5000, 'alice: session not terminated'), [s1, id]);
    await c.evaluate(() => client.disconnect());
    return `packetsReceived alice=${ra} bob=${rc}; alice got "${ga.data}", bob got "${gc.data}"; alice terminated: ${t.reason}`;
  }],
]);
await c.close();

await scenario([
  ['browser registers as web over /ws', async () => { await b.evaluate(() => startSb()); }],
]);
await scenario([
  ['gateway component is connected (metrics xmpp_up=1, disco#info on gateway.localhost answers)', async () => {
    let m = {}, info = {};
    for (let i = 0; i < 100; i++) {
      m = await b.evaluate(() => metrics());
      if (m.xmpp_up === 1 || m.xmpp_up === undefined) {
        info = await a.evaluate(() => disco('gateway.localhost'));
        if (!info.error) break;
      }
      await a.waitForTimeout(100);
    }
    if (m.xmpp_up !== 1) throw new Error(`switchboard_xmpp_up=${m.xmpp_up}`);
    if (info.error) throw new Error(`disco#info gateway.localhost: ${info.error}`);
    const ids = info.identities.map((i) => `${i.category}/${i.type}`).join(',');
    if (!ids.includes('gateway/webrtc')) throw new Error(`identities ${ids}`);
    return `identities ${ids}, ${info.features.length} features`;
  }],
]);
await scenario([
  ['disco#info on web@gateway.localhost: client/phone with Jingle, RTP, ICE-UDP, DTLS, JMI, XEP-0343 features', async () => {
    const info = await a.evaluate(() => disco('web@gateway.localhost'));
    if (info.error) throw new Error(`disco#info web@gateway.localhost: ${info.error}`);
    const want = ['urn:xmpp:jingle:1', 'urn:xmpp:jingle:apps:rtp:1', 'urn:xmpp:jingle:apps:rtp:audio',
      'urn:xmpp:jingle:transports:ice-udp:1', 'urn:xmpp:jingle:apps:dtls:0', 'urn:xmpp:jingle-message:0',
      'urn:xmpp:jingle:transports:webrtc-datachannel:1'];
    const missing = want.filter((f) => !info.features.includes(f));
    const ids = info.identities.map((i) => `${i.category}/${i.type}`).join(',');
    if (missing.length || !ids.includes('client/phone')) throw new Error(`identities ${ids}; missing ${missing.join(' ')}`);
    return `identities ${ids}, ${info.features.length} features`;
  }],
]);

// ------------------------------------------------------------------------------------------------
// (a) XMPP -> browser: stanza sends session-initiate straight to web@gateway.localhost/switchboard.
let sid = null;
const stanzaCallsWeb = async (opts = {}) => {
  const s0 = await since();
  sid = await a.evaluate(([to, o]) => callOut(to, o), [WEB, opts]);
  await acked(s0, 'session-initiate');
  const info = await b.evaluate(async () => {
    window.call = await nextCall(10000);
    return { remote: call.remote, candidates: (call._incomingOffer.match(/a=candidate/g) || []).length,
      application: /\r\nm=application /.test(call._incomingOffer) };
  });
  if (info.remote !== 'xmpp:alice@localhost/stanza') throw new Error(`offer from ${JSON.stringify(info.remote)}`);
  return { s0, ...info };
};
const webAnswers = async (s0, opts = { audio: true }) => {
  await b.evaluate(async (o) => { call.ring(); await call.answer(o); }, opts);
  await a.evaluate(async ([s0, sid]) => {
    await waitEvent(s0, (e) => e.kind === 'ringing' && e.sid === sid, 8000, 'no session-info <ringing/> on stanza');
    await waitEvent(s0, (e) => e.kind === 'accepted' && e.sid === sid, 8000, 'no session-accept on stanza');
  }, [s0, sid]);
  await b.evaluate(() => within(call.connected, 10000, 'browser call not connected'));
};
const stanzaHangsUp = async () => {
  await a.evaluate((sid) => hangup(sid), sid);
  const ended = await b.evaluate(() => within(call.done, 5000, 'no ended event on the browser'));
  if (ended.local || ended.reason !== 'normal') throw new Error(`browser ended ${JSON.stringify(ended)}, want reason normal`);
  return `browser ended ${JSON.stringify(ended)}`;
};
const webHangsUp = async () => {
  const s0 = await since();
  await b.evaluate(() => call.hangup('normal'));
  const t = await a.evaluate(([s0, sid]) => waitEvent(s0, (e) => e.kind === 'terminated' && e.sid === sid, 5000,
    'stanza session not terminated'), [s0, sid]);
  if (t.reason !== 'success') throw new Error(`stanza session terminated with ${t.reason}, want success`);
  return `stanza terminated: ${t.reason}`;
};

await scenario([
  ['XMPP->browser: stanza session-initiate to web@gateway.localhost/switchboard is acked and reaches the browser as an offer', async () => {
    const r = await stanzaCallsWeb();
    await webAnswers(r.s0);
    sdps.toWeb = {
      from: await a.evaluate((sid) => sessions.get(sid).pc.localDescription.sdp, sid),
      to: await b.evaluate(() => call.pc.remoteDescription.sdp),
    };
    sdps.toWebAnswer = {
      from: await b.evaluate(() => call.pc.localDescription.sdp),
      to: await a.evaluate((sid) => sessions.get(sid).pc.remoteDescription.sdp, sid),
    };
    return `offer from ${r.remote}, ${r.candidates} candidates in it; browser rang and answered, stanza got ringing + session-accept`;
  }],
  ['XMPP->browser: audio both ways', () => audioBothWays(sid)],
  ['XMPP->browser: hangup from stanza (session-terminate) ends the browser call', stanzaHangsUp],
]);
await scenario([
  ["XMPP->browser: the browser's offer has the codec lines of stanza's offer (Jingle -> SDP in the gateway)",
    codecCheck('toWeb', "stanza's offer", "the browser's remote offer")],
]);
await scenario([
  ["XMPP->browser: stanza's answer SDP has the codec lines of the browser's answer (SDP -> Jingle in the gateway, then stanza)",
    codecCheck('toWebAnswer', "the browser's answer", "stanza's remote answer")],
]);
await scenario([
  ['XMPP->browser: second call, audio both ways', async () => {
    const r = await stanzaCallsWeb();
    await webAnswers(r.s0);
    return audioBothWays(sid);
  }],
  ["XMPP->browser: stanza restarts ICE (transport-info with new ufrag/pwd) -> the browser gets an offer with them, its answer's credentials go back; audio goes on", restartByStanza],
  ['XMPP->browser: stanza holds and resumes (session-info <hold/>, <active/>) -> the browser gets sendonly, then sendrecv offers', holdByStanza],
  ['XMPP->browser: the browser holds and resumes (offers a=sendonly, a=sendrecv) -> stanza gets <hold/>, <active/>; answers recvonly, sendrecv', holdByBrowser],
  ['XMPP->browser: hangup from the browser ends the stanza session (session-terminate <success/>)', webHangsUp],
]);

// (a2) XMPP -> browser through JMI: the page proposes to the bare JID web@gateway.localhost.
await scenario([
  ['XMPP->browser via JMI: propose to web@gateway.localhost is answered with proceed from web@gateway.localhost/switchboard', async () => {
    const s0 = await since();
    const id = `jmi-${Date.now()}`;
    await a.evaluate((id) => jmi('web@gateway.localhost', { type: 'propose', id, media: ['audio'] }, { processingHints: { store: true } }), id);
    const p = await a.evaluate(([s0, id]) => waitEvent(s0, (e) => e.kind === 'jmi' && e.id === id && ['proceed', 'reject'].includes(e.type),
      8000, 'no JMI proceed'), [s0, id]);
    if (p.type !== 'proceed') throw new Error(`got ${p.type} (${p.reason}) from ${p.from}`);
    if (p.from !== WEB) throw new Error(`proceed from ${p.from}, want ${WEB}`);
    sid = id;
    return `proceed from ${p.from}`;
  }],
  ['XMPP->browser via JMI: session-initiate (sid = propose id) to that JID, browser answers, audio both ways', async () => {
    const s0 = await since();
    await a.evaluate(([to, sid]) => callOut(to, { sid }), [WEB, sid]);
    await acked(s0, 'session-initiate');
    await b.evaluate(async () => { window.call = await nextCall(10000); });
    await webAnswers(s0);
    return audioBothWays(sid);
  }],
  ['XMPP->browser via JMI: hangup from stanza ends the browser call', stanzaHangsUp],
]);

// ------------------------------------------------------------------------------------------------
// (b) browser -> XMPP: the browser offers to xmpp:alice@localhost; the gateway rings alice with JMI.
let propose = null, proposeMark = 0;
const webCallsAlice = async (opts = { audio: true }) => {
  const s0 = await since();
  await b.evaluate(async (o) => { window.call = record(await sb.call('xmpp:alice@localhost', o)); }, opts);
  propose = await a.evaluate((s0) => waitEvent(s0, (e) => e.kind === 'jmi' && e.type === 'propose', 10000,
    'no JMI propose to alice@localhost'), s0);
  proposeMark = s0;
  return s0;
};
const aliceProceeds = async (s0) => {
  await a.evaluate((p) => jmi(p.from, { type: 'ringing', id: p.id }), propose);
  await b.evaluate(() => within(call.rang, 5000, 'browser saw no ringing after JMI <ringing/>'));
  await a.evaluate((p) => jmi(p.from, { type: 'proceed', id: p.id }), propose);
  const inc = await a.evaluate((s0) => waitEvent(s0, (e) => e.kind === 'incoming', 10000,
    'no session-initiate after JMI proceed'), s0);
  if (inc.sid !== propose.id) throw new Error(`session-initiate sid ${inc.sid}, propose id ${propose.id}`);
  if (inc.from !== propose.from) throw new Error(`session-initiate from ${inc.from}, propose from ${propose.from}`);
  sid = inc.sid;
  await a.evaluate((sid) => answer(sid), sid);
  await b.evaluate(() => within(call.connected, 10000, 'browser call not connected'));
  return inc;
};

await scenario([
  ['browser->XMPP: offer to xmpp:alice@localhost reaches stanza as a JMI propose (audio) from web@gateway.localhost/switchboard', async () => {
    await webCallsAlice();
    const p = propose;
    if (p.from !== WEB) throw new Error(`propose from ${p.from}`);
    if (p.to !== 'alice@localhost') throw new Error(`propose to ${p.to}, want the bare JID`);
    if (!p.media?.includes('audio')) throw new Error(`propose media ${JSON.stringify(p.media)}`);
    return `propose id=${p.id} from ${p.from} to ${p.to} type=${p.msgType} media=${p.media} store=${p.store}`;
  }],
  ['browser->XMPP: JMI ringing -> browser ringing; proceed -> session-initiate (sid = propose id); stanza accepts; connected', async () => {
    const inc = await aliceProceeds(proposeMark);
    sdps.toAlice = {
      from: await b.evaluate(() => call.pc.localDescription.sdp),
      to: await a.evaluate((sid) => sessions.get(sid).pc.remoteDescription.sdp, sid),
    };
    sdps.toAliceAnswer = {
      from: await a.evaluate((sid) => sessions.get(sid).pc.localDescription.sdp, sid),
      to: await b.evaluate(() => call.pc.remoteDescription.sdp),
    };
    return `session-initiate sid=${inc.sid} from ${inc.from}`;
  }],
  ['browser->XMPP: audio both ways', () => audioBothWays(sid)],
  ['browser->XMPP: hangup from the browser ends the stanza session (session-terminate <success/>)', webHangsUp],
  ['browser->XMPP: JMI finish after the accepted call ends', async () => {
    const f = await a.evaluate((id) => waitEvent(0, (e) => e.kind === 'jmi' && e.type === 'finish' && e.id === id, 3000,
      'no JMI finish'), propose.id);
    return `finish from ${f.from}${f.reason ? ` reason ${f.reason}` : ''}`;
  }],
]);
await scenario([
  // RED's nameless fmtp (`111/111`): the gateway writes `<parameter name='' value='111/111'/>`
  // (Conversations' and lib-jitsi-meet's form) to clients it has not heard from, which stanza reads as
  // `undefined=111/111`; it writes stanza's own `<parameter name='111/111'/>` to JIDs that sent Jingle in
  // that form before. The XMPP->browser calls above taught it alice's form.
  ["browser->XMPP: stanza's offer SDP has the codec lines of the browser's offer (SDP -> Jingle in the gateway, then stanza)",
    codecCheck('toAlice', "the browser's offer", "stanza's remote offer")],
]);
await scenario([
  ["browser->XMPP: the browser's answer has the codec lines of stanza's answer (Jingle -> SDP in the gateway)",
    codecCheck('toAliceAnswer', "stanza's answer", "the browser's remote answer")],
]);
await scenario([
  ['browser->XMPP: second call, audio both ways', async () => {
    const s0 = await webCallsAlice();
    await aliceProceeds(s0);
    return audioBothWays(sid);
  }],
  ["browser->XMPP: the browser restarts ICE (new offer, iceRestart) -> stanza gets transport-info with new credentials and answers with its own; audio goes on", restartByBrowser],
  ['browser->XMPP: the browser holds and resumes -> stanza gets <hold/>, <active/>', holdByBrowser],
  ['browser->XMPP: the browser offers new media (adds video) -> error offer-refused, rolled back; the call goes on with audio', async () => {
    const r = await b.evaluate(async () => {
      const refused = new Promise((resolve) => call.addEventListener('offer-refused', (e) => resolve(e.detail)));
      call.pc.addTransceiver('video', { direction: 'recvonly' });
      await call.pc.setLocalDescription(await call.pc.createOffer());
      sb.send({ type: 'offer', to: call.remote, session: call.session, sdp: call.pc.localDescription.sdp });
      const detail = await within(refused, 5000, 'no offer-refused');
      return { detail, state: call.pc.signalingState, ended: call.ended };
    });
    if (r.state !== 'stable' || r.ended) throw new Error(JSON.stringify(r));
    const p0 = await packets();
    await a.waitForTimeout(1000);
    const p1 = await packets();
    if (!(p1[0] > p0[0] + 10 && p1[1] > p0[1] + 10)) throw new Error(`audio after the refusal: stanza ${p0[0]}->${p1[0]}, browser ${p0[1]}->${p1[1]}`);
    return `error ${r.detail.code}: ${r.detail.message}; signaling state ${r.state}; audio goes on`;
  }],
  ['browser->XMPP: hangup from stanza ends the browser call', stanzaHangsUp],
]);
await scenario([
  ['browser->XMPP: stanza rejects (JMI reject <busy/>) -> browser call ends busy', async () => {
    await webCallsAlice();
    await a.evaluate((p) => jmi(p.from, { type: 'reject', id: p.id, reason: { condition: 'busy' } }), propose);
    const ended = await b.evaluate(() => within(call.done, 5000, 'no ended event on the browser'));
    if (ended.local || ended.reason !== 'busy') throw new Error(`browser ended ${JSON.stringify(ended)}`);
    return `browser ended ${JSON.stringify(ended)}`;
  }],
  ['browser->XMPP: browser hangs up before proceed -> stanza gets JMI retract (<cancel/>)', async () => {
    const s0 = await webCallsAlice();
    await b.evaluate(() => call.hangup('cancel'));
    const r = await a.evaluate(([s0, id]) => waitEvent(s0, (e) => e.kind === 'jmi' && e.type === 'retract' && e.id === id, 5000,
      'no JMI retract'), [s0, propose.id]);
    if (r.reason && r.reason !== 'cancel') throw new Error(`retract reason ${r.reason}`);
    return `retract from ${r.from} reason ${r.reason}`;
  }],
]);

// ------------------------------------------------------------------------------------------------
// (c) Data channels (XEP-0343 as stanza does it: <sctpmap> in the transport, no <description>).
const dcBothWays = async () => {
  await b.evaluate(() => within(call.channel, 10000, 'no open data channel on the browser'));
  await a.evaluate((sid) => waitEvent(0, (e) => e.kind === 'dc-open' && e.sid === sid, 10000, 'no open data channel on stanza'), sid);
  await b.evaluate(async () => (await call.channel).send('hello from web'));
  await a.evaluate((sid) => { channels.get(sid).channel.send('hello from stanza'); }, sid);
  const got = await a.evaluate((sid) => waitEvent(0, (e) => e.kind === 'dc-message' && e.sid === sid, 5000,
    'no data channel message on stanza'), sid);
  const gotB = await b.evaluate(() => within(new Promise((resolve) => {
    const poll = () => (call.got.length ? resolve(call.got[0]) : setTimeout(poll, 50));
    poll();
  }), 5000, 'no data channel message on the browser'));
  return `stanza got "${got.data}", browser got "${gotB}"`;
};
await scenario([
  ['XMPP->browser: stanza offers audio + data channel (<sctpmap>): the browser offer has m=application, a message crosses each way', async () => {
    const r = await stanzaCallsWeb({ data: true });
    if (!r.application) throw new Error('the offer the browser got has no m=application section');
    await webAnswers(r.s0);
    return dcBothWays();
  }],
  ['XMPP->browser (data): hangup from the browser ends the stanza session', webHangsUp],
]);
await scenario([
  ['browser->XMPP: browser offers audio + data channel: stanza accepts, a message crosses each way', async () => {
    const s0 = await webCallsAlice({ audio: true, data: true });
    await aliceProceeds(s0);
    const remote = await a.evaluate((sid) => sessions.get(sid).pc.remoteDescription.sdp, sid);
    if (!/\r\nm=application /.test(remote)) throw new Error('stanza made no m=application from the session-initiate (no <sctpmap> it understands?)');
    return dcBothWays();
  }],
  ['browser->XMPP (data): hangup from stanza ends the browser call', stanzaHangsUp],
]);

await scenario([
  ['no Jingle IQ answered with an error, either way, in the whole run (transport-info, session-info, session-terminate...)', async () => {
    // Not counted: errors about a session that one side had already terminated, i.e. a trickled
    // candidate (transport-info) that crossed a session-terminate on the wire and got unknown-session.
    const r = await a.evaluate(() => ({
      replies: ev.filter((e) => e.kind === 'iq-reply').length,
      theirs: ev.filter((e) => e.kind === 'iq-reply' && e.type === 'error'),
      ours: ev.filter((e) => e.kind === 'our-error'),
      jingleIn: ev.filter((e) => e.kind === 'jingle-in').length,
    }));
    const fmt = (e) => `${e.action} sid=${e.sid}: ${e.data.slice(0, 500)}`;
    const bad = [...r.theirs.filter((e) => !e.late).map((e) => `reply to stanza's ${fmt(e)}`),
      ...r.ours.filter((e) => !e.late).map((e) => `stanza's reply to the gateway's ${fmt(e)}`)];
    const late = r.theirs.filter((e) => e.late).length + r.ours.filter((e) => e.late).length;
    if (bad.length) throw new Error(`${bad.length} error replies: ${bad.join(' || ')}`);
    return `${r.replies} replies to stanza's Jingle IQs, ${r.jingleIn} Jingle IQs to stanza; `
      + `${late} unknown-session errors about sessions already terminated (not counted)`;
  }],
]);
// A browser page that dies mid-call (tab closed: its WebSocket goes without a hangup).
await scenario([
  ['kill: the browser page dies mid-call -> stanza gets session-terminate, /api/calls empty', async () => {
    const d = await context.newPage();
    await d.goto(`${base}/healthz`);
    await d.addScriptTag({ type: 'module', content: "import * as m from '/switchboard.js'; window.SB = m;" });
    await d.waitForFunction(() => window.SB);
    await d.evaluate(async () => {
      window.sb = new SB.Switchboard();
      await sb.connect();
      await sb.register('wendy');
      sb.addEventListener('call', (e) => { window.call = e.detail; e.detail.answer({ audio: true }); });
    });
    const s0 = await since();
    const dsid = await a.evaluate((to) => callOut(to, {}), 'wendy@gateway.localhost/switchboard');
    await a.evaluate(([s0, sid]) => waitEvent(s0, (e) => e.kind === 'accepted' && e.sid === sid, 8000, 'no session-accept'), [s0, dsid]);
    const s1 = await since();
    await d.close();
    const end = await a.evaluate(([s1, sid]) => waitEvent(s1, (e) => e.kind === 'jingle-in' && e.action === 'session-terminate' && e.sid === sid, 5000, 'no session-terminate on stanza'), [s1, dsid]);
    const calls = await b.evaluate(async () => (await fetch('/api/calls')).json());
    if (calls.calls.length) throw new Error(`/api/calls ${JSON.stringify(calls)}`);
    return `stanza got session-terminate <${end.reason}/>; /api/calls ${JSON.stringify(calls)}`;
  }],
]);
await scenario([
  ['no call left on the gateway (/metrics sessions 0, xmpp_calls 0)', async () => {
    let m = {};
    for (let i = 0; i < 30; i++) {
      m = await b.evaluate(() => metrics());
      if (m.sessions === 0 && (m.xmpp_calls === 0 || m.xmpp_calls === undefined)) return JSON.stringify(m);
      await b.waitForTimeout(100);
    }
    throw new Error(JSON.stringify(m));
  }],
]);

if (traceFile) {
  const rows = await a.evaluate(() => trace).catch(() => []);
  fs.writeFileSync(traceFile, rows.map((r) => `${new Date(r.t).toISOString()} ${r.dir === 'in' ? '<-' : '->'} ${r.data}`).join('\n') + '\n');
}
await a.evaluate(() => client.disconnect()).catch(() => {});
await browser.close();
console.log(`${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed ? 1 : 0);
