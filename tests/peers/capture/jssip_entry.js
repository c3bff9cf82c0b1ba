// esbuild entry: exposes JsSIP as window.JsSIP (JsSIP ships no browser bundle).
import JsSIP from 'jssip';
window.JsSIP = JsSIP;
