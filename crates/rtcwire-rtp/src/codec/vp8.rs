//! VP8 (RFC 7741): payload descriptor with a 15-bit picture id, keyframe detection.

use crate::codec::{Depacketizer, Packetizer, PayloadInfo};
use crate::error::{Error, Result};

const DESCRIPTOR_LEN: usize = 4;

/// VP8 packetizer: writes X=1, I=1 with a 15-bit picture id that increments per frame, S=1
/// and PID=0 on the first packet.
#[derive(Debug, Clone, Default)]
pub struct Vp8Packetizer {
    picture_id: u16,
    scratch: Vec<u8>,
}

impl Vp8Packetizer {
    /// A packetizer whose first picture id is `picture_id` (mod 2^15; random in production).
    pub fn with_picture_id(picture_id: u16) -> Self {
        Vp8Packetizer {
            picture_id: picture_id & 0x7fff,
            scratch: Vec::new(),
        }
    }
}

impl Packetizer for Vp8Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<()> {
        if mtu <= DESCRIPTOR_LEN {
            return Err(Error::CannotPacketize(
                "MTU too small for the VP8 descriptor",
            ));
        }
        if frame.is_empty() {
            return Err(Error::CannotPacketize("empty VP8 frame"));
        }
        let room = mtu - DESCRIPTOR_LEN;
        let n = frame.len().div_ceil(room);
        let pid = self.picture_id;
        for (i, chunk) in frame.chunks(room).enumerate() {
            self.scratch.clear();
            self.scratch.extend_from_slice(&[
                0x80 | if i == 0 { 0x10 } else { 0 },
                0x80,
                0x80 | (pid >> 8) as u8,
                pid as u8,
            ]);
            self.scratch.extend_from_slice(chunk);
            emit(&self.scratch, i + 1 == n);
        }
        self.picture_id = (pid + 1) & 0x7fff;
        Ok(())
    }
}

/// The fields of a VP8 payload descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Vp8Descriptor {
    /// N: non-reference frame.
    pub non_reference: bool,
    /// S: start of a partition.
    pub start_of_partition: bool,
    /// PID: partition index.
    pub partition_id: u8,
    /// Picture id (7 or 15 bits) if present.
    pub picture_id: Option<u16>,
    /// TL0PICIDX if present.
    pub tl0_pic_idx: Option<u8>,
    /// Temporal layer index if present.
    pub tid: Option<u8>,
    /// Descriptor length in bytes.
    pub len: usize,
}

fn bad(reason: &'static str) -> Error {
    Error::BadPayload {
        codec: "VP8",
        reason,
    }
}

impl Vp8Descriptor {
    /// Parses the descriptor at the start of a payload.
    pub fn parse(p: &[u8]) -> Result<Self> {
        let b0 = *p.first().ok_or(bad("empty payload"))?;
        let mut d = Vp8Descriptor {
            non_reference: b0 & 0x20 != 0,
            start_of_partition: b0 & 0x10 != 0,
            partition_id: b0 & 0x07,
            ..Default::default()
        };
        let mut at = 1;
        if b0 & 0x80 != 0 {
            let x = *p.get(at).ok_or(bad("extension byte missing"))?;
            at += 1;
            if x & 0x80 != 0 {
                let m = *p.get(at).ok_or(bad("picture id missing"))?;
                if m & 0x80 != 0 {
                    let lo = *p.get(at + 1).ok_or(bad("picture id cut"))?;
                    d.picture_id = Some(u16::from(m & 0x7f) << 8 | u16::from(lo));
                    at += 2;
                } else {
                    d.picture_id = Some(u16::from(m));
                    at += 1;
                }
            }
            if x & 0x40 != 0 {
                d.tl0_pic_idx = Some(*p.get(at).ok_or(bad("TL0PICIDX missing"))?);
                at += 1;
            }
            if x & 0x30 != 0 {
                let t = *p.get(at).ok_or(bad("TID/KEYIDX missing"))?;
                if x & 0x20 != 0 {
                    d.tid = Some(t >> 6);
                }
                at += 1;
            }
        }
        d.len = at;
        Ok(d)
    }
}

/// VP8 depacketizer.
#[derive(Debug, Clone, Default)]
pub struct Vp8Depacketizer {
    last_picture_id: Option<u16>,
}

impl Vp8Depacketizer {
    /// The picture id of the last payload that carried one.
    pub fn last_picture_id(&self) -> Option<u16> {
        self.last_picture_id
    }
}

impl Depacketizer for Vp8Depacketizer {
    fn depacketize(&mut self, payload: &[u8], frame: &mut Vec<u8>) -> Result<PayloadInfo> {
        let d = Vp8Descriptor::parse(payload)?;
        let data = payload.get(d.len..).unwrap_or(&[]);
        if data.is_empty() {
            return Err(bad("no VP8 data after the descriptor"));
        }
        if d.picture_id.is_some() {
            self.last_picture_id = d.picture_id;
        }
        let frame_start = d.start_of_partition && d.partition_id == 0;
        // RFC 7741 §4.3: the P bit of the frame header's first byte is 0 for keyframes.
        let keyframe = frame_start && data.first().is_some_and(|b| b & 0x01 == 0);
        frame.extend_from_slice(data);
        Ok(PayloadInfo {
            frame_start,
            frame_end: false,
            keyframe,
        })
    }
}
