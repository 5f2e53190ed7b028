//! Bulk transfer between two SCTP associations in memory: one reliable ordered stream,
//! 64 KiB messages, no loss, no crypto, no latency (virtual time moves only when both sides
//! are idle and wait for a timer). rtcwire-sctp, dcsctp and sctp-proto (str0m's SCTP) are
//! driven the same way, sans-IO, by the same kind of pump; webrtc-rs `webrtc-sctp` has no
//! sans-IO core, so it runs over webrtc-util's in-memory pipe on a current-thread tokio
//! runtime (its timers on the real clock). The figure is payload bytes delivered per
//! second, printed as Gbit/s.
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

/// Two connected sctp-proto associations (str0m's SCTP), each behind its endpoint.
struct Proto {
    ea: sctp_proto::Endpoint,
    eb: sctp_proto::Endpoint,
    a: sctp_proto::Association,
    b: Option<sctp_proto::Association>,
    addr_a: std::net::SocketAddr,
    addr_b: std::net::SocketAddr,
    now: Instant,
    steps: u64,
}

impl Proto {
    fn transport() -> std::sync::Arc<sctp_proto::TransportConfig> {
        std::sync::Arc::new(
            sctp_proto::TransportConfig::default()
                .with_max_receive_buffer_size(8 << 20)
                .with_max_send_message_size(1 << 20)
                .with_max_receive_message_size(1 << 20),
        )
    }

    fn new() -> Self {
        use std::sync::Arc;
        let cfg = Arc::new(sctp_proto::EndpointConfig::default());
        let mut server = sctp_proto::ServerConfig::new();
        server.transport = Self::transport();
        let mut ea = sctp_proto::Endpoint::new(cfg.clone(), None);
        let eb = sctp_proto::Endpoint::new(cfg, Some(Arc::new(server)));
        let addr_a: std::net::SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let addr_b: std::net::SocketAddr = "127.0.0.1:5001".parse().unwrap();
        let mut client = sctp_proto::ClientConfig::new();
        client.transport = Self::transport();
        let (_, a) = ea.connect(client, addr_b).unwrap();
        let mut s = Proto {
            ea,
            eb,
            a,
            b: None,
            addr_a,
            addr_b,
            now: Instant::now(),
            steps: 0,
        };
        for _ in 0..100 {
            s.step();
        }
        assert!(s.b.is_some() && !s.a.is_handshaking());
        s.a.open_stream(1, sctp_proto::PayloadProtocolIdentifier::Binary)
            .unwrap();
        s
    }

    fn step(&mut self) -> usize {
        use sctp_proto::{DatagramEvent, Payload};
        self.steps += 1;
        let mut moved = false;
        for _ in 0..64 {
            let Some(t) = self.a.poll_transmit(self.now) else {
                break;
            };
            let Payload::RawEncode(packets) = t.payload else {
                continue;
            };
            for p in packets {
                moved = true;
                match self.eb.handle(self.now, self.addr_a, None, None, p) {
                    Some((_, DatagramEvent::NewAssociation(b))) => self.b = Some(b),
                    Some((_, DatagramEvent::AssociationEvent(e))) => {
                        if let Some(b) = self.b.as_mut() {
                            b.handle_event(e);
                        }
                    }
                    None => {}
                }
            }
        }
        let mut got = 0;
        if let Some(b) = self.b.as_mut() {
            for _ in 0..64 {
                let Some(t) = b.poll_transmit(self.now) else {
                    break;
                };
                let Payload::RawEncode(packets) = t.payload else {
                    continue;
                };
                for p in packets {
                    moved = true;
                    if let Some((_, DatagramEvent::AssociationEvent(e))) =
                        self.ea.handle(self.now, self.addr_b, None, None, p)
                    {
                        self.a.handle_event(e);
                    }
                }
            }
            while let Some(e) = b.poll() {
                if let sctp_proto::Event::Stream(
                    sctp_proto::StreamEvent::Readable { id }
                    | sctp_proto::StreamEvent::Opened { id },
                ) = e
                {
                    let _ = b.accept_stream();
                    if let Ok(mut st) = b.stream(id) {
                        while let Ok(Some(c)) = st.read_sctp() {
                            got += c.len();
                        }
                    }
                }
            }
        }
        while self.a.poll().is_some() {}
        if !moved {
            let next = [
                self.a.poll_timeout(),
                self.b.as_ref().and_then(|b| b.poll_timeout()),
            ]
            .into_iter()
            .flatten()
            .min();
            if let Some(t) = next {
                self.now = self.now.max(t);
                self.a.handle_timeout(self.now);
                if let Some(b) = self.b.as_mut() {
                    b.handle_timeout(self.now);
                }
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
            while sent < messages() {
                let mut st = self.a.stream(1).unwrap();
                if st.buffered_amount().unwrap() >= 4 << 20 {
                    break;
                }
                st.write_sctp(payload, sctp_proto::PayloadProtocolIdentifier::Binary)
                    .unwrap();
                sent += 1;
            }
            got += self.step();
        }
    }
}

/// Two connected webrtc-sctp associations over webrtc-util's in-memory pipe.
struct WebrtcRs {
    rt: tokio::runtime::Runtime,
    tx: std::sync::Arc<webrtc_sctp::stream::Stream>,
    rx: Option<std::sync::Arc<webrtc_sctp::stream::Stream>>,
    // Kept alive for the streams.
    _assocs: (
        webrtc_sctp::association::Association,
        webrtc_sctp::association::Association,
    ),
}

impl WebrtcRs {
    fn new() -> Self {
        use std::sync::Arc;
        use webrtc_sctp::association::{Association as A, Config as C};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let (ca, cb) = webrtc_util::conn::conn_pipe::pipe();
        let cfg = |conn: Arc<dyn webrtc_util::Conn + Send + Sync>, name: &str| C {
            net_conn: conn,
            max_receive_buffer_size: 8 << 20,
            max_message_size: 1 << 20,
            mtu: 0,
            name: name.into(),
            remote_port: 5000,
            local_port: 5000,
        };
        let (a, b) = rt.block_on(async {
            let (a, b) = tokio::join!(
                A::client(cfg(Arc::new(ca), "a")),
                A::server(cfg(Arc::new(cb), "b"))
            );
            (a.unwrap(), b.unwrap())
        });
        let tx = rt
            .block_on(a.open_stream(
                1,
                webrtc_sctp::chunk::chunk_payload_data::PayloadProtocolIdentifier::Binary,
            ))
            .unwrap();
        WebrtcRs {
            rt,
            tx,
            rx: None,
            _assocs: (a, b),
        }
    }

    fn transfer(&mut self, payload: &Bytes) {
        use webrtc_sctp::chunk::chunk_payload_data::PayloadProtocolIdentifier as Ppi;
        let tx = self.tx.clone();
        let rx = self.rx.clone();
        let b = &self._assocs.1;
        let rx = self.rt.block_on(async move {
            let writer = async {
                for _ in 0..messages() {
                    while tx.buffered_amount() >= 4 << 20 {
                        tokio::task::yield_now().await;
                    }
                    tx.write_sctp(payload, Ppi::Binary).await.unwrap();
                }
            };
            let reader = async {
                let rx = match rx {
                    Some(r) => r,
                    None => b.accept_stream().await.unwrap(),
                };
                let mut buf = vec![0u8; 2 * MESSAGE];
                let mut got = 0;
                while got < messages() * MESSAGE {
                    got += rx.read(&mut buf).await.unwrap();
                }
                rx
            };
            let ((), rx) = tokio::join!(writer, reader);
            rx
        });
        self.rx = Some(rx);
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
    let mut proto = Proto::new();
    g.bench_function("sctp-proto", |b| {
        b.iter(|| proto.transfer(black_box(&payload)))
    });
    let mut webrtc = WebrtcRs::new();
    g.bench_function("webrtc-sctp", |b| {
        b.iter(|| webrtc.transfer(black_box(&payload)))
    });
    g.finish();

    if rtcwire_bench_support::measuring() {
        // Plain figures, best of five 16 MiB transfers each, interleaved.
        let (mut best_ours, mut best_theirs) = (Duration::MAX, Duration::MAX);
        let (mut best_proto, mut best_webrtc) = (Duration::MAX, Duration::MAX);
        for _ in 0..5 {
            let t = Instant::now();
            ours.transfer(&payload);
            best_ours = best_ours.min(t.elapsed());
            let t = Instant::now();
            theirs.transfer(&raw);
            best_theirs = best_theirs.min(t.elapsed());
            let t = Instant::now();
            proto.transfer(&payload);
            best_proto = best_proto.min(t.elapsed());
            let t = Instant::now();
            webrtc.transfer(&payload);
            best_webrtc = best_webrtc.min(t.elapsed());
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
        for (name, d) in [("sctp-proto", best_proto), ("webrtc-sctp", best_webrtc)] {
            let g = gbps(bytes, d);
            println!(
                "  {name:<12} {g:6.2} Gbit/s  ({:.3} ns/byte)  ratio rtcwire/{name} {:.2}x",
                d.as_nanos() as f64 / bytes as f64,
                o / g
            );
        }
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
