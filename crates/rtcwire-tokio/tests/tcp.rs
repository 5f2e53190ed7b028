//! ICE-TCP through the driver (RFC 6544 over 127.0.0.1): two driven sessions with UDP off
//! connect active→passive and move data-channel messages; a raw TCP peer's oversized and
//! garbage frames are dropped and counted; streams past the cap are refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::time::Duration;
use tokio::time::Instant;

use common::{loopback, messages_both_ways, negotiate, next_channel, within};
use rtcwire_tokio::rtcwire::Transport;
use rtcwire_tokio::{DataChannelInit, PeerConnection, TcpLimits};
use tokio::io::AsyncWriteExt;

fn tcp_only() -> rtcwire_tokio::Config {
    loopback().ice_udp(false).ice_tcp(true)
}

#[tokio::test]
async fn two_sessions_connect_over_ice_tcp_only() {
    let t0 = Instant::now();
    let (a, _ea) = PeerConnection::new(tcp_only()).await.unwrap();
    let (b, mut eb) = PeerConnection::new(tcp_only()).await.unwrap();
    let mut chat = a
        .create_data_channel("tcp", DataChannelInit::default())
        .await
        .unwrap();
    negotiate(&a, &b).await;
    let offer = a.local_description().await.unwrap().unwrap().sdp;
    assert!(offer.contains("tcptype passive"), "{offer}");
    assert!(offer.contains("tcptype active"), "{offer}");
    assert!(
        !offer.to_ascii_lowercase().contains(" udp "),
        "UDP was off:\n{offer}"
    );
    let mut far = next_channel(&mut eb).await;
    within("open over TCP", chat.wait_open()).await.unwrap();
    let opened = t0.elapsed();
    messages_both_ways(&mut chat, &mut far, "over tcp", &[&[7; 50_000]], "back").await;
    for pc in [&a, &b] {
        let s = pc.get_stats().await.unwrap();
        let pair = s.transport.selected_pair.expect("a selected pair");
        assert_eq!(pair.local.transport, Transport::Tcp);
        assert_eq!(pair.remote.transport, Transport::Tcp);
    }
    // One side connected (active), the other accepted (passive).
    let (sa, sb) = (a.tcp_stats().await.unwrap(), b.tcp_stats().await.unwrap());
    println!("open after {opened:?}; a {sa:?}; b {sb:?}");
    assert_eq!(sa.connected + sb.connected, sa.accepted + sb.accepted);
    assert!(sa.connected + sb.connected >= 1);
    assert!(sa.frames_in > 10 && sb.frames_in > 10);
    assert_eq!(
        sa.oversized + sb.oversized + sa.unframeable + sb.unframeable,
        0
    );
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// The passive candidate's address in a description.
fn passive(sdp: &str) -> std::net::SocketAddr {
    let line = sdp
        .lines()
        .find(|l| l.contains("tcptype passive"))
        .expect("a passive candidate");
    let f: Vec<&str> = line.split_whitespace().collect();
    format!("{}:{}", f[4], f[5]).parse().unwrap()
}

#[tokio::test]
async fn peer_garbage_over_tcp_is_dropped_and_counted() {
    let mut cfg = tcp_only();
    cfg.tcp_limits = TcpLimits::default().max_streams(4).max_frame(2048);
    let (a, _ea) = PeerConnection::new(cfg).await.unwrap();
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer.clone()).await.unwrap();
    let addr = passive(&offer.sdp);

    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // An oversized frame (60000 > 2048): skipped as it streams in, never buffered.
    s.write_all(&60_000u16.to_be_bytes()).await.unwrap();
    for _ in 0..60 {
        s.write_all(&[0xaa; 1000]).await.unwrap();
    }
    // Garbage that frames fine: refused by the session.
    s.write_all(&[0, 5, 0xff, 1, 2, 3, 4]).await.unwrap();
    // A STUN-looking frame with a truncated body.
    s.write_all(&[0, 4, 0, 1, 0, 0]).await.unwrap();
    s.flush().await.unwrap();
    // More streams than the cap: the rest are refused.
    let mut extra = Vec::new();
    for _ in 0..6 {
        extra.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let stats = within("counted", async {
        loop {
            let st = a.tcp_stats().await.unwrap();
            if st.oversized == 1 && st.frames_in >= 2 && st.over_limit >= 3 {
                return st;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    println!("{stats:?}");
    assert_eq!(stats.accepted, 4);
    assert_eq!(stats.unframeable, 0);
    let refused = a.get_stats().await.unwrap().session.refused_datagrams;
    assert!(refused >= 2, "refused {refused}");
    drop(extra);
    drop(s);
    a.close().await.unwrap();
}

#[tokio::test]
async fn idle_and_garbage_streams_lose_their_slot_after_the_grace_time() {
    let mut cfg = tcp_only();
    cfg.tcp_limits = TcpLimits::default()
        .max_streams(2)
        .idle_grace(Duration::from_millis(200));
    let (a, _ea) = PeerConnection::new(cfg).await.unwrap();
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer.clone()).await.unwrap();
    let addr = passive(&offer.sdp);
    let wait_for = |what: &'static str, f: fn(&rtcwire_tokio::TcpStats) -> bool| {
        let a = a.clone();
        async move {
            within(what, async {
                loop {
                    let st = a.tcp_stats().await.unwrap();
                    if f(&st) {
                        return st;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await
        }
    };

    let t0 = Instant::now();
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut junk = tokio::net::TcpStream::connect(addr).await.unwrap();
    junk.write_all(&[0, 3, 0xff, 0, 0]).await.unwrap();
    wait_for("both taken", |s| s.accepted == 2 && s.frames_in == 1).await;
    // Both slots are held: a third stream is refused.
    let _third = tokio::net::TcpStream::connect(addr).await.unwrap();
    wait_for("the third refused", |s| s.over_limit == 1).await;
    // Past the grace time neither holds its slot: one sent nothing, the other nothing the
    // session took.
    wait_for("both closed", |s| s.closed == 2).await;
    let freed = t0.elapsed();
    let mut buf = [0u8; 16];
    use tokio::io::AsyncReadExt;
    assert_eq!(within("EOF", idle.read(&mut buf)).await.unwrap(), 0);
    let _fourth = tokio::net::TcpStream::connect(addr).await.unwrap();
    wait_for("a new stream taken", |s| s.accepted == 3).await;
    println!("slots freed after {freed:?}");
    assert!(freed >= Duration::from_millis(200), "{freed:?}");
    a.close().await.unwrap();
}
