#!/usr/bin/env node
// Capture SDPs produced by headless Debian Chromium (driven by playwright-core, no downloaded browser),
// and by JsSIP / SIP.js running inside that Chromium.
//
// usage: node chromium.js ID=OUTFILE [ID=OUTFILE ...]
//        node chromium.js version            (prints the browser version, e.g. 156.0.8078.79)
// IDs:
//   offer-av-dc          trickle offer: localDescription right after setLocalDescription; fake mic+camera + DataChannel
//   answer-av-dc         a second page answering offer-av-dc (trickle, right after setLocalDescription)
//   offer-simulcast      video transceiver, sendEncodings rid h/m/l (+ fake camera track)
//   offer-non-trickle    audio+video offer taken after iceGatheringState == 'complete' (a=candidate lines included)
//   offer-dc-only        DataChannel-only trickle offer
//   offer-dc-mdns        DataChannel-only offer after gathering, in a browser context WITHOUT media permission:
//                        Chromium hides host IPs behind <uuid>.local mDNS names
//   answer-aiortc        answer to the offer in $AIORTC_OFFER (mic track), trickle
//   jssip-invite         INVITE body JsSIP sends over a SIP WebSocket (audio call), see sip_ws_sink.js
//   sipjs-invite         INVITE body SIP.js sends over a SIP WebSocket (audio+video call)
//
// Must run inside the private network namespace prepared by capture-all.sh (lo + veth v0 10.77.0.1);
// the page server and the SIP WebSocket sink listen on 127.0.0.1 only.
// Every SDP is written byte for byte as Chromium/JsSIP/SIP.js produced it (CRLF).
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');
const { startSipWsSink } = require('./sip_ws_sink');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const BASE_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection', '--use-fake-device-for-media-stream'];
const STEP_TIMEOUT_MS = 15000;
const log = (...a) => console.error('[chromium.js]', ...a);

function bundle(entry, outfile) {
  require('esbuild').buildSync({ entryPoints: [path.join(__dirname, entry)], bundle: true, format: 'iife',
    platform: 'browser', outfile, logLevel: 'error', absWorkingDir: __dirname });
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timeout ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

// In-page helpers, installed with addInitScript.
function pageHelpers() {
  window.gatherComplete = (pc, ms) => new Promise((res, rej) => {
    if (pc.iceGatheringState === 'complete') return res();
    const t = setTimeout(() => rej(new Error('ICE gathering did not complete')), ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); res(); }
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  const want = Object.fromEntries(args.filter(a => a.includes('=')).map(a => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: BASE_FLAGS });
  if (args[0] === 'version') { console.log(browser.version()); await browser.close(); return 0; }

  const tmp = fs.mkdtempSync('/tmp/sb-chromium-');
  const files = { '/': ['text/html', '<!doctype html><title>sdp capture</title>'] };
  if (want['jssip-invite']) { bundle('jssip_entry.js', `${tmp}/jssip.js`); files['/jssip.js'] = ['text/javascript', fs.readFileSync(`${tmp}/jssip.js`)]; }
  if (want['sipjs-invite']) { bundle('sipjs_entry.js', `${tmp}/sipjs.js`); files['/sipjs.js'] = ['text/javascript', fs.readFileSync(`${tmp}/sipjs.js`)]; }
  fs.rmSync(tmp, { recursive: true, force: true });
  const server = http.createServer((req, res) => {
    const f = files[req.url.split('?')[0]];
    if (!f) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'content-type': f[0] }); res.end(f[1]);
  });
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const origin = `http://127.0.0.1:${port}`;
  const sink = startSipWsSink(server);

  // Context A: media permission granted -> real host IPs (127.0.0.1, 10.77.0.1, ...). Context B: none -> mDNS.
  const ctxA = await browser.newContext({ permissions: ['microphone', 'camera'] });
  const ctxB = await browser.newContext();
  for (const c of [ctxA, ctxB]) await c.addInitScript(pageHelpers);
  const newPage = async (ctx) => {
    const p = await ctx.newPage();
    p.on('pageerror', e => log('pageerror', String(e)));
    p.on('console', m => { if (m.type() === 'error') log('console', m.text()); });
    await p.goto(origin + '/');
    return p;
  };
  const pageA = await newPage(ctxA);

  let failed = 0;
  const results = {};
  async function step(id, fn) {
    if (!want[id]) return;
    try {
      const sdp = await withTimeout(fn(), STEP_TIMEOUT_MS, id);
      if (typeof sdp !== 'string' || !sdp.length) throw new Error('empty SDP');
      fs.writeFileSync(want[id], sdp, 'utf8');
      results[id] = sdp;
      log('captured', id, '->', want[id]);
    } catch (e) { failed++; log('FAILED', id, e && e.stack || e); }
  }

  await step('offer-av-dc', () => pageA.evaluate(async () => {
    const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = window.pcAvDc = new RTCPeerConnection();
    s.getTracks().forEach(t => pc.addTrack(t, s));
    pc.createDataChannel('chat');
    await pc.setLocalDescription(await pc.createOffer());
    return pc.localDescription.sdp;
  }));

  await step('answer-av-dc', async () => {
    if (!results['offer-av-dc']) throw new Error('needs offer-av-dc');
    const p2 = await newPage(ctxA);
    return p2.evaluate(async (offer) => {
      const pc = window.pc = new RTCPeerConnection();
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      s.getTracks().forEach(t => pc.addTrack(t, s));
      await pc.setLocalDescription(await pc.createAnswer());
      return pc.localDescription.sdp;
    }, results['offer-av-dc']);
  });

  await step('offer-simulcast', () => pageA.evaluate(async () => {
    const s = await navigator.mediaDevices.getUserMedia({ video: true });
    const pc = new RTCPeerConnection();
    pc.addTransceiver(s.getVideoTracks()[0], { direction: 'sendonly', streams: [s], sendEncodings: [
      { rid: 'h', maxBitrate: 1200000 },
      { rid: 'm', maxBitrate: 300000, scaleResolutionDownBy: 2 },
      { rid: 'l', maxBitrate: 100000, scaleResolutionDownBy: 4 }] });
    await pc.setLocalDescription(await pc.createOffer());
    return pc.localDescription.sdp;
  }));

  await step('offer-non-trickle', () => pageA.evaluate(async () => {
    const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection();
    s.getTracks().forEach(t => pc.addTrack(t, s));
    await pc.setLocalDescription(await pc.createOffer());
    await window.gatherComplete(pc, 10000);
    return pc.localDescription.sdp;
  }));

  await step('offer-dc-only', () => pageA.evaluate(async () => {
    const pc = new RTCPeerConnection();
    pc.createDataChannel('data');
    await pc.setLocalDescription(await pc.createOffer());
    return pc.localDescription.sdp;
  }));

  await step('offer-dc-mdns', async () => {
    const pB = await newPage(ctxB);
    return pB.evaluate(async () => {
      const pc = new RTCPeerConnection();
      pc.createDataChannel('data');
      await pc.setLocalDescription(await pc.createOffer());
      await window.gatherComplete(pc, 10000);
      return pc.localDescription.sdp;
    });
  });

  await step('answer-aiortc', async () => {
    const offer = fs.readFileSync(process.env.AIORTC_OFFER, 'utf8');
    return pageA.evaluate(async (offer) => {
      const pc = new RTCPeerConnection();
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const s = await navigator.mediaDevices.getUserMedia({ audio: true });
      s.getTracks().forEach(t => pc.addTrack(t, s));
      await pc.setLocalDescription(await pc.createAnswer());
      return pc.localDescription.sdp;
    }, offer);
  });

  await step('jssip-invite', async () => {
    const got = sink.next('/jssip');
    const p = await newPage(ctxA);
    await p.addScriptTag({ url: '/jssip.js' });
    await p.evaluate((url) => {
      const ua = new window.JsSIP.UA({ sockets: [new window.JsSIP.WebSocketInterface(url)],
        uri: 'sip:alice@switchboard.invalid', display_name: 'Alice', register: false });
      ua.on('connected', () => ua.call('sip:bob@switchboard.invalid',
        { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } }));
      ua.start();
      window.ua = ua;
    }, `ws://127.0.0.1:${port}/jssip`);
    return (await got).body;
  });

  await step('sipjs-invite', async () => {
    const got = sink.next('/sipjs');
    const p = await newPage(ctxA);
    await p.addScriptTag({ url: '/sipjs.js' });
    await p.evaluate(async (url) => {
      const SIP = window.SIP;
      const ua = new SIP.UserAgent({ uri: SIP.UserAgent.makeURI('sip:alice@switchboard.invalid'),
        transportOptions: { server: url }, logLevel: 'error',
        sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 5000 } });
      await ua.start();
      const inviter = new SIP.Inviter(ua, SIP.UserAgent.makeURI('sip:bob@switchboard.invalid'),
        { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: true } } });
      inviter.invite().catch(e => console.error('invite failed', String(e)));
      window.ua = ua;
    }, `ws://127.0.0.1:${port}/sipjs`);
    return (await got).body;
  });

  for (const id of Object.keys(want)) if (!(id in results) && !['offer-av-dc', 'answer-av-dc', 'offer-simulcast',
    'offer-non-trickle', 'offer-dc-only', 'offer-dc-mdns', 'answer-aiortc', 'jssip-invite', 'sipjs-invite'].includes(id)) {
    failed++; log('FAILED unknown capture id', id);
  }
  await browser.close();
  sink.close();
  server.close();
  return failed ? 1 : 0;
}

main().then(rc => process.exit(rc), e => { log('FATAL', e && e.stack || e); process.exit(2); });
