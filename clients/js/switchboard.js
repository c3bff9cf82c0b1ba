// Switchboard browser client (protocol v1, see protocols/browser/PROTOCOL.md).
// An ES module with no dependencies: connect, register a name, join rooms,
// and place or answer calls that wrap RTCPeerConnection with trickle ICE.
//
//   import { Switchboard } from '/switchboard.js';
//   const sb = new Switchboard();            // ws(s)://<this host>/ws
//   await sb.connect();
//   await sb.register('alice');
//   sb.addEventListener('call', (e) => e.detail.answer({ audio: true }));
//   const call = await sb.call('bob', { audio: true, data: true });

/** @typedef {{urls: string[], username?: string, credential?: string}} IceServer */
/** @typedef {{audio?: boolean, video?: boolean, data?: boolean, stream?: MediaStream}} CallOptions */

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 10000];

/** The `/ws` URL of the page's own server. */
export function defaultUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

/** An `error` reply turned into an exception. */
export class SwitchboardError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/**
 * A connection to a Switchboard server. Events: `open` (detail: welcome),
 * `close`, `peer-joined`, `peer-left` (detail: {room, peer}), `call` (detail:
 * an incoming {@link Call}), `error` (detail: an unsolicited error message),
 * `message` (detail: every message received).
 */
export class Switchboard extends EventTarget {
  /**
   * @param {string} [url]
   * @param {{reconnect?: boolean, rtcConfiguration?: RTCConfiguration}} [options]
   *   `rtcConfiguration` is merged into every RTCPeerConnection's configuration
   *   (for example `{iceTransportPolicy: 'relay'}`); the server's ICE servers come first.
   */
  constructor(url = defaultUrl(), options = {}) {
    super();
    this.url = url;
    this.reconnect = options.reconnect ?? true;
    this.rtcConfiguration = options.rtcConfiguration ?? {};
    /** @type {string|null} */ this.id = null;
    /** @type {IceServer[]} */ this.iceServers = [];
    /** @type {string|null} */ this.name = null;
    /** @type {Set<string>} */ this.rooms = new Set();
    /** @type {Map<string, Call>} */ this.calls = new Map();
    this._ws = null;
    this._ref = 0;
    this._pending = new Map();
    this._attempt = 0;
    this._closedByUser = false;
  }

  /** Opens the connection; resolves with the `welcome` message. */
  connect() {
    this._closedByUser = false;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this._ws = ws;
      let welcomed = false;
      ws.onmessage = (e) => {
        let msg;
        try { msg = JSON.parse(e.data); } catch { return; }
        if (msg.type === 'welcome' && !welcomed) {
          welcomed = true;
          this._attempt = 0;
          this.id = msg.id;
          this.iceServers = msg.iceServers || [];
          resolve(msg);
          this.dispatchEvent(new CustomEvent('open', { detail: msg }));
          this._restore();
        }
        this._onMessage(msg);
      };
      ws.onclose = () => {
        if (!welcomed) reject(new Error(`cannot connect to ${this.url}`));
        this._onClose();
      };
    });
  }

  /** Closes the connection for good (no reconnect). */
  close() {
    this._closedByUser = true;
    for (const call of this.calls.values()) call.hangup('closed');
    this._ws?.close();
  }

  /** Sends one protocol message as is. @param {object} msg */
  send(msg) {
    if (this._ws?.readyState !== WebSocket.OPEN) throw new Error('not connected');
    this._ws.send(JSON.stringify(msg));
  }

  /** Sends a request and waits for its reply (matched by `ref`). */
  _request(msg, replyType) {
    const ref = ++this._ref;
    return new Promise((resolve, reject) => {
      this._pending.set(ref, { resolve, reject, replyType });
      try { this.send({ ...msg, ref }); } catch (e) { this._pending.delete(ref); reject(e); }
    });
  }

  /** Registers `name` as this peer's address. @param {string} name */
  async register(name) {
    await this._request({ type: 'register', name }, 'registered');
    this.name = name;
  }

  /** Joins `room`; resolves with the ids of the peers already there. @param {string} room */
  async join(room) {
    const reply = await this._request({ type: 'join', room }, 'joined');
    this.rooms.add(room);
    return reply.peers;
  }

  /** Leaves `room`. @param {string} room */
  async leave(room) {
    this.rooms.delete(room);
    await this._request({ type: 'leave', room }, 'left');
  }

  /**
   * Calls `address` (a peer id or a registered name): creates the
   * RTCPeerConnection, sends the offer and trickles candidates.
   * @param {string} address @param {CallOptions} [options] @returns {Promise<Call>}
   */
  async call(address, options = {}) {
    const session = `${this.id}-${crypto.randomUUID()}`;
    const call = new Call(this, session, address, options);
    this.calls.set(session, call);
    await call._start();
    return call;
  }

  _onMessage(msg) {
    this.dispatchEvent(new CustomEvent('message', { detail: msg }));
    if (msg.ref !== undefined && this._pending.has(msg.ref)) {
      const p = this._pending.get(msg.ref);
      this._pending.delete(msg.ref);
      if (msg.type === 'error') p.reject(new SwitchboardError(msg.code, msg.message));
      else p.resolve(msg);
      return;
    }
    switch (msg.type) {
      case 'peer-joined':
      case 'peer-left':
        this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
        break;
      case 'offer': {
        const existing = this.calls.get(msg.session);
        if (existing) { existing._onOffer(msg); break; }
        const call = new Call(this, msg.session, msg.from, {});
        call.remoteName = msg.fromName ?? null;
        call._incomingOffer = msg.sdp;
        this.calls.set(msg.session, call);
        this.dispatchEvent(new CustomEvent('call', { detail: call }));
        break;
      }
      case 'offer-request': {
        // The caller (a SIP phone that sent an INVITE without SDP) wants our offer.
        const call = new Call(this, msg.session, msg.from, {});
        call.remoteName = msg.fromName ?? null;
        call._needsOffer = true;
        this.calls.set(msg.session, call);
        this.dispatchEvent(new CustomEvent('call', { detail: call }));
        break;
      }
      case 'answer':
      case 'candidate':
      case 'hangup':
      case 'ringing':
      case 'dtmf':
        this.calls.get(msg.session)?._onMessage(msg);
        break;
      case 'error':
        // A new offer the other party cannot take: the call goes on with what it had.
        if (msg.session && msg.code === 'offer-refused') this.calls.get(msg.session)?._onMessage(msg);
        this.dispatchEvent(new CustomEvent('error', { detail: msg }));
        break;
    }
  }

  _onClose() {
    for (const p of this._pending.values()) p.reject(new Error('connection closed'));
    this._pending.clear();
    for (const call of this.calls.values()) call._end('connection-lost', false);
    this.dispatchEvent(new Event('close'));
    if (this.reconnect && !this._closedByUser) {
      const delay = BACKOFF_MS[Math.min(this._attempt++, BACKOFF_MS.length - 1)];
      setTimeout(() => this.connect().catch(() => {}), delay);
    }
  }

  /** After a reconnect: register the name and join the rooms again. */
  _restore() {
    if (this.name) this.register(this.name).catch(() => {});
    for (const room of this.rooms) this.join(room).catch(() => {});
  }
}

/**
 * One call: an RTCPeerConnection whose signaling goes through the server.
 * Events: `track` (detail: RTCTrackEvent), `datachannel` (detail:
 * RTCDataChannel), `ringing` (the called party rings), `connected`,
 * `dtmf` (detail: {digits, duration}: digits the other party sent out of
 * band, e.g. SIP INFO), `offer-refused` (the other party could not take a
 * new offer made in the call; it was rolled back and the call goes on),
 * `ended` (detail: {reason, local, sipCode, sipReason}).
 */
export class Call extends EventTarget {
  constructor(sb, session, remote, options) {
    super();
    this.sb = sb;
    this.session = session;
    /** The other party's peer id. */ this.remote = remote;
    /** @type {string|null} */ this.remoteName = null;
    this.options = options;
    /** @type {RTCDataChannel|null} */ this.dataChannel = null;
    /** @type {MediaStream|null} */ this.localStream = null;
    this.pc = new RTCPeerConnection({ iceServers: sb.iceServers, ...sb.rtcConfiguration });
    this._remoteSet = false;
    this._early = [];
    this._incomingOffer = null;
    this._needsOffer = false;
    this.ended = false;
    this.pc.onicecandidate = (e) => {
      if (this.ended) return;
      try {
        this.sb.send({ type: 'candidate', session, candidate: e.candidate ? e.candidate.toJSON() : null });
      } catch { /* connection lost: the call ends with it */ }
    };
    this.pc.ontrack = (e) => this.dispatchEvent(new CustomEvent('track', { detail: e }));
    this.pc.ondatachannel = (e) => {
      this.dataChannel = e.channel;
      this.dispatchEvent(new CustomEvent('datachannel', { detail: e.channel }));
    };
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'connected') this.dispatchEvent(new Event('connected'));
      if (this.pc.connectionState === 'failed') this.hangup('ice-failed');
    };
  }

  async _media(options) {
    const stream = options.stream
      ?? ((options.audio || options.video)
        ? await navigator.mediaDevices.getUserMedia({ audio: !!options.audio, video: !!options.video })
        : null);
    this.localStream = stream;
    if (stream) for (const track of stream.getTracks()) this.pc.addTrack(track, stream);
  }

  async _start() {
    await this._media(this.options);
    if (this.options.data) {
      this.dataChannel = this.pc.createDataChannel('data');
      this.dispatchEvent(new CustomEvent('datachannel', { detail: this.dataChannel }));
    }
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.sb.send({ type: 'offer', to: this.remote, session: this.session, sdp: this.pc.localDescription.sdp });
  }

  /**
   * Sends DTMF digits out of band: a SIP party gets one INFO
   * (application/dtmf-relay) per digit, a browser a `dtmf` event. For tones
   * in the media (RFC 4733), use the RTCRtpSender's `dtmf.insertDTMF` instead.
   * @param {string} digits 0-9, *, #, A-D (1 to 32)
   * @param {number} [duration] milliseconds per tone, 40 to 6000 (default 100)
   */
  sendDtmf(digits, duration) {
    this.sb.send({ type: 'dtmf', session: this.session, digits, ...(duration ? { duration } : {}) });
  }

  /** Tells the caller that this side is ringing (a SIP caller gets 180 Ringing). */
  ring() {
    this.sb.send({ type: 'ringing', session: this.session });
  }

  /**
   * Answers an incoming call; if that fails (media, an offer this browser cannot take), the
   * call is declined with reason `incompatible` and the error rethrown.
   * @param {CallOptions} [options]
   */
  async answer(options = {}) {
    try {
      await this._answer(options);
    } catch (e) {
      this.hangup('incompatible');
      throw e;
    }
  }

  async _answer(options) {
    await this._media(options);
    if (this._needsOffer) {
      // Late offer: this side offers, the caller's answer arrives as an `answer` message.
      if (options.data) {
        this.dataChannel = this.pc.createDataChannel('data');
        this.dispatchEvent(new CustomEvent('datachannel', { detail: this.dataChannel }));
      }
      await this.pc.setLocalDescription(await this.pc.createOffer());
      this.sb.send({ type: 'offer', to: this.remote, session: this.session, sdp: this.pc.localDescription.sdp });
      return;
    }
    await this.pc.setRemoteDescription({ type: 'offer', sdp: this._incomingOffer });
    await this._remoteReady();
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.sb.send({ type: 'answer', session: this.session, sdp: this.pc.localDescription.sdp });
    this._gatheringDone();
  }

  /**
   * Without an ICE restart, gathering is already complete after a renegotiation and no new
   * end-of-candidates event fires: say so, so that a gateway collecting candidates for a SIP
   * peer does not wait for it.
   */
  _gatheringDone() {
    if (this.pc.iceGatheringState === 'complete') {
      try { this.sb.send({ type: 'candidate', session: this.session, candidate: null }); } catch { /* gone */ }
    }
  }

  /** Declines or ends the call. @param {string} [reason] */
  hangup(reason = 'normal') {
    if (this.ended) return;
    try { this.sb.send({ type: 'hangup', session: this.session, reason }); } catch { /* already gone */ }
    this._end(reason, true);
  }

  async _remoteReady() {
    this._remoteSet = true;
    for (const c of this._early.splice(0)) await this._addCandidate(c);
  }

  async _addCandidate(candidate) {
    try { await this.pc.addIceCandidate(candidate ?? undefined); } catch (e) { console.warn('addIceCandidate', e); }
  }

  async _onOffer(msg) {
    // Renegotiation from the other side.
    await this.pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.sb.send({ type: 'answer', session: this.session, sdp: this.pc.localDescription.sdp });
    this._gatheringDone();
  }

  async _onMessage(msg) {
    if (msg.type === 'answer') {
      // An early answer (SIP 183 with SDP) is provisional: the final one follows.
      if (this.pc.signalingState === 'stable') return;
      try {
        await this.pc.setRemoteDescription({ type: msg.early ? 'pranswer' : 'answer', sdp: msg.sdp });
      } catch (e) {
        // An answer this browser cannot use (e.g. a SIP phone without rtcp-mux): end the call
        // instead of leaving it up without media.
        console.warn('setRemoteDescription(answer)', e);
        this.hangup('incompatible');
        return;
      }
      await this._remoteReady();
    } else if (msg.type === 'ringing') {
      this.dispatchEvent(new Event('ringing'));
    } else if (msg.type === 'error' && msg.code === 'offer-refused') {
      if (this.pc.signalingState === 'have-local-offer') {
        await this.pc.setLocalDescription({ type: 'rollback' }).catch((e) => console.warn('rollback', e));
      }
      this.dispatchEvent(new CustomEvent('offer-refused', { detail: msg }));
    } else if (msg.type === 'dtmf') {
      this.dispatchEvent(new CustomEvent('dtmf', { detail: { digits: msg.digits, duration: msg.duration } }));
    } else if (msg.type === 'candidate') {
      if (this._remoteSet) await this._addCandidate(msg.candidate);
      else this._early.push(msg.candidate);
    } else if (msg.type === 'hangup') {
      this._end(msg.reason || 'normal', false, msg.sipCode, msg.sipReason);
    }
  }

  _end(reason, local, sipCode, sipReason) {
    if (this.ended) return;
    this.ended = true;
    this.pc.close();
    this.localStream?.getTracks().forEach((t) => t.stop());
    this.sb.calls.delete(this.session);
    this.dispatchEvent(new CustomEvent('ended', { detail: { reason, local, sipCode, sipReason } }));
  }
}
