//! Joins a media section's `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines into [`Codec`]s by
//! payload type, in one pass over the section, parsing each line once.

use crate::attr::{fields, number, AttrKind, Codec, Fmtp, RtcpFb, RtpMap};
use crate::view::Section;

/// Most `a=rtcp-fb:*` lines a media section may have for them to be copied into its codecs.
/// Each such line becomes one entry in every codec (up to 128), so without a bound a few
/// hundred KiB of remote text would make the typed view allocate a few hundred times that.
/// A section with more is not joined at all: its wildcard lines stay, as written, among its
/// other attributes, so nothing is lost and writing the model back reads back the same.
/// Browsers write none (Chromium) or a handful.
pub const MAX_WILDCARD_FEEDBACK: usize = 16;

/// The codecs of a section, and for each of its lines whether it went into one.
///
/// Rules: one codec per payload type with an `a=rtpmap` (the first one; later ones for the
/// same type are not joined) or with a static RFC 3551 meaning; ordered as the `m=` line
/// lists them, then the unlisted ones in line order; the first `a=fmtp` of a payload type
/// gives its parameters; `a=rtcp-fb:*` applies to every codec when the section has at most
/// [`MAX_WILDCARD_FEEDBACK`] such lines. Feedback entries stored in the codecs are thus at
/// most the section's `rtcp-fb` lines for one payload type plus 16 × 128.
pub(crate) fn join_codecs<'a>(sec: Section<'a>, formats: &'a str) -> (Vec<Codec<'a>>, Vec<bool>) {
    let mut used = vec![false; sec.lines.len()];
    let mut seen = [false; 128];
    let mut mapped: Vec<Codec<'a>> = Vec::new();
    let mut fmtps: Vec<(usize, Fmtp<'a>)> = Vec::new();
    let mut fbs: Vec<(usize, RtcpFb<'a>)> = Vec::new();
    for (i, l) in sec.lines.iter().enumerate() {
        if l.ty != b'a' {
            continue;
        }
        let value = || sec.sdp.attr_of(l).1.unwrap_or_default();
        match l.attr {
            AttrKind::Rtpmap => {
                if let Ok(m) = RtpMap::parse_value(value()) {
                    if let Some(slot) = seen.get_mut(usize::from(m.payload_type)) {
                        if !std::mem::replace(slot, true) {
                            mapped.push(Codec::from_rtpmap(m));
                            if let Some(u) = used.get_mut(i) {
                                *u = true;
                            }
                        }
                    }
                }
            }
            AttrKind::Fmtp => fmtps.extend(Fmtp::parse_value(value()).ok().map(|f| (i, f))),
            AttrKind::RtcpFb => fbs.extend(RtcpFb::parse_value(value()).ok().map(|f| (i, f))),
            _ => {}
        }
    }
    let mut codecs: Vec<Codec<'a>> = Vec::with_capacity(mapped.len());
    for pt in fields(formats, b' ').filter_map(|f| number::<u8>(f).ok()) {
        if codecs.iter().any(|c| c.payload_type == pt) {
            continue;
        }
        if let Some(i) = mapped.iter().position(|c| c.payload_type == pt) {
            codecs.push(mapped.remove(i));
        } else if let Some(c) = Codec::static_type(pt) {
            codecs.push(c);
        }
    }
    codecs.append(&mut mapped);
    for (i, f) in fmtps {
        if let Some(c) = codecs.iter_mut().find(|c| c.payload_type == f.payload_type) {
            if c.fmtp.is_none() {
                c.fmtp = Some(f.params);
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
            }
        }
    }
    let wildcards = fbs.iter().filter(|(_, f)| f.payload_type.is_none()).count();
    let join_wildcards = wildcards <= MAX_WILDCARD_FEEDBACK;
    for (i, fb) in fbs {
        if fb.payload_type.is_none() && !join_wildcards {
            continue; // left unjoined: kept as an attribute, as written
        }
        let mut joined = false;
        for c in &mut codecs {
            if fb.payload_type.is_none_or(|pt| pt == c.payload_type) {
                c.feedback.push(fb.feedback.clone());
                joined = true;
            }
        }
        if let Some(u) = used.get_mut(i) {
            *u = joined;
        }
    }
    (codecs, used)
}
