//! G.711 μ-law/A-law (RFC 3551 §4.5.14): samples pass through; a long buffer is split into
//! several packets at sample boundaries (one byte per sample).

use crate::codec::{Depacketizer, Packetizer, PayloadInfo};
use crate::error::{Error, Result};

/// G.711 packetizer: splits samples into payloads of at most `mtu` bytes. Each payload is
/// an independent audio frame; the sender advances the timestamp by its sample count.
#[derive(Debug, Clone, Default)]
pub struct G711Packetizer;

impl Packetizer for G711Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<()> {
        if mtu == 0 {
            return Err(Error::CannotPacketize("MTU of zero"));
        }
        let n = frame.len().div_ceil(mtu);
        for (i, chunk) in frame.chunks(mtu).enumerate() {
            emit(chunk, i + 1 == n);
        }
        Ok(())
    }
}

/// G.711 depacketizer: every payload is a frame of samples.
#[derive(Debug, Clone, Default)]
pub struct G711Depacketizer;

impl Depacketizer for G711Depacketizer {
    fn depacketize(&mut self, payload: &[u8], frame: &mut Vec<u8>) -> Result<PayloadInfo> {
        frame.extend_from_slice(payload);
        Ok(PayloadInfo {
            frame_start: true,
            frame_end: true,
            keyframe: true,
        })
    }
}
