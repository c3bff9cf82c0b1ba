"""Calls whose two legs speak different media profiles, without a media relay (issue #7,
protocols/bridge/src/media.rs): the gateway must refuse them fast with a clear cause, never connect
them without audio. Real peers: sipp (plain RTP/AVP, PCMU), slixmpp carol and bob on Prosody
(ICE + DTLS Jingle), a browser-protocol client offering a real Chromium SDP; `switchboard serve`
with its default `--media-anchor auto` and no rtpengine (run_media_mismatch.sh starts everything).

    python media_mismatch.py --work DIR [--trace FILE]

One `PASS name` / `FAIL name (why)` line per check, then `media_mismatch: N passed, M failed`.
"""
import argparse
import asyncio
import os
import sys
import time
from xml.etree import ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'xmpp'))

from sip_xmpp import SIPP_DIR, Sipp, api_calls, scenario_for, sipp_problems  # noqa: E402
from xmpp_common import (  # noqa: E402
    GW, Browser, Fail, Ice, Peer, Report, Scenario, chromium_offer, new_sid, reason_of, session_initiate_audio,
    setup_trace, wait_for_component)

WS = 'ws://127.0.0.1:8098/ws'


async def empty():
    for _ in range(20):
        doc, raw = await api_calls()
        if doc is not None and not doc.get('calls'):
            return
        await asyncio.sleep(0.2)
    raise Fail(f'/api/calls not empty: {raw}')


async def main(args):
    setup_trace(args.trace)
    r = Report('media_mismatch')
    carol, bob = Peer('carol', 'phone'), Peer('bob', 'phone')
    await carol.login()
    await bob.login()
    await wait_for_component(carol)
    web = await Browser(WS, 'alice').open()
    await web.register('alice')
    checks = {
        's2b': 'sipp (plain RTP) calls the browser alice -> 488 within 1 s, the browser gets no offer',
        's2nobody': 'sipp (plain RTP) calls a name nobody holds -> 404, not 488',
        's2x': 'sipp (plain RTP) calls bob%40localhost -> 488 within 1 s, bob gets no JMI propose',
        'x2s': 'carol (Jingle, ICE+DTLS) calls a plain-RTP sipp phone -> the answer cannot work: carol gets '
               'session-terminate <incompatible-parameters/> (no session-accept), sipp gets BYE',
        'b2s': 'the browser (Chromium SDP) calls a plain-RTP sipp phone -> hangup reason incompatible naming the '
               'relay, sipp gets BYE',
        'empty': '/api/calls is empty afterwards',
    }
    async with Scenario(r, 'media profiles differ, no relay', checks) as sc:
        sc.begin('s2b')
        uac = await Sipp(args.work, 'mm-s2b', scenario_for(args.work, 'uac_expect', 488), service='alice').start()
        sc.cleanup(uac.stop)
        t0 = time.monotonic()
        await uac.wait(10)
        took = time.monotonic() - t0
        p = sipp_problems(uac, want_final=[488])
        if took > 1.5:
            p.append(f'the refusal took {took:.1f} s')
        if web.peek(lambda m: m.get('type') in ('offer', 'offer-request')):
            p.append('the browser got an offer')
        sc.check(p, *uac.details(), note=f'{took:.2f} s')
        sc.begin('s2nobody')
        uac = await Sipp(args.work, 'mm-nobody', os.path.join(SIPP_DIR, 'uac_expect_404.xml'), service='nobody').start()
        sc.cleanup(uac.stop)
        await uac.wait(10)
        sc.check(sipp_problems(uac, want_final=[404]), *uac.details())
        sc.begin('s2x')
        uac = await Sipp(args.work, 'mm-s2x', scenario_for(args.work, 'uac_expect', 488),
                         service='bob%40localhost').start()
        sc.cleanup(uac.stop)
        await uac.wait(10)
        await asyncio.sleep(0.3)
        got = bob.peek(lambda el: 'propose' in ElementTree.tostring(el, encoding='unicode'))
        sc.check(sipp_problems(uac, want_final=[488]) + (['bob got a propose'] if got else []), *uac.details())
        sc.begin('x2s')
        uas = await Sipp(args.work, 'mm-x2s', os.path.join(SIPP_DIR, 'uas_answer.xml'), port=5090).start()
        sc.cleanup(uas.stop)
        sid = new_sid('mm')
        to = f'sipp\\40127.0.0.1\\3a5090@{GW}'
        await carol.iq_set(to, session_initiate_audio(sid, carol.full, Ice(33000)), 'session-initiate')
        iq, j = await carol.expect_jingle('session-terminate', sid, timeout=6)
        cond = reason_of(j)[0]
        accepted = carol.peek(
            lambda el: 'session-accept' in (x := ElementTree.tostring(el, encoding='unicode')) and sid in x)
        await uas.wait(8)
        p = [] if cond == 'incompatible-parameters' else [f'reason <{cond}/>']
        p += ['carol got a session-accept'] if accepted else []
        sc.check(p + sipp_problems(uas), iq, *uas.details(), note=f'<{cond}/>')
        sc.begin('b2s')
        uas = await Sipp(args.work, 'mm-b2s', os.path.join(SIPP_DIR, 'uas_answer.xml'), port=5091).start()
        sc.cleanup(uas.stop)
        offer, _ = chromium_offer()
        await web.send(type='offer', to='sip:sipp@127.0.0.1:5091', session='mm-1', sdp=offer)
        await web.send(type='candidate', session='mm-1', candidate=None)
        m = await web.expect_type('hangup', session='mm-1', timeout=8)
        await uas.wait(8)
        p = [] if m.get('reason') == 'incompatible' and 'rtpengine' in (m.get('sipReason') or '') else [f'hangup {m}']
        sc.check(p + sipp_problems(uas), m, *uas.details(), note=f"reason {m.get('reason')}: {m.get('sipReason')}")
        sc.begin('empty')
        await empty()
        sc.ok()
    await web.close()
    await carol.quit()
    await bob.quit()
    return 0 if r.summary() else 1


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--trace')
    sys.exit(asyncio.run(main(ap.parse_args())))
