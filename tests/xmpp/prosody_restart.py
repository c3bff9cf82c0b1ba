"""Prosody crashes during calls, then comes back (GATEWAY.md, Connection):
  - two calls are up (XMPP -> browser and browser -> XMPP);
  - Prosody is killed (prosody.sh kill DIR): the browser gets `hangup` reason `unavailable` for both;
  - Prosody is started again (prosody.sh start DIR): the gateway reconnects by itself (backoff 0.5 s
    doubling to 30 s), seen as disco#info on the component answered to a freshly logged-in client
    (polled for up to 35 s);
  - new calls both ways work.

    python prosody_restart.py --ws ws://127.0.0.1:PORT/ws --prosody-dir DIR --prosody-sh prosody.sh [--trace FILE]
"""
import argparse
import asyncio
import subprocess
import sys
import time

import slixmpp_calls as calls
from xmpp_common import GW, Browser, Fail, Peer, Report, Scenario, elapsed, setup_trace, wait_for_component, watch

WEB = calls.WEB


async def fresh_login(user, resource, deadline):
    """Logs USER in, retrying until DEADLINE (Prosody may still be starting)."""
    last = None
    while time.monotonic() < deadline:
        p = Peer(user, resource)
        try:
            return await p.login(timeout=3)
        except Exception as e:  # noqa: BLE001
            last = e
            p.abort()
            await asyncio.sleep(0.3)
    raise Fail(f'{user} could not log in again: {last}')


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ws', required=True)
    ap.add_argument('--prosody-dir', required=True)
    ap.add_argument('--prosody-sh', required=True)
    ap.add_argument('--trace')
    args = ap.parse_args()
    setup_trace(args.trace)
    r = Report('prosody_restart')
    checks = {
        'calls': 'restart: an XMPP -> browser and a browser -> XMPP call are up',
        'hangup': 'restart: Prosody killed -> the browser gets hangup reason unavailable for both calls',
        'reconnect': 'restart: Prosody started again -> the component reconnects by itself (disco#info from a fresh login, <= 35 s)',
        'presence': f'restart: {WEB}@{GW} is available again to a subscriber after the reconnect',
        'new-x2b': 'restart: a new XMPP -> browser call works after the reconnect',
        'new-b2x': 'restart: a new browser -> XMPP call works after the reconnect',
    }
    c = calls.Ctx()
    c.r = r
    c.ws_url = args.ws
    c.alice = c.bob = c.web = None
    peers = []
    up = []
    async with Scenario(r, 'Prosody restart: calls up', {'calls': checks['calls']}) as sc:
        sc.begin('calls')
        c.alice, c.bob = peers = [Peer('alice', 'restart-a'), Peer('bob', 'restart-b')]
        await asyncio.gather(*(p.login() for p in peers))
        c.web = Browser(args.ws, 'web')
        await c.web.open()
        await c.web.register(WEB)
        await wait_for_component(c.alice, 10)
        # bob subscribes, to see the presence again after the restart
        c.bob.send_presence(pto=calls.WEB_BARE, ptype='subscribe')
        why, details = [], []
        for label, est in (('XMPP -> browser', lambda: calls.x2b_establish(c.alice, c.web, 47000)),
                           ('browser -> XMPP', lambda: calls.b2x_establish(c.web, c.bob, 47100))):
            try:
                up.append(await est())
            except Fail as e:  # a call that did not come up does not stop the restart checks
                why.append(f'{label} call: {e.why}')
                details += e.details
        sc.check(why, *details)

    t0 = time.monotonic()
    subprocess.run(['bash', args.prosody_sh, 'kill', args.prosody_dir], check=True, capture_output=True)
    for p in peers:
        p.abort()
    async with Scenario(r, 'Prosody restart: killed', {'hangup': checks['hangup']}) as sc:
        sc.begin('hangup')
        if c.web is None or not up:
            raise Fail('no call was up to be hung up')
        p = []
        got = []
        for st in up:
            m = await c.web.expect_type('hangup', st['session'], timeout=5)
            got.append(m)
            if m.get('reason') != 'unavailable':
                p.append(f'session {st["session"]}: reason {m.get("reason")!r}, want unavailable')
        sc.check(p, *got, note=f'{len(up)} call(s), after {time.monotonic() - t0:.1f} s')

    await asyncio.sleep(1.0)  # Prosody stays down for a second: the gateway must retry
    reconnected = False
    rest = {k: checks[k] for k in ('reconnect', 'presence')}
    async with Scenario(r, 'Prosody restart: back', rest) as sc:
        sc.begin('reconnect')
        t0 = time.monotonic()
        res = subprocess.run(['bash', args.prosody_sh, 'start', args.prosody_dir], capture_output=True, text=True)
        if res.returncode != 0:
            raise Fail(f'prosody.sh start failed: {res.stderr.strip()[-300:]}')
        deadline = t0 + 35
        c.alice = await fresh_login('alice', 'restart-a2', deadline)
        c.bob = await fresh_login('bob', 'restart-b2', deadline)
        peers = [c.alice, c.bob]
        took = await wait_for_component(c.alice, max(1.0, deadline - time.monotonic()))
        reconnected = True
        sc.ok(note=f'{time.monotonic() - t0:.1f} s after the restart (disco#info polled for {took:.1f} s)')
        try:
            c.bob.send_presence(pto=calls.WEB_BARE, ptype='probe')
            m = await c.bob.expect_presence(calls.WEB_BARE, 'available')
            sc.soft('presence', [], note=f'from {m.get("from")}')
        except Fail as e:
            sc.soft('presence', [e.why], *e.details)
    for key, est, who in (('new-x2b', lambda: calls.x2b_establish(c.alice, c.web, 47200), lambda: c.alice),
                          ('new-b2x', lambda: calls.b2x_establish(c.web, c.bob, 47300), lambda: c.bob)):
        async with Scenario(r, f'Prosody restart: {key}', {key: checks[key]}) as sc:
            sc.begin(key)
            if c.web is None or not reconnected:
                raise Fail('not tried: the gateway did not reconnect')
            c.web.forget()
            st = await est()
            await c.web.send(type='hangup', session=st['session'])
            await watch(who().expect_jingle('session-terminate', st['sid']), c.web)
            sc.ok()
    print(f'(prosody_restart took {elapsed():.1f} s)')
    if c.web is not None:
        await c.web.close()
    await asyncio.gather(*(p.quit() for p in peers), return_exceptions=True)
    return 0 if r.summary() else 1


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
