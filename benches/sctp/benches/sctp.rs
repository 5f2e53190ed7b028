//! Bulk transfer between two SCTP associations in memory: one reliable ordered stream,
//! 64 KiB messages, no loss, no crypto, no latency (virtual time moves only when both sides
//! are idle and wait for a timer). rtcwire-sctp and dcsctp are driven the same way; the
//! figure is payload bytes delivered per second of CPU, printed as Gbit/s.
#![allow(
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcsctp::api::{
    DcSctpSocket, Message, Options, PpId, SendOptions as DcSendOptions, SocketTime, StreamId,
};
use rtcwire_proto::{Datagram, SansIo, SeededRng};
use rtcwire_sctp::{Association, Config, Event, SendOptions};

const MESSAGE: usize = 64 * 1024;
/// 16 MiB per transfer when measuring; 1 MiB in test mode (CI runs benches once, unoptimised).
fn messages() -> usize {
    if rtcwire_bench_support::measuring() {
        256
    } else {
        16
    }
}

fn config() -> Config {
    Config {
        max_message_size: 1 << 20,
        remote_max_message_size: 1 << 20,
        receive_window: 8 << 20,
        send_buffer: 8 << 20,
        stream_send_buffer: 8 << 20,
        heartbeat_interval: None,
        ..Config::default()
    }
}

/// Two connected rtcwire associations.
struct Ours {
    a: Association,
    b: Association,
    now: Instant,
    buf: Vec<u8>,
    steps: u64,
}

impl Ours {
    fn new() -> Self {
        let now = Instant::now();
        let mut a = Association::new(config(), Box::new(SeededRng::new(1)), now).unwrap();
        let b = Association::new(config(), Box::new(SeededRng::new(2)), now).unwrap();
        a.connect(now).unwrap();
        let mut s = Ours {
            a,
            b,
            now,
            buf: Vec::with_capacity(2048),
            steps: 0,
        };
        for _ in 0..100 {
            s.step();
            if s.a.is_established() && s.b.is_established() {
                break;
            }
        }
        assert!(s.a.is_established());
        while s.a.poll_event().is_some() {}
        while s.b.poll_event().is_some() {}
        s
    }

    /// Moves packets both ways once; returns bytes delivered to the application at b.
    fn step(&mut self) -> usize {
        self.steps += 1;
        let mut moved = false;
        for _ in 0..64 {
            self.buf.clear();
            let Some(t) = self.a.poll_transmit(self.now, &mut self.buf) else {
                break;
            };
            let _ = self
                .b
                .handle_read(self.now, Datagram::on_path(&self.buf[..t.size]));
            moved = true;
        }
        for _ in 0..64 {
            self.buf.clear();
            let Some(t) = self.b.poll_transmit(self.now, &mut self.buf) else {
                break;
            };
            let _ = self
                .a
                .handle_read(self.now, Datagram::on_path(&self.buf[..t.size]));
            moved = true;
        }
        let mut got = 0;
        while let Some(e) = self.b.poll_event() {
            if let Event::Message(m) = e {
                got += m.data.len();
            }
        }
        while self.a.poll_event().is_some() {}
        if !moved {
            // Both idle: jump to the next timer (a delayed SACK).
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            if let Some(t) = next {
                self.now = self.now.max(t);
                self.a.handle_timeout(self.now);
                self.b.handle_timeout(self.now);
            }
        } else {
            self.now += Duration::from_micros(10);
        }
        got
    }

    fn transfer(&mut self, payload: &Bytes) {
        let mut sent = 0;
        let mut got = 0;
        while got < messages() * MESSAGE {
            while sent < messages() && self.a.total_buffered_amount() < 4 << 20 {
                self.a
                    .send(self.now, 1, 53, payload.clone(), SendOptions::default())
                    .unwrap();
                sent += 1;
            }
            got += self.step();
        }
    }
}

/// Two connected dcsctp sockets.
struct Theirs {
    a: Box<dyn DcSctpSocket>,
    b: Box<dyn DcSctpSocket>,
    t: SocketTime,
    steps: u64,
    to_a: std::collections::VecDeque<Vec<u8>>,
    to_b: std::collections::VecDeque<Vec<u8>>,
}

impl Theirs {
    fn options() -> Options {
        Options {
            max_message_size: 1 << 20,
            max_receiver_window_buffer_size: 8 << 20,
            max_send_buffer_size: 8 << 20,
            per_stream_send_queue_limit: 8 << 20,
            heartbeat_interval: Duration::ZERO,
            ..Options::default()
        }
    }

    fn new() -> Self {
        let o = Self::options();
        let mut s = Theirs {
            a: dcsctp::new_socket("a", &o),
            b: dcsctp::new_socket("b", &o),
            t: SocketTime::zero(),
            steps: 0,
            to_a: std::collections::VecDeque::new(),
            to_b: std::collections::VecDeque::new(),
        };
        s.a.connect();
        for _ in 0..100 {
            s.step();
        }
        s
    }

    fn step(&mut self) -> usize {
        self.steps += 1;
        // Same pacing as the rtcwire pump: at most 64 packets each way per step.
        while let Some(e) = self.a.poll_event() {
            if let dcsctp::api::SocketEvent::SendPacket(p) = e {
                self.to_b.push_back(p);
            }
        }
        let mut moved = false;
        for _ in 0..64 {
            let Some(p) = self.to_b.pop_front() else {
                break;
            };
            self.b.handle_input(&p);
            moved = true;
        }
        while let Some(e) = self.b.poll_event() {
            if let dcsctp::api::SocketEvent::SendPacket(p) = e {
                self.to_a.push_back(p);
            }
        }
        for _ in 0..64 {
            let Some(p) = self.to_a.pop_front() else {
                break;
            };
            self.a.handle_input(&p);
            moved = true;
        }
        let mut got = 0;
        while let Some(m) = self.b.get_next_message() {
            got += m.payload.len();
        }
        if !moved {
            let next = self.a.poll_timeout().min(self.b.poll_timeout());
            if next != SocketTime::infinite_future() {
                self.t = self.t.max(next);
            }
        } else {
            self.t = self.t + Duration::from_micros(10);
        }
        self.a.advance_time(self.t);
        self.b.advance_time(self.t);
        got
    }

    fn transfer(&mut self, payload: &[u8]) {
        let mut sent = 0;
        let mut got = 0;
        while got < messages() * MESSAGE {
            while sent < messages() && self.a.buffered_amount(StreamId(1)) < 4 << 20 {
                // dcsctp takes the payload by value: one copy per message is its API's cost.
                self.a
                    .send(
                        Message::new(StreamId(1), PpId(53), payload.to_vec()),
                        &DcSendOptions::default(),
                    )
                    .unwrap();
                sent += 1;
            }
            got += self.step();
        }
    }
}

fn gbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 * 8.0 / d.as_secs_f64() / 1e9
}

fn bench(c: &mut Criterion) {
    let payload = Bytes::from(vec![0x5au8; MESSAGE]);
    let raw = vec![0x5au8; MESSAGE];
    let mut g = c.benchmark_group("sctp/bulk-64KiB-ordered-reliable");
    g.throughput(Throughput::Bytes((messages() * MESSAGE) as u64));
    g.sample_size(10);
    let mut ours = Ours::new();
    g.bench_function("rtcwire-sctp", |b| {
        b.iter(|| ours.transfer(black_box(&payload)))
    });
    let mut theirs = Theirs::new();
    g.bench_function("dcsctp", |b| b.iter(|| theirs.transfer(black_box(&raw))));
    g.finish();

    if rtcwire_bench_support::measuring() {
        // Plain figures, best of five 16 MiB transfers each, interleaved.
        let (mut best_ours, mut best_theirs) = (Duration::MAX, Duration::MAX);
        for _ in 0..5 {
            let t = Instant::now();
            ours.transfer(&payload);
            best_ours = best_ours.min(t.elapsed());
            let t = Instant::now();
            theirs.transfer(&raw);
            best_theirs = best_theirs.min(t.elapsed());
        }
        let bytes = messages() * MESSAGE;
        let (o, t) = (gbps(bytes, best_ours), gbps(bytes, best_theirs));
        println!("sctp bulk, 64 KiB messages, one ordered reliable stream, in memory, no crypto:");
        println!(
            "  rtcwire-sctp {o:6.2} Gbit/s  ({:.3} ns/byte)",
            best_ours.as_nanos() as f64 / bytes as f64
        );
        println!(
            "  dcsctp       {t:6.2} Gbit/s  ({:.3} ns/byte)",
            best_theirs.as_nanos() as f64 / bytes as f64
        );
        println!("  ratio rtcwire/dcsctp {:.2}x", o / t);
        let (t0, n0) = (theirs.t, theirs.steps);
        theirs.transfer(&raw);
        println!(
            "  dcsctp per transfer: {} steps, {:?} virtual",
            theirs.steps - n0,
            theirs.t - t0
        );
        let (t0, n0) = (ours.now, ours.steps);
        ours.transfer(&payload);
        println!(
            "  rtcwire per transfer: {} steps, {:?} virtual",
            ours.steps - n0,
            ours.now - t0
        );
        let s = ours.a.stats();
        println!(
            "  rtcwire-sctp sender: cwnd {} B, retransmissions {}, packets {}",
            s.cwnd, s.retransmissions, s.packets_sent
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
