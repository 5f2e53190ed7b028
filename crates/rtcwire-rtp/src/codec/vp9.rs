//! VP9 (RFC 9628): flexible and non-flexible payload descriptors, keyframe detection.

use crate::codec::{Depacketizer, Packetizer, PayloadInfo};
use crate::error::{Error, Result};

fn bad(reason: &'static str) -> Error {
    Error::BadPayload {
        codec: "VP9",
        reason,
    }
}

/// Whether a VP9 frame (uncompressed header) is a keyframe: frame_marker `10`, profile,
/// show_existing_frame 0, frame_type 0.
pub fn is_vp9_keyframe(frame: &[u8]) -> bool {
    let Some(&b) = frame.first() else {
        return false;
    };
    if b >> 6 != 0b10 {
        return false;
    }
    let profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
    // Bits after frame_marker(2) and profile(2), plus a reserved zero bit for profile 3.
    let mut bit = 4 + usize::from(profile == 3);
    let get =
        |i: usize| -> Option<bool> { frame.get(i / 8).map(|byte| byte & (0x80 >> (i % 8)) != 0) };
    if get(bit) != Some(false) {
        return false; // show_existing_frame (or cut)
    }
    bit += 1;
    get(bit) == Some(false)
}

/// VP9 packetizer. Non-flexible mode (default) sends a scalability structure with no
/// layers on keyframes; flexible mode sends one reference (P_DIFF 1) on inter frames. Both
/// carry a 15-bit picture id.
#[derive(Debug, Clone, Default)]
pub struct Vp9Packetizer {
    flexible: bool,
    picture_id: u16,
    scratch: Vec<u8>,
}

impl Vp9Packetizer {
    /// A non-flexible packetizer starting at `picture_id`.
    pub fn non_flexible(picture_id: u16) -> Self {
        Vp9Packetizer {
            flexible: false,
            picture_id: picture_id & 0x7fff,
            scratch: Vec::new(),
        }
    }

    /// A flexible-mode packetizer starting at `picture_id`.
    pub fn flexible(picture_id: u16) -> Self {
        Vp9Packetizer {
            flexible: true,
            picture_id: picture_id & 0x7fff,
            scratch: Vec::new(),
        }
    }

    fn descriptor(&self, key: bool, first: bool, last: bool, out: &mut Vec<u8>) {
        let mut b0 = 0x80; // I
        if !key {
            b0 |= 0x40; // P
        }
        if self.flexible {
            b0 |= 0x10; // F
        }
        if first {
            b0 |= 0x08; // B
        }
        if last {
            b0 |= 0x04; // E
        }
        let ss = !self.flexible && key && first;
        if ss {
            b0 |= 0x02; // V
        }
        out.push(b0);
        out.push(0x80 | (self.picture_id >> 8) as u8);
        out.push(self.picture_id as u8);
        if self.flexible && !key {
            out.push(1 << 1); // P_DIFF = 1, N = 0
        }
        if ss {
            out.push(0); // N_S = 0 (one spatial layer), Y = 0, G = 0
        }
    }
}

impl Packetizer for Vp9Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<()> {
        if frame.is_empty() {
            return Err(Error::CannotPacketize("empty VP9 frame"));
        }
        let key = is_vp9_keyframe(frame);
        // Longest descriptor: 3 bytes + P_DIFF or SS byte.
        if mtu <= 4 {
            return Err(Error::CannotPacketize(
                "MTU too small for the VP9 descriptor",
            ));
        }
        let mut pos = 0;
        let mut first = true;
        let mut desc = Vec::with_capacity(4);
        // Each iteration consumes at least one byte of the frame.
        while pos < frame.len() {
            desc.clear();
            self.descriptor(key, first, false, &mut desc);
            let room = mtu - desc.len();
            let end = (pos + room).min(frame.len());
            let last = end == frame.len();
            if last {
                desc.clear();
                self.descriptor(key, first, true, &mut desc);
            }
            self.scratch.clear();
            self.scratch.extend_from_slice(&desc);
            self.scratch
                .extend_from_slice(frame.get(pos..end).unwrap_or(&[]));
            emit(&self.scratch, last);
            pos = end;
            first = false;
        }
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        Ok(())
    }
}

/// The fields of a VP9 payload descriptor this crate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Vp9Descriptor {
    /// P: inter-picture predicted.
    pub inter_predicted: bool,
    /// F: flexible mode.
    pub flexible: bool,
    /// B: start of a frame.
    pub start_of_frame: bool,
    /// E: end of a frame.
    pub end_of_frame: bool,
    /// Picture id, if present.
    pub picture_id: Option<u16>,
    /// Spatial layer id (0 without layer indices).
    pub spatial_id: u8,
    /// Temporal layer id (0 without layer indices).
    pub temporal_id: u8,
    /// Descriptor length.
    pub len: usize,
}

impl Vp9Descriptor {
    /// Parses the descriptor at the start of a payload, skipping reference indices and
    /// the scalability structure.
    pub fn parse(p: &[u8]) -> Result<Self> {
        let byte = |i: usize| p.get(i).copied().ok_or(bad("descriptor cut"));
        let b0 = byte(0)?;
        let mut d = Vp9Descriptor {
            inter_predicted: b0 & 0x40 != 0,
            flexible: b0 & 0x10 != 0,
            start_of_frame: b0 & 0x08 != 0,
            end_of_frame: b0 & 0x04 != 0,
            ..Default::default()
        };
        let mut at = 1;
        if b0 & 0x80 != 0 {
            let m = byte(at)?;
            if m & 0x80 != 0 {
                d.picture_id = Some(u16::from(m & 0x7f) << 8 | u16::from(byte(at + 1)?));
                at += 2;
            } else {
                d.picture_id = Some(u16::from(m));
                at += 1;
            }
        }
        if b0 & 0x20 != 0 {
            let l = byte(at)?;
            d.temporal_id = l >> 5;
            d.spatial_id = (l >> 1) & 7;
            at += 1;
            if !d.flexible {
                at += 1; // TL0PICIDX
            }
        }
        if d.flexible && d.inter_predicted {
            // Up to 3 P_DIFF bytes, N bit says another follows.
            for _ in 0..3 {
                let r = byte(at)?;
                at += 1;
                if r & 1 == 0 {
                    break;
                }
            }
        }
        if b0 & 0x02 != 0 {
            let ss = byte(at)?;
            at += 1;
            let n_s = usize::from(ss >> 5) + 1;
            if ss & 0x10 != 0 {
                at += 4 * n_s;
            }
            if ss & 0x08 != 0 {
                let n_g = byte(at)?;
                at += 1;
                for _ in 0..n_g {
                    let g = byte(at)?;
                    at += 1 + usize::from((g >> 2) & 3);
                }
            }
        }
        if at > p.len() {
            return Err(bad("descriptor overruns the payload"));
        }
        d.len = at;
        Ok(d)
    }
}

/// VP9 depacketizer.
#[derive(Debug, Clone, Default)]
pub struct Vp9Depacketizer {
    last_picture_id: Option<u16>,
}

impl Vp9Depacketizer {
    /// The picture id of the last payload that carried one.
    pub fn last_picture_id(&self) -> Option<u16> {
        self.last_picture_id
    }
}

impl Depacketizer for Vp9Depacketizer {
    fn depacketize(&mut self, payload: &[u8], frame: &mut Vec<u8>) -> Result<PayloadInfo> {
        let d = Vp9Descriptor::parse(payload)?;
        let data = payload.get(d.len..).unwrap_or(&[]);
        if data.is_empty() {
            return Err(bad("no VP9 data after the descriptor"));
        }
        if d.picture_id.is_some() {
            self.last_picture_id = d.picture_id;
        }
        let frame_start = d.start_of_frame && d.spatial_id == 0;
        frame.extend_from_slice(data);
        Ok(PayloadInfo {
            frame_start,
            frame_end: false,
            // The P bit alone is not enough: some senders (ffmpeg) never set it.
            keyframe: frame_start && !d.inter_predicted && is_vp9_keyframe(data),
        })
    }
}
