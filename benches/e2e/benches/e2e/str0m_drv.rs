//! str0m 0.24 (sans-IO), driven by a loop of ours: each peer one tokio task over its own
//! 127.0.0.1 socket, selecting over the socket, str0m's next timeout and commands; the
//! application (the sender's pacing, the receiver's count) runs in that task between inputs.
//! Descriptions go through their SDP text, as the other stacks' do.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::channel::ChannelId;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::common::{err, msg_size, within, BoxFut, Flow, Keep, Res, HIGH, LOW};

enum Cmd {
    /// Send this many more bytes on the channel.
    Send(u64),
    /// Tell when this many bytes (counted from the channel's open: a flow runs once a
    /// connection) have arrived.
    Expect(u64, oneshot::Sender<u64>),
}

#[derive(Default)]
struct App {
    cid: Option<ChannelId>,
    open: Option<oneshot::Sender<()>>,
    to_send: u64,
    paused: bool,
    got: u64,
    want: u64,
    done: Option<oneshot::Sender<u64>>,
}

impl App {
    fn event(&mut self, rtc: &mut Rtc, e: Event) {
        match e {
            Event::ChannelOpen(id, _) => {
                self.cid = Some(id);
                if let Some(mut ch) = rtc.channel(id) {
                    ch.set_buffered_amount_low_threshold(LOW);
                }
                if let Some(tx) = self.open.take() {
                    let _ = tx.send(());
                }
            }
            Event::ChannelData(d) => {
                self.got += d.data.len() as u64;
                if self.got >= self.want {
                    if let Some(tx) = self.done.take() {
                        let _ = tx.send(self.got);
                    }
                }
            }
            Event::ChannelBufferedAmountLow(_) => self.paused = false,
            _ => {}
        }
    }

    /// Writes while the buffered amount is at most HIGH; above it, waits for the low event.
    fn pump(&mut self, rtc: &mut Rtc, msg: &[u8]) {
        let Some(cid) = self.cid else { return };
        if self.to_send == 0 || self.paused {
            return;
        }
        let Some(mut ch) = rtc.channel(cid) else {
            return;
        };
        while self.to_send > 0 {
            if ch.buffered_amount() > HIGH {
                self.paused = true;
                return;
            }
            match ch.write(true, msg) {
                Ok(true) => self.to_send = self.to_send.saturating_sub(msg.len() as u64),
                // Not accepted (SCTP's own buffer has no room for it): try again after
                // the next input.
                _ => return,
            }
        }
    }
}

/// The peer's loop; ends when the command sender is dropped, on an error, or after 15
/// minutes at most.
async fn drive(mut rtc: Rtc, sock: UdpSocket, mut app: App, mut cmd: mpsc::UnboundedReceiver<Cmd>) {
    if let Err(e) = drive_inner(&mut rtc, &sock, &mut app, &mut cmd).await {
        eprintln!("  str0m peer loop ended: {e}");
    }
}

async fn drive_inner(
    rtc: &mut Rtc,
    sock: &UdpSocket,
    app: &mut App,
    cmd: &mut mpsc::UnboundedReceiver<Cmd>,
) -> Res<()> {
    let local = sock.local_addr()?;
    let msg = vec![0x5a_u8; msg_size()];
    let mut buf = vec![0_u8; 2048];
    let end = Instant::now() + Duration::from_secs(900);
    while Instant::now() < end {
        let timeout = drain(rtc, sock, app, &msg).await?;
        let now = Instant::now();
        if timeout <= now {
            rtc.handle_input(Input::Timeout(now)).map_err(err)?;
            continue;
        }
        tokio::select! {
            // Commands first; and `Expect` counts from the open, not from its arrival: the
            // sender may start before this loop reads the command, and bytes read in
            // between would otherwise never count (a hang seen once in CI).
            biased;
            c = cmd.recv() => match c {
                Some(Cmd::Send(n)) => app.to_send += n,
                Some(Cmd::Expect(n, tx)) => {
                    app.want = n;
                    if app.got >= app.want {
                        let _ = tx.send(app.got);
                    } else {
                        app.done = Some(tx);
                    }
                }
                None => return Ok(()),
            },
            r = sock.recv_from(&mut buf) => {
                let (n, source) = r?;
                receive(rtc, &buf[..n], source, local)?;
                // Take what else is queued (bounded), draining str0m's output after each
                // datagram as it asks.
                for _ in 0..64 {
                    match sock.try_recv_from(&mut buf) {
                        Ok((n, source)) => {
                            drain(rtc, sock, app, &msg).await?;
                            receive(rtc, &buf[..n], source, local)?;
                        }
                        Err(_) => break,
                    }
                }
            }
            _ = tokio::time::sleep_until(timeout.into()) => {
                rtc.handle_input(Input::Timeout(Instant::now())).map_err(err)?;
            }
        }
    }
    Ok(())
}

/// Lets the application write, then sends str0m's datagrams and hands its events to the
/// application until str0m names its next timeout.
async fn drain(rtc: &mut Rtc, sock: &UdpSocket, app: &mut App, msg: &[u8]) -> Res<Instant> {
    app.pump(rtc, msg);
    loop {
        match rtc.poll_output().map_err(err)? {
            Output::Timeout(t) => return Ok(t),
            Output::Transmit(t) => {
                let _ = sock.send_to(&t.contents, t.destination).await;
            }
            Output::Event(e) => {
                app.event(rtc, e);
                app.pump(rtc, msg);
            }
        }
    }
}

fn receive(rtc: &mut Rtc, data: &[u8], source: SocketAddr, destination: SocketAddr) -> Res<()> {
    let Ok(contents) = data.try_into() else {
        return Ok(()); // not a datagram str0m takes
    };
    rtc.handle_input(Input::Receive(
        Instant::now(),
        Receive {
            proto: Protocol::Udp,
            source,
            destination,
            contents,
        },
    ))
    .map_err(err)
}

/// A peer not yet running: its session and socket.
async fn peer() -> Res<(Rtc, UdpSocket)> {
    let sock = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let mut rtc = Rtc::new(Instant::now());
    let c = Candidate::host(sock.local_addr()?, "udp").map_err(err)?;
    rtc.add_local_candidate(c);
    Ok((rtc, sock))
}

struct Running {
    a: mpsc::UnboundedSender<Cmd>,
    b: mpsc::UnboundedSender<Cmd>,
}

/// Offer (with a channel), answer, both through SDP text; both loops started; waits until
/// the channel is open at A and at B.
async fn connect(mut a: (Rtc, UdpSocket), mut b: (Rtc, UdpSocket)) -> Res<Running> {
    let mut change = a.0.sdp_api();
    change.add_channel("bench".into());
    let (offer, pending) = change.apply().ok_or_else(|| err("no offer"))?;
    let offer = SdpOffer::from_sdp_string(&offer.to_sdp_string()).map_err(err)?;
    let answer = b.0.sdp_api().accept_offer(offer).map_err(err)?;
    let answer = SdpAnswer::from_sdp_string(&answer.to_sdp_string()).map_err(err)?;
    a.0.sdp_api().accept_answer(pending, answer).map_err(err)?;
    let (open_a, ra) = oneshot::channel();
    let (open_b, rb) = oneshot::channel();
    let (ta, ca) = mpsc::unbounded_channel();
    let (tb, cb) = mpsc::unbounded_channel();
    let app_a = App {
        open: Some(open_a),
        ..App::default()
    };
    let app_b = App {
        open: Some(open_b),
        ..App::default()
    };
    tokio::spawn(drive(a.0, a.1, app_a, ca));
    tokio::spawn(drive(b.0, b.1, app_b, cb));
    within("open at A", 20, ra).await??;
    within("open at B", 20, rb).await??;
    Ok(Running { a: ta, b: tb })
}

pub fn flow() -> BoxFut<Flow> {
    Box::pin(async {
        let r = connect(peer().await?, peer().await?).await?;
        Ok(Flow(Box::new(move |total: u64| -> BoxFut<u64> {
            Box::pin(async move {
                let (tx, rx) = oneshot::channel();
                r.b.send(Cmd::Expect(total, tx)).map_err(err)?;
                r.a.send(Cmd::Send(total)).map_err(err)?;
                let got = within("all delivered", 120, rx).await??;
                drop(r);
                Ok(got)
            })
        })))
    })
}

pub fn connect_time() -> BoxFut<Duration> {
    Box::pin(async {
        let (a, b) = (peer().await?, peer().await?);
        let t = Instant::now();
        let r = connect(a, b).await?;
        let d = t.elapsed();
        drop(r);
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
                tasks.spawn(async move { connect(peer().await?, peer().await?).await });
                next += 1;
            }
            if let Some(r) = tasks.join_next().await {
                keep.push(r??);
            }
        }
        Ok(Box::new(keep.into_iter().map(|r| (r.a, r.b)).collect::<Vec<_>>()) as Keep)
    })
}
