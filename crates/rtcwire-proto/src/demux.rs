//! First-byte demultiplexing of one UDP flow (RFC 7983 §7, updated by RFC 9443 §3).

/// What a datagram on a WebRTC 5-tuple carries, judged by its first byte (and, for RTP vs
/// RTCP, its second; RFC 5761 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PacketKind {
    /// First byte 0–3: a STUN message (binding requests, TURN).
    Stun,
    /// First byte 16–19: ZRTP (never used by WebRTC; recognised so it can be counted).
    Zrtp,
    /// First byte 20–63: a DTLS record.
    Dtls,
    /// First byte 64–79: TURN ChannelData.
    ChannelData,
    /// First byte 80–127 or 192–255: QUIC (RFC 9443).
    Quic,
    /// First byte 128–191 with a payload type outside 64–95: RTP.
    Rtp,
    /// First byte 128–191 with a second byte in 192–223: RTCP.
    Rtcp,
    /// Empty datagram or a first byte no protocol claims (4–15).
    Unknown,
}

/// Classifies a datagram by its first byte (RFC 7983 §7, RFC 9443 §3).
///
/// RTP and RTCP share 128–191; they are told apart by the second byte, which is the RTCP
/// packet type 192–223 for RTCP (RFC 5761 §4: RTP payload types 64–95 are never used when
/// RTP and RTCP are multiplexed). A one-byte datagram in that range is `Unknown`.
#[must_use]
pub fn classify(datagram: &[u8]) -> PacketKind {
    let Some(&first) = datagram.first() else {
        return PacketKind::Unknown;
    };
    match first {
        0..=3 => PacketKind::Stun,
        16..=19 => PacketKind::Zrtp,
        20..=63 => PacketKind::Dtls,
        64..=79 => PacketKind::ChannelData,
        80..=127 | 192..=255 => PacketKind::Quic,
        128..=191 => match datagram.get(1) {
            Some(192..=223) => PacketKind::Rtcp,
            Some(_) => PacketKind::Rtp,
            None => PacketKind::Unknown,
        },
        4..=15 => PacketKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_named(name: &str) -> PacketKind {
        match name {
            "STUN" => PacketKind::Stun,
            "ZRTP" => PacketKind::Zrtp,
            "DTLS" => PacketKind::Dtls,
            "TURN Channel" | "TURN ChannelData" | "TURN" => PacketKind::ChannelData,
            "RTP/RTCP" | "RTP" => PacketKind::Rtp,
            other => panic!("unknown protocol name in vector: {other}"),
        }
    }

    /// Every range of testdata/vectors/rfc7983_demux.toml, at its edges and middle.
    #[test]
    fn rfc7983_ranges_from_shared_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/vectors/rfc7983_demux.toml"
        );
        let text = std::fs::read_to_string(path).expect("testdata/vectors in the repository");
        let doc: toml::Table = text.parse().expect("valid toml");
        let ranges = doc["range"].as_array().expect("[[range]]");
        assert!(ranges.len() >= 5);
        for r in ranges {
            let first = r["first"].as_integer().expect("first") as u8;
            let last = r["last"].as_integer().expect("last") as u8;
            let want = kind_named(r["protocol"].as_str().expect("protocol"));
            for b in [first, (first / 2 + last / 2), last] {
                // second byte 0 → an RTP payload type for the RTP/RTCP range
                assert_eq!(classify(&[b, 0, 0, 0]), want, "first byte {b}");
            }
        }
    }

    #[test]
    fn rtcp_is_told_from_rtp_by_packet_type() {
        for pt in 192..=223u8 {
            assert_eq!(classify(&[0x80, pt]), PacketKind::Rtcp);
        }
        assert_eq!(classify(&[0x80, 200]), PacketKind::Rtcp); // SR
        assert_eq!(classify(&[0x80, 0x60]), PacketKind::Rtp); // PT 96
        assert_eq!(classify(&[0x80, 0xe0]), PacketKind::Rtp); // PT 96 with marker bit
        assert_eq!(classify(&[0x80, 0x80 | 111]), PacketKind::Rtp);
    }

    #[test]
    fn edges_and_gaps() {
        assert_eq!(classify(&[]), PacketKind::Unknown);
        assert_eq!(classify(&[0x80]), PacketKind::Unknown);
        for b in 4..=15u8 {
            assert_eq!(classify(&[b]), PacketKind::Unknown);
        }
        assert_eq!(classify(&[79]), PacketKind::ChannelData);
        assert_eq!(classify(&[80]), PacketKind::Quic);
        assert_eq!(classify(&[127]), PacketKind::Quic);
        assert_eq!(classify(&[192]), PacketKind::Quic);
        assert_eq!(classify(&[255]), PacketKind::Quic);
    }

    proptest::proptest! {
        #[test]
        fn classify_is_total(data in proptest::collection::vec(proptest::num::u8::ANY, 0..8)) {
            let k = classify(&data);
            if data.is_empty() { proptest::prop_assert_eq!(k, PacketKind::Unknown); }
        }
    }
}
