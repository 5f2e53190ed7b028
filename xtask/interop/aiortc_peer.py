#!/usr/bin/env python3
"""The stand-in peer for `cargo xtask interop --bench`: aiortc behind the same page and the
same signaling endpoints as rtcwire's `browser` example, so the browser's timings can be
put side by side. Only what the timing scenario uses: GET /, POST /offer, POST /candidate,
GET /candidates, GET /state, POST /result, and the page's second script (GET /media.js,
beside the page). Messages on a data channel are echoed as they came, and every media
track the browser sends is sent back to it on its transceiver (aiortc decodes and
encodes it again). Listens on loopback only.

usage: aiortc_peer.py --page PAGE.html [--listen 127.0.0.1:8766]
"""
import argparse
import asyncio
import json
import os
import sys
from urllib.parse import parse_qsl, urlsplit

# aioice hides loopback addresses from its host candidates; the browser suite runs in a
# namespace where loopback (and a veth LAN) is all there is.
import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.sdp import candidate_from_sdp  # noqa: E402

MAX_REQUEST = 4 << 20
sessions = {}


def new_pc(sid):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sessions[sid] = pc

    @pc.on("datachannel")
    def on_channel(channel):
        @channel.on("message")
        def on_message(msg):
            channel.send(msg)

    @pc.on("track")
    def on_track(track):
        # Before the answer is made: the transceiver the offer made sends it back.
        pc.addTrack(track)

    @pc.on("connectionstatechange")
    async def on_state():
        if pc.connectionState in ("closed", "failed"):
            sessions.pop(sid, None)
            await pc.close()

    return pc


async def handle(method, path, query, body):
    sid = body.get("id") or query.get("id", "")
    if path == "/offer":
        pc = new_pc(sid)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return {"sdp": pc.localDescription.sdp, "type": "answer"}
    if path == "/candidate":
        pc = sessions.get(sid)
        c = body.get("candidate") or ""
        if pc is None or not c:
            return {"ok": True}
        cand = candidate_from_sdp(c.split(":", 1)[1] if c.startswith("candidate:") else c)
        cand.sdpMid = body.get("sdpMid")
        cand.sdpMLineIndex = body.get("sdpMLineIndex")
        if cand.protocol == "udp":
            await pc.addIceCandidate(cand)
        return {"ok": True}
    if path == "/candidates":
        # aiortc puts every candidate in its answer: nothing trickles from here.
        return {"candidates": [], "end": True}
    if path == "/state":
        pc = sessions.get(sid)
        return {"state": pc.connectionState if pc else "closed", "channels": []}
    if path == "/result":
        print("result: " + json.dumps(body, separators=(",", ":")), flush=True)
        return {"ok": True}
    raise KeyError(path)


async def serve_one(reader, writer, page, media_js):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if length > MAX_REQUEST:
            raise ValueError("request too large")
        raw = await reader.readexactly(length) if length else b""
        url = urlsplit(target)
        if method == "GET" and url.path == "/":
            status, ctype, out = 200, "text/html; charset=utf-8", page
        elif method == "GET" and url.path == "/media.js":
            status, ctype, out = 200, "text/javascript; charset=utf-8", media_js
        else:
            try:
                body = json.loads(raw) if raw else {}
                reply = await handle(method, url.path, dict(parse_qsl(url.query)), body)
                status, ctype, out = 200, "application/json", json.dumps(reply).encode()
            except Exception as e:  # the page sees the error text
                status, ctype, out = 400, "text/plain", repr(e).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {len(out)}\r\n"
            "cache-control: no-store\r\nconnection: close\r\n\r\n".encode() + out
        )
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", required=True)
    ap.add_argument("--listen", default="127.0.0.1:8766")
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    if host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("loopback only")
    page = open(args.page, "rb").read()
    media_js = open(os.path.join(os.path.dirname(args.page), "media.js"), "rb").read()
    server = await asyncio.start_server(
        lambda r, w: serve_one(r, w, page, media_js), host, int(port)
    )
    print(f"aiortc stand-in is listening: open http://{host}:{port}/", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
