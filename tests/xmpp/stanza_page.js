// The stanza.js side of tests/xmpp/stanza_calls.mjs: bundled with esbuild (platform browser) together
// with npm `stanza` and run in a headless Chromium page. It logs in to Prosody over WebSocket and
// places/answers calls with stanza's own Jingle (client.jingle, MediaSession). Everything the test
// drives is on `window`.
//
// stanza 12.22.1 has no Jingle Message Initiation (XEP-0353): it only names an outdated namespace
// (`urn:xmpp:jingle:jingle-message:0`) and defines no elements. So this page teaches stanza's JXT
// registry the XEP-0353 elements (`message.jmi`, below) and answers or sends `propose` itself; the
// Jingle session that follows is stanza's.
import * as XMPP from 'stanza';

const { JXT } = XMPP;
const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';

/** XEP-0353 elements as stanza JXT definitions: message.jmi = {type, id, media[], reason}. */
const JMI = [
  ...['propose', 'ringing', 'proceed', 'accept', 'reject', 'retract', 'finish'].map((type) => ({
    element: type,
    namespace: NS_JMI,
    path: 'message.jmi',
    type,
    typeField: 'type',
    fields: {
      id: JXT.attribute('id'),
      ...(type === 'propose' ? { media: JXT.multipleChildAttribute(NS_RTP, 'description', 'media') } : {}),
    },
  })),
  {
    element: 'reason',
    namespace: 'urn:xmpp:jingle:1',
    path: 'message.jmi.reason',
    fields: {
      condition: JXT.childEnum(null, Object.values(XMPP.Constants.JingleReasonCondition)),
      text: JXT.childText(null, 'text'),
    },
  },
];

window.XMPP = XMPP;
/** Every stanza on the wire: {t, dir: 'in'|'out', data}. */
window.trace = [];
/** Events the test waits for: {kind, t, ...}. */
window.ev = [];
const waiters = [];
function emit(e) {
  e.t = Date.now();
  ev.push(e);
  for (const w of waiters.slice()) {
    if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
  }
}
window.within = (p, ms, what) => Promise.race([p, new Promise((_, reject) =>
  setTimeout(() => reject(new Error(what + ' within ' + ms + ' ms')), ms))]);
/** The first event since index `since` that matches `pred` (already seen or still to come). */
window.waitEvent = (since, pred, ms, what) => within(new Promise((resolve) => {
  const hit = ev.slice(since).find(pred);
  if (hit) resolve(hit); else waiters.push({ pred, resolve });
}), ms, what);
window.mark = () => ({ ev: ev.length, trace: trace.length });

/**
 * Jingle IQs we sent, by IQ id, to match their replies: {action, sid, late}. `late`: the session had
 * already been terminated (by either side) when the IQ went out.
 */
const sentIq = new Map();
/** Jingle IQs we received, by IQ id: {action, sid, late} (late as above), to judge our error replies. */
const gotIq = new Map();
/** When each session was first terminated (session-terminate sent or received), by sid. */
const terminated = new Map();
function watchRaw(dir, data) {
  trace.push({ t: Date.now(), dir, data });
  const head = data.match(/^<iq\b[^>]*>/);
  if (!head) return;
  const id = (head[0].match(/\sid=["']([^"']*)["']/) || [])[1];
  const type = (head[0].match(/\stype=["']([^"']*)["']/) || [])[1];
  const action = (data.match(/<jingle\b[^>]*\saction=["']([^"']*)["']/) || [])[1];
  const sid = (data.match(/<jingle\b[^>]*\ssid=["']([^"']*)["']/) || [])[1];
  const late = !!action && terminated.has(sid);
  if (action === 'session-terminate' && !late) terminated.set(sid, Date.now());
  if (dir === 'out' && action) sentIq.set(id, { action, sid, late });
  if (dir === 'in' && action) gotIq.set(id, { action, sid, late });
  if (dir === 'in' && (type === 'result' || type === 'error') && sentIq.has(id)) {
    const s = sentIq.get(id);
    emit({ kind: 'iq-reply', ...s, type, id, data: type === 'error' ? data : undefined });
    sentIq.delete(id);
  }
  if (dir === 'out' && type === 'error' && gotIq.has(id)) emit({ kind: 'our-error', ...gotIq.get(id), id, data });
  if (dir === 'in' && action) {
    const from = (head[0].match(/\sfrom=["']([^"']*)["']/) || [])[1];
    const reason = (data.match(/<reason[^>]*><([a-z-]+)/) || [])[1];
    emit({ kind: 'jingle-in', action, sid, from, reason, late });
  }
}


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

/** Live sessions by sid, and the microphone. */
window.sessions = new Map();
window.mic = null;
const getMic = async () => (window.mic ??= await navigator.mediaDevices.getUserMedia({ audio: true, video: false }));

/** Data channels (ours or the remote's) by sid: {channel, got: [messages]}. */
window.channels = new Map();
function watchChannel(sid, channel) {
  const rec = { channel, got: [], open: channel.readyState === 'open' };
  channels.set(sid, rec);
  channel.addEventListener('open', () => { rec.open = true; emit({ kind: 'dc-open', sid }); });
  channel.addEventListener('message', (e) => { rec.got.push(e.data); emit({ kind: 'dc-message', sid, data: e.data }); });
  if (rec.open) emit({ kind: 'dc-open', sid });
}

window.startXmpp = async (wsUrl, user, password) => {
  const client = XMPP.createClient({
    jid: `${user}@localhost`,
    password,
    resource: 'stanza',
    transports: { websocket: wsUrl, bosh: false },
    // No ICE servers (the namespace has only loopback); stanza's default is a public STUN server.
    jingle: { iceServers: [] },
  });
  window.client = client;
  client.stanzas.define(JMI);
  client.on('raw', (dir, data) => watchRaw(dir === 'incoming' ? 'in' : 'out', data));
  client.on('message', (msg) => {
    if (msg.jmi) emit({ kind: 'jmi', type: msg.jmi.type, id: msg.jmi.id, from: msg.from, to: msg.to,
      msgType: msg.type, media: msg.jmi.media, reason: msg.jmi.reason?.condition, store: !!msg.processingHints?.store });
  });
  client.on('jingle:incoming', (session) => {
    sessions.set(session.sid, session);
    session.pc.addEventListener('datachannel', (e) => watchChannel(session.sid, e.channel));
    emit({ kind: 'incoming', sid: session.sid, from: session.peerID,
      remoteSdp: session.pc.remoteDescription?.sdp });
  });
  client.on('jingle:ringing', (session) => emit({ kind: 'ringing', sid: session.sid }));
  client.on('jingle:accepted', (session) => emit({ kind: 'accepted', sid: session.sid }));
  client.on('jingle:terminated', (session, reason) => emit({ kind: 'terminated', sid: session.sid,
    reason: reason?.condition, text: reason?.text }));
  client.jingle.on('connectionState', (session, state) => emit({ kind: 'connection', sid: session.sid, state }));
  client.jingle.on('log:error', (msg) => emit({ kind: 'jingle-error', msg: String(msg) }));
  const started = new Promise((resolve, reject) => {
    client.on('session:started', resolve);
    client.on('auth:failed', () => reject(new Error('auth:failed')));
    client.on('disconnected', () => reject(new Error('disconnected before session:started')));
  });
  client.connect();
  await within(started, 10000, 'no session:started');
  await client.sendPresence();
  const mech = (trace.find((x) => x.dir === 'out' && /<auth\b/.test(x.data))?.data.match(/mechanism=["']([^"']+)/) || [])[1];
  return { jid: client.jid, mechanism: mech };
};

/** disco#info of `jid`: {identities, features} or {error}. */
window.disco = async (jid) => {
  try {
    const info = await client.getDiscoInfo(jid);
    return { identities: info.identities || [], features: info.features || [] };
  } catch (e) {
    return { error: e?.error?.condition || String(e?.message || e) };
  }
};

/** Starts a stanza MediaSession (audio, and a data channel when `data`) to the full JID `to`. */
window.callOut = async (to, { sid, data } = {}) => {
  const stream = await getMic();
  const session = client.jingle.createMediaSession(to, sid, stream);
  sessions.set(session.sid, session);
  if (data) watchChannel(session.sid, session.pc.createDataChannel('chat'));
  session.start();
  return session.sid;
};

/** Answers the incoming session `sid` with the microphone. */
window.answer = async (sid) => {
  const session = sessions.get(sid);
  const stream = await getMic();
  for (const track of stream.getTracks()) session.addTrack(track, stream);
  await session.accept();
};

window.hangup = (sid, reason = 'success') => { sessions.get(sid)?.end(reason); };
/** Ends every session still going (after a failed step). */
window.endAll = () => {
  for (const s of sessions.values()) {
    if (s.state !== 'ended') { try { s.end('success'); } catch { /* over */ } }
  }
};

/** Sends a XEP-0353 element: {type, id, media?, reason?} to `to`. */
window.jmi = (to, body, extra = {}) => client.sendMessage({ to, type: 'chat', jmi: body, ...extra });
