//! Two driven sessions on 127.0.0.1: connect, messages both ways, close.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{loopback, messages_both_ways, negotiate, next_channel, within};
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

    messages_both_ways(&mut chat, &mut far, "hi", &[&[], &[7; 65_536]], "back").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_gets_every_message_in_order() {
    // Room for 4 messages: the driver stops reading the network until the reader catches
    // up, and nothing is lost.
    let mut config = loopback();
    config.channel_capacity = 4;
    let (a, _ea) = PeerConnection::new(loopback()).await.unwrap();
    let (b, mut eb) = PeerConnection::new(config).await.unwrap();
    let chat = a
        .create_data_channel("burst", DataChannelInit::default())
        .await
        .unwrap();
    negotiate(&a, &b).await;
    let mut far = next_channel(&mut eb).await;
    within("open", chat.wait_open()).await.unwrap();
    let sender = chat.sender();
    let send = tokio::spawn(async move {
        for i in 0..2000u32 {
            sender.send_binary(&i.to_be_bytes()).await.unwrap();
        }
    });
    for i in 0..2000u32 {
        if i % 100 == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        assert_eq!(
            within("message", far.recv()).await,
            Some(Payload::binary(i.to_be_bytes().to_vec()))
        );
    }
    send.await.unwrap();
}

#[tokio::test]
async fn buffered_amount_rises_and_falls() {
    let (a, _ea) = PeerConnection::new(loopback()).await.unwrap();
    let (b, mut eb) = PeerConnection::new(loopback()).await.unwrap();
    let chat = a
        .create_data_channel("bulk", DataChannelInit::default())
        .await
        .unwrap();
    negotiate(&a, &b).await;
    let mut far = next_channel(&mut eb).await;
    within("open", chat.wait_open()).await.unwrap();
    chat.set_buffered_amount_low_threshold(16 * 1024)
        .await
        .unwrap();
    for _ in 0..16 {
        chat.send_binary(&[1; 60_000]).await.unwrap();
    }
    let peak = chat.buffered_amount();
    assert!(peak > 16 * 1024, "buffered {peak}");
    within("drained", chat.wait_buffered_amount_low(16 * 1024))
        .await
        .unwrap();
    assert!(chat.buffered_amount() <= 16 * 1024);
    for _ in 0..16 {
        assert_eq!(
            within("bulk", far.recv()).await.map(|p| match p {
                Payload::Binary(b) => b.len(),
                Payload::Text(_) => 0,
            }),
            Some(60_000)
        );
    }
}

#[tokio::test]
async fn events_are_a_stream() {
    use futures_core::Stream;
    use std::pin::Pin;
    let (a, mut ea) = PeerConnection::new(loopback()).await.unwrap();
    // The host candidate and end-of-candidates come at once.
    let first = std::future::poll_fn(|cx| Pin::new(&mut ea).poll_next(cx)).await;
    assert!(
        matches!(
            first,
            Some(Event::IceGatheringStateChange(_)) | Some(Event::IceCandidate(_))
        ),
        "{first:?}"
    );
    within("gathering", a.gathering_complete()).await.unwrap();
    let offer = a.create_offer().await.unwrap();
    assert!(offer
        .sdp
        .contains(&format!("{} ", a.local_addrs()[0].port())));
    a.close().await.unwrap();
    // The stream ends when the session is freed.
    within("end", async { while ea.next_event().await.is_some() {} }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_send_buffers_deliver_every_byte() {
    let (a, _ea) = PeerConnection::new(loopback()).await.unwrap();
    let (b, mut eb) = PeerConnection::new(loopback()).await.unwrap();
    let chat = a
        .create_data_channel("bytes", DataChannelInit::default())
        .await
        .unwrap();
    negotiate(&a, &b).await;
    let mut far = next_channel(&mut eb).await;
    within("open", chat.wait_open()).await.unwrap();
    // Sizes 1..=9000 with distinct contents: the small ones are pieces of the sender's
    // reused 32 KiB buffer (many times over), the large ones a buffer each, every third
    // handed over as `Bytes`.
    let message = |i: usize| -> Vec<u8> {
        let n = 1 + (i * 997) % 9000;
        (0..n).map(|k| (i * 7 + k) as u8).collect()
    };
    let sender = chat.sender();
    let send = tokio::spawn(async move {
        for i in 0..400 {
            let m = message(i);
            if i % 3 == 0 {
                sender.send_bytes(bytes::Bytes::from(m)).await.unwrap();
            } else {
                sender.send_binary(&m).await.unwrap();
            }
            if sender.buffered_amount() > 256 * 1024 {
                sender.wait_buffered_amount_low(64 * 1024).await.unwrap();
            }
        }
    });
    for i in 0..400 {
        assert_eq!(
            within("message", far.recv()).await,
            Some(Payload::binary(message(i))),
            "message {i}"
        );
    }
    send.await.unwrap();
    // A send given up while it waits for its answer does not answer the next one.
    let _ = tokio::time::timeout(std::time::Duration::ZERO, chat.send_binary(b"given up")).await;
    chat.send_binary(b"after").await.unwrap();
    let mut got = within("after", far.recv()).await.unwrap();
    if got == Payload::binary(b"given up".to_vec()) {
        got = within("after", far.recv()).await.unwrap();
    }
    assert_eq!(got, Payload::binary(b"after".to_vec()));
    // Refusals still come back: over the peer's maximum message size, then closed.
    assert!(chat
        .send_bytes(bytes::Bytes::from(vec![0; 300 * 1024]))
        .await
        .is_err());
    far.close().await.unwrap();
    within("closed", chat.closed()).await;
    assert!(chat
        .send_bytes(bytes::Bytes::from_static(b"late"))
        .await
        .is_err());
    assert!(chat.send_binary(b"late").await.is_err());
}
