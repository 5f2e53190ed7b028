#![no_main]
//! set_remote_description with arbitrary text, as an offer (then create_answer, whose text
//! must parse), as the answer to our offer, and as a later offer (renegotiation, ICE
//! restart) after a real browser offer was answered. Nothing panics; a refused description
//! leaves the signaling state where it was.
use std::sync::OnceLock;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use rtcwire::{Certificate, Config, PeerConnection, SessionDescription, SignalingState};

fn certificate() -> Certificate {
    static CERT: OnceLock<Certificate> = OnceLock::new();
    CERT.get_or_init(|| Certificate::generate_self_signed().expect("certificate"))
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest).into_owned();
    // The only real-clock reading: a base for virtual time.
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut pc = PeerConnection::new(Config::seeded(1, certificate()), now).expect("session");
    if mode % 3 == 2 {
        let first = include_str!("../../testdata/sdp/chromium-offer-dc.sdp");
        pc.set_remote_description(SessionDescription::offer(first))
            .expect("Chromium's offer applies");
        let answer = pc.create_answer().expect("answer");
        pc.set_local_description(answer)
            .expect("our own answer applies");
    }
    if mode % 3 != 1 {
        match pc.set_remote_description(SessionDescription::offer(text)) {
            Ok(()) => {
                assert_eq!(pc.signaling_state(), SignalingState::HaveRemoteOffer);
                let answer = pc
                    .create_answer()
                    .expect("an applied offer can be answered");
                rtcwire_sdp::Sdp::parse(&answer.sdp).expect("our answer parses");
                pc.set_local_description(answer)
                    .expect("our own answer applies");
                assert_eq!(pc.signaling_state(), SignalingState::Stable);
            }
            Err(_) => assert_eq!(pc.signaling_state(), SignalingState::Stable),
        }
    } else {
        let offer = pc.create_offer().expect("offer");
        pc.set_local_description(offer)
            .expect("our own offer applies");
        match pc.set_remote_description(SessionDescription::answer(text)) {
            Ok(()) => assert_eq!(pc.signaling_state(), SignalingState::Stable),
            Err(_) => assert_eq!(pc.signaling_state(), SignalingState::HaveLocalOffer),
        }
    }
    let mut buf = Vec::new();
    for _ in 0..1000 {
        buf.clear();
        if let rtcwire::Output::Timeout(_) = pc.poll_output(&mut buf) {
            return;
        }
    }
    panic!("poll_output never reached Timeout");
});
