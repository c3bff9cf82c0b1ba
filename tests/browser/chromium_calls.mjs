// Real-browser tests of `switchboard serve`: two headless Chromium pages use
// /switchboard.js to meet in a room and open real RTCPeerConnections through
// the server. Run inside a private network namespace by run.sh.
//
//   node chromium_calls.mjs BASE_URL SCREENSHOT_DIR
//
// Prints one line per check and a final "N passed, N failed"; exits non-zero on any failure.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { chromium } = require('../peers/node_modules/playwright-core');

const [base, shots] = process.argv.slice(2);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Loopback-only namespace: host candidates on 127.0.0.1 need these (shared/recipes, Chromium section).
  '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

let passed = 0, failed = 0;
async function check(name, fn) {
  const t = Date.now();
  try {
    const detail = await fn();
    passed++;
    console.log(`ok     ${name} (${Date.now() - t} ms)${detail ? ` ${detail}` : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAILED ${name} (${Date.now() - t} ms): ${e.stack || e}`);
  }
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
const context = await browser.newContext();
await context.grantPermissions(['microphone', 'camera']);

/** A same-origin page with the client module loaded as window.Switchboard. */
async function clientPage() {
  const page = await context.newPage();
  page.on('console', (m) => process.env.VERBOSE && console.log('page:', m.text()));
  await page.goto(`${base}/healthz`);
  await page.addScriptTag({ type: 'module', content: "import * as m from '/switchboard.js'; window.SB = m;" });
  await page.waitForFunction(() => window.SB);
  return page;
}

await check('datachannel message both ways through /switchboard.js', async () => {
  const [a, b] = [await clientPage(), await clientPage()];
  const room = `dc-${Date.now()}`;
  await b.evaluate(async (room) => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    await sb.register('bob');
    await sb.join(room);
    window.received = new Promise((resolve) => {
      sb.addEventListener('call', async (e) => {
        const call = e.detail;
        call.addEventListener('datachannel', (ev) => {
          ev.detail.onmessage = (m) => { ev.detail.send(`pong:${m.data}`); resolve(m.data); };
        });
        await call.answer({});
      });
    });
  }, room);
  const result = await a.evaluate(async (room) => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    const peers = await sb.join(room);
    if (peers.length !== 1) throw new Error(`joined ${JSON.stringify(peers)}`);
    const call = await sb.call('bob', { data: true });
    return await new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error('no reply within 15 s')), 15000);
      call.dataChannel.onopen = () => call.dataChannel.send('ping');
      call.dataChannel.onmessage = (m) => resolve(m.data);
    });
  }, room);
  const got = await b.evaluate(() => window.received);
  if (result !== 'pong:ping' || got !== 'ping') throw new Error(`a got ${result}, b got ${got}`);
  await a.close(); await b.close();
  return `a<-"${result}" b<-"${got}"`;
});

await check('fake-device audio arrives both ways (inbound-rtp packetsReceived > 0)', async () => {
  const [a, b] = [await clientPage(), await clientPage()];
  await b.evaluate(async () => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    await sb.register('bob-audio');
    sb.addEventListener('call', (e) => { window.call = e.detail; e.detail.answer({ audio: true }); });
  });
  await a.evaluate(async () => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    window.call = await sb.call('bob-audio', { audio: true });
    await new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error('not connected within 15 s')), 15000);
      window.call.addEventListener('connected', resolve);
    });
  });
  const received = async (page) => page.evaluate(async () => {
    for (let i = 0; i < 50; i++) {
      const stats = await window.call.pc.getStats();
      for (const s of stats.values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.packetsReceived > 0) return s.packetsReceived;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return 0;
  });
  const [ra, rb] = [await received(a), await received(b)];
  if (!(ra > 0 && rb > 0)) throw new Error(`packetsReceived a=${ra} b=${rb}`);
  await a.evaluate(() => window.call.hangup('done'));
  const ended = await b.evaluate(() => new Promise((resolve) => {
    if (window.call.ended) resolve('already');
    window.call.addEventListener('ended', (e) => resolve(e.detail.reason));
    setTimeout(() => resolve('timeout'), 5000);
  }));
  if (ended !== 'done' && ended !== 'already') throw new Error(`b's call ended with ${ended}`);
  await a.close(); await b.close();
  return `packetsReceived a=${ra} b=${rb}`;
});

await check('demo page: video call between two pages, screenshot', async () => {
  const room = `demo-${Date.now()}`;
  const a = await context.newPage(), b = await context.newPage();
  await a.setViewportSize({ width: 1280, height: 800 });
  await a.goto(`${base}/?room=${room}`);
  await a.waitForFunction(() => window.sb?.id && window.sb.rooms.size === 1);
  await b.goto(`${base}/?room=${room}`);
  await b.waitForFunction(() => window.sb?.id && window.sb.rooms.size === 1);
  const bId = await b.evaluate(() => window.sb.id);
  await a.locator('#peers li', { hasText: bId }).getByText('Video call').click();
  await a.waitForFunction(() => document.getElementById('callstate').textContent.startsWith('connected'), null, { timeout: 15000 });
  await a.waitForFunction(() => document.getElementById('remote').videoWidth > 0, null, { timeout: 10000 });
  await a.waitForTimeout(1000);
  const path = `${shots}/demo-call.png`;
  await a.screenshot({ path });
  await a.close(); await b.close();
  return path;
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
