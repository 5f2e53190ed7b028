//! JSEP (RFC 8829) for the data-channel section: reading a remote description into the
//! values the cores need, and writing our offer or answer.
//!
//! Media sections (audio, video, anything but the first usable `m=application
//! UDP/DTLS/SCTP webrtc-datachannel`) are rejected in an answer: port 0, the same mid and
//! formats, `a=inactive`. Media comes in a later version.

use std::borrow::Cow;

use rtcwire_proto::Fingerprint;
use rtcwire_sdp::{
    Candidate as SdpCandidate, Connection, Description, Direction, Group, Media, MediaKind,
    MediaView, Sdp, Setup,
};

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
}

/// What a remote description says about the data transport.
#[derive(Debug, Clone)]
pub(crate) struct RemoteParams {
    pub(crate) sections: Vec<RemoteSection>,
    /// The index of the data section we use, if there is a usable one.
    pub(crate) data_index: Option<usize>,
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
        })
        .collect();
    let data_index = sdp.media().position(|m| is_data_section(&m));
    let mut params = RemoteParams {
        sections,
        data_index,
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
    let Some(index) = data_index else {
        return Ok(params);
    };
    let data = sdp
        .media_at(index)
        .ok_or(Error::BadDescription("data section vanished"))?;
    // Under BUNDLE the transport is the tagged section's (the first mid of the group): a
    // bundle-only data section may carry no transport attributes of its own.
    let tag = session
        .bundle()
        .filter(|g| g.mids.iter().any(|m| Some(&**m) == data.mid()))
        .and_then(|g| g.mids.first().map(|m| m.to_string()))
        .and_then(|mid| sdp.media_by_mid(&mid));
    let views: Vec<MediaView<'_>> = std::iter::once(data).chain(tag).collect();

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
    params.sctp_port = data.sctp_port().unwrap_or(DEFAULT_SCTP_PORT);
    params.max_message_size = data.max_message_size();
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

fn data_section<'a>(mid: &'a str, local: &LocalParams<'a>) -> Media<'a> {
    let mut m = Media::application()
        .with_mid(mid)
        .with_ice(local.ufrag, local.pwd)
        .with_ice_option("trickle")
        .with_fingerprint(local.fingerprint.clone())
        .with_setup(local.setup)
        .with_sctp(local.sctp_port, local.max_message_size);
    for c in local.candidates {
        if let Ok(c) = SdpCandidate::parse(c) {
            m = m.with_candidate(c);
        }
    }
    if local.end_of_candidates {
        m = m.with_end_of_candidates();
    }
    m
}

/// Our offer: one data section, mid "0", BUNDLEd.
pub(crate) fn write_offer(mid: &str, local: &LocalParams<'_>) -> Result<String, Error> {
    let mut desc = Description::new(local.session_id, local.session_version)
        .with_group(Group::bundle([mid]))
        .with_media(data_section(mid, local));
    desc.ice_lite = local.ice_lite;
    Ok(desc.to_sdp()?.as_str().to_owned())
}

/// A description with the m-lines of `remote` (the offer we answer, or the layout of the
/// last exchange for a later offer): the data section ours, every other section rejected.
pub(crate) fn write_mirrored(
    remote: &RemoteParams,
    local: &LocalParams<'_>,
) -> Result<String, Error> {
    let mut desc = Description::new(local.session_id, local.session_version);
    desc.ice_lite = local.ice_lite;
    if let Some(mid) = remote.data_mid() {
        desc = desc.with_group(Group::bundle([mid]));
    }
    for (i, s) in remote.sections.iter().enumerate() {
        let media = match (Some(i) == remote.data_index, s.mid.as_deref()) {
            (true, Some(mid)) => data_section(mid, local),
            (true, None) => data_section("0", local),
            (false, mid) => {
                let mut m = Media::new(s.kind.clone(), 0, Cow::Owned(s.proto.clone()));
                m.formats = s.formats.iter().map(|f| Cow::Owned(f.clone())).collect();
                if m.formats.is_empty() {
                    m.formats.push(Cow::Borrowed("0"));
                }
                m.connection = Some(Connection::new("0.0.0.0"));
                if let Some(mid) = mid {
                    m = m.with_mid(mid);
                }
                if s.kind != MediaKind::Application {
                    m = m.with_direction(Direction::Inactive);
                }
                m
            }
        };
        desc = desc.with_media(media);
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
