//! What a session sets up under its data channels: SCTP zero checksums (RFC 9653, DTLS as
//! the error detection) between two rtcwire ends, and checksums towards an end that does
//! not announce them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Duo, Signaling};
use rtcwire::{ChannelId, Payload};
use rtcwire_sim::LinkConfig;

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(5))
}

fn sends_zero_checksum(duo: &Duo, side_a: bool) -> bool {
    let h = if side_a { duo.a } else { duo.b };
    duo.sim
        .endpoint(h)
        .sctp_association()
        .expect("an SCTP association")
        .sends_zero_checksum()
}

/// A message of several DATA chunks each way arrives whole.
fn exchange(duo: &mut Duo, ca: ChannelId, cb: ChannelId) {
    let to_b: String = "ab".repeat(2500);
    let to_a: String = "cd".repeat(2500);
    duo.with(true, |pc| pc.send_text(ca, &to_b).unwrap());
    duo.with(false, |pc| pc.send_text(cb, &to_a).unwrap());
    let ok = duo.run_until(Duration::from_secs(5), |d| {
        !d.messages(false, cb).is_empty() && !d.messages(true, ca).is_empty()
    });
    assert!(ok, "{}", duo.sim.report());
    assert_eq!(
        duo.messages(false, cb),
        vec![Payload::Text(to_b.as_str().into())]
    );
    assert_eq!(
        duo.messages(true, ca),
        vec![Payload::Text(to_a.as_str().into())]
    );
}

#[test]
fn two_sessions_send_zero_checksums_and_deliver() {
    let mut duo = Duo::new(31, lan(), Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    assert!(sends_zero_checksum(&duo, true));
    assert!(sends_zero_checksum(&duo, false));
    exchange(&mut duo, ca, cb);
}

#[test]
fn an_end_that_does_not_announce_zero_checksums_gets_checksums() {
    let mut duo = Duo::with_configs(
        32,
        lan(),
        Signaling::Trickle,
        |c| c.sctp.zero_checksum = false,
        |_| {},
    );
    let (ca, cb) = duo.connect_with_channel();
    // B announced them, A did not: A may leave them out towards B, B must not towards A.
    assert!(!sends_zero_checksum(&duo, false));
    exchange(&mut duo, ca, cb);
}

/// The answerer sends on its first valid pair (RFC 8445 §12.1): its ClientHello reaches the
/// offerer before the answer does. The offerer keeps it and answers it once the answer is
/// applied, instead of waiting a second for the client's retransmission.
#[test]
fn a_client_hello_that_overtakes_the_answer_is_answered_when_the_answer_comes() {
    let mut duo = Duo::new(3, lan(), Signaling::Full);
    duo.with(true, |pc| {
        pc.create_data_channel("early", rtcwire::DataChannelInit::default())
            .unwrap();
    });
    duo.add_hosts();
    let offer = duo.offer(true);
    let answer = duo.answer(false, offer, &[]);
    // The answer is held back: B's checks get their answers, B's pair is valid, its
    // ClientHello goes out and arrives.
    let held = duo.run_until(Duration::from_millis(100), |d| {
        d.log(false).iter().any(|e| {
            matches!(
                e,
                rtcwire::Event::IceConnectionStateChange(rtcwire::IceConnectionState::Connected)
            )
        })
    });
    assert!(held, "B has a valid pair before the answer reaches A");
    let _ = duo.run_until(Duration::from_millis(20), |_| false);
    let dtls_before = duo.with(true, |pc| pc.stats().refused_datagrams);
    assert_eq!(dtls_before, 0, "the early ClientHello is kept, not refused");
    duo.with(true, |pc| pc.set_remote_description(answer).unwrap());
    let open = duo.run_until(Duration::from_millis(200), |d| {
        d.state(true) == rtcwire::PeerConnectionState::Connected && !d.opened(false).is_empty()
    });
    assert!(
        open,
        "connected without the client's retransmission\n{}",
        duo.sim.report()
    );
}
