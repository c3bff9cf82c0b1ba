// baresip's side of the anchored-media tests (anchor_calls.mjs, anchor_xmpp.mjs): its log (SIP trace
// and RTP stats) and the checks on the plain-RTP SDP rtpengine gives it.
import { readFileSync } from 'node:fs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Readers of the baresip log at `phoneLog`: size, text since an offset, RTP stats, SDP of a message. */
export function baresipLog(phoneLog) {
  const size = () => readFileSync(phoneLog).length;
  const since = (from) => readFileSync(phoneLog).subarray(from).toString();

  /** baresip's RTP counters for the call that ended after log offset `from` (`rtp_stats yes`). */
  async function phoneStats(from) {
    const re = /audio\s+Transmit:\s+Receive:\s*\r?\npackets:\s+(\d+)\s+(\d+)/;
    for (let i = 0; i < 30; i++) {
      const m = re.exec(since(from));
      if (m) return { tx: Number(m[1]), rx: Number(m[2]) };
      await sleep(100);
    }
    throw new Error('baresip printed no RTP stats for the call');
  }

  /**
   * The SDP of the first SIP message in baresip's trace (after `from`) whose start
   * line matches `startRe` (e.g. an INVITE it received, the 200 OK it received).
   * Returns the SDP text (from `v=0` to the end of that message) or null.
   */
  function sipSdp(from, startRe) {
    const text = since(from);
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      if (!startRe.test(lines[i])) continue;
      const sdp = [];
      let inBody = false;
      for (let j = i + 1; j < lines.length; j++) {
        const l = lines[j];
        if (/^(SIP\/2\.0 \d{3}|[A-Z]+ sip:\S+ SIP\/2\.0)/.test(l)) break; // next message
        if (l.startsWith('v=0')) inBody = true;
        if (inBody) {
          if (!/^[a-z]=/.test(l)) break;
          sdp.push(l);
        }
      }
      if (sdp.length) return sdp.join('\n');
    }
    return null;
  }
  return { size, since, stats: phoneStats, sdp: sipSdp };
}

export const mline = (sdp) => /m=audio (\d+) (\S+)( [\d ]+)?/.exec(sdp || '');
export const cline = (sdp) => /c=IN IP4 (\S+)/.exec(sdp || '')?.[1];

/** Checks a plain-RTP SDP from rtpengine towards baresip: RTP/AVP, 127.0.0.1, no ICE/DTLS/crypto. */
export function assertPlainFromRelay(sdp, what) {
  if (!sdp) throw new Error(`no SDP in ${what} in baresip's SIP trace`);
  const m = mline(sdp);
  const problems = [];
  if (m?.[2] !== 'RTP/AVP') problems.push(`proto ${m?.[2]}`);
  if (cline(sdp) !== '127.0.0.1') problems.push(`c= ${cline(sdp)}`);
  const port = Number(m?.[1]);
  if (!(port >= 30000 && port <= 30100)) problems.push(`port ${port} not in rtpengine's 30000-30100`);
  for (const bad of ['a=ice-ufrag', 'a=candidate', 'a=fingerprint', 'a=crypto', 'a=setup']) {
    if (sdp.includes(bad)) problems.push(`has ${bad}`);
  }
  if (problems.length) throw new Error(`${what} is not plain RTP from rtpengine: ${problems.join(', ')}; SDP: ${sdp.replace(/\n/g, ' | ')}`);
  return `${m[0].trim()}, c=${cline(sdp)}`;
}
