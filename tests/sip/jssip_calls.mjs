// Calls between JsSIP (bundled with esbuild, in headless Chromium, a SIP phone
// registered as `carol` over the gateway's /sip WebSocket with digest auth) and
// a Chromium page using /switchboard.js registered as `alice`, both ways, with
// fake-device audio: packets counted on both RTCPeerConnections, hangup from
// either side, a rejected call. Run inside a private network namespace by
// run_jssip_calls.sh.
//
//   node jssip_calls.mjs BASE_URL     (VERBOSE=1: page consoles and JsSIP's SIP trace)
//
// Prints `PASS name` / `FAIL name (why)` per check and `N passed, M failed`; exits 1 on failure.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = require('../peers/node_modules/playwright-core');
const esbuild = require('../peers/node_modules/esbuild');

const base = process.argv[2];
const host = new URL(base).hostname;
const wsUrl = base.replace(/^http/, 'ws') + '/sip';
const verbose = !!process.env.VERBOSE;
const started = Date.now();
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Loopback-only namespace: host candidates on 127.0.0.1 need these (shared/recipes, Chromium section).
  '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

let passed = 0, failed = 0;
function report(name, ok, why) {
  ok ? passed++ : failed++;
  const t = ((Date.now() - started) / 1000).toFixed(1);
  console.log(ok ? `PASS ${name}${why ? ` [${why}]` : ''} (t=${t}s)` : `FAIL ${name} (${why})`);
}

/**
 * Runs the steps of one scenario in order; each is a check. After a failed
 * step the remaining ones fail as skipped, and both pages drop their calls.
 */
async function scenario(steps) {
  let broken = null;
  for (const [name, fn] of steps) {
    if (broken) { report(name, false, `skipped: ${broken} failed`); continue; }
    try {
      report(name, true, await fn());
    } catch (e) {
      report(name, false, String(e?.message ?? e).split('\n')[0]);
      broken = name;
    }
  }
  if (broken) await cleanup();
}

const bundle = esbuild.buildSync({
  entryPoints: [path.join(here, '../peers/capture/jssip_entry.js')], bundle: true, format: 'iife',
  platform: 'browser', write: false, logLevel: 'silent',
}).outputFiles[0].text;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
const context = await browser.newContext();
await context.grantPermissions(['microphone', 'camera']);

// Helpers both pages use: a deadline on a promise, and the audio packets received on a peer connection.
const COMMON = `
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
};`;

// Page A: JsSIP, the SIP phone `carol`.
const a = await context.newPage();
a.on('console', (m) => verbose && console.log('A:', m.text()));
a.on('pageerror', (e) => console.log('A page error:', e.message));
await a.goto(`${base}/healthz`);
await a.addScriptTag({ content: bundle });
await a.addScriptTag({ content: COMMON + `
/** A JsSIP session with its outcome as promises. */
window.track = (session) => {
  const rec = { session, events: [], dtmf: [] };
  session.on('newDTMF', (e) => { if (e.originator === 'remote') rec.dtmf.push(e.dtmf.tone + '/' + e.dtmf.duration); });
  for (const ev of ['progress', 'accepted', 'confirmed', 'peerconnection', 'sdp']) {
    session.on(ev, (e) => rec.events.push(ev + (ev === 'progress' && e.response ? ' ' + e.response.status_code : '')));
  }
  rec.confirmed = new Promise((resolve, reject) => {
    session.on('confirmed', () => resolve());
    session.on('failed', (e) => reject(new Error('session failed: ' + e.originator + ' ' + e.cause
      + (e.message && e.message.status_code ? ' ' + e.message.status_code : ''))));
  });
  rec.confirmed.catch(() => {});
  rec.done = new Promise((resolve) => {
    session.on('ended', (e) => resolve({ how: 'ended', originator: e.originator, cause: e.cause,
      method: e.message && e.message.method }));
    session.on('failed', (e) => resolve({ how: 'failed', originator: e.originator, cause: e.cause,
      code: e.message && e.message.status_code }));
  });
  return rec;
};
/** Sends what JsSIP sends as its session refresh (UPDATE without SDP); resolves with the status code. */
window.refresh = (rec) => within(new Promise((resolve, reject) => {
  rec.session._sendUpdate({ eventHandlers: { succeeded: (r) => resolve(r.status_code),
    failed: (r) => reject(new Error('UPDATE failed: ' + (r ? r.status_code : 'no response'))) } });
}), 5000, 'no answer to UPDATE');
/** Audio packets JsSIP has received so far. */
window.jssipIn = async (rec) => {
  let n = 0;
  for (const s of (await rec.session.connection.getStats()).values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') n += s.packetsReceived;
  }
  return n;
};
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
/**
 * hold() then unhold() (re-INVITEs with SDP, a=sendonly then a=sendrecv): while held the
 * browser answers recvonly and stops sending, so JsSIP's packet count stalls; after unhold it grows.
 */
window.holdUnhold = async (rec) => {
  const r = {};
  let t = Date.now();
  await within(new Promise((resolve, reject) => {
    if (!rec.session.hold({}, resolve)) reject(new Error('hold() refused'));
  }), 8000, 'no 200 OK to the hold re-INVITE');
  r.holdMs = Date.now() - t;
  r.heldAnswer = (rec.session.connection.currentRemoteDescription.sdp.match(/a=(sendrecv|sendonly|recvonly|inactive)/) || [])[1];
  await pause(300);
  const h0 = await jssipIn(rec);
  await pause(1000);
  const h1 = await jssipIn(rec);
  t = Date.now();
  await within(new Promise((resolve, reject) => {
    if (!rec.session.unhold({}, resolve)) reject(new Error('unhold() refused'));
  }), 8000, 'no 200 OK to the unhold re-INVITE');
  r.unholdMs = Date.now() - t;
  await pause(1000);
  const u = await jssipIn(rec);
  r.counts = [h0, h1, u];
  r.ended = rec.session.isEnded();
  return r;
};
window.incoming = [];
window.waiters = [];
/** The next incoming session (already tracked). */
window.nextIncoming = (ms) => within(new Promise((resolve) => {
  if (incoming.length) resolve(incoming.shift()); else waiters.push(resolve);
}), ms, 'no incoming INVITE');
window.startUa = (wsUrl, host) => {
  if (${verbose}) JsSIP.debug.enable('JsSIP:*');
  window.ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(wsUrl)], uri: 'sip:carol@' + host,
    display_name: 'Carol', password: 'secret', register: true, register_expires: 120 });
  ua.on('newRTCSession', (e) => {
    if (e.originator !== 'remote') return;
    const rec = track(e.session);
    rec.request = { from: e.request.from.uri.toString(), fromName: e.request.from.display_name,
      to: e.request.to.uri.toString(), ruri: e.request.ruri.toString(),
      hasSdp: !!e.request.body, candidates: (e.request.body.match(/a=candidate/g) || []).length };
    if (waiters.length) waiters.shift()(rec); else incoming.push(rec);
  });
  return within(new Promise((resolve, reject) => {
    ua.on('registered', () => resolve('registered'));
    ua.on('registrationFailed', (e) => reject(new Error('registrationFailed: ' + e.cause)));
    ua.start();
  }), 8000, 'not registered');
};` });

// Page B: /switchboard.js, the browser `alice`.
const b = await context.newPage();
b.on('console', (m) => verbose && console.log('B:', m.text()));
b.on('pageerror', (e) => console.log('B page error:', e.message));
await b.goto(`${base}/healthz`);
await b.addScriptTag({ type: 'module', content: "import * as m from '/switchboard.js'; window.SB = m;" });
await b.waitForFunction(() => window.SB);
await b.addScriptTag({ content: COMMON + `
/** A Call with its events as promises. */
window.record = (call) => {
  call.events = [];
  call.dtmf = [];
  call.addEventListener('dtmf', (e) => call.dtmf.push(e.detail.digits + '/' + e.detail.duration));
  call.rang = new Promise((resolve) => call.addEventListener('ringing', () => { call.events.push('ringing'); resolve(); }));
  call.connected = new Promise((resolve) => call.addEventListener('connected', () => { call.events.push('connected'); resolve(); }));
  call.done = new Promise((resolve) => call.addEventListener('ended', (e) => resolve(e.detail)));
  return call;
};
window.incoming = [];
window.waiters = [];
window.nextCall = (ms) => within(new Promise((resolve) => {
  if (incoming.length) resolve(incoming.shift()); else waiters.push(resolve);
}), ms, 'no incoming call');
window.startSb = async () => {
  window.sb = new SB.Switchboard();
  await sb.connect();
  await sb.register('alice');
  sb.addEventListener('call', (e) => {
    const call = record(e.detail);
    if (waiters.length) waiters.shift()(call); else incoming.push(call);
  });
  sb.addEventListener('error', (e) => console.log('switchboard error', JSON.stringify(e.detail)));
};` });

/** Drops every call on both pages (after a failed step). */
async function cleanup() {
  await a.evaluate(() => {
    for (const s of Object.values(ua._sessions)) { try { s.terminate(); } catch { /* over */ } }
    window.incoming = []; window.waiters = []; window.out = window.inA = undefined;
  }).catch(() => {});
  await b.evaluate(() => {
    for (const c of sb.calls.values()) c.hangup('cleanup');
    window.incoming = []; window.waiters = []; window.call = undefined;
  }).catch(() => {});
  await a.waitForTimeout(500);
}

const audioBothWays = async (aSession, bCall) => {
  const [ra, rb] = await Promise.all([
    a.evaluate((v) => audioIn(window[v].session.connection), aSession),
    b.evaluate((v) => audioIn(window[v].pc), bCall),
  ]);
  if (!(ra > 0 && rb > 0)) throw new Error(`inbound-rtp packetsReceived JsSIP=${ra} browser=${rb}`);
  return `packetsReceived JsSIP=${ra} browser=${rb}`;
};

// --- registration
await scenario([
  ['JsSIP registers over /sip as carol (digest)', async () => a.evaluate(([u, h]) => startUa(u, h), [wsUrl, host])],
]);
await scenario([
  ['browser registers as alice over /ws', async () => { await b.evaluate(() => startSb()); }],
]);

// --- SIP -> browser: JsSIP calls alice
const callAlice = (tag) => a.evaluate(([h, tag]) => {
  window.out = track(ua.call(`sip:alice@${h}`, { mediaConstraints: { audio: true, video: false },
    pcConfig: { iceServers: [] }, extraHeaders: [`X-Test: ${tag}`] }));
  window.out.t0 = Date.now();
}, [host, tag]);
const browserAnswers = async () => {
  const info = await b.evaluate(async () => {
    window.call = await nextCall(10000);
    const remote = call.remote, remoteName = call.remoteName, offer = call._incomingOffer || '';
    call.ring();
    await call.answer({ audio: true });
    return { remote, remoteName, candidates: (offer.match(/a=candidate/g) || []).length };
  });
  await a.evaluate(async () => {
    await within(out.confirmed, 10000, 'no 200 OK/ACK');
    out.tConfirmed = Date.now() - out.t0;
  });
  return info;
};

await scenario([
  ['SIP->browser: INVITE from JsSIP reaches alice as an offer from sip:carol@', async () => {
    await callAlice('in-1');
    const info = await browserAnswers();
    if (!/^sip:carol@/.test(info.remote)) throw new Error(`offer from ${JSON.stringify(info.remote)}`);
    if (info.remoteName !== 'Carol') throw new Error(`fromName ${JSON.stringify(info.remoteName)}, want "Carol"`);
    if (!info.candidates) throw new Error('the offer has no a=candidate lines');
    const [ev, ms] = await a.evaluate(() => [out.events.join(','), out.tConfirmed]);
    if (!ev.includes('progress 180')) throw new Error(`JsSIP saw ${ev}: no 180 after call.ring()`);
    return `from=${info.remote}${info.remoteName ? ` name=${info.remoteName}` : ''}, ${info.candidates} candidates in the offer, JsSIP events ${ev}, INVITE->confirmed ${ms} ms`;
  }],
  ['SIP->browser: audio both ways', () => audioBothWays('out', 'call')],
  ['SIP->browser: hangup from JsSIP (BYE) ends the browser call', async () => {
    await a.evaluate(() => out.session.terminate());
    const [ended, done] = [await b.evaluate(() => within(call.done, 5000, 'no ended event')),
      await a.evaluate(() => within(out.done, 5000, 'JsSIP session not ended'))];
    if (ended.local) throw new Error(`ended ${JSON.stringify(ended)}`);
    if (done.how !== 'ended' || done.originator !== 'local') throw new Error(`JsSIP ${JSON.stringify(done)}`);
    return `browser ended ${JSON.stringify(ended)}`;
  }],
]);

await scenario([
  ['SIP->browser: second call, audio both ways', async () => {
    await callAlice('in-2');
    await browserAnswers();
    return audioBothWays('out', 'call');
  }],
  ['SIP->browser: JsSIP session refresh (UPDATE without SDP) gets 200, call stays up', async () => {
    const code = await a.evaluate(() => refresh(out));
    if (code !== 200) throw new Error(`UPDATE answered ${code}`);
    await a.waitForTimeout(300);
    const still = await b.evaluate(() => !call.ended);
    if (!still) throw new Error('the browser call ended');
    return `UPDATE -> ${code}`;
  }],
  ['SIP->browser: JsSIP hold/unhold (re-INVITEs) answered by the browser: media stops, resumes', async () => {
    const r = await a.evaluate(() => holdUnhold(out));
    const [h0, h1, u] = r.counts;
    const detail = `hold ${r.holdMs} ms (answer a=${r.heldAnswer}), unhold ${r.unholdMs} ms, JsSIP packetsReceived held ${h0}->${h1}, after unhold ${u}`;
    if (r.ended) throw new Error(`JsSIP session ended: ${detail}`);
    if (r.heldAnswer !== 'recvonly' || h1 - h0 > 2 || !(u > h1 + 10)) throw new Error(detail);
    return detail;
  }],
  ['SIP->browser: DTMF both ways (JsSIP INFO application/dtmf-relay <-> browser `dtmf`)', async () => {
    await a.evaluate(() => out.session.sendDTMF('1#', { transportType: 'INFO', duration: 160, interToneGap: 100 }));
    const got = await b.evaluate(() => within(new Promise((resolve) => {
      const wait = () => (call.dtmf.length >= 2 ? resolve(call.dtmf.join(',')) : setTimeout(wait, 50));
      wait();
    }), 5000, 'the browser got no dtmf'));
    if (got !== '1/160,#/160') throw new Error(`browser got ${got}, want 1/160,#/160`);
    await b.evaluate(() => call.sendDtmf('4B', 200));
    const back = await a.evaluate(() => within(new Promise((resolve) => {
      const wait = () => (out.dtmf.length >= 2 ? resolve(out.dtmf.join(',')) : setTimeout(wait, 50));
      wait();
    }), 5000, 'JsSIP got no INFO'));
    if (back !== '4/200,B/200') throw new Error(`JsSIP got ${back}, want 4/200,B/200`);
    return `browser got ${got}; JsSIP got ${back}`;
  }],
  ['SIP->browser: hangup from the browser ends the JsSIP session (BYE)', async () => {
    await b.evaluate(() => call.hangup('done'));
    const done = await a.evaluate(() => within(out.done, 5000, 'JsSIP session not ended'));
    if (done.how !== 'ended' || done.originator !== 'remote' || done.method !== 'BYE') {
      throw new Error(`JsSIP ${JSON.stringify(done)}`);
    }
    return `JsSIP ${JSON.stringify(done)}`;
  }],
]);

await scenario([
  ['SIP->browser: browser rejects busy -> JsSIP gets 486', async () => {
    await callAlice('in-3');
    await b.evaluate(async () => { window.call = await nextCall(10000); call.hangup('busy'); });
    const done = await a.evaluate(() => within(out.done, 5000, 'JsSIP session not over'));
    if (done.how !== 'failed' || done.code !== 486) throw new Error(`JsSIP ${JSON.stringify(done)}`);
    return `JsSIP ${JSON.stringify(done)}`;
  }],
  ['SIP->browser: JsSIP cancels while ringing -> browser call ends', async () => {
    await callAlice('in-4');
    await b.evaluate(async () => { window.call = await nextCall(10000); call.ring(); });
    await a.evaluate(() => within(new Promise((resolve) => {
      const wait = () => (out.events.some((e) => e.startsWith('progress 18')) ? resolve() : setTimeout(wait, 50));
      wait();
    }), 5000, 'no 180'));
    await a.evaluate(() => out.session.terminate());
    const ended = await b.evaluate(() => within(call.done, 5000, 'no ended event'));
    const done = await a.evaluate(() => within(out.done, 5000, 'JsSIP session not over'));
    if (ended.local || done.how !== 'failed') throw new Error(`browser ${JSON.stringify(ended)}, JsSIP ${JSON.stringify(done)}`);
    return `browser ended ${JSON.stringify(ended)}, JsSIP ${JSON.stringify(done)}`;
  }],
]);

// --- browser -> SIP: alice calls carol (INVITE over JsSIP's own WebSocket)
const callCarol = () => b.evaluate(async () => {
  window.call = record(await sb.call('carol', { audio: true }));
  window.call.t0 = Date.now();
});
const jssipIncoming = () => a.evaluate(async () => {
  window.inA = await nextIncoming(10000);
  return inA.request;
});

await scenario([
  ['browser->SIP: offer to carol reaches JsSIP as an INVITE with candidates', async () => {
    await callCarol();
    const req = await jssipIncoming();
    if (!/^sip:alice@/.test(req.from)) throw new Error(`From ${req.from}`);
    if (req.fromName !== 'alice') throw new Error(`From display name ${JSON.stringify(req.fromName)}, want "alice"`);
    if (!req.candidates) throw new Error('INVITE without a=candidate lines');
    await a.evaluate(() => inA.session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } }));
    await a.evaluate(() => within(inA.confirmed, 10000, 'JsSIP session not confirmed (ACK)'));
    const ms = await b.evaluate(async () => {
      await within(call.connected, 10000, 'browser call not connected');
      return Date.now() - call.t0;
    });
    const rang = await b.evaluate(() => call.events.includes('ringing'));
    return `From "${req.fromName}" ${req.from}, To ${req.to}, R-URI ${req.ruri}, ${req.candidates} candidates, browser saw ringing=${rang}, offer->connected ${ms} ms`;
  }],
  ['browser->SIP: audio both ways', () => audioBothWays('inA', 'call')],
  ['browser->SIP: hangup from the browser ends the JsSIP session (BYE)', async () => {
    await b.evaluate(() => call.hangup('done'));
    const done = await a.evaluate(() => within(inA.done, 5000, 'JsSIP session not ended'));
    if (done.how !== 'ended' || done.originator !== 'remote' || done.method !== 'BYE') {
      throw new Error(`JsSIP ${JSON.stringify(done)}`);
    }
    return `JsSIP ${JSON.stringify(done)}`;
  }],
]);

await scenario([
  ['browser->SIP: second call, audio both ways', async () => {
    await callCarol();
    await jssipIncoming();
    await a.evaluate(() => inA.session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } }));
    await a.evaluate(() => within(inA.confirmed, 10000, 'JsSIP session not confirmed (ACK)'));
    return audioBothWays('inA', 'call');
  }],
  ['browser->SIP: JsSIP (callee) session refresh (UPDATE without SDP) gets 200, call stays up', async () => {
    const code = await a.evaluate(() => refresh(inA));
    if (code !== 200) throw new Error(`UPDATE answered ${code}`);
    await a.waitForTimeout(300);
    if (!(await b.evaluate(() => !call.ended))) throw new Error('the browser call ended');
    return `UPDATE -> ${code}`;
  }],
  ['browser->SIP: JsSIP (callee) hold/unhold (re-INVITEs) answered by the browser: media stops, resumes', async () => {
    const r = await a.evaluate(() => holdUnhold(inA));
    const [h0, h1, u] = r.counts;
    const detail = `hold ${r.holdMs} ms (answer a=${r.heldAnswer}), unhold ${r.unholdMs} ms, JsSIP packetsReceived held ${h0}->${h1}, after unhold ${u}`;
    if (r.ended) throw new Error(`JsSIP session ended: ${detail}`);
    if (r.heldAnswer !== 'recvonly' || h1 - h0 > 2 || !(u > h1 + 10)) throw new Error(detail);
    return detail;
  }],
  ['browser->SIP: hangup from JsSIP (BYE) ends the browser call', async () => {
    await a.evaluate(() => inA.session.terminate());
    const ended = await b.evaluate(() => within(call.done, 5000, 'no ended event'));
    const done = await a.evaluate(() => within(inA.done, 5000, 'JsSIP session not ended'));
    if (ended.local || done.how !== 'ended') throw new Error(`browser ${JSON.stringify(ended)}, JsSIP ${JSON.stringify(done)}`);
    return `browser ended ${JSON.stringify(ended)}`;
  }],
]);

await scenario([
  ['browser->SIP: JsSIP rejects 486 -> browser ended busy/486', async () => {
    await callCarol();
    await jssipIncoming();
    await a.evaluate(() => inA.session.terminate({ status_code: 486 }));
    const ended = await b.evaluate(() => within(call.done, 5000, 'no ended event'));
    if (ended.sipCode !== 486 || ended.reason !== 'busy') throw new Error(`browser ended ${JSON.stringify(ended)}`);
    return `browser ended ${JSON.stringify(ended)}`;
  }],
  ['browser->SIP: browser hangs up while JsSIP rings (CANCEL) -> JsSIP session fails Canceled', async () => {
    await callCarol();
    await jssipIncoming();
    await b.evaluate(() => within(call.rang, 5000, 'no ringing'));
    await b.evaluate(() => call.hangup('cancel'));
    const done = await a.evaluate(() => within(inA.done, 5000, 'JsSIP session not over'));
    if (done.how !== 'failed' || done.originator !== 'remote' || done.cause !== 'Canceled') {
      throw new Error(`JsSIP ${JSON.stringify(done)}`);
    }
    return `JsSIP ${JSON.stringify(done)}`;
  }],
]);

// A browser page that dies mid-call (its tab closed: the WebSocket goes without a hangup).
await scenario([
  ['kill: the browser page dies mid-call -> JsSIP gets BYE, /api/calls empty', async () => {
    const d = await context.newPage();
    await d.goto(`${base}/healthz`);
    await d.addScriptTag({ type: 'module', content: "import * as m from '/switchboard.js'; window.SB = m;" });
    await d.waitForFunction(() => window.SB);
    await d.evaluate(async () => {
      window.sb = new SB.Switchboard();
      await sb.connect();
      await sb.register('dora');
      sb.addEventListener('call', (e) => { window.call = e.detail; e.detail.answer({ audio: true }); });
    });
    await a.evaluate((h) => {
      window.out = track(ua.call(`sip:dora@${h}`, { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } }));
    }, host);
    await a.evaluate(() => within(out.confirmed, 10000, 'no 200 OK/ACK from dora'));
    const t0 = Date.now();
    await d.close();
    const done = await a.evaluate(() => within(out.done, 5000, 'JsSIP session not ended'));
    const ms = Date.now() - t0;
    if (done.how !== 'ended' || done.originator !== 'remote' || done.method !== 'BYE') throw new Error(`JsSIP ${JSON.stringify(done)}`);
    const calls = await b.evaluate(async () => (await fetch('/api/calls')).json());
    if (calls.calls.length) throw new Error(`/api/calls ${JSON.stringify(calls)}`);
    return `JsSIP ${JSON.stringify(done)} ${ms} ms after the page closed; /api/calls ${JSON.stringify(calls)}`;
  }],
]);

await scenario([
  ['no call left on the gateway (/metrics sip_calls and sessions 0)', async () => {
    let m = '';
    for (let i = 0; i < 30; i++) {
      m = await b.evaluate(async () => (await fetch('/metrics')).text());
      const g = (n) => Number(m.match(new RegExp(`^switchboard_${n} (\\d+)$`, 'm'))?.[1]);
      if (g('sip_calls') === 0 && g('sessions') === 0) return `sip_bindings=${g('sip_bindings')}`;
      await b.waitForTimeout(100);
    }
    throw new Error(m.split('\n').filter((l) => /^switchboard_(sip_calls|sessions) /.test(l)).join(', '));
  }],
]);

await a.evaluate(() => within(new Promise((resolve) => { ua.on('disconnected', resolve); ua.stop(); }), 3000, 'no stop')).catch(() => {});
await browser.close();
console.log(`${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed ? 1 : 0);
