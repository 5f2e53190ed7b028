//! How a driven connection (or a server) is set up.

use std::net::{IpAddr, SocketAddr};

use crate::Error;

/// Which local addresses a connection binds its UDP sockets on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Bind {
    /// Every up, non-loopback interface address (IPv4, and IPv6 that is not link-local),
    /// found with `webrtc-util`'s interface enumeration, each on an ephemeral port.
    Interfaces,
    /// Exactly these addresses (port 0 picks an ephemeral one). Tests and examples pass
    /// `127.0.0.1:0`.
    Addresses(Vec<SocketAddr>),
}

/// Settings of a driven [`PeerConnection`](crate::PeerConnection).
///
/// ```
/// # use rtcwire_tokio::Config;
/// let config = Config::default()
///     .bind(["127.0.0.1:0".parse().unwrap()])
///     .stun_server("127.0.0.1:3478".parse().unwrap());
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The session's settings (certificate, ICE timers, STUN/TURN servers in
    /// `session.ice`, SCTP limits). ICE-lite: `session.ice.lite`.
    pub session: rtcwire::Config,
    /// Where to bind.
    pub bind: Bind,
    /// Messages a [`DataChannel`](crate::DataChannel) holds for the application before
    /// the driver stops reading the network (backpressure). Default 256.
    pub channel_capacity: usize,
    /// Frames a [`Track`](crate::Track) holds for the application; when it is full the
    /// oldest go (counted) and the peer is asked for a keyframe: media never stops the
    /// network read. Default 64.
    pub track_capacity: usize,
    /// Resolve remote `<uuid>.local` candidates with a one-shot mDNS query (a socket on
    /// port 5353 joined to 224.0.0.251). Default on; off, or when unanswered, the name
    /// comes as [`Event::ResolveHostname`](crate::Event::ResolveHostname).
    pub mdns: bool,
    /// **For tests only**: drop a share of this connection's RTP and RTCP datagrams each
    /// way ([`TestLoss`](crate::TestLoss)), to watch NACK and retransmission against a
    /// real peer. `None` (the default): nothing is dropped.
    pub test_loss: Option<crate::TestLoss>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session: rtcwire::Config::default(),
            bind: Bind::Interfaces,
            channel_capacity: 256,
            track_capacity: 64,
            mdns: true,
            test_loss: None,
        }
    }
}

impl Config {
    /// Binds exactly these addresses instead of enumerating interfaces.
    #[must_use]
    pub fn bind(mut self, addrs: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.bind = Bind::Addresses(addrs.into_iter().collect());
        self
    }

    /// Adds a STUN server (server-reflexive candidates).
    #[must_use]
    pub fn stun_server(mut self, addr: SocketAddr) -> Self {
        self.session.ice.stun_servers.push(addr);
        self
    }

    /// Adds a TURN server (relayed candidates).
    #[must_use]
    pub fn turn_server(mut self, server: rtcwire_ice::TurnServer) -> Self {
        self.session.ice.turn_servers.push(server);
        self
    }

    /// Makes the session an ICE-lite agent (servers with a public address).
    #[must_use]
    pub fn ice_lite(mut self, lite: bool) -> Self {
        self.session.ice.lite = lite;
        self
    }

    /// Uses this session configuration (certificate, seed, timers, SCTP limits).
    #[must_use]
    pub fn session(mut self, session: rtcwire::Config) -> Self {
        self.session = session;
        self
    }
}

/// The addresses to bind for `bind`.
pub(crate) fn addresses(bind: &Bind) -> Result<Vec<SocketAddr>, Error> {
    match bind {
        Bind::Addresses(a) if a.is_empty() => {
            Err(Error::NoAddress("the address list is empty".into()))
        }
        Bind::Addresses(a) => Ok(a.clone()),
        Bind::Interfaces => {
            let found = webrtc_util::ifaces::ifaces()
                .map_err(|e| Error::NoAddress(format!("interface enumeration failed: {e}")))?;
            let mut out: Vec<SocketAddr> = Vec::new();
            for iface in found {
                let Some(addr) = iface.addr else { continue };
                let ip = addr.ip();
                let usable = match ip {
                    IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_unspecified(),
                    // Link-local IPv6 needs a scope id the candidate cannot carry.
                    IpAddr::V6(v6) => {
                        !v6.is_loopback()
                            && !v6.is_unspecified()
                            && (v6.segments()[0] & 0xffc0) != 0xfe80
                    }
                };
                let sa = SocketAddr::new(ip, 0);
                if usable && !out.contains(&sa) && out.len() < 16 {
                    out.push(sa);
                }
            }
            if out.is_empty() {
                return Err(Error::NoAddress("no non-loopback interface address".into()));
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_enumeration_skips_loopback() {
        // What webrtc-util finds here: every address usable, none loopback, ports ephemeral.
        match addresses(&Bind::Interfaces) {
            Ok(found) => {
                assert!(!found.is_empty());
                for a in &found {
                    assert!(!a.ip().is_loopback() && !a.ip().is_unspecified(), "{a}");
                    assert_eq!(a.port(), 0);
                }
            }
            Err(Error::NoAddress(why)) => assert!(!why.is_empty()),
            Err(e) => panic!("{e}"),
        }
        assert!(matches!(
            addresses(&Bind::Addresses(Vec::new())),
            Err(Error::NoAddress(_))
        ));
        let lo: SocketAddr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Config::default().bind([lo]).bind, Bind::Addresses(vec![lo]));
    }
}
