//! Heap allocations on the media path, counted by dhat's allocator (this binary only): two
//! sessions wired in memory send VP8-sized video frames both ways; after a warm-up, every
//! allocation made while frames are written, protected, sent, received, reassembled and
//! handed up is counted per datagram and per frame. Goal: nothing per packet and nothing
//! per frame (a frame is a piece of its stream's reused block).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire::{
    Codec, Config, Datagram, Event, Input, MediaKind, Output, PeerConnection, PeerConnectionState,
};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const FRAMES: u32 = 300;

struct Wire {
    a: PeerConnection,
    b: PeerConnection,
    addr_a: SocketAddr,
    addr_b: SocketAddr,
    now: Instant,
    buf: Vec<u8>,
    /// Datagrams in flight, in slots reused from turn to turn.
    flight: Vec<(bool, SocketAddr, usize, Vec<u8>)>,
    used: usize,
    frames: u64,
    datagrams: u64,
    connected: (bool, bool),
}

impl Wire {
    /// Drains both sessions, delivers what they sent, moves time on by `step`.
    fn turn(&mut self, step: Duration) {
        for side_a in [true, false] {
            loop {
                self.buf.clear();
                let pc = if side_a { &mut self.a } else { &mut self.b };
                match pc.poll_output(&mut self.buf) {
                    Output::Transmit(t) => {
                        if self.used == self.flight.len() {
                            self.flight
                                .push((false, self.addr_a, 0, Vec::with_capacity(1500)));
                        }
                        let slot = &mut self.flight[self.used];
                        slot.0 = !side_a;
                        slot.1 = t.source.unwrap();
                        slot.2 = t.size;
                        slot.3.clear();
                        slot.3.extend_from_slice(&self.buf[..t.size]);
                        self.used += 1;
                        self.datagrams += 1;
                    }
                    Output::Event(Event::IceCandidate(c)) => {
                        let other = if side_a { &mut self.b } else { &mut self.a };
                        other.add_ice_candidate(&c).unwrap();
                    }
                    Output::Event(Event::MediaFrame(_)) => self.frames += 1,
                    Output::Event(Event::ConnectionStateChange(PeerConnectionState::Connected)) => {
                        if side_a {
                            self.connected.0 = true;
                        } else {
                            self.connected.1 = true;
                        }
                    }
                    Output::Event(_) => {}
                    Output::Timeout(_) => break,
                }
            }
        }
        self.now += step;
        for i in 0..self.used {
            let (to_a, from, size) = (self.flight[i].0, self.flight[i].1, self.flight[i].2);
            let (pc, to) = if to_a {
                (&mut self.a, self.addr_a)
            } else {
                (&mut self.b, self.addr_b)
            };
            let bytes = &self.flight[i].3[..size];
            let _ = pc.handle_input(Input::Receive(self.now, Datagram::udp(from, to, bytes)));
        }
        self.used = 0;
        self.a.handle_input(Input::Timeout(self.now)).unwrap();
        self.b.handle_input(Input::Timeout(self.now)).unwrap();
    }
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let certs = rtcwire_bench_session::certificates();
    #[allow(clippy::disallowed_methods)] // the start of virtual time
    let start = Instant::now();
    let mut a = PeerConnection::new(Config::seeded(1, certs.0.clone()), start).unwrap();
    let mut b = PeerConnection::new(Config::seeded(2, certs.1.clone()), start).unwrap();
    let va = a.add_track(MediaKind::Video, &["a"]).unwrap();
    let offer = a.create_offer().unwrap();
    a.set_local_description(offer.clone()).unwrap();
    b.set_remote_description(offer).unwrap();
    let vb = b.add_track(MediaKind::Video, &["b"]).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(answer.clone()).unwrap();
    a.set_remote_description(answer).unwrap();
    let addr_a: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    let addr_b: SocketAddr = "192.0.2.2:5000".parse().unwrap();
    a.add_local_candidate(addr_a).unwrap();
    b.add_local_candidate(addr_b).unwrap();
    let pt_a = a.payload_type(va, Codec::Vp8).unwrap();
    let pt_b = b.payload_type(vb, Codec::Vp8).unwrap();
    let mut w = Wire {
        a,
        b,
        addr_a,
        addr_b,
        now: start,
        buf: Vec::with_capacity(1500),
        flight: Vec::new(),
        used: 0,
        frames: 0,
        datagrams: 0,
        connected: (false, false),
    };
    for _ in 0..2000 {
        if w.connected == (true, true) {
            break;
        }
        w.turn(Duration::from_millis(5));
    }
    assert_eq!(w.connected, (true, true), "connected");
    let frame = vec![0x11u8; 5000]; // five RTP packets a frame
    let mut ts = 0u32;
    let mut send = |w: &mut Wire, n: u32| {
        for _ in 0..n {
            ts = ts.wrapping_add(3000);
            w.a.write_frame(va, pt_a, ts, &frame).unwrap();
            w.b.write_frame(vb, pt_b, ts, &frame).unwrap();
            w.turn(Duration::from_millis(33));
        }
    };
    send(&mut w, FRAMES); // warm-up: pools, send histories, jitter buffers, reports
    let (frames0, datagrams0) = (w.frames, w.datagrams);
    let blocks = dhat::HeapStats::get().total_blocks;
    send(&mut w, FRAMES);
    let allocs = dhat::HeapStats::get().total_blocks - blocks;
    let frames = w.frames - frames0;
    let datagrams = w.datagrams - datagrams0;
    assert_eq!(frames, 2 * u64::from(FRAMES), "every frame arrived");
    // Frames are pieces of each stream's reused block (dropped here as soon as counted),
    // so nothing is allocated per packet or per frame; what remains is timers (ICE consent
    // checks every few seconds), counted here against the packets anyway.
    println!(
        "media steady state: {allocs} allocations for {datagrams} datagrams and {frames} frames \
         received (timers included): {:.3} per datagram, {:.3} per received frame; goal 0 per packet",
        allocs as f64 / datagrams as f64,
        allocs as f64 / frames as f64,
    );
}
