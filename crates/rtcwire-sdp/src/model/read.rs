//! [`Sdp`] → [`Description`]: every attribute lands in a typed field or, if the model has
//! no place for it, in `attributes`, so nothing present is silently dropped.

use std::borrow::Cow;

use super::{Description, Media};
use crate::attr::{
    number, AttrKind, Attribute, Candidate, Direction, Extmap, FingerprintLine, Group, Msid,
    MsidSemantic, Rid, Setup, Simulcast, SsrcAttribute, SsrcGroup,
};
use crate::view::{MediaView, Section};
use crate::Sdp;

impl<'a> Description<'a> {
    /// Reads the typed model of a parsed description.
    pub(crate) fn from_sdp(sdp: &'a Sdp) -> Self {
        let session = sdp.session();
        let mut d = Description {
            origin: session.origin(),
            name: Cow::Borrowed(session.name()),
            connection: session.connection(),
            bandwidths: session.bandwidths().collect(),
            timing: session.timing(),
            ..Description::new(0, 0)
        };
        for (kind, attr) in session.section().attributes() {
            let value: &'a str = borrowed(&attr.value);
            match kind {
                AttrKind::Group => d.groups.extend(Group::parse_value(value).ok()),
                AttrKind::MsidSemantic => d.msid_semantic = MsidSemantic::parse_value(value).ok(),
                AttrKind::ExtmapAllowMixed => d.extmap_allow_mixed = true,
                AttrKind::IceLite => d.ice_lite = true,
                AttrKind::IceUfrag => d.ice_ufrag = Some(Cow::Borrowed(value)),
                AttrKind::IcePwd => d.ice_pwd = Some(Cow::Borrowed(value)),
                AttrKind::IceOptions => {
                    d.ice_options = value.split_ascii_whitespace().map(Cow::Borrowed).collect();
                }
                AttrKind::Fingerprint => d
                    .fingerprints
                    .extend(FingerprintLine::parse_value(value).ok()),
                AttrKind::Setup => d.setup = Setup::parse(value).ok(),
                AttrKind::Extmap => d.extmaps.extend(Extmap::parse_value(value).ok()),
                k => match Direction::from_kind(k) {
                    Some(dir) => d.direction = Some(dir),
                    None => d.attributes.push(attr),
                },
            }
        }
        d.media = sdp.media().map(read_media).collect();
        d
    }
}

/// The borrowed text of an attribute value read from a description (always borrowed there).
fn borrowed<'a>(v: &Option<Cow<'a, str>>) -> &'a str {
    match v {
        Some(Cow::Borrowed(b)) => b,
        _ => "",
    }
}

fn read_media(view: MediaView<'_>) -> Media<'_> {
    let sec: Section<'_> = view.section();
    let mut m = Media::new(view.kind(), view.port(), view.proto());
    m.port_count = view.port_count();
    m.formats = view.formats().map(Cow::Borrowed).collect();
    m.connection = sec
        .of_type(b'c')
        .find_map(|v| crate::fields::Connection::parse(v).ok());
    m.bandwidths = view.bandwidths().collect();
    let (codecs, joined) = view.codecs_and_use();
    m.codecs = codecs;
    for (i, l) in sec.lines.iter().enumerate() {
        if l.ty != b'a' {
            continue;
        }
        let (name, value) = sec.sdp.attr_of(l);
        let attr = Attribute {
            name: Cow::Borrowed(name),
            value: value.map(Cow::Borrowed),
        };
        let value = value.unwrap_or_default();
        match l.attr {
            AttrKind::Mid => m.mid = Some(Cow::Borrowed(value)),
            AttrKind::RtcpMux => m.rtcp_mux = true,
            AttrKind::RtcpRsize => m.rtcp_rsize = true,
            // Joined into a codec, or kept as written.
            AttrKind::Rtpmap | AttrKind::Fmtp | AttrKind::RtcpFb => {
                if !joined.get(i).copied().unwrap_or(false) {
                    m.attributes.push(attr);
                }
            }
            AttrKind::Extmap => m.extmaps.extend(Extmap::parse_value(value).ok()),
            AttrKind::ExtmapAllowMixed => m.extmap_allow_mixed = true,
            AttrKind::Ssrc => m.ssrcs.extend(SsrcAttribute::parse_value(value).ok()),
            AttrKind::SsrcGroup => m.ssrc_groups.extend(SsrcGroup::parse_value(value).ok()),
            AttrKind::Msid => m.msids.extend(Msid::parse_value(value).ok()),
            AttrKind::Rid => m.rids.extend(Rid::parse_value(value).ok()),
            AttrKind::Simulcast => m.simulcast = Simulcast::parse_value(value).ok(),
            AttrKind::IceUfrag => m.ice_ufrag = Some(Cow::Borrowed(value)),
            AttrKind::IcePwd => m.ice_pwd = Some(Cow::Borrowed(value)),
            AttrKind::IceOptions => {
                m.ice_options = value.split_ascii_whitespace().map(Cow::Borrowed).collect();
            }
            AttrKind::Candidate => m.candidates.extend(Candidate::parse_value(value).ok()),
            AttrKind::EndOfCandidates => m.end_of_candidates = true,
            AttrKind::Fingerprint => m
                .fingerprints
                .extend(FingerprintLine::parse_value(value).ok()),
            AttrKind::Setup => m.setup = Setup::parse(value).ok(),
            AttrKind::SctpPort => m.sctp_port = number(value).ok(),
            AttrKind::MaxMessageSize => m.max_message_size = number(value).ok(),
            k => match Direction::from_kind(k) {
                Some(d) => m.direction = Some(d),
                None => m.attributes.push(attr),
            },
        }
    }
    m
}
