//! Frame assembly across packet loss.

use crate::codec::{reserve_capped, Depacketizer};
use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

/// Largest frame the assembler builds before giving up on it, by default (a bound against a
/// peer that never sets the marker bit). It counts what the depacketizer holds outside the
/// frame too (an AV1 OBU fragment in progress).
pub const MAX_FRAME_SIZE: usize = 8 * 1024 * 1024;

/// One reassembled frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame in the codec's usual format (Annex B for H.264, low-overhead OBUs for AV1).
    /// A piece of the assembler's reused block: a receiver that drops each frame before
    /// the next one completes allocates nothing per frame (see [`FrameAssembler`]).
    pub data: Bytes,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Whether it is a keyframe (decodable on its own).
    pub keyframe: bool,
    /// Sequence number of its first packet.
    pub first_seq: u16,
    /// Sequence number of its last packet.
    pub last_seq: u16,
}

/// Assembles frames from packets given in sequence order (after a jitter buffer, or as
/// received). A gap in sequence numbers breaks the frame in progress: it is dropped, as
/// is every later packet of the same timestamp, and assembly resumes at the next packet
/// that starts a frame. Frames end at the marker bit, at a payload that ends a frame by
/// itself (audio), or when a frame start with a new timestamp follows without loss.
///
/// Memory: the frame in progress is written into a buffer the assembler keeps, then
/// copied into a block each completed frame is a piece of ([`Frame::data`]). When every
/// earlier frame has been dropped, the next one takes the block back in place; while one
/// is still held, the next gets a fresh block (the old one goes with its last frame).
#[derive(Debug)]
pub struct FrameAssembler<D> {
    depacketizer: D,
    buf: Vec<u8>,
    block: BytesMut,
    in_frame: bool,
    cur_ts: u32,
    first_seq: u16,
    last_seq: u16,
    keyframe: bool,
    expected_seq: Option<u16>,
    skip_ts: Option<u32>,
    out: VecDeque<Frame>,
    dropped: u64,
    max_frame: usize,
}

impl<D: Depacketizer> FrameAssembler<D> {
    /// An assembler around `depacketizer`, with frames capped at [`MAX_FRAME_SIZE`].
    pub fn new(depacketizer: D) -> Self {
        Self::with_max_frame_size(depacketizer, MAX_FRAME_SIZE)
    }

    /// An assembler whose frames (with any fragment the depacketizer holds) never pass
    /// `max` bytes: a frame that would is dropped. The memory it holds between calls,
    /// [`retained_bytes`](Self::retained_bytes), is bounded whatever the peer sends: the frame
    /// buffer stays within `max` plus room for one payload, and what the depacketizer keeps
    /// (an AV1 fragment) within `max`, so at most 2 × `max` and a payload, plus the completed
    /// frames not yet taken.
    pub fn with_max_frame_size(mut depacketizer: D, max: usize) -> Self {
        depacketizer.set_max_frame_size(max);
        FrameAssembler {
            depacketizer,
            buf: Vec::new(),
            block: BytesMut::new(),
            in_frame: false,
            cur_ts: 0,
            first_seq: 0,
            last_seq: 0,
            keyframe: false,
            expected_seq: None,
            skip_ts: None,
            out: VecDeque::new(),
            dropped: 0,
            max_frame: max,
        }
    }

    /// Bytes of memory held between calls: the frame in progress (buffer capacity), what
    /// the depacketizer keeps (an OBU fragment), and completed frames not yet popped.
    pub fn retained_bytes(&self) -> usize {
        let queued: usize = self.out.iter().map(|f| f.data.len()).sum();
        self.buf
            .capacity()
            .saturating_add(self.block.capacity())
            .saturating_add(self.depacketizer.retained_bytes())
            .saturating_add(queued)
    }

    /// Frames dropped because of loss or malformed payloads.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped
    }

    /// The depacketizer (for codec state such as the last VP8 picture id).
    pub fn depacketizer(&self) -> &D {
        &self.depacketizer
    }

    /// Takes the next completed frame.
    pub fn pop_frame(&mut self) -> Option<Frame> {
        self.out.pop_front()
    }

    fn drop_frame(&mut self) {
        if self.in_frame {
            self.dropped += 1;
            self.skip_ts = Some(self.cur_ts);
        }
        self.in_frame = false;
        self.buf.clear();
        self.depacketizer.reset();
    }

    fn finish(&mut self) {
        if self.in_frame {
            // The frame buffer stays for the next frame; the frame leaves as a piece of
            // the block, which `reserve` takes back in place once earlier pieces are gone.
            self.block.reserve(self.buf.len());
            self.block.extend_from_slice(&self.buf);
            // Room for a frame like this one and a payload more; what a far larger frame
            // (a keyframe) grew is given back once frames are small again.
            let room = self.buf.len().saturating_add(2 * 1500 + 16);
            self.buf.clear();
            if self.buf.capacity() > 4 * room && self.buf.capacity() > 64 * 1024 {
                self.buf.shrink_to(room);
            }
            self.out.push_back(Frame {
                data: self.block.split().freeze(),
                timestamp: self.cur_ts,
                keyframe: self.keyframe,
                first_seq: self.first_seq,
                last_seq: self.last_seq,
            });
        }
        self.in_frame = false;
    }

    /// Feeds one packet; completed frames are then available from
    /// [`pop_frame`](Self::pop_frame). Returns whether a frame completed.
    pub fn push(&mut self, seq: u16, timestamp: u32, marker: bool, payload: &[u8]) -> bool {
        let before = self.out.len();
        if let Some(expected) = self.expected_seq {
            let d = seq.wrapping_sub(expected);
            if d >= 0x8000 {
                return false; // late or duplicate: the jitter buffer's job, ignore here
            }
            if d != 0 {
                // Loss: anything in progress cannot be complete; the lost packets may have
                // started a new frame too, so wait for a packet that starts one.
                if self.in_frame {
                    self.drop_frame();
                } else {
                    self.skip_ts = None;
                    self.depacketizer.reset();
                }
            }
        }
        self.expected_seq = Some(seq.wrapping_add(1));

        if self.in_frame && timestamp != self.cur_ts {
            // New timestamp without loss: the previous frame is complete even though its
            // marker was not set.
            self.finish();
        }
        if !self.in_frame && self.skip_ts == Some(timestamp) {
            return false;
        }
        let starting = !self.in_frame;
        if starting {
            self.buf.clear();
            self.depacketizer.begin_frame(&mut self.buf);
        }
        // Room for what one payload can become (H.264 STAP-A start codes, AV1 size fields),
        // grown without overshooting the cap as plain doubling would.
        reserve_capped(
            &mut self.buf,
            payload.len().saturating_mul(2).saturating_add(16),
            self.max_frame,
        );
        let info = match self.depacketizer.depacketize(payload, &mut self.buf) {
            Ok(info) => info,
            Err(error) => {
                tracing::debug!(seq, %error, "payload refused, dropping frame");
                self.in_frame = true;
                self.cur_ts = timestamp;
                self.drop_frame();
                return false;
            }
        };
        if starting {
            if !info.frame_start {
                // A continuation whose frame start was lost: the rest of this timestamp
                // cannot make a whole frame either, even if a later packet of it begins
                // with something that could start one (an AV1 sequence header after a
                // tile group).
                self.buf.clear();
                self.depacketizer.reset();
                self.skip_ts = Some(timestamp);
                return false;
            }
            self.in_frame = true;
            self.skip_ts = None;
            self.cur_ts = timestamp;
            self.first_seq = seq;
            self.keyframe = false;
        }
        self.keyframe |= info.keyframe;
        self.last_seq = seq;
        if self.buf.len() > self.max_frame {
            self.drop_frame();
            return false;
        }
        if marker || info.frame_end {
            self.finish();
        }
        self.out.len() > before
    }
}
