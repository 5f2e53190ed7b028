//! Shared helpers: two driven sessions on 127.0.0.1, signalled in-process.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use rtcwire_tokio::{Config, Event, Events, PeerConnection};

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
