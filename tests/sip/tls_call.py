#!/usr/bin/env python3
"""SIP over TLS (RFC 3261 §26.2) against `switchboard serve --sip-tls`, with
Python's ssl module (OpenSSL) as the TLS peer: OPTIONS gets 200, then a call
to a browser-protocol client registered as NAME (sip_peer answer): INVITE ->
100 + 200 with SDP, ACK, BYE -> 200. Usage: tls_call.py HOST PORT NAME.
Prints PASS/FAIL lines; exits 1 on failure."""

import re
import socket
import ssl
import sys

HOST, PORT, NAME = sys.argv[1], int(sys.argv[2]), sys.argv[3]
SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
)

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the gateway's certificate is self-signed in this test
raw = socket.create_connection((HOST, PORT), timeout=5)
tls = ctx.wrap_socket(raw, server_hostname=HOST)
local = "%s:%d" % tls.getsockname()[:2]
buf = b""


def read_message():
    global buf
    while True:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buf[:head_end].decode()
            m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
            length = int(m.group(1)) if m else 0
            if len(buf) >= head_end + 4 + length:
                msg = buf[: head_end + 4 + length].decode()
                buf = buf[head_end + 4 + length :]
                return msg
        chunk = tls.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk


def request(method, uri, cseq, extra="", body=""):
    ctype = "Content-Type: application/sdp\r\n" if body else ""
    msg = (
        f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/TLS {local};branch=z9hG4bK{method.lower()}{cseq};rport\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:tls-caller@{local}>;tag=t1\r\n{extra}"
        f"Call-ID: tls-call-1\r\nCSeq: {cseq} {method}\r\nContact: <sip:tls-caller@{local};transport=tls>\r\n"
        f"{ctype}Content-Length: {len(body)}\r\n\r\n{body}"
    )
    tls.sendall(msg.encode())


def status(msg):
    return int(msg.split(" ", 2)[1])


failed = 0


def check(name, ok, why=""):
    global failed
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f" ({why})"))
    failed += 0 if ok else 1


uri = f"sip:{NAME}@{HOST}:{PORT};transport=tls"
request("OPTIONS", f"sip:{HOST}:{PORT};transport=tls", 1, f"To: <sip:{HOST}>\r\n")
r = read_message()
check("tls-options-200", status(r) == 200, r.splitlines()[0])

request("INVITE", uri, 2, f"To: <sip:{NAME}@{HOST}>\r\n", SDP)
codes = []
while True:
    r = read_message()
    codes.append(status(r))
    if status(r) >= 200:
        break
check("tls-invite-200", codes[-1] == 200 and codes[0] == 100, f"responses {codes}")
to = re.search(r"(?im)^to:\s*(.*)$", r).group(1).strip()
check("tls-200-has-sdp", "m=audio" in r, "no SDP in the 200")
request("ACK", uri, 2, f"To: {to}\r\n")
request("BYE", uri, 3, f"To: {to}\r\n")
r = read_message()
check("tls-bye-200", status(r) == 200, r.splitlines()[0])
tls.close()
sys.exit(1 if failed else 0)
