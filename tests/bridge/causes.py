"""The hangup cause table (protocols/bridge/MAPPING.md) across every ordered pair of protocols, with
real peers: browser-protocol WebSocket clients (tests/xmpp/xmpp_common.py Browser), sipp (one
generated scenario per status code), and slixmpp accounts x01..xNN@localhost on Prosody (created by
run_causes.sh). `switchboard serve --http 127.0.0.1:8100 --sip 127.0.0.1:5080 --ring-timeout 3
--xmpp-* ...` runs in between (run_causes.sh starts everything in a private network namespace).

    python causes.py --work DIR [--trace FILE] [--accounts N] [--only GROUP,...] [--jobs N]

For every ordered pair (caller side, callee side) among browser, SIP and XMPP:
  causes    the callee ends the unanswered call with every cause it can express (browser `hangup`
            with the 12 reason words; sipp UAS 180 then 486 600 603 404 604 480 410 408 488 606 500
            503 302; Jingle session-initiate answered by session-info ringing then session-terminate
            with busy decline timeout gone incompatible-parameters unsupported-applications
            security-error connectivity-error failed-application general-error success, and the same
            conditions in a JMI reject to a bare JID); the caller must see what MAPPING.md's table
            gives: the callee protocol's "received" column, then the caller protocol's "sent" column
            (browser reason word and sipCode, SIP final response, Jingle condition and <text/>).
  answered  an answered call hung up by the caller, and by the callee, ends normally on the other
            side (SIP BYE, session-terminate <success/>, browser hangup `normal`).
  cancel    the caller gives up while the callee rings (browser hangup, SIP CANCEL, Jingle
            session-terminate <cancel/>, JMI retract): the callee sees cancel (browser `cancel`, SIP
            CANCEL, session-terminate <cancel/> or JMI retract <cancel/>).
  timeout   nobody answers: after --ring-timeout (3 s) the caller gets timeout (browser `timeout`,
            SIP 480, Jingle <timeout/>) and the callee is told (browser `timeout`, SIP CANCEL, Jingle
            <timeout/> or JMI retract <timeout/>), as BRIDGE.md says.
and GET /api/calls lists none of a call's parties once it ended (checked after each call, reported
per group), and is {"calls":[]} at the end.

Calls run concurrently (--jobs); results are printed in a fixed order, one line per check:
`PASS name` / `FAIL name (why)` with details indented `    | `, then `causes: N passed, M failed`.
"""
import argparse
import asyncio
import json
import os
import re
import sys
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SIPP_DIR = os.path.join(TESTS, 'sipp')
sys.path.insert(0, os.path.join(TESTS, 'xmpp'))

from xmpp_common import (  # noqa: E402
    GW, NS_INFO, NS_JINGLE, NS_JMI, NS_RTP, Browser, E, Fail, Ice, Peer, accept_for, browser_answer,
    browser_candidates, chromium_offer, fmt, jingle, jingle_of, jmi, local, new_sid, q, rand_token,
    reason_el, reason_of, session_initiate_audio, setup_trace, trace, wait_for_component)

SIP_GW = '127.0.0.1:5080'
HTTP = '127.0.0.1:8100'
WS = f'ws://{HTTP}/ws'
RING = 3.0  # --ring-timeout of run_causes.sh
RING_LO, RING_HI = RING - 0.5, RING + 2.5
STEP = 6.0  # seconds to wait for one expected event

# ---------------------------------------------------------------------------------------------
# MAPPING.md, as data: word -> (SIP code sent, Jingle condition sent, Jingle <text/> sent)

SENT = {
    'normal': (603, 'success', None),
    'busy': (486, 'busy', None),
    'decline': (603, 'decline', None),
    'timeout': (480, 'timeout', None),
    'cancel': (603, 'cancel', None),
    'not-found': (404, 'gone', None),
    'unavailable': (480, 'gone', None),
    'incompatible': (488, 'incompatible-parameters', None),
    'security-error': (603, 'security-error', None),
    'connectivity-error': (603, 'connectivity-error', None),
    'redirected': (603, 'success', 'redirected'),
    'failed': (500, 'failed-application', None),
}
WORDS = list(SENT)
SIP_RECEIVED = {486: 'busy', 600: 'busy', 603: 'decline', 408: 'timeout', 487: 'cancel', 404: 'not-found',
                604: 'not-found', 480: 'unavailable', 410: 'unavailable', 488: 'incompatible', 606: 'incompatible'}
JINGLE_RECEIVED = {None: 'normal', 'success': 'normal', 'busy': 'busy', 'decline': 'decline', 'timeout': 'timeout',
                   'expired': 'timeout', 'cancel': 'cancel', 'gone': 'unavailable',
                   'incompatible-parameters': 'incompatible', 'unsupported-applications': 'incompatible',
                   'unsupported-transports': 'incompatible', 'security-error': 'security-error',
                   'connectivity-error': 'connectivity-error', 'failed-transport': 'connectivity-error'}


def word_of_sip(code):
    if code in SIP_RECEIVED:
        return SIP_RECEIVED[code]
    return 'redirected' if 300 <= code <= 399 else 'failed'


def word_of_jingle(cond):
    return JINGLE_RECEIVED.get(cond, 'failed')


# MAPPING.md, "Refusing and withdrawing an unanswered call": a callee's `normal` refusal is Jingle
# <decline/> (SIP already says 603 Decline), and a JMI reject without a reason or with <success/>
# is a decline.
def refusal_condition(word):
    return ('decline', None) if word == 'normal' else SENT[word][1:]


def word_of_reject(cond):
    return 'decline' if cond in (None, 'success') else word_of_jingle(cond)


SIP_CODES = [(486, 'Busy Here'), (600, 'Busy Everywhere'), (603, 'Decline'), (404, 'Not Found'),
             (604, 'Does Not Exist Anywhere'), (480, 'Temporarily Unavailable'), (410, 'Gone'),
             (408, 'Request Timeout'), (488, 'Not Acceptable Here'), (606, 'Not Acceptable'),
             (500, 'Server Internal Error'), (503, 'Service Unavailable'), (302, 'Moved Temporarily')]
CONDITIONS = ['busy', 'decline', 'timeout', 'gone', 'incompatible-parameters', 'unsupported-applications',
              'security-error', 'connectivity-error', 'failed-application', 'general-error', 'success']

# ---------------------------------------------------------------------------------------------
# sipp: scenarios generated here (sipp reads a response's status code when it loads a scenario)

SDP_OFFER = '''v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv
'''

UAC_EXPECT = '''<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- causes.py: UAC whose INVITE (SDP offer) must end with @CODE@ (100/180/183 optional; any other
     final response fails the call), ACKed with the INVITE's branch and the response's To tag. -->
<scenario name="causes: UAC expecting @CODE@">
  <send retrans="500" start_txn="invite">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "causes" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Subject: causes expect @CODE@
      Content-Type: application/sdp
      Content-Length: [len]

      @SDP@
    ]]>
  </send>
  <recv response="100" response_txn="invite" optional="true"/>
  <recv response="180" response_txn="invite" optional="true"/>
  <recv response="183" response_txn="invite" optional="true"/>
  <recv response="@CODE@" response_txn="invite" rtd="true">
    <action>
      <ereg regexp="branch=[^;, ]+" search_in="hdr" header="Via:" check_it="true" assign_to="inv_branch"/>
    </action>
  </recv>
  <send ack_txn="invite">
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];[$inv_branch]
      From: "causes" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="300"/>
</scenario>
'''

UAS_HEAD = '''<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="@NAME@">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="m=audio [0-9]+ [A-Z/]+ [0-9 ]+" search_in="body" check_it="true" assign_to="offer_m"/>
      <log message="[call_id] offer [$offer_m]"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="Via:" check_it="true" assign_to="inv_via"/>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="true" assign_to="inv_cseq"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 100 Trying
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:u@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
'''

# UAS: 100, 180, then @CODE@ @PHRASE@ (retransmitted until the ACK), ACK required.
UAS_REJECT = UAS_HEAD + '''  <pause milliseconds="150"/>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 @CODE@ @PHRASE@
      Via: [$inv_via]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$inv_cseq] INVITE
@CONTACT@      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" rtd="true" crlf="true"/>
</scenario>
'''

# UAS: 100, 180, then a CANCEL is required (within 15 s): 200 for it, 487 for the INVITE, ACK.
UAS_RING_CANCEL = UAS_HEAD + '''  <recv request="CANCEL" timeout="15000"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 487 Request Terminated
      Via: [$inv_via]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$inv_cseq] INVITE
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" rtd="true" crlf="true"/>
</scenario>
'''


def scenario(work, kind, code=None, phrase=''):
    path = os.path.join(work, f'causes_{kind}{"_" + str(code) if code else ""}.xml')
    if os.path.exists(path):
        return path
    if kind == 'uac_expect':
        text = UAC_EXPECT.replace('@SDP@', SDP_OFFER.strip())
    elif kind == 'uas_reject':
        contact = '      Contact: <sip:moved@127.0.0.1:5999>\n' if 300 <= code <= 399 else ''
        text = UAS_REJECT.replace('@NAME@', f'causes: UAS 180 then {code}').replace('@CONTACT@', contact)
    elif kind == 'uas_ring_cancel':
        text = UAS_RING_CANCEL.replace('@NAME@', 'causes: UAS 180 then CANCEL, 200, 487, ACK')
    else:
        raise ValueError(kind)
    text = text.replace('@CODE@', str(code)).replace('@PHRASE@', phrase)
    with open(path, 'w') as f:
        f.write(text)
    return path


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
    """One sipp process, one call; logs in WORK/LABEL.*"""
    next_port = 5300
    next_media = 21000

    def __init__(self, work, label, scen, service=None, extra=()):
        Sipp.next_port += 1
        Sipp.next_media += 10
        self.port = Sipp.next_port
        self.label = label
        self.base = b = os.path.join(work, label)
        self.args = ['sipp'] + ([SIP_GW, '-s', service] if service is not None else []) + [
            '-sf', scen, '-i', '127.0.0.1', '-p', str(self.port), '-t', 'u1', '-m', '1',
            '-mi', '127.0.0.1', '-mp', str(Sipp.next_media), '-nostdin', '-timeout', '30s',
            '-trace_err', '-error_file', b + '.err', '-trace_screen', '-screen_file', b + '.screen',
            '-trace_msg', '-message_file', b + '.msg', '-trace_logs', '-log_file', b + '.log'] + list(extra)
        self.proc = None
        self.rc = None
        self.t0 = self.t_end = None

    async def start(self):
        trace('sipp start', self.label, ' '.join(self.args))
        with open(self.base + '.out', 'w') as out:
            self.proc = await asyncio.create_subprocess_exec(*self.args, stdin=asyncio.subprocess.DEVNULL,
                                                             stdout=out, stderr=asyncio.subprocess.STDOUT)
        self.t0 = time.monotonic()
        for _ in range(60):  # a UAS must listen before the gateway sends it the INVITE
            if udp_bound(self.port) or self.proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        return self

    async def wait(self, timeout):
        if self.rc is not None:
            return self.rc
        try:
            self.rc = await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            await self.stop()
            self.rc = 'timeout'
        self.t_end = time.monotonic()
        trace('sipp end', self.label, 'rc', self.rc)
        return self.rc

    async def stop(self):
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    def _msgs(self):
        try:
            with open(self.base + '.msg', errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def finals(self):
        """(code, phrase) of every final response sipp received."""
        got = re.findall(r'message received \[\d+\] bytes :\s*SIP/2\.0 (\d{3}) ([^\r\n]*)', self._msgs())
        return [(int(c), p.strip()) for c, p in got if int(c) >= 200]

    def requests(self):
        return re.findall(r'message received \[\d+\] bytes :\s*([A-Z]+) sip:', self._msgs())

    def problems(self, what):
        if self.rc == 0:
            return []
        p = [f'sipp ({what}) exit status {self.rc} (0: the scenario ran as scripted)']
        f = self.finals()
        if f:
            p.append('final responses received: ' + ', '.join(f'{c} {ph}' for c, ph in f))
        r = self.requests()
        if r:
            p.append('requests received: ' + ', '.join(r))
        return p

    def details(self, n=30):
        out = [f'--- sipp {self.label} rc={self.rc}: ' + ' '.join(self.args[:10]) + ' ...']
        for ext, k in (('.out', 5), ('.err', 10)):
            try:
                with open(self.base + ext, errors='replace') as f:
                    lines = [ln.rstrip() for ln in f if ln.strip()]
            except OSError:
                continue
            if lines:
                out.append(f'--- {self.label}{ext}')
                out += [ln[:300] for ln in lines[-k:]]
        lines = [ln for ln in self._msgs().replace('\r', '').split('\n') if ln.strip()]
        if lines:
            out.append(f'--- {self.label}.msg (last {n} lines)')
            out += lines[-n:]
        return ['\n'.join(out)]


def sip_jid(port):
    """The component JID of sip:u@127.0.0.1:PORT (XEP-0106)."""
    return f'u\\40127.0.0.1\\3a{port}@{GW}'


# ---------------------------------------------------------------------------------------------
# /api/calls

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_calls():
    with _opener.open(f'http://{HTTP}/api/calls', timeout=3) as r:
        return r.status, r.read().decode(errors='replace')


async def api_calls():
    try:
        status, body = await asyncio.to_thread(_get_calls)
    except Exception as e:  # noqa: BLE001
        return None, f'GET /api/calls failed: {type(e).__name__}: {e}'
    try:
        doc = json.loads(body)
    except ValueError:
        return None, f'HTTP {status} {body}'
    if not isinstance(doc, dict) or not isinstance(doc.get('calls'), list):
        return None, f'HTTP {status} {body} (not {{"calls":[...]}})'
    return doc, body


def mentions(call, tokens):
    text = json.dumps(call)
    for t in tokens:
        if t.startswith(':'):
            if re.search(re.escape(t) + r'(?!\d)', text):
                return True
        elif t in text:
            return True
    return False


# ---------------------------------------------------------------------------------------------
# checks and cases

class Case:
    """One call (or two legs of one call) with its checks, in order. `done` records a result; when
    the case raises, the check being worked on gets the failure and the others `not reached`."""

    def __init__(self, group, checks):
        self.group = group
        self.order = [k for k, _ in checks]
        self.names = dict(checks)
        self.res = {}
        self.tokens = []
        self.cleanups = []
        self.leftover = None

    def done(self, key, problems=(), *details, note=''):
        problems = [p for p in problems if p]
        self.res[key] = (not problems, '; '.join(problems) if problems else note, details if problems else ())

    def ok(self, key, note=''):
        self.done(key, [], note=note)

    def fail_rest(self, why, details):
        first = True
        for k in self.order:
            if k not in self.res:
                if first:
                    self.res[k] = (False, why, details)
                    first = False
                else:
                    self.res[k] = (False, f'not reached: {why[:120]}', ())

    def track(self, *tokens):
        self.tokens += [t for t in tokens if t]

    def cleanup(self, fn):
        self.cleanups.append(fn)


class Pool:
    """slixmpp accounts x01..xNN@localhost/res, one case at a time each."""

    def __init__(self, peers):
        self.q = asyncio.Queue()
        for p in peers:
            self.q.put_nowait(p)

    async def get(self, case):
        p = await self.q.get()
        p.forget()
        case.track(p.bare_jid)

        async def give_back():
            await asyncio.sleep(0.3)  # late stanzas of this call arrive before the next case
            p.forget()
            self.q.put_nowait(p)
        case.cleanup(give_back)
        return p


class Ctx:
    pass


async def run_case(c, case, fn, limit=30.0):
    async with c.sem:
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(fn(case), limit)
        except Fail as e:
            case.fail_rest(e.why, e.details)
        except asyncio.TimeoutError:
            case.fail_rest(f'the case did not end within {limit:g} s', ())
        except Exception as e:  # noqa: BLE001
            case.fail_rest(f'test error {type(e).__name__}: {e}', [traceback.format_exc()[-2500:]])
        case.fail_rest('not reached', ())
        for fn2 in reversed(case.cleanups):
            try:
                await asyncio.wait_for(fn2(), 5)
            except Exception:  # noqa: BLE001
                pass
        # no call of this case's parties may be left in /api/calls
        if case.tokens:
            deadline = time.monotonic() + 4
            while True:
                doc, raw = await api_calls()
                left = [x for x in doc['calls'] if mentions(x, case.tokens)] if doc else None
                if left == [] or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            if left:
                case.leftover = f'{case.names[case.order[0]]}: {json.dumps(left)}'
            elif left is None:
                case.leftover = f'{case.names[case.order[0]]}: {raw}'
        trace(f'case done in {time.monotonic() - t0:.1f} s:', case.names[case.order[0]])


# ---------------------------------------------------------------------------------------------
# the three sides

_bcount = 0


async def browser(case, label, name=None):
    global _bcount
    _bcount += 1
    b = Browser(WS, f'{label}{_bcount}')
    await b.open()
    case.track(b.id)
    case.cleanup(b.close)
    if name:
        await b.register(name)
        case.track(name)
    return b


def uniq(prefix):
    return f'{prefix}{rand_token(6).lower()}'


async def browser_call(b, to):
    """A browser offer (a real Chromium audio offer) to TO, its candidates and end of candidates."""
    session = new_sid('cs')
    sdp, parsed = chromium_offer(('audio',))
    await b.send(type='offer', to=to, session=session, sdp=sdp)
    for cand in browser_candidates(parsed):
        await b.send(type='candidate', session=session, candidate=cand)
    await b.send(type='candidate', session=session, candidate=None)
    return session


async def browser_incoming(b):
    m = await b.expect(lambda m: m.get('type') == 'offer', 'incoming `offer`', STEP)
    return m['session'], m


async def browser_answer_call(b, session, offer):
    sdp, parsed, _ = browser_answer(offer['sdp'])
    await b.send(type='answer', session=session, sdp=sdp)
    s = parsed.sections[0]
    cand = {'candidate': f'candidate:1 1 udp 2122260223 127.0.0.1 {40000 + len(session) * 7 % 9000} typ host generation 0',
            'sdpMLineIndex': 0, 'usernameFragment': s.ufrag}
    if s.mid:
        cand['sdpMid'] = s.mid
    await b.send(type='candidate', session=session, candidate=cand)
    await b.send(type='candidate', session=session, candidate=None)


async def browser_end(b, session, timeout=STEP):
    return await b.expect(lambda m: m.get('type') in ('hangup', 'error') and m.get('session') in (session, None),
                          f'`hangup` in session {session}', timeout)


def hangup_problems(m, want_reason, want_code=None):
    p = []
    if m.get('type') != 'hangup':
        return [f'got {m.get("type")} {json.dumps(m)[:200]}, want hangup']
    if m.get('reason') != want_reason:
        p.append(f'reason {m.get("reason")!r}, want {want_reason!r}')
    if want_code is not None and m.get('sipCode') != want_code:
        p.append(f'sipCode {m.get("sipCode")!r}, want {want_code}')
    return p


_ice_port = 30000


def ice():
    global _ice_port
    _ice_port += 4
    return Ice(_ice_port)


async def xmpp_call(p, to, how='direct'):
    """P calls TO: session-initiate (direct), or JMI propose to the bare JID, proceed, session-initiate
    to the full JID that proceeded. Returns (sid, the JID the session is with)."""
    sid = new_sid('xc')
    if how == 'jmi':
        p.send_jmi(to.split('/')[0], jmi('propose', sid, [E(NS_RTP, 'description', {'media': 'audio'})]))
        msg = await p.expect(lambda el: local(el.tag) == 'message' and any(
            x.get('id') == sid and x.tag in (q(NS_JMI, 'proceed'), q(NS_JMI, 'reject')) for x in el),
            f'JMI proceed (id {sid})', STEP)
        if msg.find(q(NS_JMI, 'reject')) is not None:
            raise Fail('JMI reject instead of proceed', msg)
        to = msg.get('from') or to
    await p.iq_set(to, session_initiate_audio(sid, p.full, ice()), 'session-initiate', timeout=STEP)
    return sid, to


async def xmpp_incoming(p, how):
    """The gateway's call to P: ('jmi', from, sid, message) for a propose (bare JID), or
    ('jingle', from, sid, jingle) for a session-initiate (full JID; acked by Peer)."""
    if how == 'bare':
        msg, prop = await p.expect_jmi('propose', None, STEP)
        return msg.get('from'), prop.get('id'), msg
    iq, j = await p.expect_jingle('session-initiate', None, STEP)
    return iq.get('from'), j.get('sid'), j


async def xmpp_ring(p, frm, sid, how):
    if how == 'bare':
        p.send_jmi(frm, jmi('ringing', sid), store=False)
    else:
        await p.iq_set(frm, jingle('session-info', sid, children=[E(NS_INFO, 'ringing')]), 'session-info',
                       timeout=STEP)


async def xmpp_terminate(p, to, sid, cond):
    await p.iq_set(to, jingle('session-terminate', sid, children=[reason_el(cond)]), 'session-terminate',
                   timeout=STEP)


def reason_text(el):
    r = el.find(q(NS_JINGLE, 'reason')) if el is not None else None
    t = r.find(q(NS_JINGLE, 'text')) if r is not None else None
    return t.text if t is not None else None


async def xmpp_end(p, sid, timeout=STEP):
    """The next session-terminate or JMI retract of SID: (kind, condition, text, element)."""
    def pred(el):
        if local(el.tag) == 'message':
            return any(x.tag == q(NS_JMI, 'retract') and x.get('id') == sid for x in el)
        j = jingle_of(el) if local(el.tag) == 'iq' else None
        return j is not None and j.get('action') == 'session-terminate' and j.get('sid') == sid
    el = await p.expect(pred, f'session-terminate or JMI retract (sid {sid})', timeout)
    if local(el.tag) == 'message':
        x = el.find(q(NS_JMI, 'retract'))
        return 'retract', reason_of(x)[0], reason_text(x), el
    j = jingle_of(el)
    return 'session-terminate', reason_of(j)[0], reason_text(j), el


def jingle_problems(kind, cond, text, want_cond, want_text, want_kind='session-terminate'):
    p = []
    if want_kind and kind != want_kind:
        p.append(f'{kind}, want {want_kind}')
    if cond != want_cond:
        p.append(f'{kind} reason <{cond}/>, want <{want_cond}/>')
    if text != want_text:
        p.append(f'<text/> {text!r}, want {want_text!r}')
    return p


async def terminate_quietly(p, to, sid):
    try:
        await p.iq_set(to, jingle('session-terminate', sid, children=[reason_el('success')]), 'cleanup', timeout=1)
    except Fail:
        pass


# ---------------------------------------------------------------------------------------------
# group 1: causes

def causes_cases(c):
    cases = []

    # callee browser: hangup with each word
    for word in WORDS:
        code = SENT[word][0]
        cond, text = refusal_condition(word)
        # SIP caller
        name = f'cause sip->browser: browser callee rings, hangup reason `{word}` -> sipp caller gets {code}'

        async def s2b(case, word=word, code=code):
            nm = uniq('cb')
            b = await browser(case, 'callee', nm)
            s = Sipp(c.work, f'c-s2b-{word}', scenario(c.work, 'uac_expect', code), service=nm,
                     extra=['-recv_timeout', '10s'])
            case.track(f':{s.port}')
            case.cleanup(s.stop)
            await s.start()
            session, _ = await browser_incoming(b)
            await b.send(type='ringing', session=session)
            await asyncio.sleep(0.1)
            await b.send(type='hangup', session=session, reason=word)
            await s.wait(12)
            case.done('row', s.problems(f'expecting {code}'), *s.details(20),
                      note=' '.join(f'{x} {y}' for x, y in s.finals()))
        cases.append(('causes', [('row', name)], s2b))

        # XMPP caller
        want = f'<{cond}/>' + (f' + <text>{text}</text>' if text else '')
        name = f'cause xmpp->browser: browser callee rings, hangup reason `{word}` -> Jingle caller gets session-terminate {want}'

        async def x2b(case, word=word, cond=cond, text=text):
            nm = uniq('cb')
            b = await browser(case, 'callee', nm)
            p = await c.pool.get(case)
            sid, to = await xmpp_call(p, f'{nm}@{GW}')
            case.cleanup(lambda: terminate_quietly(p, to, sid))
            session, _ = await browser_incoming(b)
            await b.send(type='ringing', session=session)
            await asyncio.sleep(0.1)
            await b.send(type='hangup', session=session, reason=word)
            kind, got, gtext, el = await xmpp_end(p, sid)
            case.done('row', jingle_problems(kind, got, gtext, cond, text), el)
        cases.append(('causes', [('row', name)], x2b))

    # callee SIP: each final response
    for code, phrase in SIP_CODES:
        word = word_of_sip(code)
        _, cond, text = SENT[word]
        name = (f'cause browser->sip: sipp callee 180 then {code} {phrase} -> browser caller gets hangup reason '
                f'`{word}`, sipCode {code}')

        async def b2s(case, code=code, phrase=phrase, word=word):
            uas = Sipp(c.work, f'c-b2s-{code}', scenario(c.work, 'uas_reject', code, phrase))
            case.track(f':{uas.port}')
            case.cleanup(uas.stop)
            await uas.start()
            b = await browser(case, 'caller')
            session = await browser_call(b, f'sip:u@127.0.0.1:{uas.port}')
            try:
                m = await browser_end(b, session)
            except Fail as e:
                await uas.wait(1)
                raise Fail(e.why, *e.details, *uas.details()) from None
            await uas.wait(5)
            case.done('row', hangup_problems(m, word, code) + uas.problems(f'UAS sending {code}'), m,
                      *uas.details(20))
        cases.append(('causes', [('row', name)], b2s))

        want = f'<{cond}/>' + (f' + <text>{text}</text>' if text else '')
        name = f'cause xmpp->sip: sipp callee 180 then {code} {phrase} -> Jingle caller gets session-terminate {want}'

        async def x2s(case, code=code, phrase=phrase, cond=cond, text=text):
            uas = Sipp(c.work, f'c-x2s-{code}', scenario(c.work, 'uas_reject', code, phrase))
            case.track(f':{uas.port}')
            case.cleanup(uas.stop)
            await uas.start()
            p = await c.pool.get(case)
            sid, to = await xmpp_call(p, sip_jid(uas.port))
            case.cleanup(lambda: terminate_quietly(p, to, sid))
            try:
                kind, got, gtext, el = await xmpp_end(p, sid)
            except Fail as e:
                await uas.wait(1)
                raise Fail(e.why, *e.details, *uas.details()) from None
            await uas.wait(5)
            case.done('row', jingle_problems(kind, got, gtext, cond, text) + uas.problems(f'UAS sending {code}'),
                      el, *uas.details(20))
        cases.append(('causes', [('row', name)], x2s))

    # callee XMPP: session-terminate (full JID, direct session-initiate) and JMI reject (bare JID)
    for how in ('full', 'bare'):
        for cond in CONDITIONS:
            word = word_of_jingle(cond) if how == 'full' else word_of_reject(cond)
            code = SENT[word][0]
            act = (f'session-initiate to the full JID, session-info <ringing/>, session-terminate <{cond}/>'
                   if how == 'full' else f'JMI propose to the bare JID, JMI ringing, JMI reject <{cond}/>')

            async def xmpp_callee(case, p, how=how, cond=cond):
                """Returns what the callee sent to end the call (for the details)."""
                frm, sid, _ = await xmpp_incoming(p, how)
                await xmpp_ring(p, frm, sid, how)
                await asyncio.sleep(0.1)
                if how == 'bare':
                    return p.send_jmi(frm, jmi('reject', sid, [reason_el(cond)]), store=False)
                await xmpp_terminate(p, frm, sid, cond)
                return jingle('session-terminate', sid, children=[reason_el(cond)])

            name = f'cause browser->xmpp: XMPP callee {act} -> browser caller gets hangup reason `{word}`'

            async def b2x(case, how=how, word=word, xmpp_callee=xmpp_callee):
                p = await c.pool.get(case)
                b = await browser(case, 'caller')
                to = f'xmpp:{p.bare_jid}' + ('/res' if how == 'full' else '')
                session = await browser_call(b, to)
                sent = await xmpp_callee(case, p)
                m = await browser_end(b, session)
                case.done('row', hangup_problems(m, word), 'sent: ' + fmt(sent), 'got: ' + fmt(m))
            cases.append(('causes', [('row', name)], b2x))

            name = f'cause sip->xmpp: XMPP callee {act} -> sipp caller gets {code}'

            async def s2x(case, how=how, code=code, xmpp_callee=xmpp_callee):
                p = await c.pool.get(case)
                service = p.user + '%40localhost' + ('%2Fres' if how == 'full' else '')
                s = Sipp(c.work, f'c-s2x-{how}-{p.user}-{code}-{rand_token(3)}', scenario(c.work, 'uac_expect', code),
                         service=service, extra=['-recv_timeout', '10s'])
                case.track(f':{s.port}')
                case.cleanup(s.stop)
                await s.start()
                try:
                    sent = await xmpp_callee(case, p)
                except Fail as e:
                    await s.wait(1)
                    raise Fail(e.why, *e.details, *s.details()) from None
                await s.wait(12)
                case.done('row', s.problems(f'expecting {code}'), 'sent: ' + fmt(sent), *s.details(20),
                          note=' '.join(f'{x} {y}' for x, y in s.finals()))
            cases.append(('causes', [('row', name)], s2x))
    return cases


# ---------------------------------------------------------------------------------------------
# group 2: answered calls, hung up by either side

def answered_cases(c):
    cases = []
    for by in ('caller', 'callee'):
        # browser -> SIP
        async def b2s(case, by=by):
            uas = Sipp(c.work, f'a-b2s-{by}', os.path.join(SIPP_DIR, 'uas_answer.xml' if by == 'caller' else 'uas_bye.xml'),
                       extra=['-d', '100' if by == 'caller' else '1000'])
            case.track(f':{uas.port}')
            case.cleanup(uas.stop)
            await uas.start()
            b = await browser(case, 'caller')
            session = await browser_call(b, f'sip:u@127.0.0.1:{uas.port}')
            try:
                await b.expect(lambda m: m.get('type') == 'answer' and m.get('session') == session, '`answer`', STEP)
            except Fail as e:
                await uas.wait(1)
                raise Fail(e.why, *e.details, *uas.details()) from None
            if by == 'caller':
                await asyncio.sleep(0.5)
                await b.send(type='hangup', session=session, reason='normal')
                await uas.wait(6)
                case.done('row', uas.problems('uas_answer.xml: BYE required'), *uas.details())
            else:
                m = await browser_end(b, session)
                await uas.wait(5)
                case.done('row', hangup_problems(m, 'normal') + uas.problems('uas_bye.xml'), m, *uas.details())
        cases.append(('answered', [('row', f'answered browser->sip, {by} hangs up: ' + (
            'browser hangup -> sipp callee gets BYE' if by == 'caller' else
            'sipp callee BYE -> browser caller gets hangup reason `normal`'))], b2s))

        # browser -> XMPP (full JID)
        async def b2x(case, by=by):
            p = await c.pool.get(case)
            b = await browser(case, 'caller')
            session = await browser_call(b, f'xmpp:{p.full}')
            frm, sid, j = await xmpp_incoming(p, 'full')
            case.cleanup(lambda: terminate_quietly(p, frm, sid))
            await p.iq_set(frm, accept_for(j, p.full, ice()), 'session-accept', timeout=STEP)
            await b.expect(lambda m: m.get('type') == 'answer' and m.get('session') == session, '`answer`', STEP)
            await asyncio.sleep(0.3)
            if by == 'caller':
                await b.send(type='hangup', session=session, reason='normal')
                kind, got, gtext, el = await xmpp_end(p, sid)
                case.done('row', jingle_problems(kind, got, gtext, 'success', None), el)
            else:
                await xmpp_terminate(p, frm, sid, 'success')
                m = await browser_end(b, session)
                case.done('row', hangup_problems(m, 'normal'), m)
        cases.append(('answered', [('row', f'answered browser->xmpp, {by} hangs up: ' + (
            'browser hangup -> XMPP callee gets session-terminate <success/>' if by == 'caller' else
            'XMPP callee session-terminate <success/> -> browser caller gets hangup reason `normal`'))], b2x))

        # SIP -> browser
        async def s2b(case, by=by):
            nm = uniq('cb')
            b = await browser(case, 'callee', nm)
            s = Sipp(c.work, f'a-s2b-{by}', os.path.join(SIPP_DIR, 'uac_call_bye.xml' if by == 'caller' else 'uac_call_remote_bye.xml'),
                     service=nm, extra=['-d', '800', '-recv_timeout', '10s'])
            case.track(f':{s.port}')
            case.cleanup(s.stop)
            await s.start()
            session, offer = await browser_incoming(b)
            await b.send(type='ringing', session=session)
            await browser_answer_call(b, session, offer)
            if by == 'caller':
                m = await browser_end(b, session, 8)
                await s.wait(5)
                case.done('row', hangup_problems(m, 'normal') + s.problems('uac_call_bye.xml'), m, *s.details())
            else:
                await asyncio.sleep(1.0)
                await b.send(type='hangup', session=session, reason='normal')
                await s.wait(8)
                case.done('row', s.problems('uac_call_remote_bye.xml: BYE required'), *s.details())
        cases.append(('answered', [('row', f'answered sip->browser, {by} hangs up: ' + (
            'sipp BYE -> browser callee gets hangup reason `normal`' if by == 'caller' else
            'browser callee hangup -> sipp caller gets BYE'))], s2b))

        # SIP -> XMPP (full JID)
        async def s2x(case, by=by):
            p = await c.pool.get(case)
            s = Sipp(c.work, f'a-s2x-{by}-{p.user}', os.path.join(SIPP_DIR, 'uac_call_bye.xml' if by == 'caller' else 'uac_call_remote_bye.xml'),
                     service=f'{p.user}%40localhost%2Fres', extra=['-d', '800', '-recv_timeout', '10s'])
            case.track(f':{s.port}')
            case.cleanup(s.stop)
            await s.start()
            frm, sid, j = await xmpp_incoming(p, 'full')
            case.cleanup(lambda: terminate_quietly(p, frm, sid))
            await p.iq_set(frm, accept_for(j, p.full, ice()), 'session-accept', timeout=STEP)
            if by == 'caller':
                try:
                    kind, got, gtext, el = await xmpp_end(p, sid, 8)
                except Fail as e:
                    await s.wait(1)
                    raise Fail(e.why, *e.details, *s.details()) from None
                await s.wait(5)
                case.done('row', jingle_problems(kind, got, gtext, 'success', None) + s.problems('uac_call_bye.xml'),
                          el, *s.details())
            else:
                await asyncio.sleep(1.0)
                await xmpp_terminate(p, frm, sid, 'success')
                await s.wait(8)
                case.done('row', s.problems('uac_call_remote_bye.xml: BYE required'), *s.details())
        cases.append(('answered', [('row', f'answered sip->xmpp, {by} hangs up: ' + (
            'sipp BYE -> XMPP callee gets session-terminate <success/>' if by == 'caller' else
            'XMPP callee session-terminate <success/> -> sipp caller gets BYE'))], s2x))

        # XMPP -> browser (direct session-initiate)
        async def x2b(case, by=by):
            nm = uniq('cb')
            b = await browser(case, 'callee', nm)
            p = await c.pool.get(case)
            sid, to = await xmpp_call(p, f'{nm}@{GW}')
            case.cleanup(lambda: terminate_quietly(p, to, sid))
            session, offer = await browser_incoming(b)
            await b.send(type='ringing', session=session)
            await browser_answer_call(b, session, offer)
            await p.expect_jingle('session-accept', sid, STEP)
            await asyncio.sleep(0.3)
            if by == 'caller':
                await xmpp_terminate(p, to, sid, 'success')
                m = await browser_end(b, session)
                case.done('row', hangup_problems(m, 'normal'), m)
            else:
                await b.send(type='hangup', session=session, reason='normal')
                kind, got, gtext, el = await xmpp_end(p, sid)
                case.done('row', jingle_problems(kind, got, gtext, 'success', None), el)
        cases.append(('answered', [('row', f'answered xmpp->browser, {by} hangs up: ' + (
            'Jingle caller session-terminate <success/> -> browser callee gets hangup reason `normal`' if by == 'caller' else
            'browser callee hangup -> Jingle caller gets session-terminate <success/>'))], x2b))

        # XMPP -> SIP (direct session-initiate)
        async def x2s(case, by=by):
            uas = Sipp(c.work, f'a-x2s-{by}', os.path.join(SIPP_DIR, 'uas_answer.xml' if by == 'caller' else 'uas_bye.xml'),
                       extra=['-d', '100' if by == 'caller' else '1000'])
            case.track(f':{uas.port}')
            case.cleanup(uas.stop)
            await uas.start()
            p = await c.pool.get(case)
            sid, to = await xmpp_call(p, sip_jid(uas.port))
            case.cleanup(lambda: terminate_quietly(p, to, sid))
            try:
                iq, _ = await p.expect_jingle('session-accept', sid, STEP)
            except Fail as e:
                await uas.wait(1)
                raise Fail(e.why, *e.details, *uas.details()) from None
            if by == 'caller':
                await asyncio.sleep(0.5)
                await xmpp_terminate(p, iq.get('from') or to, sid, 'success')
                await uas.wait(6)
                case.done('row', uas.problems('uas_answer.xml: BYE required'), *uas.details())
            else:
                try:
                    kind, got, gtext, el = await xmpp_end(p, sid, 8)
                except Fail as e:
                    await uas.wait(1)
                    raise Fail(e.why, *e.details, *uas.details()) from None
                await uas.wait(5)
                case.done('row', jingle_problems(kind, got, gtext, 'success', None) + uas.problems('uas_bye.xml'),
                          el, *uas.details())
        cases.append(('answered', [('row', f'answered xmpp->sip, {by} hangs up: ' + (
            'Jingle caller session-terminate <success/> -> sipp callee gets BYE' if by == 'caller' else
            'sipp callee BYE -> Jingle caller gets session-terminate <success/>'))], x2s))
    return cases


# ---------------------------------------------------------------------------------------------
# group 3: the caller cancels while the callee rings; group 4: the ring timeout

def ring_cases(c, mode):
    """mode 'cancel': the caller gives up after the ringing; 'timeout': nobody does anything and the
    gateway's ring timer (RING s) ends the call."""
    cases = []
    g = mode
    tmo = mode == 'timeout'
    wait_end = RING_HI + 1 if tmo else STEP
    callee_word = 'timeout' if tmo else 'cancel'

    def timing(t0):
        took = time.monotonic() - t0
        return took, ([] if RING_LO <= took <= RING_HI else [f'after {took:.1f} s, want {RING:g} s (--ring-timeout)'])

    # browser -> SIP
    async def b2s(case):
        uas = Sipp(c.work, f'{g}-b2s', scenario(c.work, 'uas_ring_cancel'))
        case.track(f':{uas.port}')
        case.cleanup(uas.stop)
        await uas.start()
        b = await browser(case, 'caller')
        t0 = time.monotonic()
        session = await browser_call(b, f'sip:u@127.0.0.1:{uas.port}')
        if tmo:
            m = await browser_end(b, session, wait_end)
            took, p = timing(t0)
            case.done('caller', hangup_problems(m, 'timeout') + p, m, note=f'after {took:.1f} s')
        else:
            await b.expect(lambda m: m.get('type') == 'ringing' and m.get('session') == session, '`ringing`', STEP)
            await asyncio.sleep(0.2)
            await b.send(type='hangup', session=session)
        await uas.wait(6)
        case.done('callee', uas.problems('180, CANCEL required'), *uas.details())
    checks = ([('caller', f'timeout browser->sip: browser caller gets hangup reason `timeout` after ~{RING:g} s')]
              if tmo else [])
    checks.append(('callee', f'{g} browser->sip: ' + (
        'browser caller hangup after `ringing`' if not tmo else 'sipp callee rings') + ' -> sipp callee gets CANCEL (200, 487, ACK)'))
    cases.append((g, checks, b2s))

    # browser -> XMPP, full JID (session-initiate) and bare JID (JMI only)
    for how in ('full', 'bare'):
        want_kind = 'session-terminate' if how == 'full' else 'retract'
        want_el = (f'session-terminate <{callee_word}/>' if how == 'full' else f'JMI retract <{callee_word}/>')

        async def b2x(case, how=how, want_kind=want_kind):
            p = await c.pool.get(case)
            b = await browser(case, 'caller')
            t0 = time.monotonic()
            session = await browser_call(b, f'xmpp:{p.full if how == "full" else p.bare_jid}')
            frm, sid, _ = await xmpp_incoming(p, how)
            if how == 'full':
                case.cleanup(lambda: terminate_quietly(p, frm, sid))
            await xmpp_ring(p, frm, sid, how)
            if tmo:
                m = await browser_end(b, session, wait_end)
                took, pr = timing(t0)
                case.done('caller', hangup_problems(m, 'timeout') + pr, m, note=f'after {took:.1f} s')
            else:
                await b.expect(lambda m: m.get('type') == 'ringing' and m.get('session') == session, '`ringing`', STEP)
                await asyncio.sleep(0.2)
                await b.send(type='hangup', session=session)
            kind, got, gtext, el = await xmpp_end(p, sid)
            case.done('callee', jingle_problems(kind, got, gtext, callee_word, None, want_kind), el)
        checks = ([('caller', f'timeout browser->xmpp ({how} JID): browser caller gets hangup reason `timeout` after ~{RING:g} s')]
                  if tmo else [])
        checks.append(('callee', f'{g} browser->xmpp ({how} JID): ' + (
            'browser caller hangup after `ringing`' if not tmo else 'XMPP callee rings') + f' -> XMPP callee gets {want_el}'))
        cases.append((g, checks, b2x))

    # SIP -> browser
    async def s2b(case):
        nm = uniq('cb')
        b = await browser(case, 'callee', nm)
        if tmo:
            s = Sipp(c.work, f'{g}-s2b', scenario(c.work, 'uac_expect', 480), service=nm, extra=['-recv_timeout', '12s'])
        else:
            s = Sipp(c.work, f'{g}-s2b', os.path.join(SIPP_DIR, 'uac_cancel.xml'), service=nm, extra=['-recv_timeout', '8s'])
        case.track(f':{s.port}')
        case.cleanup(s.stop)
        t0 = time.monotonic()
        await s.start()
        session, _ = await browser_incoming(b)
        await b.send(type='ringing', session=session)
        m = await browser_end(b, session, wait_end)
        await s.wait(6)
        if tmo:
            took = (s.t_end or time.monotonic()) - t0 - 0.3
            pr = s.problems('expecting 480')
            if not pr and not RING_LO <= took <= RING_HI:
                pr.append(f'480 after {took:.1f} s, want {RING:g} s')
            case.done('caller', pr, *s.details(), note=f'after {took:.1f} s')
            case.done('callee', hangup_problems(m, 'timeout'), m)
        else:
            case.done('caller', s.problems('uac_cancel.xml'), *s.details())
            case.done('callee', hangup_problems(m, 'cancel'), m)
    if tmo:
        checks = [('caller', f'timeout sip->browser (browser rings): sipp caller gets 480 after ~{RING:g} s'),
                  ('callee', 'timeout sip->browser: browser callee gets hangup reason `timeout`')]
    else:
        checks = [('caller', 'cancel sip->browser: sipp caller CANCELs after 180 (uac_cancel.xml: 200, 487)'),
                  ('callee', 'cancel sip->browser: browser callee gets hangup reason `cancel`')]
    cases.append((g, checks, s2b))

    # SIP -> XMPP, full and bare JID
    for how in ('full', 'bare'):
        want_kind = 'session-terminate' if how == 'full' else 'retract'
        want_el = (f'session-terminate <{callee_word}/>' if how == 'full' else f'JMI retract <{callee_word}/>')

        async def s2x(case, how=how, want_kind=want_kind):
            p = await c.pool.get(case)
            service = p.user + '%40localhost' + ('%2Fres' if how == 'full' else '')
            if tmo:
                s = Sipp(c.work, f'{g}-s2x-{how}', scenario(c.work, 'uac_expect', 480), service=service,
                         extra=['-recv_timeout', '12s'])
            else:
                s = Sipp(c.work, f'{g}-s2x-{how}', os.path.join(SIPP_DIR, 'uac_cancel.xml'), service=service,
                         extra=['-recv_timeout', '8s'])
            case.track(f':{s.port}')
            case.cleanup(s.stop)
            t0 = time.monotonic()
            await s.start()
            frm, sid, _ = await xmpp_incoming(p, how)
            await xmpp_ring(p, frm, sid, how)
            try:
                kind, got, gtext, el = await xmpp_end(p, sid, wait_end)
            except Fail as e:
                await s.wait(1)
                raise Fail(e.why, *e.details, *s.details()) from None
            await s.wait(6)
            if tmo:
                took = (s.t_end or time.monotonic()) - t0 - 0.3
                pr = s.problems('expecting 480')
                if not pr and not RING_LO <= took <= RING_HI:
                    pr.append(f'480 after {took:.1f} s, want {RING:g} s')
                case.done('caller', pr, *s.details(), note=f'after {took:.1f} s')
            else:
                case.done('caller', s.problems('uac_cancel.xml'), *s.details())
            case.done('callee', jingle_problems(kind, got, gtext, callee_word, None, want_kind), el)
        if tmo:
            checks = [('caller', f'timeout sip->xmpp ({how} JID, XMPP callee rings): sipp caller gets 480 after ~{RING:g} s'),
                      ('callee', f'timeout sip->xmpp ({how} JID): XMPP callee gets {want_el}')]
        else:
            checks = [('caller', f'cancel sip->xmpp ({how} JID): sipp caller CANCELs after 180 (uac_cancel.xml: 200, 487)'),
                      ('callee', f'cancel sip->xmpp ({how} JID): XMPP callee gets {want_el}')]
        cases.append((g, checks, s2x))

    # XMPP -> browser: direct session-initiate (cancel: session-terminate <cancel/>) and JMI first
    # (cancel: JMI retract after proceed and session-initiate)
    for how in ('direct', 'jmi'):
        async def x2b(case, how=how):
            nm = uniq('cb')
            b = await browser(case, 'callee', nm)
            p = await c.pool.get(case)
            t0 = time.monotonic()
            sid, to = await xmpp_call(p, f'{nm}@{GW}', how)
            case.cleanup(lambda: terminate_quietly(p, to, sid))
            session, _ = await browser_incoming(b)
            await b.send(type='ringing', session=session)
            if tmo:
                kind, got, gtext, el = await xmpp_end(p, sid, wait_end)
                took, pr = timing(t0)
                case.done('caller', jingle_problems(kind, got, gtext, 'timeout', None) + pr, el, note=f'after {took:.1f} s')
            else:
                await p.expect_jingle('session-info', sid, STEP)
                await asyncio.sleep(0.2)
                if how == 'direct':
                    await xmpp_terminate(p, to, sid, 'cancel')
                else:
                    p.send_jmi(to.split('/')[0], jmi('retract', sid, [reason_el('cancel')]))
            m = await browser_end(b, session)
            case.done('callee', hangup_problems(m, callee_word), m)
        via = 'session-initiate' if how == 'direct' else 'JMI propose, proceed, session-initiate'
        if tmo:
            checks = [('caller', f'timeout xmpp->browser ({via}, browser rings): Jingle caller gets session-terminate <timeout/> after ~{RING:g} s'),
                      ('callee', f'timeout xmpp->browser ({via}): browser callee gets hangup reason `timeout`')]
        else:
            stop = 'session-terminate <cancel/>' if how == 'direct' else 'JMI retract <cancel/>'
            checks = [('callee', f'cancel xmpp->browser ({via}): Jingle caller {stop} while the browser rings -> '
                                 'browser callee gets hangup reason `cancel`')]
        cases.append((g, checks, x2b))

    # XMPP -> SIP
    for how in ('direct', 'jmi'):
        async def x2s(case, how=how):
            uas = Sipp(c.work, f'{g}-x2s-{how}', scenario(c.work, 'uas_ring_cancel'))
            case.track(f':{uas.port}')
            case.cleanup(uas.stop)
            await uas.start()
            p = await c.pool.get(case)
            t0 = time.monotonic()
            sid, to = await xmpp_call(p, sip_jid(uas.port), how)
            case.cleanup(lambda: terminate_quietly(p, to, sid))
            if tmo:
                try:
                    kind, got, gtext, el = await xmpp_end(p, sid, wait_end)
                except Fail as e:
                    await uas.wait(1)
                    raise Fail(e.why, *e.details, *uas.details()) from None
                took, pr = timing(t0)
                case.done('caller', jingle_problems(kind, got, gtext, 'timeout', None) + pr, el, note=f'after {took:.1f} s')
            else:
                try:
                    await p.expect_jingle('session-info', sid, STEP)
                except Fail as e:
                    await uas.wait(1)
                    raise Fail(e.why, *e.details, *uas.details()) from None
                await asyncio.sleep(0.2)
                if how == 'direct':
                    await xmpp_terminate(p, to, sid, 'cancel')
                else:
                    p.send_jmi(to.split('/')[0], jmi('retract', sid, [reason_el('cancel')]))
            await uas.wait(6)
            case.done('callee', uas.problems('180, CANCEL required'), *uas.details())
        via = 'session-initiate' if how == 'direct' else 'JMI propose, proceed, session-initiate'
        if tmo:
            checks = [('caller', f'timeout xmpp->sip ({via}, sipp rings): Jingle caller gets session-terminate <timeout/> after ~{RING:g} s'),
                      ('callee', f'timeout xmpp->sip ({via}): sipp callee gets CANCEL (200, 487, ACK)')]
        else:
            stop = 'session-terminate <cancel/>' if how == 'direct' else 'JMI retract <cancel/>'
            checks = [('callee', f'cancel xmpp->sip ({via}): Jingle caller {stop} after sipp\'s 180 -> '
                                 'sipp callee gets CANCEL (200, 487, ACK)')]
        cases.append((g, checks, x2s))
    return cases


# ---------------------------------------------------------------------------------------------

def report(results, name, ok, why='', details=()):
    results[0 if ok else 1] += 1
    if ok:
        print(f'PASS {name}' + (f' ({why})' if why else ''), flush=True)
        return
    print(f'FAIL {name} ({why})', flush=True)
    for d in details:
        for line in fmt(d, 4000).replace('\r\n', '\n').split('\n'):
            print(f'    | {line}', flush=True)


async def main(args):
    setup_trace(args.trace)
    c = Ctx()
    c.work = args.work
    os.makedirs(c.work, exist_ok=True)
    c.sem = asyncio.Semaphore(args.jobs)
    results = [0, 0]
    users = [f'x{i:02d}' for i in range(1, args.accounts + 1)]
    peers = [Peer(u, 'res') for u in users]
    try:
        await asyncio.gather(*(p.login(10) for p in peers))
        took = await wait_for_component(peers[0], 10)
        doc, raw = await api_calls()
        if doc is None or doc['calls']:
            raise Fail(f'/api/calls before any call: {raw}')
        report(results, f'setup: {len(peers)} slixmpp accounts logged in, the gateway is {GW} (disco#info), '
               '/api/calls is {"calls":[]}', True, f'component after {took:.1f} s')
    except Exception as e:  # noqa: BLE001
        report(results, 'setup', False, getattr(e, 'why', f'{type(e).__name__}: {e}'), getattr(e, 'details', ()))
        print(f'causes: {results[0]} passed, {results[1]} failed')
        return 1
    c.pool = Pool(peers)

    groups = [('causes', causes_cases), ('answered', answered_cases),
              ('cancel', lambda c: ring_cases(c, 'cancel')), ('timeout', lambda c: ring_cases(c, 'timeout'))]
    only = set(args.only.split(',')) if args.only else None
    all_cases = []
    for gname, make in groups:
        if only and gname not in only:
            continue
        for group, checks, fn in make(c):
            all_cases.append((Case(group, checks), fn))
    t0 = time.monotonic()
    # ring timeouts first (they wait), then the rest
    order = sorted(all_cases, key=lambda x: x[0].group != 'timeout')
    await asyncio.gather(*(run_case(c, case, fn) for case, fn in order))
    trace(f'all cases took {time.monotonic() - t0:.1f} s')

    for gname, _ in groups:
        cases = [case for case, _ in all_cases if case.group == gname]
        if not cases:
            continue
        for case in cases:
            for k in case.order:
                ok, why, details = case.res[k]
                report(results, case.names[k], ok, why, details)
        left = [case.leftover for case in cases if case.leftover]
        report(results, f'/api/calls: no call of the `{gname}` group is listed once it ended ({len(cases)} calls, '
               'checked after each)', not left, f'{len(left)} call(s) left: ' + ' || '.join(left)[:3000] if left else '')
    # the end: nothing at all
    deadline = time.monotonic() + 3
    while True:
        doc, raw = await api_calls()
        if (doc is not None and not doc['calls']) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    report(results, 'GET /api/calls is {"calls":[]} at the end', doc is not None and not doc['calls'],
           raw[:3000] if not (doc is not None and not doc['calls']) else '')
    await asyncio.gather(*(p.quit() for p in peers), return_exceptions=True)
    print(f'causes: {results[0]} passed, {results[1]} failed ({time.monotonic() - t0:.0f} s of calls)', flush=True)
    return 0 if results[1] == 0 else 1


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True, help='directory for sipp scenarios and logs')
    ap.add_argument('--trace')
    ap.add_argument('--accounts', type=int, default=16, help='XMPP accounts x01.. (registered by run_causes.sh)')
    ap.add_argument('--jobs', type=int, default=12, help='calls at a time')
    ap.add_argument('--only', help='comma-separated groups: causes,answered,cancel,timeout')
    sys.exit(asyncio.run(main(ap.parse_args())))
