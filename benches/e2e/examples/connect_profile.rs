//! Where createOffer → open goes: `n` connections one after another (as `e2e`'s row), the
//! median wall time beside the process CPU per connection (both peers). Run under `perf
//! record` for the CPU side. `cargo run --release -p rtcwire-bench-e2e --example
//! connect_profile [n]`; with `SPAWN=1` the calls come from a spawned task (as an
//! application's signalling task makes them) instead of `block_on`'s thread (as `e2e`).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    unreachable_pub,
    dead_code
)]

#[path = "../benches/e2e/common.rs"]
mod common;
#[path = "../benches/e2e/ours.rs"]
mod ours;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let rt = common::runtime().unwrap();
    let body = async move {
        let mut times = Vec::with_capacity(n);
        let cpu0 = common::process_cpu();
        let t0 = std::time::Instant::now();
        for _ in 0..n {
            times.push(ours::connect_time().await.unwrap());
        }
        let wall = t0.elapsed();
        let cpu = common::process_cpu() - cpu0;
        times.sort();
        steps(n.min(100)).await;
        println!(
            "median {:?}, p99 {:?}; per connection (with setup and close): wall {:?}, CPU {:?}",
            times[n / 2],
            times[n * 99 / 100],
            wall / n as u32,
            cpu / n as u32
        );
    };
    if std::env::var("SPAWN").is_ok() {
        rt.block_on(async { tokio::spawn(body).await.unwrap() });
    } else {
        rt.block_on(body);
    }
}

/// Median time from createOffer to each step the offerer sees: the signalling calls done,
/// ICE connected, DTLS connected (connection state), the channel open.
async fn steps(n: usize) {
    use rtcwire_tokio::{
        Config, DataChannelInit, Event, IceConnectionState, PeerConnection, PeerConnectionState,
    };
    let cfg = || Config::default().bind([std::net::SocketAddr::from(([127, 0, 0, 1], 0))]);
    let mut rows: Vec<[f64; 4]> = Vec::new();
    // The answerer's view: its ICE connected (pair selected: the DTLS client starts), its
    // DTLS connected (the server's flight read, its own last flight sent), the channel.
    // Each step is read by a task when a worker is free, so while both workers run the
    // handshake a step can read late (the ends are right: nothing runs after the open).
    let mut b_rows: Vec<[f64; 3]> = Vec::new();
    let mut calls: Vec<[f64; 5]> = Vec::new();
    for _ in 0..n {
        let (a, mut ea) = PeerConnection::new(cfg()).await.unwrap();
        let (b, mut eb) = PeerConnection::new(cfg()).await.unwrap();
        let dc = a
            .create_data_channel("bench", DataChannelInit::default())
            .await
            .unwrap();
        let t = std::time::Instant::now();
        let offer = a.create_offer().await.unwrap();
        let t1 = t.elapsed();
        a.set_local_description(offer.clone()).await.unwrap();
        let t2 = t.elapsed();
        b.set_remote_description(offer).await.unwrap();
        let t3 = t.elapsed();
        let answer = b.create_answer().await.unwrap();
        let t4 = t.elapsed();
        b.set_local_description(answer.clone()).await.unwrap();
        let t5 = t.elapsed();
        a.set_remote_description(answer).await.unwrap();
        let signalled = t.elapsed();
        calls.push([t1, t2, t3, t4, t5].map(|d| d.as_secs_f64() * 1e3));
        let watch_b = tokio::spawn(async move {
            let (mut ice, mut dtls, mut channel) = (None, None, None);
            while let Some(e) = eb.next_event().await {
                match e {
                    Event::IceConnectionStateChange(
                        IceConnectionState::Connected | IceConnectionState::Completed,
                    ) => ice = Some(t.elapsed()),
                    Event::ConnectionStateChange(PeerConnectionState::Connected) => {
                        dtls = Some(t.elapsed())
                    }
                    Event::DataChannel(_) => {
                        channel = Some(t.elapsed());
                        break;
                    }
                    _ => {}
                }
            }
            (ice, dtls, channel)
        });
        let watch = tokio::spawn(async move {
            let (mut ice, mut dtls) = (None, None);
            while let Some(e) = ea.next_event().await {
                match e {
                    Event::IceConnectionStateChange(
                        IceConnectionState::Connected | IceConnectionState::Completed,
                    ) => ice = Some(t.elapsed()),
                    Event::ConnectionStateChange(PeerConnectionState::Connected) => {
                        dtls = Some(t.elapsed());
                        break;
                    }
                    _ => {}
                }
            }
            (ice, dtls)
        });
        dc.wait_open().await.unwrap();
        let open = t.elapsed();
        let (ice, dtls) = watch.await.unwrap();
        let ms = |d: Option<std::time::Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
        let (b_ice, b_dtls, b_channel) = watch_b.await.unwrap();
        b_rows.push([ms(b_ice), ms(b_dtls), ms(b_channel)]);
        rows.push([ms(Some(signalled)), ms(ice), ms(dtls), ms(Some(open))]);
        let _ = a.close().await;
        let _ = b.close().await;
    }
    let med = |k: usize| {
        let mut v: Vec<f64> = rows.iter().map(|r| r[k]).collect();
        v.sort_by(|x, y| x.total_cmp(y));
        v[v.len() / 2]
    };
    let bmed = |k: usize| {
        let mut v: Vec<f64> = b_rows.iter().map(|r| r[k]).collect();
        v.sort_by(|x, y| x.total_cmp(y));
        v[v.len() / 2]
    };
    let cmed = |k: usize| {
        let mut v: Vec<f64> = calls.iter().map(|r| r[k]).collect();
        v.sort_by(|x, y| x.total_cmp(y));
        v[v.len() / 2]
    };
    println!(
        "median ms from createOffer to the end of: createOffer {:.3}, A setLocal {:.3}, B setRemote {:.3}, createAnswer {:.3}, B setLocal {:.3}",
        cmed(0),
        cmed(1),
        cmed(2),
        cmed(3),
        cmed(4)
    );
    println!(
        "median ms from createOffer: signalling done {:.3}, ICE connected {:.3}, DTLS connected {:.3}, channel open {:.3}",
        med(0),
        med(1),
        med(2),
        med(3)
    );
    println!(
        "median ms from createOffer, answerer: ICE connected {:.3}, DTLS connected {:.3}, channel announced {:.3}",
        bmed(0),
        bmed(1),
        bmed(2)
    );
}
