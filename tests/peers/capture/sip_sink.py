#!/usr/bin/env python3
"""Tiny SIP-over-UDP sink: waits for one INVITE, writes its SDP body verbatim to OUT,
rejects the call (486 Busy Here) so the caller stops retransmitting, then exits.

usage: sip_sink.py HOST PORT OUT [--timeout SECONDS] [--headers FILE]
Exit status: 0 when an INVITE with a non-empty body was captured, 1 otherwise.
Only binds HOST:PORT (use a loopback address) and only answers the sender of the INVITE.
"""
import argparse
import socket
import sys
import time

COMPACT = {b'v': b'via', b'f': b'from', b't': b'to', b'i': b'call-id', b'l': b'content-length'}


def parse(msg):
    head, sep, rest = msg.partition(b'\r\n\r\n')
    if not sep:
        return None, [], b''
    lines = head.split(b'\r\n')
    hdrs = []
    for line in lines[1:]:
        name, _, value = line.partition(b':')
        name = name.strip().lower()
        hdrs.append((COMPACT.get(name, name), value.strip()))
    cl = next((v for n, v in hdrs if n == b'content-length'), None)
    body = rest[:int(cl)] if cl is not None else rest
    return lines[0], hdrs, body


def reply(hdrs, code=b'486 Busy Here'):
    out = [b'SIP/2.0 ' + code]
    for n, v in hdrs:
        if n == b'via':
            out.append(b'Via: ' + v)
    for n, v in hdrs:
        if n == b'from':
            out.append(b'From: ' + v)
        elif n == b'to':
            out.append(b'To: ' + v + (b'' if b';tag=' in v else b';tag=sink1'))
        elif n in (b'call-id', b'cseq'):
            out.append((b'Call-ID: ' if n == b'call-id' else b'CSeq: ') + v)
    out += [b'Server: switchboard-sdp-capture-sink', b'Content-Length: 0', b'', b'']
    return b'\r\n'.join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('host')
    ap.add_argument('port', type=int)
    ap.add_argument('out')
    ap.add_argument('--timeout', type=float, default=10)
    ap.add_argument('--headers', help='also write the full INVITE (headers + body) here')
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.host, a.port))
    deadline = time.monotonic() + a.timeout
    captured = False
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            msg, peer = s.recvfrom(65535)
        except socket.timeout:
            break
        start, hdrs, body = parse(msg)
        if start is None or not start.startswith(b'INVITE '):
            if start is not None and start.startswith(b'ACK ') and captured:
                break  # transaction finished
            continue
        if not captured and body:
            with open(a.out, 'wb') as f:
                f.write(body)
            if a.headers:
                with open(a.headers, 'wb') as f:
                    f.write(msg)
            captured = True
            deadline = min(deadline, time.monotonic() + 1.0)  # linger briefly for the ACK
        s.sendto(reply(hdrs), peer)
    return 0 if captured else 1


if __name__ == '__main__':
    sys.exit(main())
