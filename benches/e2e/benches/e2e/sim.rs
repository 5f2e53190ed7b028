//! Data-channel goodput through the whole session (`rtcwire::PeerConnection` pair: ICE,
//! DTLS, SCTP, data channel) in rtcwire-sim: a 100 Mbit/s bottleneck with a queue of one
//! bandwidth-delay product, RTT 20/50/100/300 ms, random loss 0 % and 1 %, virtual time.
//! The sender keeps its channel's buffered amount at two bandwidth-delay products (at
//! least 1 MiB) of 64 KiB messages, so the application never limits the window.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire::{
    Certificate, ChannelId, Config, DataChannelInit, Event, Input, Payload, PeerConnection,
};
use rtcwire_proto::{Datagram, SansIo, Transmit};
use rtcwire_sim::{LinkConfig, Loss, Sim};

use crate::common::{err, Res, MESSAGE};

pub const RATE: u64 = 100_000_000;

struct End {
    pc: PeerConnection,
    chat: Option<ChannelId>,
    open: bool,
    /// Keep at most this much buffered (the sender only).
    fill: usize,
    delivered: u64,
    msg: Vec<u8>,
}

impl SansIo for End {
    type Event = ();
    type Error = rtcwire::Error;
    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        self.pc.handle_read(now, d)
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        if let (Some(id), true) = (self.chat, self.open) {
            // Bounded: at most the fill level in messages per call.
            for _ in 0..(self.fill / MESSAGE + 1) {
                if self.pc.buffered_amount(id) > self.fill
                    || self.pc.send_binary(id, &self.msg).is_err()
                {
                    break;
                }
            }
        }
        self.pc.poll_transmit(now, buf)
    }
    fn poll_event(&mut self) -> Option<()> {
        while let Some(e) = self.pc.poll_event() {
            match e {
                Event::ChannelOpen(id) if Some(id) == self.chat => self.open = true,
                Event::ChannelMessage { payload, .. } => {
                    self.delivered += match payload {
                        Payload::Binary(b) => b.len(),
                        Payload::Text(t) => t.len(),
                    } as u64;
                }
                _ => {}
            }
        }
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.pc.poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.pc.handle_timeout(now);
    }
}

fn link(rtt_ms: u64, loss: f64) -> LinkConfig {
    let bdp = (RATE / 8 * rtt_ms / 1000) as usize;
    LinkConfig::with_delay(Duration::from_millis(rtt_ms / 2))
        .bandwidth(RATE, bdp.max(64 * 1024))
        .loss(if loss > 0.0 {
            Loss::Random(loss)
        } else {
            Loss::None
        })
}

/// Goodput in Mbit/s over `run` of virtual time after the channel opened.
pub fn goodput(
    certs: &(Certificate, Certificate),
    rtt_ms: u64,
    loss: f64,
    run: Duration,
) -> Res<f64> {
    let mut sim = Sim::builder(7).exact_seed().build();
    let now = sim.now();
    let (aa, ab): (SocketAddr, SocketAddr) =
        (([10, 0, 0, 1], 5000).into(), ([10, 0, 0, 2], 6000).into());
    let mut pa = PeerConnection::new(Config::seeded(11, certs.0.clone()), now).map_err(err)?;
    let mut pb = PeerConnection::new(Config::seeded(12, certs.1.clone()), now).map_err(err)?;
    let chat = pa
        .create_data_channel("bulk", DataChannelInit::default())
        .map_err(err)?;
    pa.add_local_candidate(aa).map_err(err)?;
    pa.end_of_local_candidates();
    pb.add_local_candidate(ab).map_err(err)?;
    pb.end_of_local_candidates();
    let offer = pa.create_offer().map_err(err)?;
    pa.set_local_description(offer.clone()).map_err(err)?;
    pb.set_remote_description(offer).map_err(err)?;
    let answer = pb.create_answer().map_err(err)?;
    pb.set_local_description(answer.clone()).map_err(err)?;
    pa.set_remote_description(answer).map_err(err)?;
    let _ = pa.handle_input(Input::Timeout(now));
    let bdp = (RATE / 8 * rtt_ms / 1000) as usize;
    let a = sim.add_host(
        aa,
        End {
            pc: pa,
            chat: Some(chat),
            open: false,
            fill: (2 * bdp).max(1 << 20),
            delivered: 0,
            msg: vec![0x5a; MESSAGE],
        },
    );
    let b = sim.add_host(
        ab,
        End {
            pc: pb,
            chat: None,
            open: false,
            fill: 0,
            delivered: 0,
            msg: Vec::new(),
        },
    );
    sim.link(a, b, link(rtt_ms, loss));
    let _ = sim.run_until(|s| s.endpoint(a).open, Duration::from_secs(30));
    if !sim.endpoint(a).open {
        return Err(err(format!(
            "rtt {rtt_ms} ms loss {loss}: the channel did not open"
        )));
    }
    let t0 = sim.now();
    let d0 = sim.endpoint(b).delivered;
    let _ = sim.run_for(run);
    let bytes = sim.endpoint(b).delivered - d0;
    Ok(bytes as f64 * 8.0 / (sim.now() - t0).as_secs_f64() / 1e6)
}

/// Virtual time from createOffer to the offerer's channel open over a perfect link (no
/// delay, no loss): what the session's own timers cost, without any I/O.
pub fn open_virtual(certs: &(Certificate, Certificate)) -> Res<Duration> {
    let mut sim = Sim::builder(9).exact_seed().build();
    let now = sim.now();
    let (aa, ab): (SocketAddr, SocketAddr) =
        (([10, 0, 0, 1], 5000).into(), ([10, 0, 0, 2], 6000).into());
    let mut pa = PeerConnection::new(Config::seeded(21, certs.0.clone()), now).map_err(err)?;
    let mut pb = PeerConnection::new(Config::seeded(22, certs.1.clone()), now).map_err(err)?;
    let chat = pa
        .create_data_channel("c", DataChannelInit::default())
        .map_err(err)?;
    pa.add_local_candidate(aa).map_err(err)?;
    pa.end_of_local_candidates();
    pb.add_local_candidate(ab).map_err(err)?;
    pb.end_of_local_candidates();
    let offer = pa.create_offer().map_err(err)?;
    pa.set_local_description(offer.clone()).map_err(err)?;
    pb.set_remote_description(offer).map_err(err)?;
    let answer = pb.create_answer().map_err(err)?;
    pb.set_local_description(answer.clone()).map_err(err)?;
    pa.set_remote_description(answer).map_err(err)?;
    let mk = |pc, chat| End {
        pc,
        chat,
        open: false,
        fill: 0,
        delivered: 0,
        msg: Vec::new(),
    };
    let a = sim.add_host(aa, mk(pa, Some(chat)));
    let b = sim.add_host(ab, mk(pb, None));
    sim.link(a, b, LinkConfig::with_delay(Duration::ZERO));
    let _ = sim.run_until(|s| s.endpoint(a).open, Duration::from_secs(30));
    if !sim.endpoint(a).open {
        return Err(err("the channel did not open"));
    }
    Ok(sim.now() - now)
}
