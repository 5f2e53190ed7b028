//! Codec packetizers (frame → RTP payloads) and depacketizers (RTP payloads → frame), and a
//! [`FrameAssembler`] that turns a stream of received packets into whole frames, dropping
//! any frame that lost a packet.
//!
//! ```
//! use rtcwire_rtp::codec::{FrameAssembler, Packetizer, Vp8Depacketizer, Vp8Packetizer};
//! let frame = vec![0x10u8; 3000]; // a "keyframe": bit 0 of the first byte is 0
//! let mut payloads = Vec::new();
//! Vp8Packetizer::default().packetize(&frame, 1200, &mut |p: &[u8], _last| payloads.push(p.to_vec()))?;
//! let mut asm = FrameAssembler::new(Vp8Depacketizer::default());
//! let n = payloads.len();
//! for (i, p) in payloads.iter().enumerate() {
//!     asm.push(i as u16, 9000, i + 1 == n, p);
//! }
//! let out = asm.pop_frame().unwrap();
//! assert_eq!(out.data, frame);
//! assert!(out.keyframe);
//! # Ok::<(), rtcwire_rtp::Error>(())
//! ```

mod assembler;
mod av1;
mod g711;
mod h264;
mod leb128;
mod opus;
mod vp8;
mod vp9;

pub use assembler::{Frame, FrameAssembler, MAX_FRAME_SIZE};
pub use av1::{Av1Depacketizer, Av1Packetizer};
pub use g711::{G711Depacketizer, G711Packetizer};
pub use h264::{H264Depacketizer, H264Packetizer};
pub use opus::{OpusDepacketizer, OpusPacketizer};
pub use vp8::{Vp8Depacketizer, Vp8Descriptor, Vp8Packetizer};
pub use vp9::{is_vp9_keyframe, Vp9Depacketizer, Vp9Descriptor, Vp9Packetizer};

use crate::error::Result;

/// Splits encoded frames into RTP payloads.
pub trait Packetizer {
    /// Splits `frame` into payloads of at most `mtu` bytes (the room left for the payload in
    /// an RTP packet), calling `emit(payload, last_of_frame)` for each in order. The payload
    /// slice is only valid during the call (it may live in the packetizer's scratch buffer).
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<()>;
}

/// What a depacketizer learned from one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PayloadInfo {
    /// The payload begins a frame (VP8 S bit with partition 0, VP9 B bit, a complete or
    /// first-fragment NAL/OBU, every audio packet).
    pub frame_start: bool,
    /// The payload ends a frame by itself, without relying on the marker bit (audio).
    pub frame_end: bool,
    /// The payload carries (part of) a keyframe.
    pub keyframe: bool,
}

/// Turns RTP payloads back into a codec's frame format.
pub trait Depacketizer {
    /// Called when a new frame begins, before its first payload (AV1 writes a temporal
    /// delimiter here).
    fn begin_frame(&mut self, _frame: &mut Vec<u8>) {}

    /// Appends the media carried by `payload` to `frame`.
    fn depacketize(&mut self, payload: &[u8], frame: &mut Vec<u8>) -> Result<PayloadInfo>;

    /// Forgets any partial state (a fragment in progress) after loss.
    fn reset(&mut self) {}

    /// Sets the most bytes one frame may take, counting what the depacketizer holds outside
    /// `frame` (an AV1 OBU fragment in progress). [`FrameAssembler`] calls it with its own
    /// cap; a depacketizer that keeps no bytes of its own ignores it.
    fn set_max_frame_size(&mut self, _max: usize) {}

    /// Bytes of memory the depacketizer holds between payloads (buffer capacity, not only
    /// content), so that callers and fuzz targets can check it stays bounded.
    fn retained_bytes(&self) -> usize {
        0
    }
}

/// Appends `data` to `buf` unless `buf` would then hold more than `max` bytes. Growth is
/// clamped so the capacity does not pass `max` either (plain doubling could reach 2 × max).
pub(crate) fn extend_capped(buf: &mut Vec<u8>, data: &[u8], max: usize) -> Result<()> {
    let size = buf.len().saturating_add(data.len());
    if size > max {
        return Err(crate::Error::FrameTooLarge { size, max });
    }
    reserve_capped(buf, data.len(), max);
    buf.extend_from_slice(data);
    Ok(())
}

/// Makes room for `additional` more bytes, growing by doubling as `Vec` does, but never past
/// `max` (or past exactly what is needed, when that is more than `max`).
pub(crate) fn reserve_capped(buf: &mut Vec<u8>, additional: usize, max: usize) {
    let size = buf.len().saturating_add(additional);
    if size > buf.capacity() {
        let target = buf.capacity().saturating_mul(2).min(max).max(size);
        buf.reserve_exact(target.saturating_sub(buf.len()));
    }
}
