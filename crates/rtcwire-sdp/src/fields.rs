//! Typed values of the non-attribute lines: `o=`, `c=`, `b=`, `t=` and `m=` (RFC 8866 §5).

use std::borrow::Cow;
use std::fmt;

use crate::attr::{cut, fields, number, owned, token};
use crate::error::Bad;

/// Most formats on one `m=` line.
const MAX_FORMATS: usize = 256;

fn visible(s: &str) -> Result<&str, Bad> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() || b >= 0x80) {
        Ok(s)
    } else {
        Err(Bad("expected a non-empty field without spaces"))
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin<'a> {
    /// User name, `-` when there is none.
    pub username: Cow<'a, str>,
    /// Session id.
    pub session_id: u64,
    /// Session version, incremented on every change.
    pub session_version: u64,
    /// Network type, `IN`.
    pub net_type: Cow<'a, str>,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: Cow<'a, str>,
    /// Unicast address.
    pub address: Cow<'a, str>,
}

impl<'a> Origin<'a> {
    /// The origin WebRTC endpoints write: `- <id> <version> IN IP4 127.0.0.1`.
    #[must_use]
    pub fn new(session_id: u64, session_version: u64) -> Self {
        Self {
            username: Cow::Borrowed("-"),
            session_id,
            session_version,
            net_type: Cow::Borrowed("IN"),
            addr_type: Cow::Borrowed("IP4"),
            address: Cow::Borrowed("127.0.0.1"),
        }
    }

    pub(crate) fn parse(v: &'a str) -> Result<Self, Bad> {
        let mut it = fields(v, b' ');
        let mut next = || it.next().ok_or(Bad("expected 6 fields"));
        let o = Self {
            username: Cow::Borrowed(visible(next()?)?),
            session_id: number(next()?)?,
            session_version: number(next()?)?,
            net_type: Cow::Borrowed(token(next()?)?),
            addr_type: Cow::Borrowed(token(next()?)?),
            address: Cow::Borrowed(visible(next()?)?),
        };
        if it.next().is_some() {
            return Err(Bad("expected 6 fields"));
        }
        Ok(o)
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Origin<'static> {
        Origin {
            username: owned(self.username),
            session_id: self.session_id,
            session_version: self.session_version,
            net_type: owned(self.net_type),
            addr_type: owned(self.addr_type),
            address: owned(self.address),
        }
    }
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.net_type,
            self.addr_type,
            self.address
        )
    }
}

/// `c=<nettype> <addrtype> <connection-address>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Connection<'a> {
    /// Network type, `IN`.
    pub net_type: Cow<'a, str>,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: Cow<'a, str>,
    /// Address, with `/ttl` and `/count` suffixes for multicast as written.
    pub address: Cow<'a, str>,
}

impl<'a> Connection<'a> {
    /// `c=IN IP4 <address>` or `c=IN IP6 <address>`, chosen by whether it contains `:`.
    pub fn new(address: impl Into<Cow<'a, str>>) -> Self {
        let address = address.into();
        let v6 = address.contains(':');
        Self {
            net_type: Cow::Borrowed("IN"),
            addr_type: Cow::Borrowed(if v6 { "IP6" } else { "IP4" }),
            address,
        }
    }

    pub(crate) fn parse(v: &'a str) -> Result<Self, Bad> {
        let mut it = fields(v, b' ');
        let mut next = || it.next().ok_or(Bad("expected 3 fields"));
        let c = Self {
            net_type: Cow::Borrowed(token(next()?)?),
            addr_type: Cow::Borrowed(token(next()?)?),
            address: Cow::Borrowed(visible(next()?)?),
        };
        if it.next().is_some() {
            return Err(Bad("expected 3 fields"));
        }
        Ok(c)
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Connection<'static> {
        Connection {
            net_type: owned(self.net_type),
            addr_type: owned(self.addr_type),
            address: owned(self.address),
        }
    }
}

impl fmt::Display for Connection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.net_type, self.addr_type, self.address)
    }
}

/// `b=<bwtype>:<bandwidth>`, e.g. `AS:256` (kbit/s) or `TIAS:256000` (bit/s).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bandwidth<'a> {
    /// Bandwidth type, e.g. `"AS"`, `"TIAS"`, `"CT"`.
    pub kind: Cow<'a, str>,
    /// The value, in the unit of the type.
    pub value: u64,
}

impl<'a> Bandwidth<'a> {
    pub(crate) fn parse(v: &'a str) -> Result<Self, Bad> {
        let (kind, value) = cut(v, b':').ok_or(Bad("expected '<type>:<value>'"))?;
        Ok(Self {
            kind: Cow::Borrowed(token(kind)?),
            value: number(value)?,
        })
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Bandwidth<'static> {
        Bandwidth {
            kind: owned(self.kind),
            value: self.value,
        }
    }
}

impl fmt::Display for Bandwidth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// `t=<start> <stop>` in NTP seconds; WebRTC always writes `t=0 0` (unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timing {
    /// Start time, 0 for unbounded.
    pub start: u64,
    /// Stop time, 0 for unbounded.
    pub stop: u64,
}

impl Timing {
    pub(crate) fn parse(v: &str) -> Result<Self, Bad> {
        let (a, b) = cut(v, b' ').ok_or(Bad("expected '<start> <stop>'"))?;
        Ok(Self {
            start: number(a)?,
            stop: number(b)?,
        })
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.start, self.stop)
    }
}

/// The media type of an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaKind<'a> {
    /// `audio`.
    Audio,
    /// `video`.
    Video,
    /// `application` (data channels).
    Application,
    /// Any other token, e.g. `text` or `message`.
    Other(Cow<'a, str>),
}

impl<'a> MediaKind<'a> {
    pub(crate) fn parse(s: &'a str) -> Self {
        match s {
            "audio" => Self::Audio,
            "video" => Self::Video,
            "application" => Self::Application,
            other => Self::Other(Cow::Borrowed(other)),
        }
    }

    /// The token as written in SDP.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Application => "application",
            Self::Other(s) => s,
        }
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> MediaKind<'static> {
        match self {
            Self::Audio => MediaKind::Audio,
            Self::Video => MediaKind::Video,
            Self::Application => MediaKind::Application,
            Self::Other(s) => MediaKind::Other(owned(s)),
        }
    }
}

impl fmt::Display for MediaKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parts of an `m=<media> <port>[/<count>] <proto> <fmt>...` line, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MediaLine<'a> {
    pub(crate) kind: &'a str,
    pub(crate) port: u16,
    pub(crate) port_count: Option<u16>,
    pub(crate) proto: &'a str,
    pub(crate) formats: &'a str,
}

impl<'a> MediaLine<'a> {
    pub(crate) fn parse(v: &'a str) -> Result<Self, Bad> {
        let (kind, rest) = cut(v, b' ').unwrap_or((v, ""));
        let kind = token(kind)?;
        let (port, rest) = cut(rest, b' ').ok_or(Bad("missing protocol"))?;
        let (port, port_count) = match cut(port, b'/') {
            Some((p, n)) => (p, Some(number(n)?)),
            None => (port, None),
        };
        let port = number(port)?;
        let (proto, formats) = cut(rest, b' ').ok_or(Bad("missing formats"))?;
        if proto.is_empty() || !fields(proto, b'/').all(|p| token(p).is_ok()) {
            return Err(Bad("invalid protocol"));
        }
        let mut n = 0usize;
        for f in fields(formats, b' ') {
            token(f)?;
            n += 1;
            if n > MAX_FORMATS {
                return Err(Bad("too many formats"));
            }
        }
        Ok(Self {
            kind,
            port,
            port_count,
            proto,
            formats,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_and_media_lines() {
        let o = Origin::parse("- 3560741839439939942 2 IN IP4 127.0.0.1").unwrap();
        assert_eq!(o.session_id, 3_560_741_839_439_939_942);
        assert_eq!(o.to_string(), "- 3560741839439939942 2 IN IP4 127.0.0.1");
        assert_eq!(Origin::parse("- 1 2 IN IP4"), Err(Bad("expected 6 fields")));
        assert_eq!(
            Origin::parse("- x 2 IN IP4 a"),
            Err(Bad("expected a decimal number"))
        );
        let m = MediaLine::parse("video 9/2 UDP/TLS/RTP/SAVPF 96 97").unwrap();
        assert_eq!(
            (m.kind, m.port, m.port_count, m.proto, m.formats),
            ("video", 9, Some(2), "UDP/TLS/RTP/SAVPF", "96 97")
        );
        assert_eq!(
            MediaLine::parse("audio 9 RTP/AVP"),
            Err(Bad("missing formats"))
        );
        assert_eq!(
            MediaLine::parse("audio 9 RTP/AVP 0  8"),
            Err(Bad("expected a token"))
        );
        assert_eq!(Bandwidth::parse("AS:256").unwrap().value, 256);
        assert_eq!(Timing::parse("0 0").unwrap(), Timing::default());
    }
}
