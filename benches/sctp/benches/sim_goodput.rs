//! Goodput through rtcwire-sim (simulated time, no CPU limit): a 100 Mbit/s bottleneck with
//! a queue of one bandwidth-delay product, RTT 20/50/100/300 ms, random loss 0 % and 1 %;
//! one reliable ordered stream kept full of 64 KiB messages for 30 s of virtual time;
//! rtcwire-sctp and dcsctp in the same simulation. Prints a table in Mbit/s.
#![allow(
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use dcsctp::api::{
    DcSctpSocket, Message, Options, PpId, SendOptions as DcSendOptions, SocketEvent, SocketState,
    SocketTime, StreamId,
};
use rtcwire_proto::{Datagram, SansIo, SeededRng, Transmit};
use rtcwire_sctp::{Association, Config, Event, SendOptions};
use rtcwire_sim::{LinkConfig, Loss, Sim};

const MESSAGE: usize = 64 * 1024;
const BUFFERED: usize = 2 << 20;

/// Either end of a bulk transfer; the sender keeps its queue full, the receiver counts.
struct Ours {
    assoc: Association,
    sender: bool,
    delivered: u64,
    payload: Bytes,
}

impl SansIo for Ours {
    type Event = ();
    type Error = rtcwire_sctp::Error;
    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        self.assoc.handle_read(now, d)
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        if self.sender && self.assoc.is_established() {
            while self.assoc.total_buffered_amount() < BUFFERED {
                if self
                    .assoc
                    .send(now, 1, 53, self.payload.clone(), SendOptions::default())
                    .is_err()
                {
                    break;
                }
            }
        }
        self.assoc.poll_transmit(now, buf)
    }
    fn poll_event(&mut self) -> Option<()> {
        while let Some(e) = self.assoc.poll_event() {
            if let Event::Message(m) = e {
                self.delivered += m.data.len() as u64;
            }
        }
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.assoc.poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.assoc.handle_timeout(now);
    }
}

struct Theirs {
    sock: Box<dyn DcSctpSocket>,
    epoch: Instant,
    sender: bool,
    delivered: u64,
    out: std::collections::VecDeque<Vec<u8>>,
}

impl Theirs {
    fn tick(&mut self, now: Instant) {
        self.sock
            .advance_time(SocketTime::zero() + (now - self.epoch));
        while let Some(e) = self.sock.poll_event() {
            if let SocketEvent::SendPacket(p) = e {
                self.out.push_back(p);
            }
        }
        while let Some(m) = self.sock.get_next_message() {
            self.delivered += m.payload.len() as u64;
        }
    }
}

impl SansIo for Theirs {
    type Event = ();
    type Error = std::convert::Infallible;
    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        self.sock
            .advance_time(SocketTime::zero() + (now - self.epoch));
        self.sock.handle_input(d.contents);
        self.tick(now);
        Ok(())
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        if self.sender && self.sock.state() == SocketState::Connected {
            while self.sock.buffered_amount(StreamId(1)) < BUFFERED {
                let m = Message::new(StreamId(1), PpId(53), vec![0x5a; MESSAGE]);
                if self.sock.send(m, &DcSendOptions::default()).is_err() {
                    break;
                }
            }
        }
        self.tick(now);
        let p = self.out.pop_front()?;
        buf.extend_from_slice(&p);
        Some(Transmit::on_path(p.len()))
    }
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        let t = self.sock.poll_timeout();
        if t == SocketTime::infinite_future() {
            return None;
        }
        Some(self.epoch + (t - SocketTime::zero()))
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
    }
}

fn link(rtt_ms: u64, loss: f64) -> LinkConfig {
    let bdp = (100_000_000 / 8 * rtt_ms / 1000) as usize;
    LinkConfig::with_delay(Duration::from_millis(rtt_ms / 2))
        .bandwidth(100_000_000, bdp.max(64 * 1024))
        .loss(if loss > 0.0 {
            Loss::Random(loss)
        } else {
            Loss::None
        })
}

const RUN: Duration = Duration::from_secs(30);

fn ours(rtt_ms: u64, loss: f64) -> f64 {
    let mut sim = Sim::builder(7).exact_seed().build();
    let now = sim.now();
    let cfg = Config {
        max_message_size: 1 << 20,
        remote_max_message_size: 1 << 20,
        receive_window: 16 << 20,
        ..Config::default()
    };
    let payload = Bytes::from(vec![0x5a; MESSAGE]);
    let a = Ours {
        assoc: Association::new(cfg.clone(), Box::new(SeededRng::new(1)), now).unwrap(),
        sender: true,
        delivered: 0,
        payload: payload.clone(),
    };
    let b = Ours {
        assoc: Association::new(cfg, Box::new(SeededRng::new(2)), now).unwrap(),
        sender: false,
        delivered: 0,
        payload,
    };
    let a = sim.add_host("10.0.0.1:5000".parse().unwrap(), a);
    let b = sim.add_host("10.0.0.2:5000".parse().unwrap(), b);
    sim.link(a, b, link(rtt_ms, loss));
    sim.endpoint_mut(a).assoc.connect(now).unwrap();
    let _ = sim.run_until(
        |s| s.endpoint(a).assoc.is_established(),
        Duration::from_secs(10),
    );
    let t0 = sim.now();
    let _ = sim.run_for(RUN);
    let bytes = sim.endpoint(b).delivered;
    let st = sim.endpoint(a).assoc.stats();
    if std::env::var("SCTP_SIM_STATS").is_ok() {
        println!("   rtt {rtt_ms} loss {loss}: t3 {} fast {} rtx {} cwnd {} ssthresh {} peer_rwnd {} srtt {:?}", st.t3_expiries, st.fast_retransmits, st.retransmissions, st.cwnd, st.ssthresh, st.peer_rwnd, st.srtt);
    }
    bytes as f64 * 8.0 / (sim.now() - t0).as_secs_f64() / 1e6
}

fn theirs(rtt_ms: u64, loss: f64) -> f64 {
    let mut sim = Sim::builder(7).exact_seed().build();
    let now = sim.now();
    let o = Options {
        max_message_size: 1 << 20,
        max_receiver_window_buffer_size: 16 << 20,
        max_send_buffer_size: 4 << 20,
        per_stream_send_queue_limit: 4 << 20,
        ..Options::default()
    };
    let mk = |sender| Theirs {
        sock: dcsctp::new_socket("x", &o),
        epoch: now,
        sender,
        delivered: 0,
        out: Default::default(),
    };
    let a = sim.add_host("10.0.0.1:5000".parse().unwrap(), mk(true));
    let b = sim.add_host("10.0.0.2:5000".parse().unwrap(), mk(false));
    sim.link(a, b, link(rtt_ms, loss));
    sim.endpoint_mut(a).sock.connect();
    let _ = sim.run_until(
        |s| s.endpoint(a).sock.state() == SocketState::Connected,
        Duration::from_secs(10),
    );
    let t0 = sim.now();
    let _ = sim.run_for(RUN);
    let bytes = sim.endpoint(b).delivered;
    bytes as f64 * 8.0 / (sim.now() - t0).as_secs_f64() / 1e6
}

fn main() {
    if !rtcwire_bench_support::measuring() {
        return;
    }
    println!("goodput over rtcwire-sim, 100 Mbit/s bottleneck, queue = 1 BDP, 30 s, one ordered reliable stream (Mbit/s)");
    println!(
        "{:>8} {:>6} {:>14} {:>10}",
        "RTT", "loss", "rtcwire-sctp", "dcsctp"
    );
    for rtt in [20u64, 50, 100, 300] {
        for loss in [0.0, 0.01] {
            let o = ours(rtt, loss);
            let t = theirs(rtt, loss);
            println!(
                "{:>6}ms {:>5.0}% {:>14.1} {:>10.1}",
                rtt,
                loss * 100.0,
                o,
                t
            );
        }
    }
}
