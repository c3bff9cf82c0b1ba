"""Sends STUN Binding requests built by aioice (a third-party ICE/STUN stack)
to Switchboard's embedded STUN server, over IPv4 and IPv6, and checks the
responses with aioice's parser (which verifies FINGERPRINT): success class,
same transaction id, XOR-MAPPED-ADDRESS equal to the client's own address.

usage: stun_binding.py PORT        (server bound on [::]:PORT or 0.0.0.0:PORT)
"""
import socket
import sys

from aioice import stun


def binding(family, host, port):
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(3)
    sock.bind((host, 0))
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    request.add_fingerprint()
    sock.sendto(bytes(request), (host, port))
    data, _ = sock.recvfrom(2048)
    response = stun.parse_message(data)
    assert response.message_method == stun.Method.BINDING, response
    assert response.message_class == stun.Class.RESPONSE, response
    assert response.transaction_id == request.transaction_id
    mapped = response.attributes["XOR-MAPPED-ADDRESS"]
    local = sock.getsockname()[:2]
    assert tuple(mapped) == tuple(local), (mapped, local)
    assert "FINGERPRINT" in response.attributes
    return mapped


port = int(sys.argv[1])
failed = 0
for family, host in [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]:
    try:
        print(f"ok     STUN binding over {host}: XOR-MAPPED-ADDRESS {binding(family, host, port)}")
    except Exception as e:  # noqa: BLE001 - report and go on
        failed += 1
        print(f"FAILED STUN binding over {host}: {e!r}")
sys.exit(1 if failed else 0)
