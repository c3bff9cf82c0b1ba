#!/usr/bin/env python3
"""Capture SDPs produced by aiortc (aiortc never trickles: candidates are in the SDP).

usage:
  aiortc_capture.py version
  aiortc_capture.py offer OUTFILE              offer: audio (silence track) + DataChannel "chat"
  aiortc_capture.py answer OFFERFILE OUTFILE   answer to OFFERFILE, sending audio (+ video when offered)

Needs a non-127.0.0.1 local address (aioice drops exactly 127.0.0.1): capture-all.sh adds
127.0.0.2/8 on lo and 10.77.0.1 on a veth inside its private network namespace.
No STUN/TURN servers are configured, so only host candidates are gathered.
"""
import asyncio
import sys
from importlib.metadata import version

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack


def write(path, sdp):
    # aiortc already joins lines with CRLF; write the bytes unchanged.
    with open(path, 'wb') as f:
        f.write(sdp.encode())


async def offer(out):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(AudioStreamTrack())
    pc.createDataChannel('chat')
    await pc.setLocalDescription(await pc.createOffer())  # waits for ICE gathering
    write(out, pc.localDescription.sdp)
    await pc.close()


async def answer(offer_file, out):
    with open(offer_file, 'rb') as f:
        sdp = f.read().decode()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await pc.setRemoteDescription(RTCSessionDescription(sdp, 'offer'))
    kinds = [t.kind for t in pc.getTransceivers()]
    if 'audio' in kinds:
        pc.addTrack(AudioStreamTrack())
    if 'video' in kinds:
        pc.addTrack(VideoStreamTrack())
    await pc.setLocalDescription(await pc.createAnswer())
    write(out, pc.localDescription.sdp)
    await pc.close()


def main():
    cmd = sys.argv[1]
    if cmd == 'version':
        print(version('aiortc'))
    elif cmd == 'offer':
        asyncio.run(offer(sys.argv[2]))
    elif cmd == 'answer':
        asyncio.run(answer(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
