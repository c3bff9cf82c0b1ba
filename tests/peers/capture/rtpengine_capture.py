#!/usr/bin/env python3
"""Capture SDPs rewritten by rtpengine (NG control protocol: bencode over UDP).

usage: rtpengine_capture.py NG_ADDR ping
       rtpengine_capture.py NG_ADDR webrtc|plain IN_SDP OUT_SDP

  webrtc: `offer` with ICE=force, DTLS=passive, transport-protocol=UDP/TLS/RTP/SAVPF, SDES off
          (what a gateway sends towards a browser; input: a plain RTP/AVP SIP offer)
  plain:  `offer` with transport-protocol=RTP/AVP, ICE=remove, DTLS=off, SDES off, rtcp-mux demux
          (what a gateway sends towards a plain SIP phone; input: a WebRTC offer with candidates)
The SDP rtpengine returns is written byte for byte; the call is deleted afterwards.
"""
import os
import socket
import sys
import time


def benc(o):
    if isinstance(o, int):
        return b'i%de' % o
    if isinstance(o, str):
        o = o.encode()
    if isinstance(o, bytes):
        return b'%d:%s' % (len(o), o)
    if isinstance(o, list):
        return b'l' + b''.join(benc(x) for x in o) + b'e'
    if isinstance(o, dict):
        return b'd' + b''.join(benc(k) + benc(v) for k, v in sorted(o.items())) + b'e'
    raise TypeError(type(o))


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b'i':
        j = b.index(b'e', i)
        return int(b[i + 1:j]), j + 1
    if c in (b'l', b'd'):
        i += 1
        out = []
        while b[i:i + 1] != b'e':
            v, i = bdec(b, i)
            out.append(v)
        if c == b'l':
            return out, i + 1
        return {out[k].decode(): out[k + 1] for k in range(0, len(out), 2)}, i + 1
    j = b.index(b':', i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n  # raw bytes: keeps the SDP exactly as sent


def ng(addr, msg, timeout=2.0):
    host, port = addr.rsplit(':', 1)
    cookie = os.urandom(4).hex().encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(cookie + b' ' + benc(msg), (host, int(port)))
    while True:
        data = s.recv(65535)
        c, body = data.split(b' ', 1)
        if c == cookie:
            return bdec(body)[0]


FLAGS = {
    'webrtc': {'ICE': 'force', 'DTLS': 'passive', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'SDES': ['off']},
    'plain': {'ICE': 'remove', 'DTLS': 'off', 'transport-protocol': 'RTP/AVP', 'SDES': ['off'],
              'rtcp-mux': ['demux']},
}


def main():
    addr, cmd = sys.argv[1], sys.argv[2]
    if cmd == 'ping':
        deadline = time.monotonic() + 5
        while True:  # wait for the daemon to come up
            try:
                r = ng(addr, {'command': 'ping'}, timeout=0.2)
                if r.get('result') == b'pong':
                    return 0
            except (OSError, socket.timeout):
                pass
            if time.monotonic() > deadline:
                print('rtpengine: no pong', file=sys.stderr)
                return 1
            time.sleep(0.1)
    with open(sys.argv[3], 'rb') as f:
        sdp = f.read()
    call_id = 'sdp-capture-%s-%s' % (cmd, os.urandom(3).hex())
    msg = {'command': 'offer', 'call-id': call_id, 'from-tag': 'capture-ft', 'sdp': sdp}
    msg.update(FLAGS[cmd])
    r = ng(addr, msg)
    if r.get('result') != b'ok' or 'sdp' not in r:
        print('rtpengine offer failed:', r, file=sys.stderr)
        return 1
    with open(sys.argv[4], 'wb') as f:
        f.write(r['sdp'])
    ng(addr, {'command': 'delete', 'call-id': call_id, 'from-tag': 'capture-ft'})
    return 0


if __name__ == '__main__':
    sys.exit(main())
