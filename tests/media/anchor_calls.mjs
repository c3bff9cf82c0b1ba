// Calls between a real Chromium page using /switchboard.js and baresip 1.0 with
// a PLAIN account (RTP/AVP, no ICE, no DTLS) through Switchboard, whose media
// are anchored in a real rtpengine (--rtpengine). Run by run_anchor.sh inside
// its private network namespace; drives baresip over ctrl_tcp and asks rtpengine
// itself (ng.mjs) what it holds.
//
//   node anchor_calls.mjs MODE BASE_URL PHONE CTRL_PORT PHONE_LOG NG_ADDR [LABEL]
//     MODE: browser-calls   the page calls PHONE, audio both ways, the page hangs up
//           phone-calls     PHONE dials the page registered as alice, audio both ways, PHONE hangs up
//           refused         both directions are refused; env EXPECT_REASONS (comma list of
//                           browser hangup words), EXPECT_SIP (comma list of SIP codes baresip may
//                           get), EXPECT_MS (how fast), LABEL names the situation
//     env GATEWAY_SIP (the gateway's SIP address), VERBOSE=1
//
// Prints `PASS name` / `FAIL name (why)` per check and `INFO ...` lines; exits 1 on any failure.
import { createRequire } from 'node:module';
import { BaresipCtrl } from '../sip/baresip_ctrl.mjs';
import { anchoredCalls, listCalls } from './ng.mjs';
import { assertPlainFromRelay, baresipLog, cline, mline } from './baresip_side.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('../peers/node_modules/playwright-core');

const [mode, base, phone, ctrlPort, phoneLog, ngAddr, label = ''] = process.argv.slice(2);
const gatewaySip = process.env.GATEWAY_SIP || '127.0.0.1:5081';
// rtpengine offers 127.0.0.1 candidates (interface lo): Chromium must accept loopback.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

let failed = 0;
const pageErrors = [];
async function check(name, fn) {
  const t = Date.now();
  pageErrors.length = 0;
  try {
    const detail = await fn();
    console.log(`PASS ${name} (${Date.now() - t} ms)${detail ? `: ${detail}` : ''}`);
  } catch (e) {
    failed++;
    const errors = pageErrors.length ? `; page errors: ${pageErrors.join(' | ')}` : '';
    console.log(`FAIL ${name} (${`${(e && e.message) || e}${errors}`.replace(/\s*\n\s*/g, ' ')})`);
    if (process.env.VERBOSE) console.log(e.stack);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`${what}: timeout after ${ms} ms`); })]);

const { size: logSize, since: logSince, stats: phoneStats, sdp: sipSdp } = baresipLog(phoneLog);

/** Checks a WebRTC SDP from rtpengine towards Chromium. */
function assertWebRtcFromRelay(sdp, what) {
  const m = mline(sdp);
  const problems = [];
  if (m?.[2] !== 'UDP/TLS/RTP/SAVPF') problems.push(`proto ${m?.[2]}`);
  const cand = /a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/.exec(sdp);
  if (!cand || cand[1] !== '127.0.0.1' || !(Number(cand[2]) >= 30000 && Number(cand[2]) <= 30100)) {
    problems.push(`no rtpengine host candidate (127.0.0.1:30000-30100): ${cand?.[0]}`);
  }
  if (!/a=fingerprint:/.test(sdp)) problems.push('no a=fingerprint');
  if (problems.length) throw new Error(`${what} is not WebRTC from rtpengine: ${problems.join(', ')}`);
  return `${m[0].trim()}, candidate ${cand[1]}:${cand[2]}, ${/a=setup:\S+/.exec(sdp)?.[0]}`;
}

/** rtpengine's calls while one call is up: exactly one, both legs received packets. */
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
/** rtpengine's `list` becomes empty (polls up to 3 s). */
async function relayEmpty() {
  let calls = [];
  for (let i = 0; i < 30; i++) {
    calls = await listCalls(ngAddr);
    if (calls.length === 0) return;
    await sleep(100);
  }
  throw new Error(`rtpengine still holds ${calls.length} call(s) after the hangup: ${calls.join(', ')}`);
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
const context = await browser.newContext();
await context.grantPermissions(['microphone']);
const ctrl = await BaresipCtrl.connect(Number(ctrlPort));

async function clientPage() {
  const page = await context.newPage();
  page.on('console', (m) => process.env.VERBOSE && console.log('page:', m.text()));
  page.on('pageerror', (e) => { pageErrors.push(String(e.message || e)); console.log('page error:', String(e.message || e)); });
  await page.goto(`${base}/healthz`);
  await page.addScriptTag({ type: 'module', content: "import * as m from '/switchboard.js'; window.SB = m;" });
  await page.waitForFunction(() => window.SB);
  return page;
}

/** Chromium's audio counters and transport state, now. */
const pageStats = (page) => page.evaluate(async () => {
  let inbound = 0, outbound = 0, transport = {};
  for (const s of (await window.call.pc.getStats()).values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') inbound = s.packetsReceived;
    if (s.type === 'outbound-rtp' && s.kind === 'audio') outbound = s.packetsSent;
    if (s.type === 'transport') transport = { dtls: s.dtlsState, srtp: s.srtpCipher, ice: s.iceState };
  }
  return { inbound, outbound, transport };
});
/** Two samples 1 s apart: Chromium's inbound packets grow, it sends. */
async function pageAudio(page) {
  let a = await pageStats(page);
  for (let i = 0; i < 25 && !(a.inbound > 0); i++) { await sleep(200); a = await pageStats(page); }
  await sleep(1000);
  const b = await pageStats(page);
  if (!(b.inbound > a.inbound && a.inbound > 0)) throw new Error(`Chromium inbound-rtp packetsReceived did not grow: ${a.inbound} -> ${b.inbound} (transport ${JSON.stringify(b.transport)})`);
  if (!(b.outbound > 0)) throw new Error(`Chromium sent no audio (outbound packetsSent=${b.outbound})`);
  return { from: a.inbound, to: b.inbound, sent: b.outbound, transport: b.transport };
}

const pageEnded = (page, ms) => page.evaluate((ms) => new Promise((resolve) => {
  if (window.endedDetail) resolve(window.endedDetail);
  window.call.addEventListener('ended', (e) => resolve(e.detail));
  setTimeout(() => resolve(null), ms);
}), ms);

/** Registers the page as alice; window.incoming resolves when a call came and was answered. */
async function registerAlice(page, answer = true) {
  await page.evaluate(async (answer) => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    await sb.register('alice');
    window.calls = 0;
    window.incoming = new Promise((resolve, reject) => {
      sb.addEventListener('call', async (e) => {
        window.calls++;
        window.call = e.detail;
        window.call.addEventListener('ended', (ev) => { window.endedDetail = ev.detail; });
        if (!answer) return;
        try {
          window.call.ring();
          await window.call.answer({ audio: true });
          resolve({ from: window.call.remote, offer: window.call.pc.remoteDescription.sdp });
        } catch (err) { reject(err); }
      });
    });
  }, answer);
}

if (mode === 'browser-calls') {
  await check(`Chromium (alice's page) calls ${phone} (baresip, plain RTP/AVP account): anchored in rtpengine, audio both ways, Chromium hangs up, rtpengine empty`, async () => {
    const page = await clientPage();
    const mark = logSize(), since = ctrl.events.length;
    const answer = await withTimeout(page.evaluate(async (phone) => {
      const sb = new window.SB.Switchboard();
      await sb.connect();
      await sb.register('alice');
      window.call = await sb.call(phone, { audio: true });
      await new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error(`not connected within 15 s (ice ${window.call.pc.iceConnectionState}, ${window.call.pc.connectionState})`)), 15000);
        window.call.addEventListener('connected', resolve);
        window.call.addEventListener('ended', (e) => reject(new Error(`ended before connecting: ${JSON.stringify(e.detail)}`)));
      });
      return window.call.pc.remoteDescription.sdp;
    }, phone), 20000, 'call setup').catch(async (e) => {
      // What Chromium was given, to say why it did not connect.
      const sdp = await page.evaluate(() => window.call?.pc?.remoteDescription?.sdp).catch(() => null);
      const lines = (sdp || '').split(/\r?\n/).filter((l) => /^(m=|c=|a=(setup|fingerprint|candidate|ice-|rtcp|crypto|group|mid))/.test(l));
      throw new Error(`${e.message}; Chromium's remote SDP: ${lines.join(' | ') || 'none'}`);
    });
    await ctrl.waitEvent('CALL_ESTABLISHED', 5000, since);
    const invite = assertPlainFromRelay(sipSdp(mark, /^INVITE sip:/), 'the INVITE baresip received');
    const toPage = assertWebRtcFromRelay(answer, 'the answer Chromium got');
    const a = await pageAudio(page);
    const relay = await relayBothWays();
    await page.evaluate(() => window.call.hangup('done'));
    await ctrl.waitEvent('CALL_CLOSED', 5000, since);
    const b = await phoneStats(mark);
    await page.close();
    if (!(b.rx > 0 && b.tx > 0)) throw new Error(`baresip RTP rx=${b.rx} tx=${b.tx}`);
    await relayEmpty();
    return `INVITE to baresip: ${invite}; answer to Chromium: ${toPage}; Chromium packetsReceived ${a.from}->${a.to}, sent ${a.sent} (${a.transport.srtp}, DTLS ${a.transport.dtls}); baresip rx=${b.rx} tx=${b.tx}; rtpengine during the call: ${relay}; rtpengine list empty after hangup`;
  });
} else if (mode === 'phone-calls') {
  await check(`${phone} (baresip, plain RTP/AVP) calls Chromium registered as alice: anchored in rtpengine, audio both ways, hold and resume (re-INVITEs through rtpengine), baresip hangs up, rtpengine empty`, async () => {
    const page = await clientPage();
    await registerAlice(page);
    const mark = logSize(), since = ctrl.events.length;
    await ctrl.command('dial', `sip:alice@${gatewaySip}`);
    const incoming = await withTimeout(page.evaluate(() => window.incoming), 10000, 'incoming call in Chromium');
    await ctrl.waitEvent('CALL_ESTABLISHED', 10000, since);
    await withTimeout(page.evaluate(() => new Promise((resolve) => {
      if (window.call.pc.connectionState === 'connected') resolve();
      window.call.addEventListener('connected', resolve);
    })), 15000, 'Chromium connected');
    const ok200 = assertPlainFromRelay(sipSdp(mark, /^SIP\/2\.0 200 /), 'the 200 OK baresip received');
    const toPage = assertWebRtcFromRelay(incoming.offer, 'the offer Chromium got');
    const a = await pageAudio(page);
    const relay = await relayBothWays();
    // Hold and resume from the phone: re-INVITEs (a=sendonly, then a=sendrecv) through rtpengine.
    const audioDir = () => page.evaluate(() => {
      const sdp = window.call.pc.remoteDescription?.sdp || '';
      const audio = sdp.split(/\r?\n(?=m=)/).find((x) => x.startsWith('m=audio')) || '';
      const m = audio.match(/^a=(sendrecv|sendonly|recvonly|inactive)$/m);
      return window.call.pc.signalingState === 'stable' ? (m ? m[1] : 'sendrecv') : 'renegotiating';
    });
    const until = async (want, what) => {
      for (let i = 0; i < 80; i++) {
        const d = await audioDir();
        if (want(d)) return d;
        await sleep(100);
      }
      throw new Error(`${what}: Chromium's remote audio direction is ${await audioDir()}`);
    };
    await ctrl.command('hold');
    const held = await until((d) => d === 'sendonly' || d === 'inactive', 'no hold offer reached Chromium');
    await ctrl.command('resume');
    await until((d) => d === 'sendrecv', 'no resume offer reached Chromium');
    const a2 = await pageAudio(page);
    await ctrl.command('hangup');
    const ended = await pageEnded(page, 5000);
    await ctrl.waitEvent('CALL_CLOSED', 5000, since);
    const b = await phoneStats(mark);
    await page.close();
    if (!(b.rx > 0 && b.tx > 0)) throw new Error(`baresip RTP rx=${b.rx} tx=${b.tx}`);
    if (!ended) throw new Error('Chromium got no `ended` event within 5 s of baresip hanging up');
    if (ended.local) throw new Error(`the call ended locally: ${JSON.stringify(ended)}`);
    await relayEmpty();
    return `from=${incoming.from}; offer to Chromium: ${toPage}; 200 OK to baresip: ${ok200}; hold through rtpengine: Chromium got ${held}, then sendrecv, packetsReceived after resume ${a2.from}->${a2.to}; Chromium packetsReceived ${a.from}->${a.to}, sent ${a.sent}; baresip rx=${b.rx} tx=${b.tx}; rtpengine during the call: ${relay}; Chromium ended ${JSON.stringify(ended)}; rtpengine list empty after hangup`;
  });
} else if (mode === 'refused') {
  const reasons = (process.env.EXPECT_REASONS || 'unavailable,incompatible').split(',');
  const maxMs = Number(process.env.EXPECT_MS || 6000);
  // The SIP final responses the phone may get (BRIDGE.md: 488 incompatible, 480 unavailable).
  const codes = (process.env.EXPECT_SIP || '480,488').split(',');
  await check(`${label}: Chromium's call to ${phone} is refused within ${maxMs} ms with hangup ${reasons.join('/')}`, async () => {
    const page = await clientPage();
    const mark = logSize();
    const t = Date.now();
    const ended = await withTimeout(page.evaluate(async (phone) => {
      const sb = new window.SB.Switchboard();
      await sb.connect();
      await sb.register('alice');
      window.call = await sb.call(phone, { audio: true });
      return new Promise((resolve, reject) => {
        window.call.addEventListener('ended', (e) => resolve(e.detail));
        window.call.addEventListener('connected', () => reject(new Error('the call connected')));
      });
    }, phone), 20000, 'hangup');
    const ms = Date.now() - t;
    await page.close();
    const invite = sipSdp(mark, /^INVITE sip:/);
    const detail = `${ms} ms, ended ${JSON.stringify(ended)}; baresip ${invite ? `got an INVITE (${mline(invite)?.[0]})` : 'got no INVITE'}`;
    console.log(`INFO ${label}: browser->${phone}: ${detail}`);
    if (!reasons.includes(ended.reason)) throw new Error(`reason ${ended.reason}: ${detail}`);
    if (ms > maxMs) throw new Error(`too slow: ${detail}`);
    return detail;
  });
  await check(`${label}: ${phone}'s call to alice is refused within ${maxMs} ms with SIP ${codes.join('/')}, the page gets no call`, async () => {
    const page = await clientPage();
    await registerAlice(page, false);
    const mark = logSize(), since = ctrl.events.length;
    const t = Date.now();
    await ctrl.command('dial', `sip:alice@${gatewaySip}`);
    const closed = await ctrl.waitEvent('CALL_CLOSED', 20000, since);
    const ms = Date.now() - t;
    const calls = await page.evaluate(() => window.calls);
    await page.close();
    const final = /^SIP\/2\.0 ([4-6]\d\d) (.*)$/m.exec(logSince(mark));
    const detail = `${ms} ms, baresip CALL_CLOSED "${closed.param}", final response ${final ? `${final[1]} ${final[2].trim()}` : 'none in the trace'}; calls offered to the page: ${calls}`;
    console.log(`INFO ${label}: ${phone}->alice: ${detail}`);
    if (!final || !codes.includes(final[1])) throw new Error(`not SIP ${codes.join('/')}: ${detail}`);
    if (calls !== 0) throw new Error(`the page was offered the call: ${detail}`);
    if (ms > maxMs) throw new Error(`too slow: ${detail}`);
    return detail;
  });
} else {
  console.log(`FAIL usage (unknown mode ${mode})`);
  failed++;
}

ctrl.close();
await browser.close();
process.exit(failed ? 1 : 0);
