//! Close and drop free everything: 1000 open/connect/close cycles of two driven sessions
//! on 127.0.0.1 leave no task, no socket and no memory growth behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::time::Duration;

use common::{loopback, negotiate, next_channel, within};
use rtcwire_tokio::{DataChannelInit, Payload, PeerConnection};

async fn cycle(i: usize) {
    // Checks paced at 5 ms instead of 50 (loopback only): a cycle takes ~10 ms, not ~55.
    let mut config = loopback();
    config.session.ice.ta = Duration::from_millis(5);
    let (a, _ea) = PeerConnection::new(config.clone()).await.unwrap();
    let (b, mut eb) = PeerConnection::new(config).await.unwrap();
    let mut dc = a
        .create_data_channel("cycle", DataChannelInit::default())
        .await
        .unwrap();
    negotiate(&a, &b).await;
    let mut far = next_channel(&mut eb).await;
    within("open", dc.wait_open()).await.unwrap();
    dc.send_text(&format!("cycle {i}")).await.unwrap();
    assert_eq!(
        within("message", far.recv()).await,
        Some(Payload::text(format!("cycle {i}")))
    );
    far.send_binary(b"back").await.unwrap();
    assert!(within("reply", dc.recv()).await.is_some());
    // Half the cycles close explicitly, the others only drop their handles.
    if i % 2 == 0 {
        a.close().await.unwrap();
        within("b closed", b.closed()).await;
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Waits until no task is alive (the drivers of closed sessions end on their own).
async fn settle() -> usize {
    let metrics = tokio::runtime::Handle::current().metrics();
    for _ in 0..500 {
        // This test's own task is the one left.
        if metrics.num_alive_tasks() <= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    metrics.num_alive_tasks()
}

#[test]
fn a_thousand_cycles_leave_nothing_behind() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::spawn(async {
            for i in 0..50 {
                cycle(i).await;
            }
            let tasks0 = settle().await;
            let (fds0, rss0) = (open_fds(), rss_bytes());
            let start = tokio::time::Instant::now();
            for i in 0..1000 {
                cycle(i).await;
            }
            let took = start.elapsed();
            let tasks1 = settle().await;
            let (fds1, rss1) = (open_fds(), rss_bytes());
            println!(
                "1000 cycles in {took:?}: tasks {tasks0} -> {tasks1}, fds {fds0} -> {fds1}, \
                 RSS {} KiB -> {} KiB",
                rss0 / 1024,
                rss1 / 1024
            );
            assert_eq!(tasks1, 1, "driver tasks left");
            assert_eq!(tasks0, tasks1);
            assert_eq!(fds0, fds1, "sockets left open");
            assert!(
                rss1 < rss0 + 8 * 1024 * 1024,
                "RSS grew from {rss0} to {rss1}"
            );
        })
        .await
        .unwrap();
    });
}
