"""libsrtp (through pylibsrtp) as a line-oriented peer for rtcwire-srtp's interop test.

Reads commands on stdin, one per line, and answers each with one line on stdout:

    key <profile> <hex master key || master salt>   (re)creates an outbound and an inbound
                                                    session with that key -> "ok"
    p <hex rtp>     srtp_protect         -> "ok <hex>" | "err <reason>"
    u <hex srtp>    srtp_unprotect
    pc <hex rtcp>   srtp_protect_rtcp
    uc <hex srtcp>  srtp_unprotect_rtcp

Profiles: the names of pylibsrtp.Policy.SRTP_PROFILE_* without the prefix.
"""
import sys

import pylibsrtp


def main():
    out = inb = None
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        cmd = parts[0]
        try:
            if cmd == "key":
                profile = getattr(pylibsrtp.Policy, "SRTP_PROFILE_" + parts[1])
                key = bytes.fromhex(parts[2])
                out = pylibsrtp.Session(
                    pylibsrtp.Policy(
                        key=key,
                        ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
                        srtp_profile=profile,
                    )
                )
                inb = pylibsrtp.Session(
                    pylibsrtp.Policy(
                        key=key,
                        ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND,
                        srtp_profile=profile,
                    )
                )
                reply = "ok"
            else:
                data = bytes.fromhex(parts[1]) if len(parts) > 1 else b""
                fn = {
                    "p": out.protect,
                    "u": inb.unprotect,
                    "pc": out.protect_rtcp,
                    "uc": inb.unprotect_rtcp,
                }[cmd]
                reply = "ok " + fn(data).hex()
        except Exception as e:  # every failure is an answer, never a crash
            reply = "err " + str(e).replace("\n", " ")
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
