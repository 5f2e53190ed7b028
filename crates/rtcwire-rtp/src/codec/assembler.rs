//! Frame assembly across packet loss.

use crate::codec::Depacketizer;
use std::collections::VecDeque;

/// Largest frame the assembler builds before giving up on it (a bound against a peer that
/// never sets the marker bit).
pub const MAX_FRAME_SIZE: usize = 8 * 1024 * 1024;

/// One reassembled frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame in the codec's usual format (Annex B for H.264, low-overhead OBUs for AV1).
    pub data: Vec<u8>,
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
#[derive(Debug)]
pub struct FrameAssembler<D> {
    depacketizer: D,
    buf: Vec<u8>,
    in_frame: bool,
    cur_ts: u32,
    first_seq: u16,
    last_seq: u16,
    keyframe: bool,
    expected_seq: Option<u16>,
    skip_ts: Option<u32>,
    out: VecDeque<Frame>,
    dropped: u64,
}

impl<D: Depacketizer> FrameAssembler<D> {
    /// An assembler around `depacketizer`.
    pub fn new(depacketizer: D) -> Self {
        FrameAssembler {
            depacketizer,
            buf: Vec::new(),
            in_frame: false,
            cur_ts: 0,
            first_seq: 0,
            last_seq: 0,
            keyframe: false,
            expected_seq: None,
            skip_ts: None,
            out: VecDeque::new(),
            dropped: 0,
        }
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
            self.out.push_back(Frame {
                data: std::mem::take(&mut self.buf),
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
        let info = match self.depacketizer.depacketize(payload, &mut self.buf) {
            Ok(info) => info,
            Err(_) => {
                tracing::debug!(seq, "malformed payload, dropping frame");
                self.in_frame = true;
                self.cur_ts = timestamp;
                self.drop_frame();
                return false;
            }
        };
        if starting {
            if !info.frame_start {
                // A continuation whose frame start was lost.
                self.buf.clear();
                self.depacketizer.reset();
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
        if self.buf.len() > MAX_FRAME_SIZE {
            self.drop_frame();
            return false;
        }
        if marker || info.frame_end {
            self.finish();
        }
        self.out.len() > before
    }
}
