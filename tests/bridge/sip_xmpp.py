"""SIP <-> XMPP calls through Switchboard's bridge (issue #6), real peers only: sipp on the SIP
side, slixmpp accounts (alice, bob, carol, dave @localhost) on Prosody on the XMPP side, and
`switchboard serve --sip 127.0.0.1:5078 --ring-timeout 4 --xmpp-* ...` in between.

    python sip_xmpp.py --work DIR [--trace FILE] [--only load,x2s,...]
    python sip_xmpp.py --child USER --resource RES [--trace FILE]

The first form runs every check (run_sip_xmpp.sh starts Prosody and the gateway first, in a
private network namespace); sipp's logs go to DIR. The second is the callee of the kill check: it
answers every call and prints `ready`, then `accepted SID` per call, until it is SIGKILLed.

Addresses (protocols/bridge/MAPPING.md, protocols/jingle/GATEWAY.md, the brief of issue #6):
  SIP -> XMPP   INVITE sip:bob%40localhost@127.0.0.1:5078 rings bob@localhost (JMI propose);
                sip:bob%40localhost%2Fres@... sends session-initiate to bob@localhost/res directly;
                the caller sip:sipp@127.0.0.1:PORT is sipp\\40127.0.0.1\\3aPORT@gateway.localhost.
  XMPP -> SIP   session-initiate / JMI propose to sipp\\40127.0.0.1\\3aPORT@gateway.localhost calls
                sip:sipp@127.0.0.1:PORT (UDP); sipp%40127.0.0.1@gateway.localhost calls port 5060.

One line per check (`PASS name` / `FAIL name (why)`, details indented `    | `), then
`sip_xmpp: N passed, M failed`; exit status 1 if any failed.
"""
import argparse
import asyncio
import collections
import json
import os
import re
import signal
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SIPP_DIR = os.path.join(os.path.dirname(HERE), 'sipp')
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'xmpp'))

from xmpp_common import (  # noqa: E402
    GW, NS_INFO, NS_JMI, NS_RTP, E, Fail, Ice, Peer, Report, Scenario, accept_for,
    contents_of, jingle, jingle_of, jmi, local, new_sid, ns_of, q, reason_el, reason_of,
    session_initiate_audio, setup_trace, trace, wait_for_component)

SIP_GW = '127.0.0.1:5078'
HTTP = '127.0.0.1:8098'
RING_TIMEOUT = 4.0  # --ring-timeout of run_sip_xmpp.sh
KILL_LIMIT = 25.0   # the gateway pings every 10 s: a dead callee's call must end within this
AUDIO = [E(NS_RTP, 'description', {'media': 'audio'})]

# Jingle reason an XMPP callee rejects with -> the SIP code the caller must see (MAPPING.md)
XMPP_REJECTS = [('busy', 486), ('decline', 603), ('gone', 480), ('incompatible-parameters', 488), ('timeout', 480)]
# SIP final response of the callee -> the Jingle reason the XMPP caller must see (MAPPING.md)
SIP_REJECTS = [(486, 'Busy Here', 'busy'), (603, 'Decline', 'decline'), (404, 'Not Found', 'gone'),
               (480, 'Temporarily Unavailable', 'gone'), (488, 'Not Acceptable Here', 'incompatible-parameters')]


def sip_jid(port, host='127.0.0.1', user='sipp'):
    """The component JID of sip:USER@HOST:PORT, XEP-0106 escaped."""
    return f'{user}\\40{host}\\3a{port}@{GW}'


# ---------------------------------------------------------------------------------------------
# sipp

def udp_bound(port):
    want = f':{port:04X}'
    for path in ('/proc/net/udp', '/proc/net/udp6'):
        try:
            with open(path) as f:
                next(f)
                for ln in f:
                    if ln.split()[1].endswith(want):
                        return True
        except OSError:
            pass
    return False


class Sipp:
    """One sipp run; its logs are WORK/LABEL.{out,err,screen,msg,log}."""
    next_port = 5200
    next_media = 20000
    running = []

    def __init__(self, work, label, scenario, service=None, port=None, calls=1, extra=()):
        self.label = label
        self.base = os.path.join(work, label)
        if port is None:
            Sipp.next_port += 1
            port = Sipp.next_port
        Sipp.next_media += 10
        self.port = port
        b = self.base
        self.args = ['sipp'] + ([SIP_GW, '-s', service] if service is not None else []) + [
            '-sf', scenario, '-i', '127.0.0.1', '-p', str(port), '-t', 'u1', '-m', str(calls),
            '-mi', '127.0.0.1', '-mp', str(Sipp.next_media), '-nostdin', '-timeout', '45s',
            '-trace_err', '-error_file', b + '.err', '-trace_screen', '-screen_file', b + '.screen',
            '-trace_msg', '-message_file', b + '.msg', '-trace_logs', '-log_file', b + '.log'] + list(extra)
        self.proc = None
        self.rc = None
        self.t0 = self.t_end = None

    async def start(self):
        trace('sipp start', self.label, ' '.join(self.args))
        out = open(self.base + '.out', 'w')
        self.proc = await asyncio.create_subprocess_exec(*self.args, stdin=asyncio.subprocess.DEVNULL,
                                                         stdout=out, stderr=asyncio.subprocess.STDOUT)
        out.close()
        self.t0 = time.monotonic()
        Sipp.running.append(self)
        for _ in range(50):  # until it listens (a UAS must, before the gateway sends it an INVITE)
            if udp_bound(self.port) or self.proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        return self

    async def wait(self, timeout):
        """sipp's exit status, or 'timeout' (then it is killed)."""
        try:
            self.rc = await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            await self.stop()
            self.rc = 'timeout'
        self.t_end = time.monotonic()
        trace('sipp end', self.label, 'rc', self.rc, f'{self.t_end - self.t0:.1f} s')
        if self in Sipp.running:
            Sipp.running.remove(self)
        return self.rc

    async def stop(self):
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self in Sipp.running:
            Sipp.running.remove(self)

    def counts(self):
        """(successful, failed) calls from sipp's final screen."""
        try:
            s = open(self.base + '.screen', errors='replace').read()
        except OSError:
            return None, None

        def last(label):
            m = re.findall(label + r'\s*\|\s*\d+\s*\|\s*(\d+)', s)
            return int(m[-1]) if m else None
        return last('Successful call'), last('Failed call')

    def received_finals(self):
        """Final response codes sipp received (in order), from its message trace."""
        try:
            text = open(self.base + '.msg', errors='replace').read()
        except OSError:
            return []
        codes = re.findall(r'message received \[\d+\] bytes :\s*SIP/2\.0 (\d{3})', text)
        return [int(x) for x in codes if int(x) >= 200]

    def details(self, msg_lines=40):
        out = [f'--- sipp {self.label}: {" ".join(self.args[:12])} ... rc={self.rc}']
        for ext, n in (('.out', 6), ('.err', 12)):
            try:
                lines = [ln.rstrip() for ln in open(self.base + ext, errors='replace') if ln.strip()]
            except OSError:
                continue
            if lines:
                out.append(f'--- {self.label}{ext} (last lines)')
                out += [ln[:300] for ln in lines[-n:]]
        try:
            s = open(self.base + '.screen', errors='replace').read()
            m = re.search(r'(Messages\s+Retrans.*?)(?:\n-{5,}.*Statistics|\Z)', s, re.S)
            if m:
                out.append(f'--- {self.label}.screen')
                out += m.group(1).rstrip().split('\n')[:30]
        except OSError:
            pass
        try:
            lines = open(self.base + '.msg', errors='replace').read().replace('\r', '').split('\n')
            out.append(f'--- {self.label}.msg (last {msg_lines} lines)')
            out += [ln for ln in lines if ln.strip()][-msg_lines:]
        except OSError:
            pass
        return ['\n'.join(out)]


def scenario_for(work, kind, code, phrase=''):
    """tests/bridge/{uac_expect,uas_reject}.xml.in with CODE filled in, written to WORK."""
    path = os.path.join(work, f'{kind}_{code}.xml')
    if not os.path.exists(path):
        text = open(os.path.join(HERE, f'{kind}.xml.in')).read()
        open(path, 'w').write(text.replace('@CODE@', str(code)).replace('@PHRASE@', phrase))
    return path


# ---------------------------------------------------------------------------------------------
# /api/calls

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_calls():
    with _opener.open(f'http://{HTTP}/api/calls', timeout=3) as r:
        return r.status, r.read().decode(errors='replace')


async def api_calls():
    """(parsed JSON or None, raw text)."""
    try:
        status, body = await asyncio.to_thread(_get_calls)
    except Exception as e:  # noqa: BLE001
        return None, f'GET /api/calls failed: {type(e).__name__}: {e}'
    try:
        return json.loads(body), f'HTTP {status} {body}'
    except ValueError:
        return None, f'HTTP {status} {body}'


def calls_shape_problems(doc):
    if not isinstance(doc, dict) or set(doc) != {'calls'} or not isinstance(doc['calls'], list):
        return ['not {"calls": [...]}']
    return []


async def api_empty(c, after, wait=4.0):
    """A check: /api/calls is {"calls":[]} (within WAIT s: legs end a moment after the last stanza)."""
    deadline = time.monotonic() + wait
    while True:
        doc, raw = await api_calls()
        p = calls_shape_problems(doc) if doc is not None else [raw]
        if not p and doc['calls']:
            p = [f'{len(doc["calls"])} call(s) still listed']
        if not p or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    c.r.result(not p, f'/api/calls is {{"calls":[]}} after {after}', '; '.join(p), [raw] if p else ())


# ---------------------------------------------------------------------------------------------
# XMPP accounts that react to calls by themselves

class Callee(Peer):
    """A Peer that reacts to calls according to `mode`:
         None             nothing (a caller)
         'answer'         JMI propose -> proceed; session-initiate -> session-accept (ICE-UDP/DTLS, one candidate)
         'ring'           JMI propose -> JMI ringing; session-initiate -> session-info <ringing/>
         ('reject', R)    JMI propose -> JMI reject <R/>; session-initiate -> session-terminate <R/>
       and counts what it gets in `stats`."""

    def __init__(self, user, resource, port_base):
        super().__init__(user, resource)
        self.mode = None
        self.stats = collections.Counter()
        self.proposes = []   # (time, from, sid, message)
        self.initiates = []  # (time, from, to, sid, jingle)
        self.ends = []       # (time, 'retract'|'terminate', from, sid, reason, element)
        self.errors = []
        self.on_accepted = None
        self.port_base = port_base
        self.port = port_base
        self.tasks = set()

    def reset(self, mode):
        self.mode = mode
        self.stats.clear()
        self.proposes.clear()
        self.initiates.clear()
        self.ends.clear()
        self.errors.clear()
        self.forget()

    def _next_port(self):
        self.port += 4
        if self.port > self.port_base + 3000:
            self.port = self.port_base
        return self.port

    def _spawn(self, coro):
        t = asyncio.ensure_future(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    def _store(self, st):
        super()._store(st)
        try:
            self._react(self.inbox[-1][0])
        except Exception as e:  # noqa: BLE001
            trace(f'{self.user} react error {type(e).__name__}: {e}')
            self.errors.append(f'{type(e).__name__}: {e}')

    def _react(self, el):
        now = time.monotonic()
        frm = el.get('from') or ''
        if local(el.tag) == 'message':
            for x in el:
                if ns_of(x.tag) != NS_JMI:
                    continue
                tag, sid = local(x.tag), x.get('id')
                self.stats['jmi:' + tag] += 1
                if tag == 'propose':
                    self.proposes.append((now, frm, sid, el))
                    m = self.mode
                    if m == 'answer':
                        self.send_jmi(frm, jmi('proceed', sid), store=False)
                    elif m == 'ring':
                        self.send_jmi(frm, jmi('ringing', sid), store=False)
                    elif isinstance(m, tuple) and m[0] == 'reject':
                        self.send_jmi(frm, jmi('reject', sid, [reason_el(m[1])]), store=False)
                elif tag == 'retract':
                    self.ends.append((now, 'retract', frm, sid, reason_of(x)[0], el))
            return
        if local(el.tag) != 'iq':
            return
        j = jingle_of(el)
        if j is None:
            return
        action, sid = j.get('action'), j.get('sid')
        self.stats['jingle:' + str(action)] += 1
        if action == 'session-initiate':
            self.initiates.append((now, frm, el.get('to'), sid, j))
            self._spawn(self._respond(frm, sid, j))
        elif action == 'session-terminate':
            r = reason_of(j)[0]
            self.stats[f'terminate:{r}'] += 1
            self.ends.append((now, 'terminate', frm, sid, r, el))

    async def _respond(self, frm, sid, j):
        await asyncio.sleep(0)  # after the ack of the session-initiate
        m = self.mode
        try:
            if m == 'answer':
                await self.iq_set(frm, accept_for(j, self.full, Ice(self._next_port())), 'session-accept', timeout=5)
                self.stats['accepted'] += 1
                if self.on_accepted:
                    self.on_accepted(sid)
            elif m == 'ring':
                await self.iq_set(frm, jingle('session-info', sid, children=[E(NS_INFO, 'ringing')]), 'session-info',
                                  timeout=5)
            elif isinstance(m, tuple) and m[0] == 'reject':
                await self.iq_set(frm, jingle('session-terminate', sid, children=[reason_el(m[1])]),
                                  'session-terminate', timeout=5)
        except Fail as e:
            self.stats['iq-error'] += 1
            self.errors.append(e)

    async def poll_until(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while not pred() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return pred()

    async def expect_end(self, timeout=5.0):
        """The next JMI retract or Jingle session-terminate: (kind, reason, element)."""
        def pred(el):
            if local(el.tag) == 'message':
                return el.find(q(NS_JMI, 'retract')) is not None
            j = jingle_of(el) if local(el.tag) == 'iq' else None
            return j is not None and j.get('action') == 'session-terminate'
        el = await self.expect(pred, 'JMI retract or session-terminate', timeout)
        if local(el.tag) == 'message':
            return 'retract', reason_of(el.find(q(NS_JMI, 'retract')))[0], el
        return 'session-terminate', reason_of(jingle_of(el))[0], el


def is_jmi(el, tag, sid=None):
    x = el.find(q(NS_JMI, tag)) if local(el.tag) == 'message' else None
    return x is not None and (sid is None or x.get('id') == sid)


async def terminate_quietly(peer, to, sid, reason='success'):
    try:
        await peer.iq_set(to, jingle('session-terminate', sid, children=[reason_el(reason)]), 'cleanup', timeout=1)
    except Fail:
        pass


def sipp_problems(s, want_rc=0, want_final=None):
    if s.rc == want_rc:
        return []
    p = [f'sipp {s.label} exit status {s.rc} (0 = every call as scripted)']
    if want_final is not None:
        got = s.received_finals()
        p.append(f'sipp got final response(s) {got}, want {want_final}' if got else 'sipp got no final response')
    return p


def accept_problems(j):
    """What is wrong in a session-accept made from sipp's answer (RTP/AVP PCMU + telephone-event)."""
    cs = contents_of(j)
    p = []
    audio = [x for x in cs if x['media'] == 'audio']
    if not audio:
        return [f'no RTP audio content (contents {[(x["name"], x["media"]) for x in cs]})']
    a = audio[0]
    if a['name'] != 'audio':
        p.append(f'content name {a["name"]!r}, want "audio" (the session-initiate\'s)')
    names = {(v['name'] or '').upper() for v in a['payloads'].values()}
    if 'PCMU' not in names:
        p.append(f'no PCMU payload-type (sipp answered PCMU): {sorted(names)}')
    return p


# ---------------------------------------------------------------------------------------------
# scenarios

async def sc_load(c):
    bob = c.bob
    n = 100
    checks = {
        'calls': f'sip->xmpp: sipp UAC -> sip:bob%40localhost@{SIP_GW}, {n} calls at 10 cps (BYE from sipp): {n} successful, 0 failed',
        'from': 'sip->xmpp: JMI propose to bob@localhost and session-initiate come from sipp\\40127.0.0.1\\3aPORT@gateway.localhost (XEP-0106)',
        'xmpp': f'sip->xmpp: bob got {n} proposes, {n} session-initiates, {n} session-accepts acked, {n} session-terminate <success/>',
    }
    async with Scenario(c.r, 'sip->xmpp load', checks) as sc:
        bob.reset('answer')
        s = Sipp(c.work, 'load', os.path.join(SIPP_DIR, 'uac_call_bye.xml'), service='bob%40localhost', calls=n,
                 extra=['-r', '10', '-d', '500', '-recv_timeout', '10s'])
        sc.cleanup(s.stop)
        sc.begin('calls')
        await s.start()
        await s.wait(60)
        ok_calls, failed = s.counts()
        p = sipp_problems(s)
        if ok_calls != n or failed != 0:
            p.append(f'sipp counted {ok_calls} successful, {failed} failed')
        sc.check(p, *s.details(), note=f'sipp: {ok_calls} successful, {failed} failed calls, {s.t_end - s.t0:.1f} s')
        await bob.poll_until(lambda: bob.stats['terminate:success'] >= n, 3)
        sc.begin('from')
        want = sip_jid(s.port)
        p = []
        if not bob.proposes:
            p.append('bob got no propose')
        else:
            bad = [f for _, f, _, _ in bob.proposes if f.split('/')[0] != want]
            if bad:
                p.append(f'{len(bad)} propose(s) from {bad[0]!r}, want {want}/...')
        bad = [f for _, f, _, _, _ in bob.initiates if f.split('/')[0] != want]
        if bad:
            p.append(f'{len(bad)} session-initiate(s) from {bad[0]!r}, want {want}/...')
        sc.check(p, *([bob.proposes[0][3]] if bob.proposes else []),
                 note=f'{bob.proposes[0][1]}' if bob.proposes else '')
        sc.begin('xmpp')
        st = bob.stats
        got = (st['jmi:propose'], st['jingle:session-initiate'], st['accepted'], st['terminate:success'])
        p = [] if got == (n, n, n, n) else [f'proposes/initiates/accepts/terminate-success = {got}']
        others = {k: v for k, v in st.items() if k.startswith('terminate:') and k != 'terminate:success'}
        if others:
            p.append(f'other session-terminates: {others}')
        if bob.errors:
            p.append(f'{len(bob.errors)} error(s), first: {getattr(bob.errors[0], "why", bob.errors[0])}')
        sc.check(p, *(getattr(bob.errors[0], 'details', ()) if bob.errors else ()), note=f'{dict(st)}')
    await api_empty(c, 'the 100-call run')


async def x2s_initiate(carol, to, port):
    """carol sends a Conversations-style audio session-initiate to TO; returns sid."""
    sid = new_sid('x2s')
    await carol.iq_set(to, session_initiate_audio(sid, carol.full, Ice(port)), 'session-initiate')
    return sid


async def sc_x2s_answer(c):
    carol = c.carol
    port = 5090
    bare = sip_jid(port)
    checks = {
        'proceed': f'xmpp->sip: carol JMI propose to {bare} -> proceed from {bare}/...',
        'accept': f'xmpp->sip: session-initiate after proceed -> INVITE to sip:sipp@127.0.0.1:{port}, its 200 OK -> session-accept',
        'accept-c': 'xmpp->sip: session-accept has content "audio" with PCMU (sipp\'s answer)',
        'list': '/api/calls lists the call (1 entry, state answered) while it is up',
        'bye': 'xmpp->sip: carol session-terminate <success/> -> sipp UAS gets BYE (uas_answer.xml completes)',
    }
    async with Scenario(c.r, 'xmpp->sip, JMI, carol hangs up', checks) as sc:
        carol.reset(None)
        uas = await Sipp(c.work, 'x2s-answer', os.path.join(SIPP_DIR, 'uas_answer.xml'), port=port,
                         extra=['-d', '200']).start()
        sc.cleanup(uas.stop)
        sid = new_sid('x2s')
        sc.begin('proceed')
        sent = carol.send_jmi(bare, jmi('propose', sid, AUDIO))
        msg = await carol.expect(lambda el: is_jmi(el, 'proceed', sid) or is_jmi(el, 'reject', sid),
                                 f'JMI proceed (id {sid})', 5)
        if is_jmi(msg, 'reject'):
            raise Fail(f'JMI reject <{reason_of(msg.find(q(NS_JMI, "reject")))[0]}/> instead of proceed', sent, msg)
        to = msg.get('from') or bare
        sc.check([] if to.split('/')[0] == bare and '/' in to else [f'proceed from {to!r}, want {bare}/RESOURCE'],
                 sent, msg, note=to)
        sc.begin('accept')
        sc.cleanup(lambda: terminate_quietly(carol, to, sid))
        await carol.iq_set(to, session_initiate_audio(sid, carol.full, Ice(31000)), 'session-initiate')
        try:
            iq, j = await carol.expect_jingle('session-accept', sid, timeout=6)
        except Fail as e:
            raise Fail(e.why, *e.details, *uas.details()) from None
        sc.ok()
        sc.begin('accept-c')
        sc.check(accept_problems(j), iq)
        sc.begin('list')
        doc, raw = await api_calls()
        p = calls_shape_problems(doc) if doc is not None else [raw]
        if not p:
            if len(doc['calls']) != 1:
                p.append(f'{len(doc["calls"])} calls listed, want 1')
            elif doc['calls'][0].get('state') != 'answered':
                p.append(f'state {doc["calls"][0].get("state")!r}, want answered')
        sc.check(p, raw, note=raw[:300])
        sc.begin('bye')
        await carol.iq_set(iq.get('from') or to, jingle('session-terminate', sid, children=[reason_el('success')]),
                           'session-terminate')
        await uas.wait(8)
        sc.check(sipp_problems(uas), *uas.details())
        sc.cleanups = [uas.stop]
    await api_empty(c, 'xmpp->sip JMI call, carol hangs up')


async def sc_x2s_remote_bye(c):
    carol = c.carol
    port = 5091
    bare = sip_jid(port)
    checks = {
        'accept': f'xmpp->sip: carol session-initiate straight to {bare} -> session-accept',
        'bye': 'xmpp->sip: sipp UAS BYE (uas_bye.xml, 1 s into the call) -> carol gets session-terminate <success/>, sipp gets 200',
    }
    async with Scenario(c.r, 'xmpp->sip direct, sipp hangs up', checks) as sc:
        carol.reset(None)
        uas = await Sipp(c.work, 'x2s-bye', os.path.join(SIPP_DIR, 'uas_bye.xml'), port=port,
                         extra=['-d', '1000']).start()
        sc.cleanup(uas.stop)
        sc.begin('accept')
        sid = await x2s_initiate(carol, bare, 31100)
        sc.cleanup(lambda: terminate_quietly(carol, bare, sid))
        try:
            iq, j = await carol.expect_jingle('session-accept', sid, timeout=6)
        except Fail as e:
            raise Fail(e.why, *e.details, *uas.details()) from None
        sc.ok(note=f'from {iq.get("from")}')
        sc.begin('bye')
        try:
            iq, j = await carol.expect_jingle('session-terminate', sid, timeout=6)
        except Fail as e:
            await uas.wait(1)
            raise Fail(e.why, *e.details, *uas.details()) from None
        await uas.wait(6)
        p = [] if reason_of(j)[0] == 'success' else [f'reason <{reason_of(j)[0]}/>, want <success/>']
        p += sipp_problems(uas)
        sc.check(p, iq, *(uas.details() if uas.rc else ()))
        sc.cleanups = [uas.stop]
    await api_empty(c, 'xmpp->sip call ended by sipp')


async def sc_x2s_pct(c):
    carol = c.carol
    bare = f'sipp%40127.0.0.1@{GW}'
    checks = {'pct': f'xmpp->sip: session-initiate to {bare} (%40 form) calls sip:sipp@127.0.0.1 (port 5060): '
                     'session-accept, carol hangs up, sipp gets BYE'}
    async with Scenario(c.r, 'xmpp->sip %40', checks) as sc:
        carol.reset(None)
        uas = await Sipp(c.work, 'x2s-pct40', os.path.join(SIPP_DIR, 'uas_answer.xml'), port=5060,
                         extra=['-d', '200']).start()
        sc.cleanup(uas.stop)
        sc.begin('pct')
        sid = await x2s_initiate(carol, bare, 31200)
        sc.cleanup(lambda: terminate_quietly(carol, bare, sid))
        try:
            iq, j = await carol.expect_jingle('session-accept', sid, timeout=6)
        except Fail as e:
            raise Fail(e.why, *e.details, *uas.details()) from None
        await carol.iq_set(iq.get('from') or bare, jingle('session-terminate', sid, children=[reason_el('success')]),
                           'session-terminate')
        await uas.wait(8)
        sc.check(sipp_problems(uas), *uas.details())
        sc.cleanups = [uas.stop]
    await api_empty(c, 'the %40 call')


async def sc_causes_s2x(c):
    """XMPP callee rejects -> SIP caller sees the mapped code; JMI reject (bare JID) and
    session-terminate (full JID) both."""
    bob = c.bob
    for how in ('jmi', 'jingle'):
        service = 'bob%40localhost' if how == 'jmi' else 'bob%40localhost%2Fres'
        for i, (reason, code) in enumerate(XMPP_REJECTS):
            if how == 'jmi':
                name = f'cause sip->xmpp: bob JMI reject <{reason}/> -> sipp caller gets {code}'
            else:
                name = f'cause sip->xmpp: bob (full JID) session-terminate <{reason}/> before accepting -> sipp caller gets {code}'
            checks = {'row': name}
            if how == 'jingle' and i == 0:
                checks = {'direct': f'sip->xmpp: INVITE to sip:{service}@... -> session-initiate straight to {bob.full}, no JMI propose',
                          'row': name}
            async with Scenario(c.r, name, checks) as sc:
                bob.reset(('reject', reason))
                s = Sipp(c.work, f'cause-{how}-{reason}', scenario_for(c.work, 'uac_expect', code), service=service,
                         extra=['-recv_timeout', '8s'])
                sc.cleanup(s.stop)
                await s.start()
                await s.wait(12)
                if 'direct' in checks:
                    p = []
                    if bob.proposes:
                        p.append(f'{len(bob.proposes)} JMI propose(s) sent')
                    if not bob.initiates:
                        p.append('no session-initiate')
                    elif bob.initiates[0][2] != bob.full:
                        p.append(f'session-initiate to {bob.initiates[0][2]!r}, want {bob.full}')
                    sc.soft('direct', p, *([bob.proposes[0][3]] if bob.proposes else []))
                sc.begin('row')
                p = sipp_problems(s, want_final=code)
                if how == 'jmi' and not bob.proposes:
                    p.append('bob got no JMI propose')
                if how == 'jingle' and not bob.initiates:
                    p.append('bob got no session-initiate')
                sc.check(p, *s.details(msg_lines=25))
    await api_empty(c, 'the XMPP-reject cause rows')


async def sc_causes_x2s(c):
    """SIP callee rejects -> XMPP caller sees the mapped Jingle reason."""
    carol = c.carol
    for i, (code, phrase, want) in enumerate(SIP_REJECTS):
        port = 5101 + i
        bare = sip_jid(port)
        name = f'cause xmpp->sip: sipp UAS answers {code} {phrase} -> carol gets session-terminate <{want}/>'
        async with Scenario(c.r, name, {'row': name}) as sc:
            carol.reset(None)
            uas = await Sipp(c.work, f'cause-uas-{code}', scenario_for(c.work, 'uas_reject', code, phrase),
                             port=port).start()
            sc.cleanup(uas.stop)
            sc.begin('row')
            sid = await x2s_initiate(carol, bare, 31300 + 10 * i)
            sc.cleanup(lambda: terminate_quietly(carol, bare, sid))
            try:
                iq, j = await carol.expect_jingle('session-terminate', sid, timeout=5)
            except Fail as e:
                await uas.wait(1)
                raise Fail(e.why, *e.details, *uas.details(msg_lines=25)) from None
            await uas.wait(5)
            r, wrapped = reason_of(j)
            p = [] if r == want else [f'reason <{r}/>, want <{want}/>']
            if r and not wrapped:
                p.append('the condition is not inside <reason/>')
            p += sipp_problems(uas)
            sc.check(p, iq, *(uas.details(msg_lines=25) if uas.rc else ()))
            sc.cleanups = [uas.stop]
    await api_empty(c, 'the SIP-reject cause rows')


async def sc_cancel(c):
    bob, carol = c.bob, c.carol
    # SIP caller cancels while bob rings: bare JID (JMI ringing) and full JID (session-info ringing)
    for how, service in (('bare', 'bob%40localhost'), ('full', 'bob%40localhost%2Fres')):
        want = 'JMI retract or session-terminate' if how == 'bare' else 'session-terminate'
        checks = {
            'sipp': f'cancel sip->xmpp ({how} JID): bob rings, sipp gets 180, CANCELs: 200 + 487 (uac_cancel.xml)',
            'xmpp': f'cancel sip->xmpp ({how} JID): bob gets {want} <cancel/>',
        }
        async with Scenario(c.r, f'sipp cancels ({how})', checks) as sc:
            bob.reset('ring')
            s = Sipp(c.work, f'cancel-{how}', os.path.join(SIPP_DIR, 'uac_cancel.xml'), service=service,
                     extra=['-recv_timeout', '6s'])
            sc.cleanup(s.stop)
            sc.begin('sipp')
            await s.start()
            await s.wait(12)
            sc.check(sipp_problems(s), *s.details(msg_lines=30))
            sc.begin('xmpp')
            kind, r, el = await bob.expect_end(3)
            p = [] if r == 'cancel' else [f'{kind} with reason <{r}/>, want <cancel/>']
            if how == 'full' and kind != 'session-terminate':
                p.append(f'{kind}, want session-terminate (the session-initiate was acked)')
            sc.check(p, el, note=kind)
    await api_empty(c, 'sipp CANCELs')
    # XMPP caller cancels before the answer: direct session-initiate, and JMI propose first
    for how in ('direct', 'jmi'):
        port = 5111 if how == 'direct' else 5112
        bare = sip_jid(port)
        name = (f'cancel xmpp->sip ({"session-initiate" if how == "direct" else "JMI propose, proceed, session-initiate"}): '
                'carol session-terminate <cancel/> while sipp rings -> sipp UAS gets CANCEL (200, 487, ACK)')
        async with Scenario(c.r, name, {'row': name}) as sc:
            carol.reset(None)
            uas = await Sipp(c.work, f'cancel-uas-{how}', os.path.join(HERE, 'uas_ring_cancel.xml'), port=port).start()
            sc.cleanup(uas.stop)
            sc.begin('row')
            to = bare
            sid = new_sid('x2s')
            if how == 'jmi':
                carol.send_jmi(bare, jmi('propose', sid, AUDIO))
                msg, _ = await carol.expect_jmi('proceed', sid, timeout=5)
                to = msg.get('from') or bare
            sc.cleanup(lambda: terminate_quietly(carol, to, sid))
            await carol.iq_set(to, session_initiate_audio(sid, carol.full, Ice(31500 + port)), 'session-initiate')
            try:  # sipp's 180 (the INVITE reached it), else give the INVITE a moment
                await carol.expect_jingle('session-info', sid, timeout=3)
            except Fail:
                pass
            await asyncio.sleep(0.2)
            await carol.iq_set(to, jingle('session-terminate', sid, children=[reason_el('cancel')]), 'session-terminate')
            await uas.wait(6)
            sc.check(sipp_problems(uas), *uas.details(msg_lines=30))
            sc.cleanups = [uas.stop]
    await api_empty(c, 'XMPP caller cancels')


async def sc_ring_timeout(c):
    bob, alice, carol = c.bob, c.alice, c.carol
    lo, hi = RING_TIMEOUT - 0.5, RING_TIMEOUT + 3.0

    async def sip_caller(callee, how, service):
        checks = {
            'sipp': f'ring timeout sip->xmpp ({how} JID, {callee.user} rings, never answers): sipp gets 480 after ~{RING_TIMEOUT:g} s',
            'xmpp': f'ring timeout sip->xmpp ({how} JID): {callee.user} gets '
                    + ('JMI retract <timeout/>' if how == 'bare' else 'session-terminate <timeout/>'),
        }
        async with Scenario(c.r, f'ring timeout sip->xmpp {how}', checks) as sc:
            callee.reset('ring')
            s = Sipp(c.work, f'ringto-{how}', scenario_for(c.work, 'uac_expect', 480), service=service,
                     extra=['-recv_timeout', '12s'])
            sc.cleanup(s.stop)
            sc.begin('sipp')
            await s.start()
            await s.wait(16)
            took = s.t_end - s.t0 - 0.3  # the scenario's closing pause
            p = sipp_problems(s, want_final=480)
            if not p and not lo <= took <= hi:
                p.append(f'480 after {took:.1f} s, want {RING_TIMEOUT:g} s (--ring-timeout)')
            sc.check(p, *s.details(msg_lines=25), note=f'after {took:.1f} s')
            sc.begin('xmpp')
            kind, r, el = await callee.expect_end(2)
            p = []
            if how == 'bare' and (kind != 'retract' or r != 'timeout'):
                p.append(f'{kind} <{r}/>, want JMI retract <timeout/> (the call was only proposed; GATEWAY.md)')
            if how == 'full' and (kind != 'session-terminate' or r != 'timeout'):
                p.append(f'{kind} <{r}/>, want session-terminate <timeout/>')
            sc.check(p, el, note=f'{kind} <{r}/>')

    async def xmpp_caller():
        port = 5113
        bare = sip_jid(port)
        checks = {
            'xmpp': f'ring timeout xmpp->sip (sipp rings, never answers): carol gets session-terminate <timeout/> after ~{RING_TIMEOUT:g} s',
            'sipp': 'ring timeout xmpp->sip: sipp UAS gets CANCEL (200, 487, ACK)',
        }
        async with Scenario(c.r, 'ring timeout xmpp->sip', checks) as sc:
            carol.reset(None)
            uas = await Sipp(c.work, 'ringto-uas', os.path.join(HERE, 'uas_ring_cancel.xml'), port=port).start()
            sc.cleanup(uas.stop)
            sc.begin('xmpp')
            t0 = time.monotonic()
            sid = await x2s_initiate(carol, bare, 31700)
            sc.cleanup(lambda: terminate_quietly(carol, bare, sid))
            try:
                iq, j = await carol.expect_jingle('session-terminate', sid, timeout=hi + 1)
            except Fail as e:
                await uas.wait(1)
                raise Fail(e.why, *e.details, *uas.details(msg_lines=25)) from None
            took = time.monotonic() - t0
            r = reason_of(j)[0]
            p = [] if r == 'timeout' else [f'reason <{r}/>, want <timeout/>']
            if not lo <= took <= hi:
                p.append(f'after {took:.1f} s, want {RING_TIMEOUT:g} s')
            sc.check(p, iq, note=f'after {took:.1f} s')
            sc.begin('sipp')
            await uas.wait(5)
            sc.check(sipp_problems(uas), *uas.details(msg_lines=30))
            sc.cleanups = [uas.stop]

    await asyncio.gather(sip_caller(bob, 'bare', 'bob%40localhost'),
                         sip_caller(alice, 'full', 'alice%40localhost%2Fres'), xmpp_caller())
    await api_empty(c, 'the ring timeouts')


async def sc_kill(c, args):
    checks = {
        'up': 'kill: sipp UAC -> sip:dave%40localhost@..., dave (a separate slixmpp process) answers',
        'bye': f'kill: dave\'s process SIGKILLed mid-call -> sipp gets BYE within {KILL_LIMIT:g} s (XEP-0199 ping error)',
    }
    async with Scenario(c.r, 'XMPP callee killed', checks) as sc:
        cmd = [sys.executable, os.path.abspath(__file__), '--child', 'dave', '--resource', 'killme']
        if args.trace:
            cmd += ['--trace', args.trace]
        child = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE,
                                                     stderr=open(os.path.join(c.work, 'child.err'), 'w'))

        async def stop_child():
            if child.returncode is None:
                child.kill()
                await child.wait()
        sc.cleanup(stop_child)
        sc.begin('up')

        async def line(what, timeout):
            try:
                ln = await asyncio.wait_for(child.stdout.readline(), timeout)
            except asyncio.TimeoutError:
                ln = b''
            if not ln:
                err = open(os.path.join(c.work, 'child.err'), errors='replace').read()[-1500:]
                raise Fail(f'the callee process printed no `{what}` within {timeout:g} s', err)
            return ln.decode().strip()
        await line('ready', 10)
        s = Sipp(c.work, 'kill', os.path.join(SIPP_DIR, 'uac_call_remote_bye.xml'), service='dave%40localhost')
        sc.cleanup(s.stop)
        await s.start()
        try:
            ln = await line('accepted', 8)
        except Fail as e:
            await s.wait(1)
            raise Fail(e.why, *e.details, *s.details()) from None
        await asyncio.sleep(1.0)  # the 200 OK reaches sipp, its ACK the gateway
        if s.proc.returncode is not None:
            await s.wait(1)
            raise Fail(f'sipp ended before the kill (rc {s.rc})', ln, *s.details())
        sc.ok(note=ln)
        sc.begin('bye')
        child.kill()
        t_kill = time.monotonic()
        await child.wait()
        trace('callee process killed')
        await s.wait(KILL_LIMIT + 5)
        took = s.t_end - t_kill - 1.0  # uac_call_remote_bye.xml pauses 1 s after the BYE
        p = sipp_problems(s)
        if not p and took > KILL_LIMIT:
            p.append(f'BYE after {took:.1f} s, want at most {KILL_LIMIT:g} s')
        sc.check(p, *s.details(msg_lines=30), note=f'BYE {took:.1f} s after the kill')
    await api_empty(c, 'the killed callee', wait=3)


# ---------------------------------------------------------------------------------------------

async def child_main(args):
    setup_trace(args.trace)
    p = Callee(args.child, args.resource, 36000)
    p.mode = 'answer'
    p.on_accepted = lambda sid: print('accepted', sid, flush=True)
    await p.login()
    print('ready', flush=True)
    await asyncio.Event().wait()


class Ctx:
    pass


async def main(args):
    setup_trace(args.trace)
    c = Ctx()
    c.r = Report('sip_xmpp')
    c.work = args.work
    os.makedirs(c.work, exist_ok=True)
    setup = {
        'logins': 'setup: alice, bob, carol log in to Prosody (slixmpp)',
        'component': f'setup: the gateway is connected as {GW} (disco#info answered)',
        'api': f'setup: GET http://{HTTP}/api/calls answers {{"calls":[]}}',
    }
    peers = []
    async with Scenario(c.r, 'setup', setup) as sc:
        sc.begin('logins')
        c.alice, c.bob, c.carol = peers = [Callee('alice', 'res', 33000), Callee('bob', 'res', 34000),
                                           Callee('carol', 'phone', 35000)]
        try:
            await asyncio.gather(*(p.login() for p in peers))
        except Exception as e:  # noqa: BLE001
            raise Fail(f'{type(e).__name__}: {e}')
        sc.ok()
        sc.begin('component')
        took = await wait_for_component(c.alice, 10)
        sc.ok(note=f'after {took:.1f} s')
        sc.begin('api')
        doc, raw = await api_calls()
        p = calls_shape_problems(doc) if doc is not None else [raw]
        if not p and doc['calls']:
            p.append('calls listed before any call')
        sc.check(p, raw)
    if c.r.failed:
        c.r.summary()
        return 1
    scenarios = [('load', sc_load), ('x2s', sc_x2s_answer), ('x2s-bye', sc_x2s_remote_bye), ('pct', sc_x2s_pct),
                 ('causes-s2x', sc_causes_s2x), ('causes-x2s', sc_causes_x2s), ('cancel', sc_cancel),
                 ('ring-timeout', sc_ring_timeout), ('kill', lambda c: sc_kill(c, args))]
    only = set(args.only.split(',')) if args.only else None
    for name, fn in scenarios:
        if only and name not in only:
            continue
        t0 = time.monotonic()
        await fn(c)
        trace(f'scenario {name} took {time.monotonic() - t0:.1f} s')
    await api_empty(c, 'everything (final)', wait=2)
    for s in list(Sipp.running):
        await s.stop()
    await asyncio.gather(*(p.quit() for p in peers), return_exceptions=True)
    return 0 if c.r.summary() else 1


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', help='directory for sipp logs and generated scenarios')
    ap.add_argument('--trace')
    ap.add_argument('--only', help='comma-separated scenario names (debugging)')
    ap.add_argument('--child', help='run as the callee of the kill check: this user')
    ap.add_argument('--resource', default='killme')
    a = ap.parse_args()
    if a.child:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        asyncio.run(child_main(a))
    else:
        if not a.work:
            ap.error('--work is required')
        sys.exit(asyncio.run(main(a)))
