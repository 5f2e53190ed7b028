//! An idle session gives back the buffers it keeps for traffic (after a few seconds
//! without DTLS or media datagrams) and carries on when traffic resumes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Duo, Signaling};
use rtcwire::{Payload, PeerConnectionState};
use rtcwire_sim::LinkConfig;

#[test]
fn an_idle_session_trims_its_buffers_and_carries_on_both_ways() {
    let mut duo = Duo::new(
        41,
        LinkConfig::with_delay(Duration::from_millis(5)),
        Signaling::Trickle,
    );
    let (ca, cb) = duo.connect_with_channel();
    let big = vec![0xa5u8; 64 * 1024];
    for round in 0..3usize {
        // Long enough for both sides to trim (and for consent checks and SCTP heartbeats
        // to run meanwhile on the trimmed sessions).
        let idle = duo.run_until(Duration::from_secs(40), |_| false);
        assert!(!idle);
        assert_eq!(duo.state(true), PeerConnectionState::Connected);
        assert_eq!(duo.state(false), PeerConnectionState::Connected);
        duo.with(true, |pc| pc.send_binary(ca, &big).unwrap());
        duo.with(false, |pc| {
            pc.send_text(cb, &format!("back {round}")).unwrap()
        });
        let ok = duo.run_until(Duration::from_secs(10), |d| {
            d.messages(false, cb).len() > round && d.messages(true, ca).len() > round
        });
        assert!(ok, "{}", duo.sim.report());
        assert_eq!(
            duo.messages(false, cb)[round],
            Payload::Binary(big.clone().into())
        );
        assert_eq!(
            duo.messages(true, ca)[round],
            Payload::Text(format!("back {round}").into())
        );
    }
    let stats = duo.sim.endpoint(duo.a).stats();
    assert_eq!(stats.refused_datagrams, 0, "{stats:?}");
}
