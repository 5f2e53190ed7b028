//! `a=candidate` (RFC 8839 §5.1) with the TCP candidate type of RFC 6544.

use std::borrow::Cow;
use std::fmt;

use super::{fields, ice_chars, number, owned, token};
use crate::error::{Bad, Error};

/// Most extension pairs kept on one candidate (the line length bounds it anyway).
const MAX_EXTENSIONS: usize = 32;

/// An ICE candidate.
///
/// Parses from the attribute value; [`Candidate::parse`] also takes the `candidate:` and
/// `a=candidate:` prefixes, as trickled candidates carry them. [`Display`](fmt::Display)
/// writes the value without a prefix.
///
/// ```
/// use rtcwire_sdp::{Candidate, CandidateKind, TcpType};
///
/// let c = Candidate::parse(
///     "candidate:4111573089 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0",
/// )?;
/// assert_eq!(c.kind, CandidateKind::Host);
/// assert_eq!(c.tcp_type, Some(TcpType::Active));
/// assert_eq!(c.extension("generation"), Some("0"));
/// # Ok::<(), rtcwire_sdp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate<'a> {
    /// Foundation: 1 to 32 ice-chars.
    pub foundation: Cow<'a, str>,
    /// Component id: 1 for RTP (and everything with rtcp-mux), 2 for RTCP.
    pub component: u16,
    /// Transport as written, e.g. `"udp"`, `"UDP"` or `"tcp"`.
    pub transport: Cow<'a, str>,
    /// Priority.
    pub priority: u32,
    /// Connection address: an IP address or a host name (mDNS `.local` names included).
    pub address: Cow<'a, str>,
    /// Port.
    pub port: u16,
    /// Candidate type (`typ`).
    pub kind: CandidateKind<'a>,
    /// Related address (`raddr`), for reflexive and relayed candidates.
    pub related_address: Option<Cow<'a, str>>,
    /// Related port (`rport`).
    pub related_port: Option<u16>,
    /// TCP candidate type (`tcptype`, RFC 6544).
    pub tcp_type: Option<TcpType>,
    /// Other extension attributes in order, e.g. `("generation", "0")`, `("network-id", "1")`.
    pub extensions: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// A candidate type (RFC 8445 §5.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CandidateKind<'a> {
    /// `host`.
    Host,
    /// `srflx`, server reflexive.
    Srflx,
    /// `prflx`, peer reflexive.
    Prflx,
    /// `relay`.
    Relay,
    /// Any other token.
    Other(Cow<'a, str>),
}

impl<'a> CandidateKind<'a> {
    fn parse(s: &'a str) -> Result<Self, Bad> {
        Ok(match token(s)? {
            "host" => Self::Host,
            "srflx" => Self::Srflx,
            "prflx" => Self::Prflx,
            "relay" => Self::Relay,
            other => Self::Other(Cow::Borrowed(other)),
        })
    }

    /// The token as written in SDP.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Host => "host",
            Self::Srflx => "srflx",
            Self::Prflx => "prflx",
            Self::Relay => "relay",
            Self::Other(s) => s,
        }
    }

    fn into_owned(self) -> CandidateKind<'static> {
        match self {
            Self::Host => CandidateKind::Host,
            Self::Srflx => CandidateKind::Srflx,
            Self::Prflx => CandidateKind::Prflx,
            Self::Relay => CandidateKind::Relay,
            Self::Other(s) => CandidateKind::Other(owned(s)),
        }
    }
}

/// The TCP candidate type of RFC 6544 §4.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpType {
    /// `active`: opens connections.
    Active,
    /// `passive`: accepts connections.
    Passive,
    /// `so`: simultaneous open.
    So,
}

impl TcpType {
    /// The token as written in SDP.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::So => "so",
        }
    }

    fn parse(s: &str) -> Result<Self, Bad> {
        match s {
            "active" => Ok(Self::Active),
            "passive" => Ok(Self::Passive),
            "so" => Ok(Self::So),
            _ => Err(Bad("tcptype is not active, passive or so")),
        }
    }
}

impl<'a> Candidate<'a> {
    /// A candidate with no related address, TCP type or extensions.
    pub fn new(
        foundation: impl Into<Cow<'a, str>>,
        component: u16,
        transport: impl Into<Cow<'a, str>>,
        priority: u32,
        address: impl Into<Cow<'a, str>>,
        port: u16,
        kind: CandidateKind<'a>,
    ) -> Self {
        Self {
            foundation: foundation.into(),
            component,
            transport: transport.into(),
            priority,
            address: address.into(),
            port,
            kind,
            related_address: None,
            related_port: None,
            tcp_type: None,
            extensions: Vec::new(),
        }
    }

    /// Parses a candidate, with or without an `a=candidate:` or `candidate:` prefix.
    pub fn parse(s: &'a str) -> Result<Self, Error> {
        let s = s.trim_end_matches(['\r', '\n']);
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s.strip_prefix("candidate:").unwrap_or(s);
        Self::parse_value(s).map_err(|b| b.value("a=candidate"))
    }

    pub(crate) fn validate(v: &str) -> Result<(), Bad> {
        Candidate::parse_value(v).map(drop)
    }

    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        let mut it = fields(v, b' ');
        let mut next = |what| it.next().filter(|s| !s.is_empty()).ok_or(Bad(what));
        let foundation = ice_chars(next("missing foundation")?)?;
        if foundation.len() > 32 {
            return Err(Bad("foundation longer than 32 characters"));
        }
        let component = number::<u16>(next("missing component id")?)?;
        if !(1..=256).contains(&component) {
            return Err(Bad("component id is not between 1 and 256"));
        }
        let transport = token(next("missing transport")?)?;
        let priority = number::<u32>(next("missing priority")?)?;
        let address = token_addr(next("missing address")?)?;
        let port = number::<u16>(next("missing port")?)?;
        if next("missing 'typ'")? != "typ" {
            return Err(Bad("expected 'typ' after the port"));
        }
        let kind = CandidateKind::parse(next("missing candidate type")?)?;
        let mut c = Candidate {
            foundation: Cow::Borrowed(foundation),
            component,
            transport: Cow::Borrowed(transport),
            priority,
            address: Cow::Borrowed(address),
            port,
            kind,
            related_address: None,
            related_port: None,
            tcp_type: None,
            extensions: Vec::new(),
        };
        while let Ok(name) = next("") {
            let value = next("extension without a value")?;
            match name {
                "raddr" if c.related_address.is_none() => {
                    c.related_address = Some(Cow::Borrowed(token_addr(value)?));
                }
                "rport" if c.related_port.is_none() => c.related_port = Some(number(value)?),
                "tcptype" if c.tcp_type.is_none() => c.tcp_type = Some(TcpType::parse(value)?),
                "raddr" | "rport" | "tcptype" => {
                    return Err(Bad("repeated raddr, rport or tcptype"))
                }
                _ => {
                    if c.extensions.len() >= MAX_EXTENSIONS {
                        return Err(Bad("too many extensions"));
                    }
                    token(name)?;
                    c.extensions
                        .push((Cow::Borrowed(name), Cow::Borrowed(value)));
                }
            }
        }
        if v.ends_with(' ') || v.contains("  ") {
            return Err(Bad("empty field (two spaces in a row or a trailing space)"));
        }
        Ok(c)
    }

    /// The value of the first extension attribute with this name.
    #[must_use]
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| &**v)
    }

    /// Sets the related address and port (`raddr`, `rport`).
    #[must_use]
    pub fn with_related(mut self, address: impl Into<Cow<'a, str>>, port: u16) -> Self {
        self.related_address = Some(address.into());
        self.related_port = Some(port);
        self
    }

    /// Sets the TCP candidate type.
    #[must_use]
    pub fn with_tcp_type(mut self, t: TcpType) -> Self {
        self.tcp_type = Some(t);
        self
    }

    /// Appends an extension attribute.
    #[must_use]
    pub fn with_extension(
        mut self,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.extensions.push((name.into(), value.into()));
        self
    }

    /// Copies borrowed text so the candidate outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Candidate<'static> {
        Candidate {
            foundation: owned(self.foundation),
            component: self.component,
            transport: owned(self.transport),
            priority: self.priority,
            address: owned(self.address),
            port: self.port,
            kind: self.kind.into_owned(),
            related_address: self.related_address.map(owned),
            related_port: self.related_port,
            tcp_type: self.tcp_type,
            extensions: self
                .extensions
                .into_iter()
                .map(|(n, v)| (owned(n), owned(v)))
                .collect(),
        }
    }
}

/// A connection address: a non-empty run of visible characters.
fn token_addr(s: &str) -> Result<&str, Bad> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(s)
    } else {
        Err(Bad("invalid address"))
    }
}

impl fmt::Display for Candidate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            self.transport,
            self.priority,
            self.address,
            self.port,
            self.kind.as_str()
        )?;
        if let Some(a) = &self.related_address {
            write!(f, " raddr {a}")?;
        }
        if let Some(p) = self.related_port {
            write!(f, " rport {p}")?;
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
    fn srflx_with_related_and_extensions() {
        let v = "842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.2 rport 46154 generation 0 ufrag EsAw network-cost 999";
        let c = Candidate::parse(v).unwrap();
        assert_eq!(c.foundation, "842163049");
        assert_eq!(c.priority, 1_677_729_535);
        assert_eq!(c.kind, CandidateKind::Srflx);
        assert_eq!(c.related_address.as_deref(), Some("10.0.0.2"));
        assert_eq!(c.related_port, Some(46154));
        assert_eq!(c.extension("ufrag"), Some("EsAw"));
        assert_eq!(c.extensions.len(), 3);
        assert_eq!(c.to_string(), v);
    }

    #[test]
    fn rejects_bad_candidates() {
        for (v, why) in [
            ("1 1 udp 1 1.2.3.4 5 host", "expected 'typ' after the port"),
            (
                "1 0 udp 1 1.2.3.4 5 typ host",
                "component id is not between 1 and 256",
            ),
            (
                "1 1 udp 99999999999 1.2.3.4 5 typ host",
                "number out of range",
            ),
            ("1 1 udp 1 1.2.3.4 70000 typ host", "number out of range"),
            (
                "1 1 udp 1 1.2.3.4 5 typ host generation",
                "extension without a value",
            ),
            (
                "1 1 tcp 1 1.2.3.4 5 typ host tcptype sideways",
                "tcptype is not active, passive or so",
            ),
            ("1 1 udp 1 1.2.3.4 5 typ", "missing candidate type"),
            (
                "1 1 udp 1 1.2.3.4 5 typ host ",
                "empty field (two spaces in a row or a trailing space)",
            ),
            (
                "f=o 1 udp 1 1.2.3.4 5 typ host",
                "expected ice-chars (letters, digits, '+', '/')",
            ),
        ] {
            assert_eq!(
                Candidate::parse(v),
                Err(Error::InvalidValue {
                    field: "a=candidate",
                    reason: why
                }),
                "{v}"
            );
        }
    }

    #[test]
    fn prefixes_are_accepted() {
        let a = Candidate::parse("a=candidate:1 1 UDP 5 ::1 9 typ host\r\n").unwrap();
        let b = Candidate::parse("1 1 UDP 5 ::1 9 typ host").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.address, "::1");
    }
}
