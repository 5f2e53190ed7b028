//! The typed model: a whole description as plain values, to read or to build.
//!
//! [`Description`] holds what WebRTC uses; attributes it does not model are kept, in order,
//! in each level's `attributes`. It is what [`Sdp::description`](crate::Sdp::description)
//! returns and what an offer or answer is built from; [`Description::to_sdp`] writes it and
//! parses the result, so a built description is checked by the same rules as a received one.
//!
//! Lines the model has no place for (`i=`, `u=`, `e=`, `p=`, `r=`, `z=`, `k=`, a second
//! `t=`) are not in it: use [`Sdp`](crate::Sdp) itself to keep them.

use std::borrow::Cow;

use crate::attr::{
    owned, Attribute, Candidate, Codec, Direction, Extmap, Fingerprint, Group, Msid, MsidSemantic,
    Rid, Setup, Simulcast, SsrcAttribute, SsrcGroup,
};
use crate::fields::{Bandwidth, Connection, MediaKind, Origin, Timing};

mod read;
mod write;

/// A session description as typed values.
///
/// ```
/// use rtcwire_sdp::{Description, Fingerprint, FingerprintAlgorithm, Group, Media, Setup};
///
/// let offer = Description::new(0x1234_5678, 1)
///     .with_group(Group::bundle(["0"]))
///     .with_media(
///         Media::application()
///             .with_mid("0")
///             .with_ice("EsAw", "P2uYro0UCOQ4zxjKXaWCBui1")
///             .with_fingerprint(Fingerprint::new(FingerprintAlgorithm::Sha256, [0xAB; 32]))
///             .with_setup(Setup::ActPass)
///             .with_sctp(5000, 262_144),
///     );
/// let sdp = offer.to_sdp()?;
/// assert_eq!(sdp.media_by_mid("0").and_then(|m| m.sctp_port()), Some(5000));
/// assert_eq!(sdp.description(), offer);
/// # Ok::<(), rtcwire_sdp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description<'a> {
    /// `o=`.
    pub origin: Origin<'a>,
    /// `s=`; WebRTC writes `-`.
    pub name: Cow<'a, str>,
    /// Session-level `c=`.
    pub connection: Option<Connection<'a>>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth<'a>>,
    /// The first `t=`.
    pub timing: Timing,
    /// `a=group` lines (BUNDLE).
    pub groups: Vec<Group<'a>>,
    /// `a=msid-semantic`.
    pub msid_semantic: Option<MsidSemantic<'a>>,
    /// Session-level direction.
    pub direction: Option<Direction>,
    /// `a=extmap-allow-mixed` at session level.
    pub extmap_allow_mixed: bool,
    /// `a=ice-lite`.
    pub ice_lite: bool,
    /// Session-level `a=ice-ufrag`.
    pub ice_ufrag: Option<Cow<'a, str>>,
    /// Session-level `a=ice-pwd`.
    pub ice_pwd: Option<Cow<'a, str>>,
    /// Session-level `a=ice-options` tokens.
    pub ice_options: Vec<Cow<'a, str>>,
    /// Session-level `a=fingerprint` lines.
    pub fingerprints: Vec<Fingerprint>,
    /// Session-level `a=setup`.
    pub setup: Option<Setup>,
    /// Session-level `a=extmap` lines.
    pub extmaps: Vec<Extmap<'a>>,
    /// Other session-level attributes, in order.
    pub attributes: Vec<Attribute<'a>>,
    /// The media sections.
    pub media: Vec<Media<'a>>,
}

/// One media section as typed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media<'a> {
    /// Media type.
    pub kind: MediaKind<'a>,
    /// Port; WebRTC writes 9 (the discard port) and lets ICE choose.
    pub port: u16,
    /// Port count, `m=<media> <port>/<count>`.
    pub port_count: Option<u16>,
    /// Transport protocol.
    pub proto: Cow<'a, str>,
    /// Formats of the `m=` line: payload types for RTP. [`Media::with_codec`] adds to it.
    pub formats: Vec<Cow<'a, str>>,
    /// `c=`.
    pub connection: Option<Connection<'a>>,
    /// `b=` lines.
    pub bandwidths: Vec<Bandwidth<'a>>,
    /// `a=mid`.
    pub mid: Option<Cow<'a, str>>,
    /// Direction attribute; `None` writes none (which means `sendrecv`).
    pub direction: Option<Direction>,
    /// `a=rtcp-mux`.
    pub rtcp_mux: bool,
    /// `a=rtcp-rsize`.
    pub rtcp_rsize: bool,
    /// Codecs, in preference order.
    pub codecs: Vec<Codec<'a>>,
    /// `a=extmap` lines.
    pub extmaps: Vec<Extmap<'a>>,
    /// `a=extmap-allow-mixed`.
    pub extmap_allow_mixed: bool,
    /// `a=ssrc` lines.
    pub ssrcs: Vec<SsrcAttribute<'a>>,
    /// `a=ssrc-group` lines.
    pub ssrc_groups: Vec<SsrcGroup<'a>>,
    /// `a=msid` lines.
    pub msids: Vec<Msid<'a>>,
    /// `a=rid` lines.
    pub rids: Vec<Rid<'a>>,
    /// `a=simulcast`.
    pub simulcast: Option<Simulcast<'a>>,
    /// `a=ice-ufrag`.
    pub ice_ufrag: Option<Cow<'a, str>>,
    /// `a=ice-pwd`.
    pub ice_pwd: Option<Cow<'a, str>>,
    /// `a=ice-options` tokens.
    pub ice_options: Vec<Cow<'a, str>>,
    /// `a=candidate` lines.
    pub candidates: Vec<Candidate<'a>>,
    /// `a=end-of-candidates`.
    pub end_of_candidates: bool,
    /// `a=fingerprint` lines.
    pub fingerprints: Vec<Fingerprint>,
    /// `a=setup`.
    pub setup: Option<Setup>,
    /// `a=sctp-port`.
    pub sctp_port: Option<u16>,
    /// `a=max-message-size`.
    pub max_message_size: Option<u64>,
    /// Other attributes, in order (e.g. `a=rtcp`, `a=rtcp-xr`, `fmtp` of unknown formats).
    pub attributes: Vec<Attribute<'a>>,
}

impl<'a> Description<'a> {
    /// An empty session as WebRTC writes one: `o=- <id> <version> IN IP4 127.0.0.1`,
    /// `s=-`, `t=0 0`.
    #[must_use]
    pub fn new(session_id: u64, session_version: u64) -> Self {
        Self {
            origin: Origin::new(session_id, session_version),
            name: Cow::Borrowed("-"),
            connection: None,
            bandwidths: Vec::new(),
            timing: Timing::default(),
            groups: Vec::new(),
            msid_semantic: None,
            direction: None,
            extmap_allow_mixed: false,
            ice_lite: false,
            ice_ufrag: None,
            ice_pwd: None,
            ice_options: Vec::new(),
            fingerprints: Vec::new(),
            setup: None,
            extmaps: Vec::new(),
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }

    /// Adds an `a=group` line.
    #[must_use]
    pub fn with_group(mut self, group: Group<'a>) -> Self {
        self.groups.push(group);
        self
    }

    /// Adds a media section.
    #[must_use]
    pub fn with_media(mut self, media: Media<'a>) -> Self {
        self.media.push(media);
        self
    }

    /// Sets session-level ICE credentials.
    #[must_use]
    pub fn with_ice(
        mut self,
        ufrag: impl Into<Cow<'a, str>>,
        pwd: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.ice_ufrag = Some(ufrag.into());
        self.ice_pwd = Some(pwd.into());
        self
    }

    /// Adds a session-level fingerprint.
    #[must_use]
    pub fn with_fingerprint(mut self, fp: Fingerprint) -> Self {
        self.fingerprints.push(fp);
        self
    }

    /// Adds an attribute the model does not cover.
    #[must_use]
    pub fn with_attribute(mut self, attribute: Attribute<'a>) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// The media section whose mid is `mid`.
    #[must_use]
    pub fn media_by_mid(&self, mid: &str) -> Option<&Media<'a>> {
        self.media.iter().find(|m| m.mid.as_deref() == Some(mid))
    }

    /// Copies borrowed text so the description outlives the [`Sdp`](crate::Sdp) it was
    /// read from.
    #[must_use]
    pub fn into_owned(self) -> Description<'static> {
        Description {
            origin: self.origin.into_owned(),
            name: owned(self.name),
            connection: self.connection.map(Connection::into_owned),
            bandwidths: own_all(self.bandwidths, Bandwidth::into_owned),
            timing: self.timing,
            groups: own_all(self.groups, Group::into_owned),
            msid_semantic: self.msid_semantic.map(MsidSemantic::into_owned),
            direction: self.direction,
            extmap_allow_mixed: self.extmap_allow_mixed,
            ice_lite: self.ice_lite,
            ice_ufrag: self.ice_ufrag.map(owned),
            ice_pwd: self.ice_pwd.map(owned),
            ice_options: own_all(self.ice_options, owned),
            fingerprints: self.fingerprints,
            setup: self.setup,
            extmaps: own_all(self.extmaps, Extmap::into_owned),
            attributes: own_all(self.attributes, Attribute::into_owned),
            media: own_all(self.media, Media::into_owned),
        }
    }
}

fn own_all<T, U>(v: Vec<T>, f: fn(T) -> U) -> Vec<U> {
    v.into_iter().map(f).collect()
}

impl<'a> Media<'a> {
    /// An empty section: `m=<kind> <port> <proto>` with no formats yet, no attributes.
    pub fn new(kind: MediaKind<'a>, port: u16, proto: impl Into<Cow<'a, str>>) -> Self {
        Self {
            kind,
            port,
            port_count: None,
            proto: proto.into(),
            formats: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            mid: None,
            direction: None,
            rtcp_mux: false,
            rtcp_rsize: false,
            codecs: Vec::new(),
            extmaps: Vec::new(),
            extmap_allow_mixed: false,
            ssrcs: Vec::new(),
            ssrc_groups: Vec::new(),
            msids: Vec::new(),
            rids: Vec::new(),
            simulcast: None,
            ice_ufrag: None,
            ice_pwd: None,
            ice_options: Vec::new(),
            candidates: Vec::new(),
            end_of_candidates: false,
            fingerprints: Vec::new(),
            setup: None,
            sctp_port: None,
            max_message_size: None,
            attributes: Vec::new(),
        }
    }

    /// An RTP section as WebRTC writes one: port 9, `UDP/TLS/RTP/SAVPF`, `c=IN IP4 0.0.0.0`,
    /// `a=rtcp-mux`, and an explicit `a=sendrecv` (JSEP, RFC 8829 §5.2.1, always writes the
    /// direction, and some stacks, aiortc among them, reject a section without one). Add
    /// codecs with [`with_codec`](Self::with_codec).
    fn rtp(kind: MediaKind<'a>) -> Self {
        Self {
            connection: Some(Connection::new("0.0.0.0")),
            direction: Some(Direction::SendRecv),
            rtcp_mux: true,
            ..Self::new(kind, 9, "UDP/TLS/RTP/SAVPF")
        }
    }

    /// An audio section (see [`Media::video`] for what it starts with).
    #[must_use]
    pub fn audio() -> Self {
        Self::rtp(MediaKind::Audio)
    }

    /// A video section: port 9, `UDP/TLS/RTP/SAVPF`, `c=IN IP4 0.0.0.0`, `a=sendrecv`,
    /// `a=rtcp-mux`.
    #[must_use]
    pub fn video() -> Self {
        Self::rtp(MediaKind::Video)
    }

    /// A data channel section: `m=application 9 UDP/DTLS/SCTP webrtc-datachannel`,
    /// `c=IN IP4 0.0.0.0`. Add `a=sctp-port` with [`with_sctp`](Self::with_sctp).
    #[must_use]
    pub fn application() -> Self {
        Self {
            formats: vec![Cow::Borrowed("webrtc-datachannel")],
            connection: Some(Connection::new("0.0.0.0")),
            ..Self::new(MediaKind::Application, 9, "UDP/DTLS/SCTP")
        }
    }

    /// Sets `a=mid`.
    #[must_use]
    pub fn with_mid(mut self, mid: impl Into<Cow<'a, str>>) -> Self {
        self.mid = Some(mid.into());
        self
    }

    /// Sets the direction.
    #[must_use]
    pub fn with_direction(mut self, d: Direction) -> Self {
        self.direction = Some(d);
        self
    }

    /// Sets `a=rtcp-rsize`.
    #[must_use]
    pub fn with_rtcp_rsize(mut self) -> Self {
        self.rtcp_rsize = true;
        self
    }

    /// Adds a codec and its payload type to the `m=` line.
    #[must_use]
    pub fn with_codec(mut self, codec: Codec<'a>) -> Self {
        self.formats
            .push(Cow::Owned(codec.payload_type.to_string()));
        self.codecs.push(codec);
        self
    }

    /// Adds a header extension mapping.
    #[must_use]
    pub fn with_extmap(mut self, id: u16, uri: impl Into<Cow<'a, str>>) -> Self {
        self.extmaps.push(Extmap::new(id, uri));
        self
    }

    /// Adds `a=msid:<stream> <track>`.
    #[must_use]
    pub fn with_msid(
        mut self,
        stream: impl Into<Cow<'a, str>>,
        track: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.msids.push(Msid::new(stream, track));
        self
    }

    /// Adds `a=ssrc:<ssrc> cname:<cname>`.
    #[must_use]
    pub fn with_ssrc(mut self, ssrc: u32, cname: impl Into<Cow<'a, str>>) -> Self {
        self.ssrcs.push(SsrcAttribute::new(ssrc, "cname", cname));
        self
    }

    /// Adds an `a=ssrc-group`.
    #[must_use]
    pub fn with_ssrc_group(mut self, group: SsrcGroup<'a>) -> Self {
        self.ssrc_groups.push(group);
        self
    }

    /// Adds an `a=rid`.
    #[must_use]
    pub fn with_rid(mut self, rid: Rid<'a>) -> Self {
        self.rids.push(rid);
        self
    }

    /// Sets `a=simulcast`.
    #[must_use]
    pub fn with_simulcast(mut self, sc: Simulcast<'a>) -> Self {
        self.simulcast = Some(sc);
        self
    }

    /// Sets ICE credentials.
    #[must_use]
    pub fn with_ice(
        mut self,
        ufrag: impl Into<Cow<'a, str>>,
        pwd: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.ice_ufrag = Some(ufrag.into());
        self.ice_pwd = Some(pwd.into());
        self
    }

    /// Adds an ICE option, e.g. `trickle`.
    #[must_use]
    pub fn with_ice_option(mut self, option: impl Into<Cow<'a, str>>) -> Self {
        self.ice_options.push(option.into());
        self
    }

    /// Adds a candidate.
    #[must_use]
    pub fn with_candidate(mut self, c: Candidate<'a>) -> Self {
        self.candidates.push(c);
        self
    }

    /// Sets `a=end-of-candidates`.
    #[must_use]
    pub fn with_end_of_candidates(mut self) -> Self {
        self.end_of_candidates = true;
        self
    }

    /// Adds a DTLS certificate fingerprint.
    #[must_use]
    pub fn with_fingerprint(mut self, fp: Fingerprint) -> Self {
        self.fingerprints.push(fp);
        self
    }

    /// Sets the DTLS role.
    #[must_use]
    pub fn with_setup(mut self, setup: Setup) -> Self {
        self.setup = Some(setup);
        self
    }

    /// Sets `a=sctp-port` and `a=max-message-size`.
    #[must_use]
    pub fn with_sctp(mut self, port: u16, max_message_size: u64) -> Self {
        self.sctp_port = Some(port);
        self.max_message_size = Some(max_message_size);
        self
    }

    /// Adds an attribute the model does not cover.
    #[must_use]
    pub fn with_attribute(mut self, attribute: Attribute<'a>) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// The codec with this payload type.
    #[must_use]
    pub fn codec(&self, payload_type: u8) -> Option<&Codec<'a>> {
        self.codecs.iter().find(|c| c.payload_type == payload_type)
    }

    /// Copies borrowed text so the section outlives the [`Sdp`](crate::Sdp) it was read
    /// from.
    #[must_use]
    pub fn into_owned(self) -> Media<'static> {
        Media {
            kind: self.kind.into_owned(),
            port: self.port,
            port_count: self.port_count,
            proto: owned(self.proto),
            formats: own_all(self.formats, owned),
            connection: self.connection.map(Connection::into_owned),
            bandwidths: own_all(self.bandwidths, Bandwidth::into_owned),
            mid: self.mid.map(owned),
            direction: self.direction,
            rtcp_mux: self.rtcp_mux,
            rtcp_rsize: self.rtcp_rsize,
            codecs: own_all(self.codecs, Codec::into_owned),
            extmaps: own_all(self.extmaps, Extmap::into_owned),
            extmap_allow_mixed: self.extmap_allow_mixed,
            ssrcs: own_all(self.ssrcs, SsrcAttribute::into_owned),
            ssrc_groups: own_all(self.ssrc_groups, SsrcGroup::into_owned),
            msids: own_all(self.msids, Msid::into_owned),
            rids: own_all(self.rids, Rid::into_owned),
            simulcast: self.simulcast.map(Simulcast::into_owned),
            ice_ufrag: self.ice_ufrag.map(owned),
            ice_pwd: self.ice_pwd.map(owned),
            ice_options: own_all(self.ice_options, owned),
            candidates: own_all(self.candidates, Candidate::into_owned),
            end_of_candidates: self.end_of_candidates,
            fingerprints: self.fingerprints,
            setup: self.setup,
            sctp_port: self.sctp_port,
            max_message_size: self.max_message_size,
            attributes: own_all(self.attributes, Attribute::into_owned),
        }
    }
}
