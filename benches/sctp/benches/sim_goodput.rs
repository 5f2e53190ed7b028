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
    let l = sim.link(a, b, link(rtt_ms, loss));
    sim.endpoint_mut(a).assoc.connect(now).unwrap();
    let _ = sim.run_until(
        |s| s.endpoint(a).assoc.is_established(),
        Duration::from_secs(10),
    );
    let t0 = sim.now();
    if std::env::var("SCTP_SIM_TRACE").is_ok() {
        // One line per simulated second: how the window moves.
        for i in 0..RUN.as_secs() {
            let before = sim.endpoint(b).delivered;
            let _ = sim.run_for(Duration::from_secs(1));
            let st = sim.endpoint(a).assoc.stats();
            let ls = sim.link_stats(l, rtcwire_sim::Direction::Forward);
            println!(
                "   t {i:>2}s drops {:>6} rtx {:>6} {:>6.1} Mbit/s cwnd {:>8} ssthresh {:>9} flight {:>8} srtt {:?} fast {} tlp {} t3 {} random {} congestion {}",
                ls.dropped, st.retransmissions,
                (sim.endpoint(b).delivered - before) as f64 * 8e-6,
                st.cwnd, st.ssthresh, st.flight, st.srtt, st.fast_retransmits, st.tail_loss_probes, st.t3_expiries, st.random_loss_episodes, st.congestion_episodes
            );
        }
    } else {
        let _ = sim.run_for(RUN);
    }
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

/// Two of our flows from A to B, told apart by SCTP port, sharing the bottleneck; the second
/// starts `stagger` after the first.
struct Two(Vec<Ours>, Vec<Instant>);

impl SansIo for Two {
    type Event = ();
    type Error = rtcwire_sctp::Error;
    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        let port = d
            .contents
            .get(2..4)
            .map(|p| u16::from_be_bytes([p[0], p[1]]));
        match self
            .0
            .iter_mut()
            .find(|f| Some(f.assoc.config().local_port) == port)
        {
            Some(f) => f.handle_read(now, d),
            None => Err(rtcwire_sctp::Error::WrongPort),
        }
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        for (f, start) in self.0.iter_mut().zip(&self.1) {
            if now < *start {
                if let Some(t) = f.assoc.poll_transmit(now, buf) {
                    return Some(t);
                }
                continue;
            }
            if let Some(t) = f.poll_transmit(now, buf) {
                return Some(t);
            }
        }
        None
    }
    fn poll_event(&mut self) -> Option<()> {
        for f in &mut self.0 {
            let _ = f.poll_event();
        }
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.0.iter().filter_map(|f| f.poll_timeout()).min()
    }
    fn handle_timeout(&mut self, now: Instant) {
        for f in &mut self.0 {
            if f.poll_timeout().is_some_and(|t| t <= now) {
                f.handle_timeout(now);
            }
        }
    }
}

/// Two flows, 100 Mbit/s, `rtt_ms`, the second starting 5 s after the first; Mbit/s of
/// each over the last 20 s of 60.
fn fairness(rtt_ms: u64, loss: f64) -> (f64, f64) {
    let mut sim = Sim::builder(7).exact_seed().build();
    let now = sim.now();
    let payload = Bytes::from(vec![0x5a; MESSAGE]);
    let mk = |port: u16, seed: u64, sender: bool| {
        let cfg = Config {
            local_port: port,
            remote_port: port,
            max_message_size: 1 << 20,
            remote_max_message_size: 1 << 20,
            receive_window: 16 << 20,
            ..Config::default()
        };
        Ours {
            assoc: Association::new(cfg, Box::new(SeededRng::new(seed)), now).unwrap(),
            sender,
            delivered: 0,
            payload: payload.clone(),
        }
    };
    let starts = vec![now, now + Duration::from_secs(5)];
    let a = sim.add_host(
        "10.0.0.1:5000".parse().unwrap(),
        Two(vec![mk(5000, 1, true), mk(5001, 2, true)], starts),
    );
    let b = sim.add_host(
        "10.0.0.2:5000".parse().unwrap(),
        Two(vec![mk(5000, 3, false), mk(5001, 4, false)], vec![now, now]),
    );
    sim.link(a, b, link(rtt_ms, loss));
    for f in &mut sim.endpoint_mut(a).0 {
        f.assoc.connect(now).unwrap();
    }
    let _ = sim.run_for(Duration::from_secs(40));
    let before: Vec<u64> = sim.endpoint(b).0.iter().map(|f| f.delivered).collect();
    let _ = sim.run_for(Duration::from_secs(20));
    let r: Vec<f64> = sim
        .endpoint(b)
        .0
        .iter()
        .zip(before)
        .map(|(f, b)| (f.delivered - b) as f64 * 8.0 / 20.0 / 1e6)
        .collect();
    (r[0], r[1])
}

/// Rows to run: arguments after `--` that are not flags filter the rows by their label
/// (`100ms/1%`, `ms/0%`...); `ours` leaves dcsctp out.
fn main() {
    if !rtcwire_bench_support::measuring() {
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let only_ours = args.iter().any(|a| a == "ours");
    let filters: Vec<&String> = args.iter().filter(|a| *a != "ours").collect();
    println!("goodput over rtcwire-sim, 100 Mbit/s bottleneck, queue = 1 BDP, 30 s, one ordered reliable stream (Mbit/s)");
    println!(
        "{:>8} {:>6} {:>14} {:>10}",
        "RTT", "loss", "rtcwire-sctp", "dcsctp"
    );
    for rtt in [20u64, 50, 100, 300] {
        for loss in [0.0, 0.01] {
            let label = format!("{rtt}ms/{:.0}%", loss * 100.0);
            if !filters.is_empty() && !filters.iter().any(|f| label.contains(f.as_str())) {
                continue;
            }
            let o = ours(rtt, loss);
            let t = if only_ours {
                f64::NAN
            } else {
                theirs(rtt, loss)
            };
            println!(
                "{:>6}ms {:>5.0}% {:>14.1} {:>10.1}",
                rtt,
                loss * 100.0,
                o,
                t
            );
        }
    }
    // Two flows sharing the bottleneck (`fair` in the filter): Jain's index of the shares.
    if filters.iter().any(|f| f.as_str() == "fair") {
        println!("two rtcwire-sctp flows sharing the bottleneck, the second started 5 s later; Mbit/s over 40-60 s");
        for (rtt, loss) in [(50u64, 0.0), (50, 0.01), (100, 0.0)] {
            let (x, y) = fairness(rtt, loss);
            let jain = (x + y) * (x + y) / (2.0 * (x * x + y * y));
            println!(
                "{:>6}ms {:>5.0}% {x:>6.1} + {y:>6.1} = {:>6.1}  Jain {jain:.3}",
                rtt,
                loss * 100.0,
                x + y
            );
        }
    }
}
