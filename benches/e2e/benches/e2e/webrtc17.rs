//! webrtc-rs 0.17 (`webrtc` crate), driven through its own async API: each peer its own
//! socket and tasks, loopback host candidates only (no mDNS), non-trickle (the descriptions
//! are taken after gathering completes, as rtcwire's carry their candidates).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, Notify};
use webrtc17::api::setting_engine::SettingEngine;
use webrtc17::api::{APIBuilder, API};
use webrtc17::data_channel::data_channel_message::DataChannelMessage;
use webrtc17::data_channel::RTCDataChannel;
use webrtc17::ice::mdns::MulticastDnsMode;
use webrtc17::ice::network_type::NetworkType;
use webrtc17::peer_connection::configuration::RTCConfiguration;
use webrtc17::peer_connection::RTCPeerConnection;

use crate::common::{err, msg_size, within, BoxFut, Flow, Keep, Res, HIGH, LOW};

fn api() -> API {
    let mut s = SettingEngine::default();
    s.set_include_loopback_candidate(true);
    s.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    s.set_network_types(vec![NetworkType::Udp4]);
    s.set_ip_filter(Box::new(|ip| ip.is_loopback()));
    APIBuilder::new().with_setting_engine(s).build()
}

struct Peers {
    a: Arc<RTCPeerConnection>,
    b: Arc<RTCPeerConnection>,
    dc: Arc<RTCDataChannel>,
    /// Channels B was given.
    far: mpsc::UnboundedReceiver<Arc<RTCDataChannel>>,
}

async fn peers() -> Res<Peers> {
    let api = api();
    let a = Arc::new(api.new_peer_connection(RTCConfiguration::default()).await?);
    let b = Arc::new(api.new_peer_connection(RTCConfiguration::default()).await?);
    let dc = a.create_data_channel("bench", None).await?;
    let (tx, far) = mpsc::unbounded_channel();
    b.on_data_channel(Box::new(move |d: Arc<RTCDataChannel>| {
        let _ = tx.send(d);
        Box::pin(async {})
    }));
    Ok(Peers { a, b, dc, far })
}

/// Offer/answer, each taken after gathering completed; then waits for A's channel to open.
async fn connect(p: &Peers) -> Res<()> {
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    p.dc.on_open(Box::new(move || {
        let _ = open_tx.try_send(());
        Box::pin(async {})
    }));
    let offer = p.a.create_offer(None).await?;
    let mut gathered = p.a.gathering_complete_promise().await;
    p.a.set_local_description(offer).await?;
    let _ = gathered.recv().await;
    let offer =
        p.a.local_description()
            .await
            .ok_or_else(|| err("no offer"))?;
    p.b.set_remote_description(offer).await?;
    let answer = p.b.create_answer(None).await?;
    let mut gathered = p.b.gathering_complete_promise().await;
    p.b.set_local_description(answer).await?;
    let _ = gathered.recv().await;
    let answer =
        p.b.local_description()
            .await
            .ok_or_else(|| err("no answer"))?;
    p.a.set_remote_description(answer).await?;
    within("open", 20, open_rx.recv()).await?;
    // on_open may run a moment before the channel's state says open.
    within("open state", 20, async {
        while p.dc.ready_state()
            != webrtc17::data_channel::data_channel_state::RTCDataChannelState::Open
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await?;
    Ok(())
}

async fn close(p: &Peers) {
    let _ = p.a.close().await;
    let _ = p.b.close().await;
}

pub fn flow() -> BoxFut<Flow> {
    Box::pin(async {
        let mut p = peers().await?;
        connect(&p).await?;
        let far = within("far channel", 20, p.far.recv())
            .await?
            .ok_or_else(|| err("no channel at B"))?;
        Ok(Flow(Box::new(move |total: u64| -> BoxFut<u64> {
            Box::pin(async move {
                let got = Arc::new(AtomicU64::new(0));
                let done = Arc::new(Notify::new());
                let (g, d) = (Arc::clone(&got), Arc::clone(&done));
                far.on_message(Box::new(move |m: DataChannelMessage| {
                    let now =
                        g.fetch_add(m.data.len() as u64, Ordering::Relaxed) + m.data.len() as u64;
                    if now >= total {
                        d.notify_one();
                    }
                    Box::pin(async {})
                }));
                let low = Arc::new(Notify::new());
                let l = Arc::clone(&low);
                p.dc.set_buffered_amount_low_threshold(LOW).await;
                p.dc.on_buffered_amount_low(Box::new(move || {
                    l.notify_one();
                    Box::pin(async {})
                }))
                .await;
                let msg = Bytes::from(vec![0x5a_u8; msg_size()]);
                let mut sent = 0u64;
                let deadline = Instant::now() + Duration::from_secs(120);
                while sent < total {
                    // The same rule as the others: above HIGH, wait for the low event.
                    while p.dc.buffered_amount().await > HIGH {
                        let _ =
                            tokio::time::timeout(Duration::from_millis(50), low.notified()).await;
                        if Instant::now() > deadline {
                            return Err(err("webrtc 0.17: sending stalled"));
                        }
                    }
                    p.dc.send(&msg).await?;
                    sent += msg_size() as u64;
                }
                let _ = within("all delivered", 120, async {
                    while got.load(Ordering::Relaxed) < total {
                        let _ =
                            tokio::time::timeout(Duration::from_millis(50), done.notified()).await;
                    }
                })
                .await;
                let n = got.load(Ordering::Relaxed);
                close(&p).await;
                Ok(n)
            })
        })))
    })
}

pub fn connect_time() -> BoxFut<Duration> {
    Box::pin(async {
        let p = peers().await?;
        let t = Instant::now();
        connect(&p).await?;
        let d = t.elapsed();
        close(&p).await;
        Ok(d)
    })
}

pub fn idle(n: usize) -> BoxFut<Keep> {
    Box::pin(async move {
        let mut keep = Vec::with_capacity(n);
        let mut tasks = tokio::task::JoinSet::new();
        let mut next = 0;
        while next < n || !tasks.is_empty() {
            while next < n && tasks.len() < 64 {
                tasks.spawn(async move {
                    let mut p = peers().await?;
                    connect(&p).await?;
                    let far = within("far channel", 20, p.far.recv()).await?;
                    Res::Ok((p.a, p.b, p.dc, far))
                });
                next += 1;
            }
            if let Some(r) = tasks.join_next().await {
                keep.push(r??);
            }
        }
        Ok(Box::new(keep) as Keep)
    })
}
