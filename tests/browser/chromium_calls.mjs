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
// Over WSS (`serve --tls self-signed`) the certificate is ours, made at start.
const secure = base.startsWith('https:');
const only = process.env.ONLY ? new Set(process.env.ONLY.split(',')) : null;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Loopback-only namespace: host candidates on 127.0.0.1 need these (shared/recipes, Chromium section).
  '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  ...(secure ? ['--ignore-certificate-errors'] : [])];

let passed = 0, failed = 0;
async function check(name, fn, key) {
  if (only && !only.has(key)) return;
  name = secure ? `${name} [wss]` : name;
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
}, 'datachannel');

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
}, 'audio');

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
}, 'demo');

await check('client reconnects after a dropped connection, registers and joins again', async () => {
  const [a, b] = [await clientPage(), await clientPage()];
  const room = `re-${Date.now()}`;
  await b.evaluate(async (room) => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    await sb.join(room);
    window.events = [];
    for (const t of ['peer-joined', 'peer-left']) sb.addEventListener(t, (e) => window.events.push(`${t} ${e.detail.peer}`));
  }, room);
  const r = await a.evaluate(async (room) => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    await sb.register('carol');
    await sb.join(room);
    const first = sb.id;
    // Drop the connection as a network failure would (not sb.close(), which means "for good").
    const reopened = new Promise((resolve) => sb.addEventListener('open', resolve, { once: true }));
    sb._ws.close();
    await reopened;
    // The name and the room come back after the reconnect; wait until the name is ours again.
    for (let i = 0; i < 50 && !(sb.rooms.has(room)); i++) await new Promise((r) => setTimeout(r, 100));
    return { first, second: sb.id };
  }, room);
  if (r.first === r.second) throw new Error('same id after reconnect');
  await b.waitForFunction((id) => window.events.includes(`peer-joined ${id}`), r.second, { timeout: 5000 });
  const events = await b.evaluate(() => window.events);
  if (!events.includes(`peer-left ${r.first}`)) throw new Error(JSON.stringify(events));
  // The name was registered again: a third page can call it by name.
  const c = await clientPage();
  const reached = await c.evaluate(async () => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    return new Promise((resolve) => {
      sb.addEventListener('error', (e) => resolve(e.detail.code));
      sb.send({ type: 'offer', to: 'carol', session: 'probe', sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' });
      setTimeout(() => resolve('relayed'), 1000);
    });
  });
  if (reached !== 'relayed') throw new Error(`calling carol after the reconnect: ${reached}`);
  await a.close(); await b.close(); await c.close();
  return `ids ${r.first} -> ${r.second}; b saw ${events.join(', ')}`;
}, 'reconnect');

await check('Chromium gathers with the embedded STUN server from welcome', async () => {
  const page = await clientPage();
  const r = await page.evaluate(async () => {
    const sb = new window.SB.Switchboard();
    await sb.connect();
    const pc = new RTCPeerConnection({ iceServers: sb.iceServers });
    pc.createDataChannel('probe');
    const types = [];
    pc.onicecandidate = (e) => e.candidate && types.push(e.candidate.type);
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
      setTimeout(resolve, 8000);
    });
    pc.close();
    return { urls: sb.iceServers.flatMap((s) => s.urls), types };
  });
  const metrics = await page.evaluate(async () => (await fetch('/metrics')).text());
  const answered = Number(metrics.match(/^switchboard_stun_requests_total (\d+)$/m)?.[1] ?? 0);
  if (!r.urls.some((u) => u.startsWith('stun:127.0.0.1:'))) throw new Error(`welcome ICE servers ${r.urls}`);
  if (!(answered > 0)) throw new Error(`no STUN request answered (candidates ${r.types})`);
  await page.close();
  // On loopback the server-reflexive address equals the host one, so Chromium drops it as redundant.
  return `iceServers=${r.urls.join(',')} candidates=[${r.types}] stun_requests_total=${answered}`;
}, 'stun');

if (process.env.TURN_URL) {
  await check('relay-only call through coturn with TURN REST credentials from welcome', async () => {
    const [a, b] = [await clientPage(), await clientPage()];
    const relay = { rtcConfiguration: { iceTransportPolicy: 'relay' } };
    await b.evaluate(async (opts) => {
      const sb = new window.SB.Switchboard(undefined, opts);
      await sb.connect();
      await sb.register('bob-relay');
      sb.addEventListener('call', (e) => {
        e.detail.addEventListener('datachannel', (ev) => { ev.detail.onmessage = (m) => ev.detail.send(`pong:${m.data}`); });
        e.detail.answer({});
      });
    }, relay);
    const r = await a.evaluate(async (opts) => {
      const sb = new window.SB.Switchboard(undefined, opts);
      await sb.connect();
      const turn = sb.iceServers.find((s) => s.urls.some((u) => u.startsWith('turn:')));
      if (!turn || !/^\d+:[0-9a-f]{16}$/.test(turn.username)) throw new Error(`no TURN credentials: ${JSON.stringify(sb.iceServers)}`);
      const call = await sb.call('bob-relay', { data: true });
      const reply = await new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error('no reply within 15 s')), 15000);
        call.dataChannel.onopen = () => call.dataChannel.send('ping');
        call.dataChannel.onmessage = (m) => resolve(m.data);
      });
      const stats = await call.pc.getStats();
      let pair = null;
      for (const s of stats.values()) if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
      const local = pair && stats.get(pair.localCandidateId);
      const remote = pair && stats.get(pair.remoteCandidateId);
      return { reply, local: local?.candidateType, remote: remote?.candidateType, user: turn.username };
    }, relay);
    if (r.reply !== 'pong:ping' || r.local !== 'relay') throw new Error(JSON.stringify(r));
    await a.close(); await b.close();
    return `selected pair ${r.local}<->${r.remote}, TURN user ${r.user}`;
  }, 'turn');
}

if (process.env.TURN_URL && only?.has('hidehost')) {
  // Run against a gateway started with --hide-host-candidates (run.sh): the pages gather host
  // candidates on 127.0.0.1 (loopback, hidden) and relay candidates through coturn (kept).
  await check('--hide-host-candidates: the callee learns no host candidate, only relay ones, and the call connects through TURN', async () => {
    const [a, b] = [await clientPage(), await clientPage()];
    await b.evaluate(async () => {
      const sb = new window.SB.Switchboard();
      await sb.connect();
      await sb.register('bob-hidden');
      window.seen = [];
      sb.addEventListener('message', (e) => window.seen.push(e.detail));
      sb.addEventListener('call', (e) => {
        window.call = e.detail;
        e.detail.addEventListener('datachannel', (ev) => { ev.detail.onmessage = (m) => ev.detail.send(`pong:${m.data}`); });
        e.detail.answer({});
      });
    });
    const r = await a.evaluate(async () => {
      const sb = new window.SB.Switchboard();
      await sb.connect();
      window.seen = [];
      sb.addEventListener('message', (e) => window.seen.push(e.detail));
      const call = await sb.call('bob-hidden', { data: true });
      const reply = await new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error('no reply within 15 s')), 15000);
        call.dataChannel.onopen = () => call.dataChannel.send('ping');
        call.dataChannel.onmessage = (m) => resolve(m.data);
      });
      // What this page gathered itself: host candidates existed, so hiding them was real work.
      const own = (call.pc.localDescription.sdp.match(/typ host/g) || []).length;
      return { reply, own };
    });
    const learned = async (page) => page.evaluate(() => {
      const lines = [];
      for (const m of window.seen) {
        if (m.type === 'candidate' && m.candidate) lines.push(m.candidate.candidate);
        if (m.sdp) lines.push(...m.sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')));
      }
      return lines;
    });
    const [toA, toB] = [await learned(a), await learned(b)];
    const hosts = [...toA, ...toB].filter((l) => / typ host/.test(l));
    const relays = [...toA, ...toB].filter((l) => / typ relay/.test(l));
    if (r.reply !== 'pong:ping') throw new Error(`data channel: ${JSON.stringify(r)}`);
    if (hosts.length) throw new Error(`host candidates reached a page: ${hosts.join(' | ')}`);
    if (!relays.length || !r.own) throw new Error(`relayed ${relays.length} relay candidates; caller gathered ${r.own} host candidates`);
    await a.close(); await b.close();
    return `caller gathered ${r.own} host candidates; the pages learned ${toA.length + toB.length} candidates, none host, ${relays.length} relay; data channel ping/pong`;
  }, 'hidehost');
}

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
