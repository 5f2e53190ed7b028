//! Records after the handshake: application data both ways, close_notify, buffer reuse,
//! the zero-copy path, and the error rule (a refused datagram is an `Err` that changes
//! nothing; a fatal failure is one event).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::*;
use rtcwire_dtls::{Error, Event};
use rtcwire_proto::SansIo;
use std::time::Instant;

#[test]
fn application_data_both_ways_then_close_notify() {
    let (mut client, mut server, now) = connected_pair(3);
    client.write(b"ping").unwrap();
    server.write(&[7u8; 1100]).unwrap();
    let (ce, se) = pump(&mut client, &mut server, now);
    assert!(matches!(&se[..], [Event::ApplicationData(d)] if d == b"ping"));
    assert!(matches!(&ce[..], [Event::ApplicationData(d)] if d == &[7u8; 1100]));
    client.close();
    let (ce, se) = pump(&mut client, &mut server, now);
    assert!(matches!(&ce[..], [Event::Closed]), "{ce:?}");
    assert!(matches!(&se[..], [Event::Closed]), "{se:?}");
    assert_eq!(server.write(b"x"), Err(Error::Closed));
}

#[test]
fn recycled_buffers_carry_later_records_intact() {
    let (mut client, mut server, now) = connected_pair(5);
    let addr = "127.0.0.1:1".parse().unwrap();
    // Sizes shrink and grow, so a reused buffer holding a longer old record must not leak
    // stale bytes into a shorter new one. The first (largest) record's buffers carry every
    // later record: no new allocation on either side.
    let (mut sent_at, mut recv_at) = (None, None);
    for (i, len) in [1200usize, 5, 700, 1200, 0, 33].into_iter().enumerate() {
        let data: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
        client.write(&data).unwrap();
        let t = client.poll_out().unwrap();
        server
            .handle_read(now, rtcwire_proto::Datagram::udp(addr, addr, &t.contents))
            .unwrap();
        assert_eq!(
            *sent_at.get_or_insert(t.contents.as_ptr()),
            t.contents.as_ptr()
        );
        match server.poll_event() {
            Some(Event::ApplicationData(d)) => {
                assert_eq!(d, data);
                assert_eq!(*recv_at.get_or_insert(d.as_ptr()), d.as_ptr());
                server.recycle(d);
            }
            other => panic!("expected application data, got {other:?}"),
        }
        client.recycle(t.contents);
    }
    assert_eq!(server.stats().bad_records, 0);
}

#[test]
fn replayed_and_tampered_records_are_dropped_and_counted() {
    let (mut client, mut server, now) = connected_pair(4);
    client.write(b"once").unwrap();
    let t = client.poll_out().unwrap();
    let addr = "127.0.0.1:1".parse().unwrap();
    let d = rtcwire_proto::Datagram::udp(addr, addr, &t.contents);
    server.handle_read(now, d).unwrap();
    // The error rule: a refused datagram is an `Err`, counted, and changes nothing else.
    assert_eq!(server.handle_read(now, d), Err(Error::DatagramRefused));
    client.write(b"twice").unwrap();
    let mut bad = client.poll_out().unwrap().contents;
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(
        server.handle_read(
            now,
            rtcwire_proto::Datagram {
                contents: &bad,
                ..d
            },
        ),
        Err(Error::DatagramRefused)
    );
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(server.stats().replayed_records, 1);
    assert_eq!(server.stats().bad_records, 1);
    assert_eq!(server.stats().refused_datagrams, 2);
    // Still connected and usable.
    assert!(server.is_connected());
    client.write(b"thrice").unwrap();
    let t = client.poll_out().unwrap();
    server
        .handle_read(now, rtcwire_proto::Datagram::udp(addr, addr, &t.contents))
        .unwrap();
    assert!(matches!(
        server.poll_event(),
        Some(Event::ApplicationData(ref d)) if d == b"thrice"
    ));
}

#[test]
fn a_fatal_failure_is_one_event_never_an_err_and_then_input_is_refused() {
    let (c, s) = ident();
    let other = rtcwire_dtls::Certificate::generate_self_signed().unwrap();
    let now = Instant::now();
    let (cb, _) = builders(&c, &s);
    // The server expects someone else's certificate: the client's flight 5 fails it.
    let sb = rtcwire_dtls::Config::builder(s.clone()).remote_fingerprint(other.fingerprint());
    let (mut client, mut server) = connections(cb, sb, 21, now);
    let addr = "127.0.0.1:1".parse().unwrap();
    let mut results = Vec::new();
    for _ in 0..8 {
        while let Some(t) = client.poll_out() {
            results.push(
                server.handle_read(now, rtcwire_proto::Datagram::udp(addr, addr, &t.contents)),
            );
        }
        while let Some(t) = server.poll_out() {
            let _ = client.handle_read(now, rtcwire_proto::Datagram::udp(addr, addr, &t.contents));
        }
    }
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    let errors: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::Error(_)))
        .collect();
    assert_eq!(errors.len(), 1, "{events:?}");
    assert!(matches!(
        errors[0],
        Event::Error(Error::FingerprintMismatch)
    ));
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || *r == Err(Error::Closed)),
        "a fatal failure is reported as an event, not as Err: {results:?}"
    );
    assert!(server.is_closed());
    assert_eq!(
        server.poll_timeout(),
        None,
        "a closed connection arms no timer"
    );
    assert_eq!(
        server.handle_read(now, rtcwire_proto::Datagram::udp(addr, addr, b"\x16late")),
        Err(Error::Closed)
    );
}

#[test]
fn write_before_connected_is_refused() {
    let (c, s) = ident();
    let (cb, _) = builders(&c, &s);
    let (mut client, _) = connections(cb, builders(&c, &s).1, 5, Instant::now());
    assert_eq!(client.write(b"early"), Err(Error::NotConnected));
}

#[test]
fn records_sealed_and_opened_in_place_need_no_copy_and_keep_the_rules() {
    let (mut client, mut server, now) = connected_pair(31);
    let prefix = client.record_prefix_len();
    let mut buf = vec![0u8; prefix];
    buf.extend_from_slice(b"straight into the record");
    client.seal_in_place(&mut buf, 0).unwrap();
    assert_eq!(buf.len(), 24 + client.record_overhead());
    let sent = buf.clone();
    let range = server.handle_read_in_place(now, &mut buf).unwrap().unwrap();
    assert_eq!(&buf[range], b"straight into the record");
    // The same record again is a replay; a flipped bit fails authentication. Both refused,
    // counted, and nothing else changes.
    let mut again = sent.clone();
    assert_eq!(
        server.handle_read_in_place(now, &mut again),
        Err(Error::DatagramRefused)
    );
    let mut forged = vec![0u8; prefix];
    forged.extend_from_slice(b"second");
    client.seal_in_place(&mut forged, 0).unwrap();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(
        server.handle_read_in_place(now, &mut forged),
        Err(Error::DatagramRefused)
    );
    assert_eq!(server.stats().replayed_records, 1);
    assert_eq!(server.stats().bad_records, 1);
    // The copying path reads in-place records too, and in-place reading takes ordinary ones.
    client.write(b"queued").unwrap();
    let mut queued = client.poll_out().unwrap().contents;
    let r = server
        .handle_read_in_place(now, &mut queued)
        .unwrap()
        .unwrap();
    assert_eq!(&queued[r], b"queued");
    assert!(server.poll_event().is_none(), "in place: no event, no copy");
    // Before the handshake there is nothing to seal.
    let (c, s) = ident();
    let (cb, sb) = builders(&c, &s);
    let (mut fresh, _) = connections(cb, sb, 32, now);
    let mut early = vec![0u8; 64];
    assert_eq!(fresh.seal_in_place(&mut early, 0), Err(Error::NotConnected));
}
