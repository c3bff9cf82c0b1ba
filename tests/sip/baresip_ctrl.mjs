// A client of baresip's ctrl_tcp module (netstring-framed JSON, baresip 1.0):
// commands (`dial`, `hangup`, ...) and the events baresip sends to every
// connected client (CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED, ...).
//
// As a module: `const c = await BaresipCtrl.connect(4472); await c.command('dial', uri);
//   await c.waitEvent('CALL_ESTABLISHED', 10000);`
// As a command (used by baresip_calls.sh):
//   node baresip_ctrl.mjs PORT listen                  one JSON line per event until killed
//   node baresip_ctrl.mjs PORT COMMAND [PARAMS...] [--wait-event TYPE] [--timeout S]
//     prints the response (and the events until TYPE); exit 0 when the command
//     succeeded (and TYPE came within the timeout), 1 otherwise.
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export class BaresipCtrl {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    /** Every event received, in order. */
    this.events = [];
    this.waiters = [];
    this.token = 0;
    this.onMessage = null;
    socket.on('data', (d) => this._data(d));
  }

  /** Connects to 127.0.0.1:PORT, retrying for up to `tries` × 100 ms while baresip starts. */
  static async connect(port, tries = 50) {
    for (let i = 0; ; i++) {
      try {
        const socket = await new Promise((resolve, reject) => {
          const s = net.createConnection({ host: '127.0.0.1', port }, () => resolve(s));
          s.once('error', reject);
        });
        return new BaresipCtrl(socket);
      } catch (e) {
        if (i >= tries) throw new Error(`baresip ctrl_tcp 127.0.0.1:${port}: ${e.message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  _data(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const colon = this.buf.indexOf(0x3a);
      if (colon < 0) return;
      const n = Number(this.buf.subarray(0, colon).toString());
      if (this.buf.length < colon + 1 + n + 1) return;
      const text = this.buf.subarray(colon + 1, colon + 1 + n).toString();
      this.buf = this.buf.subarray(colon + 1 + n + 1);
      let msg;
      try { msg = JSON.parse(text); } catch { continue; }
      if (msg.event) this.events.push(msg);
      this.onMessage?.(msg);
      for (const w of this.waiters.splice(0)) if (!w(msg)) this.waiters.push(w);
    }
  }

  /** Resolves with the first message (from now on, or among `since` events already seen) matching `pred`. */
  _wait(pred, timeoutMs, what, since) {
    if (since !== undefined) {
      const seen = this.events.slice(since).find(pred);
      if (seen) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no ${what} from baresip within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = (msg) => {
        if (!pred(msg)) return false;
        clearTimeout(timer);
        resolve(msg);
        return true;
      };
      this.waiters.push(w);
    });
  }

  /** Sends a command; resolves with its response ({ok, data}), rejects when not ok. */
  async command(command, params = '', timeoutMs = 5000) {
    const token = `t${++this.token}`;
    const body = Buffer.from(JSON.stringify({ command, params, token }));
    const reply = this._wait((m) => m.response && m.token === token, timeoutMs, `response to ${command}`);
    this.socket.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
    const r = await reply;
    if (!r.ok) throw new Error(`baresip ${command} ${params}: ${String(r.data).trim()}`);
    return r;
  }

  /** The next event of `type` (or one already received at index >= `since`). */
  waitEvent(type, timeoutMs = 10000, since = undefined) {
    return this._wait((m) => m.event && m.type === type, timeoutMs, `${type} event`, since);
  }

  close() { this.socket.destroy(); }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let wait = null, timeout = 10;
  const opt = (name) => {
    const i = args.indexOf(name);
    if (i < 0) return null;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  wait = opt('--wait-event');
  timeout = Number(opt('--timeout') ?? timeout);
  const [port, command, ...params] = args;
  const ctrl = await BaresipCtrl.connect(Number(port));
  if (command === 'listen') {
    ctrl.onMessage = (m) => { if (m.event) console.log(JSON.stringify(m)); };
  } else {
    let rc = 0;
    const waiting = wait ? ctrl.waitEvent(wait, timeout * 1000) : null;
    waiting?.catch(() => {});
    ctrl.onMessage = (m) => console.log(JSON.stringify(m));
    try {
      await ctrl.command(command, params.join(' '), timeout * 1000);
      if (waiting) await waiting;
    } catch (e) {
      console.error(String(e.message || e));
      rc = 1;
    }
    ctrl.close();
    process.exit(rc);
  }
}
