//! Real offers and answers from Chromium and aiortc (testdata/sdp/): each round-trips byte
//! for byte, and its typed fields read back the values written in the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use rtcwire_sdp::{CandidateKind, Direction, MediaKind, Sdp, Setup, SsrcGroup, TcpType};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sdp")
}

fn load(name: &str) -> (String, Sdp) {
    let text = std::fs::read_to_string(corpus_dir().join(name)).unwrap();
    let sdp = Sdp::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    (text, sdp)
}

fn hex(s: &str) -> Vec<u8> {
    s.split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn every_corpus_file_round_trips_byte_exact() {
    let mut n = 0;
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("sdp") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let sdp = Sdp::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(sdp.as_str(), text, "{}", path.display());
        // The same with LF endings comes back with CRLF.
        let lf = text.replace("\r\n", "\n");
        assert_eq!(Sdp::parse(&lf).unwrap().as_str(), text);
        // Every line is kept, in order.
        let lines: Vec<String> = sdp
            .lines()
            .map(|l| format!("{}={}", l.kind(), l.value()))
            .collect();
        assert_eq!(
            lines,
            text.split("\r\n")
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
        );
        // The typed model is stable: write it, parse it, read it back, equal.
        let model = sdp.description();
        let again = model
            .to_sdp()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(again.description(), model, "{}", path.display());
        n += 1;
    }
    assert!(n >= 4, "expected the testdata/sdp corpus, found {n} files");
}

#[test]
fn chromium_offer_audio_video_data() {
    let (_, sdp) = load("chromium-offer-av-dc.sdp");
    let s = sdp.session();
    assert_eq!(s.origin().session_id, 3_560_741_839_439_939_942);
    assert_eq!(s.origin().session_version, 2);
    assert_eq!(s.bundle().unwrap().mids, ["0", "1", "2"]);
    assert!(s.extmap_allow_mixed());
    let wms = s.msid_semantic().unwrap();
    assert_eq!(wms.semantic, "WMS");
    assert_eq!(wms.ids, ["d8c88053-7b23-40d6-a876-b38a0a0631bd"]);
    assert_eq!(sdp.media_count(), 3);

    let audio = sdp.media_at(0).unwrap();
    assert_eq!(audio.kind(), MediaKind::Audio);
    assert_eq!(audio.port(), 55709);
    assert_eq!(audio.proto(), "UDP/TLS/RTP/SAVPF");
    assert_eq!(
        audio.formats().collect::<Vec<_>>(),
        ["111", "63", "9", "0", "8", "13", "110", "126"]
    );
    assert_eq!(audio.mid(), Some("0"));
    assert_eq!(audio.direction(), Direction::SendRecv);
    assert!(audio.rtcp_mux() && audio.rtcp_rsize());
    assert!(
        audio.extmap_allow_mixed(),
        "inherited from the session level"
    );
    let codecs = audio.codecs();
    let names: Vec<_> = codecs
        .iter()
        .map(|c| (c.payload_type, &*c.name, c.clock_rate))
        .collect();
    assert_eq!(
        names,
        [
            (111, "opus", 48000),
            (63, "red", 48000),
            (9, "G722", 8000),
            (0, "PCMU", 8000),
            (8, "PCMA", 8000),
            (13, "CN", 8000),
            (110, "telephone-event", 48000),
            (126, "telephone-event", 8000)
        ]
    );
    assert_eq!(codecs[0].channels, Some(2));
    assert_eq!(
        codecs[0].fmtp.as_deref(),
        Some("minptime=10;useinbandfec=1")
    );
    assert_eq!(codecs[0].feedback, ["transport-cc"]);
    assert_eq!(codecs[1].fmtp.as_deref(), Some("111/111"));
    let ext: Vec<_> = audio
        .extmaps()
        .map(|e| (e.id, e.uri.into_owned()))
        .collect();
    assert_eq!(ext.len(), 4);
    assert_eq!(
        ext[0],
        (1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level".to_owned())
    );
    assert_eq!(
        ext[3],
        (4, "urn:ietf:params:rtp-hdrext:sdes:mid".to_owned())
    );
    assert_eq!(audio.cname(2_441_431_117), Some("gcOWirGaDjenNOFS"));
    let msid = audio.msids().next().unwrap();
    assert_eq!(msid.stream, "d8c88053-7b23-40d6-a876-b38a0a0631bd");
    assert_eq!(
        msid.track.as_deref(),
        Some("ce3871bd-71e1-4af6-9f2e-8ad4155e1d0e")
    );
    assert_eq!(audio.ice_ufrag(), Some("ekBf"));
    assert_eq!(audio.ice_pwd(), Some("NHjMj3yiM0h1mqiv+U2h5daG"));
    assert_eq!(audio.ice_options().collect::<Vec<_>>(), ["trickle"]);
    assert_eq!(audio.setup(), Some(Setup::ActPass));
    let fp: Vec<_> = audio.fingerprints().collect();
    assert_eq!(fp.len(), 1);
    assert_eq!(fp[0].algorithm.sdp_name(), "sha-256");
    assert_eq!(
        fp[0].value,
        hex("97:CB:0E:90:26:17:D3:A1:C1:87:5B:36:CC:23:F1:47:28:FF:96:A8:76:BE:9C:0C:FC:20:FF:FE:80:A1:FA:C7")
    );
    let cands: Vec<_> = audio.candidates().collect();
    assert_eq!(cands.len(), 2);
    assert_eq!(cands[0].foundation, "196834549");
    assert_eq!(cands[0].component, 1);
    assert_eq!(cands[0].transport, "udp");
    assert_eq!(cands[0].priority, 2_122_260_223);
    assert_eq!(cands[0].address, "127.0.0.1");
    assert_eq!(cands[0].port, 55709);
    assert_eq!(cands[0].kind, CandidateKind::Host);
    assert_eq!(cands[0].tcp_type, None);
    assert_eq!(cands[0].extension("network-cost"), Some("50"));
    assert_eq!(cands[1].transport, "tcp");
    assert_eq!(cands[1].port, 9);
    assert_eq!(cands[1].tcp_type, Some(TcpType::Active));
    assert_eq!(cands[1].extension("network-id"), Some("1"));
    assert!(!audio.end_of_candidates());
    assert_eq!(audio.attribute("rtcp-xr"), Some(Some("rcvr-rtt=all")));
    assert_eq!(audio.attribute("rtcp"), Some(Some("9 IN IP4 0.0.0.0")));

    let video = sdp.media_at(1).unwrap();
    assert_eq!(video.kind(), MediaKind::Video);
    assert_eq!(video.mid(), Some("1"));
    let vc = video.codecs();
    assert_eq!(vc.len(), 23);
    let vp8 = video.codec(96).unwrap();
    assert_eq!(vp8.name, "VP8");
    assert_eq!(
        vp8.feedback,
        ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"]
    );
    assert_eq!(video.codec(97).unwrap().rtx_apt(), Some(96));
    let h264 = video.codec(102).unwrap();
    assert_eq!(h264.fmtp_param("profile-level-id"), Some("42001f"));
    assert_eq!(h264.fmtp_param("packetization-mode"), Some("1"));
    assert_eq!(video.codec(45).unwrap().name, "AV1");
    assert_eq!(
        video.codec(100).unwrap().fmtp_param("profile-id"),
        Some("2")
    );
    assert_eq!(video.codec(120).unwrap().name, "ulpfec");
    assert_eq!(video.extmaps().count(), 11);
    assert_eq!(
        video.extmaps().find(|e| e.id == 13).unwrap().uri,
        "urn:3gpp:video-orientation"
    );
    let groups: Vec<SsrcGroup<'_>> = video.ssrc_groups().collect();
    assert_eq!(
        groups,
        [SsrcGroup::new("FID", [3_452_079_219, 4_240_549_536])]
    );
    assert_eq!(video.ssrcs().count(), 4);
    assert_eq!(video.cname(4_240_549_536), Some("gcOWirGaDjenNOFS"));

    let data = sdp.media_at(2).unwrap();
    assert_eq!(data.kind(), MediaKind::Application);
    assert_eq!(data.port(), 52056);
    assert_eq!(data.proto(), "UDP/DTLS/SCTP");
    assert_eq!(data.formats().collect::<Vec<_>>(), ["webrtc-datachannel"]);
    assert!(!data.is_rtp());
    assert!(data.codecs().is_empty());
    assert_eq!(data.sctp_port(), Some(5000));
    assert_eq!(data.max_message_size(), Some(262_144));
    assert_eq!(data.connection().unwrap().address, "127.0.0.1");
    assert_eq!(sdp.media_by_mid("2").unwrap().index(), 2);
    assert_eq!(sdp.media_by_mid("2").unwrap().line_number(), 166);
    assert_eq!(audio.line_number(), 8);
}

#[test]
fn aiortc_offer_audio_video_data() {
    let (_, sdp) = load("aiortc-offer-av-dc.sdp");
    let s = sdp.session();
    assert_eq!(s.origin().session_id, 4_004_586_351);
    assert_eq!(s.origin().address, "0.0.0.0");
    assert_eq!(s.msid_semantic().unwrap().ids, ["*"]);
    assert!(!s.extmap_allow_mixed());
    let audio = sdp.media_at(0).unwrap();
    assert_eq!(audio.port(), 36889);
    assert_eq!(audio.codecs().len(), 4);
    assert_eq!(audio.codec(96).unwrap().name, "opus");
    assert_eq!(audio.codec(0).unwrap().name, "PCMU");
    assert!(audio.rtcp_mux() && !audio.rtcp_rsize());
    assert!(audio.end_of_candidates());
    let c = audio.candidates().next().unwrap();
    assert_eq!(c.foundation, "16572de626da4e5384a0ce2d0d93678a");
    assert_eq!(c.priority, 2_130_706_431);
    assert!(c.extensions.is_empty());
    let fps: Vec<_> = audio.fingerprints().collect();
    assert_eq!(
        fps.iter()
            .map(|f| (f.algorithm.sdp_name(), f.value.len()))
            .collect::<Vec<_>>(),
        [("sha-256", 32), ("sha-384", 48), ("sha-512", 64)]
    );
    assert_eq!(fps[1].value[..3], [0x75, 0x94, 0xBE]);
    assert_eq!(audio.ice_ufrag(), Some("YpW3"));
    assert_eq!(audio.ice_pwd(), Some("uqScM8QMEKqcdykrcQ1iVy"));
    assert_eq!(audio.ice_options().count(), 0);
    let video = sdp.media_at(1).unwrap();
    assert_eq!(video.formats().count(), 6);
    assert_eq!(
        video.codec(97).unwrap().feedback,
        ["nack", "nack pli", "goog-remb"]
    );
    assert_eq!(video.codec(102).unwrap().rtx_apt(), Some(101));
    assert_eq!(
        video.ssrc_groups().next().unwrap().ssrcs,
        [3_749_705_899, 2_093_246_704]
    );
    assert_eq!(
        video.cname(2_093_246_704),
        Some("dfe81163-b5eb-489b-8b0b-58c43ebc36db")
    );
    let data = sdp.media_at(2).unwrap();
    assert_eq!(data.mid(), Some("2"));
    assert_eq!(data.sctp_port(), Some(5000));
}

#[test]
fn aiortc_answer_and_chromium_data_offer() {
    let (_, answer) = load("aiortc-answer-dc.sdp");
    assert_eq!(answer.session().bundle().unwrap().mids, ["0"]);
    let m = answer.media_at(0).unwrap();
    assert_eq!(m.setup(), Some(Setup::Active));
    assert_eq!(m.ice_ufrag(), Some("w8BV"));
    assert_eq!(m.port(), 36839);
    assert_eq!(m.max_message_size(), Some(262_144));

    let (_, offer) = load("chromium-offer-dc.sdp");
    let s = offer.session();
    assert_eq!(s.origin().session_id, 7_796_459_457_277_638_689);
    assert_eq!(s.msid_semantic().unwrap().ids.len(), 0);
    let m = offer.media_at(0).unwrap();
    assert_eq!(m.port(), 35982);
    assert_eq!(m.ice_pwd(), Some("RHfbzbYd0Mt+vzGJOL60zugA"));
    assert_eq!(m.candidates().nth(1).unwrap().foundation, "1878182654");
    assert_eq!(m.setup(), Some(Setup::ActPass));
    assert_eq!(
        m.fingerprints().next().unwrap().value,
        hex("CE:52:70:17:A2:5E:9A:47:A3:3E:E9:2A:8B:5F:A8:16:D2:4D:1A:9B:24:4F:EC:70:60:A1:6A:F5:A5:F7:33:5B")
    );
}

#[test]
fn typed_model_keeps_unmodelled_attributes_in_order() {
    let (_, sdp) = load("chromium-offer-av-dc.sdp");
    let d = sdp.description();
    let names: Vec<_> = d.media[0]
        .attributes
        .iter()
        .map(|a| a.name.as_ref())
        .collect();
    assert_eq!(names, ["rtcp", "rtcp-xr"]);
    assert!(d.media[2].attributes.is_empty());
    assert_eq!(d.media[1].codecs.len(), 23);
    assert_eq!(d.groups[0].mids.len(), 3);
}

#[test]
fn owned_model_outlives_the_text_it_was_read_from() {
    let owned = {
        let (_, sdp) = load("chromium-offer-av-dc.sdp");
        sdp.description().into_owned()
    };
    assert_eq!(owned.media.len(), 3);
    assert_eq!(owned.media[1].codec(45).unwrap().name, "AV1");
    let written = owned.to_sdp().unwrap();
    assert_eq!(written.description(), owned);
}

#[test]
fn text_access_apis_agree() {
    let (text, sdp) = load("aiortc-answer-dc.sdp");
    let via_from_str: Sdp = text.parse().unwrap();
    assert_eq!(via_from_str, sdp);
    assert_eq!(sdp.to_string(), text);
    let mut buf = String::from("prefix:");
    sdp.write_to(&mut buf);
    assert_eq!(buf.strip_prefix("prefix:"), Some(text.as_str()));
    let fp = sdp
        .lines()
        .find(|l| l.attribute_name() == Some("fingerprint"))
        .unwrap();
    assert_eq!(fp.number(), 16);
    assert_eq!(fp.kind(), 'a');
    assert!(fp.attribute_value().unwrap().starts_with("sha-256 57:C4"));
    assert_eq!(sdp.clone().into_string(), text);
}
