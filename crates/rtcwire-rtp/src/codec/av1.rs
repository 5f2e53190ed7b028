//! AV1 (AOM "RTP Payload Format for AV1", v1.0): aggregation header, OBU elements with
//! LEB128 lengths, OBU fragmentation across packets. Frames are temporal units in the
//! low-overhead bitstream format (every OBU with `obu_has_size_field`).

use crate::codec::{
    extend_capped, leb128, reserve_capped, Depacketizer, Packetizer, PayloadInfo, MAX_FRAME_SIZE,
};
use crate::error::{Error, Result};

const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_FRAME_HEADER: u8 = 3;
const OBU_FRAME: u8 = 6;
const OBU_TILE_LIST: u8 = 8;

fn bad(reason: &'static str) -> Error {
    Error::BadPayload {
        codec: "AV1",
        reason,
    }
}

/// One OBU of a temporal unit: its header bytes (1 or 2) and payload.
struct Obu<'a> {
    obu_type: u8,
    header: &'a [u8],
    payload: &'a [u8],
}

/// Parses the OBUs of a low-overhead temporal unit.
fn for_each_obu<'a>(mut tu: &'a [u8], mut f: impl FnMut(Obu<'a>) -> Result<()>) -> Result<()> {
    // Each OBU consumes at least its header byte.
    while let Some(&h) = tu.first() {
        if h & 0x80 != 0 {
            return Err(Error::CannotPacketize("OBU forbidden bit set"));
        }
        let hlen = if h & 0x04 != 0 { 2 } else { 1 };
        let header = tu
            .get(..hlen)
            .ok_or(Error::CannotPacketize("OBU header cut"))?;
        let rest = tu.get(hlen..).unwrap_or(&[]);
        let (payload, next) = if h & 0x02 != 0 {
            let (size, n) = leb128::read(rest).ok_or(Error::CannotPacketize("OBU size cut"))?;
            let size = usize::try_from(size).map_err(|_| Error::CannotPacketize("OBU too big"))?;
            let p = rest
                .get(n..n.saturating_add(size))
                .ok_or(Error::CannotPacketize("OBU overruns the frame"))?;
            (p, rest.get(n + size..).unwrap_or(&[]))
        } else {
            (rest, &[][..])
        };
        f(Obu {
            obu_type: (h >> 3) & 0x0f,
            header,
            payload,
        })?;
        tu = next;
    }
    Ok(())
}

/// AV1 packetizer. Temporal delimiters and tile lists are dropped (as the payload format
/// requires), size fields removed, and every element carries a LEB128 length (W = 0).
#[derive(Debug, Clone, Default)]
pub struct Av1Packetizer {
    elements: Vec<u8>,
    bounds: Vec<(usize, usize)>,
    scratch: Vec<u8>,
}

impl Packetizer for Av1Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<()> {
        if mtu < 3 {
            return Err(Error::CannotPacketize("MTU too small for AV1"));
        }
        // Rewrite the OBUs without size fields into one buffer of elements.
        self.elements.clear();
        self.bounds.clear();
        let mut new_sequence = false;
        let (elements, bounds) = (&mut self.elements, &mut self.bounds);
        for_each_obu(frame, |obu| {
            if obu.obu_type == OBU_TEMPORAL_DELIMITER || obu.obu_type == OBU_TILE_LIST {
                return Ok(());
            }
            new_sequence |= obu.obu_type == OBU_SEQUENCE_HEADER;
            let start = elements.len();
            elements.extend_from_slice(obu.header);
            if let Some(h) = elements.get_mut(start) {
                *h &= !0x02;
            }
            elements.extend_from_slice(obu.payload);
            bounds.push((start, elements.len()));
            Ok(())
        })?;
        if self.bounds.is_empty() {
            return Err(Error::CannotPacketize(
                "no OBU to send in the temporal unit",
            ));
        }
        let mut packet_index = 0usize;
        let mut obu = 0usize; // current element
        let mut off = 0usize; // bytes of it already sent
        let room_total = mtu - 1;
        // Each packet sends at least one byte of an element.
        while obu < self.bounds.len() {
            self.scratch.clear();
            self.scratch.push(0); // aggregation header, filled below
            let z = off > 0;
            let mut y = false;
            while let Some(&(s, e)) = self.bounds.get(obu) {
                let used = self.scratch.len() - 1;
                let left = room_total.saturating_sub(used);
                let remaining = e - s - off;
                // Largest fragment f with len(leb(f)) + f <= left.
                let mut f = remaining.min(left.saturating_sub(1));
                while f > 0 && leb128::len(f as u64) + f > left {
                    f -= 1;
                }
                if f == 0 {
                    break;
                }
                leb128::write(f as u64, &mut self.scratch);
                self.scratch
                    .extend_from_slice(self.elements.get(s + off..s + off + f).unwrap_or(&[]));
                if f < remaining {
                    off += f;
                    y = true;
                    break;
                }
                off = 0;
                obu += 1;
            }
            let n = packet_index == 0 && new_sequence;
            let agg = u8::from(z) << 7 | u8::from(y) << 6 | u8::from(n) << 3;
            if let Some(h) = self.scratch.first_mut() {
                *h = agg;
            }
            emit(&self.scratch, obu >= self.bounds.len());
            packet_index += 1;
        }
        Ok(())
    }
}

/// AV1 depacketizer: rebuilds OBUs (with size fields) into a temporal unit that starts
/// with a temporal delimiter.
///
/// An OBU fragmented across packets is gathered in a buffer of its own before it is written
/// into the frame. That buffer counts against the frame cap ([`MAX_FRAME_SIZE`], or the
/// one set by [`FrameAssembler::with_max_frame_size`](crate::codec::FrameAssembler::with_max_frame_size)):
/// once the frame plus the fragment would pass it, the payload is refused with
/// [`Error::FrameTooLarge`] and the fragment is forgotten.
#[derive(Debug, Clone)]
pub struct Av1Depacketizer {
    partial: Vec<u8>,
    in_fragment: bool,
    max_frame: usize,
}

impl Default for Av1Depacketizer {
    fn default() -> Self {
        Av1Depacketizer {
            partial: Vec::new(),
            in_fragment: false,
            max_frame: MAX_FRAME_SIZE,
        }
    }
}

/// A fragment buffer larger than this is released rather than kept for the next OBU.
const PARTIAL_KEEP: usize = 64 * 1024;

/// Bytes `write_obu` adds to an element at most: the size field (8-byte LEB128).
const OBU_SIZE_FIELD_MAX: usize = 8;

impl Av1Depacketizer {
    fn clear_partial(&mut self) {
        if self.partial.capacity() > PARTIAL_KEEP {
            self.partial = Vec::new();
        } else {
            self.partial.clear();
        }
    }

    /// Forgets the fragment after a refusal and gives its memory back.
    fn refuse(&mut self) {
        self.partial = Vec::new();
        self.in_fragment = false;
    }

    /// Appends `element` to the fragment in progress, refusing it when the frame built so
    /// far plus the fragment would pass the cap.
    fn gather(&mut self, element: &[u8], frame_len: usize) -> Result<()> {
        let room = self.max_frame.saturating_sub(frame_len);
        let r = extend_capped(&mut self.partial, element, room);
        if let Err(Error::FrameTooLarge { size, max }) = r {
            // Report the whole frame's size against the whole cap.
            return Err(Error::FrameTooLarge {
                size: size.saturating_add(frame_len),
                max: max.saturating_add(frame_len),
            });
        }
        r
    }
}

fn write_obu(element: &[u8], frame: &mut Vec<u8>, max: usize) -> Result<()> {
    let h = *element.first().ok_or(bad("empty OBU element"))?;
    let hlen = if h & 0x04 != 0 { 2 } else { 1 };
    let header = element.get(..hlen).ok_or(bad("OBU header cut"))?;
    let payload = element.get(hlen..).unwrap_or(&[]);
    if (h >> 3) & 0x0f == OBU_TEMPORAL_DELIMITER {
        return Ok(()); // the depacketizer writes its own
    }
    // Growth stays within the cap: a large OBU does not double the frame's capacity.
    reserve_capped(frame, element.len() + 1 + OBU_SIZE_FIELD_MAX, max);
    frame.push(h | 0x02);
    frame.extend_from_slice(header.get(1..).unwrap_or(&[]));
    leb128::write(payload.len() as u64, frame);
    frame.extend_from_slice(payload);
    Ok(())
}

impl Depacketizer for Av1Depacketizer {
    fn begin_frame(&mut self, frame: &mut Vec<u8>) {
        frame.extend_from_slice(&[OBU_TEMPORAL_DELIMITER << 3 | 0x02, 0]);
    }

    fn depacketize(&mut self, payload: &[u8], frame: &mut Vec<u8>) -> Result<PayloadInfo> {
        let agg = *payload.first().ok_or(bad("empty payload"))?;
        let (z, y, w, n) = (
            agg & 0x80 != 0,
            agg & 0x40 != 0,
            (agg >> 4) & 3,
            agg & 0x08 != 0,
        );
        if z && !self.in_fragment {
            return Err(bad("continuation of an OBU whose start was lost"));
        }
        if !z && self.in_fragment {
            return Err(bad("OBU fragment never finished"));
        }
        let mut info = PayloadInfo {
            keyframe: n,
            ..Default::default()
        };
        let mut at = 1;
        let mut index = 0u8;
        // Each element advances `at` by at least one byte (length or data).
        while at < payload.len() {
            index = index.saturating_add(1);
            let last_by_count = w != 0 && index == w;
            let len = if last_by_count {
                payload.len() - at
            } else {
                let (l, used) = leb128::read(payload.get(at..).unwrap_or(&[]))
                    .ok_or(bad("element length cut"))?;
                at += used;
                usize::try_from(l).map_err(|_| bad("element length too large"))?
            };
            let element = payload
                .get(at..at.saturating_add(len))
                .ok_or(bad("element overruns the payload"))?;
            at += len;
            let is_first = index == 1;
            let is_last = at >= payload.len();
            if is_first && z {
                if let Err(e) = self.gather(element, frame.len()) {
                    self.refuse();
                    return Err(e);
                }
            } else {
                if is_first {
                    let t = element.first().map(|h| (h >> 3) & 0x0f);
                    info.frame_start = matches!(
                        t,
                        Some(
                            OBU_SEQUENCE_HEADER
                                | OBU_FRAME_HEADER
                                | OBU_FRAME
                                | OBU_TEMPORAL_DELIMITER
                        )
                    );
                }
                self.clear_partial();
                if let Err(e) = self.gather(element, frame.len()) {
                    self.refuse();
                    return Err(e);
                }
            }
            if is_last && y {
                self.in_fragment = true;
            } else {
                self.in_fragment = false;
                let written = write_obu(&self.partial, frame, self.max_frame);
                self.clear_partial();
                written?;
            }
            if last_by_count {
                break;
            }
        }
        Ok(info)
    }

    fn reset(&mut self) {
        self.clear_partial();
        self.in_fragment = false;
    }

    fn set_max_frame_size(&mut self, max: usize) {
        self.max_frame = max;
    }

    fn retained_bytes(&self) -> usize {
        self.partial.capacity()
    }
}
