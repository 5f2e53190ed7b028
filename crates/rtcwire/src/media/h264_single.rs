//! H.264 packetization-mode 0 (RFC 6184 §6.2, single NAL unit mode): every NAL unit of
//! a frame travels alone in one RTP packet; no STAP-A aggregation, no FU-A fragments. A
//! NAL unit larger than the packet's room cannot be sent in this mode: the frame is
//! refused whole (nothing of it leaves) and the caller gets the error.

use rtcwire_rtp::codec::Packetizer;

/// The single-NAL-unit packetizer.
#[derive(Debug, Default)]
pub(crate) struct H264SingleNalPacketizer {
    /// NAL unit ranges of the frame being sent (kept for its capacity).
    nals: Vec<(usize, usize)>,
}

/// The NAL units of an Annex B byte stream (3- or 4-byte start codes), as ranges; the
/// zeros before a start code and at the end are not part of a unit.
fn split_annex_b(stream: &[u8], out: &mut Vec<(usize, usize)>) {
    out.clear();
    let mut start: Option<usize> = None;
    let mut i = 0;
    // Bounded: `i` moves forward every step.
    while i + 3 <= stream.len() {
        if stream.get(i..i + 3) == Some(&[0, 0, 1][..]) {
            if let Some(s) = start {
                out.push((s, i));
            }
            start = Some(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    if let Some(s) = start {
        out.push((s, stream.len()));
    }
    for r in out.iter_mut() {
        while r.1 > r.0 && stream.get(r.1 - 1) == Some(&0) {
            r.1 -= 1;
        }
    }
    out.retain(|r| r.1 > r.0);
}

impl Packetizer for H264SingleNalPacketizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> rtcwire_rtp::Result<()> {
        let mut nals = std::mem::take(&mut self.nals);
        split_annex_b(frame, &mut nals);
        let result = if nals.is_empty() {
            Err(rtcwire_rtp::Error::CannotPacketize(
                "no NAL unit in the H.264 frame",
            ))
        } else if nals.iter().any(|(s, e)| e - s > mtu) {
            Err(rtcwire_rtp::Error::CannotPacketize(
                "an H.264 NAL unit is larger than a packet (packetization-mode 0 cannot fragment)",
            ))
        } else {
            let last = nals.len() - 1;
            for (k, (s, e)) in nals.iter().enumerate() {
                emit(frame.get(*s..*e).unwrap_or_default(), k == last);
            }
            Ok(())
        };
        self.nals = nals;
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn packets(frame: &[u8], mtu: usize) -> rtcwire_rtp::Result<Vec<(Vec<u8>, bool)>> {
        let mut out = Vec::new();
        H264SingleNalPacketizer::default().packetize(frame, mtu, &mut |p, last| {
            out.push((p.to_vec(), last));
        })?;
        Ok(out)
    }

    #[test]
    fn each_nal_unit_is_one_packet() {
        let frame = [
            &[0, 0, 0, 1, 0x67, 1, 2][..],
            &[0, 0, 1, 0x68, 3],
            &[0, 0, 0, 1, 0x65, 9, 9, 9, 0, 0],
        ]
        .concat();
        let p = packets(&frame, 100).unwrap();
        assert_eq!(
            p,
            vec![
                (vec![0x67, 1, 2], false),
                (vec![0x68, 3], false),
                (vec![0x65, 9, 9, 9], true)
            ]
        );
    }

    #[test]
    fn a_nal_unit_over_the_mtu_refuses_the_frame() {
        let mut frame = vec![0, 0, 0, 1, 0x67, 1];
        frame.extend_from_slice(&[0, 0, 1, 0x65]);
        frame.extend(std::iter::repeat_n(7u8, 200));
        let mut sent = 0;
        let r = H264SingleNalPacketizer::default().packetize(&frame, 100, &mut |_, _| sent += 1);
        assert!(matches!(r, Err(rtcwire_rtp::Error::CannotPacketize(_))));
        assert_eq!(sent, 0, "nothing of the frame left");
        assert!(packets(&[1, 2, 3], 100).is_err(), "no start code");
    }
}
