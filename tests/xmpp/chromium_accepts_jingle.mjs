// Does real Chromium accept the SDP Switchboard makes from XMPP clients' Jingle, and does the answer
// Chromium makes convert back? For every session-initiate fixture (fixtures/jingle/conversations-style-*,
// dino-style-*, stanza-12.22.1-session-initiate-*, and those of /work/shared/fixtures/jingle/ whose action
// is session-initiate and which carry RTP or data-channel contents):
//   1. `BIN convert --to sdp FILE` (stderr: the losses, printed);
//   2. in headless Chromium: new RTCPeerConnection({bundlePolicy:'max-bundle'}) (the default policy,
//      'balanced', when max-bundle refuses an offer without a BUNDLE group), setRemoteDescription(offer),
//      a fake-device microphone track (getUserMedia) where the offer has audio, createAnswer,
//      setLocalDescription;
//   3. the answer to a temp file, `BIN convert --to jingle ANSWER.sdp` must exit 0, its contents must be
//      the answer's accepted mids, each with an ICE-UDP transport (ufrag, pwd) carrying a <fingerprint/>
//      whose setup is active or passive (never actpass). (The CLI wraps any SDP as a session-initiate,
//      so its senders are an initiator's; only the transport is checked.)
// No ICE connectivity is attempted: only the offer/answer.
//
// Each fixture is classified up front from its Jingle. WebRTC requires ICE, DTLS-SRTP and RTCP mux
// (RFC 8827, RFC 8834 5.1.1; Chromium only implements rtcpMuxPolicy 'require'), and Chromium checks the
// ICE credential lengths of RFC 8839 5.4 (ufrag 4-256, pwd 22-256 characters). So a fixture with an
// RTP/data content lacking an ICE-UDP transport with such ufrag/pwd, a DTLS <fingerprint/>, or (RTP)
// an <rtcp-mux/> is expected to be refused by setRemoteDescription, and Chromium's error must name one
// of those reasons (else a defect of ours could hide behind the fixture's own). Everything else must be
// accepted. When short credentials are the only reason (lib-jitsi-meet's test literal pwd='somepwd'),
// the fixture is checked a second time with them lengthened, which must be accepted. So a FAIL is a
// defect of our conversion (or a wrong expectation); known causes are named in the FAIL line.
//
//   node chromium_accepts_jingle.mjs BIN [SHARED_JINGLE_DIR]   (VERBOSE=1: every SDP and Jingle answer)
//
// Runs in a blank page: `http://localhost/blank` answered by Playwright's request interception (no
// server; about:blank is not a secure context, so it has no navigator.mediaDevices).
// Prints `PASS name` / `FAIL name (why)` per fixture, `SKIP` lines for fixtures that are not WebRTC
// session-initiates, and `N passed, M failed`; exits 1 on failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = require('../peers/node_modules/playwright-core');

const bin = process.argv[2];
const sharedDir = process.argv[3] || '/work/shared/fixtures/jingle';
if (!bin) { console.error('usage: node chromium_accepts_jingle.mjs BIN [SHARED_JINGLE_DIR]'); process.exit(2); }
const verbose = !!process.env.VERBOSE;
const started = Date.now();
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Loopback-only namespace (shared/recipes, Chromium section); fake microphone without a prompt.
  '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

let passed = 0, failed = 0;
function report(name, ok, why) {
  ok ? passed++ : failed++;
  const t = ((Date.now() - started) / 1000).toFixed(1);
  console.log(ok ? `PASS ${name}${why ? ` [${why}]` : ''} (t=${t}s)` : `FAIL ${name} (${why})`);
}
const indent = (text, pre = '    ') => text.replace(/\r/g, '').trimEnd().split('\n').map((l) => pre + l).join('\n');

// ---- fixtures ----
const repoDir = path.join(here, '../../fixtures/jingle');
const fixtures = fs.readdirSync(repoDir).sort()
  .filter((f) => /^(conversations-style-|dino-style-|stanza-12\.22\.1-session-initiate-).*\.xml$/.test(f))
  .map((f) => ({ name: f, file: path.join(repoDir, f), shared: false }));
let sharedNote = null;
if (fs.existsSync(sharedDir) && fs.statSync(sharedDir).isDirectory()) {
  for (const f of fs.readdirSync(sharedDir).sort().filter((f) => f.endsWith('.xml'))) {
    fixtures.push({ name: `shared/${f}`, file: path.join(sharedDir, f), shared: true });
  }
} else {
  sharedNote = `SKIP third-party fixtures: ${sharedDir} is absent (only the repository's fixtures/jingle/ were checked)`;
}

// ---- Chromium ----
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
const context = await browser.newContext();
await context.grantPermissions(['microphone', 'camera']);
const page = await context.newPage();
page.on('pageerror', (e) => console.log('page error:', e.message));
await page.route('http://localhost/blank', (r) => r.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>blank</title>' }));
await page.goto('http://localhost/blank');
await page.addScriptTag({ content: `
const DTLS = 'urn:xmpp:jingle:apps:dtls:0';
const ICE = 'urn:xmpp:jingle:transports:ice-udp:1';
const RTP = 'urn:xmpp:jingle:apps:rtp:1';
const SCTP = 'urn:xmpp:jingle:transports:dtls-sctp:1';
const WEBRTC_DC = 'urn:xmpp:jingle:transports:webrtc-datachannel:1';
const kids = (el, local, ns) => [...el.children].filter((c) => c.localName === local && (!ns || c.namespaceURI === ns));
/** What a Jingle element (the first <jingle/> in the XML text) contains, per content. */
window.classify = (xml) => {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const err = doc.getElementsByTagName('parsererror')[0];
  if (err) return { error: 'not well-formed XML: ' + err.textContent.slice(0, 200) };
  const jingle = doc.getElementsByTagNameNS('urn:xmpp:jingle:1', 'jingle')[0];
  if (!jingle) return { error: 'no <jingle xmlns="urn:xmpp:jingle:1"/>' };
  const contents = kids(jingle, 'content', 'urn:xmpp:jingle:1').map((c) => {
    const desc = kids(c, 'description')[0];
    const transports = kids(c, 'transport');
    // Conversations' data channel transport wraps the ICE-UDP one.
    const dc = transports.find((t) => t.namespaceURI === WEBRTC_DC);
    const ice = transports.find((t) => t.namespaceURI === ICE) || (dc && kids(dc, 'transport', ICE)[0]);
    return {
      name: c.getAttribute('name'),
      rtp: desc?.namespaceURI === RTP ? (desc.getAttribute('media') || '?') : null,
      description: desc ? desc.namespaceURI : null,
      data: !!dc || (ice ? kids(ice, 'sctpmap', SCTP).length > 0 : false),
      transports: transports.map((t) => t.namespaceURI),
      ice: !!ice,
      iceCreds: !!(ice && ice.getAttribute('ufrag') && ice.getAttribute('pwd')),
      ufragLen: ice?.getAttribute('ufrag')?.length ?? 0,
      pwdLen: ice?.getAttribute('pwd')?.length ?? 0,
      fingerprint: ice ? kids(ice, 'fingerprint', DTLS).length > 0 : false,
      rtcpMux: desc ? kids(desc, 'rtcp-mux').length > 0 : false,
      sdes: desc ? desc.getElementsByTagName('crypto').length > 0 : false,
    };
  });
  return { action: jingle.getAttribute('action'), contents };
};
/** The XML with every ICE-UDP ufrag/pwd shorter than RFC 8839 allows lengthened (a variant fixture). */
window.lengthenCredentials = (xml) => {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  for (const t of doc.getElementsByTagNameNS(ICE, 'transport')) {
    for (const [attr, min] of [['ufrag', 4], ['pwd', 22]]) {
      const v = t.getAttribute(attr);
      if (v && v.length < min) t.setAttribute(attr, v.repeat(Math.ceil(min / v.length)).slice(0, min));
    }
  }
  return new XMLSerializer().serializeToString(doc);
};
/** setup= of every <fingerprint/>, per ICE-UDP transport, of a converted answer. */
window.fingerprintsOf = (xml) => {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const err = doc.getElementsByTagName('parsererror')[0];
  if (err) return { error: 'not well-formed XML: ' + err.textContent.slice(0, 200) };
  const contents = [...doc.getElementsByTagNameNS('urn:xmpp:jingle:1', 'content')];
  return { contents: contents.map((c) => {
    const t = c.getElementsByTagNameNS(ICE, 'transport')[0];
    return { name: c.getAttribute('name'), ice: !!t, creds: !!(t && t.getAttribute('ufrag') && t.getAttribute('pwd')),
      setups: t ? [...t.getElementsByTagNameNS(DTLS, 'fingerprint')].map((f) => f.getAttribute('setup')) : [] };
  }) };
};
let mic = null;
/** Offer -> answer on a fresh RTCPeerConnection; max-bundle first, the default policy if that refuses. */
window.answer = async (sdp) => {
  const tries = [];
  for (const policy of ['max-bundle', 'balanced']) {
    const pc = new RTCPeerConnection(policy === 'balanced' ? {} : { bundlePolicy: policy });
    const t = { policy, step: 'setRemoteDescription' };
    tries.push(t);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      if (/^m=audio /m.test(sdp)) {
        t.step = 'getUserMedia';
        mic = mic || await navigator.mediaDevices.getUserMedia({ audio: true });
        t.step = 'addTrack';
        pc.addTrack(mic.getAudioTracks()[0], mic);
        t.audioTrack = true;
      }
      t.step = 'createAnswer';
      const a = await pc.createAnswer();
      t.step = 'setLocalDescription';
      await pc.setLocalDescription(a);
      t.sdp = pc.localDescription.sdp;
      t.transceivers = pc.getTransceivers().map((x) => ({ mid: x.mid, kind: x.receiver.track.kind,
        direction: x.currentDirection || x.direction, sending: !!x.sender.track }));
      t.ok = true;
      pc.close();
      return tries;
    } catch (e) {
      t.error = String(e?.message ?? e);
      pc.close();
      // Only a max-bundle refusal of an offer without a BUNDLE group is worth the default policy.
      if (!(policy === 'max-bundle' && t.step === 'setRemoteDescription' && !/^a=group:BUNDLE/m.test(sdp))) return tries;
    }
  }
  return tries;
};
` });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-chromium-jingle-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 10000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').trim(), error: r.error };
}

/**
 * Why Chromium must refuse this fixture, or null. WebRTC needs ICE with credentials of RFC 8839 5.4
 * lengths (ufrag 4-256, pwd 22-256 characters), DTLS-SRTP (a fingerprint) and RTCP mux. `error` is
 * what Chromium's refusal must mention for the refusal to count as this reason.
 */
function expectedRefusal(media) {
  const why = [];
  for (const c of media) {
    const ns = c.transports.map((t) => t.replace(/^urn:xmpp:jingle:transports:/, '')).join(', ') || 'none';
    if (!c.ice) why.push({ kind: 'ice', reason: `content ${c.name}: no ICE-UDP transport (transport: ${ns})`, error: /ice|ufrag|pwd|transport/i });
    else if (!c.iceCreds) why.push({ kind: 'ice', reason: `content ${c.name}: ICE-UDP transport without ufrag/pwd`, error: /ice|ufrag|pwd/i });
    else if (c.ufragLen < 4 || c.ufragLen > 256 || c.pwdLen < 22 || c.pwdLen > 256) {
      why.push({ kind: 'creds', reason: `content ${c.name}: ICE ufrag/pwd of ${c.ufragLen}/${c.pwdLen} characters (RFC 8839: 4-256/22-256)`, error: /ICE (ufrag|pwd)/i });
    }
    if (!c.fingerprint) why.push({ kind: 'dtls', reason: `content ${c.name}: no DTLS fingerprint${c.sdes ? ' (SDES crypto only)' : ''}`, error: /fingerprint|dtls/i });
    if (c.rtp && !c.rtcpMux) why.push({ kind: 'mux', reason: `content ${c.name}: no <rtcp-mux/> (WebRTC requires RTCP mux)`, error: /rtcp.?mux/i });
  }
  return why.length ? why : null;
}

/** Known causes of Chromium refusals that are our conversion's doing, to name them in a FAIL. */
function diagnose(error) {
  if (/MID attribute exceeds the maximum supported length of (\d+)/.test(error)) {
    return `cause: a Jingle content name longer than ${RegExp.$1} characters, copied verbatim into a=mid (Chromium's limit); `
      + 'the conversion needs short a=mid values for such contents (and the content names back in the answer)';
  }
  return null;
}

const shortError = (e) => e.replace(/^Failed to execute 'setRemoteDescription' on 'RTCPeerConnection': /, '');

/**
 * One fixture through convert --to sdp, Chromium's offer/answer and convert --to jingle.
 * Returns the classification (null when skipped) so the caller can make variants.
 */
async function check(name, file, xml, optional) {
  const cls = await page.evaluate((x) => classify(x), xml);
  if (cls.error) {
    if (optional) { skippedNames.push(`${name} (${cls.error})`); return null; }
    report(name, false, `fixture: ${cls.error}`); return null;
  }
  const media = cls.contents.filter((c) => c.rtp || c.data);
  if (cls.action !== 'session-initiate' || media.length === 0) {
    const why = cls.action !== 'session-initiate' ? `action ${cls.action}, not session-initiate`
      : `session-initiate without RTP or data-channel contents (${cls.contents.length} contents)`;
    skippedNames.push(`${name} (${why})`);
    if (cls.action === 'session-initiate') console.log(`SKIP ${name} (${why})`);
    return null;
  }
  const refusal = expectedRefusal(media);
  const kinds = media.map((c) => `${c.name}=${c.rtp ?? 'data'}`).join(' ');
  const expectation = refusal ? `expect refusal: ${refusal.map((r) => r.reason).join('; ')}`
    : 'expect acceptance (ICE-UDP + DTLS fingerprint + rtcp-mux)';
  console.log(`-- ${name}: contents ${kinds}; ${expectation}`);

  // 1. Jingle -> SDP.
  const toSdp = run(['convert', '--to', 'sdp', file]);
  if (toSdp.stderr) console.log(`  convert --to sdp stderr:\n${indent(toSdp.stderr)}`);
  if (verbose) console.log(`  SDP:\n${indent(toSdp.stdout)}`);
  if (toSdp.code !== 0) {
    if (refusal) report(name, true, `refused as expected, by the converter (exit ${toSdp.code})`);
    else report(name, false, `convert --to sdp exited ${toSdp.code ?? toSdp.error}`);
    return { refusal };
  }

  // 2. Chromium: offer -> answer.
  const tries = await page.evaluate((s) => answer(s), toSdp.stdout);
  for (const t of tries.filter((t) => !t.ok)) console.log(`  Chromium (${t.policy}) refused at ${t.step}: ${shortError(t.error)}`);
  const ok = tries.find((t) => t.ok);
  const last = tries.at(-1);
  if (refusal) {
    if (ok) {
      report(name, false, `Chromium accepted (${ok.policy}) an offer expected to be refused: ${refusal.map((r) => r.reason).join('; ')}`);
    } else if (last.step !== 'setRemoteDescription' || !refusal.some((r) => r.error.test(last.error))) {
      const cause = diagnose(last.error);
      report(name, false, `refused, but not for the expected reason: at ${last.step}: ${shortError(last.error)}${cause ? `; ${cause}` : ''}`);
      console.log(`  our SDP:\n${indent(toSdp.stdout)}`);
    } else {
      report(name, true, `refused as expected (bundlePolicy ${last.policy}): ${shortError(last.error)}`);
    }
    return { refusal };
  }
  if (!ok) {
    const cause = diagnose(last.error);
    report(name, false, `Chromium refused at ${last.step} (bundlePolicy ${last.policy}): ${shortError(last.error)}${cause ? `; ${cause}` : ''}`);
    console.log(`  our SDP (ICE-UDP + DTLS fingerprint + rtcp-mux in the Jingle: should be accepted):\n${indent(toSdp.stdout)}`);
    return { refusal };
  }
  if (verbose) console.log(`  Chromium's answer:\n${indent(ok.sdp)}`);

  // 3. The answer back to Jingle.
  const answerFile = path.join(tmp, `${path.basename(file, '.xml')}.answer.sdp`);
  fs.writeFileSync(answerFile, ok.sdp);
  const toJingle = run(['convert', '--to', 'jingle', answerFile]);
  if (toJingle.stderr) console.log(`  convert --to jingle (answer) stderr:\n${indent(toJingle.stderr)}`);
  if (verbose) console.log(`  answer as Jingle:\n${indent(toJingle.stdout)}`);
  if (toJingle.code !== 0) {
    report(name, false, `convert --to jingle of Chromium's answer exited ${toJingle.code ?? toJingle.error}`);
    console.log(`  Chromium's answer:\n${indent(ok.sdp)}`);
    return { refusal };
  }
  const fp = await page.evaluate((x) => fingerprintsOf(x), toJingle.stdout);
  // The answer's accepted m-sections (port not 0) must come back as contents of the same names.
  const accepted = ok.sdp.split(/\r?\n(?=m=)/).slice(1)
    .filter((m) => !/^m=\S+ 0 /.test(m)).map((m) => (m.match(/^a=mid:(\S+)/m) || [])[1]);
  const problems = [];
  if (fp.error) problems.push(fp.error);
  else {
    const names = fp.contents.map((c) => c.name);
    if (names.join(' ') !== accepted.join(' ')) problems.push(`contents [${names.join(' ')}], the answer accepted mids [${accepted.join(' ')}]`);
    for (const c of fp.contents) {
      if (!c.ice) problems.push(`content ${c.name}: no ICE-UDP transport`);
      else if (!c.creds) problems.push(`content ${c.name}: ICE-UDP transport without ufrag/pwd`);
      if (c.ice && !c.setups.length) problems.push(`content ${c.name}: no <fingerprint/>`);
      else if (!c.setups.every((s) => s === 'active' || s === 'passive')) problems.push(`content ${c.name}: fingerprint setup=${c.setups.join(',')}`);
    }
  }
  if (problems.length) {
    report(name, false, `answer as Jingle: ${problems.join('; ')}`);
    console.log(`  Chromium's answer:\n${indent(ok.sdp)}\n  answer as Jingle:\n${indent(toJingle.stdout)}`);
    return { refusal };
  }
  const dirs = ok.transceivers.map((x) => `${x.mid}:${x.kind}/${x.direction}${x.sending ? '+mic' : ''}`).join(' ');
  const rejected = (ok.sdp.match(/^m=\S+ 0 /gm) || []).length;
  const setups = [...new Set(fp.contents.flatMap((c) => c.setups))].join(',');
  report(name, true, `accepted, bundlePolicy ${ok.policy}${tries.length > 1 ? ' (max-bundle refused: no BUNDLE group)' : ''}; `
    + `transceivers ${dirs || 'none'}${/^m=application /m.test(ok.sdp) ? ' + data channel' : ''}; `
    + `${rejected ? `${rejected} m-section(s) rejected in the answer; ` : ''}answer -> Jingle ${fp.contents.length} content(s), setup=${setups}`);
  return { refusal };
}

const skippedNames = [];
for (const fx of fixtures) {
  const xml = fs.readFileSync(fx.file, 'utf8');
  const r = await check(fx.name, fx.file, xml, fx.shared);
  // Credentials too short are a property of test literals (lib-jitsi-meet's pwd='somepwd'), not of
  // the client: when that is the only reason for a refusal, the same Jingle with the credentials
  // lengthened must be accepted, which checks the rest of its conversion.
  if (r?.refusal && r.refusal.every((x) => x.kind === 'creds')) {
    const variant = path.join(tmp, `${path.basename(fx.file, '.xml')}+long-ice-pwd.xml`);
    fs.writeFileSync(variant, await page.evaluate((x) => lengthenCredentials(x), xml));
    await check(`${fx.name} +ICE credentials lengthened`, variant, fs.readFileSync(variant, 'utf8'), false);
  }
}

await browser.close();
if (sharedNote) console.log(sharedNote);
console.log(`(skipped ${skippedNames.length} fixtures that are not session-initiates with RTP or data-channel contents${verbose ? `: ${skippedNames.join(', ')}` : '; VERBOSE=1 names them'})`);
console.log(`${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed || passed === 0 ? 1 : 0);
