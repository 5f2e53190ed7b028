//! Media forwarding as an SFU does it: each of 100 video streams arrives SRTP-protected
//! (1200-byte RTP payloads, fresh sequence numbers), is unprotected with the publisher's
//! context, re-protected with the subscriber's and sent. One thread, timed per batch of
//! 1600 packets; the rate is that of the median batch (a batch the scheduler preempted for
//! another process is slow, the median is not), so it is packets per second of one core.
//! The publisher's protect that makes the input packets is outside the timing.

use std::net::UdpSocket;
use std::time::Duration;

use rtcwire_srtp::{Config, Context, SrtpProfile};

use crate::common::{err, Res};

pub const STREAMS: usize = 100;
const PAYLOAD: usize = 1200;
const HEADER: usize = 12;
/// Packets per stream made (untimed) before each timed batch.
const PER_BATCH: usize = 16;

fn packet(ssrc: u32, seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 3000).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..PAYLOAD).map(|i| i as u8));
    p
}

fn keys(profile: SrtpProfile, seed: u8) -> (Vec<u8>, Vec<u8>) {
    let key = (0..profile.master_key_len() as u8)
        .map(|i| i.wrapping_mul(7).wrapping_add(seed))
        .collect();
    let salt = (0..profile.master_salt_len() as u8)
        .map(|i| i.wrapping_mul(13).wrapping_add(seed))
        .collect();
    (key, salt)
}

/// Where forwarded packets go: a socket on 127.0.0.1 nobody reads (the kernel drops what
/// overflows its queue; the send itself is complete).
pub struct Sink {
    sock: UdpSocket,
    _far: UdpSocket,
    to: std::net::SocketAddr,
}

impl Sink {
    pub fn new() -> Res<Sink> {
        let far = UdpSocket::bind("127.0.0.1:0")?;
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        Ok(Sink {
            to: far.local_addr()?,
            sock,
            _far: far,
        })
    }
    fn send(&self, b: &[u8]) {
        let _ = self.sock.send_to(b, self.to);
    }
}

/// A forwarding candidate: made per stream, fed protected packets.
pub trait Forward {
    fn forward(&mut self, stream: usize, pkt: &[u8], sink: Option<&Sink>) -> Res<()>;
}

/// Makes the publisher's packets for one batch: `PER_BATCH` per stream, interleaved.
struct Publisher {
    ctx: Vec<Context>,
    seq: u16,
}

impl Publisher {
    fn new(profile: SrtpProfile) -> Res<Self> {
        let (k, s) = keys(profile, 1);
        let ctx = (0..STREAMS)
            .map(|_| Context::new(profile, &k, &s, Config::default()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        Ok(Publisher { ctx, seq: 0 })
    }
    fn batch(&mut self, out: &mut Vec<(usize, Vec<u8>)>) -> Res<()> {
        out.clear();
        for _ in 0..PER_BATCH {
            self.seq = self.seq.wrapping_add(1);
            for (s, ctx) in self.ctx.iter_mut().enumerate() {
                let mut p = packet(0x1000 + s as u32, self.seq);
                let len = p.len();
                p.resize(len + 16, 0);
                let n = ctx.protect_rtp(&mut p, len).map_err(err)?;
                p.truncate(n);
                out.push((s, p));
            }
        }
        Ok(())
    }
}

/// Forwards one warm-up batch (first packets of a stream set its state up), then `batches`
/// batches through `f`; returns (packets, the time of the forwarding at
/// the median batch's rate, heap blocks allocated while forwarding as `blocks` counts them).
pub fn run(
    profile: SrtpProfile,
    f: &mut dyn Forward,
    batches: usize,
    sink: Option<&Sink>,
    blocks: &dyn Fn() -> u64,
) -> Res<(u64, Duration, u64)> {
    let mut publisher = Publisher::new(profile)?;
    let mut pkts = Vec::with_capacity(STREAMS * PER_BATCH);
    let mut times = Vec::with_capacity(batches);
    let mut n = 0u64;
    let mut allocs = 0u64;
    publisher.batch(&mut pkts)?;
    for (s, p) in &pkts {
        f.forward(*s, p, sink)?;
    }
    for _ in 0..batches {
        publisher.batch(&mut pkts)?;
        let b = blocks();
        let t = std::time::Instant::now();
        for (s, p) in &pkts {
            f.forward(*s, p, sink)?;
        }
        times.push(t.elapsed());
        allocs += blocks().saturating_sub(b);
        n += pkts.len() as u64;
    }
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    Ok((n, median * times.len() as u32, allocs))
}

// ---- rtcwire-srtp: in place, in one reused buffer -------------------------------------------

pub struct Ours {
    rx: Vec<Context>,
    tx: Vec<Context>,
    buf: Vec<u8>,
}

impl Ours {
    pub fn new(profile: SrtpProfile) -> Res<Self> {
        let (k1, s1) = keys(profile, 1);
        let (k2, s2) = keys(profile, 2);
        let mk = |k: &[u8], s: &[u8]| -> Res<Vec<Context>> {
            (0..STREAMS)
                .map(|_| Context::new(profile, k, s, Config::default()).map_err(err))
                .collect()
        };
        Ok(Ours {
            rx: mk(&k1, &s1)?,
            tx: mk(&k2, &s2)?,
            buf: vec![0; 1500],
        })
    }
}

impl Forward for Ours {
    fn forward(&mut self, s: usize, pkt: &[u8], sink: Option<&Sink>) -> Res<()> {
        // As received into the socket buffer.
        let buf = &mut self.buf[..pkt.len()];
        buf.copy_from_slice(pkt);
        let (rx, tx) = (&mut self.rx[s], &mut self.tx[s]);
        let n = rx.unprotect_rtp(buf).map_err(err)?;
        let m = tx.protect_rtp(&mut self.buf, n).map_err(err)?;
        if let Some(sink) = sink {
            sink.send(&self.buf[..m]);
        }
        Ok(())
    }
}

// ---- webrtc-rs 0.17: webrtc-srtp (a new buffer per call) ------------------------------------

pub struct Webrtc17 {
    rx: Vec<webrtc_srtp::context::Context>,
    tx: Vec<webrtc_srtp::context::Context>,
}

fn webrtc_profile(p: SrtpProfile) -> webrtc_srtp::protection_profile::ProtectionProfile {
    use webrtc_srtp::protection_profile::ProtectionProfile as W;
    if p.is_aead() {
        W::AeadAes128Gcm
    } else {
        W::Aes128CmHmacSha1_80
    }
}

impl Webrtc17 {
    pub fn new(profile: SrtpProfile) -> Res<Self> {
        let mk = |seed: u8| -> Res<Vec<webrtc_srtp::context::Context>> {
            let (k, s) = keys(profile, seed);
            (0..STREAMS)
                .map(|_| {
                    webrtc_srtp::context::Context::new(&k, &s, webrtc_profile(profile), None, None)
                        .map_err(err)
                })
                .collect()
        };
        Ok(Webrtc17 {
            rx: mk(1)?,
            tx: mk(2)?,
        })
    }
}

impl Forward for Webrtc17 {
    fn forward(&mut self, s: usize, pkt: &[u8], sink: Option<&Sink>) -> Res<()> {
        let plain = self.rx[s].decrypt_rtp(pkt).map_err(err)?;
        let out = self.tx[s].encrypt_rtp(&plain).map_err(err)?;
        if let Some(sink) = sink {
            sink.send(&out);
        }
        Ok(())
    }
}

// ---- webrtc-rs 0.21: rtc-srtp (the sans-IO line's SRTP, ring provider) ----------------------

pub struct Rtc21 {
    rx: Vec<rtc_srtp::context::Context>,
    tx: Vec<rtc_srtp::context::Context>,
}

fn rtc_profile(p: SrtpProfile) -> rtc_srtp::protection_profile::ProtectionProfile {
    use rtc_srtp::protection_profile::ProtectionProfile as R;
    if p.is_aead() {
        R::AeadAes128Gcm
    } else {
        R::Aes128CmHmacSha1_80
    }
}

impl Rtc21 {
    pub fn new(profile: SrtpProfile) -> Res<Self> {
        let provider = rtc_crypto::default_provider().map_err(err)?;
        let mk = |seed: u8| -> Res<Vec<rtc_srtp::context::Context>> {
            let (k, s) = keys(profile, seed);
            (0..STREAMS)
                .map(|_| {
                    rtc_srtp::context::Context::new(
                        &k,
                        &s,
                        rtc_profile(profile),
                        None,
                        None,
                        provider.crypto(),
                    )
                    .map_err(err)
                })
                .collect()
        };
        Ok(Rtc21 {
            rx: mk(1)?,
            tx: mk(2)?,
        })
    }
}

impl Forward for Rtc21 {
    fn forward(&mut self, s: usize, pkt: &[u8], sink: Option<&Sink>) -> Res<()> {
        let plain = self.rx[s].decrypt_rtp(pkt).map_err(err)?;
        let out = self.tx[s].encrypt_rtp(&plain).map_err(err)?;
        if let Some(sink) = sink {
            sink.send(&out);
        }
        Ok(())
    }
}

/// The profiles measured.
pub const PROFILES: [SrtpProfile; 2] =
    [SrtpProfile::AeadAes128Gcm, SrtpProfile::Aes128CmHmacSha1_80];

#[allow(dead_code)]
pub const RTP_HEADER: usize = HEADER;
