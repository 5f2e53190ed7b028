"""aioice as a real ICE peer for rtcwire-ice's interop test.

Usage: aioice_peer.py controlling|controlled

Speaks JSON lines: prints its credentials, then its candidates and end-of-candidates; reads
the Rust side's credentials (first line), then its candidates and end-of-candidates at any
time (trickle: they are added while connect() runs). Once connected it sends one datagram,
waits for one back, reports both, and stays connected (aioice's consent checks run every 5 s)
until the Rust side sends {"done": true}.
"""
import asyncio
import json
import sys

import aioice
import aioice.ice

# aioice leaves loopback out of its host candidates; the test runs on 127.0.0.1 only.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def out(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


async def main():
    controlling = sys.argv[1] == "controlling"
    conn = aioice.Connection(ice_controlling=controlling, components=1)
    await conn.gather_candidates()
    out({"ufrag": conn.local_username, "pwd": conn.local_password})
    for c in conn.local_candidates:
        out({"candidate": c.to_sdp()})
    out({"eoc": True})

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    creds = json.loads(await reader.readline())
    conn.remote_username = creds["ufrag"]
    conn.remote_password = creds["pwd"]

    done = asyncio.Event()

    async def feed():
        while True:
            line = await reader.readline()
            if not line:
                return
            msg = json.loads(line)
            if "candidate" in msg:
                await conn.add_remote_candidate(aioice.Candidate.from_sdp(msg["candidate"]))
                out({"added": msg["candidate"]})
            elif "eoc" in msg:
                await conn.add_remote_candidate(None)
            elif "done" in msg:
                done.set()

    feeder = asyncio.ensure_future(feed())
    connecting = asyncio.ensure_future(asyncio.wait_for(conn.connect(), 15))
    await asyncio.sleep(0)  # let connect() start before the peer's candidates may arrive
    out({"connecting": True})
    await connecting
    pair = conn._nominated.get(1)
    out({"connected": True, "nominated": str(pair) if pair else None})
    await conn.send(b"hello from aioice")
    data = await asyncio.wait_for(conn.recv(), 10)
    out({"received": data.decode()})
    # Stay connected (consent checks both ways) until the Rust side says it is done.
    await asyncio.wait_for(done.wait(), 20)
    feeder.cancel()
    await conn.close()
    out({"closed": True})


asyncio.run(main())
