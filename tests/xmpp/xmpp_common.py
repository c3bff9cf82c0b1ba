"""Shared pieces of Switchboard's XMPP real-peer tests (slixmpp_calls.py, prosody_restart.py).

The XMPP side is slixmpp 1.17 (ClientXMPP accounts on Prosody, created by prosody.sh); the browser
side is a browser-protocol v1 client (protocols/browser/PROTOCOL.md) over Python websockets. The
contract under test is protocols/jingle/GATEWAY.md. slixmpp has no Jingle plugin: the Jingle and JMI
elements are built here with ElementTree, in the style of Conversations (content `audio`, ICE-UDP
with ufrag/pwd and candidates of two components, DTLS fingerprint with setup=actpass, opus and
telephone-event, rtcp-mux, BUNDLE group).

Checks print one line each, `PASS name` or `FAIL name (why)` followed by the stanzas / messages
involved (indented with `    | `). A scenario goes on after a check whose stanza arrived with
wrong content, and stops when an expected stanza or message does not come; the checks it did not
reach print `FAIL name (not reached ...)`, so every run prints the same number of checks.
"""
import asyncio
import base64
import copy
import hashlib
import json
import logging
import os
import random
import secrets
import string
import time
import traceback
import xml.etree.ElementTree as ET

import websockets
from slixmpp import ClientXMPP
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import tostring
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

HOST, C2S_PORT = '127.0.0.1', 5222
DOMAIN = 'localhost'
GW = 'gateway.localhost'
SB_RES = 'switchboard'
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
T = float(os.environ.get('XMPP_TEST_TIMEOUT', '3'))  # seconds to wait for one expected event

NS_CLIENT = 'jabber:client'
NS_JINGLE = 'urn:xmpp:jingle:1'
NS_JERR = 'urn:xmpp:jingle:errors:1'
NS_RTP = 'urn:xmpp:jingle:apps:rtp:1'
NS_INFO = 'urn:xmpp:jingle:apps:rtp:info:1'
NS_FB = 'urn:xmpp:jingle:apps:rtp:rtcp-fb:0'
NS_HDREXT = 'urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'
NS_SSMA = 'urn:xmpp:jingle:apps:rtp:ssma:0'
NS_GROUP = 'urn:xmpp:jingle:apps:grouping:0'
NS_ICE = 'urn:xmpp:jingle:transports:ice-udp:1'
NS_DTLS = 'urn:xmpp:jingle:apps:dtls:0'
NS_JMI = 'urn:xmpp:jingle-message:0'
NS_HINTS = 'urn:xmpp:hints'
NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'
NS_DISCO = 'http://jabber.org/protocol/disco#info'
NS_CAPS = 'http://jabber.org/protocol/caps'
NS_DATA = 'jabber:x:data'

# What the brief requires in disco#info, and everything GATEWAY.md lists.
REQUIRED_FEATURES = [NS_JINGLE, NS_RTP, 'urn:xmpp:jingle:apps:rtp:audio', 'urn:xmpp:jingle:apps:rtp:video',
                     NS_ICE, NS_DTLS, NS_JMI]
GATEWAY_MD_FEATURES = [
    NS_DISCO, NS_CAPS, 'urn:xmpp:ping', NS_JINGLE, NS_RTP, 'urn:xmpp:jingle:apps:rtp:audio',
    'urn:xmpp:jingle:apps:rtp:video', NS_INFO, NS_ICE, NS_DTLS, NS_FB, NS_HDREXT, NS_GROUP,
    'urn:ietf:rfc:5888', NS_SSMA, 'urn:ietf:rfc:5761', 'urn:xmpp:jingle:transports:webrtc-datachannel:1', NS_JMI]
# What our slixmpp accounts announce (like Conversations), in case the gateway asks.
CLIENT_FEATURES = [NS_JINGLE, NS_RTP, 'urn:xmpp:jingle:apps:rtp:audio', 'urn:xmpp:jingle:apps:rtp:video',
                   NS_ICE, NS_DTLS, NS_JMI, NS_INFO, NS_FB, NS_HDREXT, NS_GROUP]


# ---------------------------------------------------------------------------------------------
# trace file: every stanza and browser message, with the time since start

_T0 = time.monotonic()
_trace_file = None


def setup_trace(path):
    """Stanzas and browser messages go to PATH (one line each); slixmpp's own log too."""
    global _trace_file
    lg = logging.getLogger('slixmpp')
    lg.propagate = False
    if path:
        _trace_file = open(path, 'a', buffering=1)
        h = logging.StreamHandler(_trace_file)
        h.setFormatter(logging.Formatter('%(relativeCreated)8.0f [slixmpp %(levelname)s] %(message)s'))
        lg.addHandler(h)
        lg.setLevel(logging.INFO)
    else:
        lg.setLevel(logging.CRITICAL)


def trace(*parts):
    if _trace_file:
        _trace_file.write(f'{1000 * (time.monotonic() - _T0):8.0f} ' + ' '.join(str(p) for p in parts) + '\n')


def elapsed():
    return time.monotonic() - _T0


# ---------------------------------------------------------------------------------------------
# reporting

class Fail(Exception):
    """A check failed: WHY, and the stanzas / messages that show it (ET elements, dicts, text)."""

    def __init__(self, why, *details):
        super().__init__(why)
        self.why = why
        self.details = details


class Abort(Exception):
    """A scenario stops; its failure is already reported."""


def fmt(x, limit=3000):
    if isinstance(x, ET.Element):
        s = tostring(x)
    elif hasattr(x, 'xml') and isinstance(getattr(x, 'xml'), ET.Element):
        s = tostring(x.xml)
    elif isinstance(x, (dict, list)):
        s = json.dumps(x)
    else:
        s = str(x)
    return s if len(s) <= limit else s[:limit] + f'... ({len(s)} chars)'


class Report:
    def __init__(self, title):
        self.title = title
        self.passed = 0
        self.failed = 0
        self.failures = []

    def result(self, ok, name, why='', details=()):
        if ok:
            self.passed += 1
            print(f'PASS {name}' + (f' ({why})' if why else ''), flush=True)
            trace('PASS', name, why)
            return
        self.failed += 1
        self.failures.append(name)
        print(f'FAIL {name} ({why})', flush=True)
        trace('FAIL', name, why)
        for d in details:
            for line in fmt(d).replace('\r\n', '\n').split('\n'):
                print(f'    | {line}', flush=True)

    def summary(self):
        print(f'{self.title}: {self.passed} passed, {self.failed} failed', flush=True)
        return self.failed == 0


class Scenario:
    """async with Scenario(report, title, {key: check name, ...}) as sc:   (checks in order)
         sc.begin(key) ... sc.ok()          the code in between fails check KEY if it raises
         sc.begin(key); sc.check(problems)  passes when PROBLEMS is empty, else fails (and goes on)
         sc.soft(key, problems, *details)   a check that does not stop the scenario
       An exception (a stanza or message that did not come) stops the scenario; the checks it did
       not reach are reported as failed.
       Cleanups (sc.cleanup(coro_fn)) run at the end whatever happened."""

    def __init__(self, report, title, checks):
        self.r = report
        self.title = title
        self.names = dict(checks)
        self.pending = list(self.names)
        self.current = None
        self.cleanups = []

    def begin(self, key):
        assert key in self.pending, key
        self.current = key

    def ok(self, note=''):
        key = self.current
        self.pending.remove(key)
        self.current = None
        self.r.result(True, self.names[key], note)

    def check(self, problems, *details, note='', fatal=False):
        """Passes the current check when PROBLEMS is empty, else fails it; the scenario goes on
        (the stanza or message arrived, later checks still make sense) unless FATAL."""
        if problems and fatal:
            raise Fail('; '.join(problems), *details)
        key = self.current
        self.pending.remove(key)
        self.current = None
        self.r.result(not problems, self.names[key], '; '.join(problems) if problems else note,
                      details if problems else ())

    def soft(self, key, problems, *details, note=''):
        assert key in self.pending, key
        self.pending.remove(key)
        self.r.result(not problems, self.names[key], '; '.join(problems) if problems else note, details)

    def cleanup(self, fn):
        self.cleanups.append(fn)

    async def __aenter__(self):
        trace('=====', self.title)
        return self

    async def __aexit__(self, et, e, tb):
        if et is not None and et is not Abort:
            if isinstance(e, asyncio.CancelledError):
                return False
            key = self.current or (self.pending[0] if self.pending else None)
            name = self.names.get(key, f'{self.title}: unexpected error')
            if key in self.pending:
                self.pending.remove(key)
            if isinstance(e, Fail):
                self.r.result(False, name, e.why, e.details)
            else:
                self.r.result(False, name, f'test error {type(e).__name__}: {e}',
                              [''.join(traceback.format_exception(et, e, tb))[-2500:]])
        for k in self.pending:
            self.r.result(False, self.names[k], f'not reached: an earlier check of "{self.title}" failed')
        self.pending = []
        for fn in reversed(self.cleanups):
            try:
                await asyncio.wait_for(fn(), 3)
            except Exception:  # noqa: BLE001 - cleanup is best effort
                pass
        return True


async def watch(aw, *sides):
    """Awaits AW; when it fails, adds what the other SIDES (Peer/Browser) got meanwhile."""
    try:
        return await aw
    except Fail as e:
        extra = []
        for s in sides:
            rec = s.recent(3)
            if rec:
                extra.append(f'--- meanwhile {s.label} got:')
                extra += rec
        raise Fail(e.why, *e.details, *extra) from None


# ---------------------------------------------------------------------------------------------
# small XML helpers

def q(ns, tag):
    return f'{{{ns}}}{tag}'


def E(ns, tag, attrs=None, children=(), text=None):
    el = ET.Element(q(ns, tag), {k: str(v) for k, v in (attrs or {}).items() if v is not None})
    for c in children:
        if c is not None:
            el.append(c)
    if text is not None:
        el.text = text
    return el


def local(tag):
    return tag.split('}', 1)[-1]


def ns_of(tag):
    return tag[1:].split('}', 1)[0] if tag.startswith('{') else ''


def rand_token(n, alphabet=string.ascii_letters + string.digits):
    return ''.join(random.choice(alphabet) for _ in range(n))


def rand_fp():
    return ':'.join(f'{b:02X}' for b in secrets.token_bytes(32))


def new_sid(prefix):
    return f'{prefix}-{rand_token(10)}'


# ---------------------------------------------------------------------------------------------
# Jingle / JMI builders (what a Conversations-like client sends)

class Ice:
    """One endpoint's ICE credentials, DTLS fingerprint and candidates (signaling text only: no
    media is ever sent; the addresses are loopback and documentation addresses)."""

    def __init__(self, port):
        self.ufrag = rand_token(8)
        self.pwd = rand_token(24)
        self.fp = rand_fp()
        self.port = port
        self.cands = [  # component 1 host, component 2 host, component 1 srflx
            dict(component=1, foundation='1', ip='127.0.0.1', port=port, priority=2122260223, type='host'),
            dict(component=2, foundation='1', ip='127.0.0.1', port=port + 1, priority=2122260222, type='host'),
            dict(component=1, foundation='2', ip='203.0.113.7', port=port + 2, priority=1686052607,
                 type='srflx', rel_addr='127.0.0.1', rel_port=port),
        ]
        self.trickle = dict(component=1, foundation='3', ip='127.0.0.1', port=port + 3, priority=2122194687,
                            type='host')

    def key(self, c):
        return (int(c['component']), c['ip'], int(c['port']), c['type'])


def candidate_el(c):
    return E(NS_ICE, 'candidate', {
        'component': c['component'], 'foundation': c['foundation'], 'generation': 0, 'id': rand_token(10),
        'ip': c['ip'], 'network': 0, 'port': c['port'], 'priority': c['priority'], 'protocol': 'udp',
        'type': c['type'], 'rel-addr': c.get('rel_addr'), 'rel-port': c.get('rel_port')})


def ice_transport(ice, setup, cands=None):
    fp = E(NS_DTLS, 'fingerprint', {'hash': 'sha-256', 'setup': setup}, text=ice.fp)
    return E(NS_ICE, 'transport', {'ufrag': ice.ufrag, 'pwd': ice.pwd},
             [fp] + [candidate_el(c) for c in (ice.cands if cands is None else cands)])


def payload(pt, name, clock, channels=None, params=None, fbs=()):
    ch = [E(NS_RTP, 'parameter', {'name': k, 'value': v}) for k, v in (params or {}).items()]
    ch += [E(NS_FB, 'rtcp-fb', {'type': t, 'subtype': s}) for t, s in fbs]
    return E(NS_RTP, 'payload-type', {'id': pt, 'name': name, 'clockrate': clock, 'channels': channels}, ch)


AUDIO_PAYLOADS = [  # as libwebrtc in Conversations offers them
    (111, 'opus', 48000, 2, {'minptime': '10', 'useinbandfec': '1'}, [('transport-cc', None)]),
    (9, 'G722', 8000, None, None, []),
    (0, 'PCMU', 8000, None, None, []),
    (8, 'PCMA', 8000, None, None, []),
    (13, 'CN', 8000, None, None, []),
    (110, 'telephone-event', 48000, None, None, []),
    (126, 'telephone-event', 8000, None, None, []),
]


def audio_description(pts=None):
    ssrc = str(random.randint(1, 2**32 - 1))
    chosen = [p for p in AUDIO_PAYLOADS if pts is None or p[0] in pts]
    return E(NS_RTP, 'description', {'media': 'audio'}, [
        *[payload(*p) for p in chosen],
        E(NS_HDREXT, 'rtp-hdrext', {'id': 1, 'uri': 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'}),
        E(NS_HDREXT, 'rtp-hdrext', {'id': 3, 'uri': 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'}),
        E(NS_RTP, 'rtcp-mux'),
        E(NS_SSMA, 'source', {'ssrc': ssrc}, [
            E(NS_SSMA, 'parameter', {'name': 'cname', 'value': rand_token(16)}),
            E(NS_SSMA, 'parameter', {'name': 'msid', 'value': f'my-media-stream {rand_token(12)}'})]),
    ])


def video_description():
    ssrc = str(random.randint(1, 2**32 - 1))
    fbs = [('goog-remb', None), ('transport-cc', None), ('ccm', 'fir'), ('nack', None), ('nack', 'pli')]
    return E(NS_RTP, 'description', {'media': 'video'}, [
        payload(96, 'VP8', 90000, None, None, fbs),
        payload(97, 'rtx', 90000, None, {'apt': '96'}),
        E(NS_HDREXT, 'rtp-hdrext', {'id': 3, 'uri': 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'}),
        E(NS_RTP, 'rtcp-mux'),
        E(NS_SSMA, 'source', {'ssrc': ssrc}, [E(NS_SSMA, 'parameter', {'name': 'cname', 'value': rand_token(16)})]),
    ])


def jingle(action, sid, initiator=None, responder=None, children=()):
    return E(NS_JINGLE, 'jingle', {'action': action, 'sid': sid, 'initiator': initiator,
                                   'responder': responder}, children)


def content(name, description, transport, creator='initiator', senders=None):
    return E(NS_JINGLE, 'content', {'creator': creator, 'name': name, 'senders': senders},
             [description, transport])


def bundle(names):
    return E(NS_GROUP, 'group', {'semantics': 'BUNDLE'}, [E(NS_GROUP, 'content', {'name': n}) for n in names])


def session_initiate_audio(sid, initiator, ice, name='audio'):
    """Conversations' session-initiate for an audio call."""
    return jingle('session-initiate', sid, initiator=initiator, children=[
        content(name, audio_description(), ice_transport(ice, 'actpass')), bundle([name])])


def reason_el(name, text=None):
    return E(NS_JINGLE, 'reason', children=[E(NS_JINGLE, name)] + (
        [E(NS_JINGLE, 'text', text=text)] if text else []))


def transport_info(sid, name, ice, cand, creator='initiator', initiator=None):
    return jingle('transport-info', sid, initiator=initiator, children=[
        E(NS_JINGLE, 'content', {'creator': creator, 'name': name}, [
            E(NS_ICE, 'transport', {'ufrag': ice.ufrag, 'pwd': ice.pwd}, [candidate_el(cand)])])])


def jmi(tag, sid, children=()):
    return E(NS_JMI, tag, {'id': sid}, children)


def accept_for(initiate_j, responder, ice, setup='active'):
    """The session-accept a Conversations-like callee sends for the gateway's session-initiate:
    every content accepted, opus/PCMU/telephone-event (audio) or VP8 + its rtx (video)."""
    cs = []
    names = []
    for c in initiate_j.findall(q(NS_JINGLE, 'content')):
        d = c.find(q(NS_RTP, 'description'))
        if d is None:
            continue
        media = d.get('media')
        pts = d.findall(q(NS_RTP, 'payload-type'))
        keep = []
        if media == 'audio':
            keep = [p for p in pts if (p.get('name') or '').lower() in ('opus', 'pcmu', 'telephone-event')]
        elif media == 'video':
            vp8 = [p for p in pts if (p.get('name') or '').lower() == 'vp8'][:1]
            keep = vp8 + [p for p in pts if (p.get('name') or '').lower() == 'rtx' and vp8 and any(
                x.get('name') == 'apt' and x.get('value') == vp8[0].get('id') for x in p.findall(q(NS_RTP, 'parameter')))]
        keep = keep or pts[:1]
        desc = E(NS_RTP, 'description', {'media': media}, [copy.deepcopy(p) for p in keep] + [E(NS_RTP, 'rtcp-mux')])
        cs.append(E(NS_JINGLE, 'content', {'creator': c.get('creator') or 'initiator', 'name': c.get('name'),
                                           'senders': c.get('senders')},
                    [desc, ice_transport(ice, setup, [ice.cands[0]])]))
        names.append(c.get('name'))
    grp = initiate_j.find(q(NS_GROUP, 'group'))
    return jingle('session-accept', initiate_j.get('sid'), responder=responder,
                  children=cs + ([bundle(names)] if grp is not None else []))


# ---------------------------------------------------------------------------------------------
# reading what the gateway sent

def jingle_of(iq):
    return iq.find(q(NS_JINGLE, 'jingle'))


def reason_of(el):
    """(condition, wrapped) of a Jingle element or a JMI element: `wrapped` is True when the
    condition sits inside <reason xmlns='urn:xmpp:jingle:1'> (XEP-0166/0353), False when it is a
    bare child, None when there is none."""
    r = el.find(q(NS_JINGLE, 'reason'))
    if r is not None:
        for c in r:
            if local(c.tag) != 'text':
                return local(c.tag), True
        return None, True
    for c in el:
        if local(c.tag) not in ('description', 'text', 'reason') and ns_of(c.tag) in (NS_JINGLE, NS_JMI):
            return local(c.tag), False
    return None, None


def describe_content(c):
    d = c.find(q(NS_RTP, 'description'))
    t = c.find(q(NS_ICE, 'transport'))
    out = {'name': c.get('name'), 'creator': c.get('creator'), 'senders': c.get('senders'),
           'media': d.get('media') if d is not None else None, 'payloads': {}, 'rtcp_mux': False,
           'ufrag': None, 'pwd': None, 'fingerprints': [], 'cands': []}
    if d is not None:
        for p in d.findall(q(NS_RTP, 'payload-type')):
            params = {x.get('name'): x.get('value') for x in p.findall(q(NS_RTP, 'parameter'))}
            out['payloads'][p.get('id')] = dict(name=p.get('name'), clockrate=p.get('clockrate'),
                                                channels=p.get('channels'), params=params)
        out['rtcp_mux'] = d.find(q(NS_RTP, 'rtcp-mux')) is not None
    if t is not None:
        out['ufrag'], out['pwd'] = t.get('ufrag'), t.get('pwd')
        for f in t.findall(q(NS_DTLS, 'fingerprint')):
            out['fingerprints'].append(((f.get('hash') or '').lower(), f.get('setup'), (f.text or '').strip().upper()))
        for x in t.findall(q(NS_ICE, 'candidate')):
            try:
                out['cands'].append((int(x.get('component')), x.get('ip'), int(x.get('port')), x.get('type')))
            except (TypeError, ValueError):
                out['cands'].append(('bad', tostring(x)))
    return out


def contents_of(j):
    return [describe_content(c) for c in j.findall(q(NS_JINGLE, 'content'))]


def jingle_candidates(j):
    out = set()
    for c in contents_of(j):
        out.update(x for x in c['cands'] if x[0] != 'bad')
    return out


def stanza_error(iq):
    """(condition, [application-specific condition names]) of an error stanza."""
    err = iq.find(q(NS_CLIENT, 'error'))
    if err is None:
        return None, []
    cond, app = None, []
    for c in err:
        if ns_of(c.tag) == NS_STANZAS and local(c.tag) != 'text':
            cond = local(c.tag)
        elif ns_of(c.tag) != NS_STANZAS:
            app.append(f'{{{ns_of(c.tag)}}}{local(c.tag)}')
    return cond, app


# ---------------------------------------------------------------------------------------------
# SDP helpers (enough of RFC 8866 for the checks; the gateway has the real parser)

def split_sdp(text):
    lines = [ln for ln in text.replace('\r\n', '\n').split('\n') if ln]
    session, sections = [], []
    for ln in lines:
        if ln.startswith('m='):
            sections.append([ln])
        elif sections:
            sections[-1].append(ln)
        else:
            session.append(ln)
    return session, sections


def cand_key(cand_text):
    """(component, ip, port, type) of `candidate:...` or `a=candidate:...` text."""
    s = cand_text
    s = s[2:] if s.startswith('a=') else s
    s = s[len('candidate:'):] if s.startswith('candidate:') else s
    f = s.split()
    typ = f[f.index('typ') + 1] if 'typ' in f else None
    return (int(f[1]), f[4], int(f[5]), typ)


class Section:
    def __init__(self, lines, session_attrs):
        m = lines[0][2:].split()
        self.media, self.port, self.proto, self.fmts = m[0], m[1], m[2], m[3:]
        self.lines = lines
        attrs = [ln[2:] for ln in lines if ln.startswith('a=')]
        self.attrs = attrs

        def get(name, default=None, fallback=True):
            for a in attrs:
                if a == name or a.startswith(name + ':'):
                    return a[len(name) + 1:] if ':' in a else ''
            if fallback:
                for a in session_attrs:
                    if a == name or a.startswith(name + ':'):
                        return a[len(name) + 1:] if ':' in a else ''
            return default
        self.mid = get('mid', fallback=False)
        self.ufrag = get('ice-ufrag')
        self.pwd = get('ice-pwd')
        self.setup = get('setup')
        fps = [a[len('fingerprint:'):] for a in attrs if a.startswith('fingerprint:')] or \
              [a[len('fingerprint:'):] for a in session_attrs if a.startswith('fingerprint:')]
        self.fingerprints = [(f.split()[0].lower(), f.split()[1].upper()) for f in fps if len(f.split()) == 2]
        self.rtpmap = {}
        self.fmtp = {}
        for a in attrs:
            if a.startswith('rtpmap:'):
                pt, _, v = a[7:].partition(' ')
                self.rtpmap[pt] = v
            elif a.startswith('fmtp:'):
                pt, _, v = a[5:].partition(' ')
                self.fmtp[pt] = v
        self.rtcp_mux = 'rtcp-mux' in attrs
        self.cands = [cand_key(a) for a in attrs if a.startswith('candidate:')]
        self.direction = next((a for a in attrs if a in ('sendrecv', 'sendonly', 'recvonly', 'inactive')), 'sendrecv')


class Sdp:
    def __init__(self, text):
        self.text = text
        session, sections = split_sdp(text)
        self.session = session
        self.session_attrs = [ln[2:] for ln in session if ln.startswith('a=')]
        self.sections = [Section(s, self.session_attrs) for s in sections]
        self.bundle = next((a.split()[1:] for a in self.session_attrs if a.startswith('group:BUNDLE')), None)


FIXTURE = os.path.join(ROOT, 'fixtures', 'sdp', 'chromium-156-offer-audio-video-datachannel.sdp')


def chromium_offer(kinds=('audio',)):
    """A real Chromium 156 trickle offer (the captured audio+video+datachannel fixture) cut down to
    the sections of KINDS, BUNDLE group adjusted, with fresh ICE credentials. Returns (sdp, Sdp)."""
    session, sections = split_sdp(open(FIXTURE, newline='').read())
    keep = [s for s in sections if s[0][2:].split()[0] in kinds]
    mids = [next(ln[6:] for ln in s if ln.startswith('a=mid:')) for s in keep]
    ufrag, pwd = rand_token(4), rand_token(24)
    out = []
    for ln in session:
        if ln.startswith('o=- '):
            f = ln.split()
            f[1] = str(random.randint(10**17, 10**18))
            ln = ' '.join(f)
        if ln.startswith('a=group:BUNDLE'):
            ln = 'a=group:BUNDLE ' + ' '.join(mids)
        out.append(ln)
    for s in keep:
        for ln in s:
            if ln.startswith('a=ice-ufrag:'):
                ln = 'a=ice-ufrag:' + ufrag
            elif ln.startswith('a=ice-pwd:'):
                ln = 'a=ice-pwd:' + pwd
            out.append(ln)
    text = '\r\n'.join(out) + '\r\n'
    return text, Sdp(text)


def browser_candidates(sdp):
    """Two Chromium-style host candidates for the first m-section of SDP (an Sdp)."""
    s = sdp.sections[0]
    port = random.randint(40000, 59999)
    c1 = f'candidate:4172453134 1 udp 2122194687 127.0.0.1 {port} typ host generation 0 network-id 1 network-cost 50'
    c2 = f'candidate:2256369558 1 tcp 1518214911 127.0.0.1 9 typ host tcptype active generation 0 network-id 1 network-cost 50'
    c3 = f'candidate:3584770517 1 udp 2122267903 127.0.0.1 {port + 1} typ host generation 0 network-id 2 network-cost 50'
    return [{'candidate': c, 'sdpMid': s.mid, 'sdpMLineIndex': 0, 'usernameFragment': s.ufrag} for c in (c1, c3, c2)]


def browser_answer(offer_text):
    """A Chromium-like answer to OFFER_TEXT (what the gateway made of a Jingle offer): same
    sections in the same order, a=setup:active, fresh ICE/DTLS, opus/PCMU/telephone-event for audio
    and VP8 (+rtx) for video. Returns (sdp, Sdp, Ice-like dict)."""
    offer = Sdp(offer_text)
    ufrag, pwd, fp = rand_token(4), rand_token(24), rand_fp()
    out = ['v=0', f'o=- {random.randint(10**17, 10**18)} 2 IN IP4 127.0.0.1', 's=-', 't=0 0']
    if offer.bundle:
        out.append('a=group:BUNDLE ' + ' '.join(offer.bundle))
    out.append('a=msid-semantic: WMS answerstream')
    for s in offer.sections:
        if s.port == '0':
            out += [f'm={s.media} 0 {s.proto} {s.fmts[0]}', 'c=IN IP4 0.0.0.0'] + ([f'a=mid:{s.mid}'] if s.mid else [])
            continue
        if s.media == 'application':
            out += [f'm=application 9 {s.proto} {" ".join(s.fmts)}', 'c=IN IP4 0.0.0.0',
                    f'a=ice-ufrag:{ufrag}', f'a=ice-pwd:{pwd}', 'a=ice-options:trickle',
                    f'a=fingerprint:sha-256 {fp}', 'a=setup:active'] + ([f'a=mid:{s.mid}'] if s.mid else []) + [
                    'a=sctp-port:5000', 'a=max-message-size:262144']
            continue
        names = {pt: v.split('/')[0].lower() for pt, v in s.rtpmap.items()}
        if s.media == 'audio':
            pts = [pt for pt in s.fmts if names.get(pt) in ('opus', 'pcmu', 'telephone-event')]
        else:
            vp8 = [pt for pt in s.fmts if names.get(pt) == 'vp8'][:1]
            pts = vp8 + [pt for pt in s.fmts if names.get(pt) == 'rtx' and vp8 and s.fmtp.get(pt) == f'apt={vp8[0]}']
        pts = pts or s.fmts[:1]
        direction = {'sendonly': 'recvonly', 'recvonly': 'sendonly'}.get(s.direction, s.direction)
        out += [f'm={s.media} 9 {s.proto} {" ".join(pts)}', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
                f'a=ice-ufrag:{ufrag}', f'a=ice-pwd:{pwd}', 'a=ice-options:trickle',
                f'a=fingerprint:sha-256 {fp}', 'a=setup:active'] + ([f'a=mid:{s.mid}'] if s.mid else []) + [
                'a=' + direction, f'a=msid:answerstream {rand_token(8)}-{s.media}']
        if s.rtcp_mux:
            out.append('a=rtcp-mux')
        for pt in pts:
            if pt in s.rtpmap:
                out.append(f'a=rtpmap:{pt} {s.rtpmap[pt]}')
            for a in s.attrs:
                if a.startswith(f'rtcp-fb:{pt} '):
                    out.append('a=' + a)
            if pt in s.fmtp:
                out.append(f'a=fmtp:{pt} {s.fmtp[pt]}')
        out.append(f'a=ssrc:{random.randint(1, 2**32 - 1)} cname:{rand_token(16)}')
    text = '\r\n'.join(out) + '\r\n'
    return text, Sdp(text), {'ufrag': ufrag, 'pwd': pwd, 'fp': fp}


def sdp_problems_vs_jingle(sdp, ice, expect_setup, name='SDP'):
    """What is wrong in the gateway's SDP (for the browser) made from our Conversations-style audio
    Jingle (session-initiate with `ice`, or session-accept)."""
    p = []
    try:
        o = Sdp(sdp)
    except Exception as e:  # noqa: BLE001
        return [f'{name} does not parse ({e})']
    if [s.media for s in o.sections] != ['audio']:
        p.append(f'{name}: want exactly one m=audio section, got {[s.media for s in o.sections]}')
    if not o.sections:
        return p
    s = o.sections[0]
    if s.proto != 'UDP/TLS/RTP/SAVPF':
        p.append(f'{name}: m=audio proto {s.proto}, want UDP/TLS/RTP/SAVPF (ICE + DTLS-SRTP)')
    if s.port == '0':
        p.append(f'{name}: m=audio port 0 (rejected section)')
    if s.ufrag != ice.ufrag or s.pwd != ice.pwd:
        p.append(f'{name}: ice-ufrag/pwd {s.ufrag}/{s.pwd}, want {ice.ufrag}/{ice.pwd}')
    if ('sha-256', ice.fp.upper()) not in s.fingerprints:
        p.append(f'{name}: no a=fingerprint:sha-256 {ice.fp[:20]}... (got {s.fingerprints})')
    if s.setup != expect_setup:
        p.append(f'{name}: a=setup:{s.setup}, want {expect_setup}')
    if (s.rtpmap.get('111') or '').lower() != 'opus/48000/2':
        p.append(f'{name}: a=rtpmap:111 is {s.rtpmap.get("111")!r}, want opus/48000/2')
    fm = s.fmtp.get('111') or ''
    if 'minptime=10' not in fm or 'useinbandfec=1' not in fm:
        p.append(f'{name}: a=fmtp:111 is {fm!r}, want minptime=10 and useinbandfec=1 (Jingle <parameter/>s)')
    if (s.rtpmap.get('126') or '').lower() != 'telephone-event/8000':
        p.append(f'{name}: a=rtpmap:126 is {s.rtpmap.get("126")!r}, want telephone-event/8000')
    if not s.rtcp_mux:
        p.append(f'{name}: no a=rtcp-mux (Jingle <rtcp-mux/>)')
    if not s.mid:
        p.append(f'{name}: no a=mid (a browser needs it for the answer and for trickled candidates)')
    elif o.bundle is None or s.mid not in o.bundle:
        p.append(f'{name}: no a=group:BUNDLE with mid {s.mid} (the Jingle had <group semantics="BUNDLE">)')
    return p


def jingle_problems_vs_sdp(j, sdp, expect_setups, what):
    """What is wrong in the gateway's Jingle (session-initiate or session-accept) made from the
    browser's SDP (an Sdp): one content per m-section with the same media, the SDP's ICE
    credentials and fingerprint, setup in EXPECT_SETUPS, rtp payload types from the SDP."""
    p = []
    cs = contents_of(j)
    want_media = [s.media for s in sdp.sections if s.port != '0' and s.media in ('audio', 'video')]
    got_media = [c['media'] for c in cs if c['media']]
    if got_media != want_media:
        p.append(f'{what}: contents with RTP media {got_media}, want {want_media}')
    for c, s in zip([c for c in cs if c['media']], [s for s in sdp.sections if s.media in ('audio', 'video')]):
        tag = f'{what} content {c["name"]!r}'
        if not c['name']:
            p.append(f'{tag}: no name')
        if c['creator'] not in ('initiator',):
            p.append(f'{tag}: creator={c["creator"]!r}, want initiator')
        if c['ufrag'] != s.ufrag or c['pwd'] != s.pwd:
            p.append(f'{tag}: ice-udp transport ufrag/pwd {c["ufrag"]}/{c["pwd"]}, want {s.ufrag}/{s.pwd}'
                     + ('' if c['ufrag'] or c['pwd'] else ' (no urn:xmpp:jingle:transports:ice-udp:1 transport?)'))
        fps = [(h, v) for h, _, v in c['fingerprints']]
        for fp in s.fingerprints:
            if fp not in fps:
                p.append(f'{tag}: no DTLS fingerprint {fp[0]} {fp[1][:20]}... (got {c["fingerprints"]})')
        setups = {st for _, st, _ in c['fingerprints']}
        if not c['fingerprints']:
            p.append(f'{tag}: no <fingerprint xmlns="{NS_DTLS}">')
        elif not setups <= set(expect_setups):
            p.append(f'{tag}: fingerprint setup={sorted(setups, key=str)}, want one of {expect_setups}')
        if s.media == 'audio':
            opus = [pt for pt, v in c['payloads'].items() if (v['name'] or '').lower() == 'opus']
            if not opus:
                p.append(f'{tag}: no opus payload-type (got {[(k, v["name"]) for k, v in c["payloads"].items()]})')
            else:
                v = c['payloads'][opus[0]]
                if v['clockrate'] != '48000' or v['channels'] != '2':
                    p.append(f'{tag}: opus clockrate={v["clockrate"]} channels={v["channels"]}, want 48000/2')
                if opus[0] not in s.fmts:
                    p.append(f'{tag}: opus id {opus[0]} is not a payload type of the SDP {s.fmts}')
        for pt in c['payloads']:
            if pt not in s.fmts:
                p.append(f'{tag}: payload-type id {pt} not in the SDP m= line {s.fmts}')
        if s.rtcp_mux and not c['rtcp_mux']:
            p.append(f'{tag}: no <rtcp-mux/> (the SDP has a=rtcp-mux)')
    return p


# ---------------------------------------------------------------------------------------------
# XEP-0115 verification string

def caps_ver(query):
    """base64(sha-1(S)) of a disco#info <query/> (XEP-0115 §5.1, with XEP-0128 forms)."""
    ids = []
    for i in query.findall(q(NS_DISCO, 'identity')):
        lang = i.get('{http://www.w3.org/XML/1998/namespace}lang') or ''
        ids.append(f'{i.get("category") or ""}/{i.get("type") or ""}/{lang}/{i.get("name") or ""}')
    s = ''.join(x + '<' for x in sorted(ids))
    s += ''.join(f + '<' for f in sorted(x.get('var') for x in query.findall(q(NS_DISCO, 'feature'))))
    forms = []
    for x in query.findall(q(NS_DATA, 'x')):
        fields = {}
        for f in x.findall(q(NS_DATA, 'field')):
            fields[f.get('var')] = sorted(v.text or '' for v in f.findall(q(NS_DATA, 'value')))
        ft = (fields.pop('FORM_TYPE', None) or [''])[0]
        fs = ft + '<' + ''.join(k + '<' + ''.join(v + '<' for v in fields[k]) for k in sorted(fields))
        forms.append((ft, fs))
    s += ''.join(fs for _, fs in sorted(forms))
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


# ---------------------------------------------------------------------------------------------
# XMPP account (slixmpp)

class Peer(ClientXMPP):
    """alice@localhost/RESOURCE: logs in without TLS, acks every Jingle IQ set (XEP-0166 §6.2),
    keeps every message, presence and Jingle IQ it receives in `inbox` for the checks."""

    def __init__(self, user, resource):
        jid = f'{user}@{DOMAIN}/{resource}'
        super().__init__(jid, user + 'pw', plugin_config={'feature_mechanisms': {'unencrypted_scram': True}})
        self.enable_starttls = False
        self.enable_direct_tls = False
        self.enable_plaintext = True
        self.user = user
        self.label = user
        self.full = jid
        self.bare_jid = f'{user}@{DOMAIN}'
        self.register_plugin('xep_0030')
        self.register_plugin('xep_0199')
        for f in CLIENT_FEATURES:
            self['xep_0030'].add_feature(f)
        self.inbox = []  # [ET element, consumed]
        self.arrived = asyncio.Event()
        self.auto_ack = True
        self._ready = asyncio.get_event_loop().create_future()
        self.add_event_handler('session_start', self._on_start)
        self.add_event_handler('failed_auth', self._on_failed_auth)
        self.register_handler(Callback(f'jingle-{user}', MatchXPath(f'{{{NS_CLIENT}}}iq/{{{NS_JINGLE}}}jingle'),
                                       self._on_jingle))
        self.register_handler(Callback(f'msg-{user}', MatchXPath(f'{{{NS_CLIENT}}}message'), self._store))
        self.register_handler(Callback(f'pres-{user}', MatchXPath(f'{{{NS_CLIENT}}}presence'), self._store))
        self.add_filter('in', self._trace_in)
        self.add_filter('out', self._trace_out)

    def _trace_in(self, st):
        trace(f'{self.user} <<', fmt(st, 100000))
        return st

    def _trace_out(self, st):
        trace(f'{self.user} >>', fmt(st, 100000))
        return st

    async def _on_start(self, _):
        await self.get_roster()
        self.send_presence()
        if not self._ready.done():
            self._ready.set_result(True)

    def _on_failed_auth(self, *_):
        if not self._ready.done():
            self._ready.set_exception(RuntimeError(f'{self.full}: authentication failed'))

    def _store(self, st):
        self.inbox.append([copy.deepcopy(st.xml), False])
        self.arrived.set()

    def _on_jingle(self, iq):
        if iq['type'] != 'set':
            return
        self._store(iq)
        if self.auto_ack:
            iq.reply().send()

    async def login(self, timeout=5):
        self.connect(HOST, C2S_PORT)
        await asyncio.wait_for(self._ready, timeout)
        return self

    def forget(self):
        """Marks everything received so far as seen (a scenario starts clean)."""
        for e in self.inbox:
            e[1] = True

    def recent(self, n=4):
        return [e[0] for e in self.inbox if not e[1]][-n:]

    async def expect(self, pred, what, timeout=T):
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout
        while True:
            for e in self.inbox:
                if not e[1] and pred(e[0]):
                    e[1] = True
                    return e[0]
            left = deadline - loop.time()
            if left <= 0:
                rec = self.recent()
                raise Fail(f'{self.user} got no {what} within {timeout:g} s'
                           + (f'; {len(rec)} other stanza(s) it got meanwhile follow' if rec else
                              ' (and nothing else either)'), *rec)
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    def peek(self, pred):
        return [e[0] for e in self.inbox if not e[1] and pred(e[0])]

    async def expect_jingle(self, action, sid, timeout=T):
        def pred(el):
            j = jingle_of(el) if local(el.tag) == 'iq' else None
            return j is not None and j.get('action') == action and (sid is None or j.get('sid') == sid)
        iq = await self.expect(pred, f'Jingle {action}' + (f' (sid {sid})' if sid else ''), timeout)
        return iq, jingle_of(iq)

    async def expect_jmi(self, tag, sid=None, timeout=T):
        def pred(el):
            x = el.find(q(NS_JMI, tag)) if local(el.tag) == 'message' else None
            return x is not None and (sid is None or x.get('id') == sid)
        msg = await self.expect(pred, f'JMI <{tag}/>' + (f' (id {sid})' if sid else ''), timeout)
        return msg, msg.find(q(NS_JMI, tag))

    async def expect_presence(self, from_bare, ptype, timeout=T):
        def pred(el):
            if local(el.tag) != 'presence':
                return False
            if (el.get('from') or '').split('/')[0] != from_bare:
                return False
            return (el.get('type') or 'available') == ptype
        return await self.expect(pred, f'presence type={ptype} from {from_bare}', timeout)

    async def iq_set(self, to, payload_el, what, timeout=T):
        """Sends an IQ set; returns the result (ET) or raises Fail with both stanzas."""
        iq = self.make_iq_set(ito=to)
        iq.append(payload_el)
        sent = copy.deepcopy(iq.xml)
        try:
            res = await iq.send(timeout=timeout)
            return res.xml
        except IqError as e:
            cond, app = stanza_error(e.iq.xml)
            raise Fail(f'{what}: the gateway answered with an error ({cond} {" ".join(app)})', sent, e.iq.xml)
        except IqTimeout:
            raise Fail(f'{what}: no answer to the IQ within {timeout:g} s', sent)

    async def iq_set_error(self, to, payload_el, what, timeout=T):
        """Sends an IQ set that must fail; returns (sent, error iq) or raises Fail."""
        iq = self.make_iq_set(ito=to)
        iq.append(payload_el)
        sent = copy.deepcopy(iq.xml)
        try:
            res = await iq.send(timeout=timeout)
            raise Fail(f'{what}: the gateway answered with type=result, want an error', sent, res.xml)
        except IqError as e:
            return sent, e.iq.xml
        except IqTimeout:
            raise Fail(f'{what}: no answer to the IQ within {timeout:g} s', sent)

    async def disco_info(self, jid, node=None, timeout=T):
        """(sent, reply) of a disco#info get; the reply may be an error."""
        iq = self.make_iq_get(queryxmlns=NS_DISCO, ito=jid)
        if node:
            iq.xml.find(q(NS_DISCO, 'query')).set('node', node)
        sent = copy.deepcopy(iq.xml)
        try:
            res = await iq.send(timeout=timeout)
            return sent, res.xml
        except IqError as e:
            return sent, e.iq.xml
        except IqTimeout:
            raise Fail(f'disco#info to {jid}: no answer within {timeout:g} s', sent)

    def send_jmi(self, to, el, store=True):
        m = self.make_message(mto=to, mtype='chat')
        m['id'] = rand_token(12)
        m.append(el)
        if store:
            m.append(E(NS_HINTS, 'store'))
        m.send()
        return copy.deepcopy(m.xml)

    async def quit(self):
        try:
            self.disconnect(wait=0.5)
            await asyncio.wait_for(self.disconnected, 2)
        except Exception:  # noqa: BLE001
            self.abort()


async def login_all(users):
    """users: [(user, resource)] -> [Peer] logged in."""
    peers = [Peer(u, r) for u, r in users]
    await asyncio.gather(*(p.login() for p in peers))
    return peers


async def wait_for_component(peer, timeout=10.0):
    """Polls disco#info on the gateway's domain until it answers with a result. Returns the time
    it took, or raises Fail."""
    start = time.monotonic()
    last = None
    while time.monotonic() - start < timeout:
        try:
            _, res = await peer.disco_info(GW, timeout=1.5)
            last = res
            if res.get('type') == 'result':
                return time.monotonic() - start
        except Fail as e:
            last = e.details[0] if e.details else None
        await asyncio.sleep(0.25)
    raise Fail(f'disco#info on {GW} got no result within {timeout:g} s: the component is not connected '
               f'(Prosody answers for a component that is not there)', *([last] if last is not None else []))


# ---------------------------------------------------------------------------------------------
# browser-protocol client

class Browser:
    def __init__(self, url, label='web'):
        self.url = url
        self.label = label
        self.inbox = []
        self.arrived = asyncio.Event()
        self.closed = False
        self.id = None
        self.ws = None
        self.reader = None
        self._ref = 0

    async def open(self):
        self.ws = await websockets.connect(self.url, proxy=None, open_timeout=5, max_size=2**20)
        welcome = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
        trace(f'{self.label} <<', json.dumps(welcome))
        if welcome.get('type') != 'welcome':
            raise Fail(f'{self.label}: first message is not welcome', welcome)
        self.id = welcome['id']
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self):
        try:
            async for raw in self.ws:
                trace(f'{self.label} <<', raw)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    msg = {'type': '?', 'raw': raw}
                self.inbox.append([msg, False])
                self.arrived.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed = True
            self.arrived.set()

    async def send(self, **msg):
        raw = json.dumps(msg)
        trace(f'{self.label} >>', raw)
        await self.ws.send(raw)

    def forget(self):
        for e in self.inbox:
            e[1] = True

    def recent(self, n=4):
        return [e[0] for e in self.inbox if not e[1]][-n:]

    async def expect(self, pred, what, timeout=T):
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout
        while True:
            for e in self.inbox:
                if not e[1] and pred(e[0]):
                    e[1] = True
                    return e[0]
            left = deadline - loop.time()
            if left <= 0 or self.closed:
                rec = self.recent()
                raise Fail(f'browser {self.label} got no {what} within {timeout:g} s'
                           + (' (its WebSocket closed)' if self.closed else '')
                           + (f'; {len(rec)} other message(s) it got meanwhile follow' if rec else
                              ' (and nothing else either)'), *rec)
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def expect_type(self, typ, session=None, timeout=T):
        return await self.expect(lambda m: m.get('type') == typ and (session is None or m.get('session') == session),
                                 f'`{typ}`' + (f' in session {session}' if session else ''), timeout)

    def peek(self, pred):
        return [e[0] for e in self.inbox if not e[1] and pred(e[0])]

    async def register(self, name):
        self._ref += 1
        ref = f'r{self._ref}'
        await self.send(type='register', name=name, ref=ref)
        m = await self.expect(lambda m: m.get('ref') == ref, f'reply to register {name}')
        if m.get('type') != 'registered':
            raise Fail(f'register {name} refused', m)
        return m

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            try:
                await asyncio.wait_for(self.reader, 3)
            except Exception:  # noqa: BLE001
                pass
