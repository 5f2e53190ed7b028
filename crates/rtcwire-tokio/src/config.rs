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
    /// Gather UDP host candidates. Default on; off, the connection uses TCP (and relayed)
    /// candidates only (a network that blocks UDP, or a test of ICE-TCP). A TURN
    /// allocation is made from a UDP host candidate's address, so it needs this on.
    pub ice_udp: bool,
    /// ICE-TCP (RFC 6544): a `tcptype passive` host candidate (a listener) and a
    /// `tcptype active` one (outgoing connections) per bound address. Default on, as in
    /// libwebrtc; UDP candidates rank above them, so TCP carries the session only where
    /// UDP does not get through. Sessions of a [`Server`](crate::Server) gather none.
    pub ice_tcp: bool,
    /// Caps of the TCP streams (ICE-TCP and TURN over TCP/TLS).
    pub tcp_limits: TcpLimits,
    /// TURN servers given as URLs (over UDP, TCP or TLS), resolved when the connection
    /// is made. See [`TurnUrl`]. Sessions of a [`Server`](crate::Server) take none.
    pub turn_urls: Vec<TurnUrl>,
    /// Trusted root certificates (DER) for `turns:` servers. No system or bundled roots
    /// are used: a `turns:` server whose chain does not end at one of these is not used.
    pub tls_roots: Vec<Vec<u8>>,
}

/// Caps on the driver's TCP streams: peer input never grows a buffer past them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpLimits {
    /// Most streams at once (accepted, connecting or open; TURN streams included).
    /// Default 16; an accepted one past it is closed at once (counted).
    pub max_streams: usize,
    /// Largest RFC 4571 frame taken on an ICE-TCP stream (default 8192 bytes; WebRTC
    /// packets are sized for a UDP path). A longer one is skipped without being buffered
    /// (counted). The stream's read buffer is this plus the 2-byte prefix.
    pub max_frame: usize,
    /// Most bytes waiting to be written on one stream (default 256 KiB); a message that
    /// would exceed it is dropped (counted), as a full UDP socket buffer would.
    pub max_write_buffer: usize,
    /// An ICE-TCP stream older than this is closed when it is not the selected pair's
    /// (once a pair is selected) or never carried a message the session took (an idle or
    /// garbage-sending peer does not keep a slot). Default 10 s.
    pub idle_grace: std::time::Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_streams: 16,
            max_frame: 8192,
            max_write_buffer: 256 * 1024,
            idle_grace: std::time::Duration::from_secs(10),
        }
    }
}

impl TcpLimits {
    /// Sets [`max_streams`](Self::max_streams).
    #[must_use]
    pub fn max_streams(mut self, n: usize) -> Self {
        self.max_streams = n;
        self
    }

    /// Sets [`max_frame`](Self::max_frame) (at most 65535, the RFC 4571 maximum).
    #[must_use]
    pub fn max_frame(mut self, n: usize) -> Self {
        self.max_frame = n.min(usize::from(u16::MAX));
        self
    }

    /// Sets [`idle_grace`](Self::idle_grace).
    #[must_use]
    pub fn idle_grace(mut self, d: std::time::Duration) -> Self {
        self.idle_grace = d;
        self
    }

    /// Sets [`max_write_buffer`](Self::max_write_buffer).
    #[must_use]
    pub fn max_write_buffer(mut self, n: usize) -> Self {
        self.max_write_buffer = n;
        self
    }
}

/// How a TURN server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnTransport {
    /// `turn:host:port` (or `?transport=udp`).
    Udp,
    /// `turn:host:port?transport=tcp`.
    Tcp,
    /// `turns:host:port`: TLS over TCP.
    Tls,
}

/// A TURN server given as a URL (RFC 7065): `turn:host[:port][?transport=udp|tcp]` or
/// `turns:host[:port][?transport=tcp]`, with its long-term credentials. The host is an IP
/// address (IPv6 in brackets) or a name resolved when the connection is made. Default
/// ports: 3478 for `turn:`, 5349 for `turns:`. For `turns:` the host is also the name
/// the server's certificate must carry (an IP address needs an IP SAN). Over TCP and TLS
/// the client-to-server leg is a stream (RFC 8656 §12.5 framing); the relay is UDP.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnUrl {
    /// How it is reached.
    pub transport: TurnTransport,
    /// The host name or IP address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for TurnUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnUrl")
            .field("transport", &self.transport)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl TurnUrl {
    /// Parses a `turn:` or `turns:` URL.
    pub fn parse(url: &str, username: &str, password: &str) -> Result<TurnUrl, Error> {
        let bad = |why: &str| Error::BadUrl(format!("{why}: {url:?}"));
        let (secure, rest) = if let Some(r) = url.strip_prefix("turns:") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("turn:") {
            (false, r)
        } else {
            return Err(bad("not a turn: or turns: URL"));
        };
        let (hostport, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        let transport = match query {
            None => None,
            Some(q) => match q.strip_prefix("transport=") {
                Some(t) if t.eq_ignore_ascii_case("udp") => Some(TurnTransport::Udp),
                Some(t) if t.eq_ignore_ascii_case("tcp") => Some(TurnTransport::Tcp),
                _ => return Err(bad("the only query is transport=udp or transport=tcp")),
            },
        };
        let transport = match (secure, transport) {
            (true, None | Some(TurnTransport::Tcp)) => TurnTransport::Tls,
            (true, _) => return Err(bad("turns: runs over TCP")),
            (false, t) => t.unwrap_or(TurnTransport::Udp),
        };
        let default_port = if secure { 5349 } else { 3478 };
        let (host, port) = if let Some(r) = hostport.strip_prefix('[') {
            let (h, after) = r.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad("bad port"))?,
                None if after.is_empty() => default_port,
                None => return Err(bad("junk after ]")),
            };
            (h, port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().map_err(|_| bad("bad port"))?),
                None => (hostport, default_port),
            }
        };
        if host.is_empty() || host.len() > 253 || host.contains(['/', '@', ' ']) {
            return Err(bad("bad host"));
        }
        Ok(TurnUrl {
            transport,
            host: host.to_owned(),
            port,
            username: username.to_owned(),
            password: password.to_owned(),
        })
    }
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
            ice_udp: true,
            ice_tcp: true,
            tcp_limits: TcpLimits::default(),
            turn_urls: Vec::new(),
            tls_roots: Vec::new(),
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

    /// Adds a TURN server given as a URL ([`TurnUrl`]): over UDP, TCP or TLS.
    #[must_use]
    pub fn turn_url(mut self, url: TurnUrl) -> Self {
        self.turn_urls.push(url);
        self
    }

    /// Trusts this root certificate (DER) for `turns:` servers.
    #[must_use]
    pub fn tls_root(mut self, der: Vec<u8>) -> Self {
        self.tls_roots.push(der);
        self
    }

    /// Turns ICE-TCP candidates on or off ([`Config::ice_tcp`]).
    #[must_use]
    pub fn ice_tcp(mut self, on: bool) -> Self {
        self.ice_tcp = on;
        self
    }

    /// Turns UDP host candidates on or off ([`Config::ice_udp`]).
    #[must_use]
    pub fn ice_udp(mut self, on: bool) -> Self {
        self.ice_udp = on;
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

    #[test]
    fn turn_urls() {
        let p = |u: &str| TurnUrl::parse(u, "u", "p");
        let t = p("turn:127.0.0.1:3479?transport=tcp").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.transport, t.host.as_str(), t.port),
            (TurnTransport::Tcp, "127.0.0.1", 3479)
        );
        let t = p("turns:turn.example.org").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.transport, t.host.as_str(), t.port),
            (TurnTransport::Tls, "turn.example.org", 5349)
        );
        let t = p("turn:[::1]:5000").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.transport, t.host.as_str(), t.port),
            (TurnTransport::Udp, "::1", 5000)
        );
        let t = p("turn:[::1]").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.port, 3478);
        for bad in [
            "stun:x",
            "turn:",
            "turn:h:99999",
            "turn:h?transport=sctp",
            "turns:h?transport=udp",
            "turn:[::1",
            "turn:[::1]x",
            "turn:a/b",
        ] {
            assert!(matches!(p(bad), Err(Error::BadUrl(_))), "{bad}");
        }
    }
}
