//! Interop with dimpl (str0m's DTLS 1.2/1.3, a separate implementation) run in-process, in
//! both roles: DTLS 1.3 negotiated, the same SRTP keys exported on both sides, the right
//! certificates seen, application data both ways; and 1.2 where dimpl only speaks 1.2.
//! dimpl implements no connection ids (RFC 9146 / RFC 9147 §9: it ignores the extension and
//! refuses unified headers with the C bit), so the id tests here check only that our offer
//! is ignored gracefully: no ids negotiated, plain records, the handshake unchanged. Partial
//! flight ACKs and selective retransmission (RFC 9147 §7) are checked both ways.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::PollOut;
use rtcwire_dtls::{Certificate, Config, Connection, Event, NamedGroup, SystemRng};
use rtcwire_proto::{Datagram, SansIo};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    V13,
    V12,
    Auto,
}

struct Dimpl {
    dtls: dimpl::Dtls,
    connected: bool,
    keys: Option<(Vec<u8>, dimpl::SrtpProfile)>,
    peer_cert: Option<Vec<u8>>,
    data: Vec<Vec<u8>>,
    next_timeout: Option<Instant>,
}

impl Dimpl {
    fn new(cert: &Certificate, mode: Mode, client: bool, now: Instant) -> Dimpl {
        Self::with_config(cert, mode, client, now, dimpl::Config::builder())
    }

    fn with_config(
        cert: &Certificate,
        mode: Mode,
        client: bool,
        now: Instant,
        config: dimpl::ConfigBuilder,
    ) -> Dimpl {
        let config = Arc::new(config.build().unwrap());
        let c = dimpl::DtlsCertificate {
            certificate: cert.der().to_vec(),
            private_key: cert.private_key_pkcs8().to_vec(),
        };
        let mut dtls = match mode {
            Mode::V13 => dimpl::Dtls::new_13(config, c, now),
            Mode::V12 => dimpl::Dtls::new_12(config, c, now),
            Mode::Auto => dimpl::Dtls::new_auto(config, c, now),
        };
        if client {
            dtls.set_active(true);
        }
        let mut d = Dimpl {
            dtls,
            connected: false,
            keys: None,
            peer_cert: None,
            data: Vec::new(),
            next_timeout: None,
        };
        d.dtls.handle_timeout(now).unwrap();
        d
    }

    /// Drains dimpl's output, returning the datagrams it wants sent.
    fn drain(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 2048];
        // Bounded: dimpl ends every poll cycle with a Timeout.
        for _ in 0..1000 {
            match self.dtls.poll_output(&mut buf) {
                dimpl::Output::Packet(p) => out.push(p.to_vec()),
                dimpl::Output::Timeout(t) => {
                    self.next_timeout = Some(t);
                    break;
                }
                dimpl::Output::Connected => self.connected = true,
                dimpl::Output::PeerCert(c) => self.peer_cert = Some(c.to_vec()),
                dimpl::Output::KeyingMaterial(k, p) => self.keys = Some((k.to_vec(), p)),
                dimpl::Output::ApplicationData(d) => self.data.push(d.to_vec()),
                _ => {}
            }
        }
        out
    }
}

struct Run {
    ours: Connection,
    theirs: Dimpl,
    events: Vec<Event>,
}

fn exchange(run: &mut Run, now: Instant) -> bool {
    let mut moved = false;
    while let Some(t) = run.ours.poll_out() {
        moved = true;
        let _ = run.theirs.dtls.handle_packet(&t.contents);
    }
    for d in run.theirs.drain() {
        moved = true;
        let _ = run.ours.handle_read(now, Datagram::on_path(&d));
    }
    while let Some(e) = run.ours.poll_event() {
        run.events.push(e);
    }
    moved
}

fn start(we_are_client: bool, ours13: bool, mode: Mode, groups: Option<&[NamedGroup]>) -> Run {
    start_with(we_are_client, ours13, mode, groups, None)
}

fn start_with(
    we_are_client: bool,
    ours13: bool,
    mode: Mode,
    groups: Option<&[NamedGroup]>,
    cid: Option<Vec<u8>>,
) -> Run {
    let (mine, theirs) = (
        Certificate::generate_self_signed().unwrap(),
        Certificate::generate_self_signed().unwrap(),
    );
    let mut b = Config::builder(mine.clone())
        .remote_fingerprint(theirs.fingerprint())
        .dtls13(ours13)
        .connection_id(cid);
    if let Some(g) = groups {
        b = b.dtls13_groups(g);
    }
    let cfg = Arc::new(b.build().unwrap());
    let now = Instant::now();
    let ours = if we_are_client {
        Connection::client(cfg, Box::new(SystemRng::new()), now)
    } else {
        Connection::server(cfg, Box::new(SystemRng::new()))
    };
    let theirs_ep = Dimpl::new(&theirs, mode, !we_are_client, now);
    let mut run = Run {
        ours,
        theirs: theirs_ep,
        events: Vec::new(),
    };
    // Lossless: a few round trips, advancing virtual time in case someone waits on a timer.
    let mut t = now;
    for _ in 0..30 {
        if !exchange(&mut run, t) {
            t += Duration::from_millis(50);
            run.theirs.dtls.handle_timeout(t).unwrap();
            run.ours.handle_timeout(t);
        }
        if run.ours.is_connected() && run.theirs.connected {
            // One more exchange for the last ACK.
            exchange(&mut run, t);
            break;
        }
    }
    assert!(
        run.ours.is_connected(),
        "ours not connected: {:?} {:?}",
        run.events,
        run.ours
    );
    assert!(run.theirs.connected, "dimpl not connected");
    assert_eq!(run.theirs.peer_cert.as_deref(), Some(mine.der()));
    assert_eq!(run.ours.peer_certificate(), Some(theirs.der()));
    run
}

fn check_keys_and_data(run: &mut Run, version: u16) {
    assert_eq!(run.ours.protocol_version(), Some(version));
    let theirs_version = if version == 0xfefc {
        dimpl::ProtocolVersion::DTLS1_3
    } else {
        dimpl::ProtocolVersion::DTLS1_2
    };
    assert_eq!(run.theirs.dtls.protocol_version(), Some(theirs_version));
    assert_eq!(run.ours.stats().bad_records, 0, "{:?}", run.ours.stats());
    // Our last flight is acknowledged (1.3: dimpl's ACK; 1.2: its Finished): no timer left.
    assert_eq!(run.ours.poll_timeout(), None);
    let ours = run
        .events
        .iter()
        .find_map(|e| match e {
            Event::Connected { srtp, .. } => srtp.clone(),
            _ => None,
        })
        .expect("our SRTP keys");
    let (theirs, profile) = run.theirs.keys.clone().expect("dimpl's SRTP keys");
    assert_eq!(
        format!("{profile:?}").replace('_', ""),
        format!("{:?}", ours.profile())
            .to_uppercase()
            .replace('_', ""),
        "same SRTP profile"
    );
    assert_eq!(
        ours.as_bytes(),
        theirs.as_slice(),
        "identical exported SRTP keys"
    );
    // Application data both ways.
    run.ours.write(b"from rtcwire").unwrap();
    run.theirs
        .dtls
        .send_application_data(b"from dimpl")
        .unwrap();
    let now = Instant::now();
    for _ in 0..5 {
        exchange(run, now);
    }
    assert!(run.theirs.data.iter().any(|d| d == b"from rtcwire"));
    assert!(run
        .events
        .iter()
        .any(|e| matches!(e, Event::ApplicationData(d) if d == b"from dimpl")));
}

#[test]
fn our_dtls13_client_against_dimpl_dtls13_server() {
    let mut run = start(true, true, Mode::V13, None);
    check_keys_and_data(&mut run, 0xfefc);
    // dimpl has no ML-KEM: it took our X25519 share.
    assert_eq!(run.ours.dtls13_group(), Some(NamedGroup::X25519));
}

#[test]
fn dimpl_dtls13_client_against_our_dtls13_server() {
    let mut run = start(false, true, Mode::V13, None);
    check_keys_and_data(&mut run, 0xfefc);
}

#[test]
fn auto_sensing_dimpl_in_both_roles_gets_dtls13() {
    let mut run = start(true, true, Mode::Auto, None);
    check_keys_and_data(&mut run, 0xfefc);
    let mut run = start(false, true, Mode::Auto, None);
    check_keys_and_data(&mut run, 0xfefc);
}

#[test]
fn p256_key_share_against_dimpl_in_both_roles() {
    for client in [true, false] {
        let mut run = start(client, true, Mode::V13, Some(&[NamedGroup::Secp256r1]));
        check_keys_and_data(&mut run, 0xfefc);
        assert_eq!(run.ours.dtls13_group(), Some(NamedGroup::Secp256r1));
    }
}

#[test]
fn dtls12_only_dimpl_falls_back_to_dtls12_in_both_roles() {
    let mut run = start(true, true, Mode::V12, None);
    check_keys_and_data(&mut run, 0xfefd);
    let mut run = start(false, true, Mode::V12, None);
    check_keys_and_data(&mut run, 0xfefd);
}

#[test]
fn our_connection_id_offer_is_ignored_by_dimpl_in_both_roles_and_versions() {
    for (mode, version) in [(Mode::V13, 0xfefc), (Mode::V12, 0xfefd)] {
        for client in [true, false] {
            let mut run = start_with(client, true, mode, None, Some(vec![1, 2, 3, 4]));
            assert_eq!(run.ours.connection_ids(), None, "{mode:?} client {client}");
            check_keys_and_data(&mut run, version);
            // Our records carry no id: a plain application_data record or a unified header
            // without the C bit.
            run.ours.write(b"plain").unwrap();
            let d = run.ours.poll_out().unwrap().contents;
            assert_eq!(rtcwire_dtls::peek_connection_id(&d, 4), None);
            if version == 0xfefd {
                assert_eq!(d[0], 23);
            } else {
                assert_eq!(d[0] & 0xf0, 0x20);
            }
        }
    }
}

/// Lossless exchanges from `t` on, advancing time when both are idle, until both are
/// connected.
fn finish(ours: &mut Connection, them: &mut Dimpl, mut t: Instant) {
    for _ in 0..60 {
        let mut moved = false;
        while let Some(d) = ours.poll_out() {
            moved = true;
            let _ = them.dtls.handle_packet(&d.contents);
        }
        for p in them.drain() {
            moved = true;
            let _ = ours.handle_read(t, Datagram::on_path(&p));
        }
        if ours.is_connected() && them.connected && !moved {
            return;
        }
        if !moved {
            t += Duration::from_millis(50);
            them.dtls.handle_timeout(t).unwrap();
            if ours.poll_timeout().is_some_and(|d| d <= t) {
                ours.handle_timeout(t);
            }
        }
    }
    panic!("not connected: ours {ours:?}, dimpl {}", them.connected);
}

/// RFC 9147 §7 with dimpl, which also ACKs partial flights and re-sends selectively: one
/// datagram of the server's flight is lost; the client acknowledges the rest, and the
/// server re-sends only the missing records. Both ways round: our server with dimpl's
/// client, then dimpl's server with our client.
#[test]
fn partial_flight_acks_and_selective_resend_with_dimpl_both_ways() {
    use rtcwire_dtls::v13::record::Records13;
    let rto = Duration::from_millis(400);
    // (a) Our server, dimpl's client.
    let (mine, theirs) = (
        Certificate::generate_self_signed().unwrap(),
        Certificate::generate_self_signed().unwrap(),
    );
    let cfg = Config::builder(mine.clone())
        .remote_fingerprint(theirs.fingerprint())
        .dtls13_groups(&[NamedGroup::X25519])
        .hello_verify(false)
        .mtu(300)
        .initial_retransmit_timeout(rto)
        .build()
        .unwrap();
    let now = Instant::now();
    let mut ours = Connection::server(Arc::new(cfg), Box::new(SystemRng::new()));
    let mut them = Dimpl::new(&theirs, Mode::V13, true, now);
    for p in them.drain() {
        let _ = ours.handle_read(now, Datagram::on_path(&p));
    }
    let mut flight = Vec::new();
    while let Some(t) = ours.poll_out() {
        flight.push(t.contents);
    }
    assert!(flight.len() >= 3, "a flight of {} datagrams", flight.len());
    let lost = flight.remove(1);
    let lost_records = Records13::new(&lost).count() as u64;
    for p in &flight {
        let _ = them.dtls.handle_packet(p);
    }
    // dimpl's ACK of what arrived, before our timer.
    let mut t = now;
    let mut acks = 0;
    while t + Duration::from_millis(10) < now + rto {
        t += Duration::from_millis(10);
        them.dtls.handle_timeout(t).unwrap();
        for p in them.drain() {
            acks += 1;
            let _ = ours.handle_read(t, Datagram::on_path(&p));
        }
    }
    assert!(acks >= 1, "dimpl acknowledged the partial flight");
    assert_eq!(ours.poll_timeout(), Some(now + rto));
    ours.handle_timeout(now + rto);
    let mut again = Vec::new();
    while let Some(t) = ours.poll_out() {
        again.push(t.contents);
    }
    // dimpl's ACK names the records it took (what it buffered past the gap too, or not):
    // whatever it named is not sent again.
    let total: u64 = lost_records
        + flight
            .iter()
            .map(|d| Records13::new(d).count() as u64)
            .sum::<u64>();
    let st = ours.stats();
    assert!(
        st.retransmitted_records >= lost_records && st.retransmitted_records < total,
        "re-sent {} of {total} records ({lost_records} lost): {st:?}",
        st.retransmitted_records
    );
    let whole: u64 = (lost.len() + flight.iter().map(Vec::len).sum::<usize>()) as u64;
    eprintln!(
        "our server re-sent {} of {total} records, {} of {whole} bytes",
        st.retransmitted_records, st.retransmitted_bytes
    );
    assert!(
        st.retransmitted_bytes < whole,
        "{} of {whole} bytes",
        st.retransmitted_bytes
    );
    let t = now + rto;
    for p in &again {
        let _ = them.dtls.handle_packet(p);
    }
    finish(&mut ours, &mut them, t);

    // (b) dimpl's server, our client: dimpl's flight loses a datagram, we ACK the rest
    // after a quarter of our timeout, and dimpl re-sends less than its whole flight.
    let cfg = Config::builder(mine)
        .remote_fingerprint(theirs.fingerprint())
        .dtls13_groups(&[NamedGroup::X25519])
        .initial_retransmit_timeout(rto)
        .build()
        .unwrap();
    let now = Instant::now();
    let mut ours = Connection::client(Arc::new(cfg), Box::new(SystemRng::new()), now);
    let mut them = Dimpl::with_config(
        &theirs,
        Mode::V13,
        false,
        now,
        dimpl::Config::builder()
            .mtu(300)
            .use_server_cookie(false)
            .flight_start_rto(rto),
    );
    let mut t = now;
    // Hellos (and dimpl's cookie round trip, if any) until dimpl answers with its flight.
    let mut flight = Vec::new();
    for _ in 0..4 {
        while let Some(d) = ours.poll_out() {
            let _ = them.dtls.handle_packet(&d.contents);
        }
        flight = them.drain();
        if flight.len() >= 2 {
            break;
        }
        for p in &flight {
            let _ = ours.handle_read(t, Datagram::on_path(p));
        }
    }
    assert!(
        flight.len() >= 2,
        "dimpl's flight spans {} datagrams",
        flight.len()
    );
    let whole: usize = flight.iter().map(Vec::len).sum();
    let lost = flight.remove(flight.len() / 2);
    for p in &flight {
        let _ = ours.handle_read(t, Datagram::on_path(p));
    }
    assert!(!ours.is_connected());
    let ack_at = ours.poll_timeout().unwrap();
    assert_eq!(ack_at, now + rto / 4, "our ACK timer");
    t = ack_at;
    ours.handle_timeout(t);
    let mut sent_ack = 0;
    while let Some(d) = ours.poll_out() {
        sent_ack += 1;
        let _ = them.dtls.handle_packet(&d.contents);
    }
    assert_eq!(sent_ack, 1, "one ACK of the partial flight");
    // dimpl's retransmission timer: what it sends again is less than its flight.
    let mut resent = 0;
    for _ in 0..400 {
        t += Duration::from_millis(10);
        them.dtls.handle_timeout(t).unwrap();
        let out = them.drain();
        if !out.is_empty() {
            resent = out.iter().map(Vec::len).sum::<usize>();
            for p in &out {
                let _ = ours.handle_read(t, Datagram::on_path(p));
            }
            break;
        }
    }
    assert!(resent > 0, "dimpl re-sent");
    eprintln!("dimpl re-sent {resent} bytes of its {whole}-byte flight");
    assert!(
        resent < whole,
        "dimpl re-sent {resent} bytes of a {whole}-byte flight (lost {})",
        lost.len()
    );
    finish(&mut ours, &mut them, t);
}
