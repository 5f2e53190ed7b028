//! Shared helpers: two driven sessions on 127.0.0.1, signalled in-process.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use rtcwire_tokio::{Config, DataChannel, DataChannelInit, Event, Events, Payload, PeerConnection};

/// Loopback only.
pub fn loopback() -> Config {
    Config::default().bind(["127.0.0.1:0".parse().unwrap()])
}

/// Bounds every wait of a test.
pub async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(20), f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// Offer/answer between `a` (offerer) and `b`, non-trickle (host candidates are in the
/// descriptions).
pub async fn negotiate(a: &PeerConnection, b: &PeerConnection) {
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer.clone()).await.unwrap();
    b.set_remote_description(offer).await.unwrap();
    let answer = b.create_answer().await.unwrap();
    b.set_local_description(answer.clone()).await.unwrap();
    a.set_remote_description(answer).await.unwrap();
}

/// Waits for the next `Event::DataChannel`, skipping others.
pub async fn next_channel(events: &mut Events) -> rtcwire_tokio::DataChannel {
    within("a data channel from the peer", async {
        loop {
            match events.next_event().await {
                Some(Event::DataChannel(dc)) => return dc,
                Some(_) => {}
                None => panic!("events ended"),
            }
        }
    })
    .await
}

/// `text` then each of `binaries` from `chat` arrive at `far` in order, then `back` from
/// `far` arrives at `chat`.
pub async fn messages_both_ways(
    chat: &mut DataChannel,
    far: &mut DataChannel,
    text: &str,
    binaries: &[&[u8]],
    back: &str,
) {
    chat.send_text(text).await.unwrap();
    for b in binaries {
        chat.send_binary(b).await.unwrap();
    }
    assert_eq!(
        within("text", far.recv()).await,
        Some(Payload::Text(text.into()))
    );
    for b in binaries {
        assert_eq!(
            within("binary", far.recv()).await,
            Some(Payload::binary(b.to_vec()))
        );
    }
    far.send_text(back).await.unwrap();
    assert_eq!(
        within("back", chat.recv()).await,
        Some(Payload::Text(back.into()))
    );
}

/// Runs a relay-only answerer configured with `relayed` (a TURN server in it) against a
/// plain offerer; checks messages both ways (`binary` bytes one way) and that the
/// answerer's selected pair is relayed; returns the answerer's TCP counters.
pub async fn relayed_session(relayed: Config, binary: usize) -> rtcwire_tokio::TcpStats {
    let t0 = tokio::time::Instant::now();
    let (a, _ea) = PeerConnection::new(loopback()).await.unwrap();
    let mut relayed = relayed;
    relayed.session.ice.relay_only = true;
    let (b, mut eb) = PeerConnection::new(relayed).await.unwrap();
    // The relayed candidate comes once the allocation succeeded: wait for gathering.
    within("b gathered", b.gathering_complete()).await.unwrap();
    let gathered = t0.elapsed();

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
    let opened = t0.elapsed();
    let bytes = vec![3; binary];
    messages_both_ways(&mut chat, &mut far, "via coturn", &[&bytes], "and back").await;
    // b's selected pair is relayed.
    let stats = b.get_stats().await.unwrap();
    let pair = stats.transport.selected_pair.expect("a selected pair");
    assert_eq!(pair.local.kind, rtcwire_ice::CandidateKind::Relayed);
    let tcp = b.tcp_stats().await.unwrap();
    println!("gathered after {gathered:?}, open after {opened:?}; b's TCP: {tcp:?}");
    a.close().await.unwrap();
    b.close().await.unwrap();
    tcp
}
