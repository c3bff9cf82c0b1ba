// A minimal client of rtpengine's ng control protocol (bencode over UDP, a
// cookie per request), written for tests/media: independent of the gateway's
// own client (protocols/rtpengine), so it checks rtpengine's state from outside.
//
// As a module: `await ng('127.0.0.1:2223', { command: 'list' })`,
//   `await anchoredCalls(addr)` (every call with per-leg packet counts).
// As a command (used by run_anchor.sh):
//   node ng.mjs ADDR ping             prints `pong`, exit 1 without a reply
//   node ng.mjs ADDR list             prints the call ids, one a line
//   node ng.mjs ADDR calls            prints one JSON line per call: {callId, legs:[{tag,packets}]}
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export function bencode(v) {
  if (typeof v === 'number') return Buffer.from(`i${Math.trunc(v)}e`);
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    const b = Buffer.isBuffer(v) ? v : Buffer.from(v);
    return Buffer.concat([Buffer.from(`${b.length}:`), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([Buffer.from('l'), ...v.map(bencode), Buffer.from('e')]);
  const keys = Object.keys(v).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(v[k])]), Buffer.from('e')]);
}

export function bdecode(buf) {
  let i = 0;
  const next = () => {
    const c = String.fromCharCode(buf[i]);
    if (c === 'i') {
      const end = buf.indexOf(0x65, i);
      const n = Number(buf.subarray(i + 1, end).toString());
      i = end + 1;
      return n;
    }
    if (c === 'l') {
      i++;
      const out = [];
      while (buf[i] !== 0x65) out.push(next());
      i++;
      return out;
    }
    if (c === 'd') {
      i++;
      const out = {};
      while (buf[i] !== 0x65) { const k = next(); out[k] = next(); }
      i++;
      return out;
    }
    const colon = buf.indexOf(0x3a, i);
    const n = Number(buf.subarray(i, colon).toString());
    const s = buf.subarray(colon + 1, colon + 1 + n).toString();
    i = colon + 1 + n;
    return s;
  };
  return next();
}

/** One ng request; resolves with the decoded reply dictionary, rejects after `timeoutMs`. */
export function ng(addr, dict, timeoutMs = 2000) {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  const cookie = randomBytes(6).toString('hex');
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sock.close(); reject(new Error(`rtpengine ${addr}: no reply to ${dict.command} in ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('message', (m) => {
      const sp = m.indexOf(0x20);
      if (m.subarray(0, sp).toString() !== cookie) return;
      clearTimeout(timer);
      sock.close();
      try { resolve(bdecode(m.subarray(sp + 1))); } catch (e) { reject(e); }
    });
    sock.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(dict)]), port, host);
  });
}

/** The call ids rtpengine holds. */
export async function listCalls(addr) {
  const r = await ng(addr, { command: 'list', limit: 100 });
  if (r.result !== 'ok') throw new Error(`rtpengine list: ${JSON.stringify(r)}`);
  return r.calls || [];
}

/**
 * Every call with its legs (monologues, by tag) and the RTP packets rtpengine
 * received from each leg (sum over its streams' `stats.packets`), with the leg's
 * protocol and local port.
 */
export async function anchoredCalls(addr) {
  const out = [];
  for (const callId of await listCalls(addr)) {
    const q = await ng(addr, { command: 'query', 'call-id': callId });
    const legs = [];
    for (const [tag, t] of Object.entries(q.tags || {})) {
      let packets = 0, proto = null, port = null, endpoint = null;
      for (const md of t.medias || []) {
        proto = proto || md.protocol;
        for (const s of md.streams || []) {
          packets += Number(s.stats?.packets || 0);
          if (port === null) port = s['local port'];
          if (endpoint === null && s.endpoint) endpoint = `${s.endpoint.address}:${s.endpoint.port}`;
        }
      }
      legs.push({ tag, packets, proto, port, endpoint });
    }
    out.push({ callId, legs });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [addr, command] = process.argv.slice(2);
  try {
    if (command === 'ping') {
      const r = await ng(addr, { command: 'ping' }, 1000);
      console.log(r.result);
      process.exit(r.result === 'pong' ? 0 : 1);
    } else if (command === 'list') {
      for (const c of await listCalls(addr)) console.log(c);
    } else if (command === 'calls') {
      for (const c of await anchoredCalls(addr)) console.log(JSON.stringify(c));
    } else {
      console.error(`usage: node ng.mjs ADDR ping|list|calls`);
      process.exit(2);
    }
  } catch (e) {
    console.error(String(e.message || e));
    process.exit(1);
  }
}
