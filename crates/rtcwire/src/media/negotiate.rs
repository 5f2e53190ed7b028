//! Codec and header-extension negotiation (RFC 8829 §5.3.1, RFC 3264 §6.1): what our
//! offers carry, what an answer keeps of an offer, and what a remote section says.

use std::borrow::Cow;

use rtcwire_rtp::rtp::{ExtensionKind, ExtensionMap};
use rtcwire_sdp::{
    Codec as SdpCodec, Media, MediaView, Rid, RidDirection, Simulcast, SimulcastRid, SsrcAttribute,
    SsrcGroup,
};

use super::{Codec, Direction, MediaKind, Transceiver};

/// Most codecs, extensions and SSRCs read from one remote section.
const MAX_CODECS: usize = 64;
const MAX_SSRCS: usize = 32;
const MAX_RIDS: usize = 8;

/// The RTCP feedback we implement, as SDP writes it.
const VIDEO_FEEDBACK: [&str; 5] = ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"];
const AUDIO_FEEDBACK: [&str; 1] = ["transport-cc"];

/// The header extensions we use, with the ids our offers give them.
const OFFER_EXTENSIONS: [(u8, ExtensionKind); 5] = [
    (1, ExtensionKind::Mid),
    (2, ExtensionKind::AbsSendTime),
    (3, ExtensionKind::TransportCc),
    (4, ExtensionKind::Rid),
    (5, ExtensionKind::RepairedRid),
];

/// A codec both sides agreed on, with the payload type the offerer gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NegotiatedCodec {
    pub(crate) payload_type: u8,
    pub(crate) codec: Codec,
    pub(crate) rtx: Option<u8>,
    pub(crate) nack: bool,
    pub(crate) pli: bool,
    pub(crate) fir: bool,
    pub(crate) twcc: bool,
    pub(crate) remb: bool,
    /// H.264 in packetization-mode 0 (single NAL unit, RFC 6184 §6.2).
    pub(crate) single_nal: bool,
    /// The sdp codec as written in our description (rtpmap, fmtp, feedback).
    pub(crate) sdp: SdpCodec<'static>,
}

/// What a remote audio or video section says.
#[derive(Debug, Clone)]
pub(crate) struct RemoteMedia {
    pub(crate) kind: Option<MediaKind>,
    pub(crate) direction: Direction,
    pub(crate) rtcp_rsize: bool,
    pub(crate) codecs: Vec<SdpCodec<'static>>,
    pub(crate) extmaps: Vec<(u16, String)>,
    /// Primary SSRCs the peer will send (from `a=ssrc`), with their RTX SSRC (FID group).
    pub(crate) ssrcs: Vec<(u32, Option<u32>)>,
    pub(crate) stream_ids: Vec<String>,
    pub(crate) rids: Vec<String>,
    /// The rids of `a=simulcast:send` (first alternative of each stream): what the peer
    /// sends us in simulcast.
    pub(crate) simulcast_send: Vec<String>,
    /// The rids of `a=simulcast:recv`: what the peer takes from us.
    pub(crate) simulcast_recv: Vec<String>,
}

/// Reads an RTP section of a remote description.
pub(crate) fn read_media_section(m: &MediaView<'_>) -> RemoteMedia {
    let kind = match m.kind() {
        rtcwire_sdp::MediaKind::Audio => Some(MediaKind::Audio),
        rtcwire_sdp::MediaKind::Video => Some(MediaKind::Video),
        _ => None,
    };
    let mut codecs = m.codecs();
    codecs.truncate(MAX_CODECS);
    let groups: Vec<SsrcGroup<'_>> = m.ssrc_groups().take(MAX_SSRCS).collect();
    let mut ssrcs: Vec<(u32, Option<u32>)> = Vec::new();
    let rtx_of = |primary: u32| {
        groups
            .iter()
            .filter(|g| g.semantics == "FID")
            .find(|g| g.ssrcs.first() == Some(&primary))
            .and_then(|g| g.ssrcs.get(1).copied())
    };
    let is_secondary = |s: u32| {
        groups
            .iter()
            .any(|g| g.ssrcs.iter().skip(1).any(|&x| x == s))
    };
    for a in m.ssrcs() {
        if ssrcs.len() >= MAX_SSRCS {
            break;
        }
        if !is_secondary(a.ssrc) && !ssrcs.iter().any(|(s, _)| *s == a.ssrc) {
            ssrcs.push((a.ssrc, rtx_of(a.ssrc)));
        }
    }
    RemoteMedia {
        kind,
        direction: Direction::from_sdp(m.direction()),
        rtcp_rsize: m.rtcp_rsize(),
        codecs: codecs.into_iter().map(SdpCodec::into_owned).collect(),
        extmaps: m
            .extmaps()
            .take(MAX_CODECS)
            .map(|e| (e.id, e.uri.into_owned()))
            .collect(),
        ssrcs,
        stream_ids: m
            .msids()
            .take(MAX_RIDS)
            .map(|s| s.stream.into_owned())
            .filter(|s| s != "-")
            .collect(),
        rids: m.rids().take(MAX_RIDS).map(|r| r.id.into_owned()).collect(),
        simulcast_send: simulcast_rids(m.simulcast().map(|s| s.send)),
        simulcast_recv: simulcast_rids(m.simulcast().map(|s| s.recv)),
    }
}

/// The first alternative of each simulcast stream, not paused ones (capped).
fn simulcast_rids(list: Option<Vec<Vec<SimulcastRid<'_>>>>) -> Vec<String> {
    list.unwrap_or_default()
        .into_iter()
        .filter_map(|alts| alts.into_iter().next())
        .filter(|r| !r.paused)
        .take(MAX_RIDS)
        .map(|r| r.id.into_owned())
        .collect()
}

fn simulcast_section(
    mut m: Media<'static>,
    rids: &[String],
    direction: RidDirection,
) -> Media<'static> {
    for r in rids {
        m = m.with_rid(Rid::new(r.clone(), direction));
    }
    let streams = rids
        .iter()
        .map(|r| {
            vec![SimulcastRid {
                id: r.clone().into(),
                paused: false,
            }]
        })
        .collect();
    let sc = match direction {
        RidDirection::Send => Simulcast {
            send: streams,
            recv: Vec::new(),
        },
        RidDirection::Recv => Simulcast {
            send: Vec::new(),
            recv: streams,
        },
    };
    m.with_simulcast(sc)
}

/// The feedback we take for `kind`: all we implement, less transport-cc when `twcc` is off.
fn our_feedback(kind: MediaKind, twcc: bool) -> impl Iterator<Item = &'static str> {
    let all: &'static [&'static str] = match kind {
        MediaKind::Audio => &AUDIO_FEEDBACK,
        MediaKind::Video => &VIDEO_FEEDBACK,
    };
    all.iter()
        .copied()
        .filter(move |f| twcc || !f.eq_ignore_ascii_case("transport-cc"))
}

/// The codecs we offer for `kind`, with our payload types.
fn our_codecs(kind: MediaKind, twcc: bool) -> Vec<SdpCodec<'static>> {
    let audio_fb: Vec<&str> = our_feedback(MediaKind::Audio, twcc).collect();
    let video_fb: Vec<&str> = our_feedback(MediaKind::Video, twcc).collect();
    match kind {
        MediaKind::Audio => vec![
            with_feedback(
                SdpCodec::new(111, "opus", 48_000)
                    .with_channels(2)
                    .with_fmtp("minptime=10;useinbandfec=1"),
                &audio_fb,
            ),
            SdpCodec::new(0, "PCMU", 8000),
            SdpCodec::new(8, "PCMA", 8000),
        ],
        MediaKind::Video => {
            let mut v = Vec::new();
            for (pt, name, fmtp) in [
                (96u8, "VP8", None),
                (98, "VP9", Some("profile-id=0")),
                (
                    102,
                    "H264",
                    Some("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
                ),
                (
                    104,
                    "H264",
                    Some("level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"),
                ),
                (45, "AV1", None),
            ] {
                let mut c = with_feedback(SdpCodec::new(pt, name, 90_000), &video_fb);
                if let Some(f) = fmtp {
                    c = c.with_fmtp(f);
                }
                v.push(c);
                v.push(SdpCodec::new(pt + 1, "rtx", 90_000).with_fmtp(format!("apt={pt}")));
            }
            v
        }
    }
}

fn with_feedback(mut c: SdpCodec<'static>, fb: &[&'static str]) -> SdpCodec<'static> {
    for f in fb {
        c = c.with_feedback(*f);
    }
    c
}

/// An H.264 payload type's packetization-mode (absent: 0, RFC 6184 §8.1).
fn h264_mode<'a>(c: &'a SdpCodec<'_>) -> &'a str {
    c.fmtp_param("packetization-mode").unwrap_or("0")
}

/// H.264 we can exchange: packetization-mode 1 (STAP-A, FU-A) or 0 (single NAL unit),
/// and a baseline, main or high profile (RFC 6184 §8.1; the level does not need to
/// match, RFC 6184 §8.2.2). The mode is the payload type's own: an answer keeps each
/// offered payload type with its mode, so mode 0 and mode 1 never share one.
fn h264_usable(c: &SdpCodec<'_>) -> bool {
    let profile = c.fmtp_param("profile-level-id").unwrap_or("42001f");
    let idc = profile.get(..2).map(|p| p.to_ascii_lowercase());
    matches!(h264_mode(c), "0" | "1") && matches!(idc.as_deref(), Some("42" | "4d" | "64" | "f4"))
}

/// Whether we implement this remote codec; which one it is.
fn supported(c: &SdpCodec<'_>, kind: MediaKind) -> Option<Codec> {
    let codec = Codec::from_name(&c.name, c.clock_rate)?;
    if codec.kind() != kind {
        return None;
    }
    match codec {
        Codec::H264 if !h264_usable(c) => None,
        Codec::Opus if c.channels != Some(2) => None,
        Codec::Vp9 => match c.fmtp_param("profile-id").unwrap_or("0") {
            "0" | "2" => Some(codec),
            _ => None,
        },
        _ => Some(codec),
    }
}

fn negotiated(c: &SdpCodec<'static>, codec: Codec, ours: &[&str]) -> NegotiatedCodec {
    let feedback: Vec<Cow<'static, str>> = c
        .feedback
        .iter()
        .filter(|f| ours.iter().any(|o| o.eq_ignore_ascii_case(f)))
        .cloned()
        .collect();
    let has = |name: &str| feedback.iter().any(|f| f.eq_ignore_ascii_case(name));
    let mut sdp = c.clone();
    sdp.feedback = feedback.clone();
    NegotiatedCodec {
        payload_type: c.payload_type,
        codec,
        rtx: None,
        nack: has("nack"),
        pli: has("nack pli"),
        fir: has("ccm fir"),
        twcc: has("transport-cc"),
        remb: has("goog-remb"),
        single_nal: codec == Codec::H264 && h264_mode(c) == "0",
        sdp,
    }
}

/// The codecs of `remote` (an offer's, or the answer to our offer) that we take, in the
/// order and with the payload types written there; RTX joins its primary codec.
/// `twcc` off leaves transport-cc out.
pub(crate) fn match_codecs(
    remote: &[SdpCodec<'static>],
    kind: MediaKind,
    twcc: bool,
) -> Vec<NegotiatedCodec> {
    let ours: Vec<&str> = our_feedback(kind, twcc).collect();
    let mut out: Vec<NegotiatedCodec> = remote
        .iter()
        .filter_map(|c| supported(c, kind).map(|codec| negotiated(c, codec, &ours)))
        .collect();
    for c in remote {
        if !c.name.eq_ignore_ascii_case("rtx") {
            continue;
        }
        if let Some(apt) = c.rtx_apt() {
            if let Some(n) = out
                .iter_mut()
                .find(|n| n.payload_type == apt && n.rtx.is_none())
            {
                n.rtx = Some(c.payload_type);
            }
        }
    }
    out
}

/// The header extensions of `remote` we use, with its ids (transport-wide sequence
/// numbers only with `twcc`).
pub(crate) fn match_extensions(
    remote: &[(u16, String)],
    kind: MediaKind,
    twcc: bool,
) -> ExtensionMap {
    let mut map = ExtensionMap::new();
    for (id, uri) in remote {
        let Some(k) = ExtensionKind::from_uri(uri) else {
            continue;
        };
        let wanted = OFFER_EXTENSIONS.iter().any(|(_, o)| *o == k)
            && (twcc || k != ExtensionKind::TransportCc)
            && (kind == MediaKind::Video
                || !matches!(k, ExtensionKind::Rid | ExtensionKind::RepairedRid));
        if let (true, Ok(id)) = (wanted, u8::try_from(*id)) {
            let _ = map.insert(id, k);
        }
    }
    map
}

fn our_extensions(kind: MediaKind, twcc: bool) -> ExtensionMap {
    let mut map = ExtensionMap::new();
    for (id, k) in OFFER_EXTENSIONS {
        if !twcc && k == ExtensionKind::TransportCc {
            continue;
        }
        if kind == MediaKind::Video || !matches!(k, ExtensionKind::Rid | ExtensionKind::RepairedRid)
        {
            let _ = map.insert(id, k);
        }
    }
    map
}

fn write_codecs_and_extensions(
    mut m: Media<'static>,
    codecs: &[SdpCodec<'static>],
    ext: &ExtensionMap,
) -> Media<'static> {
    for c in codecs {
        m = m.with_codec(c.clone());
    }
    for k in ExtensionKind::ALL {
        if let Some(id) = ext.id(k) {
            m = m.with_extmap(u16::from(id), k.uri());
        }
    }
    m
}

fn write_sender(mut m: Media<'static>, t: &Transceiver, direction: Direction) -> Media<'static> {
    if !direction.sends() {
        return m;
    }
    let stream = t.stream_ids.first().map_or("-", String::as_str).to_owned();
    m = m.with_msid(stream.clone(), t.track_id.clone());
    let msid = format!("{stream} {}", t.track_id);
    if !t.layers.is_empty() {
        // Simulcast: the streams are told apart by rid, their SSRCs are not signalled
        // (as browsers do; RFC 8853 §5.1).
        let rids: Vec<String> = t.send_streams().filter_map(|s| s.rid.clone()).collect();
        return simulcast_section(m, &rids, RidDirection::Send);
    }
    let ssrc = t.send.ssrc;
    m = m.with_ssrc(ssrc, t.cname.clone());
    m.ssrcs.push(SsrcAttribute::new(ssrc, "msid", msid.clone()));
    if let Some(rtx) = t
        .send
        .rtx_ssrc
        .filter(|_| t.codecs.iter().any(|c| c.rtx.is_some()) || t.codecs.is_empty())
    {
        m = m.with_ssrc_group(SsrcGroup::new("FID", vec![ssrc, rtx]));
        m = m.with_ssrc(rtx, t.cname.clone());
        m.ssrcs.push(SsrcAttribute::new(rtx, "msid", msid));
    }
    m
}

/// Our offer's section for a transceiver (transport attributes are added by the caller).
/// After a negotiation the codecs stay those negotiated, with their payload types.
pub(crate) fn offer_section(t: &Transceiver) -> Media<'static> {
    let base = match t.kind {
        MediaKind::Audio => Media::audio(),
        MediaKind::Video => Media::video(),
    };
    let (codecs, ext): (Vec<SdpCodec<'static>>, ExtensionMap) = if t.codecs.is_empty() {
        (
            our_codecs(t.kind, t.transport_cc),
            our_extensions(t.kind, t.transport_cc),
        )
    } else {
        let mut v = Vec::new();
        for c in &t.codecs {
            v.push(c.sdp.clone());
            if let Some(rtx) = c.rtx {
                v.push(
                    SdpCodec::new(rtx, "rtx", c.codec.clock_rate())
                        .with_fmtp(format!("apt={}", c.payload_type)),
                );
            }
        }
        (v, t.ext.clone())
    };
    let mut m = write_codecs_and_extensions(base, &codecs, &ext)
        .with_direction(t.direction.to_sdp())
        .with_rtcp_rsize();
    m = write_sender(m, t, t.direction);
    m
}

/// Our answer's section for a transceiver matched to a remote offer's section, whose
/// codecs (`t.codecs`) and extensions (`t.ext`) were negotiated already.
pub(crate) fn answer_section(t: &Transceiver, remote: &RemoteMedia) -> Media<'static> {
    let base = match t.kind {
        MediaKind::Audio => Media::audio(),
        MediaKind::Video => Media::video(),
    };
    let direction = t.direction.intersect(remote.direction.reverse());
    let mut codecs = Vec::new();
    for c in &t.codecs {
        codecs.push(c.sdp.clone());
        if let Some(rtx) = c.rtx {
            codecs.push(
                SdpCodec::new(rtx, "rtx", c.codec.clock_rate())
                    .with_fmtp(format!("apt={}", c.payload_type)),
            );
        }
    }
    let mut m =
        write_codecs_and_extensions(base, &codecs, &t.ext).with_direction(direction.to_sdp());
    if remote.rtcp_rsize {
        m = m.with_rtcp_rsize();
    }
    // The peer offers to send simulcast: we take every layer it lists (RFC 8853 §5.3).
    if direction.receives() && !remote.simulcast_send.is_empty() {
        m = simulcast_section(m, &remote.simulcast_send, RidDirection::Recv);
    }
    write_sender(m, t, direction)
}

/// A rejected section mirroring a remote one: port 0, same kind, proto and formats.
pub(crate) fn rejected(
    kind: &rtcwire_sdp::MediaKind<'static>,
    proto: &str,
    formats: &[String],
) -> Media<'static> {
    let mut m = Media::new(kind.clone(), 0, Cow::Owned(proto.to_owned()));
    m.formats = formats.iter().map(|f| Cow::Owned(f.clone())).collect();
    if m.formats.is_empty() {
        m.formats.push(Cow::Borrowed("0"));
    }
    m.connection = Some(rtcwire_sdp::Connection::new("0.0.0.0"));
    if *kind != rtcwire_sdp::MediaKind::Application {
        m = m.with_direction(rtcwire_sdp::Direction::Inactive);
    }
    m
}

/// A stopped transceiver's section in our offer: port 0 with the codecs it had.
pub(crate) fn stopped_section(t: &Transceiver) -> Media<'static> {
    let mut m = offer_section(t);
    m.port = 0;
    m.direction = Some(rtcwire_sdp::Direction::Inactive);
    m.ssrcs.clear();
    m.ssrc_groups.clear();
    m.msids.clear();
    m.rids.clear();
    m.simulcast = None;
    m
}
