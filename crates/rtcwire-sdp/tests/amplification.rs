//! Remote text cannot make the typed model much larger than itself: `a=rtcp-fb:*` lines,
//! which apply to every codec of a section, are copied into the codecs only while a section
//! has at most `MAX_WILDCARD_FEEDBACK` of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;

use rtcwire_sdp::{Description, Sdp, MAX_WILDCARD_FEEDBACK};

const CODECS: usize = 128;

/// An offer of `sections` video sections, each with 128 codecs and `wildcards` `rtcp-fb:*`
/// lines (short, distinct values).
fn offer(sections: usize, wildcards: usize) -> String {
    let mut s = String::from("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
    for _ in 0..sections {
        s.push_str("m=video 9 UDP/TLS/RTP/SAVPF");
        for pt in 0..CODECS {
            s.push_str(&format!(" {pt}"));
        }
        s.push_str("\r\n");
        for pt in 0..CODECS {
            s.push_str(&format!("a=rtpmap:{pt} V/90000\r\n"));
        }
        for k in 0..wildcards {
            s.push_str(&format!("a=rtcp-fb:* {k:x}\r\n"));
        }
    }
    s
}

/// Feedback entries stored in the codecs of the model, and the heap bytes their vectors hold.
fn stored_feedback(d: &Description<'_>) -> (usize, usize) {
    let mut entries = 0;
    let mut bytes = 0;
    for m in &d.media {
        for c in &m.codecs {
            entries += c.feedback.len();
            bytes += c.feedback.capacity() * std::mem::size_of::<Cow<'_, str>>();
        }
    }
    (entries, bytes)
}

/// The worst case the default limits allow: ~430 KB of wildcard lines across 7 sections of
/// 4096 attributes. Copied into every codec these would be 3.5 million entries (~85 MB).
#[test]
fn many_wildcard_lines_are_not_copied_into_every_codec() {
    let wildcards = 4096 - CODECS;
    let text = offer(7, wildcards);
    assert!(text.len() > 400_000, "{}", text.len());
    let sdp = Sdp::parse(&text).unwrap();
    let d = sdp.description();
    let (entries, bytes) = stored_feedback(&d);
    assert_eq!(entries, 0, "no wildcard line is copied");
    assert_eq!(bytes, 0);
    // Nothing lost: each section keeps its wildcard lines once, as attributes.
    for m in &d.media {
        assert_eq!(m.codecs.len(), CODECS);
        let kept = m
            .attributes
            .iter()
            .filter(|a| {
                a.name == "rtcp-fb" && a.value.as_deref().is_some_and(|v| v.starts_with("* "))
            })
            .count();
        assert_eq!(kept, wildcards);
    }
    // The view's codecs agree, and the model reads back the same once written.
    let view = sdp.media().next().unwrap();
    assert!(view.codecs().iter().all(|c| c.feedback.is_empty()));
    let again = d.to_sdp().unwrap();
    assert_eq!(again.description(), d);
}

/// At the bound the copies are made, and they are the most the model ever stores:
/// 16 entries in each of 128 codecs per section.
#[test]
fn wildcard_copies_at_the_bound_are_bounded_per_section() {
    let sections = 7;
    let text = offer(sections, MAX_WILDCARD_FEEDBACK);
    let sdp = Sdp::parse(&text).unwrap();
    let d = sdp.description();
    let (entries, bytes) = stored_feedback(&d);
    assert_eq!(entries, sections * CODECS * MAX_WILDCARD_FEEDBACK);
    // About 16 × 128 × 24 bytes for 128 × 18 + 16 × 16 bytes of text: under 20 times the text,
    // where copying every wildcard line had no bound (~200 times at 470 KB).
    assert!(
        bytes <= 20 * text.len(),
        "{bytes} bytes of feedback for {} bytes of text",
        text.len()
    );
    for m in &d.media {
        assert!(m
            .codecs
            .iter()
            .all(|c| c.feedback.len() == MAX_WILDCARD_FEEDBACK));
        assert!(m.attributes.iter().all(|a| a.name != "rtcp-fb"));
    }
    let again = d.to_sdp().unwrap();
    assert_eq!(again.description(), d);
}

/// One past the bound: none is copied (all or nothing per section, so that writing the model
/// and parsing it again gives the same model).
#[test]
fn one_wildcard_past_the_bound_keeps_them_all_as_attributes() {
    let text = offer(1, MAX_WILDCARD_FEEDBACK + 1);
    let sdp = Sdp::parse(&text).unwrap();
    let d = sdp.description();
    assert_eq!(stored_feedback(&d).0, 0);
    assert_eq!(d.media[0].attributes.len(), MAX_WILDCARD_FEEDBACK + 1);
    assert_eq!(d.to_sdp().unwrap().description(), d);
}
