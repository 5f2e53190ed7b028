//! Stream identification: `a=ssrc`, `a=ssrc-group` (RFC 5576), `a=msid`, `a=msid-semantic`
//! (RFC 8830), `a=rid` (RFC 8851) and `a=simulcast` (RFC 8853).

use std::borrow::Cow;
use std::fmt;

use super::{cut, fields, number, owned, token};
use crate::error::Bad;

/// Most SSRCs in one `a=ssrc-group`, ids in one `a=msid-semantic`, streams and
/// alternatives in one `a=simulcast`, parameters in one `a=rid`.
const MAX_LIST: usize = 64;

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SsrcAttribute<'a> {
    /// The synchronisation source.
    pub ssrc: u32,
    /// Source attribute name, e.g. `"cname"`, `"msid"`.
    pub name: Cow<'a, str>,
    /// Its value, when given.
    pub value: Option<Cow<'a, str>>,
}

impl<'a> SsrcAttribute<'a> {
    /// A source attribute with a value, e.g. `SsrcAttribute::new(1, "cname", "x")`.
    pub fn new(ssrc: u32, name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) -> Self {
        Self {
            ssrc,
            name: name.into(),
            value: Some(value.into()),
        }
    }

    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        let (ssrc, attr) = cut(v, b' ').ok_or(Bad("expected '<ssrc> <attribute>'"))?;
        let ssrc = number(ssrc)?;
        let (name, value) = match cut(attr, b':') {
            Some((n, v)) => (n, Some(Cow::Borrowed(v))),
            None => (attr, None),
        };
        token(name)?;
        Ok(Self {
            ssrc,
            name: Cow::Borrowed(name),
            value,
        })
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> SsrcAttribute<'static> {
        SsrcAttribute {
            ssrc: self.ssrc,
            name: owned(self.name),
            value: self.value.map(owned),
        }
    }
}

impl fmt::Display for SsrcAttribute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ssrc, self.name)?;
        if let Some(v) = &self.value {
            write!(f, ":{v}")?;
        }
        Ok(())
    }
}

/// `a=ssrc-group:<semantics> <ssrc>...` (RFC 5576 §4.2), e.g. `FID` pairing a stream with its
/// retransmissions, `SIM` for simulcast layers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SsrcGroup<'a> {
    /// The semantics, e.g. `"FID"`, `"FEC-FR"`, `"SIM"`.
    pub semantics: Cow<'a, str>,
    /// The sources, in order.
    pub ssrcs: Vec<u32>,
}

impl<'a> SsrcGroup<'a> {
    /// A group of sources.
    pub fn new(semantics: impl Into<Cow<'a, str>>, ssrcs: impl Into<Vec<u32>>) -> Self {
        Self {
            semantics: semantics.into(),
            ssrcs: ssrcs.into(),
        }
    }

    pub(crate) fn validate(v: &str) -> Result<(), Bad> {
        let mut it = fields(v, b' ');
        token(it.next().unwrap_or(""))?;
        let mut n = 0usize;
        for s in it {
            number::<u32>(s)?;
            n += 1;
            if n > MAX_LIST {
                return Err(Bad("too many sources"));
            }
        }
        Ok(())
    }

    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        Self::validate(v)?;
        let mut it = fields(v, b' ');
        let semantics = Cow::Borrowed(it.next().unwrap_or(""));
        let ssrcs = it.filter_map(|s| s.parse().ok()).collect();
        Ok(Self { semantics, ssrcs })
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> SsrcGroup<'static> {
        SsrcGroup {
            semantics: owned(self.semantics),
            ssrcs: self.ssrcs,
        }
    }
}

impl fmt::Display for SsrcGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        for s in &self.ssrcs {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830 §2): the media stream a track belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Msid<'a> {
    /// The stream id (`-` for no stream).
    pub stream: Cow<'a, str>,
    /// The track id ("appdata"), when given.
    pub track: Option<Cow<'a, str>>,
}

impl<'a> Msid<'a> {
    /// A stream and track id pair.
    pub fn new(stream: impl Into<Cow<'a, str>>, track: impl Into<Cow<'a, str>>) -> Self {
        Self {
            stream: stream.into(),
            track: Some(track.into()),
        }
    }

    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        let (stream, track) = match cut(v, b' ') {
            Some((s, t)) => (s, Some(t)),
            None => (v, None),
        };
        for id in std::iter::once(stream).chain(track) {
            if id.len() > 64 {
                return Err(Bad("id longer than 64 characters"));
            }
            token(id)?;
        }
        Ok(Self {
            stream: Cow::Borrowed(stream),
            track: track.map(Cow::Borrowed),
        })
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Msid<'static> {
        Msid {
            stream: owned(self.stream),
            track: self.track.map(owned),
        }
    }
}

impl fmt::Display for Msid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stream)?;
        if let Some(t) = &self.track {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

/// Session-level `a=msid-semantic:<semantic> [<id>...]`, e.g. `WMS *` (a legacy form browsers
/// still send; Chromium writes a space after the colon, which is accepted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MsidSemantic<'a> {
    /// The semantic, usually `"WMS"`.
    pub semantic: Cow<'a, str>,
    /// Stream ids, or `*`.
    pub ids: Vec<Cow<'a, str>>,
}

impl<'a> MsidSemantic<'a> {
    pub(crate) fn validate(v: &str) -> Result<(), Bad> {
        let mut it = v.split_ascii_whitespace();
        token(it.next().unwrap_or(""))?;
        for (n, id) in it.enumerate() {
            token(id)?;
            if n >= MAX_LIST {
                return Err(Bad("too many ids"));
            }
        }
        Ok(())
    }

    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        Self::validate(v)?;
        let mut it = v.split_ascii_whitespace().map(Cow::Borrowed);
        let semantic = it.next().unwrap_or_default();
        Ok(Self {
            semantic,
            ids: it.collect(),
        })
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> MsidSemantic<'static> {
        MsidSemantic {
            semantic: owned(self.semantic),
            ids: self.ids.into_iter().map(owned).collect(),
        }
    }
}

impl fmt::Display for MsidSemantic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantic)?;
        for id in &self.ids {
            write!(f, " {id}")?;
        }
        Ok(())
    }
}

/// Direction of an RTP stream identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RidDirection {
    /// `send`.
    Send,
    /// `recv`.
    Recv,
}

impl RidDirection {
    /// The token as written in SDP.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Recv => "recv",
        }
    }
}

/// `a=rid:<id> <send|recv> [pt=<fmt>,...;][<restriction>;...]` (RFC 8851 §10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rid<'a> {
    /// The RTP stream id: letters, digits, `-` and `_`.
    pub id: Cow<'a, str>,
    /// Direction.
    pub direction: RidDirection,
    /// Payload types the stream may use (`pt=`); empty means any.
    pub payload_types: Vec<u8>,
    /// Restrictions in order, e.g. `("max-width", Some("1280"))`.
    pub restrictions: Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>,
}

impl<'a> Rid<'a> {
    /// A stream id without payload types or restrictions.
    pub fn new(id: impl Into<Cow<'a, str>>, direction: RidDirection) -> Self {
        Self {
            id: id.into(),
            direction,
            payload_types: Vec::new(),
            restrictions: Vec::new(),
        }
    }

    /// Adds a restriction, e.g. `("max-fps", Some("30"))`.
    #[must_use]
    pub fn with_restriction(
        mut self,
        name: impl Into<Cow<'a, str>>,
        value: Option<impl Into<Cow<'a, str>>>,
    ) -> Self {
        self.restrictions.push((name.into(), value.map(Into::into)));
        self
    }

    pub(crate) fn validate(v: &str) -> Result<(), Bad> {
        Rid::parse_value(v).map(drop)
    }

    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        let (id, rest) = cut(v, b' ').unwrap_or((v, ""));
        if !is_rid_id(id) {
            return Err(Bad("rid id is not letters, digits, '-' and '_'"));
        }
        let (dir, params) = match cut(rest, b' ') {
            Some((d, p)) => (d, Some(p)),
            None => (rest, None),
        };
        let direction = match dir {
            "send" => RidDirection::Send,
            "recv" => RidDirection::Recv,
            _ => return Err(Bad("expected 'send' or 'recv'")),
        };
        let mut rid = Self::new(Cow::Borrowed(id), direction);
        let Some(params) = params else {
            return Ok(rid);
        };
        for (i, p) in fields(params, b';').enumerate() {
            if i >= MAX_LIST {
                return Err(Bad("too many parameters"));
            }
            let (name, value) = match cut(p, b'=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            };
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(Bad("invalid parameter name"));
            }
            if name == "pt" && i == 0 {
                for pt in value.unwrap_or("").split(',') {
                    let pt = number::<u8>(pt)?;
                    if pt > 127 {
                        return Err(Bad("payload type above 127"));
                    }
                    rid.payload_types.push(pt);
                }
            } else {
                if value.is_some_and(|v| !v.bytes().all(|b| b.is_ascii_graphic() && b != b';')) {
                    return Err(Bad("invalid parameter value"));
                }
                rid.restrictions
                    .push((Cow::Borrowed(name), value.map(Cow::Borrowed)));
            }
        }
        Ok(rid)
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Rid<'static> {
        Rid {
            id: owned(self.id),
            direction: self.direction,
            payload_types: self.payload_types,
            restrictions: self
                .restrictions
                .into_iter()
                .map(|(n, v)| (owned(n), v.map(owned)))
                .collect(),
        }
    }
}

fn is_rid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl fmt::Display for Rid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.direction.as_str())?;
        let mut sep = ' ';
        if !self.payload_types.is_empty() {
            f.write_str(" pt=")?;
            for (i, pt) in self.payload_types.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{pt}")?;
            }
            sep = ';';
        }
        for (n, v) in &self.restrictions {
            write!(f, "{sep}{n}")?;
            if let Some(v) = v {
                write!(f, "={v}")?;
            }
            sep = ';';
        }
        Ok(())
    }
}

/// One entry of a simulcast list: a rid, possibly paused (`~`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimulcastRid<'a> {
    /// The rid, as in an `a=rid` line of the section.
    pub id: Cow<'a, str>,
    /// Whether the stream starts paused.
    pub paused: bool,
}

/// `a=simulcast:[send <list>] [recv <list>]` (RFC 8853 §5.1).
///
/// Each list holds simulcast streams in order (separated by `;` in SDP); each stream holds
/// one or more alternative rids (separated by `,`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Simulcast<'a> {
    /// Streams sent.
    pub send: Vec<Vec<SimulcastRid<'a>>>,
    /// Streams received.
    pub recv: Vec<Vec<SimulcastRid<'a>>>,
}

impl<'a> Simulcast<'a> {
    /// Send simulcast of the given rids, one alternative each, none paused.
    pub fn send<S: Into<Cow<'a, str>>>(rids: impl IntoIterator<Item = S>) -> Self {
        Self {
            send: rids
                .into_iter()
                .map(|id| {
                    vec![SimulcastRid {
                        id: id.into(),
                        paused: false,
                    }]
                })
                .collect(),
            recv: Vec::new(),
        }
    }

    pub(crate) fn validate(v: &str) -> Result<(), Bad> {
        Simulcast::parse_value(v).map(drop)
    }

    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        let mut sc = Self::default();
        let mut it = fields(v, b' ');
        let mut seen = 0usize;
        while let Some(dir) = it.next() {
            let list = match dir {
                "send" if sc.send.is_empty() => &mut sc.send,
                "recv" if sc.recv.is_empty() => &mut sc.recv,
                _ => return Err(Bad("expected 'send <list>' or 'recv <list>', once each")),
            };
            let items = it.next().ok_or(Bad("missing list"))?;
            for stream in fields(items, b';') {
                let mut alts = Vec::new();
                for alt in fields(stream, b',') {
                    seen += 1;
                    if seen > MAX_LIST {
                        return Err(Bad("too many streams"));
                    }
                    let (id, paused) = match alt.strip_prefix('~') {
                        Some(id) => (id, true),
                        None => (alt, false),
                    };
                    if !is_rid_id(id) {
                        return Err(Bad("rid id is not letters, digits, '-' and '_'"));
                    }
                    alts.push(SimulcastRid {
                        id: Cow::Borrowed(id),
                        paused,
                    });
                }
                list.push(alts);
            }
        }
        if sc.send.is_empty() && sc.recv.is_empty() {
            return Err(Bad("expected 'send <list>' or 'recv <list>', once each"));
        }
        Ok(sc)
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Simulcast<'static> {
        let own = |l: Vec<Vec<SimulcastRid<'_>>>| {
            l.into_iter()
                .map(|alts| {
                    alts.into_iter()
                        .map(|r| SimulcastRid {
                            id: owned(r.id),
                            paused: r.paused,
                        })
                        .collect()
                })
                .collect()
        };
        Simulcast {
            send: own(self.send),
            recv: own(self.recv),
        }
    }
}

impl fmt::Display for Simulcast<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (dir, list) in [("send", &self.send), ("recv", &self.recv)] {
            if list.is_empty() {
                continue;
            }
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{dir} ")?;
            for (i, alts) in list.iter().enumerate() {
                if i > 0 {
                    f.write_str(";")?;
                }
                for (j, r) in alts.iter().enumerate() {
                    if j > 0 {
                        f.write_str(",")?;
                    }
                    if r.paused {
                        f.write_str("~")?;
                    }
                    f.write_str(&r.id)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rid_with_payload_types_and_restrictions() {
        let r = Rid::parse_value("hi send pt=96,97;max-width=1280;max-height=720").unwrap();
        assert_eq!(r.id, "hi");
        assert_eq!(r.direction, RidDirection::Send);
        assert_eq!(r.payload_types, [96, 97]);
        assert_eq!(r.restrictions.len(), 2);
        assert_eq!(
            r.restrictions[0],
            (Cow::Borrowed("max-width"), Some(Cow::Borrowed("1280")))
        );
        assert_eq!(
            r.to_string(),
            "hi send pt=96,97;max-width=1280;max-height=720"
        );
        let bare = Rid::parse_value("lo recv").unwrap();
        assert!(bare.payload_types.is_empty() && bare.restrictions.is_empty());
        assert_eq!(
            Rid::parse_value("lo both"),
            Err(Bad("expected 'send' or 'recv'"))
        );
    }

    #[test]
    fn simulcast_rfc8853_example() {
        // RFC 8853 §5.1 example.
        let s = Simulcast::parse_value("send 1,~4;2;3 recv c").unwrap();
        assert_eq!(s.send.len(), 3);
        assert_eq!(s.send[0].len(), 2);
        assert!(s.send[0][1].paused);
        assert_eq!(s.send[0][1].id, "4");
        assert_eq!(s.recv[0][0].id, "c");
        assert_eq!(s.to_string(), "send 1,~4;2;3 recv c");
        assert!(Simulcast::parse_value("send 1 send 2").is_err());
        assert!(Simulcast::parse_value("both 1").is_err());
    }

    #[test]
    fn ssrc_forms() {
        let a = SsrcAttribute::parse_value("2441431117 msid:stream track").unwrap();
        assert_eq!(a.ssrc, 2_441_431_117);
        assert_eq!(a.name, "msid");
        assert_eq!(a.value.as_deref(), Some("stream track"));
        let g = SsrcGroup::parse_value("FID 3452079219 4240549536").unwrap();
        assert_eq!(g.ssrcs, [3_452_079_219, 4_240_549_536]);
        assert_eq!(g.to_string(), "FID 3452079219 4240549536");
        assert!(SsrcGroup::parse_value("FID 1 x").is_err());
    }

    #[test]
    fn msid_semantic_with_leading_space() {
        let m = MsidSemantic::parse_value(" WMS a b").unwrap();
        assert_eq!(m.semantic, "WMS");
        assert_eq!(m.ids, [Cow::Borrowed("a"), Cow::Borrowed("b")]);
    }
}
