// Minimal SIP-over-WebSocket sink (RFC 7118 subprotocol "sip") used to capture the INVITE that a
// browser SIP stack (JsSIP, SIP.js) sends. It records each INVITE and never answers (the capture ends
// when the browser is closed). It is attached to an existing http.Server (listening on 127.0.0.1).
//
//   const sink = startSipWsSink(server);
//   const { body, message } = await sink.next('/jssip');   // resolves on the next INVITE on that path
//
// Standalone: node sip_ws_sink.js PORT OUTFILE   (writes the first INVITE body to OUTFILE and exits)
'use strict';
const { WebSocketServer } = require('ws');

function splitBody(raw) {
  const buf = Buffer.from(raw, 'utf8');
  const sep = buf.indexOf('\r\n\r\n');
  if (sep < 0) return '';
  const head = buf.subarray(0, sep).toString('utf8');
  let body = buf.subarray(sep + 4);
  const m = /^(?:content-length|l)\s*:\s*(\d+)\s*$/im.exec(head);
  if (m) body = body.subarray(0, Number(m[1]));
  return body.toString('utf8');
}

function startSipWsSink(server) {
  const waiters = [];
  const wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
  });
  wss.on('connection', (ws, req) => {
    const p = req.url.split('?')[0];
    ws.on('message', (data) => {
      const text = data.toString('utf8');
      if (!text.startsWith('INVITE ')) return;
      const i = waiters.findIndex(w => w.path === p);
      if (i >= 0) waiters.splice(i, 1)[0].resolve({ message: text, body: splitBody(text) });
    });
  });
  return {
    next: (path) => new Promise(resolve => waiters.push({ path, resolve })),
    close: () => { for (const c of wss.clients) c.terminate(); wss.close(); },
  };
}

module.exports = { startSipWsSink, splitBody };

if (require.main === module) {
  const http = require('http');
  const fs = require('fs');
  const [port, out] = process.argv.slice(2);
  const server = http.createServer((_, res) => { res.writeHead(426); res.end(); });
  const sink = startSipWsSink(server);
  server.listen(Number(port), '127.0.0.1', () => console.error(`sip ws sink on ws://127.0.0.1:${port}/`));
  sink.next(process.env.SINK_PATH || '/').then(({ body }) => {
    fs.writeFileSync(out, body, 'utf8'); sink.close(); server.close(); process.exit(0);
  });
}
