//! DTLS 1.3 ACKs of partial flights and selective retransmission (RFC 9147 §7): a flight
//! with one datagram lost is acknowledged in part after a quarter of the timeout and only
//! the missing records are sent again; on rtcwire-sim under loss, fewer records and bytes
//! are re-sent than with whole-flight retransmission.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::{builders, connections, ident, run, Net, Outcome, PollOut};
use rtcwire_dtls::v13::record::Records13;
use rtcwire_dtls::{Connection, NamedGroup};
use rtcwire_proto::{Datagram, SansIo};
use std::time::{Duration, Instant};

const RTO: Duration = Duration::from_millis(400);

fn pair(partial: bool, mtu: usize) -> (Connection, Connection, Instant) {
    let (c, s) = ident();
    let (cb, sb) = builders(&c, &s);
    let tune = |b: rtcwire_dtls::ConfigBuilder| {
        b.dtls13(true)
            .dtls13_groups(&[NamedGroup::X25519])
            .mtu(mtu)
            .initial_retransmit_timeout(RTO)
            .dtls13_partial_acks(partial)
    };
    let now = Instant::now();
    let (client, server) = connections(tune(cb), tune(sb).hello_verify(false), 9, now);
    (client, server, now)
}

fn deliver(to: &mut Connection, now: Instant, d: &[u8]) {
    let _ = to.handle_read(now, Datagram::on_path(d));
}

/// The server's flight with its second datagram lost. Returns the records the server sent
/// again on its timer, and whether both ended connected.
fn lose_one_datagram(partial: bool) -> (u64, usize, bool) {
    let (mut client, mut server, now) = pair(partial, 300);
    let hello = client.poll_out().unwrap().contents;
    deliver(&mut server, now, &hello);
    let mut flight = Vec::new();
    while let Some(t) = server.poll_out() {
        flight.push(t.contents);
    }
    assert!(
        flight.len() >= 3,
        "a flight of several datagrams: {}",
        flight.len()
    );
    let lost = flight.remove(1);
    let lost_records = Records13::new(&lost).count();
    assert!(lost_records >= 1);
    for d in &flight {
        deliver(&mut client, now, d);
    }
    assert!(!client.is_connected());
    // The client acknowledges what it has after a quarter of the timeout (partial ACKs on),
    // or waits for the rest (off).
    let t1 = client.poll_timeout().unwrap();
    if partial {
        assert_eq!(t1, now + RTO / 4);
        client.handle_timeout(t1);
        let ack = client
            .poll_out()
            .expect("an ACK of the partial flight")
            .contents;
        assert!(client.poll_out().is_none());
        deliver(&mut server, t1, &ack);
    } else {
        // The client has sent nothing to re-send: only its handshake deadline is left.
        assert!(t1 > now + RTO, "no ACK timer");
    }
    // The server's timer: everything again, or only what the ACK did not name.
    let t2 = server.poll_timeout().unwrap();
    assert_eq!(t2, now + RTO);
    server.handle_timeout(t2);
    let mut again = Vec::new();
    while let Some(t) = server.poll_out() {
        again.push(t.contents);
    }
    let resent: usize = again.iter().map(|d| Records13::new(d).count()).sum();
    assert_eq!(server.stats().retransmitted_records, resent as u64);
    for d in &again {
        deliver(&mut client, t2, d);
    }
    assert!(client.is_connected(), "{client:?}");
    // The client's flight completes the server.
    while let Some(t) = client.poll_out() {
        deliver(&mut server, t2, &t.contents);
    }
    let both = client.is_connected() && server.is_connected();
    (server.stats().retransmitted_records, lost_records, both)
}

#[test]
fn a_partial_ack_makes_the_server_resend_only_the_lost_records() {
    let (selective, lost, ok) = lose_one_datagram(true);
    assert!(ok);
    assert_eq!(
        selective, lost as u64,
        "exactly the records of the lost datagram"
    );
    let (whole, _, ok) = lose_one_datagram(false);
    assert!(ok);
    assert!(
        whole > selective,
        "whole flight {whole} vs selective {selective}"
    );
}

fn lossy(partial: bool, seed: u64) -> (bool, u64, u64) {
    let (c, s) = ident();
    let (cb, sb) = builders(&c, &s);
    let tune = |b: rtcwire_dtls::ConfigBuilder| {
        b.dtls13(true)
            .mtu(500)
            .initial_retransmit_timeout(Duration::from_millis(100))
            .handshake_timeout(Duration::from_secs(600))
            .dtls13_partial_acks(partial)
    };
    let now = Instant::now();
    let (mut client, mut server) = connections(tune(cb), tune(sb), seed, now);
    let net = Net::lossy(seed);
    let o = run(&mut client, &mut server, now, net, Duration::from_secs(600));
    let ok = Outcome::connected(&o.client_events) && Outcome::connected(&o.server_events);
    let (cs, ss) = (client.stats(), server.stats());
    (
        ok,
        cs.retransmitted_records + ss.retransmitted_records,
        cs.retransmitted_bytes + ss.retransmitted_bytes,
    )
}

#[test]
fn under_30_percent_loss_fewer_records_are_resent_than_whole_flights() {
    let (mut whole, mut selective) = ((0, 0), (0, 0));
    for seed in 0..20u64 {
        let (ok, r, b) = lossy(false, seed);
        assert!(ok, "seed {seed}, whole flights");
        whole = (whole.0 + r, whole.1 + b);
        let (ok, r, b) = lossy(true, seed);
        assert!(ok, "seed {seed}, partial ACKs");
        selective = (selective.0 + r, selective.1 + b);
    }
    eprintln!(
        "20 handshakes at 30 % loss, MTU 500: re-sent records/bytes whole flights {whole:?}, \
         partial ACKs {selective:?}"
    );
    assert!(selective.0 < whole.0, "{selective:?} vs {whole:?}");
    assert!(selective.1 < whole.1, "{selective:?} vs {whole:?}");
}
