#![no_main]
//! Packets into an association in each state: listening, COOKIE-WAIT, and established
//! (set up with a second association). The fuzz input is a state selector and a list of
//! length-prefixed packets; ports, verification tag and checksum are optionally fixed up so
//! that packets reach the chunk handlers. Nothing panics, the core's timers keep moving,
//! and what a peer sends never grows the receive side past its window.
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcwire_proto::{Datagram, SansIo, SeededRng};
use rtcwire_sctp::{wire, Association, Config, SendOptions};

fn config() -> Config {
    Config {
        receive_window: 64 * 1024,
        max_message_size: 16 * 1024,
        remote_max_message_size: 16 * 1024,
        ..Config::default()
    }
}

fn new(seed: u64, now: Instant, interleaving: bool) -> Association {
    let cfg = Config {
        interleaving,
        zero_checksum: interleaving,
        ..config()
    };
    Association::new(cfg, Box::new(SeededRng::new(seed)), now).expect("rng")
}

/// Moves packets both ways until quiet; returns the tag of the last packet to `b`.
fn pump(a: &mut Association, b: &mut Association, now: Instant, tag_to_b: &mut u32) {
    let mut buf = Vec::new();
    for _ in 0..64 {
        let mut any = false;
        buf.clear();
        if let Some(t) = a.poll_transmit(now, &mut buf) {
            *tag_to_b = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
            let _ = b.handle_read(now, Datagram::on_path(&buf[..t.size]));
            any = true;
        }
        buf.clear();
        if let Some(t) = b.poll_transmit(now, &mut buf) {
            let _ = a.handle_read(now, Datagram::on_path(&buf[..t.size]));
            any = true;
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        if !any {
            break;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    // The only real-clock reading: a base for virtual time.
    #[allow(clippy::disallowed_methods)]
    let mut now = Instant::now();
    // Bit 5 of the selector: both sides offer I-DATA and zero checksum.
    let extensions = mode & 0x20 != 0;
    let mut peer = new(1, now, extensions);
    let mut target = new(2, now, extensions);
    let mut tag = 0u32;
    match mode % 3 {
        0 => {}
        1 => {
            let _ = target.connect(now);
        }
        _ => {
            let _ = peer.connect(now);
            pump(&mut peer, &mut target, now, &mut tag);
            let _ = target.send(now, 1, 53, vec![7u8; 3000], SendOptions::default());
        }
    }
    let fix = mode & 0x80 != 0;
    let mut buf = Vec::new();
    let mut n = 0;
    while rest.len() >= 2 && n < 64 {
        n += 1;
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let mut p = rest[2..2 + len].to_vec();
        rest = &rest[2 + len..];
        if fix && p.len() >= 12 {
            p[0..4].copy_from_slice(&[0x13, 0x88, 0x13, 0x88]);
            if mode & 0x40 != 0 {
                p[4..8].copy_from_slice(&tag.to_be_bytes());
            }
            wire::finish_packet(&mut p);
        }
        let _ = target.handle_read(now, Datagram::on_path(&p));
        for _ in 0..64 {
            buf.clear();
            if target.poll_transmit(now, &mut buf).is_none() {
                break;
            }
            assert!(buf.len() <= config().mtu);
        }
        while target.poll_event().is_some() {}
        let s = target.stats();
        assert!(s.rwnd <= config().receive_window);
        if let Some(t) = target.poll_timeout() {
            now = now.max(t).min(now + Duration::from_secs(5));
            target.handle_timeout(now);
            if let Some(t2) = target.poll_timeout() {
                // A timer may not stay in the past once handled.
                assert!(t2 > now || t2 > t);
            }
        }
    }
});
