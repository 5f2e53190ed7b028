//! JSEP (RFC 8829): reading a remote description into the values the cores need, and
//! writing our offer or answer from the session's m-line list.
//!
//! Every accepted section is in one BUNDLE group on one ICE/DTLS transport (max-bundle,
//! rtcp-mux); the transport attributes are read from the group's tagged section. Sections
//! we cannot use (unknown media, an application section that is not
//! `UDP/DTLS/SCTP webrtc-datachannel`, audio/video without a common codec) are rejected
//! in an answer: port 0, the same mid and formats, `a=inactive`.

use rtcwire_proto::Fingerprint;
use rtcwire_sdp::{
    Candidate as SdpCandidate, Description, Group, Media, MediaKind, MediaView, Sdp, Setup,
};

use crate::media::{read_media_section, RemoteMedia};
use crate::Error;

/// The SCTP port WebRTC uses when SDP says nothing (RFC 8841 §5).
pub(crate) const DEFAULT_SCTP_PORT: u16 = 5000;
/// A peer that gives no `a=max-message-size` takes messages up to this (RFC 8841 §6.1).
pub(crate) const DEFAULT_REMOTE_MAX_MESSAGE_SIZE: usize = 65536;
/// Most candidates read from one description (ICE caps what it keeps too).
const MAX_SDP_CANDIDATES: usize = 64;
/// Most fingerprints kept from one description.
const MAX_FINGERPRINTS: usize = 8;

/// One m= section of a remote description, as much as an answer must mirror.
#[derive(Debug, Clone)]
pub(crate) struct RemoteSection {
    pub(crate) kind: MediaKind<'static>,
    pub(crate) proto: String,
    pub(crate) formats: Vec<String>,
    pub(crate) mid: Option<String>,
    /// The port is not 0 (or the section is `a=bundle-only`).
    pub(crate) usable: bool,
    /// For audio and video sections: codecs, extensions, SSRCs, direction.
    pub(crate) media: Option<RemoteMedia>,
}

impl RemoteSection {
    /// The section's mid, or its index when it has none.
    pub(crate) fn mid_or(&self, index: usize) -> String {
        self.mid.clone().unwrap_or_else(|| index.to_string())
    }
}

/// What a remote description says about the data transport.
#[derive(Debug, Clone)]
pub(crate) struct RemoteParams {
    pub(crate) sections: Vec<RemoteSection>,
    /// The index of the data section we use, if there is a usable one.
    pub(crate) data_index: Option<usize>,
    /// The section whose transport (ICE, DTLS) carries every accepted one: the BUNDLE
    /// tag, or the only usable section.
    pub(crate) transport_index: Option<usize>,
    pub(crate) ufrag: String,
    pub(crate) pwd: String,
    pub(crate) ice_lite: bool,
    pub(crate) fingerprints: Vec<Fingerprint>,
    pub(crate) setup: Option<Setup>,
    pub(crate) sctp_port: u16,
    /// `None`: absent. `Some(0)`: no limit.
    pub(crate) max_message_size: Option<u64>,
    /// `candidate:...` values, already formatted for the ICE parser.
    pub(crate) candidates: Vec<String>,
    pub(crate) end_of_candidates: bool,
}

impl RemoteParams {
    /// The mid of the data section.
    pub(crate) fn data_mid(&self) -> Option<&str> {
        self.data_index
            .and_then(|i| self.sections.get(i))
            .and_then(|s| s.mid.as_deref())
    }
}

fn is_usable(m: &MediaView<'_>) -> bool {
    m.port() != 0 || m.attribute("bundle-only").is_some()
}

fn is_rtp_media(m: &MediaView<'_>) -> bool {
    matches!(m.kind(), MediaKind::Audio | MediaKind::Video) && m.proto().contains("RTP/")
}

fn is_data_section(m: &MediaView<'_>) -> bool {
    let usable_port = m.port() != 0 || m.attribute("bundle-only").is_some();
    m.kind() == MediaKind::Application
        && usable_port
        && m.proto().ends_with("DTLS/SCTP")
        && m.formats().any(|f| f == "webrtc-datachannel")
}

/// Reads what the session needs from a parsed remote description.
pub(crate) fn read_remote(sdp: &Sdp) -> Result<RemoteParams, Error> {
    let session = sdp.session();
    let sections: Vec<RemoteSection> = sdp
        .media()
        .map(|m| RemoteSection {
            kind: m.kind().into_owned(),
            proto: m.proto().to_owned(),
            formats: m.formats().map(str::to_owned).collect(),
            mid: m.mid().map(str::to_owned),
            usable: is_usable(&m),
            media: is_rtp_media(&m).then(|| read_media_section(&m)),
        })
        .collect();
    let data_index = sdp.media().position(|m| is_data_section(&m));
    // max-bundle: every section we may accept must be in the one BUNDLE group.
    let bundle: Vec<String> = session
        .bundle()
        .map(|g| g.mids.iter().map(|m| m.to_string()).collect())
        .unwrap_or_default();
    let candidates_for_transport: Vec<usize> = sdp
        .media()
        .enumerate()
        .filter(|(i, m)| Some(*i) == data_index || (is_rtp_media(m) && is_usable(m)))
        .map(|(i, _)| i)
        .collect();
    if candidates_for_transport.len() > 1 {
        let unbundled = candidates_for_transport.iter().any(|&i| {
            sdp.media_at(i)
                .and_then(|m| m.mid().map(str::to_owned))
                .is_none_or(|mid| !bundle.contains(&mid))
        });
        if unbundled {
            return Err(Error::BadDescription(
                "max-bundle: every audio, video and data section must be in one BUNDLE group",
            ));
        }
    }
    if sdp
        .media()
        .any(|m| is_rtp_media(&m) && is_usable(&m) && !m.rtcp_mux())
    {
        return Err(Error::BadDescription(
            "rtcp-mux is required on every audio and video section",
        ));
    }
    let transport_index = bundle
        .first()
        .and_then(|tag| sdp.media().position(|m| m.mid() == Some(tag.as_str())))
        .filter(|i| candidates_for_transport.contains(i))
        .or_else(|| candidates_for_transport.first().copied());
    let mut params = RemoteParams {
        sections,
        data_index,
        transport_index,
        ufrag: String::new(),
        pwd: String::new(),
        ice_lite: session.ice_lite(),
        fingerprints: Vec::new(),
        setup: None,
        sctp_port: DEFAULT_SCTP_PORT,
        max_message_size: None,
        candidates: Vec::new(),
        end_of_candidates: false,
    };
    let Some(index) = transport_index else {
        return Ok(params);
    };
    let main = sdp
        .media_at(index)
        .ok_or(Error::BadDescription("transport section vanished"))?;
    // Under BUNDLE the transport is the tagged section's (the first mid of the group): a
    // bundle-only section may carry no transport attributes of its own.
    let tag = bundle.first().and_then(|mid| sdp.media_by_mid(mid));
    let data = data_index.and_then(|i| sdp.media_at(i));
    let views: Vec<MediaView<'_>> = std::iter::once(main).chain(tag).collect();

    let pick = |f: &dyn Fn(&MediaView<'_>) -> Option<String>| views.iter().find_map(f);
    params.ufrag = pick(&|m| m.ice_ufrag().map(str::to_owned))
        .or_else(|| session.ice_ufrag().map(str::to_owned))
        .ok_or(Error::BadDescription("no a=ice-ufrag"))?;
    params.pwd = pick(&|m| m.ice_pwd().map(str::to_owned))
        .or_else(|| session.ice_pwd().map(str::to_owned))
        .ok_or(Error::BadDescription("no a=ice-pwd"))?;
    if !is_ice_string(&params.ufrag) || !is_ice_string(&params.pwd) {
        return Err(Error::BadDescription(
            "a=ice-ufrag and a=ice-pwd must be 1-256 ice-chars",
        ));
    }
    params.setup = views
        .iter()
        .find_map(MediaView::setup)
        .or_else(|| session.setup());
    for m in &views {
        params
            .fingerprints
            .extend(m.fingerprints().take(MAX_FINGERPRINTS));
        if !params.fingerprints.is_empty() {
            break;
        }
    }
    if params.fingerprints.is_empty() {
        params
            .fingerprints
            .extend(session.fingerprints().take(MAX_FINGERPRINTS));
    }
    if params.fingerprints.is_empty() {
        return Err(Error::BadDescription("no a=fingerprint"));
    }
    params.fingerprints.truncate(MAX_FINGERPRINTS);
    if let Some(data) = &data {
        params.sctp_port = data.sctp_port().unwrap_or(DEFAULT_SCTP_PORT);
        params.max_message_size = data.max_message_size();
    }
    for m in &views {
        for c in m.candidates() {
            if params.candidates.len() >= MAX_SDP_CANDIDATES {
                break;
            }
            let line = format!("candidate:{c}");
            if !params.candidates.contains(&line) {
                params.candidates.push(line);
            }
        }
        params.end_of_candidates |= m.end_of_candidates();
    }
    Ok(params)
}

/// `ice-char` (RFC 8839 §5.4): ALPHA / DIGIT / "+" / "/", 1-256 of them, as the ICE agent
/// wants them. Checked here so that applying credentials cannot fail half-way.
fn is_ice_string(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// What goes into our side of the data section.
#[derive(Debug, Clone)]
pub(crate) struct LocalParams<'a> {
    pub(crate) session_id: u64,
    pub(crate) session_version: u64,
    pub(crate) ufrag: &'a str,
    pub(crate) pwd: &'a str,
    pub(crate) fingerprint: Fingerprint,
    pub(crate) setup: Setup,
    pub(crate) sctp_port: u16,
    pub(crate) max_message_size: u64,
    pub(crate) candidates: &'a [String],
    pub(crate) end_of_candidates: bool,
    /// We are an ICE-lite agent (`a=ice-lite`).
    pub(crate) ice_lite: bool,
}

/// Adds our transport attributes (ICE, DTLS, candidates) to an accepted section.
pub(crate) fn with_transport(mut m: Media<'static>, local: &LocalParams<'_>) -> Media<'static> {
    m = m
        .with_ice(local.ufrag.to_owned(), local.pwd.to_owned())
        .with_ice_option("trickle")
        .with_fingerprint(local.fingerprint.clone())
        .with_setup(local.setup);
    for c in local.candidates {
        if let Ok(c) = SdpCandidate::parse(c) {
            m = m.with_candidate(c.into_owned());
        }
    }
    if local.end_of_candidates {
        m = m.with_end_of_candidates();
    }
    m
}

/// Our data section (transport attributes included).
pub(crate) fn data_section(mid: &str, local: &LocalParams<'_>) -> Media<'static> {
    let m = Media::application()
        .with_mid(mid.to_owned())
        .with_sctp(local.sctp_port, local.max_message_size);
    with_transport(m, local)
}

/// A whole description: `sections` in order, the accepted ones (port not 0) BUNDLEd.
pub(crate) fn write_description(
    sections: Vec<Media<'static>>,
    local: &LocalParams<'_>,
) -> Result<String, Error> {
    let mut desc = Description::new(local.session_id, local.session_version);
    desc.ice_lite = local.ice_lite;
    let bundle: Vec<String> = sections
        .iter()
        .filter(|m| m.port != 0)
        .filter_map(|m| m.mid.as_deref().map(str::to_owned))
        .collect();
    if !bundle.is_empty() {
        desc = desc.with_group(Group::bundle(bundle));
    }
    if sections.iter().any(|m| !m.msids.is_empty()) {
        desc.msid_semantic = Some(rtcwire_sdp::MsidSemantic {
            semantic: "WMS".into(),
            ids: Vec::new(),
        });
    }
    for m in sections {
        desc = desc.with_media(m);
    }
    Ok(desc.to_sdp()?.as_str().to_owned())
}

/// The DTLS role we take given the peer's `a=setup` (RFC 8842 §5): an answerer to
/// `actpass` is active (the client), as browsers are.
pub(crate) fn our_role_from_remote_setup(remote: Option<Setup>) -> rtcwire_proto::DtlsRole {
    match remote {
        Some(Setup::Active) => rtcwire_proto::DtlsRole::Server,
        _ => rtcwire_proto::DtlsRole::Client,
    }
}
