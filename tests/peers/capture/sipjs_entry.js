// esbuild entry: exposes SIP.js as window.SIP.
import * as SIP from 'sip.js';
window.SIP = SIP;
