//! The few header fields SRTP needs, read from the cleartext part of a packet.
//!
//! SRTP needs only the RTP header's length (RFC 3550 §5.1: 12 octets, 4 per CSRC, plus the
//! header extension, whose contents — encrypted or not, RFC 6904/8285 — are never looked
//! at), the sequence number and the SSRC: rtcwire-rtp's header-only view reads them without
//! touching the (encrypted) payload or padding. SRTCP needs only the sender SSRC of the first
//! RTCP packet (RFC 3711 §3.4: the first 8 octets are never encrypted), read here, since the
//! rest of an SRTCP packet cannot be parsed before it is decrypted.

use rtcwire_rtp::rtp::RtpPacket;
use rtcwire_rtp::Ssrc;

use crate::Error;

/// Fixed RTP header length.
pub(crate) const RTP_FIXED: usize = 12;
/// The part of an RTCP packet SRTCP leaves in the clear: V/P/RC, PT, length, SSRC.
pub(crate) const RTCP_FIXED: usize = 8;

/// What SRTP reads from an RTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RtpHeader {
    /// Header length in octets, CSRCs and extension included: where the payload starts.
    pub(crate) len: usize,
    /// Sequence number.
    pub(crate) seq: u16,
    /// Synchronization source.
    pub(crate) ssrc: Ssrc,
}

#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn check_version(first: u8) -> Result<(), Error> {
    match first >> 6 {
        2 => Ok(()),
        version => Err(Error::BadVersion { version }),
    }
}

/// Reads an RTP header from `packet`, which must hold the whole header.
#[inline]
pub(crate) fn rtp(packet: &[u8]) -> Result<RtpHeader, Error> {
    match RtpPacket::new_header_only(packet) {
        Ok(view) => Ok(RtpHeader {
            len: view.header_len(),
            seq: view.sequence_number(),
            ssrc: view.ssrc(),
        }),
        Err(rtcwire_rtp::Error::Truncated { needed, .. }) => Err(Error::Truncated {
            needed,
            available: packet.len(),
        }),
        Err(rtcwire_rtp::Error::BadVersion(version)) => Err(Error::BadVersion { version }),
        Err(other) => Err(Error::Header(other)),
    }
}

/// Reads the sender SSRC of the first packet of an RTCP compound packet.
#[inline]
pub(crate) fn rtcp_ssrc(packet: &[u8]) -> Result<Ssrc, Error> {
    let (Some(&b0), Some(ssrc)) = (packet.first(), be32(packet, 4)) else {
        return Err(Error::Truncated {
            needed: RTCP_FIXED,
            available: packet.len(),
        });
    };
    check_version(b0)?;
    Ok(Ssrc(ssrc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_header() {
        let p = [
            0x80, 0x60, 0x12, 0x34, 0, 0, 0, 1, 0xca, 0xfe, 0xba, 0xbe, 0xff,
        ];
        assert_eq!(
            rtp(&p),
            Ok(RtpHeader {
                len: 12,
                seq: 0x1234,
                ssrc: Ssrc(0xcafe_babe)
            })
        );
    }

    #[test]
    fn csrcs_and_extension_count() {
        // CC = 2, X = 1, extension of 1 word.
        let mut p = vec![0x92, 0x60, 0, 7, 0, 0, 0, 0, 0, 0, 0, 9];
        p.extend_from_slice(&[0; 8]); // two CSRCs
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4]); // one-byte-header extension
        let h = rtp(&p).unwrap();
        assert_eq!((h.len, h.seq, h.ssrc), (12 + 8 + 8, 7, Ssrc(9)));
        // Cut inside the extension body, then inside the extension header.
        assert_eq!(
            rtp(&p[..27]),
            Err(Error::Truncated {
                needed: 28,
                available: 27
            })
        );
        assert_eq!(
            rtp(&p[..22]),
            Err(Error::Truncated {
                needed: 24,
                available: 22
            })
        );
    }

    #[test]
    fn bad_input() {
        assert_eq!(
            rtp(&[]),
            Err(Error::Truncated {
                needed: 12,
                available: 0
            })
        );
        assert_eq!(rtp(&[0x40; 12]), Err(Error::BadVersion { version: 1 }));
        // 15 CSRCs announced, none present.
        assert!(matches!(
            rtp(&[0x8f; 12]),
            Err(Error::Truncated { needed: 72, .. })
        ));
        assert_eq!(
            rtcp_ssrc(&[0x81, 200, 0, 6, 1, 2, 3, 4]),
            Ok(Ssrc(0x0102_0304))
        );
        assert!(matches!(
            rtcp_ssrc(&[0x81, 200, 0]),
            Err(Error::Truncated { .. })
        ));
        assert_eq!(
            rtcp_ssrc(&[0x01, 200, 0, 6, 1, 2, 3, 4]),
            Err(Error::BadVersion { version: 0 })
        );
    }
}
