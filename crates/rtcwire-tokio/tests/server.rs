//! Many sessions on one server socket, demultiplexed by `accepts`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{loopback, negotiate, next_channel, within};
use rtcwire_tokio::{DataChannel, DataChannelInit, Payload, PeerConnection, Server};

async fn clients_on_one_socket(clients: usize, lite: bool) {
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), loopback().ice_lite(lite))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (spc, mut sev) = server.connection().unwrap();
        assert_eq!(spc.local_addrs(), [server.local_addr()]);
        tasks.push(tokio::spawn(async move {
            let (cpc, _cev) = PeerConnection::new(loopback()).await.unwrap();
            let mut dc = cpc
                .create_data_channel("echo", DataChannelInit::default())
                .await
                .unwrap();
            negotiate(&cpc, &spc).await;
            let mut far = next_channel(&mut sev).await;
            // The server side echoes.
            let echo = tokio::spawn(async move {
                while let Some(m) = far.recv().await {
                    far.send(m).await.unwrap();
                }
            });
            within("client channel open", dc.wait_open()).await.unwrap();
            for j in 0..5 {
                let m = Payload::text(format!("client {i} message {j}"));
                dc.send(m.clone()).await.unwrap();
                assert_eq!(within("echo", dc.recv()).await, Some(m));
            }
            let stats = spc.get_stats().await.unwrap();
            cpc.close().await.unwrap();
            within("server side channel closed", echo).await.unwrap();
            stats
        }));
    }
    for t in tasks {
        let stats = within("client", t).await.unwrap();
        assert_eq!(
            stats.connection_state,
            rtcwire_tokio::PeerConnectionState::Connected
        );
    }
    // The server's sessions are freed once their handles are gone.
    within("sessions freed", async {
        while server.sessions() != 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_on_one_ice_lite_socket() {
    clients_on_one_socket(50, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_clients_on_one_full_ice_socket() {
    clients_on_one_socket(10, false).await;
}

#[tokio::test]
async fn a_server_refuses_the_unspecified_address() {
    let r = Server::bind("0.0.0.0:0".parse().unwrap(), loopback()).await;
    assert!(matches!(r, Err(rtcwire_tokio::Error::NoAddress(_))));
}

/// One session of a server: the client's handle and channel, the server's handle, events
/// and channel end.
type Session = (
    PeerConnection,
    DataChannel,
    PeerConnection,
    rtcwire_tokio::Events,
    DataChannel,
);

/// `n` sessions on one ICE-lite server socket whose channels have room for 2 messages,
/// each with a channel the client opened.
async fn sessions_with_room_for_two(n: usize) -> (Server, Vec<Session>) {
    let mut config = loopback();
    config.channel_capacity = 2;
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), config.ice_lite(true))
        .await
        .unwrap();
    let mut sessions = Vec::new();
    for _ in 0..n {
        let (spc, mut sev) = server.connection().unwrap();
        let (cpc, _cev) = PeerConnection::new(loopback()).await.unwrap();
        let dc = cpc
            .create_data_channel("c", DataChannelInit::default())
            .await
            .unwrap();
        negotiate(&cpc, &spc).await;
        let far = next_channel(&mut sev).await;
        within("open", dc.wait_open()).await.unwrap();
        sessions.push((cpc, dc, spc, sev, far));
    }
    (server, sessions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_session_does_not_stall_the_others() {
    let (_server, mut sessions) = sessions_with_room_for_two(2).await;
    let (fast_client, mut fast_dc, fast_server, fast_events, mut fast) = sessions.remove(1);
    let (slow_client, slow_dc, slow_server, slow_events, mut slow) = sessions.remove(0);
    // 300 messages for the slow side, nobody reading them yet.
    let sender = slow_dc.sender();
    let flood = tokio::spawn(async move {
        for i in 0..300u32 {
            sender.send_binary(&i.to_be_bytes()).await.unwrap();
        }
    });
    // Meanwhile the other session answers at once, many times.
    let echo = tokio::spawn(async move {
        while let Some(m) = fast.recv().await {
            fast.send(m).await.unwrap();
        }
    });
    for i in 0..50 {
        let m = Payload::text(format!("fast {i}"));
        fast_dc.send(m.clone()).await.unwrap();
        assert_eq!(within("fast echo", fast_dc.recv()).await, Some(m));
    }
    // Now the slow reader takes everything, in order.
    for i in 0..300u32 {
        assert_eq!(
            within("slow message", slow.recv()).await,
            Some(Payload::binary(i.to_be_bytes().to_vec()))
        );
    }
    flood.await.unwrap();
    drop((fast_client, fast_dc, fast_server, fast_events));
    drop((slow_client, slow_dc, slow_server, slow_events));
    within("echo ends", echo).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_behind_that_closes_does_not_stall_another_one_behind() {
    // Two sessions flooded, nobody reading.
    let (_server, mut sessions) = sessions_with_room_for_two(2).await;
    let flood = |dc: &DataChannel| {
        let sender = dc.sender();
        tokio::spawn(async move {
            for i in 0..50u32 {
                if sender.send_binary(&i.to_be_bytes()).await.is_err() {
                    return;
                }
            }
        })
    };
    // The first session falls behind first: the driver waits for room in its channel.
    let first = flood(&sessions[0].1);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let second = flood(&sessions[1].1);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // The first one's application closes its session but never reads its channel.
    let (_c0, _d0, s0, _e0, _unread) = sessions.remove(0);
    s0.close().await.unwrap();
    // The second one's messages all arrive once its application reads.
    let (_c1, _d1, _s1, _e1, mut far) = sessions.remove(0);
    for i in 0..50u32 {
        assert_eq!(
            within("second session's message", far.recv()).await,
            Some(Payload::binary(i.to_be_bytes().to_vec()))
        );
    }
    within("second flood", second).await.unwrap();
    first.abort();
}
