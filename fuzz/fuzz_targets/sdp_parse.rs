#![no_main]
//! Parsing never panics, and whatever parses can be read through every typed accessor and
//! gives back its own text.
use libfuzzer_sys::fuzz_target;
use rtcwire_sdp::Sdp;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(sdp) = Sdp::parse(text) else {
        return;
    };
    // Lossless: the kept text is the input with CRLF line endings.
    let body = text.strip_suffix('\n').unwrap_or(text);
    let normalised: String = body
        .split('\n')
        .map(|l| format!("{}\r\n", l.strip_suffix('\r').unwrap_or(l)))
        .collect();
    assert_eq!(sdp.as_str(), normalised);
    assert_eq!(sdp.lines().count(), normalised.matches("\r\n").count());
    let s = sdp.session();
    let _ = (
        s.origin(),
        s.name(),
        s.timing(),
        s.connection(),
        s.msid_semantic(),
        s.setup(),
    );
    let _ = (
        s.groups().count(),
        s.fingerprints().count(),
        s.extmaps().count(),
    );
    for m in sdp.media() {
        let _ = (
            m.kind(),
            m.port(),
            m.mid(),
            m.direction(),
            m.setup(),
            m.simulcast(),
        );
        let _ = (
            m.ice_ufrag(),
            m.ice_pwd(),
            m.sctp_port(),
            m.max_message_size(),
        );
        let _ = (
            m.codecs(),
            m.extmaps().count(),
            m.ssrcs().count(),
            m.ssrc_groups().count(),
        );
        let _ = (m.msids().count(), m.rids().count(), m.candidates().count());
        let _ = (
            m.fingerprints().count(),
            m.attributes().count(),
            m.connection(),
        );
    }
});
