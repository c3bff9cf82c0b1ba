// Audio between a real Chromium page using /switchboard.js and baresip 1.0 with
// its WebRTC account options (`medianat=ice;mediaenc=dtls_srtp`, rtcp_mux yes),
// through Switchboard's SIP side, both ways. Run by baresip_calls.sh inside its
// private network namespace; it drives baresip over ctrl_tcp.
//
//   node chromium_baresip.mjs BASE_URL PHONE CTRL_PORT PHONE_LOG
//     PHONE: the name the baresip account registered (e.g. carol)
//     PHONE_LOG: baresip's stdout, where it prints its RTP stats when a call ends
//
// Prints `PASS name` / `FAIL name (why)` per check; exits 1 on any failure.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BaresipCtrl } from './baresip_ctrl.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('../peers/node_modules/playwright-core');

const [base, phone, ctrlPort, phoneLog] = process.argv.slice(2);
const gatewaySip = process.env.GATEWAY_SIP || '127.0.0.1:5070';
// No --allow-loopback-in-peer-connection: the namespace has a veth address
// (10.77.0.1) that both Chromium and baresip's ice module gather (shared/recipes).
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
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

const logSize = () => readFileSync(phoneLog).length;
/**
 * baresip's own RTP counters for the call that ended after log offset `from`
 * (`rtp_stats yes` prints "audio Transmit: Receive:" then "packets: TX RX" at call end).
 */
async function phoneStats(from) {
  const re = /audio\s+Transmit:\s+Receive:\s*\r?\npackets:\s+(\d+)\s+(\d+)/;
  for (let i = 0; i < 30; i++) {
    const text = readFileSync(phoneLog).subarray(from).toString();
    const m = re.exec(text);
    if (m) {
      return {
        tx: Number(m[1]), rx: Number(m[2]),
        dtls: /DTLS-SRTP complete \(audio\/RTP\) Profile=(\S+)/.exec(text)?.[1] ?? null,
        ice: /ice: audio: connectivity check is complete/.test(text),
        fingerprint: /verified (\S+) fingerprint OK/.exec(text)?.[1] ?? null,
      };
    }
    await sleep(100);
  }
  throw new Error('baresip printed no RTP stats for the call');
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
const context = await browser.newContext();
await context.grantPermissions(['microphone']);
const ctrl = await BaresipCtrl.connect(Number(ctrlPort));

async function clientPage() {
  const page = await context.newPage();
  page.on('console', (m) => process.env.VERBOSE && console.log('page:', m.text()));
  // Errors the client library does not surface (e.g. a refused remote description).
  page.on('pageerror', (e) => { pageErrors.push(String(e.message || e)); console.log('page error:', String(e.message || e)); });
  await page.goto(`${base}/healthz`);
  await page.addScriptTag({ type: 'module', content: "import * as m from '/switchboard.js'; window.SB = m;" });
  await page.waitForFunction(() => window.SB);
  return page;
}

/** Chromium's inbound audio packets (polls until > 0, up to ~10 s) and its transport state. */
const pageStats = (page) => page.evaluate(async () => {
  let inbound = 0, outbound = 0, transport = {};
  for (let i = 0; i < 50; i++) {
    for (const s of (await window.call.pc.getStats()).values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') inbound = s.packetsReceived;
      if (s.type === 'outbound-rtp' && s.kind === 'audio') outbound = s.packetsSent;
      if (s.type === 'transport') transport = { dtls: s.dtlsState, srtp: s.srtpCipher, ice: s.iceState };
    }
    if (inbound > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { inbound, outbound, transport };
});

/** Resolves with the detail of the page call's `ended` event. */
const pageEnded = (page, ms) => page.evaluate((ms) => new Promise((resolve) => {
  if (window.endedDetail) resolve(window.endedDetail);
  window.call.addEventListener('ended', (e) => resolve(e.detail));
  setTimeout(() => resolve(null), ms);
}), ms);

await check(`Chromium calls ${phone} (baresip ICE + DTLS-SRTP): audio both ways, Chromium hangs up, baresip's call closes`, async () => {
  const page = await clientPage();
  const mark = logSize(), since = ctrl.events.length;
  const sdp = await withTimeout(page.evaluate(async (phone) => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    window.call = await sb.call(phone, { audio: true });
    await new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error(`not connected within 15 s (ice ${window.call.pc.iceConnectionState}, ${window.call.pc.connectionState})`)), 15000);
      window.call.addEventListener('connected', resolve);
      window.call.addEventListener('ended', (e) => reject(new Error(`ended before connecting: ${JSON.stringify(e.detail)}`)));
    });
    return window.call.pc.remoteDescription.sdp;
  }, phone), 20000, 'call setup');
  await ctrl.waitEvent('CALL_ESTABLISHED', 5000, since);
  await sleep(1000); // a second of audio both ways
  const s = await pageStats(page);
  await page.evaluate(() => window.call.hangup('done'));
  await ctrl.waitEvent('CALL_CLOSED', 5000, since);
  const b = await phoneStats(mark);
  await page.close();
  if (!(s.inbound > 0)) throw new Error(`Chromium inbound-rtp packetsReceived=${s.inbound} (transport ${JSON.stringify(s.transport)})`);
  if (!(b.rx > 0)) throw new Error(`baresip received ${b.rx} RTP packets (sent ${b.tx})`);
  const proto = /m=audio \d+ (\S+)/.exec(sdp)?.[1];
  return `Chromium packetsReceived=${s.inbound} (${s.transport.srtp}, DTLS ${s.transport.dtls}); baresip rx=${b.rx} tx=${b.tx} packets (DTLS-SRTP ${b.dtls}, ICE ${b.ice ? 'complete' : '?'}); answer proto ${proto}`;
});

await check(`${phone} (baresip ICE + DTLS-SRTP) calls Chromium registered as alice: audio both ways, baresip hangs up, Chromium's call ends`, async () => {
  const page = await clientPage();
  await page.evaluate(async () => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    await sb.register('alice');
    window.incoming = new Promise((resolve, reject) => {
      sb.addEventListener('call', async (e) => {
        window.call = e.detail;
        window.call.addEventListener('ended', (ev) => { window.endedDetail = ev.detail; });
        try {
          window.call.ring();
          await window.call.answer({ audio: true });
          resolve({ from: window.call.remote, offer: window.call.pc.remoteDescription.sdp });
        } catch (err) { reject(err); }
      });
    });
  });
  const mark = logSize(), since = ctrl.events.length;
  await ctrl.command('dial', `sip:alice@${gatewaySip}`);
  const incoming = await withTimeout(page.evaluate(() => window.incoming), 10000, 'incoming call in Chromium');
  await ctrl.waitEvent('CALL_ESTABLISHED', 10000, since);
  await withTimeout(page.evaluate(() => new Promise((resolve) => {
    if (window.call.pc.connectionState === 'connected') resolve();
    window.call.addEventListener('connected', resolve);
  })), 15000, 'Chromium connected');
  await sleep(1000);
  const s = await pageStats(page);
  await ctrl.command('hangup');
  const ended = await pageEnded(page, 5000);
  await ctrl.waitEvent('CALL_CLOSED', 5000, since);
  const b = await phoneStats(mark);
  await page.close();
  if (!(s.inbound > 0)) throw new Error(`Chromium inbound-rtp packetsReceived=${s.inbound} (transport ${JSON.stringify(s.transport)})`);
  if (!(b.rx > 0)) throw new Error(`baresip received ${b.rx} RTP packets (sent ${b.tx})`);
  if (!ended) throw new Error('Chromium got no `ended` event within 5 s of baresip hanging up');
  if (ended.local) throw new Error(`the call ended locally: ${JSON.stringify(ended)}`);
  const proto = /m=audio \d+ (\S+)/.exec(incoming.offer)?.[1];
  return `from=${incoming.from}, offer proto ${proto}; Chromium packetsReceived=${s.inbound} (${s.transport.srtp}); baresip rx=${b.rx} tx=${b.tx} (DTLS-SRTP ${b.dtls}); ended ${JSON.stringify(ended)}`;
});

ctrl.close();
await browser.close();
process.exit(failed ? 1 : 0);
