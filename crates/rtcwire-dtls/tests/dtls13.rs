//! DTLS 1.3 between our own client and server: every suite and group, the exported SRTP
//! keys, application data and KeyUpdate both ways, version fallback and the downgrade
//! sentinel, and handshakes on rtcwire-sim under loss.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::{builders, connections, ident, pump, run, Net, Outcome, PollOut};
use rtcwire_dtls::{CipherSuite, Connection, Event, NamedGroup};
use rtcwire_proto::{Datagram, SansIo};
use std::time::{Duration, Instant};

fn srtp_of(events: &[Event]) -> Option<rtcwire_dtls::KeyingMaterial> {
    events.iter().find_map(|e| match e {
        Event::Connected { srtp, .. } => srtp.clone(),
        _ => None,
    })
}

fn suite_of(events: &[Event]) -> Option<CipherSuite> {
    events.iter().find_map(|e| match e {
        Event::Connected { cipher_suite, .. } => Some(*cipher_suite),
        _ => None,
    })
}

fn pair13(
    suite: CipherSuite,
    group: NamedGroup,
    seed: u64,
) -> (Connection, Connection, Vec<Event>, Vec<Event>) {
    let (c, s) = ident();
    let (cb, sb) = builders(&c, &s);
    let cb = cb
        .dtls13(true)
        .dtls13_cipher_suites(&[suite])
        .dtls13_groups(&[group]);
    let sb = sb.dtls13(true);
    let now = Instant::now();
    let (mut client, mut server) = connections(cb, sb, seed, now);
    let (ce, se) = pump(&mut client, &mut server, now);
    (client, server, ce, se)
}

#[test]
fn every_suite_and_group_connects_with_equal_srtp_keys() {
    for (i, suite) in CipherSuite::TLS13.iter().enumerate() {
        for group in [
            NamedGroup::X25519MlKem768,
            NamedGroup::X25519,
            NamedGroup::Secp256r1,
        ] {
            let (client, server, ce, se) = pair13(*suite, group, i as u64);
            assert!(Outcome::connected(&ce), "{suite} {group:?}: {ce:?}");
            assert!(Outcome::connected(&se), "{suite} {group:?}: {se:?}");
            assert_eq!(client.protocol_version(), Some(0xfefc));
            assert_eq!(server.protocol_version(), Some(0xfefc));
            assert_eq!(client.dtls13_group(), Some(group));
            assert_eq!(server.dtls13_group(), Some(group));
            assert_eq!(suite_of(&ce), Some(*suite));
            let (a, b) = (srtp_of(&ce).unwrap(), srtp_of(&se).unwrap());
            assert_eq!(a.profile(), b.profile());
            assert_eq!(a.as_bytes(), b.as_bytes());
            assert_eq!(
                client.export_keying_material(b"EXPORTER-test", 32),
                server.export_keying_material(b"EXPORTER-test", 32)
            );
        }
    }
}

#[test]
fn application_data_and_key_updates_flow_both_ways() {
    let (mut client, mut server, ..) =
        pair13(CipherSuite::Tls13Aes128GcmSha256, NamedGroup::X25519, 7);
    assert!(client.is_connected() && server.is_connected());
    let now = Instant::now();
    for round in 0..3u8 {
        client.write(&[round; 100]).unwrap();
        server.write(&[round + 10; 50]).unwrap();
        let (ce, se) = pump(&mut client, &mut server, now);
        assert!(
            se.iter()
                .any(|e| matches!(e, Event::ApplicationData(d) if d == &vec![round; 100])),
            "{se:?}"
        );
        assert!(
            ce.iter()
                .any(|e| matches!(e, Event::ApplicationData(d) if d == &vec![round + 10; 50])),
            "{ce:?}"
        );
        // Then a KeyUpdate (asking the peer to update too): data keeps flowing after.
        client.key_update(now, true).unwrap();
        let (ce, se) = pump(&mut client, &mut server, now);
        assert!(
            Outcome::error(&ce).is_none() && Outcome::error(&se).is_none(),
            "{ce:?} {se:?}"
        );
    }
    assert!(client.stats().bad_records == 0 && server.stats().bad_records == 0);
}

/// A client and a server with the default configuration (DTLS 1.3, the hybrid share).
fn default_pair(seed: u64) -> (Connection, Connection, Instant) {
    let (c, s) = ident();
    let cb = rtcwire_dtls::Config::builder(c.clone()).remote_fingerprint(s.fingerprint());
    let sb = rtcwire_dtls::Config::builder(s).remote_fingerprint(c.fingerprint());
    let now = Instant::now();
    let (client, server) = connections(cb, sb, seed, now);
    (client, server, now)
}

#[test]
fn defaults_are_dtls13_offering_the_hybrid_and_the_server_picks_it() {
    let (mut client, mut server, now) = default_pair(3);
    let (ce, se) = pump(&mut client, &mut server, now);
    assert!(Outcome::connected(&ce) && Outcome::connected(&se));
    assert_eq!(server.dtls13_group(), Some(NamedGroup::X25519MlKem768));
    assert_eq!(client.protocol_version(), Some(0xfefc));
    assert_eq!(suite_of(&se), Some(CipherSuite::Tls13Aes128GcmSha256));
}

#[test]
fn a_one_point_two_peer_gets_one_point_two_either_way() {
    for (c13, s13) in [(true, false), (false, true)] {
        let (c, s) = ident();
        let (cb, sb) = builders(&c, &s);
        let now = Instant::now();
        let (mut client, mut server) = connections(cb.dtls13(c13), sb.dtls13(s13), 4, now);
        let (ce, se) = pump(&mut client, &mut server, now);
        assert!(Outcome::connected(&ce), "{c13} {s13}: {ce:?}");
        assert!(Outcome::connected(&se), "{c13} {s13}: {se:?}");
        assert_eq!(client.protocol_version(), Some(0xfefd));
        assert!(!suite_of(&ce).unwrap().is_tls13());
        assert_eq!(
            srtp_of(&ce).unwrap().as_bytes(),
            srtp_of(&se).unwrap().as_bytes()
        );
    }
}

#[test]
fn wrong_fingerprint_fails_the_1_3_handshake() {
    let (c, s) = ident();
    let other = rtcwire_dtls::Certificate::generate_self_signed().unwrap();
    let cb = rtcwire_dtls::Config::builder(c.clone()).remote_fingerprint(other.fingerprint());
    let sb = rtcwire_dtls::Config::builder(s).remote_fingerprint(c.fingerprint());
    let now = Instant::now();
    let (mut client, mut server) = connections(cb.dtls13(true), sb.dtls13(true), 5, now);
    let (ce, se) = pump(&mut client, &mut server, now);
    assert_eq!(
        Outcome::error(&ce),
        Some(&rtcwire_dtls::Error::FingerprintMismatch)
    );
    assert!(!Outcome::connected(&se));
    assert!(client.is_closed());
}

#[test]
fn handshakes_under_30_percent_loss_with_duplication_and_reordering() {
    let mut ok = 0;
    for seed in 0..20u64 {
        let (c, s) = ident();
        let (cb, sb) = builders(&c, &s);
        // Simulated time costs nothing: a long deadline, as in tests/sim.rs. (Each attempt
        // at the first step needs both fragments of the post-quantum hello and the
        // HelloRetryRequest through the lossy link: about one in three gets through.)
        let cb = cb
            .dtls13(true)
            .initial_retransmit_timeout(Duration::from_millis(100))
            .handshake_timeout(Duration::from_secs(600));
        let sb = sb
            .dtls13(true)
            .initial_retransmit_timeout(Duration::from_millis(100))
            .handshake_timeout(Duration::from_secs(600));
        let now = Instant::now();
        let (mut client, mut server) = connections(cb, sb, seed, now);
        let net = Net::lossy(seed);
        let o = run(&mut client, &mut server, now, net, Duration::from_secs(600));
        if Outcome::connected(&o.client_events) && Outcome::connected(&o.server_events) {
            assert_eq!(
                srtp_of(&o.client_events).unwrap().as_bytes(),
                srtp_of(&o.server_events).unwrap().as_bytes()
            );
            assert_eq!(client.protocol_version(), Some(0xfefc));
            ok += 1;
        } else {
            eprintln!(
                "seed {seed}: client {:?} server {:?}\n{client:?}\n{server:?}",
                o.client_events, o.server_events
            );
        }
    }
    assert_eq!(ok, 20, "every seed connects under 30 % loss");
}

#[test]
fn hello_retry_request_for_a_group_and_for_the_cookie() {
    // The client shares X25519 only; the server wants P-256: a HelloRetryRequest asks for it
    // (with the cookie). With hello_verify off and a fitting share, no retry at all.
    for (server_groups, hello_verify, datagrams_min) in [
        (vec![NamedGroup::Secp256r1], false, 6),
        (vec![NamedGroup::X25519], true, 6),
        (vec![NamedGroup::X25519], false, 4),
    ] {
        let (c, s) = ident();
        let (cb, sb) = builders(&c, &s);
        let cb = cb
            .dtls13(true)
            .dtls13_groups(&[NamedGroup::X25519, NamedGroup::Secp256r1]);
        let sb = sb
            .dtls13(true)
            .dtls13_groups(&server_groups)
            .hello_verify(hello_verify);
        let now = Instant::now();
        let (mut client, mut server) = connections(cb, sb, 9, now);
        let o = run(
            &mut client,
            &mut server,
            now,
            Net::perfect(),
            Duration::from_secs(5),
        );
        assert!(
            Outcome::connected(&o.client_events),
            "{:?}",
            o.client_events
        );
        assert!(
            Outcome::connected(&o.server_events),
            "{:?}",
            o.server_events
        );
        assert_eq!(client.dtls13_group(), Some(server_groups[0]));
        // ClientHello, (HelloRetryRequest, ClientHello,) server flight, client flight, ACK.
        let flights = o.transcript.len();
        assert!(flights >= datagrams_min, "{flights} datagrams");
        if datagrams_min == 4 {
            assert!(flights < 6, "no retry: {flights} datagrams");
        }
        assert_eq!(
            srtp_of(&o.client_events).unwrap().as_bytes(),
            srtp_of(&o.server_events).unwrap().as_bytes()
        );
    }
}

#[test]
fn a_man_in_the_middle_removing_1_3_is_caught_by_the_downgrade_sentinel() {
    use common::PollOut;
    use rtcwire_dtls::handshake::Message;
    use rtcwire_dtls::record::{RecordHeader, Records};
    use rtcwire_proto::{Datagram, SansIo};
    let (c, s) = ident();
    let (cb, sb) = builders(&c, &s);
    let now = Instant::now();
    // X25519 only, so that the hello is one fragment.
    let cb = cb.dtls13(true).dtls13_groups(&[NamedGroup::X25519]);
    let (mut client, mut server) = connections(cb, sb.dtls13(true).hello_verify(false), 11, now);
    let hello = client.poll_out().unwrap().contents;
    // Rewrite the hello (one record, one fragment) to offer DTLS 1.2 only.
    let rec = Records::new(&hello).next().unwrap();
    let f = rec.fragment;
    let Message::ClientHello(mut ch) = Message::parse(f[0], &f[12..]).unwrap() else {
        panic!("a ClientHello")
    };
    for (ty, body) in ch.extensions.unknown.iter_mut() {
        if *ty == 43 {
            *body = vec![2, 0xfe, 0xfd];
        }
    }
    let msg = Message::ClientHello(ch).to_bytes(0);
    let mut forged = Vec::new();
    RecordHeader {
        length: msg.len() as u16,
        ..rec.header
    }
    .emit(&mut forged);
    forged.extend_from_slice(&msg);
    server.handle_read(now, Datagram::on_path(&forged)).unwrap();
    let mut events = Vec::new();
    while let Some(d) = server.poll_out() {
        let _ = client.handle_read(now, Datagram::on_path(&d.contents));
    }
    while let Some(e) = client.poll_event() {
        events.push(e);
    }
    assert_eq!(
        Outcome::error(&events),
        Some(&rtcwire_dtls::Error::Downgrade)
    );
    assert!(client.is_closed());
}

#[test]
fn zero_copy_records_both_ways_in_1_3() {
    use common::PollOut;
    let (mut client, mut server, ..) = pair13(
        CipherSuite::Tls13Chacha20Poly1305Sha256,
        NamedGroup::X25519,
        13,
    );
    let now = Instant::now();
    assert_eq!(
        client.record_prefix_len(),
        5,
        "unified header: flags, seq16, length"
    );
    assert_eq!(client.record_overhead(), 5 + 1 + 16);
    // seal_in_place on one side, handle_read_in_place on the other.
    let mut buf = vec![0xee; 3]; // bytes before the record belong to the caller
    buf.resize(3 + client.record_prefix_len(), 0);
    buf.extend_from_slice(b"sctp packet");
    client.seal_in_place(&mut buf, 3).unwrap();
    assert_eq!(&buf[..3], &[0xee; 3]);
    let mut d = buf[3..].to_vec();
    assert_eq!(d.len(), 11 + client.record_overhead());
    let r = server.handle_read_in_place(now, &mut d).unwrap().unwrap();
    assert_eq!(&d[r], b"sctp packet");
    // The queued path, read in place; a replay and a tampered copy are refused and counted.
    server.write(b"back").unwrap();
    let sent = server.poll_out().unwrap().contents;
    let mut copy = sent.clone();
    let r = client
        .handle_read_in_place(now, &mut copy)
        .unwrap()
        .unwrap();
    assert_eq!(&copy[r], b"back");
    let mut replay = sent.clone();
    assert!(client.handle_read_in_place(now, &mut replay).is_err());
    server.write(b"two").unwrap();
    let mut bad = server.poll_out().unwrap().contents;
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(client.handle_read_in_place(now, &mut bad).is_err());
    let st = client.stats();
    assert_eq!(
        (st.replayed_records, st.bad_records, st.refused_datagrams),
        (1, 1, 2)
    );
    // A KeyUpdate (not application data) read in place is handled, not handed back.
    client.key_update(now, false).unwrap();
    let mut ku = client.poll_out().unwrap().contents;
    assert_eq!(server.handle_read_in_place(now, &mut ku), Ok(None));
    let (ce, se) = pump(&mut client, &mut server, now);
    assert!(Outcome::error(&ce).is_none() && Outcome::error(&se).is_none());
    client.write(b"after update").unwrap();
    let (_, se) = pump(&mut client, &mut server, now);
    assert!(se
        .iter()
        .any(|e| matches!(e, Event::ApplicationData(d) if d == b"after update")));
}

/// A DTLS 1.3 pair (X25519, no cookie) whose ClientHello and server flight went through:
/// the client is connected, its last flight not yet sent.
fn up_to_the_clients_last_flight(seed: u64) -> (Connection, Connection, Instant) {
    use common::PollOut;
    use rtcwire_proto::SansIo;
    let (c, s) = ident();
    let (cb, sb) = builders(&c, &s);
    let now = Instant::now();
    let (mut client, mut server) = connections(
        cb.dtls13(true).dtls13_groups(&[NamedGroup::X25519]),
        sb.dtls13(true).hello_verify(false),
        seed,
        now,
    );
    let ch = client.poll_out().unwrap().contents;
    server
        .handle_read(now, rtcwire_proto::Datagram::on_path(&ch))
        .unwrap();
    while let Some(d) = server.poll_out() {
        let _ = client.handle_read(now, rtcwire_proto::Datagram::on_path(&d.contents));
    }
    (client, server, now)
}

#[test]
fn an_unacknowledged_last_flight_is_resent_a_bounded_number_of_times() {
    use common::PollOut;
    use rtcwire_proto::SansIo;
    // Hello and the server's flight through; the client's last flight and the ACK are lost.
    let (mut client, mut server, now) = up_to_the_clients_last_flight(17);
    assert!(
        client.is_connected(),
        "the client is up after the server's Finished"
    );
    while client.poll_out().is_some() {}
    let mut t = now;
    let mut resent = 0;
    for _ in 0..40 {
        let Some(deadline) = client.poll_timeout() else {
            break;
        };
        t = deadline.max(t);
        client.handle_timeout(t);
        while client.poll_out().is_some() {
            resent += 1;
        }
    }
    assert!(client.is_connected());
    assert!(
        client.poll_timeout().is_none(),
        "given up after a bounded number of tries"
    );
    assert!((8..=16).contains(&resent), "{resent} datagrams re-sent");
    // The server, still waiting, retransmits its flight; the connected client answers it
    // with its last flight again (triggered, rate-limited).
    server.handle_timeout(now + Duration::from_secs(2));
    let mut answered = 0;
    while let Some(d) = server.poll_out() {
        let _ = client.handle_read(t, rtcwire_proto::Datagram::on_path(&d.contents));
    }
    while client.poll_out().is_some() {
        answered += 1;
    }
    assert!(answered >= 1);
    assert!(client.stats().triggered_retransmissions >= 1);
}

#[test]
fn a_lost_key_update_is_resent_and_the_late_ack_still_switches_keys() {
    use common::PollOut;
    use rtcwire_proto::SansIo;
    let (mut client, mut server, ..) =
        pair13(CipherSuite::Tls13Aes256GcmSha384, NamedGroup::Secp256r1, 21);
    let now = Instant::now();
    client.key_update(now, false).unwrap();
    let first = client.poll_out().unwrap().contents; // held back
    let deadline = client
        .poll_timeout()
        .expect("the KeyUpdate is on the timer");
    client.handle_timeout(deadline);
    let second = client.poll_out().unwrap().contents;
    assert_ne!(first, second, "a fresh record number");
    // The server gets the first copy only; its ACK names that copy's record.
    server
        .handle_read(now, rtcwire_proto::Datagram::on_path(&first))
        .unwrap();
    let (ce, se) = pump(&mut client, &mut server, deadline);
    assert!(Outcome::error(&ce).is_none() && Outcome::error(&se).is_none());
    assert!(
        client.poll_timeout().is_none(),
        "acknowledged: timer stopped"
    );
    client.write(b"new keys").unwrap();
    let (_, se) = pump(&mut client, &mut server, deadline);
    assert!(se
        .iter()
        .any(|e| matches!(e, Event::ApplicationData(d) if d == b"new keys")));
}

#[test]
fn a_lost_ack_of_the_last_flight_is_sent_again_after_the_server_dropped_its_handshake_keys() {
    use common::PollOut;
    use rtcwire_proto::SansIo;
    let (mut client, mut server, now) = up_to_the_clients_last_flight(23);
    // The client's last flight arrives; the server's ACK of it is lost.
    while let Some(d) = client.poll_out() {
        let _ = server.handle_read(now, rtcwire_proto::Datagram::on_path(&d.contents));
    }
    assert!(client.is_connected() && server.is_connected());
    let acks = std::iter::from_fn(|| server.poll_out()).count();
    assert!(acks >= 1, "the server acknowledged (and that was lost)");
    // Application data flows meanwhile (epoch 3 both ways).
    server.write(b"up").unwrap();
    while let Some(d) = server.poll_out() {
        client
            .handle_read(now, rtcwire_proto::Datagram::on_path(&d.contents))
            .unwrap();
    }
    // The client re-sends its flight on the timer; the server, which keeps no epoch-2 keys
    // once connected, derives them again, reads the copy and acknowledges it again.
    let deadline = client
        .poll_timeout()
        .expect("the last flight is on the timer");
    let t = deadline + Duration::from_secs(1);
    client.handle_timeout(t);
    let copies: Vec<_> = std::iter::from_fn(|| client.poll_out()).collect();
    assert!(!copies.is_empty());
    for d in &copies {
        let _ = server.handle_read(t, rtcwire_proto::Datagram::on_path(&d.contents));
    }
    assert_eq!(
        server.stats().unknown_epoch_records,
        0,
        "the copy was read, not dropped for its epoch"
    );
    let mut acked = 0;
    while let Some(d) = server.poll_out() {
        acked += 1;
        client
            .handle_read(t, rtcwire_proto::Datagram::on_path(&d.contents))
            .unwrap();
    }
    assert!(acked >= 1, "acknowledged again");
    assert!(
        client.poll_timeout().is_none(),
        "the client's flight is acknowledged: its timer stopped"
    );
    // A further stray copy (the client no longer holds its handshake keys either): the
    // server still reads and acknowledges it, and the connection carries on.
    for d in &copies {
        let _ = server.handle_read(
            t + Duration::from_secs(5),
            rtcwire_proto::Datagram::on_path(&d.contents),
        );
    }
    while let Some(d) = server.poll_out() {
        let _ = client.handle_read(t, rtcwire_proto::Datagram::on_path(&d.contents));
    }
    client.write(b"still up").unwrap();
    let d = client.poll_out().unwrap().contents;
    server
        .handle_read(t, rtcwire_proto::Datagram::on_path(&d))
        .unwrap();
    let got: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(got
        .iter()
        .any(|e| matches!(e, Event::ApplicationData(d) if d == b"still up")));
}

#[test]
fn an_idle_connection_gives_back_its_buffers_and_carries_on() {
    use rtcwire_proto::SansIo;
    let (mut client, mut server, ..) =
        pair13(CipherSuite::Tls13Aes128GcmSha256, NamedGroup::X25519, 31);
    let now = Instant::now();
    for round in 0..3u8 {
        client.shrink_buffers();
        server.shrink_buffers();
        client.write(&[round; 1000]).unwrap();
        server.write(&[round; 10]).unwrap();
        let (ce, se) = pump(&mut client, &mut server, now);
        assert!(se
            .iter()
            .any(|e| matches!(e, Event::ApplicationData(d) if d == &[round; 1000])));
        assert!(ce
            .iter()
            .any(|e| matches!(e, Event::ApplicationData(d) if d == &[round; 10])));
    }
    // A key update after shrinking still completes both ways.
    client.shrink_buffers();
    client.key_update(now, true).unwrap();
    let (ce, se) = pump(&mut client, &mut server, now);
    assert!(Outcome::error(&ce).is_none() && Outcome::error(&se).is_none());
    assert!(client.poll_timeout().is_none() && server.poll_timeout().is_none());
    server.write(b"after").unwrap();
    let (ce, _) = pump(&mut client, &mut server, now);
    assert!(ce
        .iter()
        .any(|e| matches!(e, Event::ApplicationData(d) if d == b"after")));
}

#[test]
fn a_hybrid_client_hello_whose_fragments_come_in_reverse_order_is_answered() {
    let (mut client, mut server, now) = default_pair(5);
    let addr = "127.0.0.1:9".parse().unwrap();
    let mut hello = Vec::new();
    while let Some(t) = client.poll_out() {
        hello.push(t.contents);
    }
    assert!(hello.len() >= 2, "the hybrid ClientHello spans datagrams");
    for d in hello.iter().rev() {
        server
            .handle_read(now, Datagram::udp(addr, addr, d))
            .unwrap();
    }
    let mut answered = false;
    while let Some(t) = server.poll_out() {
        answered = true;
        let _ = client.handle_read(now, Datagram::udp(addr, addr, &t.contents));
    }
    assert!(answered, "the server answers the reassembled hello");
    let (ce, se) = pump(&mut client, &mut server, now);
    assert!(Outcome::connected(&ce) && Outcome::connected(&se));
}
