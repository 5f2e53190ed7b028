//! JSEP against real descriptions (testdata/sdp/, from Chromium and aiortc) and the
//! signaling state machine's refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use rtcwire::{
    Certificate, Config, DtlsRole, Error, PeerConnection, SdpType, SessionDescription,
    SignalingState,
};
use rtcwire_sdp::{Direction, MediaKind, Sdp, Setup};

fn session(seed: u64) -> PeerConnection {
    let cert = Certificate::generate_self_signed().unwrap();
    #[allow(clippy::disallowed_methods)] // a test's clock: nothing here waits on it
    let now = Instant::now();
    PeerConnection::new(Config::seeded(seed, cert), now).unwrap()
}

fn corpus() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sdp");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sdp"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 4, "testdata/sdp has the real descriptions");
    out
}

/// What an answer's audio or video section must be, given the offer's: accepted, every
/// codec one the offer had (same payload type, name, clock rate), RTX pointing at an
/// accepted codec, extension ids as offered, direction the reverse of the offer's (we
/// have no track: at most recvonly), rtcp-mux.
fn check_media_answer(name: &str, o: &rtcwire_sdp::MediaView<'_>, a: &rtcwire_sdp::MediaView<'_>) {
    assert_ne!(a.port(), 0, "{name}: {:?} accepted", o.mid());
    assert!(a.rtcp_mux(), "{name}");
    let theirs = o.codecs();
    let ours = a.codecs();
    assert!(
        ours.iter().any(|c| !c.name.eq_ignore_ascii_case("rtx")),
        "{name}: a codec in common"
    );
    for c in &ours {
        let offered = theirs
            .iter()
            .find(|t| t.payload_type == c.payload_type)
            .unwrap_or_else(|| panic!("{name}: PT {} not offered", c.payload_type));
        assert!(offered.name.eq_ignore_ascii_case(&c.name), "{name}");
        assert_eq!(offered.clock_rate, c.clock_rate, "{name}");
        if let Some(apt) = c.rtx_apt() {
            assert!(
                ours.iter().any(|p| p.payload_type == apt),
                "{name}: rtx apt"
            );
        }
        if c.name.eq_ignore_ascii_case("H264") {
            // Each payload type keeps the offered mode (0 and 1 are different codecs).
            let mode = c.fmtp_param("packetization-mode").unwrap_or("0");
            assert!(mode == "0" || mode == "1", "{name}");
            assert_eq!(
                mode,
                offered.fmtp_param("packetization-mode").unwrap_or("0"),
                "{name}"
            );
        }
        for fb in &c.feedback {
            assert!(offered.feedback.contains(fb), "{name}: {fb} offered");
        }
    }
    for e in a.extmaps() {
        assert!(
            o.extmaps().any(|x| x.id == e.id && x.uri == e.uri),
            "{name}: extmap {} {} as offered",
            e.id,
            e.uri
        );
    }
    let want = match o.direction() {
        Direction::SendRecv | Direction::SendOnly => Direction::RecvOnly,
        _ => Direction::Inactive,
    };
    assert_eq!(a.direction(), want, "{name}");
}

#[test]
fn every_real_offer_gets_an_answer_that_accepts_data_audio_and_video() {
    let mut offers = 0;
    for (name, text) in corpus().into_iter().filter(|(n, _)| n.contains("offer")) {
        offers += 1;
        let mut pc = session(1);
        pc.set_remote_description(SessionDescription::offer(text.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pc.signaling_state(), SignalingState::HaveRemoteOffer);
        let answer = pc.create_answer().unwrap();
        assert_eq!(answer.sdp_type, SdpType::Answer);
        pc.set_local_description(answer.clone()).unwrap();
        assert_eq!(pc.signaling_state(), SignalingState::Stable, "{name}");
        assert_eq!(pc.dtls_role(), Some(DtlsRole::Client), "{name}");

        let offer = Sdp::parse(&text).unwrap();
        let ans = Sdp::parse(&answer.sdp).unwrap_or_else(|e| panic!("{name}: {e}\n{}", answer.sdp));
        assert_eq!(
            ans.media_count(),
            offer.media_count(),
            "{name}: one section per offered one"
        );
        let bundle = ans.session().bundle().expect("BUNDLE in the answer");
        let (mut data, mut media) = (0, 0);
        for (o, a) in offer.media().zip(ans.media()) {
            assert_eq!(o.mid(), a.mid(), "{name}");
            assert_eq!(o.kind(), a.kind(), "{name}");
            assert_eq!(o.proto(), a.proto(), "{name}");
            if a.port() != 0 {
                assert!(
                    bundle.mids.iter().any(|m| Some(&**m) == a.mid()),
                    "{name}: bundled"
                );
            }
            if o.kind() == MediaKind::Application {
                data += 1;
                assert_ne!(a.port(), 0, "{name}: data section accepted");
                assert_eq!(a.sctp_port(), Some(5000), "{name}");
                assert!(a.max_message_size().is_some(), "{name}");
            } else {
                media += 1;
                check_media_answer(&name, &o, &a);
            }
            if a.port() != 0 {
                assert_eq!(a.setup(), Some(Setup::Active), "{name}");
                assert_eq!(
                    a.fingerprints().next().as_ref(),
                    Some(pc.local_fingerprint()),
                    "{name}"
                );
                assert!(a.ice_ufrag().is_some() && a.ice_pwd().is_some(), "{name}");
                assert!(a.ice_options().any(|o| o == "trickle"), "{name}");
            }
        }
        assert_eq!(data, 1, "{name}");
        if name.contains("-av-") {
            assert!(media >= 2, "{name}: audio and video");
            // ontrack for each section the browser sends on.
            let tracks = pc.transceivers();
            assert_eq!(tracks.len(), media, "{name}");
            for t in tracks {
                assert!(pc.current_direction(t).is_some(), "{name}");
                assert!(!pc.negotiated_codecs(t).is_empty(), "{name}");
            }
        }
        // The offer's candidates reached ICE.
        assert!(pc.ice_agent().remote_candidate_count() >= 1, "{name}");
    }
    assert!(offers >= 3);
}

#[test]
fn a_real_answer_completes_our_offer() {
    for (name, text) in corpus().into_iter().filter(|(n, _)| n.contains("answer")) {
        let mut pc = session(2);
        let offer = pc.create_offer().unwrap();
        assert!(offer.sdp.contains("a=setup:actpass"));
        assert!(offer
            .sdp
            .contains("m=application 9 UDP/DTLS/SCTP webrtc-datachannel"));
        pc.set_local_description(offer).unwrap();
        assert_eq!(pc.signaling_state(), SignalingState::HaveLocalOffer);
        pc.set_remote_description(SessionDescription::answer(text))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pc.signaling_state(), SignalingState::Stable);
        // aiortc answers a=setup:active: we are the DTLS server.
        assert_eq!(pc.dtls_role(), Some(DtlsRole::Server), "{name}");
        assert!(pc.ice_agent().remote_candidate_count() >= 1, "{name}");
    }
}

#[test]
fn our_offer_parses_and_says_what_a_browser_needs() {
    let mut pc = session(3);
    pc.add_local_candidate("192.0.2.1:4000".parse().unwrap())
        .unwrap();
    pc.end_of_local_candidates();
    let offer = pc.create_offer().unwrap();
    let sdp = Sdp::parse(&offer.sdp).unwrap();
    let m = sdp.media_by_mid("0").unwrap();
    assert_eq!(m.kind(), MediaKind::Application);
    assert_eq!(m.setup(), Some(Setup::ActPass));
    assert_eq!(m.sctp_port(), Some(5000));
    assert_eq!(m.max_message_size(), Some(256 * 1024));
    assert_eq!(m.candidates().count(), 1);
    assert!(m.end_of_candidates());
    assert_eq!(
        m.fingerprints().next().as_ref(),
        Some(pc.local_fingerprint())
    );
    assert_eq!(
        sdp.session().bundle().unwrap().mids,
        vec![std::borrow::Cow::Borrowed("0")]
    );
}

#[test]
fn descriptions_in_the_wrong_state_are_refused_and_change_nothing() {
    let mut pc = session(4);
    let err = pc
        .set_remote_description(SessionDescription::answer(corpus()[0].1.clone()))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidState { .. }), "{err}");
    assert!(matches!(pc.create_answer(), Err(Error::WrongState(_))));
    assert!(matches!(
        pc.set_remote_description(SessionDescription {
            sdp_type: SdpType::Pranswer,
            sdp: String::new()
        }),
        Err(Error::Unsupported(_))
    ));
    let offer = pc.create_offer().unwrap();
    let munged = SessionDescription::offer(offer.sdp.replace("actpass", "passive"));
    assert!(matches!(
        pc.set_local_description(munged),
        Err(Error::NotOurDescription(SdpType::Offer))
    ));
    assert!(matches!(
        pc.add_ice_candidate(&rtcwire::IceCandidate::end_of_candidates(None)),
        Err(Error::WrongState(_))
    ));
    assert_eq!(pc.signaling_state(), SignalingState::Stable);
}

#[test]
fn bad_remote_offers_are_refused_with_the_reason() {
    let chromium = corpus()
        .into_iter()
        .find(|(n, _)| n == "chromium-offer-dc.sdp")
        .unwrap()
        .1;
    for (text, want) in [
        ("not sdp at all".to_owned(), "SDP"),
        (
            chromium
                .lines()
                .filter(|l| !l.starts_with("a=fingerprint"))
                .map(|l| format!("{l}\r\n"))
                .collect::<String>(),
            "fingerprint",
        ),
        (
            chromium
                .lines()
                .filter(|l| !l.starts_with("a=ice-pwd"))
                .map(|l| format!("{l}\r\n"))
                .collect::<String>(),
            "ice-pwd",
        ),
    ] {
        let mut pc = session(5);
        let err = pc
            .set_remote_description(SessionDescription::offer(text))
            .unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
        assert_eq!(pc.signaling_state(), SignalingState::Stable);
        assert!(pc.remote_description().is_none());
    }
}

#[test]
fn an_offer_with_only_media_is_answered_on_one_bundled_transport() {
    let av = corpus()
        .into_iter()
        .find(|(n, _)| n == "chromium-offer-av-dc.sdp")
        .unwrap()
        .1;
    // Cut the data section off.
    let cut = av.find("m=application").unwrap();
    let mut pc = session(6);
    pc.set_remote_description(SessionDescription::offer(&av[..cut]))
        .unwrap();
    let answer = pc.create_answer().unwrap();
    let sdp = Sdp::parse(&answer.sdp).unwrap();
    let offer = Sdp::parse(&av[..cut]).unwrap();
    for (o, a) in offer.media().zip(sdp.media()) {
        check_media_answer("av only", &o, &a);
    }
    assert_eq!(
        sdp.session().bundle().unwrap().mids.len(),
        offer.media_count()
    );
    pc.set_local_description(answer).unwrap();
    assert_eq!(
        pc.dtls_role(),
        Some(DtlsRole::Client),
        "the transport starts"
    );
    assert!(pc.sctp_association().is_none());
}

#[test]
fn an_offer_that_cannot_bundle_is_refused_with_the_reason() {
    let av = corpus()
        .into_iter()
        .find(|(n, _)| n == "chromium-offer-av-dc.sdp")
        .unwrap()
        .1;
    let unbundled: String = av
        .lines()
        .filter(|l| !l.starts_with("a=group:BUNDLE"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let mut pc = session(10);
    let err = pc
        .set_remote_description(SessionDescription::offer(unbundled))
        .unwrap_err();
    assert!(err.to_string().contains("max-bundle"), "{err}");
    let no_mux: String = av
        .lines()
        .filter(|l| *l != "a=rtcp-mux")
        .map(|l| format!("{l}\r\n"))
        .collect();
    let err = pc
        .set_remote_description(SessionDescription::offer(no_mux))
        .unwrap_err();
    assert!(err.to_string().contains("rtcp-mux"), "{err}");
    assert_eq!(pc.signaling_state(), SignalingState::Stable);
}

#[test]
fn a_remote_offer_rolled_back_leaves_a_fresh_offerer() {
    let (_, chromium) = corpus()
        .into_iter()
        .find(|(n, _)| n == "chromium-offer-av-dc.sdp")
        .unwrap();
    let mut pc = session(7);
    pc.set_remote_description(SessionDescription::offer(chromium))
        .unwrap();
    assert_eq!(pc.ice_agent().role(), rtcwire_ice::Role::Controlled);
    pc.set_remote_description(SessionDescription::rollback())
        .unwrap();
    assert_eq!(pc.signaling_state(), SignalingState::Stable);
    assert!(pc.remote_description().is_none());
    assert_eq!(pc.ice_agent().role(), rtcwire_ice::Role::Controlling);
    assert_eq!(pc.ice_agent().remote_candidate_count(), 0);
    // Now we offer, with our single data section.
    let offer = pc.create_offer().unwrap();
    assert_eq!(Sdp::parse(&offer.sdp).unwrap().media_count(), 1);
    pc.set_local_description(offer).unwrap();
    assert!(matches!(
        pc.set_remote_description(SessionDescription::rollback()),
        Err(Error::InvalidState { .. })
    ));
}

#[test]
fn a_later_offer_after_answering_a_browser_keeps_its_m_lines() {
    let (_, chromium) = corpus()
        .into_iter()
        .find(|(n, _)| n == "chromium-offer-av-dc.sdp")
        .unwrap();
    let mut pc = session(8);
    pc.set_remote_description(SessionDescription::offer(chromium.clone()))
        .unwrap();
    let answer = pc.create_answer().unwrap();
    pc.set_local_description(answer).unwrap();
    pc.restart_ice().unwrap();
    let ufrag = pc.ice_agent().local_credentials().ufrag.clone();
    let offer = pc.create_offer().unwrap();
    assert_ne!(
        pc.ice_agent().local_credentials().ufrag,
        ufrag,
        "ICE restarted"
    );
    let sdp = Sdp::parse(&offer.sdp).unwrap();
    let theirs = Sdp::parse(&chromium).unwrap();
    assert_eq!(sdp.media_count(), theirs.media_count());
    for (o, t) in sdp.media().zip(theirs.media()) {
        assert_eq!(o.mid(), t.mid());
        assert_eq!(o.kind(), t.kind());
    }
    let data = sdp.media_by_mid("2").unwrap();
    assert_eq!(data.setup(), Some(Setup::ActPass));
    assert!(data.ice_ufrag().is_some_and(|u| u != ufrag));
    // The peer may not change its certificate in a later offer.
    let mut pc = session(9);
    let (_, dc) = corpus()
        .into_iter()
        .find(|(n, _)| n == "chromium-offer-dc.sdp")
        .unwrap();
    pc.set_remote_description(SessionDescription::offer(dc.clone()))
        .unwrap();
    let answer = pc.create_answer().unwrap();
    pc.set_local_description(answer).unwrap();
    let forged = dc.replace("a=fingerprint:sha-256 CE:52", "a=fingerprint:sha-256 CF:52");
    let err = pc
        .set_remote_description(SessionDescription::offer(forged))
        .unwrap_err();
    assert!(err.to_string().contains("certificate changed"), "{err}");
    assert_eq!(pc.signaling_state(), SignalingState::Stable);
}
