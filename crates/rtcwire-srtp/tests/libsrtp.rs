//! Interop with a real libsrtp (PyPI `pylibsrtp`), driven through `libsrtp_peer.py`.
//!
//! For every profile both sides support, the same plaintexts are protected by us and by
//! libsrtp under the same master key: the bytes must be identical, libsrtp must unprotect
//! ours and we must unprotect libsrtp's, byte-exact — for SRTP across a rollover of the
//! sequence number (65535 → 0, with packets reordered across the wrap), for several SSRCs
//! interleaved, and for SRTCP. Both sides also refuse each other's replays and forgeries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

use rtcwire_sim::peer::{python, python_module, ChildGuard};
use rtcwire_srtp::{Config, Context, Error, SrtpProfile, Ssrc};

struct Libsrtp {
    _child: ChildGuard,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Libsrtp {
    fn start() -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/libsrtp_peer.py");
        let mut child = Command::new(python())
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Libsrtp {
            _child: ChildGuard(child),
            stdin,
            stdout,
        }
    }

    /// Sends one command, returns `Ok(bytes)` or `Err(libsrtp's reason)`.
    fn call(&mut self, cmd: &str, data: &[u8]) -> Result<Vec<u8>, String> {
        writeln!(self.stdin, "{cmd} {}", hex::encode(data)).unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "libsrtp peer exited");
        let line = line.trim_end();
        match line.split_once(' ').unwrap_or((line, "")) {
            ("ok", hex) => Ok(hex::decode(hex).unwrap()),
            ("err", why) => Err(why.to_owned()),
            _ => panic!("unexpected answer {line:?}"),
        }
    }

    fn key(&mut self, profile: &str, key_and_salt: &[u8]) {
        assert_eq!(
            self.call(&format!("key {profile}"), key_and_salt),
            Ok(vec![])
        );
    }
}

fn rtp_packet(seq: u16, ssrc: u32, variant: usize) -> Vec<u8> {
    // Vary the header shape: plain, two CSRCs, a one-byte-header extension, both.
    let cc = if variant % 2 == 1 { 2u8 } else { 0 };
    let ext = variant % 4 >= 2;
    let mut p = vec![0x80 | cc | if ext { 0x10 } else { 0 }, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    for i in 0..u32::from(cc) {
        p.extend_from_slice(&(0x1000 + i).to_be_bytes());
    }
    if ext {
        p.extend_from_slice(&[0xbe, 0xde, 0, 2, 0x10, 0xaa, 0x21, 1, 2, 0, 0, 0]);
    }
    let payload_len = 20 + (usize::from(seq) * 37 + variant * 101) % 1100;
    p.extend((0..payload_len).map(|i| (i as u8) ^ (seq as u8)));
    p
}

fn rtcp_packet(ssrc: u32, n: u32) -> Vec<u8> {
    // A sender report with one report block, then an SDES CNAME chunk.
    let mut p = vec![0x81, 200, 0, 12];
    p.extend_from_slice(&ssrc.to_be_bytes());
    for w in [0xe000_0000u32 + n, 0x1234_5678, n * 960, n, n * 1000] {
        p.extend_from_slice(&w.to_be_bytes());
    }
    for w in [0xfeed_beefu32, 0x0100_0002, 0x0001_0000 + n, 5, 0, 0] {
        p.extend_from_slice(&w.to_be_bytes());
    }
    p.extend_from_slice(&[0x81, 202, 0, 3]);
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[1, 4, b'r', b't', b'c', b'w', 0, 0]);
    p
}

fn protect(ctx: &mut Context, plain: &[u8], rtcp: bool) -> Vec<u8> {
    let mut buf = plain.to_vec();
    buf.resize(plain.len() + 32, 0);
    let n = if rtcp {
        ctx.protect_rtcp(&mut buf, plain.len()).unwrap()
    } else {
        ctx.protect_rtp(&mut buf, plain.len()).unwrap()
    };
    buf.truncate(n);
    buf
}

fn unprotect(ctx: &mut Context, wire: &[u8], rtcp: bool) -> Result<Vec<u8>, Error> {
    let mut buf = wire.to_vec();
    let n = if rtcp {
        ctx.unprotect_rtcp(&mut buf)?
    } else {
        ctx.unprotect_rtp(&mut buf)?
    };
    buf.truncate(n);
    Ok(buf)
}

/// Sequence numbers across the wrap, with packets reordered on both sides of it.
fn send_order() -> Vec<u16> {
    let mut seqs: Vec<u16> = vec![65500, 65502, 65501];
    seqs.extend(65503..=65533);
    seqs.extend([0, 65535, 65534, 2, 1]);
    seqs.extend(3..60);
    seqs
}

#[test]
fn libsrtp_interop_every_shared_profile() {
    if !python_module("pylibsrtp") {
        return;
    }
    let mut peer = Libsrtp::start();
    let profiles = [
        (SrtpProfile::Aes128CmHmacSha1_80, "AES128_CM_SHA1_80"),
        (SrtpProfile::Aes128CmHmacSha1_32, "AES128_CM_SHA1_32"),
        (SrtpProfile::AeadAes128Gcm, "AEAD_AES_128_GCM"),
        (SrtpProfile::AeadAes256Gcm, "AEAD_AES_256_GCM"),
    ];
    for (profile, name) in profiles {
        let key: Vec<u8> = (0..profile.master_key_len() as u8)
            .map(|i| {
                i.wrapping_mul(29)
                    .wrapping_add(profile.srtp_tag_len() as u8)
            })
            .collect();
        let salt: Vec<u8> = (0..profile.master_salt_len() as u8)
            .map(|i| 0xa0 ^ i.wrapping_mul(7))
            .collect();
        peer.key(name, &[key.clone(), salt.clone()].concat());
        let mut tx = Context::new(profile, &key, &salt, Config::default()).unwrap();
        let mut rx = Context::new(profile, &key, &salt, Config::default()).unwrap();
        let ssrc = 0x5eed_0000 | profile.srtp_tag_len() as u32;

        // SRTP across the rollover.
        for (i, seq) in send_order().into_iter().enumerate() {
            let plain = rtp_packet(seq, ssrc, i);
            let ours = protect(&mut tx, &plain, false);
            let theirs = peer.call("p", &plain).unwrap();
            assert_eq!(
                hex::encode(&ours),
                hex::encode(&theirs),
                "{name}: seq {seq} protected differently"
            );
            assert_eq!(
                peer.call("u", &ours).as_deref(),
                Ok(&plain[..]),
                "{name} {seq}"
            );
            assert_eq!(
                unprotect(&mut rx, &theirs, false).unwrap(),
                plain,
                "{name} {seq}"
            );
        }
        assert_eq!(tx.send_roc(Ssrc(ssrc)), Some(1), "{name}");
        assert_eq!(rx.recv_roc(Ssrc(ssrc)), Some(1), "{name}");

        // Both reject a replay and a forgery of a packet the other protected.
        let plain = rtp_packet(61, ssrc, 0);
        let ours = protect(&mut tx, &plain, false);
        assert!(peer.call("u", &ours).is_ok());
        assert!(
            peer.call("u", &ours).is_err(),
            "{name}: libsrtp took a replay"
        );
        let mut forged = protect(&mut tx, &rtp_packet(62, ssrc, 0), false);
        let last = forged.len() - 1;
        forged[last] ^= 0x40;
        assert!(
            peer.call("u", &forged).is_err(),
            "{name}: libsrtp took a forgery"
        );
        let theirs = peer.call("p", &rtp_packet(63, ssrc, 1)).unwrap();
        let mut forged = theirs.clone();
        forged[20] ^= 1;
        assert!(matches!(
            unprotect(&mut rx, &forged, false),
            Err(Error::AuthFailed { .. })
        ));
        assert!(unprotect(&mut rx, &theirs, false).is_ok());
        assert!(matches!(
            unprotect(&mut rx, &theirs, false),
            Err(Error::Replay { .. })
        ));

        // Several SSRCs interleaved, one of them wrapping: per-stream state on both sides.
        let streams = [
            (ssrc ^ 0x100, 65_520u16),
            (ssrc ^ 0x200, 7),
            (ssrc ^ 0x300, 40_000),
        ];
        for i in 0..40u16 {
            for (j, &(s, first)) in streams.iter().enumerate() {
                let seq = first.wrapping_add(i);
                let plain = rtp_packet(seq, s, j + usize::from(i));
                let ours = protect(&mut tx, &plain, false);
                let theirs = peer.call("p", &plain).unwrap();
                assert_eq!(ours, theirs, "{name}: SSRC {s:#x} seq {seq}");
                assert_eq!(peer.call("u", &ours).as_deref(), Ok(&plain[..]));
                assert_eq!(unprotect(&mut rx, &theirs, false).unwrap(), plain);
            }
        }
        assert_eq!(rx.recv_roc(Ssrc(ssrc ^ 0x100)), Some(1));
        assert_eq!(rx.recv_roc(Ssrc(ssrc ^ 0x200)), Some(0));
        assert_eq!(rx.rtp_streams(), (0, 4));
        assert_eq!(tx.rtp_streams(), (4, 0));

        // SRTCP. libsrtp's first SRTCP index is 1, ours is 0 (RFC 3711 §3.4): spend one
        // packet so that both sides then use the same indices and must agree byte for byte.
        let _ = protect(&mut tx, &rtcp_packet(ssrc, 0), true);
        for n in 1..=20 {
            let plain = rtcp_packet(ssrc, n);
            let ours = protect(&mut tx, &plain, true);
            let theirs = peer.call("pc", &plain).unwrap();
            assert_eq!(
                hex::encode(&ours),
                hex::encode(&theirs),
                "{name}: SRTCP #{n} protected differently"
            );
            assert_eq!(
                peer.call("uc", &ours).as_deref(),
                Ok(&plain[..]),
                "{name} #{n}"
            );
            assert_eq!(unprotect(&mut rx, &theirs, true).unwrap(), plain);
        }
        let theirs = peer.call("pc", &rtcp_packet(ssrc, 21)).unwrap();
        assert!(unprotect(&mut rx, &theirs, true).is_ok());
        assert!(matches!(
            unprotect(&mut rx, &theirs, true),
            Err(Error::Replay { .. })
        ));
    }
}
