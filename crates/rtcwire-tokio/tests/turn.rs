//! Through a real TURN server: coturn, started by the test on 127.0.0.1. The answerer may
//! use relayed candidates only (`iceTransportPolicy: "relay"`), so every byte goes through
//! its allocation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{loopback, negotiate, next_channel, within};
use rtcwire_sim::peer;
use rtcwire_tokio::{DataChannelInit, Payload, PeerConnection, TurnServer};

#[tokio::test]
async fn a_relay_only_answerer_connects_through_coturn() {
    let Some(turn) = peer::Turnserver::start("tokio", "u", "p", "example.org", &[]) else {
        return; // skipped (or failed under RTCWIRE_REQUIRE_PEERS=1) by the helper
    };
    let (a, _ea) = PeerConnection::new(loopback()).await.unwrap();
    let mut relayed = loopback().turn_server(TurnServer::udp(turn.addr, "u", "p"));
    relayed.session.ice.relay_only = true;
    let (b, mut eb) = PeerConnection::new(relayed).await.unwrap();
    // The relayed candidate comes once the allocation succeeded: wait for gathering.
    within("b gathered", b.gathering_complete()).await.unwrap();

    let mut chat = a
        .create_data_channel("relayed", DataChannelInit::default())
        .await
        .unwrap();
    negotiate(&a, &b).await;
    let answer = b.local_description().await.unwrap().unwrap();
    assert!(
        answer.sdp.contains("typ relay"),
        "no relayed candidate in the answer:\n{}",
        answer.sdp
    );
    let mut far = next_channel(&mut eb).await;
    within("open through the relay", chat.wait_open())
        .await
        .unwrap();
    chat.send_text("via coturn").await.unwrap();
    chat.send_binary(&[3; 20_000]).await.unwrap();
    assert_eq!(
        within("text", far.recv()).await,
        Some(Payload::Text("via coturn".into()))
    );
    assert_eq!(
        within("binary", far.recv()).await,
        Some(Payload::Binary(vec![3; 20_000]))
    );
    far.send_text("and back").await.unwrap();
    assert_eq!(
        within("back", chat.recv()).await,
        Some(Payload::Text("and back".into()))
    );
    // b's selected pair is relayed.
    let stats = b.get_stats().await.unwrap();
    let pair = stats.transport.selected_pair.expect("a selected pair");
    assert_eq!(pair.local.kind, rtcwire_ice::CandidateKind::Relayed);
    a.close().await.unwrap();
    b.close().await.unwrap();
}
