// JsSIP (bundled with esbuild, running in headless Chromium) registers to
// `switchboard serve` over SIP WebSocket (/sip, RFC 7118) with digest auth;
// a wrong password fails. usage: node jssip_register.mjs BASE_URL (run by run_jssip.sh)
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = require('../peers/node_modules/playwright-core');
const esbuild = require('../peers/node_modules/esbuild');

const base = process.argv[2];
const wsUrl = base.replace(/^http/, 'ws') + '/sip';
const bundle = esbuild.buildSync({
  entryPoints: [path.join(here, '../peers/capture/jssip_entry.js')], bundle: true, format: 'iife',
  platform: 'browser', write: false, logLevel: 'silent',
}).outputFiles[0].text;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage();
await page.goto(`${base}/healthz`);
await page.addScriptTag({ content: bundle });
let passed = 0, failed = 0;
for (const [password, want] of [['s3cret', 'registered'], ['wrong', 'registrationFailed']]) {
  const got = await page.evaluate(async ({ wsUrl, password }) => {
    const ua = new window.JsSIP.UA({ sockets: [new window.JsSIP.WebSocketInterface(wsUrl)],
      uri: 'sip:alice@127.0.0.1', password, register: true, register_expires: 60 });
    const result = await new Promise((resolve) => {
      ua.on('registered', () => resolve('registered'));
      ua.on('registrationFailed', (e) => resolve(`registrationFailed`));
      setTimeout(() => resolve('timeout'), 8000);
      ua.start();
    });
    ua.stop();
    return result;
  }, { wsUrl, password });
  const ok = got === want;
  ok ? passed++ : failed++;
  console.log(`${ok ? 'ok    ' : 'FAILED'} JsSIP REGISTER over ${wsUrl} with ${password === 's3cret' ? 'the right' : 'a wrong'} password: ${got}`);
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
