// PeerJS server (npm `peer` 1.0.2) for the signaling load comparison, with
// its connection limit raised. usage: node peerjs_server.mjs PORT
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { PeerServer } = require('../../tests/peers/node_modules/peer');
const port = Number(process.argv[2] || 9000);
PeerServer({ host: '127.0.0.1', port, path: '/peerjs', concurrent_limit: 100000, alive_timeout: 600000 }, () => {
  console.log(`peerjs listening on ${port}`);
});
