//! [`PeerConnection`]: the handle applications hold; [`Events`]: what the session says.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rtcwire::{
    DataChannelInit, IceCandidate, IceConnectionState, IceGatheringState, KeyframeKind, MediaKind,
    PeerConnectionState, SessionDescription, SignalingState, StatsReport, TransceiverId,
    TransceiverInit,
};
use tokio::sync::{mpsc, watch};

use crate::channel::{ChannelState, DataChannel};
use crate::config::TurnTransport;
use crate::driver::{Conn, ConnKey, ConnState, Driver, Guard, Sock};
use crate::media::{Track, Transceiver};
use crate::tcp::{Tcp, TcpStats, TurnTarget};
use crate::TurnServer;
use crate::{Config, Error};

/// What a driven session tells its application, in order. Data-channel messages do not
/// come here: each [`DataChannel`] has its own receiver.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A local candidate to signal to the peer (trickle ICE); the end-of-candidates
    /// marker when gathering completed.
    IceCandidate(IceCandidate),
    /// A remote candidate names a host (a browser's `<uuid>.local`) that the driver's mDNS
    /// query did not resolve (or [`Config::mdns`](crate::Config::mdns) is off): resolve it
    /// some other way and call [`PeerConnection::resolve_hostname`].
    ResolveHostname(String),
    /// `icegatheringstatechange`.
    IceGatheringStateChange(IceGatheringState),
    /// `iceconnectionstatechange`.
    IceConnectionStateChange(IceConnectionState),
    /// `connectionstatechange`.
    ConnectionStateChange(PeerConnectionState),
    /// `signalingstatechange`.
    SignalingStateChange(SignalingState),
    /// `negotiationneeded`.
    NegotiationNeeded,
    /// The peer opened a channel (`ondatachannel`); it is open.
    DataChannel(DataChannel),
    /// `ontrack`: the peer will send on a transceiver (announced when the description
    /// saying so is applied); its frames come through the [`Track`].
    Track(Track),
    /// The peer asks for a keyframe (PLI or FIR) on what we send on this transceiver
    /// (also seen by [`Transceiver::next_keyframe_request`]).
    KeyframeRequest {
        /// The transceiver ([`Transceiver::id`]).
        transceiver: TransceiverId,
        /// PLI or FIR.
        kind: KeyframeKind,
    },
}

/// The event receiver of one session: [`next_event`](Self::next_event), or use it as a
/// [`Stream`](futures_core::Stream). Ends (`None`) when the session is freed.
#[derive(Debug)]
pub struct Events {
    /// Boxed in the channel: an idle session's channel block is 32 pointers, not 32
    /// events (events are few; a box each costs nothing that matters).
    rx: mpsc::UnboundedReceiver<Box<Event>>,
}

impl Events {
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<Box<Event>>) -> Self {
        Events { rx }
    }

    /// The next event; `None` once the session is freed.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.rx.recv().await.map(|e| *e)
    }
}

impl futures_core::Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.rx.poll_recv(cx).map(|e| e.map(|e| *e))
    }
}

/// A WebRTC peer connection driven by a tokio task: cheap to clone and `Send`; the
/// methods mirror the W3C API. The session is closed and freed when every clone and every
/// [`DataChannel`] of it is dropped, or at [`close`](Self::close).
#[derive(Clone)]
pub struct PeerConnection {
    guard: Arc<Guard>,
    state: watch::Receiver<ConnState>,
    locals: Arc<[SocketAddr]>,
}

impl fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerConnection")
            .field("id", &self.guard.key)
            .field("state", &*self.state.borrow())
            .field("local_addrs", &self.locals)
            .finish()
    }
}

/// Binds UDP sockets on `addrs`; returns them with their bound addresses.
pub(crate) fn bind_all(addrs: &[SocketAddr]) -> Result<(Vec<Sock>, Vec<SocketAddr>), Error> {
    let mut sockets = Vec::with_capacity(addrs.len());
    let mut locals = Vec::with_capacity(addrs.len());
    for a in addrs {
        let s = std::net::UdpSocket::bind(a)?;
        locals.push(s.local_addr()?);
        sockets.push(Sock::new(s)?);
    }
    Ok((sockets, locals))
}

/// A new session (not yet added to a driver) with host candidates on `locals`.
pub(crate) fn new_session(
    config: &Config,
    locals: &[SocketAddr],
) -> Result<rtcwire::PeerConnection, Error> {
    new_session_tcp(config, locals, &Tcp::new(config.tcp_limits))
}

/// A new session with UDP host candidates on `locals` and the TCP ones `tcp` listens or
/// connects on.
fn new_session_tcp(
    config: &Config,
    locals: &[SocketAddr],
    tcp: &Tcp,
) -> Result<rtcwire::PeerConnection, Error> {
    let now = tokio::time::Instant::now().into_std();
    let mut pc = rtcwire::PeerConnection::new(config.session.clone(), now)?;
    // The wall clock for sender reports (NTP time, the peer's A/V sync): the driver is
    // where clocks are read.
    #[allow(clippy::disallowed_methods)]
    if let Ok(unix) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        pc.set_wall_clock(now, unix);
    }
    for &a in locals {
        pc.add_local_candidate(a)?;
    }
    for &(_, a) in &tcp.listeners {
        pc.add_local_tcp_candidate(a, rtcwire_ice::TcpType::Passive)?;
    }
    for &ip in &tcp.active {
        pc.add_local_tcp_candidate(SocketAddr::new(ip, 9), rtcwire_ice::TcpType::Active)?;
    }
    pc.end_of_local_candidates();
    Ok(pc)
}

/// The TLS client settings for `turns:` servers: ring's provider, the configured roots.
fn tls_client(config: &Config) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for der in &config.tls_roots {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| Error::Tls(format!("root certificate: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let c = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(c))
}

/// Resolves the TURN URLs: UDP ones go to the session's servers as they are; TCP and TLS
/// ones too (as TCP to the agent), with the driver's stream to each in `tcp`.
async fn turn_servers(config: &mut Config, tcp: &mut Tcp) -> Result<(), Error> {
    let mut tls = None;
    for url in config.turn_urls.clone() {
        let addr = match url.host.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, url.port),
            Err(_) => tokio::net::lookup_host((url.host.as_str(), url.port))
                .await
                .map_err(|e| Error::BadUrl(format!("{}: {e}", url.host)))?
                .next()
                .ok_or_else(|| Error::BadUrl(format!("{}: no address", url.host)))?,
        };
        let server = match url.transport {
            TurnTransport::Udp => TurnServer::udp(addr, &url.username, &url.password),
            TurnTransport::Tcp | TurnTransport::Tls => {
                let tls = if url.transport == TurnTransport::Tls {
                    let client = match &tls {
                        Some(c) => Arc::clone(c),
                        None => {
                            let c = tls_client(config)?;
                            tls = Some(Arc::clone(&c));
                            c
                        }
                    };
                    let name = rustls::pki_types::ServerName::try_from(url.host.clone())
                        .map_err(|e| Error::BadUrl(format!("{}: {e}", url.host)))?;
                    Some((client, name))
                } else {
                    None
                };
                tcp.turn.push(TurnTarget { addr, tls });
                TurnServer::tcp(addr, &url.username, &url.password)
            }
        };
        config.session.ice.turn_servers.push(server);
    }
    Ok(())
}

/// Listeners for passive ICE-TCP candidates and the IPs of active ones, on `addrs`.
async fn ice_tcp(addrs: &[SocketAddr], tcp: &mut Tcp) -> Result<(), Error> {
    for a in addrs {
        let l = tokio::net::TcpListener::bind(a).await?;
        let local = l.local_addr()?;
        tcp.listeners.push((l, local));
        if !tcp.active.contains(&a.ip()) {
            tcp.active.push(a.ip());
        }
    }
    Ok(())
}

impl PeerConnection {
    /// A new session on its own sockets (bound as `config.bind` says), run by a task of
    /// its own. Host candidates are gathered at once: they are in the first offer or
    /// answer, and come as [`Event::IceCandidate`] for trickle signalling.
    pub async fn new(config: Config) -> Result<(PeerConnection, Events), Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let mut config = config;
        let addrs = crate::config::addresses(&config.bind)?;
        let (sockets, locals) = if config.ice_udp {
            bind_all(&addrs)?
        } else {
            (Vec::new(), Vec::new())
        };
        let mut tcp = Tcp::new(config.tcp_limits);
        if config.ice_tcp {
            ice_tcp(&addrs, &mut tcp).await?;
        }
        turn_servers(&mut config, &mut tcp).await?;
        let pc = new_session_tcp(&config, &locals, &tcp)?;
        let (cmd, cmd_rx) = mpsc::unbounded_channel();
        let key: ConnKey = 0;
        let mut driver = Driver::new(sockets, locals.clone(), cmd_rx, true, Arc::default());
        driver.tcp = tcp;
        let shared = Arc::new(std::sync::Mutex::new(driver));
        let guard = Arc::new(Guard {
            key,
            cmd,
            direct: Some(Arc::clone(&shared)),
        });
        let (conn, events, state) = Conn::new(pc, key, &guard, &config);
        crate::driver::lock(&shared)
            .ok_or(Error::Closed)?
            .insert(key, Box::new(conn));
        runtime.spawn(Driver::run(shared));
        Ok((
            PeerConnection::from_parts(guard, state, locals.into()),
            Events::new(events),
        ))
    }

    pub(crate) fn from_parts(
        guard: Arc<Guard>,
        state: watch::Receiver<ConnState>,
        locals: Arc<[SocketAddr]>,
    ) -> Self {
        PeerConnection {
            guard,
            state,
            locals,
        }
    }

    /// The local addresses this session's host candidates are on.
    #[must_use]
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.locals
    }

    async fn session<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rtcwire::PeerConnection) -> Result<R, rtcwire::Error> + Send + 'static,
    ) -> Result<R, Error> {
        self.guard
            .call(move |c| f(&mut c.pc))
            .await?
            .map_err(Error::from)
    }

    /// `createOffer`.
    pub async fn create_offer(&self) -> Result<SessionDescription, Error> {
        self.session(rtcwire::PeerConnection::create_offer).await
    }

    /// `createAnswer`.
    pub async fn create_answer(&self) -> Result<SessionDescription, Error> {
        self.session(rtcwire::PeerConnection::create_answer).await
    }

    /// `setLocalDescription`. An exchange it completes that stopped a transceiver ends
    /// its [`Track`](crate::Track).
    pub async fn set_local_description(&self, desc: SessionDescription) -> Result<(), Error> {
        self.guard
            .call(move |c| {
                let r = c.pc.set_local_description(desc);
                c.end_stopped_tracks();
                r
            })
            .await?
            .map_err(Error::from)
    }

    /// `setRemoteDescription`. An exchange it completes that stopped a transceiver (the
    /// peer's port 0) ends its [`Track`](crate::Track).
    pub async fn set_remote_description(&self, desc: SessionDescription) -> Result<(), Error> {
        self.guard
            .call(move |c| {
                let r = c.pc.set_remote_description(desc);
                c.end_stopped_tracks();
                r
            })
            .await?
            .map_err(Error::from)
    }

    /// `addIceCandidate` (an empty candidate is end-of-candidates).
    pub async fn add_ice_candidate(&self, candidate: IceCandidate) -> Result<(), Error> {
        self.session(move |pc| pc.add_ice_candidate(&candidate))
            .await
    }

    /// The address a `.local` host name resolved to (after [`Event::ResolveHostname`]).
    pub async fn resolve_hostname(&self, hostname: &str, ip: IpAddr) -> Result<(), Error> {
        let name = hostname.to_owned();
        self.session(move |pc| pc.resolve_hostname(&name, ip)).await
    }

    /// `restartIce`: the next offer restarts ICE.
    pub async fn restart_ice(&self) -> Result<(), Error> {
        self.session(rtcwire::PeerConnection::restart_ice).await
    }

    /// `createDataChannel`. A channel opens once the transport is up
    /// ([`DataChannel::wait_open`]): an in-band one when its DATA_CHANNEL_OPEN is queued
    /// (as browsers do; what is sent before the peer's ACK goes ordered behind it), a
    /// pre-negotiated one (`init.negotiated = Some(id)`) at once.
    pub async fn create_data_channel(
        &self,
        label: &str,
        init: DataChannelInit,
    ) -> Result<DataChannel, Error> {
        let label = label.to_owned();
        self.guard
            .call(move |c| {
                let protocol = init.protocol.clone();
                let id = c.pc.create_data_channel(&label, init)?;
                let opened = c.pc.channel_stream_id(id).is_some()
                    && c.pc.connection_state() == PeerConnectionState::Connected;
                let state = if opened {
                    ChannelState::Open
                } else {
                    ChannelState::Connecting
                };
                c.new_channel(id, label, protocol, state)
                    .ok_or(Error::Closed)
            })
            .await?
    }

    /// `addTransceiver(kind, init)`: a transceiver in the next offer (an `m=audio` or
    /// `m=video` section); [`Event::NegotiationNeeded`] follows.
    pub async fn add_transceiver(
        &self,
        kind: MediaKind,
        init: TransceiverInit,
    ) -> Result<Transceiver, Error> {
        self.guard
            .call(move |c| {
                let id = c.pc.add_transceiver(kind, init)?;
                c.transceiver(id, kind).ok_or(Error::Closed)
            })
            .await?
    }

    /// `addTrack`: a `sendrecv` transceiver to send a track of `kind` in these streams (a
    /// free transceiver of that kind made by a remote offer is reused, as W3C says).
    pub async fn add_track(
        &self,
        kind: MediaKind,
        stream_ids: &[&str],
    ) -> Result<Transceiver, Error> {
        let ids: Vec<String> = stream_ids.iter().map(|s| (*s).to_owned()).collect();
        self.guard
            .call(move |c| {
                let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                let id = c.pc.add_track(kind, &refs)?;
                c.transceiver(id, kind).ok_or(Error::Closed)
            })
            .await?
    }

    /// Every transceiver of the session (ours and those remote offers made), in creation
    /// order.
    pub async fn transceivers(&self) -> Result<Vec<Transceiver>, Error> {
        self.guard
            .call(|c| {
                let ids = c.pc.transceivers();
                ids.into_iter()
                    .filter_map(|id| {
                        let kind = c.pc.transceiver_kind(id)?;
                        c.transceiver(id, kind)
                    })
                    .collect()
            })
            .await
    }

    /// `getStats`.
    pub async fn get_stats(&self) -> Result<StatsReport, Error> {
        self.guard.call(|c| c.pc.get_stats()).await
    }

    /// The driver's TCP counters (ICE-TCP and TURN over TCP/TLS streams): streams
    /// accepted, connected and closed, messages in and out, and what was dropped.
    pub async fn tcp_stats(&self) -> Result<TcpStats, Error> {
        self.guard.call(|c| c.tcp).await
    }

    /// `localDescription`.
    pub async fn local_description(&self) -> Result<Option<SessionDescription>, Error> {
        self.guard.call(|c| c.pc.local_description().cloned()).await
    }

    /// `remoteDescription`.
    pub async fn remote_description(&self) -> Result<Option<SessionDescription>, Error> {
        self.guard
            .call(|c| c.pc.remote_description().cloned())
            .await
    }

    /// `close()`: channels closed, the peer told (SCTP ABORT, DTLS close_notify), the
    /// sockets and the task freed once the last datagrams are out.
    pub async fn close(&self) -> Result<(), Error> {
        self.guard
            .call(|c| {
                c.pc.close();
                c.closing = true;
            })
            .await
    }

    /// `connectionState`.
    #[must_use]
    pub fn connection_state(&self) -> PeerConnectionState {
        self.state.borrow().connection
    }

    /// `iceConnectionState`.
    #[must_use]
    pub fn ice_connection_state(&self) -> IceConnectionState {
        self.state.borrow().ice
    }

    /// `iceGatheringState`.
    #[must_use]
    pub fn ice_gathering_state(&self) -> IceGatheringState {
        self.state.borrow().gathering
    }

    /// `signalingState`.
    #[must_use]
    pub fn signaling_state(&self) -> SignalingState {
        self.state.borrow().signaling
    }

    /// Waits for `connectionState` to be `connected`; errors if it fails or closes first.
    pub async fn connected(&self) -> Result<(), Error> {
        let mut rx = self.state.clone();
        let s = rx
            .wait_for(|s| {
                matches!(
                    s.connection,
                    PeerConnectionState::Connected
                        | PeerConnectionState::Failed
                        | PeerConnectionState::Closed
                )
            })
            .await
            .map_err(|_| Error::Closed)?
            .connection;
        match s {
            PeerConnectionState::Connected => Ok(()),
            _ => Err(Error::Closed),
        }
    }

    /// Waits until ICE gathering is complete: for signalling without trickle, create the
    /// offer or answer after this and it carries every candidate.
    pub async fn gathering_complete(&self) -> Result<(), Error> {
        let mut rx = self.state.clone();
        rx.wait_for(|s| s.gathering == IceGatheringState::Complete)
            .await
            .map(|_| ())
            .map_err(|_| Error::Closed)
    }

    /// Waits until the session is closed (locally, by the peer, or freed).
    pub async fn closed(&self) {
        let mut rx = self.state.clone();
        let _ = rx
            .wait_for(|s| s.connection == PeerConnectionState::Closed)
            .await;
    }
}
