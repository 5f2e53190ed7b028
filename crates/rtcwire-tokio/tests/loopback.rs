//! Two driven sessions on 127.0.0.1: connect, messages both ways, close.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{loopback, negotiate, next_channel, within};
use rtcwire_tokio::{
    ChannelState, DataChannelInit, Event, Payload, PeerConnection, PeerConnectionState,
};

#[tokio::test]
async fn two_peers_exchange_messages_and_close() {
    let (a, _ea) = PeerConnection::new(loopback()).await.unwrap();
    let (b, mut eb) = PeerConnection::new(loopback()).await.unwrap();
    assert_eq!(a.local_addrs().len(), 1);
    assert!(a.local_addrs()[0].ip().is_loopback());
    let mut chat = a
        .create_data_channel("chat", DataChannelInit::default())
        .await
        .unwrap();
    assert_eq!(chat.state(), ChannelState::Connecting);
    negotiate(&a, &b).await;
    let mut far = next_channel(&mut eb).await;
    assert_eq!(far.label(), "chat");
    within("open", chat.wait_open()).await.unwrap();
    within("connected", a.connected()).await.unwrap();
    assert_eq!(a.connection_state(), PeerConnectionState::Connected);
    assert_eq!(chat.stream_id(), far.stream_id());

    chat.send_text("hi").await.unwrap();
    chat.send_binary(&[]).await.unwrap();
    chat.send_binary(&[7; 65_536]).await.unwrap();
    assert_eq!(
        within("text", far.recv()).await,
        Some(Payload::Text("hi".into()))
    );
    assert_eq!(
        within("empty", far.recv()).await,
        Some(Payload::Binary(vec![]))
    );
    assert_eq!(
        within("64 KiB", far.recv()).await,
        Some(Payload::Binary(vec![7; 65_536]))
    );
    far.send_text("back").await.unwrap();
    assert_eq!(
        within("back", chat.recv()).await,
        Some(Payload::Text("back".into()))
    );
    let stats = a.get_stats().await.unwrap();
    assert_eq!(stats.connection_state, PeerConnectionState::Connected);

    // Closing the channel from b reaches closed on both.
    far.close().await.unwrap();
    within("a's channel closed", chat.closed()).await;
    within("b's channel closed", far.closed()).await;
    assert_eq!(chat.recv().await, None);
    assert!(chat.send_text("late").await.is_err());

    a.close().await.unwrap();
    within("b sees the close", async {
        loop {
            match eb.next_event().await {
                Some(Event::ConnectionStateChange(PeerConnectionState::Closed)) | None => break,
                Some(_) => {}
            }
        }
    })
    .await;
    assert!(a.create_offer().await.is_err());
}
