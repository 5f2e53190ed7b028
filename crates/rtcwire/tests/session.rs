//! Two rtcwire PeerConnections on an rtcwire-sim LAN: offer/answer (with trickle and
//! without), a data channel opening, messages echoed both ways, loss, close, replay.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::time::Duration;

use common::{Duo, Signaling};
use rtcwire::{DtlsRole, Event, IceConnectionState, Payload, PeerConnectionState, SignalingState};
use rtcwire_sim::{LinkConfig, Loss};

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(5))
}

fn lossy() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(10)).loss(Loss::Random(0.05))
}

/// A's messages, each echoed by B as it arrives, all seen back on A.
fn echo_all(duo: &mut Duo, ca: rtcwire::ChannelId, cb: rtcwire::ChannelId, msgs: &[Payload]) {
    for m in msgs {
        duo.with(true, |pc| match m {
            Payload::Text(t) => pc.send_text(ca, t).unwrap(),
            Payload::Binary(b) => pc.send_binary(ca, b).unwrap(),
        });
    }
    echo_back(duo, ca, cb, msgs);
}

/// The echo loop proper: B sends back every message it got, A must see them all in order.
fn echo_back(duo: &mut Duo, ca: rtcwire::ChannelId, cb: rtcwire::ChannelId, msgs: &[Payload]) {
    let mut echoed = 0;
    let limit = duo.sim.elapsed() + Duration::from_secs(120);
    loop {
        let got = duo.messages(false, cb);
        for m in got.iter().skip(echoed) {
            duo.with(false, |pc| match m {
                Payload::Text(t) => pc.send_text(cb, t).unwrap(),
                Payload::Binary(b) => pc.send_binary(cb, b).unwrap(),
            });
        }
        echoed = got.len();
        if duo.messages(true, ca).len() >= msgs.len() {
            break;
        }
        assert!(
            duo.sim.elapsed() < limit,
            "echo incomplete: B got {}, A got back {} of {}\n{}",
            echoed,
            duo.messages(true, ca).len(),
            msgs.len(),
            duo.sim.report()
        );
        let _ = duo.run_until(Duration::from_millis(20), |_| false);
    }
    assert_eq!(duo.messages(false, cb), msgs, "B received");
    assert_eq!(duo.messages(true, ca), msgs, "A got back");
}

fn assorted() -> Vec<Payload> {
    let big: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
    vec![
        Payload::Text("hello".into()),
        Payload::binary(vec![1, 2, 3]),
        Payload::text(String::new()),
        Payload::binary(Vec::new()),
        Payload::Text("ünïcödé ✓".into()),
        Payload::binary(big),
        Payload::Text("after the big one".into()),
    ]
}

#[test]
fn offer_answer_with_trickle_opens_a_data_channel() {
    let mut duo = Duo::new(1, lan(), Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    let needed = duo
        .log(true)
        .iter()
        .filter(|e| matches!(e, Event::NegotiationNeeded))
        .count();
    assert_eq!(needed, 1, "the first channel asks for an offer, once");
    println!("open after {:?} (simulated)", duo.sim.elapsed());
    assert_eq!(duo.state(true), PeerConnectionState::Connected);
    assert_eq!(duo.state(false), PeerConnectionState::Connected);
    // The answerer is the DTLS client, as browsers are.
    assert_eq!(duo.sim.endpoint(duo.a).dtls_role(), Some(DtlsRole::Server));
    assert_eq!(duo.sim.endpoint(duo.b).dtls_role(), Some(DtlsRole::Client));
    assert!(matches!(
        duo.log(false).iter().find(|e| matches!(e, Event::DataChannel { .. })),
        Some(Event::DataChannel { label, ordered: true, .. }) if label == "chat"
    ));
    let a = duo.sim.endpoint(duo.a);
    assert_eq!(a.signaling_state(), SignalingState::Stable);
    assert!(matches!(
        a.ice_connection_state(),
        IceConnectionState::Connected | IceConnectionState::Completed
    ));
    assert_eq!(
        a.channel_stream_id(ca).map(|s| s % 2),
        Some(1),
        "server ids are odd"
    );
    // The W3C order of state events on each side.
    for side in [true, false] {
        let states: Vec<PeerConnectionState> = duo
            .log(side)
            .iter()
            .filter_map(|e| match e {
                Event::ConnectionStateChange(s) => Some(*s),
                _ => None,
            })
            .collect();
        assert_eq!(
            states,
            [
                PeerConnectionState::Connecting,
                PeerConnectionState::Connected
            ]
        );
        assert!(duo
            .log(side)
            .iter()
            .any(|e| matches!(e, Event::IceCandidate(c) if c.is_end_of_candidates())));
    }
    let _ = cb;
    assert_eq!(duo.sim.endpoint(duo.a).stats().refused_datagrams, 0);
    assert_eq!(duo.sim.endpoint(duo.b).stats().refused_datagrams, 0);
}

#[test]
fn offer_answer_without_trickle_opens_a_data_channel() {
    let mut duo = Duo::new(2, lan(), Signaling::Full);
    let (_ca, _cb) = duo.connect_with_channel();
    let offer = duo.local_sdp(true);
    assert!(offer.contains("a=candidate:"), "{offer}");
    assert!(offer.contains("a=end-of-candidates"), "{offer}");
}

#[test]
fn messages_of_every_kind_echo_both_ways() {
    let mut duo = Duo::new(3, lan(), Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    let msgs = assorted();
    echo_all(&mut duo, ca, cb, &msgs);
    // get_stats counts them.
    let bytes: u64 = msgs
        .iter()
        .map(|m| match m {
            Payload::Text(t) => t.len() as u64,
            Payload::Binary(b) => b.len() as u64,
        })
        .sum();
    let report = duo.sim.endpoint(duo.a).get_stats();
    assert_eq!(report.connection_state, PeerConnectionState::Connected);
    let dc = &report.data_channels[0];
    assert_eq!((dc.id, dc.label.as_str()), (ca, "chat"));
    assert_eq!(dc.state, rtcwire::DataChannelState::Open);
    assert_eq!(
        (dc.messages_sent, dc.bytes_sent),
        (msgs.len() as u64, bytes)
    );
    assert_eq!(
        (dc.messages_received, dc.bytes_received),
        (msgs.len() as u64, bytes)
    );
    let t = &report.transport;
    assert!(t.dtls_connected && t.dtls_cipher.is_some());
    assert_eq!(t.dtls_role, Some(DtlsRole::Server));
    assert!(t.selected_pair.is_some());
    assert!(t.sctp.as_ref().is_some_and(|s| s.srtt.is_some()));
    let b = duo.sim.endpoint(duo.b).get_stats();
    assert_eq!(b.data_channels[0].messages_received, msgs.len() as u64);
}

#[test]
fn buffered_amount_drains_and_reports_its_low_threshold() {
    let mut duo = Duo::new(18, lossy(), Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    let chunk = vec![0x5a; 256 * 1024];
    duo.with(true, |pc| {
        pc.set_buffered_amount_low_threshold(ca, 64 * 1024).unwrap();
        for _ in 0..4 {
            pc.send_binary(ca, &chunk).unwrap();
        }
        assert!(
            pc.buffered_amount(ca) > 512 * 1024,
            "{}",
            pc.buffered_amount(ca)
        );
    });
    let ok = duo.run_until(Duration::from_secs(60), |d| {
        d.messages(false, cb).len() == 4
            && d.log(true)
                .iter()
                .any(|e| matches!(e, Event::ChannelBufferedAmountLow(i) if *i == ca))
    });
    assert!(ok, "{}", duo.sim.report());
    assert!(duo.sim.endpoint(duo.a).buffered_amount(ca) <= 64 * 1024);
}

#[test]
fn messages_echo_under_five_percent_loss() {
    for seed in [4, 5] {
        let mut duo = Duo::new(seed, lossy(), Signaling::Trickle);
        let (ca, cb) = duo.connect_with_channel();
        echo_all(&mut duo, ca, cb, &assorted());
        println!("seed {seed}: done at {:?} (simulated)", duo.sim.elapsed());
    }
}

#[test]
fn closing_a_channel_closes_it_on_both_sides() {
    let mut duo = Duo::new(6, lossy(), Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    duo.with(false, |pc| pc.close_channel(cb).unwrap());
    let ok = duo.run_until(Duration::from_secs(30), |d| {
        d.closed(true, ca) && d.closed(false, cb)
    });
    assert!(ok, "{}", duo.sim.report());
    assert!(duo.with(true, |pc| pc.send_text(ca, "late")).is_err());
    // The session itself stays up.
    assert_eq!(duo.state(true), PeerConnectionState::Connected);
}

#[test]
fn closing_the_peer_connection_reaches_closed_on_both_sides() {
    let mut duo = Duo::new(7, lan(), Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    duo.with(true, |pc| pc.close());
    let ok = duo.run_until(Duration::from_secs(10), |d| {
        d.state(false) == PeerConnectionState::Closed && d.closed(false, cb)
    });
    assert!(ok, "{}", duo.sim.report());
    assert!(duo.closed(true, ca));
    assert_eq!(duo.state(true), PeerConnectionState::Closed);
    assert_eq!(
        duo.sim.endpoint(duo.a).signaling_state(),
        SignalingState::Closed
    );
    // A closed session refuses calls and arms no timer.
    assert!(duo.with(true, |pc| pc.create_offer()).is_err());
    assert_eq!(rtcwire::SansIo::poll_timeout(duo.sim.endpoint(duo.a)), None);
}

#[test]
fn a_channel_created_after_connecting_opens_from_either_side() {
    let mut duo = Duo::new(8, lan(), Signaling::Trickle);
    let (_ca, _cb) = duo.connect_with_channel();
    let from_b = duo.with(false, |pc| {
        pc.create_data_channel(
            "second",
            rtcwire::DataChannelInit {
                ordered: false,
                max_retransmits: Some(3),
                ..Default::default()
            },
        )
        .unwrap()
    });
    let ok = duo.run_until(Duration::from_secs(10), |d| {
        d.opened(false).contains(&from_b) && d.opened(true).len() == 2
    });
    assert!(ok, "{}", duo.sim.report());
    assert_eq!(
        duo.sim
            .endpoint(duo.b)
            .channel_stream_id(from_b)
            .map(|s| s % 2),
        Some(0),
        "client ids are even"
    );
}

fn traced_run(seed: u64) -> String {
    let mut duo = Duo::new(seed, lossy(), Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    echo_all(
        &mut duo,
        ca,
        cb,
        &[Payload::Text("x".into()), Payload::binary(vec![7; 5000])],
    );
    duo.sim.trace_text()
}

#[test]
fn same_seed_same_trace() {
    let first = traced_run(11);
    let second = traced_run(11);
    assert!(!first.is_empty());
    assert!(first == second, "two runs with seed 11 differ");
    assert!(traced_run(12) != first, "another seed gives another run");
}

#[test]
fn pre_negotiated_channels_open_on_both_sides_without_dcep() {
    let mut duo = Duo::new(9, lan(), Signaling::Trickle);
    let init = || rtcwire::DataChannelInit {
        negotiated: Some(7),
        ..Default::default()
    };
    let ca = duo.with(true, |pc| pc.create_data_channel("pre", init()).unwrap());
    let cb = duo.with(false, |pc| pc.create_data_channel("pre", init()).unwrap());
    duo.negotiate();
    let ok = duo.run_until(Duration::from_secs(10), |d| {
        d.opened(true) == [ca] && d.opened(false) == [cb]
    });
    assert!(ok, "{}", duo.sim.report());
    assert_eq!(duo.sim.endpoint(duo.a).channel_stream_id(ca), Some(7));
    duo.with(true, |pc| pc.send_text(ca, "no DCEP needed").unwrap());
    let ok = duo.run_until(Duration::from_secs(5), |d| {
        !d.messages(false, cb).is_empty()
    });
    assert!(ok, "{}", duo.sim.report());
    assert!(!duo
        .log(false)
        .iter()
        .any(|e| matches!(e, Event::DataChannel { .. })));
}

#[test]
fn a_lost_link_is_disconnected_then_recovers() {
    let mut duo = Duo::new(10, lan(), Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    duo.sim.set_link_up(duo.link, false);
    let ok = duo.run_until(Duration::from_secs(30), |d| {
        d.state(true) == PeerConnectionState::Disconnected
    });
    assert!(ok, "{}", duo.sim.report());
    assert!(duo.log(true).iter().any(|e| matches!(
        e,
        Event::IceConnectionStateChange(IceConnectionState::Disconnected)
    )));
    duo.sim.set_link_up(duo.link, true);
    duo.with(true, |pc| pc.send_text(ca, "back").unwrap());
    let ok = duo.run_until(Duration::from_secs(60), |d| {
        d.state(true) == PeerConnectionState::Connected && !d.messages(false, cb).is_empty()
    });
    assert!(ok, "{}", duo.sim.report());
}

#[test]
fn a_link_lost_for_good_fails_the_connection() {
    let mut duo = Duo::new(13, lan(), Signaling::Trickle);
    let _ = duo.connect_with_channel();
    duo.sim.set_link_up(duo.link, false);
    let ok = duo.run_until(Duration::from_secs(120), |d| {
        d.state(true) == PeerConnectionState::Failed
            && d.state(false) == PeerConnectionState::Failed
    });
    assert!(ok, "{}", duo.sim.report());
}

fn ufrag(duo: &Duo, side_a: bool) -> String {
    let h = if side_a { duo.a } else { duo.b };
    duo.sim
        .endpoint(h)
        .ice_agent()
        .local_credentials()
        .ufrag
        .clone()
}

#[test]
fn ice_restart_mid_session_keeps_the_channel_working() {
    for restarter_a in [true, false] {
        let mut duo = Duo::new(14 + u64::from(restarter_a), lossy(), Signaling::Trickle);
        let (ca, cb) = duo.connect_with_channel();
        let before = (ufrag(&duo, true), ufrag(&duo, false));
        let responses = |d: &Duo, side_a: bool| {
            let h = if side_a { d.a } else { d.b };
            d.sim.endpoint(h).ice_agent().stats().responses_received
        };
        let responses_before = (responses(&duo, true), responses(&duo, false));
        duo.with(restarter_a, |pc| pc.restart_ice().unwrap());
        // Let the simulator collect the event.
        let _ = duo.sim.run_until(|_| true, Duration::ZERO);
        duo.exchange();
        assert!(duo
            .log(restarter_a)
            .iter()
            .any(|e| matches!(e, Event::NegotiationNeeded)));
        duo.with(true, |pc| pc.send_text(ca, "before the offer").unwrap());
        duo.renegotiate(restarter_a);
        duo.with(true, |pc| pc.send_text(ca, "during the restart").unwrap());
        let ok = duo.run_until(Duration::from_secs(10), |d| {
            d.messages(false, cb).len() == 2
        });
        assert!(ok, "{}", duo.sim.report());
        // Both sides have new credentials, and checks of the new generation succeeded.
        assert_ne!(ufrag(&duo, true), before.0);
        assert_ne!(ufrag(&duo, false), before.1);
        let _ = duo.run_until(Duration::from_secs(3), |_| false);
        assert!(responses(&duo, true) > responses_before.0);
        assert!(responses(&duo, false) > responses_before.1);
        for side in [true, false] {
            let h = if side { duo.a } else { duo.b };
            // A restart drops every pair: these are of the new generation.
            assert!(duo.sim.endpoint(h).ice_agent().pair_count() >= 1);
            let stats = duo.sim.endpoint(h).ice_agent().stats();
            assert_eq!(
                (stats.bad_integrity, stats.wrong_username),
                (0, 0),
                "side a: {side}"
            );
        }
        assert_eq!(duo.state(true), PeerConnectionState::Connected);
        assert_eq!(duo.state(false), PeerConnectionState::Connected);
        duo.with(false, |pc| pc.send_text(cb, "after").unwrap());
        let ok = duo.run_until(Duration::from_secs(10), |d| {
            !d.messages(true, ca).is_empty()
        });
        assert!(ok, "{}", duo.sim.report());
        assert_eq!(
            duo.sim.endpoint(duo.a).signaling_state(),
            SignalingState::Stable
        );
        // Both gathered again: gathering, complete, then end-of-candidates once more.
        for side in [true, false] {
            let gathering: Vec<rtcwire::IceGatheringState> = duo
                .log(side)
                .iter()
                .filter_map(|e| match e {
                    Event::IceGatheringStateChange(s) => Some(*s),
                    _ => None,
                })
                .collect();
            use rtcwire::IceGatheringState::{Complete, Gathering};
            assert_eq!(gathering, [Gathering, Complete, Gathering, Complete]);
            let ends = duo
                .log(side)
                .iter()
                .filter(|e| matches!(e, Event::IceCandidate(c) if c.is_end_of_candidates()))
                .count();
            assert_eq!(ends, 2);
        }
    }
}

#[test]
fn glare_is_resolved_by_rolling_back_one_offer() {
    let mut duo = Duo::new(16, lan(), Signaling::Trickle);
    let ca = duo.with(true, |pc| {
        pc.create_data_channel("chat", rtcwire::DataChannelInit::default())
            .unwrap()
    });
    let offer_a = duo.offer(true);
    let offer_b = duo.offer(false);
    // Both offered: A refuses B's offer; B (the polite one) rolls back and answers A.
    let err = duo.with(true, |pc| pc.set_remote_description(offer_b).unwrap_err());
    assert!(matches!(err, rtcwire::Error::InvalidState { .. }), "{err}");
    let answer = duo.with(false, |pc| {
        pc.set_local_description(rtcwire::SessionDescription::rollback())
            .unwrap();
        assert_eq!(pc.signaling_state(), SignalingState::Stable);
        assert!(pc.local_description().is_none());
        pc.set_remote_description(offer_a).unwrap();
        let a = pc.create_answer().unwrap();
        pc.set_local_description(a.clone()).unwrap();
        a
    });
    duo.with(true, |pc| pc.set_remote_description(answer).unwrap());
    duo.add_hosts();
    let ok = duo.run_until(Duration::from_secs(10), |d| {
        d.opened(true).contains(&ca) && !d.opened(false).is_empty()
    });
    assert!(ok, "{}", duo.sim.report());
    let signaling: Vec<SignalingState> = duo
        .log(false)
        .iter()
        .filter_map(|e| match e {
            Event::SignalingStateChange(s) => Some(*s),
            _ => None,
        })
        .collect();
    assert_eq!(
        signaling,
        [
            SignalingState::HaveLocalOffer,
            SignalingState::Stable,
            SignalingState::HaveRemoteOffer,
            SignalingState::Stable
        ]
    );
}

#[test]
fn checks_that_arrive_before_the_answer_are_taken() {
    let mut duo = Duo::new(17, lan(), Signaling::Full);
    let ca = duo.with(true, |pc| {
        pc.create_data_channel("chat", rtcwire::DataChannelInit::default())
            .unwrap()
    });
    duo.with(true, |pc| {
        pc.add_local_candidate(common::addr(common::ADDR_A))
            .unwrap();
        pc.end_of_local_candidates();
    });
    let offer = duo.offer(true);
    let answer = duo.with(false, |pc| {
        pc.set_remote_description(offer).unwrap();
        pc.add_local_candidate(common::addr(common::ADDR_B))
            .unwrap();
        pc.end_of_local_candidates();
        let a = pc.create_answer().unwrap();
        pc.set_local_description(a.clone()).unwrap();
        a
    });
    // The answer is slow to arrive: B's checks reach A first.
    let _ = duo.run_until(Duration::from_millis(300), |_| false);
    assert!(
        duo.sim
            .endpoint(duo.a)
            .ice_agent()
            .stats()
            .requests_received
            > 0
    );
    assert_eq!(duo.sim.endpoint(duo.a).stats().refused_datagrams, 0);
    duo.with(true, |pc| pc.set_remote_description(answer).unwrap());
    let ok = duo.run_until(Duration::from_secs(10), |d| d.opened(true).contains(&ca));
    assert!(ok, "{}", duo.sim.report());
}

#[test]
fn an_mdns_candidate_is_resolved_by_the_driver_and_connects() {
    // No candidate is forwarded but the hidden one.
    let mut duo = Duo::new(19, lan(), Signaling::Full);
    let ca = duo.with(true, |pc| {
        pc.create_data_channel("chat", rtcwire::DataChannelInit::default())
            .unwrap()
    });
    let offer = duo.offer(true);
    let answer = duo.answer(false, offer, &[]);
    duo.with(true, |pc| pc.set_remote_description(answer).unwrap());
    // B's host address hidden behind a name, as browsers do; only A gets candidates.
    let name = "1f4712db-ea17-4bcf-a596-105139dfd8bf.local";
    let hidden = rtcwire::IceCandidate {
        candidate: format!("candidate:1 1 udp 2122260223 {name} 6000 typ host"),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    };
    duo.with(false, |pc| {
        pc.add_local_candidate(common::addr(common::ADDR_B))
            .unwrap()
    });
    duo.with(true, |pc| {
        pc.add_local_candidate(common::addr(common::ADDR_A))
            .unwrap();
        pc.add_ice_candidate(&hidden).unwrap();
    });
    let _ = duo.sim.run_until(|_| true, Duration::ZERO);
    let events = duo.sim.take_events(duo.a);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::ResolveHostname(n) if n == name)));
    duo.log_a.extend(events);
    duo.with(true, |pc| {
        pc.resolve_hostname(name, "10.0.0.2".parse().unwrap())
            .unwrap()
    });
    let ok = duo.run_until(Duration::from_secs(10), |d| d.opened(true).contains(&ca));
    assert!(ok, "{}", duo.sim.report());
}

#[test]
fn an_ice_lite_server_answers_a_full_agent() {
    let mut duo = Duo::with_configs(
        20,
        lossy(),
        Signaling::Trickle,
        |_| {},
        |b| b.ice.lite = true,
    );
    let (ca, cb) = duo.connect_with_channel();
    let answer = duo.local_sdp(false);
    assert!(answer.contains("a=ice-lite"), "{answer}");
    // The lite side never checks: everything it sent over ICE was responses.
    let lite = duo.sim.endpoint(duo.b).ice_agent().stats();
    assert_eq!(lite.checks_sent, 0);
    assert!(lite.requests_received > 0);
    echo_all(&mut duo, ca, cb, &[Payload::Text("lite".into())]);
}
