//! Typed attribute values (`a=<name>:<value>`) of the attributes WebRTC uses.
//!
//! Each type parses from the attribute's value (what follows `a=<name>:`) and writes it back
//! with [`Display`](std::fmt::Display). Text fields are [`Cow`]s: parsing borrows from the
//! description, building takes owned or `'static` strings alike.

use std::borrow::Cow;
use std::fmt;

use crate::error::Bad;

mod candidate;
mod rtp;
mod streams;
mod transport;

pub use candidate::{Candidate, CandidateKind, TcpType};
pub use rtp::{Codec, Extmap, Fmtp, RtcpFb, RtpMap};
pub use streams::{
    Msid, MsidSemantic, Rid, RidDirection, Simulcast, SimulcastRid, SsrcAttribute, SsrcGroup,
};
pub(crate) use transport::FingerprintLine;
pub use transport::{Fingerprint, FingerprintAlgorithm, Group, Setup};

/// The attributes this crate models, recognised by name when a description is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum AttrKind {
    Other,
    Mid,
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
    RtcpMux,
    RtcpRsize,
    Rtpmap,
    Fmtp,
    RtcpFb,
    Extmap,
    ExtmapAllowMixed,
    Ssrc,
    SsrcGroup,
    Msid,
    MsidSemantic,
    Rid,
    Simulcast,
    IceUfrag,
    IcePwd,
    IceOptions,
    IceLite,
    Candidate,
    EndOfCandidates,
    Fingerprint,
    Setup,
    SctpPort,
    MaxMessageSize,
    Group,
}

impl AttrKind {
    /// Recognises an attribute name (case-sensitive, as RFC 8866 §6 names are).
    ///
    /// Dispatches on the length first so that each name is compared with at most a few
    /// candidates of the same length.
    pub(crate) fn from_name(name: &str) -> Self {
        match name.len() {
            3 => match name {
                "mid" => Self::Mid,
                "rid" => Self::Rid,
                _ => Self::Other,
            },
            4 => match name {
                "fmtp" => Self::Fmtp,
                "ssrc" => Self::Ssrc,
                "msid" => Self::Msid,
                _ => Self::Other,
            },
            5 => match name {
                "setup" => Self::Setup,
                "group" => Self::Group,
                _ => Self::Other,
            },
            6 => match name {
                "rtpmap" => Self::Rtpmap,
                "extmap" => Self::Extmap,
                _ => Self::Other,
            },
            7 => match name {
                "rtcp-fb" => Self::RtcpFb,
                "ice-pwd" => Self::IcePwd,
                _ => Self::Other,
            },
            8 => match name {
                "sendrecv" => Self::SendRecv,
                "sendonly" => Self::SendOnly,
                "recvonly" => Self::RecvOnly,
                "inactive" => Self::Inactive,
                "rtcp-mux" => Self::RtcpMux,
                "ice-lite" => Self::IceLite,
                _ => Self::Other,
            },
            9 => match name {
                "candidate" => Self::Candidate,
                "ice-ufrag" => Self::IceUfrag,
                "simulcast" => Self::Simulcast,
                "sctp-port" => Self::SctpPort,
                _ => Self::Other,
            },
            10 => match name {
                "rtcp-rsize" => Self::RtcpRsize,
                "ssrc-group" => Self::SsrcGroup,
                _ => Self::Other,
            },
            11 => match name {
                "fingerprint" => Self::Fingerprint,
                "ice-options" => Self::IceOptions,
                _ => Self::Other,
            },
            13 if name == "msid-semantic" => Self::MsidSemantic,
            16 if name == "max-message-size" => Self::MaxMessageSize,
            17 if name == "end-of-candidates" => Self::EndOfCandidates,
            18 if name == "extmap-allow-mixed" => Self::ExtmapAllowMixed,
            _ => Self::Other,
        }
    }

    /// The field name used in errors, e.g. `"a=mid"`.
    pub(crate) fn field(self) -> &'static str {
        match self {
            Self::Other => "attribute",
            Self::Mid => "a=mid",
            Self::SendRecv | Self::SendOnly | Self::RecvOnly | Self::Inactive => "direction",
            Self::RtcpMux => "a=rtcp-mux",
            Self::RtcpRsize => "a=rtcp-rsize",
            Self::Rtpmap => "a=rtpmap",
            Self::Fmtp => "a=fmtp",
            Self::RtcpFb => "a=rtcp-fb",
            Self::Extmap => "a=extmap",
            Self::ExtmapAllowMixed => "a=extmap-allow-mixed",
            Self::Ssrc => "a=ssrc",
            Self::SsrcGroup => "a=ssrc-group",
            Self::Msid => "a=msid",
            Self::MsidSemantic => "a=msid-semantic",
            Self::Rid => "a=rid",
            Self::Simulcast => "a=simulcast",
            Self::IceUfrag => "a=ice-ufrag",
            Self::IcePwd => "a=ice-pwd",
            Self::IceOptions => "a=ice-options",
            Self::IceLite => "a=ice-lite",
            Self::Candidate => "a=candidate",
            Self::EndOfCandidates => "a=end-of-candidates",
            Self::Fingerprint => "a=fingerprint",
            Self::Setup => "a=setup",
            Self::SctpPort => "a=sctp-port",
            Self::MaxMessageSize => "a=max-message-size",
            Self::Group => "a=group",
        }
    }

    /// Whether the attribute is a property flag (no value).
    pub(crate) fn is_flag(self) -> bool {
        matches!(
            self,
            Self::SendRecv
                | Self::SendOnly
                | Self::RecvOnly
                | Self::Inactive
                | Self::RtcpMux
                | Self::RtcpRsize
                | Self::ExtmapAllowMixed
                | Self::IceLite
                | Self::EndOfCandidates
        )
    }

    /// Whether the attribute may appear at most once in a section. Direction attributes
    /// are checked together by the parser.
    pub(crate) fn is_single(self) -> bool {
        matches!(
            self,
            Self::Mid
                | Self::RtcpMux
                | Self::RtcpRsize
                | Self::ExtmapAllowMixed
                | Self::MsidSemantic
                | Self::Simulcast
                | Self::IceUfrag
                | Self::IcePwd
                | Self::IceOptions
                | Self::IceLite
                | Self::EndOfCandidates
                | Self::Setup
                | Self::SctpPort
                | Self::MaxMessageSize
        )
    }

    /// Checks a value against the attribute's grammar without keeping the result.
    pub(crate) fn validate(self, value: Option<&str>) -> Result<(), Bad> {
        if self.is_flag() {
            return match value {
                None => Ok(()),
                Some(_) => Err(Bad("this attribute takes no value")),
            };
        }
        if self == Self::Other {
            return Ok(());
        }
        let v = value.ok_or(Bad("missing value"))?;
        match self {
            Self::Mid => token(v).map(drop),
            Self::Rtpmap => RtpMap::parse_value(v).map(drop),
            Self::Fmtp => Fmtp::validate(v),
            Self::RtcpFb => RtcpFb::parse_value(v).map(drop),
            Self::Extmap => Extmap::parse_value(v).map(drop),
            Self::Ssrc => SsrcAttribute::parse_value(v).map(drop),
            Self::SsrcGroup => SsrcGroup::validate(v),
            Self::Msid => Msid::parse_value(v).map(drop),
            Self::MsidSemantic => MsidSemantic::validate(v),
            Self::Rid => Rid::validate(v),
            Self::Simulcast => Simulcast::validate(v),
            Self::IceUfrag | Self::IcePwd => ice_chars(v).map(drop),
            Self::IceOptions => tokens(v).map(drop),
            Self::Candidate => Candidate::validate(v),
            Self::Fingerprint => FingerprintLine::validate(v),
            Self::Setup => Setup::parse(v).map(drop),
            Self::SctpPort => number::<u16>(v).map(drop),
            Self::MaxMessageSize => number::<u64>(v).map(drop),
            Self::Group => Group::validate(v),
            _ => Ok(()),
        }
    }
}

/// An attribute as written: `a=<name>` or `a=<name>:<value>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute<'a> {
    /// The name, e.g. `"rtcp"`.
    pub name: Cow<'a, str>,
    /// The value after the colon, if any.
    pub value: Option<Cow<'a, str>>,
}

impl<'a> Attribute<'a> {
    /// An attribute with a value, `a=<name>:<value>`.
    pub fn new(name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) -> Self {
        Self {
            name: name.into(),
            value: Some(value.into()),
        }
    }

    /// A property attribute without a value, `a=<name>`.
    pub fn flag(name: impl Into<Cow<'a, str>>) -> Self {
        Self {
            name: name.into(),
            value: None,
        }
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Attribute<'static> {
        Attribute {
            name: Cow::Owned(self.name.into_owned()),
            value: self.value.map(|v| Cow::Owned(v.into_owned())),
        }
    }
}

impl fmt::Display for Attribute<'_> {
    /// Writes the whole line content, `a=` excluded: `<name>[:<value>]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}:{v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The media direction attribute (RFC 8866 §6.7; RFC 3264).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv`, the default when none is given.
    #[default]
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction as seen from the other side (send and receive swapped).
    #[must_use]
    pub fn reverse(self) -> Self {
        match self {
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            d => d,
        }
    }

    pub(crate) fn from_kind(kind: AttrKind) -> Option<Self> {
        match kind {
            AttrKind::SendRecv => Some(Self::SendRecv),
            AttrKind::SendOnly => Some(Self::SendOnly),
            AttrKind::RecvOnly => Some(Self::RecvOnly),
            AttrKind::Inactive => Some(Self::Inactive),
            _ => None,
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Bad> {
        match s {
            "sendrecv" => Ok(Self::SendRecv),
            "sendonly" => Ok(Self::SendOnly),
            "recvonly" => Ok(Self::RecvOnly),
            "inactive" => Ok(Self::Inactive),
            _ => Err(Bad("unknown direction")),
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest decimal number accepted anywhere (`u64::MAX` has 20 digits).
const MAX_DIGITS: usize = 20;

/// Parses an unsigned decimal number: digits only (no sign, no spaces).
pub(crate) fn number<T: std::str::FromStr>(s: &str) -> Result<T, Bad> {
    if s.is_empty() || s.len() > MAX_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Bad("expected a decimal number"));
    }
    s.parse().map_err(|_| Bad("number out of range"))
}

/// RFC 8866 `token-char`: letters, digits and ``!#$%&'*+-.^_`{|}~``.
pub(crate) fn is_token_char(b: u8) -> bool {
    TOKEN_CHARS[usize::from(b)]
}

/// Lookup table for [`is_token_char`].
static TOKEN_CHARS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
            );
        i += 1;
    }
    t
};

/// Checks that `s` is a non-empty token.
pub(crate) fn token(s: &str) -> Result<&str, Bad> {
    if !s.is_empty() && s.bytes().all(is_token_char) {
        Ok(s)
    } else {
        Err(Bad("expected a token"))
    }
}

/// Checks a space-separated list of tokens (at least one).
pub(crate) fn tokens(s: &str) -> Result<(), Bad> {
    let mut n = 0usize;
    for t in s.split_ascii_whitespace() {
        token(t)?;
        n += 1;
    }
    if n == 0 {
        Err(Bad("expected at least one token"))
    } else {
        Ok(())
    }
}

/// RFC 8839 `ice-char` (ALPHA / DIGIT / "+" / "/"), used by ufrag, password and foundation.
pub(crate) fn ice_chars(s: &str) -> Result<&str, Bad> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    {
        Ok(s)
    } else {
        Err(Bad("expected ice-chars (letters, digits, '+', '/')"))
    }
}

/// Copies a `Cow`'s text if borrowed, for the `into_owned` methods.
pub(crate) fn owned(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

/// Splits at the first `sep` (an ASCII byte), like `str::split_once` without the generic
/// char searcher, which costs a `memcmp` per match.
pub(crate) fn cut(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// Splits at every `sep` (an ASCII byte), like `str::split`.
pub(crate) fn fields(s: &str, sep: u8) -> Fields<'_> {
    Fields { rest: Some(s), sep }
}

/// Iterator of [`fields`].
#[derive(Debug, Clone)]
pub(crate) struct Fields<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let r = self.rest?;
        match cut(r, self.sep) {
            Some((head, tail)) => {
                self.rest = Some(tail);
                Some(head)
            }
            None => {
                self.rest = None;
                Some(r)
            }
        }
    }
}
