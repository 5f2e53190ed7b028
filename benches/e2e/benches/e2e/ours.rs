//! rtcwire, through its tokio driver (rtcwire-tokio): each peer a `PeerConnection` on its
//! own 127.0.0.1 socket, or many on one `Server` socket for the idle rows.

use std::time::{Duration, Instant};

use rtcwire_tokio::{
    Config, DataChannel, DataChannelInit, Event, Events, Payload, PeerConnection, Server,
};

use crate::common::{err, msg_size, within, BoxFut, Flow, Keep, Res, HIGH, LOW};

/// UDP on 127.0.0.1 only, like the other stacks here (no ICE-TCP listener per connection:
/// 10 000 of them would pass the process's descriptor limit).
fn loopback() -> Config {
    let mut c =
        Config::default().bind(["127.0.0.1:0".parse().unwrap_or(([127, 0, 0, 1], 0).into())]);
    c.ice_tcp = false;
    c
}

async fn negotiate(a: &PeerConnection, b: &PeerConnection) -> Res<()> {
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    Ok(())
}

async fn next_channel(events: &mut Events) -> Res<DataChannel> {
    within("the peer's data channel", 20, async {
        loop {
            match events.next_event().await {
                Some(Event::DataChannel(dc)) => return Ok(dc),
                Some(_) => {}
                None => return Err(err("events ended")),
            }
        }
    })
    .await?
}

/// Two peers, A's channel open at both ends.
async fn pair() -> Res<(
    PeerConnection,
    PeerConnection,
    DataChannel,
    DataChannel,
    Events,
)> {
    let (a, ea) = PeerConnection::new(loopback()).await?;
    drop(ea);
    let (b, mut eb) = PeerConnection::new(loopback()).await?;
    let dc = a
        .create_data_channel("bench", DataChannelInit::default())
        .await?;
    negotiate(&a, &b).await?;
    let far = next_channel(&mut eb).await?;
    within("open", 20, dc.wait_open()).await??;
    Ok((a, b, dc, far, eb))
}

pub fn flow() -> BoxFut<Flow> {
    Box::pin(async {
        let (a, b, dc, mut far, eb) = pair().await?;
        Ok(Flow(Box::new(move |total: u64| -> BoxFut<u64> {
            Box::pin(async move {
                let rx = tokio::spawn(async move {
                    let mut got = 0u64;
                    while got < total {
                        match far.recv().await {
                            Some(Payload::Binary(m)) => got += m.len() as u64,
                            Some(Payload::Text(m)) => got += m.len() as u64,
                            None => break,
                        }
                    }
                    got
                });
                // Handed over without a copy (`send_bytes`; `send_binary(&[u8])` copies).
                let msg = bytes::Bytes::from(vec![0x5a_u8; msg_size()]);
                let mut sent = 0u64;
                while sent < total {
                    if dc.buffered_amount() > HIGH {
                        within("buffered amount low", 30, dc.wait_buffered_amount_low(LOW))
                            .await??;
                    }
                    dc.send_bytes(msg.clone()).await?;
                    sent += msg_size() as u64;
                }
                let got = within("all delivered", 120, rx).await??;
                let _ = a.close().await;
                drop((b, eb));
                Ok(got)
            })
        })))
    })
}

/// createOffer → the offerer's channel open (the peers and the channel made before).
pub fn connect_time() -> BoxFut<Duration> {
    Box::pin(async {
        let (a, _ea) = PeerConnection::new(loopback()).await?;
        let (b, _eb) = PeerConnection::new(loopback()).await?;
        let dc = a
            .create_data_channel("bench", DataChannelInit::default())
            .await?;
        let t = Instant::now();
        negotiate(&a, &b).await?;
        within("open", 20, dc.wait_open()).await??;
        let d = t.elapsed();
        let _ = a.close().await;
        let _ = b.close().await;
        Ok(d)
    })
}

/// `n` connections on one `Server` socket (ICE-lite, the usual server), each answering a
/// client of its own socket; every channel open. Returns what keeps them alive.
pub fn idle(n: usize) -> BoxFut<Keep> {
    Box::pin(async move {
        let server = Server::bind(([127, 0, 0, 1], 0).into(), loopback().ice_lite(true)).await?;
        let mut keep: Vec<(PeerConnection, PeerConnection, DataChannel, DataChannel)> =
            Vec::with_capacity(n);
        let mut tasks = tokio::task::JoinSet::new();
        let mut next = 0;
        // At most 64 handshakes at once.
        while next < n || !tasks.is_empty() {
            while next < n && tasks.len() < 64 {
                let (spc, mut sev) = server.connection()?;
                tasks.spawn(async move {
                    let (cpc, _cev) = PeerConnection::new(loopback()).await?;
                    let dc = cpc
                        .create_data_channel("idle", DataChannelInit::default())
                        .await?;
                    negotiate(&cpc, &spc).await?;
                    let far = next_channel(&mut sev).await?;
                    within("open", 30, dc.wait_open()).await??;
                    Res::Ok((cpc, spc, dc, far))
                });
                next += 1;
            }
            if let Some(r) = tasks.join_next().await {
                keep.push(r??);
            }
        }
        Ok(Box::new((server, keep)) as Keep)
    })
}
