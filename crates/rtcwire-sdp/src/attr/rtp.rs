//! RTP payload and header-extension attributes: `a=rtpmap`, `a=fmtp` (RFC 8866 §6.6, §6.15),
//! `a=rtcp-fb` (RFC 4585 §4.2), `a=extmap` (RFC 8285 §5), and the [`Codec`] that joins the
//! first three by payload type.

use std::borrow::Cow;
use std::fmt;

use super::{cut, fields, number, owned, token, Direction};
use crate::error::Bad;

/// Parses an RTP payload type (0–127).
fn payload_type(s: &str) -> Result<u8, Bad> {
    let pt = number::<u8>(s)?;
    if pt > 127 {
        return Err(Bad("payload type above 127"));
    }
    Ok(pt)
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtpMap<'a> {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written, e.g. `"opus"`, `"VP8"`.
    pub encoding: Cow<'a, str>,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters: the channel count for audio.
    pub channels: Option<u16>,
}

impl<'a> RtpMap<'a> {
    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        let (pt, rest) = cut(v, b' ').ok_or(Bad("expected '<pt> <encoding>/<rate>'"))?;
        let payload_type = payload_type(pt)?;
        let (encoding, rate) = cut(rest, b'/').unwrap_or((rest, ""));
        let encoding = token(encoding)?;
        if rate.is_empty() {
            return Err(Bad("missing clock rate"));
        }
        let (rate, channels) = match cut(rate, b'/') {
            Some((r, c)) => (r, Some(number(c)?)),
            None => (rate, None),
        };
        let clock_rate = number(rate)?;
        Ok(Self {
            payload_type,
            encoding: Cow::Borrowed(encoding),
            clock_rate,
            channels,
        })
    }
}

impl fmt::Display for RtpMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(c) = self.channels {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// `a=fmtp:<format> <parameters>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fmtp<'a> {
    /// The format (payload type) the parameters apply to.
    pub payload_type: u8,
    /// Format-specific parameters as written, e.g. `"minptime=10;useinbandfec=1"`.
    pub params: Cow<'a, str>,
}

impl<'a> Fmtp<'a> {
    /// Validates `<fmt> <params>`; the format need not be numeric (non-RTP media).
    pub(crate) fn validate(v: &str) -> Result<(), Bad> {
        let (fmt, params) = cut(v, b' ').ok_or(Bad("expected '<format> <parameters>'"))?;
        token(fmt)?;
        if params.is_empty() {
            return Err(Bad("empty parameters"));
        }
        Ok(())
    }

    /// Parses the RTP form, whose format is a payload type.
    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        let (pt, params) = cut(v, b' ').ok_or(Bad("expected '<format> <parameters>'"))?;
        if params.is_empty() {
            return Err(Bad("empty parameters"));
        }
        Ok(Self {
            payload_type: payload_type(pt)?,
            params: Cow::Borrowed(params),
        })
    }
}

impl fmt::Display for Fmtp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.payload_type, self.params)
    }
}

/// `a=rtcp-fb:<pt>|* <feedback>` (RFC 4585 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtcpFb<'a> {
    /// The payload type, or `None` for `*` (every payload type of the section).
    pub payload_type: Option<u8>,
    /// The feedback type with its parameters, e.g. `"nack"`, `"nack pli"`, `"ccm fir"`.
    pub feedback: Cow<'a, str>,
}

impl<'a> RtcpFb<'a> {
    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        let (pt, fb) = cut(v, b' ').ok_or(Bad("expected '<pt> <feedback>'"))?;
        let payload_type = if pt == "*" {
            None
        } else {
            Some(payload_type(pt)?)
        };
        token(fields(fb, b' ').next().unwrap_or(""))?;
        Ok(Self {
            payload_type,
            feedback: Cow::Borrowed(fb),
        })
    }
}

impl fmt::Display for RtcpFb<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload_type {
            Some(pt) => write!(f, "{pt} {}", self.feedback),
            None => write!(f, "* {}", self.feedback),
        }
    }
}

/// A codec: one payload type with its `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines joined.
///
/// Reading a media section yields one codec per payload type of the `m=` line that has an
/// `a=rtpmap` (or is a static payload type of RFC 3551 with a well-known mapping), in `m=`
/// order, then one per `a=rtpmap` of a payload type the `m=` line does not list, in line
/// order. The first `a=fmtp` of a payload type gives its parameters; `rtcp-fb` lines for `*`
/// are added to every codec's feedback when a section has at most
/// [`MAX_WILDCARD_FEEDBACK`](crate::MAX_WILDCARD_FEEDBACK) of them (a section with more keeps
/// them among its attributes, as written: one line cannot become thousands of entries).
/// Writing emits `rtpmap`, then each `rtcp-fb`, then `fmtp`, as browsers do.
///
/// ```
/// use rtcwire_sdp::Codec;
///
/// let opus = Codec::new(111, "opus", 48_000)
///     .with_channels(2)
///     .with_fmtp("minptime=10;useinbandfec=1")
///     .with_feedback("transport-cc");
/// assert_eq!(opus.fmtp_param("useinbandfec"), Some("1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Codec<'a> {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written, e.g. `"opus"`, `"VP8"`, `"rtx"`.
    pub name: Cow<'a, str>,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count (audio), when given.
    pub channels: Option<u16>,
    /// Format parameters (`a=fmtp`), as written.
    pub fmtp: Option<Cow<'a, str>>,
    /// RTCP feedback types (`a=rtcp-fb`), e.g. `"nack"`, `"nack pli"`, `"transport-cc"`.
    pub feedback: Vec<Cow<'a, str>>,
}

impl<'a> Codec<'a> {
    /// A codec with no channel count, parameters or feedback.
    pub fn new(payload_type: u8, name: impl Into<Cow<'a, str>>, clock_rate: u32) -> Self {
        Self {
            payload_type,
            name: name.into(),
            clock_rate,
            channels: None,
            fmtp: None,
            feedback: Vec::new(),
        }
    }

    /// Sets the channel count.
    #[must_use]
    pub fn with_channels(mut self, channels: u16) -> Self {
        self.channels = Some(channels);
        self
    }

    /// Sets the format parameters.
    #[must_use]
    pub fn with_fmtp(mut self, params: impl Into<Cow<'a, str>>) -> Self {
        self.fmtp = Some(params.into());
        self
    }

    /// Adds an RTCP feedback type.
    #[must_use]
    pub fn with_feedback(mut self, fb: impl Into<Cow<'a, str>>) -> Self {
        self.feedback.push(fb.into());
        self
    }

    /// The `key=value` pairs of the format parameters, split on `;` (a key without `=` has
    /// an empty value).
    pub fn fmtp_params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fmtp
            .as_deref()
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| cut(p, b'=').unwrap_or((p, "")))
    }

    /// The value of one format parameter.
    #[must_use]
    pub fn fmtp_param(&self, key: &str) -> Option<&str> {
        self.fmtp_params().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// For a retransmission codec (`rtx`), the payload type it repairs (`apt`).
    #[must_use]
    pub fn rtx_apt(&self) -> Option<u8> {
        if !self.name.eq_ignore_ascii_case("rtx") {
            return None;
        }
        self.fmtp_param("apt").and_then(|v| payload_type(v).ok())
    }

    /// The `a=rtpmap` line of this codec.
    #[must_use]
    pub fn rtpmap(&self) -> RtpMap<'_> {
        RtpMap {
            payload_type: self.payload_type,
            encoding: Cow::Borrowed(&self.name),
            clock_rate: self.clock_rate,
            channels: self.channels,
        }
    }

    /// The codec for an `a=rtpmap` line, without parameters or feedback.
    pub(crate) fn from_rtpmap(m: RtpMap<'a>) -> Self {
        Self {
            payload_type: m.payload_type,
            name: m.encoding,
            clock_rate: m.clock_rate,
            channels: m.channels,
            fmtp: None,
            feedback: Vec::new(),
        }
    }

    /// The well-known static payload types of RFC 3551 §6 that WebRTC endpoints send
    /// without an `a=rtpmap`.
    pub(crate) fn static_type(pt: u8) -> Option<Self> {
        let (name, rate, ch) = match pt {
            0 => ("PCMU", 8000, Some(1)),
            3 => ("GSM", 8000, Some(1)),
            4 => ("G723", 8000, Some(1)),
            8 => ("PCMA", 8000, Some(1)),
            9 => ("G722", 8000, Some(1)),
            13 => ("CN", 8000, Some(1)),
            18 => ("G729", 8000, Some(1)),
            _ => return None,
        };
        Some(Self {
            channels: ch,
            ..Self::new(pt, name, rate)
        })
    }

    /// Copies borrowed text so the codec outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Codec<'static> {
        Codec {
            payload_type: self.payload_type,
            name: owned(self.name),
            clock_rate: self.clock_rate,
            channels: self.channels,
            fmtp: self.fmtp.map(owned),
            feedback: self.feedback.into_iter().map(owned).collect(),
        }
    }
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Extmap<'a> {
    /// Local identifier: 1–14 for one-byte headers, up to 255 with two-byte headers.
    pub id: u16,
    /// Direction, when given.
    pub direction: Option<Direction>,
    /// The extension's URI.
    pub uri: Cow<'a, str>,
    /// Extension attributes, when given.
    pub attributes: Option<Cow<'a, str>>,
}

impl<'a> Extmap<'a> {
    /// A mapping without direction or attributes.
    pub fn new(id: u16, uri: impl Into<Cow<'a, str>>) -> Self {
        Self {
            id,
            direction: None,
            uri: uri.into(),
            attributes: None,
        }
    }

    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        let (head, rest) = cut(v, b' ').ok_or(Bad("expected '<id> <uri>'"))?;
        let (id, direction) = match cut(head, b'/') {
            Some((id, d)) => (id, Some(Direction::parse(d)?)),
            None => (head, None),
        };
        let id = number::<u16>(id)?;
        if id == 0 || id > 4351 {
            return Err(Bad("extension id out of range"));
        }
        let (uri, attributes) = match cut(rest, b' ') {
            Some((u, a)) => (u, Some(Cow::Borrowed(a))),
            None => (rest, None),
        };
        if uri.is_empty() || !uri.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Bad("invalid URI"));
        }
        Ok(Self {
            id,
            direction,
            uri: Cow::Borrowed(uri),
            attributes,
        })
    }

    /// Copies borrowed text so the mapping outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Extmap<'static> {
        Extmap {
            id: self.id,
            direction: self.direction,
            uri: owned(self.uri),
            attributes: self.attributes.map(owned),
        }
    }
}

impl fmt::Display for Extmap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(d) = self.direction {
            write!(f, "/{d}")?;
        }
        write!(f, " {}", self.uri)?;
        if let Some(a) = &self.attributes {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtpmap_forms() {
        let m = RtpMap::parse_value("111 opus/48000/2").unwrap();
        assert_eq!(
            (m.payload_type, &*m.encoding, m.clock_rate, m.channels),
            (111, "opus", 48000, Some(2))
        );
        assert_eq!(m.to_string(), "111 opus/48000/2");
        assert_eq!(RtpMap::parse_value("96 VP8/90000").unwrap().channels, None);
        assert_eq!(
            RtpMap::parse_value("128 VP8/90000"),
            Err(Bad("payload type above 127"))
        );
        assert_eq!(
            RtpMap::parse_value("96 VP8"),
            Err(Bad("missing clock rate"))
        );
        assert_eq!(
            RtpMap::parse_value("96"),
            Err(Bad("expected '<pt> <encoding>/<rate>'"))
        );
    }

    #[test]
    fn extmap_forms() {
        let e = Extmap::parse_value("3/sendonly urn:x attr1 attr2").unwrap();
        assert_eq!(e.id, 3);
        assert_eq!(e.direction, Some(Direction::SendOnly));
        assert_eq!(e.uri, "urn:x");
        assert_eq!(e.attributes.as_deref(), Some("attr1 attr2"));
        assert_eq!(e.to_string(), "3/sendonly urn:x attr1 attr2");
        assert_eq!(
            Extmap::parse_value("0 urn:x"),
            Err(Bad("extension id out of range"))
        );
        assert_eq!(
            Extmap::parse_value("1/up urn:x"),
            Err(Bad("unknown direction"))
        );
    }

    #[test]
    fn rtx_and_fmtp_params() {
        let c = Codec::new(97, "rtx", 90000).with_fmtp("apt=96");
        assert_eq!(c.rtx_apt(), Some(96));
        let h = Codec::new(102, "H264", 90000)
            .with_fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
        assert_eq!(h.fmtp_param("profile-level-id"), Some("42001f"));
        assert_eq!(h.rtx_apt(), None);
        assert_eq!(h.fmtp_params().count(), 3);
    }

    #[test]
    fn rtcp_fb_wildcard() {
        let fb = RtcpFb::parse_value("* nack pli").unwrap();
        assert_eq!(fb.payload_type, None);
        assert_eq!(fb.feedback, "nack pli");
        assert_eq!(fb.to_string(), "* nack pli");
    }
}
