//! webrtc-rs 0.21 (`webrtc` crate, the async wrapper over its sans-IO core `rtc`), driven
//! through its own async API as its flow-control example does: each peer bound to
//! 127.0.0.1, non-trickle (descriptions taken after gathering completes), pacing by its
//! buffered-amount high/low events at the same thresholds as the others.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::sync::{mpsc, watch};
use webrtc21::data_channel::{DataChannel, DataChannelEvent};
use webrtc21::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceGatheringState,
};

use crate::common::{err, msg_size, within, BoxFut, Flow, Keep, Res, HIGH, LOW};

struct Handler {
    gathered: mpsc::UnboundedSender<()>,
    channels: mpsc::UnboundedSender<Arc<dyn DataChannel>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(());
        }
    }
    async fn on_data_channel(&self, dc: Arc<dyn DataChannel>) {
        let _ = self.channels.send(dc);
    }
}

struct Peer {
    pc: Arc<dyn PeerConnection>,
    gathered: mpsc::UnboundedReceiver<()>,
    channels: mpsc::UnboundedReceiver<Arc<dyn DataChannel>>,
}

async fn peer() -> Res<Peer> {
    let runtime = webrtc21::runtime::default_runtime().ok_or_else(|| err("no runtime"))?;
    let (g, gathered) = mpsc::unbounded_channel();
    let (c, channels) = mpsc::unbounded_channel();
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_handler(Arc::new(Handler {
            gathered: g,
            channels: c,
        }))
        .with_runtime(runtime)
        .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
        .build()
        .await
        .map_err(err)?;
    Ok(Peer {
        pc: Arc::new(pc),
        gathered,
        channels,
    })
}

/// Offer/answer; A's channel open. Returns A's channel (its events polled by a task that
/// publishes the pause state) and B's.
async fn connect(
    a: &mut Peer,
    b: &mut Peer,
) -> Res<(
    Arc<dyn DataChannel>,
    watch::Receiver<bool>,
    Arc<dyn DataChannel>,
)> {
    let dc = a.pc.create_data_channel("bench", None).await.map_err(err)?;
    dc.set_buffered_amount_low_threshold(LOW as u32)
        .await
        .map_err(err)?;
    dc.set_buffered_amount_high_threshold(HIGH as u32)
        .await
        .map_err(err)?;
    let offer = a.pc.create_offer(None).await.map_err(err)?;
    a.pc.set_local_description(offer).await.map_err(err)?;
    within("gathering A", 20, a.gathered.recv()).await?;
    let offer =
        a.pc.local_description()
            .await
            .ok_or_else(|| err("no offer"))?;
    b.pc.set_remote_description(offer).await.map_err(err)?;
    let answer = b.pc.create_answer(None).await.map_err(err)?;
    b.pc.set_local_description(answer).await.map_err(err)?;
    within("gathering B", 20, b.gathered.recv()).await?;
    let answer =
        b.pc.local_description()
            .await
            .ok_or_else(|| err("no answer"))?;
    a.pc.set_remote_description(answer).await.map_err(err)?;
    within("open", 20, async {
        loop {
            match dc.poll().await {
                Some(DataChannelEvent::OnOpen) => return Ok(()),
                Some(_) => {}
                None => return Err(err("channel ended")),
            }
        }
    })
    .await??;
    let (paused_tx, paused) = watch::channel(false);
    let events = Arc::clone(&dc);
    tokio::spawn(async move {
        while let Some(e) = events.poll().await {
            match e {
                DataChannelEvent::OnBufferedAmountHigh => {
                    let _ = paused_tx.send(true);
                }
                DataChannelEvent::OnBufferedAmountLow => {
                    let _ = paused_tx.send(false);
                }
                DataChannelEvent::OnClose => break,
                _ => {}
            }
        }
    });
    let far = within("far channel", 20, b.channels.recv())
        .await?
        .ok_or_else(|| err("no channel at B"))?;
    Ok((dc, paused, far))
}

pub fn flow() -> BoxFut<Flow> {
    Box::pin(async {
        let (mut a, mut b) = (peer().await?, peer().await?);
        let (dc, mut paused, far) = connect(&mut a, &mut b).await?;
        Ok(Flow(Box::new(move |total: u64| -> BoxFut<u64> {
            Box::pin(async move {
                let rx = tokio::spawn(async move {
                    let mut got = 0u64;
                    while got < total {
                        match far.poll().await {
                            Some(DataChannelEvent::OnMessage(m)) => got += m.data.len() as u64,
                            Some(DataChannelEvent::OnClose) | None => break,
                            Some(_) => {}
                        }
                    }
                    got
                });
                let msg = BytesMut::from(&vec![0x5a_u8; msg_size()][..]);
                let mut sent = 0u64;
                while sent < total {
                    within("buffered amount low", 30, paused.wait_for(|p| !*p)).await??;
                    dc.send(msg.clone()).await.map_err(err)?;
                    sent += msg_size() as u64;
                }
                let got = within("all delivered", 120, rx).await??;
                let _ = a.pc.close().await;
                let _ = b.pc.close().await;
                Ok(got)
            })
        })))
    })
}

pub fn connect_time() -> BoxFut<Duration> {
    Box::pin(async {
        let (mut a, mut b) = (peer().await?, peer().await?);
        let t = Instant::now();
        // createDataChannel is inside the timing here (before createOffer, as the others
        // make theirs before the clock starts, it costs microseconds).
        let _ = connect(&mut a, &mut b).await?;
        let d = t.elapsed();
        let _ = a.pc.close().await;
        let _ = b.pc.close().await;
        Ok(d)
    })
}

pub fn idle(n: usize) -> BoxFut<Keep> {
    Box::pin(async move {
        let mut keep = Vec::with_capacity(n);
        let mut tasks = tokio::task::JoinSet::new();
        let mut next = 0;
        // At most 64 handshakes at once, as for the others.
        while next < n || !tasks.is_empty() {
            while next < n && tasks.len() < 64 {
                tasks.spawn(async move {
                    let (mut a, mut b) = (peer().await?, peer().await?);
                    let (dc, _, far) = connect(&mut a, &mut b).await?;
                    Res::Ok((a.pc, b.pc, dc, far))
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
