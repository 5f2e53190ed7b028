# A scripted aiortc peer for tests/aiortc.rs. Lines on stdin/stdout, tab separated, SDP
# with its line breaks written as a literal "\n". Role "offer": aiortc offers (its SDP carries
# every candidate, no trickle); role "answer": it answers, taking our candidates trickled.
# Every message on every channel is echoed, except "close-me" (aiortc closes that channel)
# and "burst:N" (aiortc sends "p0".."p{N-1}"). Loopback only: aioice is patched to offer
# 127.0.0.1, which it normally hides.
import asyncio, sys
import aioice.ice
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

def out(*fields):
    sys.stdout.write("\t".join(str(f) for f in fields) + "\n")
    sys.stdout.flush()

def watch(ch):
    out("channel", ch.label, ch.id, int(ch.ordered),
        "-" if ch.maxRetransmits is None else ch.maxRetransmits, int(ch.negotiated))

    @ch.on("message")
    def on_message(msg):
        if msg == "close-me":
            ch.close()
        elif isinstance(msg, str) and msg.startswith("burst:"):
            for i in range(int(msg[6:])):
                ch.send("p%d" % i)
        else:
            ch.send(msg)

    @ch.on("close")
    def on_close():
        out("closed", ch.label)

async def main():
    role = sys.argv[1]
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.on("datachannel", watch)

    @pc.on("connectionstatechange")
    def on_state():
        out("state", pc.connectionState)

    watch(pc.createDataChannel("pre", negotiated=True, id=7))
    if role == "offer":
        watch(pc.createDataChannel("chat"))
        watch(pc.createDataChannel("lossy", ordered=False, maxRetransmits=0))
        watch(pc.createDataChannel("mine"))
        watch(pc.createDataChannel("theirs"))
        await pc.setLocalDescription(await pc.createOffer())
        out("sdp", "offer", pc.localDescription.sdp.replace("\r\n", "\\n"))
    while True:
        line = await reader.readline()
        if not line:
            break
        f = line.decode().rstrip("\n").split("\t")
        if f[0] == "sdp":
            desc = RTCSessionDescription(sdp=f[2].replace("\\n", "\r\n"), type=f[1])
            await pc.setRemoteDescription(desc)
            if f[1] == "offer":
                await pc.setLocalDescription(await pc.createAnswer())
                out("sdp", "answer", pc.localDescription.sdp.replace("\r\n", "\\n"))
        elif f[0] == "cand":
            if f[3] == "":
                await pc.addIceCandidate(None)
            else:
                c = candidate_from_sdp(f[3].split(":", 1)[1])
                c.sdpMid = f[1]
                c.sdpMLineIndex = int(f[2])
                await pc.addIceCandidate(c)
        elif f[0] == "quit":
            break
    await pc.close()
    out("state", pc.connectionState)

asyncio.run(main())
