//! Opus (RFC 7587): one Opus packet per RTP payload, never split.

use crate::codec::{Depacketizer, Packetizer, PayloadInfo};
use crate::error::{Error, Result};

/// Opus packetizer: the frame is the payload.
#[derive(Debug, Clone, Default)]
pub struct OpusPacketizer;

impl Packetizer for OpusPacketizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<()> {
        if frame.len() > mtu {
            return Err(Error::CannotPacketize(
                "an Opus packet cannot be split (RFC 7587)",
            ));
        }
        emit(frame, true);
        Ok(())
    }
}

/// Opus depacketizer: every payload is a whole frame.
#[derive(Debug, Clone, Default)]
pub struct OpusDepacketizer;

impl Depacketizer for OpusDepacketizer {
    fn depacketize(&mut self, payload: &[u8], frame: &mut Vec<u8>) -> Result<PayloadInfo> {
        if payload.is_empty() {
            return Err(Error::BadPayload {
                codec: "Opus",
                reason: "empty payload",
            });
        }
        frame.extend_from_slice(payload);
        Ok(PayloadInfo {
            frame_start: true,
            frame_end: true,
            keyframe: true,
        })
    }
}
