//! ICE candidates: kinds, priorities and foundations (RFC 8445 §5.1.2), and the SDP
//! `candidate` attribute (RFC 8839 §5.1, with RFC 6544 `tcptype`).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use rtcwire_proto::Transport;

use crate::Error;

/// Longest foundation RFC 8839 allows (1–32 `ice-char`s).
pub const MAX_FOUNDATION_LEN: usize = 32;
/// Most extension name/value pairs kept from one candidate line.
pub const MAX_EXTENSIONS: usize = 16;
/// Longest candidate line accepted.
pub const MAX_LINE_LEN: usize = 1024;

/// What kind of address a candidate is (RFC 8445 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateKind {
    /// An address of a local interface.
    Host,
    /// The address a STUN server saw (the outside of a NAT).
    ServerReflexive,
    /// An address learned from a connectivity check.
    PeerReflexive,
    /// An address on a TURN server.
    Relayed,
}

impl CandidateKind {
    /// The recommended type preference (RFC 8445 §5.1.2.2).
    #[must_use]
    pub const fn type_preference(self) -> u32 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }

    /// The SDP token (`host`, `srflx`, `prflx`, `relay`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relayed => "relay",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "host" => CandidateKind::Host,
            "srflx" => CandidateKind::ServerReflexive,
            "prflx" => CandidateKind::PeerReflexive,
            "relay" => CandidateKind::Relayed,
            _ => return None,
        })
    }
}

/// The role of a TCP candidate (RFC 6544 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpType {
    /// Opens connections (its port is meaningless, usually 9).
    Active,
    /// Accepts connections.
    Passive,
    /// Simultaneous open.
    So,
}

impl TcpType {
    /// The SDP token.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            TcpType::Active => "active",
            TcpType::Passive => "passive",
            TcpType::So => "so",
        }
    }
}

/// One ICE candidate, local or remote.
///
/// A remote candidate whose address is a host name (typically a browser's `<uuid>.local`
/// mDNS name) has [`hostname`](Self::hostname) set and an unspecified IP in
/// [`address`](Self::address) until [`Candidate::resolve`] fills it in; such a candidate is
/// not paired until then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Groups candidates that share a type, base IP, server and transport (1–32 chars).
    pub foundation: String,
    /// Component id: 1 (RTP, or everything under rtcp-mux); 2 is RTCP.
    pub component: u16,
    /// UDP or TCP.
    pub transport: Transport,
    /// Priority (RFC 8445 §5.1.2).
    pub priority: u32,
    /// The transport address (port included). Unspecified IP while a host name is unresolved.
    pub address: SocketAddr,
    /// The host name the peer gave instead of an IP (`.local` for mDNS), if any.
    pub hostname: Option<String>,
    /// Host, server-reflexive, peer-reflexive or relayed.
    pub kind: CandidateKind,
    /// `raddr`/`rport`: the base or mapped address this one derives from.
    pub related: Option<SocketAddr>,
    /// `tcptype` for TCP candidates.
    pub tcp_type: Option<TcpType>,
    /// Extension attributes (`generation 0`, `network-id 1`, `ufrag …`, …), kept in order.
    pub extensions: Vec<(String, String)>,
}

/// The priority of a candidate (RFC 8445 §5.1.2.1).
#[must_use]
pub const fn priority(kind: CandidateKind, local_preference: u16, component: u16) -> u32 {
    let component = if component == 0 || component > 256 {
        256
    } else {
        component
    };
    (kind.type_preference() << 24) | ((local_preference as u32) << 8) | (256 - component as u32)
}

/// The foundation of a local candidate (RFC 8445 §5.1.1.3): equal exactly when the kind,
/// the base IP, the server's IP (for server-reflexive and relayed) and the transport are.
#[must_use]
pub fn foundation(
    kind: CandidateKind,
    base: IpAddr,
    server: Option<IpAddr>,
    transport: Transport,
) -> String {
    // FNV-1a over the four inputs: stable across runs (no random state), short in SDP.
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    eat(kind.as_str().as_bytes());
    match base {
        IpAddr::V4(ip) => eat(&ip.octets()),
        IpAddr::V6(ip) => eat(&ip.octets()),
    }
    match server {
        Some(IpAddr::V4(ip)) => eat(&ip.octets()),
        Some(IpAddr::V6(ip)) => eat(&ip.octets()),
        None => eat(b"-"),
    }
    eat(match transport {
        Transport::Udp => b"u",
        Transport::Tcp => b"t",
    });
    h.to_string()
}

/// The priority of a pair (RFC 8445 §6.1.2.3) from the controlling agent's candidate
/// priority `g` and the controlled agent's `d`.
#[must_use]
pub const fn pair_priority(g: u32, d: u32) -> u64 {
    let (min, max) = if g < d { (g, d) } else { (d, g) };
    ((min as u64) << 32) + 2 * (max as u64) + if g > d { 1 } else { 0 }
}

impl Candidate {
    /// A UDP host candidate for component 1.
    #[must_use]
    pub fn host(address: SocketAddr, local_preference: u16) -> Self {
        Candidate {
            foundation: foundation(CandidateKind::Host, address.ip(), None, Transport::Udp),
            component: 1,
            transport: Transport::Udp,
            priority: priority(CandidateKind::Host, local_preference, 1),
            address,
            hostname: None,
            kind: CandidateKind::Host,
            related: None,
            tcp_type: None,
            extensions: Vec::new(),
        }
    }

    /// A UDP server-reflexive (`server_is_turn == false`) or relayed candidate.
    #[must_use]
    pub fn derived(
        kind: CandidateKind,
        address: SocketAddr,
        base: SocketAddr,
        server: IpAddr,
        local_preference: u16,
    ) -> Self {
        Candidate {
            foundation: foundation(kind, base.ip(), Some(server), Transport::Udp),
            component: 1,
            transport: Transport::Udp,
            priority: priority(kind, local_preference, 1),
            address,
            hostname: None,
            kind,
            related: Some(base),
            tcp_type: None,
            extensions: Vec::new(),
        }
    }

    /// Whether the address is a host name not yet resolved.
    #[must_use]
    pub fn is_unresolved(&self) -> bool {
        self.hostname.is_some() && self.address.ip().is_unspecified()
    }

    /// Whether the host name is an mDNS (`.local`) name.
    #[must_use]
    pub fn is_mdns(&self) -> bool {
        self.hostname
            .as_deref()
            .and_then(|h| h.len().checked_sub(6).map(|i| (h, i)))
            .is_some_and(|(h, i)| {
                i > 0
                    && h.as_bytes()
                        .get(i..)
                        .is_some_and(|t| t.eq_ignore_ascii_case(b".local"))
            })
    }

    /// Fills in the IP a host name resolved to (the port is kept).
    pub fn resolve(&mut self, ip: IpAddr) {
        self.address = SocketAddr::new(ip, self.address.port());
    }

    /// Parses an SDP candidate attribute: `candidate:…`, with or without a leading `a=`,
    /// or just the value after `candidate:`.
    pub fn parse(line: &str) -> Result<Self, Error> {
        if line.len() > MAX_LINE_LEN {
            return Err(Error::BadCandidate("line too long"));
        }
        let line = line.trim();
        let line = line.strip_prefix("a=").unwrap_or(line);
        let line = line.strip_prefix("candidate:").unwrap_or(line);
        let mut it = line.split_ascii_whitespace();
        let mut next = |what: &'static str| it.next().ok_or(Error::BadCandidate(what));
        let foundation = next("missing foundation")?;
        if foundation.is_empty()
            || foundation.len() > MAX_FOUNDATION_LEN
            || !foundation
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return Err(Error::BadCandidate("bad foundation"));
        }
        let component: u16 = next("missing component")?
            .parse()
            .map_err(|_| Error::BadCandidate("bad component"))?;
        if component == 0 || component > 256 {
            return Err(Error::BadCandidate("bad component"));
        }
        let transport = match next("missing transport")? {
            t if t.eq_ignore_ascii_case("udp") => Transport::Udp,
            t if t.eq_ignore_ascii_case("tcp") => Transport::Tcp,
            _ => return Err(Error::BadCandidate("unsupported transport")),
        };
        let priority: u32 = next("missing priority")?
            .parse()
            .map_err(|_| Error::BadCandidate("bad priority"))?;
        if priority == 0 {
            return Err(Error::BadCandidate("bad priority"));
        }
        let host = next("missing address")?;
        let port: u16 = next("missing port")?
            .parse()
            .map_err(|_| Error::BadCandidate("bad port"))?;
        let (address, hostname) = match host.parse::<IpAddr>() {
            Ok(ip) => (SocketAddr::new(ip, port), None),
            Err(_) => {
                if host.len() > 253
                    || !host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                {
                    return Err(Error::BadCandidate("bad address"));
                }
                (
                    SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), port),
                    Some(host.to_owned()),
                )
            }
        };
        if next("missing typ")? != "typ" {
            return Err(Error::BadCandidate("expected typ"));
        }
        let kind = CandidateKind::parse(next("missing type")?)
            .ok_or(Error::BadCandidate("unknown candidate type"))?;
        let mut c = Candidate {
            foundation: foundation.to_owned(),
            component,
            transport,
            priority,
            address,
            hostname,
            kind,
            related: None,
            tcp_type: None,
            extensions: Vec::new(),
        };
        let mut raddr: Option<IpAddr> = None;
        let mut rport: Option<u16> = None;
        // Name/value pairs; bounded by the line length and MAX_EXTENSIONS.
        while let Some(name) = it.next() {
            let value = it
                .next()
                .ok_or(Error::BadCandidate("extension without value"))?;
            match name {
                "raddr" => {
                    // Browsers send `raddr 0.0.0.0` (or an mDNS name) to hide the base.
                    raddr = Some(
                        value
                            .parse()
                            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
                    );
                }
                "rport" => {
                    rport = Some(
                        value
                            .parse()
                            .map_err(|_| Error::BadCandidate("bad rport"))?,
                    );
                }
                "tcptype" => {
                    c.tcp_type = Some(match value {
                        "active" => TcpType::Active,
                        "passive" => TcpType::Passive,
                        "so" => TcpType::So,
                        _ => return Err(Error::BadCandidate("bad tcptype")),
                    });
                }
                _ => {
                    if c.extensions.len() >= MAX_EXTENSIONS {
                        return Err(Error::BadCandidate("too many extensions"));
                    }
                    c.extensions.push((name.to_owned(), value.to_owned()));
                }
            }
        }
        if let (Some(ip), Some(port)) = (raddr, rport) {
            c.related = Some(SocketAddr::new(ip, port));
        }
        Ok(c)
    }

    /// The value of an extension attribute, e.g. `ufrag` or `generation`.
    #[must_use]
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Writes the attribute value, starting with `candidate:` (prefix `a=` for an SDP line).
impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        };
        write!(
            f,
            "candidate:{} {} {} {} ",
            self.foundation, self.component, transport, self.priority
        )?;
        match &self.hostname {
            Some(h) if self.address.ip().is_unspecified() => f.write_str(h)?,
            _ => write!(f, "{}", self.address.ip())?,
        }
        write!(f, " {} typ {}", self.address.port(), self.kind.as_str())?;
        if let Some(r) = self.related {
            write!(f, " raddr {} rport {}", r.ip(), r.port())?;
        }
        if let Some(t) = self.tcp_type {
            write!(f, " tcptype {}", t.as_str())?;
        }
        for (n, v) in &self.extensions {
            write!(f, " {n} {v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chrome_host_candidate() {
        let c = Candidate::parse(
            "candidate:842163049 1 udp 1677729535 192.0.2.7 46154 typ srflx raddr 10.0.0.2 rport 46154 generation 0 ufrag EsAw network-cost 999",
        )
        .unwrap();
        assert_eq!(c.kind, CandidateKind::ServerReflexive);
        assert_eq!(c.related, Some("10.0.0.2:46154".parse().unwrap()));
        assert_eq!(c.extension("ufrag"), Some("EsAw"));
        assert_eq!(c.extensions.len(), 3);
    }

    #[test]
    fn parses_mdns_and_tcp() {
        let c = Candidate::parse(
            "a=candidate:1 1 UDP 2122260223 4f3b1c2e-8b9d-4e6a-9c61-0e5b2c3d4e5f.local 54321 typ host",
        )
        .unwrap();
        assert!(c.is_unresolved());
        assert!(c.is_mdns());
        let mut odd = c.clone();
        odd.hostname = Some("é.locaé".into()); // not a char boundary six bytes from the end
        assert!(!odd.is_mdns());
        let line = c.to_string();
        assert!(line.contains(".local 54321 typ host"));
        let t =
            Candidate::parse("candidate:2 1 TCP 1518280447 192.0.2.1 9 typ host tcptype active")
                .unwrap();
        assert_eq!(t.transport, Transport::Tcp);
        assert_eq!(t.tcp_type, Some(TcpType::Active));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "candidate:",
            "candidate:1 1 udp",
            "candidate:1 0 udp 1 1.2.3.4 5 typ host",
            "candidate:1 1 sctp 1 1.2.3.4 5 typ host",
            "candidate:1 1 udp 1 1.2.3.4 5 typ bogus",
            "candidate:1 1 udp 1 1.2.3.4 5 type host",
            "candidate:1 1 udp 1 1.2.3.4 5 typ host lonely",
            "candidate:1 1 udp 1 1.2.3.4 99999 typ host",
        ] {
            assert!(Candidate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn priority_follows_rfc8445() {
        assert_eq!(priority(CandidateKind::Host, 65535, 1), 2_130_706_431);
        assert_eq!(priority(CandidateKind::Relayed, 65535, 1), 16_777_215);
        assert!(pair_priority(10, 20) < pair_priority(20, 20));
        assert_eq!(pair_priority(20, 10), pair_priority(10, 20) + 1);
    }
}
