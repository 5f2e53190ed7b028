//! Typed, borrowing views of the session level and of each media section.
//!
//! Every accessor parses the lines it needs on each call; nothing is cached. The lines were
//! validated when the description was parsed, so accessors have no error path.

use std::borrow::Cow;

use crate::attr::{
    fields, number, AttrKind, Attribute, Candidate, Codec, Direction, Extmap, Fingerprint,
    FingerprintLine, Fmtp, Group, Msid, MsidSemantic, Rid, RtcpFb, RtpMap, Setup, Simulcast,
    SsrcAttribute, SsrcGroup,
};
use crate::fields::{Bandwidth, Connection, MediaKind, MediaLine, Origin, Timing};
use crate::parse::Line;
use crate::Sdp;

/// Lines of one section (the session, or one media section) with shared helpers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Section<'a> {
    pub(crate) sdp: &'a Sdp,
    pub(crate) lines: &'a [Line],
}

impl<'a> Section<'a> {
    /// Values of the attributes of one kind, in order (`""` for a flag).
    pub(crate) fn values(self, kind: AttrKind) -> impl Iterator<Item = &'a str> + 'a {
        self.lines
            .iter()
            .filter(move |l| Sdp::is_attr(l, kind))
            .map(move |l| self.sdp.attr_of(l).1.unwrap_or_default())
    }

    pub(crate) fn first(self, kind: AttrKind) -> Option<&'a str> {
        self.values(kind).next()
    }

    pub(crate) fn has(self, kind: AttrKind) -> bool {
        self.lines.iter().any(|l| Sdp::is_attr(l, kind))
    }

    /// Values of the non-attribute lines of one type.
    pub(crate) fn of_type(self, ty: u8) -> impl Iterator<Item = &'a str> + 'a {
        self.lines
            .iter()
            .filter(move |l| l.ty == ty)
            .map(move |l| self.sdp.value_of(l))
    }

    /// Every attribute, with its kind.
    pub(crate) fn attributes(self) -> impl Iterator<Item = (AttrKind, Attribute<'a>)> + 'a {
        self.lines.iter().filter(|l| l.ty == b'a').map(move |l| {
            let (n, v) = self.sdp.attr_of(l);
            (
                l.attr,
                Attribute {
                    name: Cow::Borrowed(n),
                    value: v.map(Cow::Borrowed),
                },
            )
        })
    }

    fn direction(self) -> Option<Direction> {
        self.lines
            .iter()
            .filter(|l| l.ty == b'a')
            .find_map(|l| Direction::from_kind(l.attr))
    }

    fn parsed<T: 'a>(
        self,
        kind: AttrKind,
        parse: fn(&'a str) -> Result<T, crate::error::Bad>,
    ) -> impl Iterator<Item = T> + 'a {
        self.values(kind).filter_map(move |v| parse(v).ok())
    }

    fn ice_options(self) -> impl Iterator<Item = &'a str> + 'a {
        self.values(AttrKind::IceOptions)
            .flat_map(str::split_ascii_whitespace)
    }
}

/// The session level of a description: everything before the first `m=` line.
#[derive(Debug, Clone, Copy)]
pub struct SessionView<'a> {
    sec: Section<'a>,
}

impl<'a> SessionView<'a> {
    pub(crate) fn new(sdp: &'a Sdp, lines: &'a [Line]) -> Self {
        Self {
            sec: Section { sdp, lines },
        }
    }

    pub(crate) fn section(&self) -> Section<'a> {
        self.sec
    }

    /// `o=`.
    #[must_use]
    pub fn origin(&self) -> Origin<'a> {
        // Present and valid: the parser requires and checks it.
        self.sec
            .of_type(b'o')
            .find_map(|v| Origin::parse(v).ok())
            .unwrap_or_else(|| Origin::new(0, 0))
    }

    /// `s=`, the session name (`-` in WebRTC).
    #[must_use]
    pub fn name(&self) -> &'a str {
        self.sec.of_type(b's').next().unwrap_or_default()
    }

    /// The first `t=`.
    #[must_use]
    pub fn timing(&self) -> Timing {
        self.sec
            .of_type(b't')
            .find_map(|v| Timing::parse(v).ok())
            .unwrap_or_default()
    }

    /// Session-level `c=`.
    #[must_use]
    pub fn connection(&self) -> Option<Connection<'a>> {
        self.sec
            .of_type(b'c')
            .find_map(|v| Connection::parse(v).ok())
    }

    /// Session-level `b=` lines.
    pub fn bandwidths(&self) -> impl Iterator<Item = Bandwidth<'a>> + 'a {
        self.sec
            .of_type(b'b')
            .filter_map(|v| Bandwidth::parse(v).ok())
    }

    /// `a=group` lines, e.g. BUNDLE.
    pub fn groups(&self) -> impl Iterator<Item = Group<'a>> + 'a {
        self.sec.parsed(AttrKind::Group, Group::parse_value)
    }

    /// The mids of the first BUNDLE group.
    #[must_use]
    pub fn bundle(&self) -> Option<Group<'a>> {
        self.groups().find(Group::is_bundle)
    }

    /// `a=msid-semantic`.
    #[must_use]
    pub fn msid_semantic(&self) -> Option<MsidSemantic<'a>> {
        self.sec
            .parsed(AttrKind::MsidSemantic, MsidSemantic::parse_value)
            .next()
    }

    /// Session-level direction attribute, if any.
    #[must_use]
    pub fn direction(&self) -> Option<Direction> {
        self.sec.direction()
    }

    /// `a=extmap-allow-mixed` at session level (RFC 8285 §6).
    #[must_use]
    pub fn extmap_allow_mixed(&self) -> bool {
        self.sec.has(AttrKind::ExtmapAllowMixed)
    }

    /// `a=ice-lite`.
    #[must_use]
    pub fn ice_lite(&self) -> bool {
        self.sec.has(AttrKind::IceLite)
    }

    /// Session-level `a=ice-ufrag`.
    #[must_use]
    pub fn ice_ufrag(&self) -> Option<&'a str> {
        self.sec.first(AttrKind::IceUfrag)
    }

    /// Session-level `a=ice-pwd`.
    #[must_use]
    pub fn ice_pwd(&self) -> Option<&'a str> {
        self.sec.first(AttrKind::IcePwd)
    }

    /// Session-level `a=ice-options` tokens, e.g. `trickle`.
    pub fn ice_options(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.sec.ice_options()
    }

    /// Session-level `a=fingerprint` lines.
    pub fn fingerprints(&self) -> impl Iterator<Item = Fingerprint> + 'a {
        self.sec
            .parsed(AttrKind::Fingerprint, FingerprintLine::parse_value)
    }

    /// Session-level `a=setup`.
    #[must_use]
    pub fn setup(&self) -> Option<Setup> {
        self.sec
            .first(AttrKind::Setup)
            .and_then(|v| Setup::parse(v).ok())
    }

    /// Session-level `a=extmap` lines.
    pub fn extmaps(&self) -> impl Iterator<Item = Extmap<'a>> + 'a {
        self.sec.parsed(AttrKind::Extmap, Extmap::parse_value)
    }

    /// Every session-level attribute in order, modelled or not.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'a>> + 'a {
        self.sec.attributes().map(|(_, a)| a)
    }

    /// The value of the first session-level attribute with this name: `Some(None)` for a
    /// flag, `None` when absent.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<Option<&'a str>> {
        find_attr(self.sec, name)
    }
}

fn find_attr<'a>(sec: Section<'a>, name: &str) -> Option<Option<&'a str>> {
    sec.lines
        .iter()
        .filter(|l| l.ty == b'a')
        .map(|l| sec.sdp.attr_of(l))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// One media section: its `m=` line and what follows up to the next one.
///
/// Accessors for values that may also be given at session level (ICE credentials and
/// options, fingerprints, setup, direction, `c=`, `extmap-allow-mixed`, end-of-candidates)
/// fall back to the session's value when the section has none, as RFC 8866, RFC 8839 and
/// RFC 8122 define.
#[derive(Debug, Clone, Copy)]
pub struct MediaView<'a> {
    sec: Section<'a>,
    session: Section<'a>,
    index: usize,
    line_number: usize,
    line: MediaLine<'a>,
}

impl<'a> MediaView<'a> {
    pub(crate) fn new(sdp: &'a Sdp, lines: &'a [Line], index: usize, line_number: usize) -> Self {
        let m = lines.first().map(|l| sdp.value_of(l)).unwrap_or_default();
        let line = MediaLine::parse(m).unwrap_or(MediaLine {
            kind: "",
            port: 0,
            port_count: None,
            proto: "",
            formats: "",
        });
        Self {
            sec: Section { sdp, lines },
            session: sdp.session().section(),
            index,
            line_number,
            line,
        }
    }

    pub(crate) fn section(&self) -> Section<'a> {
        self.sec
    }

    /// Position of this section among the media sections, from 0.
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The 1-based line number of this section's `m=` line, for messages about it.
    #[must_use]
    pub fn line_number(&self) -> usize {
        self.line_number
    }

    /// The media type.
    #[must_use]
    pub fn kind(&self) -> MediaKind<'a> {
        MediaKind::parse(self.line.kind)
    }

    /// The port of the `m=` line (0 rejects or disables the section).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.line.port
    }

    /// The port count of `m=<media> <port>/<count>`, if given.
    #[must_use]
    pub fn port_count(&self) -> Option<u16> {
        self.line.port_count
    }

    /// The transport protocol, e.g. `UDP/TLS/RTP/SAVPF` or `UDP/DTLS/SCTP`.
    #[must_use]
    pub fn proto(&self) -> &'a str {
        self.line.proto
    }

    /// Whether the protocol carries RTP.
    #[must_use]
    pub fn is_rtp(&self) -> bool {
        fields(self.line.proto, b'/').any(|p| p == "RTP")
    }

    /// The formats of the `m=` line: payload types for RTP, e.g. `webrtc-datachannel` for
    /// SCTP.
    pub fn formats(&self) -> impl Iterator<Item = &'a str> + 'a {
        fields(self.line.formats, b' ')
    }

    /// `c=` of this section, else of the session.
    #[must_use]
    pub fn connection(&self) -> Option<Connection<'a>> {
        self.sec
            .of_type(b'c')
            .chain(self.session.of_type(b'c'))
            .find_map(|v| Connection::parse(v).ok())
    }

    /// `b=` lines of this section.
    pub fn bandwidths(&self) -> impl Iterator<Item = Bandwidth<'a>> + 'a {
        self.sec
            .of_type(b'b')
            .filter_map(|v| Bandwidth::parse(v).ok())
    }

    /// `a=mid`.
    #[must_use]
    pub fn mid(&self) -> Option<&'a str> {
        self.sec.first(AttrKind::Mid)
    }

    /// The direction attribute of this section, else of the session, else `sendrecv`.
    #[must_use]
    pub fn direction(&self) -> Direction {
        self.sec
            .direction()
            .or_else(|| self.session.direction())
            .unwrap_or_default()
    }

    /// `a=rtcp-mux`.
    #[must_use]
    pub fn rtcp_mux(&self) -> bool {
        self.sec.has(AttrKind::RtcpMux)
    }

    /// `a=rtcp-rsize`.
    #[must_use]
    pub fn rtcp_rsize(&self) -> bool {
        self.sec.has(AttrKind::RtcpRsize)
    }

    /// `a=rtpmap` lines as written.
    pub fn rtpmaps(&self) -> impl Iterator<Item = RtpMap<'a>> + 'a {
        self.sec.parsed(AttrKind::Rtpmap, RtpMap::parse_value)
    }

    /// `a=fmtp` lines whose format is a payload type.
    pub fn fmtps(&self) -> impl Iterator<Item = Fmtp<'a>> + 'a {
        self.sec.parsed(AttrKind::Fmtp, Fmtp::parse_value)
    }

    /// `a=rtcp-fb` lines as written.
    pub fn rtcp_fbs(&self) -> impl Iterator<Item = RtcpFb<'a>> + 'a {
        self.sec.parsed(AttrKind::RtcpFb, RtcpFb::parse_value)
    }

    /// The codecs: `rtpmap`, `fmtp` and `rtcp-fb` joined by payload type, in the order of the
    /// `m=` line (see [`Codec`] for the rules).
    #[must_use]
    pub fn codecs(&self) -> Vec<Codec<'a>> {
        crate::join::join_codecs(self.sec, self.line.formats).0
    }

    /// [`codecs`](Self::codecs), and for each line of the section whether it went into one.
    pub(crate) fn codecs_and_use(&self) -> (Vec<Codec<'a>>, Vec<bool>) {
        crate::join::join_codecs(self.sec, self.line.formats)
    }

    /// The codec with this payload type.
    #[must_use]
    pub fn codec(&self, payload_type: u8) -> Option<Codec<'a>> {
        self.codecs()
            .into_iter()
            .find(|c| c.payload_type == payload_type)
    }

    /// Header extension mappings: this section's, then the session's whose ids it does not
    /// map (RFC 8285 §5).
    pub fn extmaps(&self) -> impl Iterator<Item = Extmap<'a>> + 'a {
        // Ids are at most 4351: one bit each for the ids this section maps.
        let mut mapped = [0u64; 68];
        for e in self.sec.parsed(AttrKind::Extmap, Extmap::parse_value) {
            if let Some(w) = mapped.get_mut(usize::from(e.id / 64)) {
                *w |= 1 << (e.id % 64);
            }
        }
        let own = self.sec.parsed(AttrKind::Extmap, Extmap::parse_value);
        let session = self
            .session
            .parsed(AttrKind::Extmap, Extmap::parse_value)
            .filter(move |s| {
                mapped
                    .get(usize::from(s.id / 64))
                    .is_none_or(|w| w & (1 << (s.id % 64)) == 0)
            });
        own.chain(session)
    }

    /// `a=extmap-allow-mixed` in this section or at session level.
    #[must_use]
    pub fn extmap_allow_mixed(&self) -> bool {
        self.sec.has(AttrKind::ExtmapAllowMixed) || self.session.has(AttrKind::ExtmapAllowMixed)
    }

    /// `a=ssrc` lines.
    pub fn ssrcs(&self) -> impl Iterator<Item = SsrcAttribute<'a>> + 'a {
        self.sec.parsed(AttrKind::Ssrc, SsrcAttribute::parse_value)
    }

    /// The `cname` of a source, from its `a=ssrc` lines.
    #[must_use]
    pub fn cname(&self, ssrc: u32) -> Option<&'a str> {
        self.ssrcs()
            .filter(|a| a.ssrc == ssrc && a.name == "cname")
            .find_map(|a| match a.value {
                Some(Cow::Borrowed(v)) => Some(v),
                _ => None,
            })
    }

    /// `a=ssrc-group` lines.
    pub fn ssrc_groups(&self) -> impl Iterator<Item = SsrcGroup<'a>> + 'a {
        self.sec.parsed(AttrKind::SsrcGroup, SsrcGroup::parse_value)
    }

    /// `a=msid` lines.
    pub fn msids(&self) -> impl Iterator<Item = Msid<'a>> + 'a {
        self.sec.parsed(AttrKind::Msid, Msid::parse_value)
    }

    /// `a=rid` lines.
    pub fn rids(&self) -> impl Iterator<Item = Rid<'a>> + 'a {
        self.sec.parsed(AttrKind::Rid, Rid::parse_value)
    }

    /// `a=simulcast`.
    #[must_use]
    pub fn simulcast(&self) -> Option<Simulcast<'a>> {
        self.sec
            .parsed(AttrKind::Simulcast, Simulcast::parse_value)
            .next()
    }

    /// `a=ice-ufrag` of this section, else of the session.
    #[must_use]
    pub fn ice_ufrag(&self) -> Option<&'a str> {
        self.sec
            .first(AttrKind::IceUfrag)
            .or_else(|| self.session.first(AttrKind::IceUfrag))
    }

    /// `a=ice-pwd` of this section, else of the session.
    #[must_use]
    pub fn ice_pwd(&self) -> Option<&'a str> {
        self.sec
            .first(AttrKind::IcePwd)
            .or_else(|| self.session.first(AttrKind::IcePwd))
    }

    /// `a=ice-options` tokens of this section, else of the session.
    pub fn ice_options(&self) -> impl Iterator<Item = &'a str> + 'a {
        let sec = if self.sec.has(AttrKind::IceOptions) {
            self.sec
        } else {
            self.session
        };
        sec.ice_options()
    }

    /// `a=candidate` lines.
    pub fn candidates(&self) -> impl Iterator<Item = Candidate<'a>> + 'a {
        self.sec.parsed(AttrKind::Candidate, Candidate::parse_value)
    }

    /// `a=end-of-candidates` in this section or at session level (RFC 8840 §8.2).
    #[must_use]
    pub fn end_of_candidates(&self) -> bool {
        self.sec.has(AttrKind::EndOfCandidates) || self.session.has(AttrKind::EndOfCandidates)
    }

    /// `a=fingerprint` lines of this section, else of the session.
    pub fn fingerprints(&self) -> impl Iterator<Item = Fingerprint> + 'a {
        let sec = if self.sec.has(AttrKind::Fingerprint) {
            self.sec
        } else {
            self.session
        };
        sec.parsed(AttrKind::Fingerprint, FingerprintLine::parse_value)
    }

    /// `a=setup` of this section, else of the session.
    #[must_use]
    pub fn setup(&self) -> Option<Setup> {
        self.sec
            .first(AttrKind::Setup)
            .or_else(|| self.session.first(AttrKind::Setup))
            .and_then(|v| Setup::parse(v).ok())
    }

    /// `a=sctp-port` (RFC 8841 §5.1).
    #[must_use]
    pub fn sctp_port(&self) -> Option<u16> {
        self.sec
            .first(AttrKind::SctpPort)
            .and_then(|v| number(v).ok())
    }

    /// `a=max-message-size` (RFC 8841 §6.1).
    #[must_use]
    pub fn max_message_size(&self) -> Option<u64> {
        self.sec
            .first(AttrKind::MaxMessageSize)
            .and_then(|v| number(v).ok())
    }

    /// Every attribute of this section in order, modelled or not.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'a>> + 'a {
        self.sec.attributes().map(|(_, a)| a)
    }

    /// The value of the first attribute of this section with this name: `Some(None)` for a
    /// flag, `None` when absent.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<Option<&'a str>> {
        find_attr(self.sec, name)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Direction, Sdp, Setup};

    const SESSION_LEVEL: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        a=ice-ufrag:sess\r\na=ice-pwd:sessionpassword123456\r\na=ice-options:trickle ice2\r\n\
        a=fingerprint:md5 01:02:00:00:00:00:00:00:00:00:00:00:00:00:00:00\r\na=setup:passive\r\na=recvonly\r\na=extmap-allow-mixed\r\n\
        a=extmap:1 urn:session-one\r\na=extmap:2 urn:session-two\r\na=end-of-candidates\r\n\
        m=audio 9 RTP/AVP 0 96\r\na=extmap:2 urn:media-two\r\n\
        a=rtpmap:96 opus/48000/2\r\na=rtcp-fb:* nack\r\na=rtcp-fb:96 transport-cc\r\n\
        m=video 9 RTP/AVP 97\r\na=ice-ufrag:med\r\na=setup:active\r\na=sendonly\r\n\
        a=fingerprint:md5 0a:0b:00:00:00:00:00:00:00:00:00:00:00:00:00:00\r\na=ice-options:renomination\r\n";

    #[test]
    fn media_falls_back_to_session_level_values() {
        let sdp = Sdp::parse(SESSION_LEVEL).unwrap();
        let a = sdp.media_at(0).unwrap();
        assert_eq!(a.ice_ufrag(), Some("sess"));
        assert_eq!(a.ice_pwd(), Some("sessionpassword123456"));
        assert_eq!(a.ice_options().collect::<Vec<_>>(), ["trickle", "ice2"]);
        assert_eq!(a.setup(), Some(Setup::Passive));
        assert_eq!(a.direction(), Direction::RecvOnly);
        assert_eq!(a.fingerprints().next().unwrap().value[..2], [1, 2]);
        assert!(a.extmap_allow_mixed() && a.end_of_candidates());
        // The section's id 2 hides the session's id 2; the session's id 1 applies.
        let ext: Vec<_> = a.extmaps().map(|e| (e.id, e.uri.into_owned())).collect();
        assert_eq!(
            ext,
            [
                (2, "urn:media-two".to_owned()),
                (1, "urn:session-one".to_owned())
            ]
        );

        let v = sdp.media_at(1).unwrap();
        assert_eq!(v.ice_ufrag(), Some("med"));
        assert_eq!(v.ice_pwd(), Some("sessionpassword123456"));
        assert_eq!(v.ice_options().collect::<Vec<_>>(), ["renomination"]);
        assert_eq!(v.setup(), Some(Setup::Active));
        assert_eq!(v.direction(), Direction::SendOnly);
        assert_eq!(
            v.fingerprints()
                .map(|f| f.value[..2].to_vec())
                .collect::<Vec<_>>(),
            [vec![10, 11]]
        );
    }

    #[test]
    fn wildcard_feedback_and_static_payload_types() {
        let sdp = Sdp::parse(SESSION_LEVEL).unwrap();
        let codecs = sdp.media_at(0).unwrap().codecs();
        assert_eq!(codecs.len(), 2);
        assert_eq!((&*codecs[0].name, codecs[0].clock_rate), ("PCMU", 8000));
        assert_eq!(codecs[0].feedback, ["nack"]);
        assert_eq!(codecs[1].feedback, ["nack", "transport-cc"]);
        // Payload type 97 has no rtpmap and no static meaning: no codec.
        assert!(sdp.media_at(1).unwrap().codecs().is_empty());
        let d = sdp.description();
        assert_eq!(d.to_sdp().unwrap().description(), d);
    }

    #[test]
    fn generic_attribute_access() {
        let sdp = Sdp::parse(SESSION_LEVEL).unwrap();
        let s = sdp.session();
        assert_eq!(s.attribute("ice-ufrag"), Some(Some("sess")));
        assert_eq!(s.attribute("extmap-allow-mixed"), Some(None));
        assert_eq!(s.attribute("nope"), None);
        assert_eq!(s.attributes().count(), 10);
        let v = sdp.media_at(1).unwrap();
        assert_eq!(
            v.attributes().map(|a| a.name).collect::<Vec<_>>(),
            [
                "ice-ufrag",
                "setup",
                "sendonly",
                "fingerprint",
                "ice-options"
            ]
        );
        assert!(sdp.media_by_mid("x").is_none());
        assert!(sdp.media_at(2).is_none());
    }
}
