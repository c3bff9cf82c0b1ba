"""`[[dial_plan]]` rules of switchboard.toml with real peers (protocols/bridge/BRIDGE.md, "Rules"):
slixmpp carol on Prosody and a browser-protocol client on one side, sipp on the other, and
`switchboard serve --config dialplan.toml ...` (written by run_dialplan.sh) in between:

    [[dial_plan]] match = "xmpp:+1*@gateway.localhost", from = "xmpp", route = "sip:+1$1@127.0.0.1:5090"
    [[dial_plan]] match = "xmpp:premium*@gateway.localhost", reject = "decline"
    [[dial_plan]] match = "xmpp:support@gateway.localhost", route = ["browser:agent", "sip:desk@127.0.0.1:5091"]
    [[dial_plan]] match = "sip:helpdesk@*", route = "browser:agent2"

    python dialplan.py --work DIR [--trace FILE]

Checks: a number dialled from XMPP is rewritten onto the SIP URI ($1 captured) and the call is
answered; the reject rule refuses with <decline/> without any SIP traffic; a route list falls back
from a browser name nobody holds to the next target; a SIP call to a name is rewritten to another
browser name; /api/calls is empty after each. One `PASS name` / `FAIL name (why)` line per check,
then `dialplan: N passed, M failed`.
"""
import argparse
import asyncio
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'xmpp'))

from sip_xmpp import SIPP_DIR, Sipp, api_calls, sipp_problems  # noqa: E402
from xmpp_common import (  # noqa: E402
    GW, Browser, Fail, Ice, Peer, Report, Scenario, browser_answer, jingle, new_sid, reason_el, reason_of,
    session_initiate_audio, setup_trace, wait_for_component)

WS = 'ws://127.0.0.1:8098/ws'


def invite_uri(sipp):
    """The Request-URI of the first INVITE in sipp's message log."""
    try:
        with open(sipp.base + '.msg') as f:
            for line in f:
                if line.startswith('INVITE '):
                    return line.split()[1]
    except OSError:
        pass
    return None


async def empty(sc):
    for _ in range(20):
        doc, raw = await api_calls()
        if doc is not None and not doc.get('calls'):
            return
        await asyncio.sleep(0.2)
    raise Fail(f'/api/calls not empty: {raw}')


async def xmpp_to_sip(c, sc, to, port, want_uri, label):
    """carol calls `to`; the sipp UAS on `port` must get an INVITE to `want_uri` and answer."""
    uas = await Sipp(c.work, label, os.path.join(SIPP_DIR, 'uas_answer.xml'), port=port, extra=['-d', '200']).start()
    sc.cleanup(uas.stop)
    sid = new_sid('dp')
    await c.carol.iq_set(to, session_initiate_audio(sid, c.carol.full, Ice(32000 + port % 100)), 'session-initiate')
    try:
        iq, _ = await c.carol.expect_jingle('session-accept', sid, timeout=6)
    except Fail as e:
        raise Fail(e.why, *e.details, *uas.details()) from None
    uri = invite_uri(uas)
    problems = [] if uri == want_uri else [f'INVITE Request-URI {uri!r}, want {want_uri!r}']
    await c.carol.iq_set(iq.get('from') or to, jingle('session-terminate', sid, children=[reason_el('success')]),
                         'session-terminate')
    await uas.wait(8)
    return problems + sipp_problems(uas), uas, uri


async def main(args):
    setup_trace(args.trace)
    r = Report('dialplan')

    class C:
        pass
    c = C()
    c.work = args.work
    c.carol = Peer('carol', 'phone')
    await c.carol.login()
    await wait_for_component(c.carol)

    checks = {
        'rewrite': 'rule with capture: carol calls +15551234@gateway.localhost -> INVITE sip:+15551234@127.0.0.1:5090, answered',
        'reject': 'reject rule: carol calls premium900@gateway.localhost -> session-terminate <decline/>',
        'fallback': 'route list: support@gateway.localhost -> no browser holds `agent` -> INVITE sip:desk@127.0.0.1:5091, answered',
        'sip-rule': 'rule from SIP: sipp calls sip:helpdesk@gateway -> the browser registered as agent2 gets the offer and answers',
        'empty': '/api/calls is empty after the dial-plan calls',
    }
    kill_checks = {
        'kill': 'kill: a SIP phone over UDP (sipp UAS) SIGKILLed mid-call -> the in-dialog OPTIONS check '
                '(--sip-keepalive 2) goes unanswered -> carol gets session-terminate <gone/> within 8 s',
        'kill-empty': '/api/calls is empty after the dead SIP phone',
    }
    async with Scenario(r, 'dial plan', checks) as sc:
        sc.begin('rewrite')
        p, uas, uri = await xmpp_to_sip(c, sc, f'+15551234@{GW}', 5090, 'sip:+15551234@127.0.0.1:5090', 'dp-rewrite')
        sc.check(p, *uas.details(), note=f'Request-URI {uri}')
        sc.begin('reject')
        sid = new_sid('dp')
        await c.carol.iq_set(f'premium900@{GW}', session_initiate_audio(sid, c.carol.full, Ice(32100)), 'session-initiate')
        iq, j = await c.carol.expect_jingle('session-terminate', sid, timeout=5)
        cond = reason_of(j)[0]
        sc.check([] if cond == 'decline' else [f'reason <{cond}/>, want <decline/>'], iq, note=f'<{cond}/>')
        sc.begin('fallback')
        p, uas, uri = await xmpp_to_sip(c, sc, f'support@{GW}', 5091, 'sip:desk@127.0.0.1:5091', 'dp-fallback')
        sc.check(p, *uas.details(), note=f'Request-URI {uri}')
        sc.begin('sip-rule')
        agent = await Browser(WS, 'agent2').open()
        sc.cleanup(agent.close)
        await agent.register('agent2')
        uac = await Sipp(c.work, 'dp-helpdesk', os.path.join(SIPP_DIR, 'uac_call_bye.xml'), service='helpdesk',
                         extra=['-d', '200']).start()
        sc.cleanup(uac.stop)
        offer = await agent.expect_type('offer', timeout=6)
        await agent.send(type='answer', session=offer['session'], sdp=browser_answer(offer['sdp'])[0])
        await agent.send(type='candidate', session=offer['session'], candidate=None)
        await uac.wait(10)
        sc.check(sipp_problems(uac), *uac.details(), note=f"offer from {offer.get('from')}")
        sc.begin('empty')
        await empty(sc)
        sc.ok()
    async with Scenario(r, 'dead SIP phone over UDP', kill_checks) as sc:
        sc.begin('kill')
        port = 5092
        uas = await Sipp(c.work, 'dp-kill', os.path.join(SIPP_DIR, 'uas_answer.xml'), port=port).start()
        sc.cleanup(uas.stop)
        sid = new_sid('dp')
        to = f'sipp\\40127.0.0.1\\3a{port}@{GW}'
        await c.carol.iq_set(to, session_initiate_audio(sid, c.carol.full, Ice(32200)), 'session-initiate')
        await c.carol.expect_jingle('session-accept', sid, timeout=6)
        await asyncio.sleep(0.5)
        await uas.stop()  # SIGKILL: no BYE, and UDP has no connection to lose
        t0 = asyncio.get_event_loop().time()
        iq, j = await c.carol.expect_jingle('session-terminate', sid, timeout=8)
        took = asyncio.get_event_loop().time() - t0
        cond = reason_of(j)[0]
        sc.check([] if cond == 'gone' else [f'reason <{cond}/>, want <gone/>'], iq, note=f'<{cond}/> {took:.1f} s after the kill')
        sc.begin('kill-empty')
        await empty(sc)
        sc.ok()
    await c.carol.quit()
    return 0 if r.summary() else 1


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--trace')
    sys.exit(asyncio.run(main(ap.parse_args())))
