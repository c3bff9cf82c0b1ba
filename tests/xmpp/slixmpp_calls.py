"""XMPP <-> browser signaling through `switchboard serve --xmpp-*` (protocols/jingle/GATEWAY.md),
with slixmpp accounts on Prosody (alice, bob, carol, dave @localhost) and a browser-protocol client
registered as `web` (its JID: web@gateway.localhost, calls from web@gateway.localhost/switchboard).

    python slixmpp_calls.py --ws ws://127.0.0.1:PORT/ws [--trace FILE]

Needs Prosody from prosody.sh and the gateway connected as the component gateway.localhost;
run_slixmpp.sh starts both in a private network namespace. One line per check (PASS/FAIL, see
xmpp_common.py), then `slixmpp_calls: N passed, N failed`; exit status 1 if any failed.
"""
import argparse
import asyncio
import sys

from xmpp_common import (
    GW, NS_CAPS, NS_DISCO, NS_HINTS, NS_INFO, NS_JERR, NS_JINGLE, NS_RTP, NS_GROUP, SB_RES,
    GATEWAY_MD_FEATURES, REQUIRED_FEATURES, T, Browser, E, Fail, Ice, Peer, Report, Scenario, Sdp,
    accept_for, browser_answer, browser_candidates, cand_key, caps_ver, chromium_offer, content,
    contents_of, elapsed, jingle, jingle_candidates, jingle_problems_vs_sdp, jmi, local, new_sid, q,
    reason_el, reason_of, sdp_problems_vs_jingle, session_initiate_audio, setup_trace, stanza_error,
    transport_info, audio_description, ice_transport, wait_for_component, watch)

WEB = 'web'
WEB_BARE = f'{WEB}@{GW}'
WEB_FULL = f'{WEB}@{GW}/{SB_RES}'


def xmpp_uri(jid):
    return f'xmpp:{jid}'


class Ctx:
    pass


# ---------------------------------------------------------------------------------------------
# building blocks (raise Fail)

async def terminate_quietly(peer, to, sid, reason='success'):
    try:
        await peer.iq_set(to, jingle('session-terminate', sid, children=[reason_el(reason)]), 'cleanup', timeout=1)
    except Fail:
        pass


async def hangup_quietly(web, session, reason=None):
    try:
        if reason:
            await web.send(type='hangup', session=session, reason=reason)
        else:
            await web.send(type='hangup', session=session)
    except Exception:  # noqa: BLE001
        pass


def reason_problems(el, want, what):
    r, wrapped = reason_of(el)
    if r != want:
        return [f'{what}: reason {r!r}, want <{want}/>']
    if not wrapped:
        return [f'{what}: <{want}/> is not inside <reason xmlns="{NS_JINGLE}"> (XEP-0166/XEP-0353 wrap it)']
    return []


async def x2b_establish(peer, web, port, jmi_first=True, answer=True):
    """An XMPP call from PEER to the browser `web`, up to the browser's answer (or its offer when
    ANSWER is false). Returns a dict with sid, ice, session, offer, to."""
    sid = new_sid('x2b')
    ice = Ice(port)
    to = WEB_FULL
    if jmi_first:
        peer.send_jmi(WEB_BARE, jmi('propose', sid, [E(NS_RTP, 'description', {'media': 'audio'})]))
        msg, _ = await watch(peer.expect_jmi('proceed', sid), web)
        to = msg.get('from') or WEB_FULL
    await peer.iq_set(to, session_initiate_audio(sid, peer.full, ice), 'session-initiate')
    offer = await watch(web.expect(lambda m: m.get('type') == 'offer' and m.get('from') == xmpp_uri(peer.full),
                                   f'offer from {xmpp_uri(peer.full)}'), peer)
    st = dict(sid=sid, ice=ice, session=offer['session'], offer=offer, to=to)
    if answer:
        ans_text, _, _ = browser_answer(offer['sdp'])
        await web.send(type='answer', session=st['session'], sdp=ans_text)
        iq, j = await watch(peer.expect_jingle('session-accept', sid), web)
        st['accept'] = j
    return st


async def b2x_establish(web, peer, port, to_uri=None, accept=True):
    """A browser call from `web` to PEER (bare JID: JMI), up to the session-accept (or the
    session-initiate when ACCEPT is false). Returns a dict."""
    offer_text, offer = chromium_offer(('audio',))
    session = new_sid('b2x')
    await web.send(type='offer', to=to_uri or xmpp_uri(peer.bare_jid), session=session, sdp=offer_text)
    msg, pr = await watch(peer.expect_jmi('propose'), web)
    sid = pr.get('id')
    frm = msg.get('from') or WEB_FULL
    peer.send_jmi(frm, jmi('proceed', sid))
    iq, j = await watch(peer.expect_jingle('session-initiate', sid), web)
    st = dict(sid=sid, session=session, offer=offer, initiate=j, frm=iq.get('from') or frm)
    if accept:
        ice = Ice(port)
        await peer.iq_set(st['frm'], accept_for(j, peer.full, ice), 'session-accept')
        st['answer'] = await watch(web.expect_type('answer', session), peer)
        st['ice'] = ice
    return st


# ---------------------------------------------------------------------------------------------
# scenarios

async def sc_disco(c):
    checks = {
        'gw': f'disco#info {GW} lists the Jingle, RTP audio/video, ICE-UDP, DTLS and JMI features',
        'gw-all': f'disco#info {GW}: identity gateway/webrtc and every feature GATEWAY.md lists',
        'name': f'disco#info {WEB_BARE} lists the Jingle, RTP audio/video, ICE-UDP, DTLS and JMI features',
        'name-all': f'disco#info {WEB_BARE}: identity client/phone and every feature GATEWAY.md lists',
        'full': f'disco#info {WEB_FULL} answers with the same features',
        'nobody': f'disco#info nobody@{GW} (a name nobody registered) -> item-not-found',
        'ping': f'urn:xmpp:ping to {GW} answered',
        'other': f'jabber:iq:version to {GW} -> service-unavailable',
    }
    alice = c.alice

    def features(res):
        qq = res.find(q(NS_DISCO, 'query'))
        return [] if qq is None else [f.get('var') for f in qq.findall(q(NS_DISCO, 'feature'))]

    def identities(res):
        qq = res.find(q(NS_DISCO, 'query'))
        return [] if qq is None else [(i.get('category'), i.get('type')) for i in qq.findall(q(NS_DISCO, 'identity'))]

    async with Scenario(c.r, 'disco', checks) as sc:
        for jid, key, key_all, ident in ((GW, 'gw', 'gw-all', ('gateway', 'webrtc')),
                                         (WEB_BARE, 'name', 'name-all', ('client', 'phone'))):
            try:
                sent, res = await alice.disco_info(jid)
            except Fail as e:
                sc.soft(key, [e.why], *e.details)
                sc.soft(key_all, ['no answer'])
                continue
            if res.get('type') != 'result':
                sc.soft(key, [f'error {stanza_error(res)}'], sent, res)
                sc.soft(key_all, ['no result'])
                continue
            fs = features(res)
            missing = [f for f in REQUIRED_FEATURES if f not in fs]
            sc.soft(key, [f'missing {missing}'] if missing else [], res)
            missing = [f for f in GATEWAY_MD_FEATURES if f not in fs]
            p = [f'missing {missing}'] if missing else []
            if ident not in identities(res):
                p.append(f'identities {identities(res)}, want {ident[0]}/{ident[1]}')
            sc.soft(key_all, p, *([res] if p else []))
        try:
            sent, res = await alice.disco_info(WEB_FULL)
            p = [] if res.get('type') == 'result' else [f'error {stanza_error(res)}']
            if not p:
                missing = [f for f in REQUIRED_FEATURES if f not in features(res)]
                p = [f'missing {missing}'] if missing else []
            sc.soft('full', p, *([sent, res] if p else []))
        except Fail as e:
            sc.soft('full', [e.why], *e.details)
        try:
            sent, res = await alice.disco_info(f'nobody@{GW}')
            cond = stanza_error(res)[0] if res.get('type') == 'error' else f'type={res.get("type")}'
            sc.soft('nobody', [] if cond == 'item-not-found' else [f'got {cond}, want item-not-found'],
                    *([sent, res] if cond != 'item-not-found' else []))
        except Fail as e:
            sc.soft('nobody', [e.why], *e.details)
        iq = alice.make_iq_get(ito=GW)
        iq.append(E('urn:xmpp:ping', 'ping'))
        try:
            await iq.send(timeout=T)
            sc.soft('ping', [])
        except Exception as e:  # noqa: BLE001
            sc.soft('ping', [f'{type(e).__name__}'], *([e.iq] if hasattr(e, 'iq') else []))
        iq = alice.make_iq_get(queryxmlns='jabber:iq:version', ito=GW)
        try:
            res = await iq.send(timeout=T)
            sc.soft('other', ['answered with type=result'], res)
        except Exception as e:  # noqa: BLE001
            if hasattr(e, 'iq'):
                cond = stanza_error(e.iq.xml)[0]
                sc.soft('other', [] if cond == 'service-unavailable' else [f'got {cond}'], *([] if cond == 'service-unavailable' else [e.iq]))
            else:
                sc.soft('other', [f'no answer ({type(e).__name__})'])


async def sc_presence(c):
    name = 'pres'
    bare = f'{name}@{GW}'
    checks = {
        'subscribed': f'presence subscribe to {bare} -> subscribed',
        'subback': f'presence subscribe to {bare} -> the gateway subscribes back',
        'available': f'presence subscribe to {bare} -> available presence with XEP-0115 caps',
        'ver': 'caps ver verifies against disco#info node#ver (XEP-0115 §5)',
        'directed': f'directed presence to {bare} -> available presence with caps back',
        'release': f'browser releases the name (registers another) -> unavailable from {bare}',
        'again': f'browser registers {name} again -> available to the subscriber',
        'close': f'browser disconnects -> unavailable from {bare}',
    }
    bob, carol = c.bob, c.carol
    pres = Browser(c.ws_url, 'pres-browser')
    async with Scenario(c.r, 'presence', checks) as sc:
        sc.cleanup(pres.close)
        bob.forget()
        carol.forget()
        sc.begin('subscribed')
        await pres.open()
        await pres.register(name)
        bob.send_presence(pto=bare, ptype='subscribe')
        await bob.expect_presence(bare, 'subscribed')
        sc.ok()
        sc.begin('available')
        avail = await bob.expect_presence(bare, 'available')
        caps = avail.find(q(NS_CAPS, 'c'))
        p = []
        if caps is None:
            p.append('no <c xmlns="http://jabber.org/protocol/caps"/>')
        elif caps.get('hash') != 'sha-1' or not caps.get('node') or not caps.get('ver'):
            p.append(f'caps hash={caps.get("hash")!r} node={caps.get("node")!r} ver={caps.get("ver")!r}')
        sc.check(p, avail, note=f'from {avail.get("from")}')
        subs = bob.peek(lambda el: local(el.tag) == 'presence' and el.get('type') == 'subscribe'
                        and (el.get('from') or '').split('/')[0] == bare)
        if not subs:
            try:
                await bob.expect_presence(bare, 'subscribe', timeout=1)
                subs = [True]
            except Fail:
                pass
        sc.soft('subback', [] if subs else ['no presence type=subscribe from the gateway within 1 s'])
        # XEP-0115: a client asks disco#info with node = node#ver at the presence's JID and checks the hash
        try:
            node = f'{caps.get("node")}#{caps.get("ver")}'
            sent, res = await bob.disco_info(avail.get('from'), node=node)
            p = []
            if res.get('type') != 'result':
                p.append(f'disco#info with node {node} -> error {stanza_error(res)}')
            else:
                qq = res.find(q(NS_DISCO, 'query'))
                if qq.get('node') != node:
                    p.append(f'the reply\'s <query/> has node={qq.get("node")!r}, want {node!r} (XEP-0115 §6.2)')
                v = caps_ver(qq)
                if v != caps.get('ver'):
                    p.append(f'ver={caps.get("ver")!r} but the disco#info reply hashes to {v!r}')
            sc.soft('ver', p, *([sent, res] if p else []))
        except Fail as e:
            sc.soft('ver', [e.why], *e.details)
        try:
            carol.send_presence(pto=bare)
            back = await carol.expect_presence(bare, 'available')
            sc.soft('directed', [] if back.find(q(NS_CAPS, 'c')) is not None else ['no caps'], back)
        except Fail as e:
            sc.soft('directed', [e.why], *e.details)
        sc.begin('release')
        bob.forget()
        await pres.register(name + '2')
        await bob.expect_presence(bare, 'unavailable')
        sc.ok()
        sc.begin('again')
        await pres.register(name)
        await bob.expect_presence(bare, 'available')
        sc.ok()
        sc.begin('close')
        await pres.close()
        await bob.expect_presence(bare, 'unavailable')
        sc.ok()


async def sc_x2b_browser_hangup(c):
    alice, web = c.alice, c.web
    checks = {
        'proceed': f'x2b: JMI propose to {WEB_BARE} -> proceed from {WEB_FULL}',
        'init': 'x2b: session-initiate to the JID that proceeded is acked',
        'offer': f'x2b: browser gets offer from xmpp:{alice.full}',
        'sdp': 'x2b: offer SDP has the Jingle ICE ufrag/pwd, fingerprint, actpass, opus+fmtp, telephone-event, rtcp-mux, mid+BUNDLE',
        'cands': "x2b: alice's candidates (session-initiate, then transport-info) reach the browser",
        'ringing': 'x2b: browser ringing -> session-info <ringing/>',
        'accept': 'x2b: browser answer -> session-accept',
        'accept-c': "x2b: session-accept has the answer's ufrag/pwd and fingerprint, setup active|passive (never actpass), content audio",
        'bcand': 'x2b: browser candidate -> transport-info',
        'hangup': 'x2b: browser hangup -> session-terminate <success/>',
    }
    async with Scenario(c.r, 'XMPP -> browser (JMI), browser hangs up', checks) as sc:
        alice.forget()
        web.forget()
        sid = new_sid('x2b')
        ice = Ice(41000)
        st = {}
        sc.cleanup(lambda: terminate_quietly(alice, WEB_FULL, sid))
        sc.begin('proceed')
        sent = alice.send_jmi(WEB_BARE, jmi('propose', sid, [E(NS_RTP, 'description', {'media': 'audio'})]))
        msg, _ = await watch(alice.expect_jmi('proceed', sid), web)
        p = [] if msg.get('from') == WEB_FULL else [f'proceed from {msg.get("from")}, want {WEB_FULL}']
        sc.check(p, sent, msg)
        sc.begin('init')
        await alice.iq_set(msg.get('from'), session_initiate_audio(sid, alice.full, ice), 'session-initiate')
        sc.ok()
        # Conversations trickles right after the session-initiate
        ti = asyncio.create_task(alice.iq_set(WEB_FULL, transport_info(sid, 'audio', ice, ice.trickle, initiator=alice.full),
                                              'transport-info'))
        sc.begin('offer')
        offer = await watch(web.expect_type('offer'), alice)
        p = [] if offer.get('from') == xmpp_uri(alice.full) else [f'from={offer.get("from")!r}, want xmpp:{alice.full}']
        sc.check(p, offer)
        S = offer['session']
        sc.cleanup(lambda: hangup_quietly(web, S))
        sc.begin('sdp')
        sc.check(sdp_problems_vs_jingle(offer['sdp'], ice, 'actpass', 'offer SDP'), offer['sdp'])
        sc.begin('cands')
        await ti
        o = Sdp(offer['sdp'])
        want = {ice.key(x) for x in ice.cands + [ice.trickle] if x['component'] == 1}
        got = set(o.sections[0].cands) if o.sections else set()
        p = []
        while want - got:
            m = await web.expect(lambda m: m.get('type') == 'candidate' and m.get('session') == S and m.get('candidate'),
                                 f'candidate messages for {sorted(want - got)}')
            cd = m['candidate']
            got.add(cand_key(cd['candidate']))
            if cd.get('sdpMid') != o.sections[0].mid and cd.get('sdpMLineIndex') != 0:
                p.append(f'candidate with sdpMid={cd.get("sdpMid")!r} sdpMLineIndex={cd.get("sdpMLineIndex")!r}, '
                         f'want the offer\'s mid {o.sections[0].mid!r} / 0')
        sc.check(p, note='in the SDP: %d, as candidate messages: %d' % (
            len(want & set(o.sections[0].cands)) if o.sections else 0, len(want - set(o.sections[0].cands)) if o.sections else 0))
        sc.begin('ringing')
        await web.send(type='ringing', session=S)
        iq, j = await alice.expect_jingle('session-info', sid)
        sc.check([] if j.find(q(NS_INFO, 'ringing')) is not None else
                 [f'session-info without <ringing xmlns="{NS_INFO}"/>'], iq)
        sc.begin('accept')
        ans_text, ans, _ = browser_answer(offer['sdp'])
        await web.send(type='answer', session=S, sdp=ans_text)
        iq, j = await watch(alice.expect_jingle('session-accept', sid), web)
        sc.ok()
        sc.begin('accept-c')
        p = jingle_problems_vs_sdp(j, ans, ['active', 'passive'], 'session-accept')
        names = [x['name'] for x in contents_of(j)]
        if names != ['audio']:
            p.append(f'content names {names}, want ["audio"] (the names of the session-initiate)')
        if j.get('responder') not in (None, WEB_FULL):
            p.append(f'responder={j.get("responder")!r}, want {WEB_FULL}')
        sc.check(p, iq, ans_text)
        sc.begin('bcand')
        bc = browser_candidates(ans)
        await web.send(type='candidate', session=S, candidate=bc[0])
        want = {cand_key(bc[0]['candidate'])}
        got = jingle_candidates(j)
        p = []
        while want - got:
            iq, tj = await watch(alice.expect_jingle('transport-info', sid), web)
            got |= jingle_candidates(tj)
            names = [x['name'] for x in contents_of(tj)]
            if any(n != 'audio' for n in names):
                p.append(f'transport-info content names {names}, want audio')
                p.append(str(iq))
        sc.check(p)
        sc.begin('hangup')
        await web.send(type='hangup', session=S)
        iq, j = await watch(alice.expect_jingle('session-terminate', sid), web)
        sc.check(reason_problems(j, 'success', 'session-terminate'), iq)
        sc.cleanups.clear()


async def sc_x2b_xmpp_hangup(c):
    alice, web = c.alice, c.web
    checks = {
        'est': 'x2b-2: XMPP -> browser call established (JMI, answer, session-accept)',
        'reinit': 'x2b-2: a second session-initiate with the same sid -> unexpected-request + <out-of-order/>',
        'hangup': 'x2b-2: session-terminate <success/> from alice -> browser hangup reason normal',
    }
    async with Scenario(c.r, 'XMPP -> browser (JMI), XMPP side hangs up', checks) as sc:
        alice.forget()
        web.forget()
        sc.begin('est')
        st = await x2b_establish(alice, web, 41100)
        sc.cleanup(lambda: terminate_quietly(alice, st['to'], st['sid']))
        sc.cleanup(lambda: hangup_quietly(web, st['session']))
        sc.ok()
        sc.begin('reinit')
        sent, err = await alice.iq_set_error(st['to'], session_initiate_audio(st['sid'], alice.full, Ice(41150)),
                                             'second session-initiate')
        cond, app = stanza_error(err)
        p = []
        if cond != 'unexpected-request' or f'{{{NS_JERR}}}out-of-order' not in app:
            p.append(f'error {cond} {app}, want unexpected-request + {{{NS_JERR}}}out-of-order')
        stray = web.peek(lambda m: m.get('session') == st['session'] and m.get('type') in ('offer', 'hangup'))
        if stray:
            p.append(f'the browser got {stray[0].get("type")} from it')
        sc.check(p, sent, err)
        sc.begin('hangup')
        await alice.iq_set(st['to'], jingle('session-terminate', st['sid'], children=[reason_el('success')]),
                           'session-terminate')
        m = await web.expect_type('hangup', st['session'])
        sc.check([] if m.get('reason') == 'normal' else [f'reason {m.get("reason")!r}, want normal'], m)
        sc.cleanups.clear()


async def sc_b2x(c):
    alice, web = c.alice, c.web
    checks = {
        'propose': f'b2x: browser offer to xmpp:{alice.bare_jid} -> JMI propose to the bare JID from {WEB_FULL} (<description media=audio/>, <store/>)',
        'ringing': f'b2x: JMI ringing -> browser ringing from xmpp:{alice.full}',
        'init': "b2x: JMI proceed -> session-initiate to alice's full JID, sid = propose id",
        'init-c': 'b2x: session-initiate content: RTP audio, opus 48000/2, ICE ufrag/pwd and fingerprint (setup actpass) of the offer, rtcp-mux',
        'bundle': 'b2x: session-initiate has <group semantics="BUNDLE"> (XEP-0338) for a=group:BUNDLE',
        'cands': "b2x: the browser's trickled candidates (before and after proceed) reach alice",
        'answer': f'b2x: session-accept -> browser answer from xmpp:{alice.full}',
        'answer-sdp': "b2x: answer SDP has alice's ufrag/pwd, fingerprint, setup:active, opus, the offer's mid",
        'ti': 'b2x: transport-info from alice -> browser candidate with the offer\'s sdpMid',
        'dup': 'b2x: session-accept for the accepted session -> unexpected-request + <out-of-order/>',
        'undisturbed': 'b2x: the call goes on after that error (transport-info still reaches the browser)',
        'hangup': 'b2x: browser hangup -> session-terminate <success/>',
        'finish': 'b2x: JMI <finish/> after the accepted call ended (GATEWAY.md step 6)',
    }
    async with Scenario(c.r, 'browser -> XMPP bare JID (JMI), browser hangs up', checks) as sc:
        alice.forget()
        web.forget()
        offer_text, offer = chromium_offer(('audio',))
        S = new_sid('b2x')
        bc = browser_candidates(offer)
        sc.cleanup(lambda: hangup_quietly(web, S))
        sc.begin('propose')
        await web.send(type='offer', to=xmpp_uri(alice.bare_jid), session=S, sdp=offer_text)
        await web.send(type='candidate', session=S, candidate=bc[0])
        msg, pr = await watch(alice.expect_jmi('propose'), web)
        sid = pr.get('id')
        p = []
        if msg.get('from') != WEB_FULL:
            p.append(f'from={msg.get("from")!r}, want {WEB_FULL}')
        if msg.get('to') != alice.bare_jid:
            p.append(f'to={msg.get("to")!r}, want the bare JID {alice.bare_jid}')
        if msg.get('type') != 'chat':
            p.append(f'message type={msg.get("type")!r}, want chat')
        medias = [d.get('media') for d in pr.findall(q(NS_RTP, 'description'))]
        if medias != ['audio']:
            p.append(f'descriptions {medias}, want ["audio"]')
        if msg.find(q(NS_HINTS, 'store')) is None:
            p.append('no <store xmlns="urn:xmpp:hints"/>')
        if not sid:
            p.append('propose without id')
        sc.check(p, msg)
        frm = msg.get('from')
        sc.begin('ringing')
        alice.send_jmi(frm, jmi('ringing', sid))
        m = await watch(web.expect_type('ringing', S), alice)
        sc.check([] if m.get('from') == xmpp_uri(alice.full) else [f'from={m.get("from")!r}, want xmpp:{alice.full}'], m)
        sc.begin('init')
        alice.send_jmi(frm, jmi('proceed', sid))
        iq, j = await watch(alice.expect_jingle('session-initiate', None), web)
        p = []
        if j.get('sid') != sid:
            p.append(f'sid={j.get("sid")!r}, want the propose id {sid!r}')
        if iq.get('from') != WEB_FULL:
            p.append(f'from={iq.get("from")!r}, want {WEB_FULL}')
        if iq.get('to') != alice.full:
            p.append(f'to={iq.get("to")!r}, want {alice.full}')
        if j.get('initiator') not in (None, WEB_FULL):
            p.append(f'initiator={j.get("initiator")!r}, want {WEB_FULL}')
        sc.check(p, iq)
        sc.cleanup(lambda: terminate_quietly(alice, WEB_FULL, sid))
        sc.begin('init-c')
        sc.check(jingle_problems_vs_sdp(j, offer, ['actpass'], 'session-initiate'), iq)
        names = [x['name'] for x in contents_of(j)]
        grp = j.find(q(NS_GROUP, 'group'))
        gnames = [x.get('name') for x in grp] if grp is not None else None
        sc.soft('bundle', [] if grp is not None and grp.get('semantics') == 'BUNDLE' and gnames == names else
                [f'group {None if grp is None else grp.get("semantics")} {gnames}, want BUNDLE {names}'],
                *([iq] if grp is None else []))
        sc.begin('cands')
        await web.send(type='candidate', session=S, candidate=bc[1])
        await web.send(type='candidate', session=S, candidate=bc[2])
        await web.send(type='candidate', session=S, candidate=None)
        want = {cand_key(bc[0]['candidate']), cand_key(bc[1]['candidate'])}
        got = jingle_candidates(j)
        p = []
        tis = []
        while want - got:
            tiq, tj = await watch(alice.expect_jingle('transport-info', sid), web)
            tis.append(tiq)
            got |= jingle_candidates(tj)
            for x in contents_of(tj):
                if x['name'] not in names:
                    p.append(f'transport-info content {x["name"]!r} is not a content of the session-initiate {names}')
                if x['ufrag'] not in (None, offer.sections[0].ufrag):
                    p.append(f'transport-info ufrag {x["ufrag"]!r}, want {offer.sections[0].ufrag!r}')
        sc.check(p, *tis, note=f'{len(want & jingle_candidates(j))} in session-initiate, {len(tis)} transport-info')
        sc.begin('answer')
        aice = Ice(42000)
        acc = accept_for(j, alice.full, aice)
        await alice.iq_set(WEB_FULL, acc, 'session-accept')
        m = await watch(web.expect_type('answer', S), alice)
        sc.check([] if m.get('from') == xmpp_uri(alice.full) else [f'from={m.get("from")!r}, want xmpp:{alice.full}'], m)
        sc.begin('answer-sdp')
        p = sdp_problems_vs_jingle(m['sdp'], aice, 'active', 'answer SDP')
        a = Sdp(m['sdp'])
        if [s.mid for s in a.sections] != [s.mid for s in offer.sections]:
            p.append(f'answer mids {[s.mid for s in a.sections]}, want the offer\'s {[s.mid for s in offer.sections]}')
        sc.check(p, m['sdp'], acc)
        sc.begin('ti')
        await alice.iq_set(WEB_FULL, transport_info(sid, names[0], aice, aice.trickle), 'transport-info')
        cm = await web.expect(lambda m: m.get('type') == 'candidate' and m.get('session') == S and m.get('candidate'),
                              'candidate message')
        cd = cm['candidate']
        p = []
        if cand_key(cd['candidate']) != aice.key(aice.trickle):
            p.append(f'candidate {cd["candidate"]!r}, want {aice.key(aice.trickle)}')
        if cd.get('sdpMid') != offer.sections[0].mid and cd.get('sdpMLineIndex') != 0:
            p.append(f'sdpMid={cd.get("sdpMid")!r} sdpMLineIndex={cd.get("sdpMLineIndex")!r}, want {offer.sections[0].mid!r}/0')
        if cm.get('from') != xmpp_uri(alice.full):
            p.append(f'from={cm.get("from")!r}, want xmpp:{alice.full}')
        sc.check(p, cm)
        sc.begin('dup')
        sent, err = await alice.iq_set_error(WEB_FULL, accept_for(j, alice.full, aice), 'second session-accept')
        cond, app = stanza_error(err)
        sc.check([] if cond == 'unexpected-request' and f'{{{NS_JERR}}}out-of-order' in app else
                 [f'error {cond} {app}, want unexpected-request + {{{NS_JERR}}}out-of-order'], sent, err)
        sc.begin('undisturbed')
        extra = dict(component=1, foundation='9', ip='127.0.0.1', port=aice.port + 9, priority=2122194000, type='host')
        await alice.iq_set(WEB_FULL, transport_info(sid, names[0], aice, extra), 'transport-info after the error')
        cm = await web.expect(lambda m: m.get('type') == 'candidate' and m.get('session') == S and m.get('candidate'),
                              'candidate message')
        stray = web.peek(lambda m: m.get('session') == S and m.get('type') in ('hangup', 'answer'))
        sc.check([f'the browser got {stray[0]}'] if stray else [], cm)
        sc.begin('hangup')
        await web.send(type='hangup', session=S)
        iq, tj = await watch(alice.expect_jingle('session-terminate', sid), web)
        sc.check(reason_problems(tj, 'success', 'session-terminate'), iq)
        sc.cleanups.clear()
        try:
            fm, fin = await alice.expect_jmi('finish', sid, timeout=1.5)
            sc.soft('finish', [], note=f'reason {reason_of(fin)[0]}')
        except Fail as e:
            sc.soft('finish', [e.why], *e.details)


async def sc_b2x_xmpp_hangup(c):
    alice, web = c.alice, c.web
    checks = {
        'est': 'b2x-2: browser -> XMPP call established (propose, proceed, session-initiate, session-accept, answer)',
        'hangup': 'b2x-2: session-terminate <success/> from alice -> browser hangup reason normal',
    }
    async with Scenario(c.r, 'browser -> XMPP (JMI), XMPP side hangs up', checks) as sc:
        alice.forget()
        web.forget()
        sc.begin('est')
        st = await b2x_establish(web, alice, 42100)
        sc.cleanup(lambda: hangup_quietly(web, st['session']))
        sc.ok()
        sc.begin('hangup')
        await alice.iq_set(st['frm'], jingle('session-terminate', st['sid'], children=[reason_el('success')]),
                           'session-terminate')
        m = await web.expect_type('hangup', st['session'])
        sc.check([] if m.get('reason') == 'normal' else [f'reason {m.get("reason")!r}, want normal'], m)
        sc.cleanups.clear()


async def sc_reject(c, reason, want, label):
    alice, web = c.alice, c.web
    checks = {'r': f'b2x-reject: JMI reject {label} -> browser hangup reason {want}'}
    async with Scenario(c.r, f'browser -> XMPP, reject {label}', checks) as sc:
        alice.forget()
        web.forget()
        offer_text, _ = chromium_offer(('audio',))
        S = new_sid('rej')
        sc.cleanup(lambda: hangup_quietly(web, S))
        sc.begin('r')
        await web.send(type='offer', to=xmpp_uri(alice.bare_jid), session=S, sdp=offer_text)
        msg, pr = await watch(alice.expect_jmi('propose'), web)
        sent = alice.send_jmi(msg.get('from'), jmi('reject', pr.get('id'), [reason_el(reason)] if reason else []))
        m = await watch(web.expect_type('hangup', S), alice)
        sc.check([] if m.get('reason') == want else [f'reason {m.get("reason")!r}, want {want}'], sent, m)
        sc.cleanups.clear()


async def sc_retract(c):
    alice, web = c.alice, c.web
    checks = {'retract': 'b2x-cancel: browser hangup before proceed -> JMI retract <reason><cancel/></reason> to the bare JID'}
    async with Scenario(c.r, 'browser -> XMPP, browser cancels before proceed', checks) as sc:
        alice.forget()
        web.forget()
        offer_text, _ = chromium_offer(('audio',))
        S = new_sid('can')
        sc.begin('retract')
        await web.send(type='offer', to=xmpp_uri(alice.bare_jid), session=S, sdp=offer_text)
        msg, pr = await watch(alice.expect_jmi('propose'), web)
        sid = pr.get('id')
        await web.send(type='hangup', session=S)
        rm, r = await watch(alice.expect_jmi('retract', sid), web)
        p = reason_problems(r, 'cancel', 'retract')
        if rm.get('to') != alice.bare_jid:
            p.append(f'retract to={rm.get("to")!r}, want the bare JID the propose went to')
        sc.check(p, rm)
    checks = {'terminate': 'b2x-cancel: browser hangup after session-initiate, before session-accept -> session-terminate <cancel/>'}
    async with Scenario(c.r, 'browser -> XMPP, browser cancels after proceed', checks) as sc:
        alice.forget()
        web.forget()
        sc.begin('terminate')
        st = await b2x_establish(web, alice, 42200, accept=False)
        sc.cleanup(lambda: hangup_quietly(web, st['session']))
        await web.send(type='hangup', session=st['session'])
        iq, j = await watch(alice.expect_jingle('session-terminate', st['sid']), web)
        sc.check(reason_problems(j, 'cancel', 'session-terminate'), iq)


async def sc_x2b_declined(c):
    alice, web = c.alice, c.web
    checks = {'busy': 'x2b-decline: browser hangup reason busy before answering -> session-terminate <busy/>'}
    async with Scenario(c.r, 'XMPP -> browser, browser declines busy', checks) as sc:
        alice.forget()
        web.forget()
        sc.begin('busy')
        st = await x2b_establish(alice, web, 41200, answer=False)
        sc.cleanup(lambda: terminate_quietly(alice, st['to'], st['sid']))
        await web.send(type='hangup', session=st['session'], reason='busy')
        iq, j = await watch(alice.expect_jingle('session-terminate', st['sid']), web)
        sc.check(reason_problems(j, 'busy', 'session-terminate'), iq)
    checks = {'cancel': 'x2b-cancel: caller session-terminate <cancel/> before the answer -> browser hangup reason cancel'}
    async with Scenario(c.r, 'XMPP -> browser, caller cancels', checks) as sc:
        alice.forget()
        web.forget()
        sc.begin('cancel')
        st = await x2b_establish(alice, web, 41300, answer=False)
        sc.cleanup(lambda: hangup_quietly(web, st['session']))
        await alice.iq_set(st['to'], jingle('session-terminate', st['sid'], children=[reason_el('cancel')]),
                           'session-terminate')
        m = await web.expect_type('hangup', st['session'])
        sc.check([] if m.get('reason') == 'cancel' else [f'reason {m.get("reason")!r}, want cancel'], m)
    checks = {'gone': f'x2b-gone: JMI propose to nobody@{GW} (no browser holds it) -> reject <gone/>'}
    async with Scenario(c.r, 'XMPP -> nobody', checks) as sc:
        alice.forget()
        sc.begin('gone')
        sid = new_sid('gone')
        sent = alice.send_jmi(f'nobody@{GW}', jmi('propose', sid, [E(NS_RTP, 'description', {'media': 'audio'})]))
        rm, r = await alice.expect_jmi('reject', sid)
        sc.check(reason_problems(r, 'gone', 'reject'), sent, rm)


async def sc_direct(c):
    carol, bob, web = c.carol, c.bob, c.web
    checks_all = {
        'x-offer': f'direct x2b: session-initiate straight to {WEB_FULL} (no JMI) -> browser offer from xmpp:{carol.full}',
        'x-accept': 'direct x2b: browser answer -> session-accept',
        'x-hangup': 'direct x2b: session-terminate from carol -> browser hangup normal',
        'b-init': f'direct b2x: offer (audio+video) to xmpp:{bob.full} -> session-initiate to that full JID, no propose',
        'b-init-c': 'direct b2x: session-initiate has RTP audio and video contents with the offer\'s ICE/DTLS (actpass)',
        'b-ringing': 'direct b2x: session-info <ringing/> -> browser ringing',
        'b-answer': 'direct b2x: session-accept -> browser answer with the audio and video sections, setup:active',
        'b-hangup': 'direct b2x: session-terminate from bob -> browser hangup normal',
    }
    checks = {k: v for k, v in checks_all.items() if k.startswith('x-')}
    async with Scenario(c.r, 'direct session-initiate to the browser (no JMI)', checks) as sc:
        carol.forget()
        bob.forget()
        web.forget()
        sc.begin('x-offer')
        sid = new_sid('dx')
        ice = Ice(43000)
        sc.cleanup(lambda: terminate_quietly(carol, WEB_FULL, sid))
        await carol.iq_set(WEB_FULL, session_initiate_audio(sid, carol.full, ice), 'session-initiate')
        offer = await watch(web.expect_type('offer'), carol)
        sc.check([] if offer.get('from') == xmpp_uri(carol.full) else [f'from={offer.get("from")!r}'], offer)
        sc.cleanup(lambda: hangup_quietly(web, offer['session']))
        sc.begin('x-accept')
        ans_text, ans, _ = browser_answer(offer['sdp'])
        await web.send(type='answer', session=offer['session'], sdp=ans_text)
        iq, j = await watch(carol.expect_jingle('session-accept', sid), web)
        sc.check(jingle_problems_vs_sdp(j, ans, ['active', 'passive'], 'session-accept'), iq)
        sc.begin('x-hangup')
        await carol.iq_set(WEB_FULL, jingle('session-terminate', sid, children=[reason_el('success')]), 'session-terminate')
        m = await web.expect_type('hangup', offer['session'])
        sc.check([] if m.get('reason') == 'normal' else [f'reason {m.get("reason")!r}'], m)
        sc.cleanups.clear()
    checks = {k: v for k, v in checks_all.items() if k.startswith('b-')}
    async with Scenario(c.r, 'direct session-initiate from the browser (no JMI)', checks) as sc:
        bob.forget()
        web.forget()
        sc.begin('b-init')
        offer_text, offer = chromium_offer(('audio', 'video'))
        S = new_sid('db')
        sc.cleanup(lambda: hangup_quietly(web, S))
        await web.send(type='offer', to=xmpp_uri(bob.full), session=S, sdp=offer_text)
        iq, j = await watch(bob.expect_jingle('session-initiate', None), web)
        sid = j.get('sid')
        sc.cleanup(lambda: terminate_quietly(bob, WEB_FULL, sid))
        p = []
        if iq.get('to') != bob.full:
            p.append(f'to={iq.get("to")!r}, want {bob.full}')
        if iq.get('from') != WEB_FULL:
            p.append(f'from={iq.get("from")!r}, want {WEB_FULL}')
        props = bob.peek(lambda el: el.find(q('urn:xmpp:jingle-message:0', 'propose')) is not None)
        if props:
            p.append('a JMI propose was sent too')
        sc.check(p, iq, *props)
        sc.begin('b-init-c')
        sc.check(jingle_problems_vs_sdp(j, offer, ['actpass'], 'session-initiate'), iq)
        sc.begin('b-ringing')
        await bob.iq_set(WEB_FULL, jingle('session-info', sid, children=[E(NS_INFO, 'ringing')]), 'session-info')
        m = await web.expect_type('ringing', S)
        sc.check([] if m.get('from') == xmpp_uri(bob.full) else [f'from={m.get("from")!r}'], m)
        sc.begin('b-answer')
        bice = Ice(44000)
        acc = accept_for(j, bob.full, bice)
        await bob.iq_set(WEB_FULL, acc, 'session-accept')
        m = await watch(web.expect_type('answer', S), bob)
        a = Sdp(m['sdp'])
        p = []
        if [(s.media, s.mid) for s in a.sections] != [(s.media, s.mid) for s in offer.sections]:
            p.append(f'answer sections {[(s.media, s.mid) for s in a.sections]}, want {[(s.media, s.mid) for s in offer.sections]}')
        for s in a.sections:
            if s.setup != 'active' or s.ufrag != bice.ufrag or ('sha-256', bice.fp) not in s.fingerprints:
                p.append(f'm={s.media}: setup {s.setup} ufrag {s.ufrag}, fingerprints {s.fingerprints}; want active, {bice.ufrag}, {bice.fp[:12]}...')
            if s.port == '0':
                p.append(f'm={s.media} rejected (port 0) although bob accepted it')
        sc.check(p, m['sdp'], acc)
        sc.begin('b-hangup')
        await bob.iq_set(WEB_FULL, jingle('session-terminate', sid, children=[reason_el('success')]), 'session-terminate')
        m = await web.expect_type('hangup', S)
        sc.check([] if m.get('reason') == 'normal' else [f'reason {m.get("reason")!r}'], m)
        sc.cleanups.clear()


async def sc_bad_input(c):
    dave, web = c.dave, c.web
    checks = {
        'noaction': 'bad input: <jingle/> without action -> bad-request',
        'unknown': 'bad input: session-terminate for an unknown sid -> item-not-found + <unknown-session/>',
        'accept-early': 'bad input: session-accept for a session we initiated (initiator cannot accept) -> unexpected-request + <out-of-order/>',
    }
    async with Scenario(c.r, 'bad input', checks) as sc:
        dave.forget()
        web.forget()
        for key, el, want_cond, want_app in (
            ('noaction', E(NS_JINGLE, 'jingle', {'sid': new_sid('bad'), 'initiator': dave.full},
                           [content('audio', audio_description(), ice_transport(Ice(45000), 'actpass'))]),
             'bad-request', None),
            ('unknown', jingle('session-terminate', new_sid('nosuch'), children=[reason_el('success')]),
             'item-not-found', f'{{{NS_JERR}}}unknown-session'),
        ):
            try:
                sent, err = await dave.iq_set_error(WEB_FULL, el, checks[key])
                cond, app = stanza_error(err)
                ok = cond == want_cond and (want_app is None or want_app in app)
                sc.soft(key, [] if ok else [f'error {cond} {app}, want {want_cond} {want_app or ""}'],
                        *([] if ok else [sent, err]))
            except Fail as e:
                sc.soft(key, [e.why], *e.details)
        # an XMPP caller sending session-accept for its own call: out of order
        sc.begin('accept-early')
        st = await x2b_establish(dave, web, 45100, answer=False)
        sc.cleanup(lambda: terminate_quietly(dave, st['to'], st['sid']))
        sc.cleanup(lambda: hangup_quietly(web, st['session']))
        bogus = jingle('session-accept', st['sid'], responder=dave.full, children=[
            content('audio', audio_description(), ice_transport(Ice(45200), 'active'))])
        sent, err = await dave.iq_set_error(st['to'], bogus, 'session-accept from the initiator')
        cond, app = stanza_error(err)
        p = [] if cond == 'unexpected-request' and f'{{{NS_JERR}}}out-of-order' in app else \
            [f'error {cond} {app}, want unexpected-request + out-of-order']
        stray = web.peek(lambda m: m.get('session') == st['session'] and m.get('type') in ('answer', 'hangup'))
        if stray:
            p.append(f'the browser got {stray[0].get("type")}')
        sc.check(p, sent, err)


async def sc_final(c, tag='final'):
    alice, bob, web = c.alice, c.bob, c.web
    checks = {
        'x2b': f'{tag}: a new XMPP -> browser call works (JMI, answer, browser hangup -> session-terminate)',
        'b2x': f'{tag}: a new browser -> XMPP call works (JMI, session-accept, answer, XMPP hangup -> browser hangup)',
    }
    async with Scenario(c.r, f'{tag} XMPP -> browser call', {'x2b': checks['x2b']}) as sc:
        alice.forget()
        bob.forget()
        web.forget()
        sc.begin('x2b')
        st = await x2b_establish(alice, web, 46000)
        sc.cleanup(lambda: terminate_quietly(alice, st['to'], st['sid']))
        await web.send(type='hangup', session=st['session'])
        iq, j = await alice.expect_jingle('session-terminate', st['sid'])
        sc.check(reason_problems(j, 'success', 'session-terminate'), iq)
    async with Scenario(c.r, f'{tag} browser -> XMPP call', {'b2x': checks['b2x']}) as sc:
        sc.begin('b2x')
        st2 = await b2x_establish(web, bob, 46100)
        sc.cleanup(lambda: hangup_quietly(web, st2['session']))
        await bob.iq_set(st2['frm'], jingle('session-terminate', st2['sid'], children=[reason_el('success')]),
                         'session-terminate')
        m = await web.expect_type('hangup', st2['session'])
        sc.check([] if m.get('reason') == 'normal' else [f'reason {m.get("reason")!r}'], m)


# ---------------------------------------------------------------------------------------------

async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ws', required=True)
    ap.add_argument('--trace')
    ap.add_argument('--only', help='comma-separated scenario names (debugging)')
    args = ap.parse_args()
    setup_trace(args.trace)
    c = Ctx()
    c.r = Report('slixmpp_calls')
    c.ws_url = args.ws
    setup = {
        'logins': 'setup: alice, bob, carol, dave log in to Prosody (slixmpp, SCRAM without TLS)',
        'web': f'setup: browser client connects to {args.ws} and registers `{WEB}`',
        'component': f'setup: the gateway is connected as {GW} (disco#info answered)',
    }
    async with Scenario(c.r, 'setup', setup) as sc:
        sc.begin('logins')
        c.alice, c.bob, c.carol, c.dave = peers = [Peer('alice', 'Conversations.x7Kq'), Peer('bob', 'dino.4f2a'),
                                                   Peer('carol', 'phone'), Peer('dave', 'gajim.PC')]
        try:
            await asyncio.gather(*(p.login() for p in peers))
        except Exception as e:  # noqa: BLE001
            raise Fail(f'{type(e).__name__}: {e}')
        sc.ok()
        sc.begin('web')
        c.web = Browser(args.ws, 'web')
        await c.web.open()
        await c.web.register(WEB)
        sc.ok()
        sc.begin('component')
        took = await wait_for_component(c.alice, 10)
        sc.ok(note=f'after {took:.1f} s')
    if not hasattr(c, 'web') or c.web.ws is None or not hasattr(c, 'alice') or not c.alice._ready.done():
        c.r.summary()
        return 1
    scenarios = [('disco', sc_disco), ('presence', sc_presence), ('x2b', sc_x2b_browser_hangup),
                 ('x2b2', sc_x2b_xmpp_hangup), ('b2x', sc_b2x), ('b2x2', sc_b2x_xmpp_hangup),
                 ('busy', lambda c: sc_reject(c, 'busy', 'busy', 'with <busy/>')),
                 ('decline', lambda c: sc_reject(c, 'decline', 'decline', 'with <decline/>')),
                 ('noreason', lambda c: sc_reject(c, None, 'decline', 'without a reason')),
                 ('retract', sc_retract), ('declined', sc_x2b_declined), ('direct', sc_direct),
                 ('bad', sc_bad_input), ('final', sc_final)]
    only = set(args.only.split(',')) if args.only else None
    for name, fn in scenarios:
        if only and name not in only:
            continue
        await fn(c)
    print(f'(slixmpp_calls took {elapsed():.1f} s)')
    await c.web.close()
    await asyncio.gather(*(p.quit() for p in peers), return_exceptions=True)
    return 0 if c.r.summary() else 1


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
